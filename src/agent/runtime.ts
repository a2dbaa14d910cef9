// The container runtime contract the node agent drives, modelled on the
// kubelet's CRI use: one sandbox per pod (its network and IPs), containers
// created and started inside it, stopped with a grace period, and a status the
// agent turns into the pod's API status. Implementations: FakeRuntime (hollow
// nodes, nothing runs), RuncRuntime (OCI containers, runtimes/runc) and
// ProcessRuntime (plain host processes, no isolation, runtimes/process).
import type { Duplex, Readable, Writable } from 'node:stream';
import type { KubeObject } from '../api/object.js';

/** What a runtime is told about the pod whose sandbox it creates. */
export interface PodSandboxConfig {
  uid: string;
  namespace: string;
  name: string;
  /** spec.hostname, or the pod's name. */
  hostname: string;
  /** spec.hostNetwork: the pod shares the node's network and IPs. */
  hostNetwork: boolean;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** The pod as the API server holds it, for what a runtime needs beyond the above (volumes, DNS, security context). */
  pod: KubeObject;
}

/**
 * Init containers run to completion one after another; sidecars are init
 * containers with restartPolicy Always; ephemeral containers are added to a
 * running pod and never restarted (a target's process namespace joined).
 */
export type ContainerKind = 'init' | 'sidecar' | 'regular' | 'ephemeral';

export interface ContainerConfig {
  name: string;
  image: string;
  kind: ContainerKind;
  /** 0 for a container's first run; each restart counts one up (the pod's restartCount). */
  attempt: number;
  /** The container as the pod spec has it (command, args, env, resources ...). */
  spec: Record<string, unknown>;
}

export type RuntimeContainerState = 'created' | 'running' | 'exited' | 'unknown';

/** One run (attempt) of a container. */
export interface RuntimeContainer {
  /** The runtime's own ID; the pod status shows it as `${runtime.type}://${id}`. */
  id: string;
  name: string;
  attempt: number;
  /** The image as the runtime resolved it ("docker.io/library/nginx:latest"). */
  image: string;
  /** The image's content reference, reported as imageID ("docker.io/library/nginx@sha256:..."). */
  imageRef: string;
  state: RuntimeContainerState;
  /** Epoch milliseconds. */
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  /** "Completed", "Error", "OOMKilled" ... for exited containers. */
  reason?: string;
  message?: string;
}

export interface RuntimeSandbox {
  id: string;
  /** A ready sandbox has its network set up; a stopped one has released it. */
  state: 'ready' | 'notready';
  /** The pod's IPs, first one primary; empty for host-network pods (they take the node's). */
  ips: string[];
  createdAt: number;
}

/** Everything a runtime knows about one pod. */
export interface RuntimePod {
  uid: string;
  namespace: string;
  name: string;
  sandbox: RuntimeSandbox | undefined;
  /** The runs of each container the runtime still keeps: at least the latest, usually the one before it too. */
  containers: RuntimeContainer[];
}

/** Cumulative cpu and current memory figures of a cgroup (a container's or a pod's), as cAdvisor reads them. */
export interface CgroupUsage {
  /** Epoch ms of the reading. */
  time: number;
  /** Total cpu time used, ns (cpuacct.usage; v2 cpu.stat usage_usec). */
  cpuUsageNanoSeconds?: number;
  memoryUsageBytes?: number;
  /** Usage less inactive file pages: what the kubelet evicts on. */
  memoryWorkingSetBytes?: number;
  memoryRssBytes?: number;
  memoryPageFaults?: number;
  memoryMajorPageFaults?: number;
}

export interface NetworkInterfaceUsage {
  name: string;
  rxBytes: number;
  rxErrors: number;
  txBytes: number;
  txErrors: number;
}

/** The latest run of one container, for the agent's /stats/summary. */
export interface ContainerUsage extends CgroupUsage {
  name: string;
  id: string;
  startedAt: number;
  /** Bytes the container wrote to its root filesystem (its writable layer). */
  rootfsUsedBytes?: number;
  /** Bytes of its log. */
  logsUsedBytes?: number;
}

/** One pod's figures: its cgroup, its running containers, its network namespace, its volumes. */
export interface PodUsage extends CgroupUsage {
  uid: string;
  namespace: string;
  name: string;
  createdAt: number;
  containers: ContainerUsage[];
  /** From the sandbox's network namespace (/proc/<pid>/net/dev); absent for host-network pods. */
  network?: NetworkInterfaceUsage[];
  /** Volumes whose bytes are the pod's own (emptyDir). */
  volumes?: { name: string; usedBytes: number }[];
}

/** A container that could not be started, with the waiting reason the pod status shows (ErrImagePull, CreateContainerError ...). */
export class ContainerStartError extends Error {
  override readonly name = 'ContainerStartError';
  /** The Warning event the agent records (default: Failed "Error: <message>"). */
  readonly event?: { reason: string; message: string };
  /** Try again after this long instead of the crash-loop back-off (a volume that is not ready yet). */
  readonly retryAfterMs?: number;
  constructor(
    readonly reason: string,
    message: string,
    options?: { cause?: unknown; event?: { reason: string; message: string }; retryAfterMs?: number },
  ) {
    super(message, options);
    if (options?.event) this.event = options.event;
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

/** Options of an interactive exec or attach: whether the client sends stdin, whether it wants a terminal. */
export interface StreamOptions {
  stdin: boolean;
  tty: boolean;
}

/** A command running in a container for `kubectl exec` (or an attachment to the container's own process). */
export interface ExecProcess {
  /** Present when stdin was asked for; ending it closes the command's stdin. */
  stdin?: Writable;
  /** The command's output (with a terminal: everything the terminal shows). */
  stdout: Readable;
  /** Absent with a terminal (it merges both). */
  stderr?: Readable;
  /** Sets the terminal size (columns, rows); a no-op without a terminal. */
  resize(cols: number, rows: number): void;
  /** The exit code once the command ended (attach: once the container ended or detach() was called). Rejects with ExecStartError when it never started. */
  exited: Promise<number>;
  /** Ends the command (attach: stops attaching, the container runs on). */
  kill(): void;
}

/** The command could not be started at all (no such executable ...): the CRI's exec error, not an exit code. */
export class ExecStartError extends Error {
  override readonly name = 'ExecStartError';
}

export interface Runtime {
  /** The scheme of container IDs in pod status: "fake" gives fake://<id>. */
  readonly type: string;
  /** nodeInfo.containerRuntimeVersion shows `${type}://${version}`. */
  readonly version: string;
  /** Creates the pod's sandbox (network, IPs); a pod that has one keeps it. */
  runPodSandbox(config: PodSandboxConfig): Promise<RuntimeSandbox>;
  /** Creates and starts one container in the pod's sandbox, fetching its image first if needed. Throws ContainerStartError. */
  startContainer(uid: string, config: ContainerConfig): Promise<RuntimeContainer>;
  /** Stops a running container, giving it gracePeriodSeconds before killing it. */
  stopContainer(uid: string, containerId: string, gracePeriodSeconds: number): Promise<void>;
  /** Stops every container still running in the pod and releases its network. */
  stopPodSandbox(uid: string, gracePeriodSeconds: number): Promise<void>;
  /** Forgets the pod: its sandbox and every container run. */
  removePod(uid: string): Promise<void>;
  podStatus(uid: string): Promise<RuntimePod | undefined>;
  listPods(): Promise<RuntimePod[]>;
  /** Tells the agent that a pod changed on its own (a container exited, finished starting). */
  onPodEvent(listener: (uid: string) => void): void;
  /**
   * For runtimes whose state does not outlive the process (fake): takes the pod
   * back as the API server last showed it, so that an agent restart neither
   * starts it again nor counts a restart. Runtimes with real state leave it out
   * and find their pods again through listPods().
   */
  restore?(config: PodSandboxConfig, reportedStatus: Record<string, unknown>): Promise<RuntimePod | undefined>;
  /**
   * The CRI-format log file (`<RFC3339Nano> stdout|stderr F|P <text>` lines) of
   * one container run, as the kubelet's /var/log/pods; runtimes that keep no
   * logs (fake) leave it out. The agent's containerLogs endpoint reads it.
   */
  containerLogPath?(podUid: string, container: string, attempt: number): string;
  /**
   * Runs a command in a running container (the CRI's ExecSync), for exec
   * probes: its exit code and its stdout and stderr together. A command still
   * running after timeoutMs is killed and the promise rejects. Runtimes that
   * cannot (fake) leave it out, and the agent then runs no probes.
   */
  exec?(podUid: string, containerId: string, command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }>;
  /**
   * Runs a command in a running container with its stdio streamed (the CRI's
   * Exec, for `kubectl exec`); with tty it runs under a terminal. Throws when
   * the container is not running. Runtimes that cannot (fake) leave it out.
   */
  execStream?(podUid: string, containerId: string, command: string[], opts: StreamOptions): Promise<ExecProcess>;
  /**
   * Attaches to a running container's own process (the CRI's Attach): its
   * output from now on, and its stdin when the container spec has `stdin: true`.
   */
  attach?(podUid: string, containerId: string, opts: StreamOptions): Promise<ExecProcess>;
  /**
   * Opens a TCP connection to `port` on the pod's own 127.0.0.1 (inside its
   * network namespace), for port-forward; rejects with the reason when nothing
   * listens there. Runtimes that cannot (fake) leave it out.
   */
  portForward?(podUid: string, port: number): Promise<Duplex>;
  /** The images the runtime holds, for node.status.images (names: repo@digest and repo:tag). Runtimes without images (fake) leave it out. */
  listImages?(): Promise<{ names: string[]; sizeBytes: number }[]>;
  /**
   * Usage figures of the pods with a ready sandbox, for /stats/summary (cpu
   * rates are the agent's to compute from two readings). Runtimes that run
   * nothing report zeros or leave it out.
   */
  usage?(): Promise<PodUsage[]>;
  /** Rewrites a running pod's configMap, secret, downwardAPI and projected volumes from current data (atomically). */
  updatePodVolumes?(podUid: string, pod?: KubeObject): Promise<void>;
  close(): Promise<void>;
}
