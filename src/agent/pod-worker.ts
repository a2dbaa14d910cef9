// A node's pod worker: turns the pods bound to the node into sandboxes and
// containers through the runtime, restarts containers per restartPolicy with
// the kubelet's crash-loop back-off, reports each pod's status, and on
// deletion stops the containers, reports the final status and removes the
// pod from the API server (DELETE with gracePeriodSeconds=0 and a UID
// precondition), as the kubelet's pod workers and status manager do.
//
// Work on one pod runs as that pod's own task (the kubelet's per-pod
// goroutine), so a slow image pull or a long grace period holds up no other
// pod. A sync of a pod whose task is running asks for one more run after it.
import { ApiError } from '../api/errors.js';
import type { KubeObject } from '../api/object.js';
import type { EventRecorder } from '../client/events.js';
import type { RestClient } from '../client/rest.js';
import {
  ephemeralContainers,
  formatPod,
  gracePeriodOf,
  initContainers,
  isHostNetwork,
  isSidecar,
  isTerminalPhase,
  phaseOf,
  regularContainers,
  restartPolicyOf,
  type ContainerSpec,
} from './pod-spec.js';
import { graceAfterPreStop, lifecycleHandlerOf, postStartTimeoutMs, realHookRunner, runPreStopHook, type HookRunner } from './lifecycle-hooks.js';
import { generatePodStatus, type Json, type WaitingReason } from './pod-status.js';
import { ProbeManager, realProber, type ContainerView, type ProbeClock, type Prober } from './probes.js';
import { ContainerStartError, type ContainerKind, type PodSandboxConfig, type Runtime, type RuntimeContainer, type RuntimePod } from './runtime.js';
import type { PodStatusWriter } from './status-writer.js';
import { apiTime, goDuration } from './timestamps.js';
import type { WriteLimiter } from './write-limiter.js';
import { podsResource as pods } from '../client/core-resources.js';

/**
 * Where the agent says what it decided ('info': a pod started, adopted,
 * deleted) and what went wrong ('warning', the default: a write failed and is
 * retried). Many nodes make many info lines; a command shows them on request.
 */
export type AgentLog = (line: string, level?: 'info' | 'warning') => void;

export interface CrashLoopBackOff {
  /** The first wait before restarting a container that exited again (10 s in the kubelet). */
  initialMs: number;
  /** The longest wait (5 min in the kubelet). */
  maxMs: number;
}

export const kubeletCrashLoopBackOff: CrashLoopBackOff = { initialMs: 10_000, maxMs: 300_000 };

export interface PodWorkerDeps {
  nodeName: string;
  hostIPs: string[];
  runtime: Runtime;
  client: RestClient;
  limiter: WriteLimiter;
  statusWriter: PodStatusWriter;
  /** The pod as the informer holds it now. */
  getPod(key: string): KubeObject | undefined;
  /** Asks for another sync of the pod, at once or after a while. */
  requeue(key: string, afterMs?: number): void;
  backOff?: CrashLoopBackOff;
  /** Pods the node takes at once (allocatable pods); more are rejected with OutOfpods, as the kubelet's admission does. */
  podCapacity?: number;
  events?: EventRecorder;
  log?: AgentLog;
  /**
   * Runs liveness, readiness and startup probes. Default: when the runtime can
   * exec in containers (real ones); runtimes without exec (fake, hollow nodes)
   * skip probes and report running containers as started and ready.
   */
  probes?: boolean;
  /** For tests: what runs a probe (default exec through the runtime, HTTP and TCP to the pod IP) and the probe clock. */
  prober?: Prober;
  probeClock?: ProbeClock;
  /**
   * Runs containers' postStart and preStop hooks. Default: when the runtime can
   * exec in containers, as for probes (hollow nodes run no hooks).
   */
  hooks?: boolean;
  /** For tests: what runs a hook handler (default exec through the runtime, HTTP to the pod IP, sleep). */
  hookRunner?: HookRunner;
}

/** client-go's flowcontrol.Backoff entry for one container. */
interface BackOffEntry {
  delayMs: number;
  lastUpdate: number;
}

type Action = { type: 'start'; container: ContainerSpec; kind: ContainerKind; attempt: number } | { type: 'wait'; ms: number } | { type: 'none' };

function latestRun(rp: RuntimePod, name: string): RuntimeContainer | undefined {
  let best: RuntimeContainer | undefined;
  for (const c of rp.containers) if (c.name === name && (!best || c.attempt > best.attempt || (c.attempt === best.attempt && c.createdAt > best.createdAt))) best = c;
  return best;
}

export class PodWorker {
  /** pod key -> the UID this worker runs under that name */
  private readonly uids = new Map<string, string>();
  /** UID -> pod key, to route runtime events */
  private readonly keys = new Map<string, string>();
  private readonly tasks = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly backOffs = new Map<string, BackOffEntry>();
  private readonly waiting = new Map<string, Map<string, WaitingReason>>();
  /** UIDs whose deletion this worker finished (DELETE sent). */
  private readonly deleted = new Set<string>();
  private readonly failures = new Map<string, number>();
  /** UIDs of the pods admitted to the node and not finished. */
  private readonly admitted = new Set<string>();
  private stopped = false;
  private readonly backOff: CrashLoopBackOff;
  private readonly log: AgentLog;
  private readonly probes: ProbeManager | undefined;
  private readonly hooks: HookRunner | undefined;

  constructor(private readonly deps: PodWorkerDeps) {
    this.backOff = deps.backOff ?? kubeletCrashLoopBackOff;
    this.log = deps.log ?? (() => undefined);
    const exec = deps.runtime.exec?.bind(deps.runtime);
    if (deps.probes ?? !!exec) {
      this.probes = new ProbeManager({
        prober: deps.prober ?? realProber(exec),
        clock: deps.probeClock,
        onChange: (uid) => {
          const key = this.keys.get(uid);
          if (key) deps.requeue(key);
        },
        onUnhealthy: (pod, message) => void deps.events?.record(pod, 'Warning', 'Unhealthy', message),
      });
    }
    if (deps.hooks ?? !!exec) this.hooks = deps.hookRunner ?? realHookRunner(exec);
    deps.runtime.onPodEvent((uid) => {
      const key = this.keys.get(uid);
      if (key) deps.requeue(key);
    });
  }

  get nodeName(): string {
    return this.deps.nodeName;
  }

  /** Pods this worker currently looks after. */
  get podCount(): number {
    return this.uids.size;
  }

  /** Starts (or asks for another run of) the pod's task; returns at once. */
  sync(key: string): void {
    if (this.stopped) return;
    if (this.tasks.has(key)) {
      this.again.add(key);
      return;
    }
    const task = this.work(key)
      .then(
        () => {
          this.failures.delete(key);
        },
        (err: unknown) => {
          const n = (this.failures.get(key) ?? 0) + 1;
          this.failures.set(key, n);
          const delay = Math.min(100 * 2 ** n, 30_000);
          this.log(`node ${this.nodeName}: pod ${key}: ${(err as Error).message}; retrying in ${delay} ms`);
          this.deps.requeue(key, delay);
        },
      )
      .finally(() => {
        this.tasks.delete(key);
        if (this.again.delete(key)) this.sync(key);
      });
    this.tasks.set(key, task);
  }

  /** Stops and forgets what the runtime runs for pods that are not among the node's pods in the API. */
  async removeOrphans(apiPods: KubeObject[]): Promise<void> {
    const wanted = new Set(apiPods.map((p) => p.metadata.uid));
    for (const rp of await this.deps.runtime.listPods()) {
      if (wanted.has(rp.uid) || this.keys.has(rp.uid)) continue;
      await this.deps.runtime.stopPodSandbox(rp.uid, 0);
      await this.deps.runtime.removePod(rp.uid);
      this.log(`node ${this.nodeName}: removed orphaned pod ${rp.namespace}/${rp.name} (${rp.uid}) from the runtime`, 'info');
    }
  }

  /** Stops taking work and waits for the running tasks; pods keep running in the runtime. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.again.clear();
    this.probes?.stop();
    await Promise.allSettled([...this.tasks.values()]);
  }

  private async work(key: string): Promise<void> {
    const pod = this.deps.getPod(key);
    const uid = pod?.metadata.uid;
    const previous = this.uids.get(key);
    if (previous && previous !== uid) await this.teardown(key, previous);
    if (!pod || !uid) return;
    this.uids.set(key, uid);
    this.keys.set(uid, key);
    if (isTerminalPhase(phaseOf(pod))) return this.finished(pod);
    if (pod.metadata.deletionTimestamp) return this.terminate(pod);
    if (!this.admitted.has(uid)) {
      if (!this.admit(pod)) return;
      this.admitted.add(uid);
    }
    await this.converge(key, uid);
  }

  /**
   * The kubelet's admission, for the pod count only: a pod no agent has started
   * yet is rejected when the node already runs as many as it may.
   * Resources are the scheduler's to fit.
   */
  private admit(pod: KubeObject): boolean {
    const capacity = this.deps.podCapacity;
    const status = (pod.status ?? {}) as Json;
    const startedBefore = typeof status.startTime === 'string' || Array.isArray(status.containerStatuses);
    if (capacity === undefined || startedBefore || this.admitted.size < capacity) return true;
    const message = `Node didn't have enough resource: pods, requested: 1, used: ${this.admitted.size}, capacity: ${capacity}`;
    this.log(`node ${this.nodeName}: pod ${pod.metadata.namespace}/${pod.metadata.name} rejected: ${message}`);
    void this.deps.events?.record(pod, 'Warning', 'OutOfpods', message);
    void this.deps.statusWriter.set(pod, { phase: 'Failed', reason: 'OutOfpods', message: `Pod was rejected: ${message}`, startTime: apiTime() });
    return false;
  }

  /** The pod is gone from the API (or its name went to a new pod): forget it everywhere. */
  private async teardown(key: string, uid: string): Promise<void> {
    await this.deps.runtime.stopPodSandbox(uid, 0);
    await this.deps.runtime.removePod(uid);
    this.uids.delete(key);
    this.keys.delete(uid);
    this.admitted.delete(uid);
    this.waiting.delete(uid);
    this.deleted.delete(uid);
    this.probes?.removePod(uid);
    for (const k of [...this.backOffs.keys()]) if (k.startsWith(`${uid}/`)) this.backOffs.delete(k);
    this.deps.statusWriter.forget(uid);
    this.log(`node ${this.nodeName}: pod ${key} (${uid}) removed`, 'info');
  }

  private sandboxConfig(pod: KubeObject): PodSandboxConfig {
    const spec = (pod.spec ?? {}) as Json;
    return {
      uid: pod.metadata.uid ?? '',
      namespace: pod.metadata.namespace ?? '',
      name: pod.metadata.name ?? '',
      hostname: typeof spec.hostname === 'string' ? spec.hostname : (pod.metadata.name ?? ''),
      hostNetwork: isHostNetwork(pod),
      labels: pod.metadata.labels ?? {},
      annotations: pod.metadata.annotations ?? {},
      pod,
    };
  }

  /** The runtime's view of the pod, taking it back from the reported status after an agent restart when the runtime supports that. */
  private async runtimePod(pod: KubeObject): Promise<RuntimePod | undefined> {
    const uid = pod.metadata.uid ?? '';
    const rp = await this.deps.runtime.podStatus(uid);
    if (rp || !this.deps.runtime.restore) return rp;
    const restored = await this.deps.runtime.restore(this.sandboxConfig(pod), (pod.status ?? {}) as Json);
    if (restored) this.log(`node ${this.nodeName}: pod ${pod.metadata.namespace}/${pod.metadata.name}: adopted from its reported status`, 'info');
    return restored;
  }

  private waitingOf(uid: string): Map<string, WaitingReason> {
    let m = this.waiting.get(uid);
    if (!m) {
      m = new Map();
      this.waiting.set(uid, m);
    }
    return m;
  }

  private report(pod: KubeObject, rp: RuntimePod | undefined, podIsTerminal: boolean): Promise<void> {
    return this.deps.statusWriter.set(pod, this.statusOf(pod, rp, podIsTerminal));
  }

  /** The pod's status from what the runtime shows of it, over the last one reported. */
  private statusOf(pod: KubeObject, rp: RuntimePod | undefined, podIsTerminal: boolean): ReturnType<typeof generatePodStatus> {
    return generatePodStatus({
      pod,
      oldStatus: this.deps.statusWriter.baseStatus(pod),
      runtimePod: rp,
      runtimeType: this.deps.runtime.type,
      hostIPs: this.deps.hostIPs,
      waitingReasons: this.waiting.get(pod.metadata.uid ?? ''),
      podIsTerminal,
      now: Date.now(),
      probeState: this.probeState(),
    });
  }

  /** Brings the runtime in line with the pod: sandbox, init containers in order, then the regular ones, restarts with back-off. */
  private async converge(key: string, uid: string): Promise<void> {
    const { runtime } = this.deps;
    for (let step = 0; step < 64 && !this.stopped; step++) {
      const pod = this.deps.getPod(key);
      if (!pod || pod.metadata.uid !== uid || pod.metadata.deletionTimestamp || isTerminalPhase(phaseOf(pod))) {
        this.deps.requeue(key);
        return;
      }
      const rp = await this.runtimePod(pod);
      if (!rp?.sandbox || rp.sandbox.state !== 'ready') {
        // Its containers have finished for good (the API has not heard yet): no new sandbox, as the kubelet's computePodActions; the terminal status follows.
        if (rp?.sandbox && rp.containers.length > 0 && this.finishedInRuntime(pod, rp)) break;
        if (rp?.sandbox) {
          // A sandbox that stopped under a pod that did not finish: the kubelet makes a new one and starts over.
          this.log(`node ${this.nodeName}: pod ${key}: sandbox not ready, creating a new one`, 'info');
        }
        void this.report(pod, rp, false);
        try {
          await runtime.runPodSandbox(this.sandboxConfig(pod));
        } catch (err) {
          void this.deps.events?.record(pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${(err as Error).message}`);
          throw err;
        }
        continue;
      }
      if (await this.killUnhealthy(pod, rp)) continue;
      const action = this.nextAction(pod, rp);
      const pullWait = action.type === 'start' ? this.pullBackOff(pod, action.container) : undefined;
      if (pullWait !== undefined) {
        this.deps.requeue(key, pullWait);
        break;
      }
      if (action.type === 'start') {
        const { container, kind, attempt } = action;
        let started: RuntimeContainer;
        try {
          started = await runtime.startContainer(uid, { name: container.name, image: container.image, kind, attempt, spec: container });
          this.waiting.get(uid)?.delete(container.name);
          if (this.deps.events) {
            void this.deps.events.record(pod, 'Normal', 'Pulled', `Container image ${JSON.stringify(container.image)} already present on machine`);
            void this.deps.events.record(pod, 'Normal', 'Created', `Created container: ${container.name}`);
            void this.deps.events.record(pod, 'Normal', 'Started', `Started container ${container.name}`);
          }
        } catch (err) {
          if (!(err instanceof ContainerStartError)) throw err;
          this.waitingOf(uid).set(container.name, { reason: err.reason, message: err.message });
          void this.deps.events?.record(pod, 'Warning', err.event?.reason ?? 'Failed', err.event?.message ?? `Error: ${err.message}`);
          if (err.retryAfterMs !== undefined) {
            this.deps.requeue(key, err.retryAfterMs);
            break;
          }
          const entry = this.nextBackOff(`${uid}/${container.name}`, Date.now());
          // A failed pull: ErrImagePull now, ImagePullBackOff from the next sync until the back-off ends.
          this.deps.requeue(key, err.reason === 'ErrImagePull' ? Math.max(1, Math.floor(entry.delayMs / 2)) : entry.delayMs);
          break;
        }
        if (await this.postStart(key, pod, container, started)) {
          // Reported as PostStartHookError now; the next sync restarts it per restartPolicy.
          this.deps.requeue(key);
          break;
        }
        continue;
      }
      if (action.type === 'wait') this.deps.requeue(key, action.ms);
      break;
    }
    const pod = this.deps.getPod(key);
    if (!pod || pod.metadata.uid !== uid) return;
    let rp = await runtime.podStatus(uid);
    const status = this.statusOf(pod, rp, false);
    this.syncProbes(pod, rp);
    if (isTerminalPhase(status.phase)) {
      this.probes?.removePod(uid);
      // Finished on its own (restartPolicy Never or OnFailure): the sandbox goes, the pod stays until deleted.
      const ips = rp?.sandbox?.ips ?? [];
      await runtime.stopPodSandbox(uid, 0);
      rp = keepingIPs(await runtime.podStatus(uid), ips);
      this.log(`node ${this.nodeName}: pod ${key} ${String(status.phase)}`, 'info');
      await this.report(pod, rp, true);
      return;
    }
    void this.report(pod, rp, false);
  }

  /** Whether what the runtime shows of the pod's containers makes it Succeeded or Failed. */
  private finishedInRuntime(pod: KubeObject, rp: RuntimePod): boolean {
    return isTerminalPhase(this.statusOf(pod, rp, false).phase);
  }

  private probeState(): ((c: ContainerSpec, id: string) => { started: boolean; ready: boolean }) | undefined {
    const probes = this.probes;
    return probes ? (c, id) => probes.containerState(c, id, true) : undefined;
  }

  /** Hands the latest run of each probed container (regular and sidecar) to the probe manager. */
  private syncProbes(pod: KubeObject, rp: RuntimePod | undefined): void {
    if (!this.probes || !rp) return;
    const containers = [...initContainers(pod).filter(isSidecar), ...regularContainers(pod)];
    const views = new Map<string, ContainerView>();
    for (const c of containers) {
      const run = latestRun(rp, c.name);
      if (run && (run.state === 'running' || run.state === 'exited')) views.set(c.name, { id: run.id, running: run.state === 'running', startedAt: run.startedAt ?? run.createdAt });
    }
    const podIP = isHostNetwork(pod) ? this.deps.hostIPs[0] : rp.sandbox?.ips[0];
    this.probes.sync(pod, containers, views, podIP);
  }

  /** The kubelet's computePodActions for probes: a running container whose liveness or startup probe failed is killed (and restarted per restartPolicy). */
  private async killUnhealthy(pod: KubeObject, rp: RuntimePod): Promise<boolean> {
    if (!this.probes) return false;
    const uid = pod.metadata.uid ?? '';
    for (const c of [...initContainers(pod).filter(isSidecar), ...regularContainers(pod)]) {
      const run = latestRun(rp, c.name);
      if (!run || run.state !== 'running') continue;
      const failed = this.probes.shouldKill(c, run.id);
      if (!failed) continue;
      const message = `Container ${c.name} failed ${failed.type} probe, will be restarted`;
      this.log(`node ${this.nodeName}: pod ${formatPod(pod)}: ${message}`, 'info');
      await this.killContainer(pod, rp, c, run, failed.spec.terminationGracePeriodSeconds ?? gracePeriodOf(pod), message);
      return true;
    }
    return false;
  }

  /** What to do next for the pod, the kubelet's computePodActions one step at a time. */
  private nextAction(pod: KubeObject, rp: RuntimePod): Action {
    const uid = pod.metadata.uid ?? '';
    const policy = restartPolicyOf(pod);
    const regular = regularContainers(pod);
    const initialized = regular.some((c) => latestRun(rp, c.name));
    let wait: number | undefined;
    for (const c of initContainers(pod)) {
      const run = latestRun(rp, c.name);
      if (isSidecar(c)) {
        if (!run) return { type: 'start', container: c, kind: 'sidecar', attempt: 0 };
        if (run.state === 'exited') {
          const a = this.restartOrWait(pod, c, 'sidecar', run);
          if (a.type === 'start') return a;
          if (a.type === 'wait') {
            wait = Math.min(wait ?? a.ms, a.ms);
            if (!initialized) return a;
          }
        } else if (!initialized && (run.state !== 'running' || (this.probes && !this.probes.containerState(c, run.id, true).started))) return { type: 'none' };
        continue;
      }
      if (initialized) continue;
      if (!run) return { type: 'start', container: c, kind: 'init', attempt: 0 };
      if (run.state !== 'exited') return { type: 'none' };
      if (run.exitCode === 0) continue;
      if (policy === 'Never') return { type: 'none' };
      return this.restartOrWait(pod, c, 'init', run);
    }
    for (const c of regular) {
      const run = latestRun(rp, c.name);
      if (!run) return { type: 'start', container: c, kind: 'regular', attempt: 0 };
      if (run.state !== 'exited') continue;
      const restart = policy === 'Always' || (policy === 'OnFailure' && run.exitCode !== 0);
      if (!restart) {
        this.waiting.get(uid)?.delete(c.name);
        continue;
      }
      const a = this.restartOrWait(pod, c, 'regular', run);
      if (a.type === 'start') return a;
      if (a.type === 'wait') wait = Math.min(wait ?? a.ms, a.ms);
    }
    // Ephemeral containers start once the pod is initialized, each once: whatever its end, it is not run again.
    if (initialized) {
      for (const c of ephemeralContainers(pod)) if (!latestRun(rp, c.name)) return { type: 'start', container: c, kind: 'ephemeral', attempt: 0 };
    }
    return wait === undefined ? { type: 'none' } : { type: 'wait', ms: wait };
  }

  /** The ms left of a container's image pull back-off (its waiting reason then turns ImagePullBackOff), or undefined when it may pull. */
  private pullBackOff(pod: KubeObject, c: ContainerSpec): number | undefined {
    const uid = pod.metadata.uid ?? '';
    const w = this.waiting.get(uid)?.get(c.name);
    if (w?.reason !== 'ErrImagePull' && w?.reason !== 'ImagePullBackOff') return undefined;
    const entry = this.backOffs.get(`${uid}/${c.name}`);
    const left = entry ? entry.lastUpdate + entry.delayMs - Date.now() : 0;
    if (left <= 0) return undefined;
    if (w.reason !== 'ImagePullBackOff') {
      this.waitingOf(uid).set(c.name, { reason: 'ImagePullBackOff', message: `Back-off pulling image ${JSON.stringify(c.image)}` });
      void this.deps.events?.record(pod, 'Normal', 'BackOff', `Back-off pulling image ${JSON.stringify(c.image)}`);
    }
    return left;
  }

  /** client-go Backoff.Next: double the wait, or start over when the last exit is long past. */
  private nextBackOff(id: string, eventTime: number): BackOffEntry {
    const entry = this.backOffs.get(id);
    const next: BackOffEntry =
      !entry || eventTime - entry.lastUpdate > 2 * this.backOff.maxMs
        ? { delayMs: this.backOff.initialMs, lastUpdate: eventTime }
        : { delayMs: Math.min(entry.delayMs * 2, this.backOff.maxMs), lastUpdate: eventTime };
    this.backOffs.set(id, next);
    return next;
  }

  /** The kubelet's doBackOff: restart at once the first time, then wait 10 s, 20 s ... after each exit. */
  private restartOrWait(pod: KubeObject, c: ContainerSpec, kind: ContainerKind, run: RuntimeContainer): Action {
    const uid = pod.metadata.uid ?? '';
    const id = `${uid}/${c.name}`;
    const finishedAt = run.finishedAt ?? Date.now();
    const entry = this.backOffs.get(id);
    const now = Date.now();
    if (entry && now - entry.lastUpdate <= 2 * this.backOff.maxMs && now - finishedAt < entry.delayMs) {
      const message = `back-off ${goDuration(entry.delayMs)} restarting failed container=${c.name} pod=${formatPod(pod)}`;
      const known = this.waiting.get(uid)?.get(c.name);
      if (known?.message !== message) {
        this.waitingOf(uid).set(c.name, { reason: 'CrashLoopBackOff', message });
        void this.deps.events?.record(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${formatPod(pod)}`);
      }
      return { type: 'wait', ms: Math.max(1, entry.delayMs - (now - finishedAt)) };
    }
    this.nextBackOff(id, finishedAt);
    return { type: 'start', container: c, kind, attempt: run.attempt + 1 };
  }

  /** The pod's primary IP as hooks and probes reach it: the node's for host-network pods. */
  private podIP(pod: KubeObject, rp: RuntimePod | undefined): string | undefined {
    return isHostNetwork(pod) ? this.deps.hostIPs[0] : rp?.sandbox?.ips[0];
  }

  /**
   * The kubelet's killContainer: the Killing event, the preStop hook (when there
   * is a grace period to run it in), then the stop signal with what is left of
   * the grace period.
   */
  private async killContainer(pod: KubeObject, rp: RuntimePod | undefined, spec: ContainerSpec | undefined, run: RuntimeContainer, grace: number, message: string): Promise<void> {
    const uid = pod.metadata.uid ?? '';
    void this.deps.events?.record(pod, 'Normal', 'Killing', message);
    let stopGrace = grace;
    const handler = this.hooks && spec && run.state === 'running' ? lifecycleHandlerOf(spec, 'preStop') : undefined;
    if (this.hooks && spec && handler && grace > 0) {
      const outcome = await runPreStopHook(this.hooks, handler, { pod, container: spec, containerId: run.id, podIP: this.podIP(pod, rp) }, grace);
      if (outcome.failure) {
        this.log(`node ${this.nodeName}: pod ${formatPod(pod)}: ${outcome.failure}`);
        // The kubelet leaves the hook's output out of the event: it may hold secrets.
        void this.deps.events?.record(pod, 'Warning', 'FailedPreStopHook', 'PreStopHook failed');
      }
      stopGrace = graceAfterPreStop(grace, outcome.elapsedSeconds);
    }
    await this.deps.runtime.stopContainer(uid, run.id, stopGrace);
  }

  /**
   * Runs the container's postStart hook right after it started; the pod's task
   * waits for it, so the container shows Running only after it. A failed hook
   * is the kubelet's FailedPostStartHook: the event, the container killed and
   * waiting with reason PostStartHookError and the handler's message until it
   * is restarted per restartPolicy.
   * A pod deleted meanwhile stops the wait (its termination runs preStop and stops it).
   * Returns whether the hook failed.
   */
  private async postStart(key: string, pod: KubeObject, c: ContainerSpec, run: RuntimeContainer): Promise<boolean> {
    const handler = this.hooks ? lifecycleHandlerOf(c, 'postStart') : undefined;
    if (!this.hooks || !handler) return false;
    const uid = pod.metadata.uid ?? '';
    const rp = await this.deps.runtime.podStatus(uid);
    let poll: NodeJS.Timeout | undefined;
    const deleted = new Promise<'deleted'>((resolve) => {
      poll = setInterval(() => {
        const now = this.deps.getPod(key);
        if (this.stopped || !now || now.metadata.uid !== uid || now.metadata.deletionTimestamp) resolve('deleted');
      }, 200);
    });
    const failure = await Promise.race([this.hooks('postStart', handler, { pod, container: c, containerId: run.id, podIP: this.podIP(pod, rp) }, postStartTimeoutMs), deleted]).finally(() => clearInterval(poll));
    if (failure === undefined || failure === 'deleted') return false;
    this.log(`node ${this.nodeName}: pod ${formatPod(pod)}: ${failure}`, 'info');
    // As for preStop, the kubelet keeps the hook's output out of the event (it may hold secrets); the status shows it.
    void this.deps.events?.record(pod, 'Warning', 'FailedPostStartHook', 'PostStartHook failed');
    await this.killContainer(pod, rp, c, { ...run, state: 'running' }, gracePeriodOf(pod), 'FailedPostStartHook');
    this.waitingOf(uid).set(c.name, { reason: 'PostStartHookError', message: failure });
    return true;
  }

  /** Deletion requested: stop the containers, report the final status, then remove the pod from the API. */
  private async terminate(pod: KubeObject): Promise<void> {
    const { runtime } = this.deps;
    const uid = pod.metadata.uid ?? '';
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    if (this.deleted.has(uid)) return;
    this.admitted.delete(uid);
    this.probes?.removePod(uid);
    const grace = gracePeriodOf(pod);
    const rp = await this.runtimePod(pod);
    const ips = rp?.sandbox?.ips ?? [];
    if (rp) {
      const running = (names: string[]) => rp.containers.filter((c) => names.includes(c.name) && (c.state === 'running' || c.state === 'created'));
      const specs = [...regularContainers(pod), ...ephemeralContainers(pod)];
      // Regular (and ephemeral) containers first, then sidecars in reverse order, as the kubelet stops them.
      const regular = running(specs.map((c) => c.name));
      await Promise.all(regular.map((c) => this.killContainer(pod, rp, specs.find((s) => s.name === c.name), c, grace, `Stopping container ${c.name}`)));
      for (const s of initContainers(pod).filter(isSidecar).reverse()) {
        for (const c of running([s.name])) await this.killContainer(pod, rp, s, c, grace, `Stopping container ${c.name}`);
      }
      await runtime.stopPodSandbox(uid, grace);
    }
    const latest = this.deps.getPod(key) ?? pod;
    if (latest.metadata.uid !== uid) return;
    await this.report(latest, keepingIPs(await runtime.podStatus(uid), ips), true);
    await this.deletePod(latest);
  }

  /** A finished pod runs nothing; if it is being deleted (finalizers held it), complete that. */
  private async finished(pod: KubeObject): Promise<void> {
    const uid = pod.metadata.uid ?? '';
    this.admitted.delete(uid);
    this.probes?.removePod(uid);
    const rp = await this.deps.runtime.podStatus(uid);
    if (rp?.sandbox?.state === 'ready' || rp?.containers.some((c) => c.state === 'running')) await this.deps.runtime.stopPodSandbox(uid, 0);
    if (pod.metadata.deletionTimestamp) await this.deletePod(pod);
  }

  private async deletePod(pod: KubeObject): Promise<void> {
    const uid = pod.metadata.uid ?? '';
    if (this.deleted.has(uid)) return;
    try {
      await this.deps.limiter.run(
        () => this.deps.client.delete({ ...pods, namespace: pod.metadata.namespace, name: pod.metadata.name }, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid } }),
        'pods',
      );
      this.log(`node ${this.nodeName}: pod ${pod.metadata.namespace}/${pod.metadata.name} terminated and deleted`, 'info');
    } catch (err) {
      // Already gone, or the name now belongs to a new pod: either way this one is done.
      if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
    }
    this.deleted.add(uid);
  }
}

/**
 * The runtime's view of a pod whose sandbox has just been stopped, with the
 * IPs it had: a finished pod keeps its IPs in its status, as the kubelet
 * copies them from the status before the stop (a pod that ran for a moment
 * was never reported with them otherwise).
 */
function keepingIPs(rp: RuntimePod | undefined, ips: string[]): RuntimePod | undefined {
  if (!rp?.sandbox || rp.sandbox.ips.length > 0 || ips.length === 0) return rp;
  return { ...rp, sandbox: { ...rp.sandbox, ips } };
}
