// The fake runtime of hollow nodes: nothing runs. A pod's sandbox gets an IP
// from the node's pod range, containers are running at once (or after a
// configurable start-up delay) and stay running until the agent stops them,
// which they do cleanly (exit code 0, reason Completed). Init containers
// complete at once.
//
// Annotations on a pod make its regular containers end on their own, so Jobs
// can complete on hollow nodes:
//   nami.dev/fake-exit-code: "N"       the exit code (default 0)
//   nami.dev/fake-exit-after-ms: "N"   how long after starting (default 0)
// Either one makes containers exit. With restartPolicy Never the pod ends
// Succeeded (all codes 0) or Failed; with OnFailure a non-zero code restarts the
// container with the kubelet's back-off, as does any exit under Always.
import { createHash, randomBytes } from 'node:crypto';
import { isPlainObject } from '../api/object.js';
import { initContainers, isHostNetwork, isSidecar } from './pod-spec.js';
import type { ContainerConfig, PodSandboxConfig, PodUsage, Runtime, RuntimeContainer, RuntimePod, RuntimeSandbox } from './runtime.js';
import { ContainerStartError } from './runtime.js';
import { parseApiTime } from './timestamps.js';

export const fakeExitCodeAnnotation = 'nami.dev/fake-exit-code';
export const fakeExitAfterAnnotation = 'nami.dev/fake-exit-after-ms';

export interface FakeRuntimeOptions {
  /** The node's pod range, for example "10.128.3.0/24"; pods get its addresses from .2 up. */
  podCidr: string;
  /** Milliseconds a container spends created before it runs (0: running at once). */
  startupDelayMs?: number;
  /**
   * For tests: what `exec` in a container answers. Without it the fake runtime
   * has no exec, and the agent runs no probes and no lifecycle hooks.
   */
  exec?: NonNullable<Runtime['exec']>;
}

interface FakePod extends RuntimePod {
  config: PodSandboxConfig;
  /** The host part of the sandbox's IP in the node's range, if it holds one. */
  ipOffset: number | undefined;
  timers: Set<NodeJS.Timeout>;
}

/** When the pod's regular containers end on their own, from the annotations above. */
export function fakeExitOf(annotations: Record<string, string>): { code: number; afterMs: number } | undefined {
  const code = annotations[fakeExitCodeAnnotation];
  const after = annotations[fakeExitAfterAnnotation];
  if (code === undefined && after === undefined) return undefined;
  const parsedCode = code === undefined ? 0 : Number.parseInt(code, 10);
  const parsedAfter = after === undefined ? 0 : Number.parseInt(after, 10);
  return { code: Number.isFinite(parsedCode) ? parsedCode : 1, afterMs: Number.isFinite(parsedAfter) && parsedAfter > 0 ? parsedAfter : 0 };
}

/** An image reference as containerd reports it: "nginx" is "docker.io/library/nginx:latest". */
export function normalizeImage(image: string): string {
  let rest = image;
  let digest = '';
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at);
    rest = rest.slice(0, at);
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  const hasDomain = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  let name = hasDomain ? rest : `docker.io/${slash >= 0 ? rest : `library/${rest}`}`;
  const lastSlash = name.lastIndexOf('/');
  if (!digest && !name.slice(lastSlash + 1).includes(':')) name += ':latest';
  return name + digest;
}

/** The imageID a fake pull gives: the repository with a digest derived from the reference. */
function imageRefOf(normalized: string): string {
  const at = normalized.indexOf('@');
  if (at >= 0) return normalized;
  const lastSlash = normalized.lastIndexOf('/');
  const colon = normalized.indexOf(':', lastSlash);
  const repo = colon >= 0 ? normalized.slice(0, colon) : normalized;
  return `${repo}@sha256:${createHash('sha256').update(normalized).digest('hex')}`;
}

function parseCidr(cidr: string): { base: number; size: number } {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) throw new RangeError(`not an IPv4 CIDR: ${cidr}`);
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix < 8 || prefix > 30) throw new RangeError(`unusable pod CIDR: ${cidr}`);
  const size = 2 ** (32 - prefix);
  const addr = ((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!;
  return { base: addr - (addr % size), size };
}

export function ipv4ToString(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function ipv4ToNumber(ip: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (!m) return undefined;
  return ((Number(m[1]) << 24) >>> 0) + (Number(m[2]) << 16) + (Number(m[3]) << 8) + Number(m[4]);
}

function newId(): string {
  return randomBytes(32).toString('hex');
}

function copyPod(p: FakePod): RuntimePod {
  return {
    uid: p.uid,
    namespace: p.namespace,
    name: p.name,
    sandbox: p.sandbox && { ...p.sandbox, ips: [...p.sandbox.ips] },
    containers: p.containers.map((c) => ({ ...c })),
  };
}

export class FakeRuntime implements Runtime {
  readonly type = 'fake';
  readonly version = '0.1.0';
  private readonly pods = new Map<string, FakePod>();
  private readonly listeners: ((uid: string) => void)[] = [];
  private readonly range: { base: number; size: number };
  private readonly usedIps = new Set<number>();
  private nextIp = 2;
  private closed = false;
  exec?: Runtime['exec'];

  constructor(private readonly opts: FakeRuntimeOptions) {
    this.range = parseCidr(opts.podCidr);
    if (opts.exec) this.exec = opts.exec;
  }

  onPodEvent(listener: (uid: string) => void): void {
    this.listeners.push(listener);
  }

  private emit(uid: string): void {
    if (this.closed) return;
    for (const l of this.listeners) l(uid);
  }

  private allocateIp(): number {
    const usable = this.range.size - 3; // network, gateway (.1), broadcast
    for (let tried = 0; tried < usable; tried++) {
      const offset = this.nextIp;
      this.nextIp = offset + 1 >= this.range.size - 1 ? 2 : offset + 1;
      if (!this.usedIps.has(offset)) {
        this.usedIps.add(offset);
        return offset;
      }
    }
    throw new ContainerStartError('FailedCreatePodSandBox', `no IP addresses available in range set: ${ipv4ToString(this.range.base)}/${32 - Math.log2(this.range.size)}`);
  }

  private releaseIp(pod: FakePod): void {
    if (pod.ipOffset !== undefined) this.usedIps.delete(pod.ipOffset);
    pod.ipOffset = undefined;
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<RuntimeSandbox> {
    const existing = this.pods.get(config.uid);
    if (existing?.sandbox?.state === 'ready') return { ...existing.sandbox, ips: [...existing.sandbox.ips] };
    const pod: FakePod = existing ?? { uid: config.uid, namespace: config.namespace, name: config.name, sandbox: undefined, containers: [], config, ipOffset: undefined, timers: new Set() };
    pod.config = config;
    if (!config.hostNetwork) pod.ipOffset = this.allocateIp();
    const ips = pod.ipOffset === undefined ? [] : [ipv4ToString(this.range.base + pod.ipOffset)];
    pod.sandbox = { id: newId(), state: 'ready', ips, createdAt: Date.now() };
    this.pods.set(config.uid, pod);
    return { ...pod.sandbox, ips: [...ips] };
  }

  async startContainer(uid: string, config: ContainerConfig): Promise<RuntimeContainer> {
    const pod = this.pods.get(uid);
    if (!pod?.sandbox || pod.sandbox.state !== 'ready') throw new ContainerStartError('CreateContainerError', `the sandbox of pod ${uid} is not ready`);
    const image = normalizeImage(config.image);
    const container: RuntimeContainer = { id: newId(), name: config.name, attempt: config.attempt, image, imageRef: imageRefOf(image), state: 'created', createdAt: Date.now() };
    pod.containers.push(container);
    // Keep the latest two runs of each container, as the kubelet's garbage collection does by default.
    const runs = pod.containers.filter((c) => c.name === config.name);
    if (runs.length > 2) pod.containers = pod.containers.filter((c) => c.name !== config.name || runs.slice(-2).includes(c));
    const begin = () => {
      if (container.state !== 'created') return;
      container.state = 'running';
      container.startedAt = Date.now();
      if (config.kind === 'init') this.exit(container, 0);
      else if (config.kind === 'regular') this.scheduleExit(pod, container, container.startedAt);
    };
    const delay = this.opts.startupDelayMs ?? 0;
    if (delay > 0) {
      this.later(pod, delay, () => {
        begin();
        this.emit(uid);
      });
    } else begin();
    return { ...container };
  }

  private later(pod: FakePod, ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      pod.timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    pod.timers.add(timer);
  }

  /** Schedules the end the pod's annotations ask for, counted from startedAt. */
  private scheduleExit(pod: FakePod, container: RuntimeContainer, startedAt: number): void {
    const exit = fakeExitOf(pod.config.annotations);
    if (!exit) return;
    const wait = Math.max(0, startedAt + exit.afterMs - Date.now());
    if (wait === 0) {
      // Exits at once, as a real process that ends straight away has by the runtime's next look.
      this.exit(container, exit.code);
      this.later(pod, 0, () => this.emit(pod.uid));
      return;
    }
    this.later(pod, wait, () => {
      if (container.state !== 'running') return;
      this.exit(container, exit.code);
      this.emit(pod.uid);
    });
  }

  private exit(container: RuntimeContainer, code: number): void {
    container.state = 'exited';
    container.exitCode = code;
    container.reason = code === 0 ? 'Completed' : 'Error';
    container.finishedAt = Math.max(Date.now(), container.startedAt ?? 0);
    container.startedAt ??= container.finishedAt;
  }

  async stopContainer(uid: string, containerId: string): Promise<void> {
    const container = this.pods.get(uid)?.containers.find((c) => c.id === containerId);
    // Nothing runs, so every container stops cleanly at once.
    if (container && (container.state === 'running' || container.state === 'created')) this.exit(container, 0);
  }

  async stopPodSandbox(uid: string): Promise<void> {
    const pod = this.pods.get(uid);
    if (!pod) return;
    for (const c of pod.containers) if (c.state === 'running' || c.state === 'created') this.exit(c, 0);
    for (const t of pod.timers) clearTimeout(t);
    pod.timers.clear();
    // A stopped sandbox has released its network, as the runc runtime's reports it: no IPs.
    if (pod.sandbox) pod.sandbox = { ...pod.sandbox, state: 'notready', ips: [] };
    this.releaseIp(pod);
  }

  async removePod(uid: string): Promise<void> {
    const pod = this.pods.get(uid);
    if (!pod) return;
    for (const t of pod.timers) clearTimeout(t);
    this.releaseIp(pod);
    this.pods.delete(uid);
  }

  async podStatus(uid: string): Promise<RuntimePod | undefined> {
    const pod = this.pods.get(uid);
    return pod && copyPod(pod);
  }

  async listPods(): Promise<RuntimePod[]> {
    return [...this.pods.values()].map(copyPod);
  }

  /** Nothing runs: every ready pod and running container shows zero usage. */
  async usage(): Promise<PodUsage[]> {
    const zero = { time: Date.now(), cpuUsageNanoSeconds: 0, memoryUsageBytes: 0, memoryWorkingSetBytes: 0, memoryRssBytes: 0 };
    return [...this.pods.values()]
      .filter((p) => p.sandbox?.state === 'ready')
      .map((p) => ({
        ...zero,
        uid: p.uid,
        namespace: p.namespace,
        name: p.name,
        createdAt: p.sandbox!.createdAt,
        containers: p.containers.filter((c) => c.state === 'running').map((c) => ({ ...zero, name: c.name, id: c.id, startedAt: c.startedAt ?? c.createdAt })),
      }));
  }

  /** Takes back a pod from the status an earlier agent reported: same sandbox IP, same container IDs and times. */
  async restore(config: PodSandboxConfig, reported: Record<string, unknown>): Promise<RuntimePod | undefined> {
    const statuses = [...asArray(reported.initContainerStatuses), ...asArray(reported.containerStatuses)];
    const prefix = `${this.type}://`;
    if (!statuses.some((s) => typeof s.containerID === 'string' && s.containerID.startsWith(prefix))) return undefined;
    const pod: FakePod = { uid: config.uid, namespace: config.namespace, name: config.name, sandbox: undefined, containers: [], config, ipOffset: undefined, timers: new Set() };
    const ips = asArray(reported.podIPs).map((p) => (typeof p.ip === 'string' ? p.ip : '')).filter(Boolean);
    const terminal = reported.phase === 'Succeeded' || reported.phase === 'Failed';
    if (!isHostNetwork(config.pod) && !terminal) {
      const n = ips[0] === undefined ? undefined : ipv4ToNumber(ips[0]);
      if (n !== undefined && n >= this.range.base && n < this.range.base + this.range.size && !this.usedIps.has(n - this.range.base)) {
        pod.ipOffset = n - this.range.base;
        this.usedIps.add(pod.ipOffset);
      }
    }
    pod.sandbox = { id: newId(), state: terminal ? 'notready' : 'ready', ips: isHostNetwork(config.pod) ? [] : ips, createdAt: Date.now() };
    const initNames = new Set(initContainers(config.pod).filter((c) => !isSidecar(c)).map((c) => c.name));
    const sidecars = new Set(initContainers(config.pod).filter(isSidecar).map((c) => c.name));
    for (const s of statuses) {
      const name = typeof s.name === 'string' ? s.name : '';
      const restartCount = typeof s.restartCount === 'number' ? s.restartCount : 0;
      const image = normalizeImage(typeof s.image === 'string' ? s.image : '');
      const imageRef = typeof s.imageID === 'string' && s.imageID ? s.imageID : imageRefOf(image);
      const state = isPlainObject(s.state) ? s.state : {};
      const last = isPlainObject(s.lastState) ? s.lastState : {};
      const run = (st: Record<string, unknown>, attempt: number, id: unknown): RuntimeContainer | undefined => {
        if (typeof id !== 'string' || !id.startsWith(prefix)) return undefined;
        const startedAt = parseApiTime(st.startedAt);
        const base = { id: id.slice(prefix.length), name, attempt, image, imageRef, createdAt: Number.isNaN(startedAt) ? Date.now() : startedAt };
        if (isPlainObject(st.running)) return { ...base, state: 'running', startedAt: Number.isNaN(parseApiTime(st.running.startedAt)) ? Date.now() : parseApiTime(st.running.startedAt) };
        if (isPlainObject(st.terminated)) {
          const t = st.terminated;
          const started = parseApiTime(t.startedAt);
          const finished = parseApiTime(t.finishedAt);
          return {
            ...base,
            state: 'exited',
            exitCode: typeof t.exitCode === 'number' ? t.exitCode : 0,
            reason: typeof t.reason === 'string' ? t.reason : undefined,
            message: typeof t.message === 'string' ? t.message : undefined,
            startedAt: Number.isNaN(started) ? undefined : started,
            finishedAt: Number.isNaN(finished) ? undefined : finished,
          };
        }
        return undefined;
      };
      const previous = isPlainObject(last.terminated) ? run(last, isPlainObject(state.running) || isPlainObject(state.terminated) ? restartCount - 1 : restartCount, last.terminated.containerID) : undefined;
      const current = run(state, restartCount, isPlainObject(state.terminated) ? (state.terminated.containerID ?? s.containerID) : s.containerID);
      if (previous) pod.containers.push(previous);
      if (current) {
        pod.containers.push(current);
        const kind = initNames.has(name) ? 'init' : sidecars.has(name) ? 'sidecar' : 'regular';
        if (current.state === 'running' && kind === 'regular' && !terminal) this.scheduleExit(pod, current, current.startedAt ?? Date.now());
      }
    }
    this.pods.set(config.uid, pod);
    return copyPod(pod);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pod of this.pods.values()) {
      for (const t of pod.timers) clearTimeout(t);
      pod.timers.clear();
    }
  }
}

function asArray(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.filter(isPlainObject) : [];
}
