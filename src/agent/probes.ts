// Liveness, readiness and startup probes, as the kubelet's prober manager runs
// them (pkg/kubelet/prober: worker.go doProbe, prober.go, results_manager.go):
// one worker per container and probe kind, ticking every periodSeconds once
// initialDelaySeconds have passed since the container started. A result
// changes only after successThreshold / failureThreshold equal results in a
// row; a failed liveness or startup probe puts its worker on hold until the
// container is replaced (the pod worker kills it and restarts it per
// restartPolicy). Liveness and readiness wait until the startup probe has
// succeeded. Results are kept per container run (container ID), so a new run
// starts over: readiness Failure, liveness Success, startup Unknown.
//
// Probe kinds: exec (Runtime.exec), httpGet (HTTP only; 200-399 succeeds;
// redirects are not followed, a 3xx counts as success), tcpSocket. grpc probes
// are not run: they count as succeeding.
import { connect } from 'node:net';
import { request } from 'node:http';
import { isPlainObject, type KubeObject } from '../api/object.js';
import type { ContainerSpec } from './pod-spec.js';

export type ProbeType = 'liveness' | 'readiness' | 'startup';
export type ProbeResult = 'success' | 'failure' | 'unknown';
type Json = Record<string, unknown>;

export const probeTypes: readonly ProbeType[] = ['startup', 'liveness', 'readiness'];

const specField: Record<ProbeType, string> = { liveness: 'livenessProbe', readiness: 'readinessProbe', startup: 'startupProbe' };
const initialValue: Record<ProbeType, ProbeResult> = { liveness: 'success', readiness: 'failure', startup: 'unknown' };
const title: Record<ProbeType, string> = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' };

/** A probe spec with the API defaults applied. */
export interface ProbeSpec {
  raw: Json;
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
  /** probe.terminationGracePeriodSeconds (liveness and startup), when set. */
  terminationGracePeriodSeconds?: number;
}

function num(v: unknown, dflt: number, min: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= min ? Math.floor(v) : dflt;
}

/** The container's probe of that kind, defaulted as the API server does; undefined when it has none. */
export function probeSpecOf(container: ContainerSpec, type: ProbeType): ProbeSpec | undefined {
  const raw = container[specField[type]];
  if (!isPlainObject(raw)) return undefined;
  const spec: ProbeSpec = {
    raw,
    initialDelaySeconds: num(raw.initialDelaySeconds, 0, 0),
    periodSeconds: num(raw.periodSeconds, 10, 1),
    timeoutSeconds: num(raw.timeoutSeconds, 1, 1),
    // Liveness and startup probes must have successThreshold 1.
    successThreshold: type === 'readiness' ? num(raw.successThreshold, 1, 1) : 1,
    failureThreshold: num(raw.failureThreshold, 3, 1),
  };
  if (type !== 'readiness' && typeof raw.terminationGracePeriodSeconds === 'number') spec.terminationGracePeriodSeconds = raw.terminationGracePeriodSeconds;
  return spec;
}

export interface ProbeOutcome {
  result: 'success' | 'failure';
  /** What the kubelet puts after "Liveness probe failed: ". */
  output: string;
}

/** What one probe runs against. */
export interface ProbeTarget {
  podUid: string;
  pod: KubeObject;
  container: ContainerSpec;
  containerId: string;
  /** The pod's primary IP (the node's for host-network pods), when it has one. */
  podIP: string | undefined;
}

/** Runs one probe once. */
export type Prober = (type: ProbeType, spec: ProbeSpec, target: ProbeTarget) => Promise<ProbeOutcome>;

export type ExecFn = (podUid: string, containerId: string, command: string[], timeoutMs: number) => Promise<{ exitCode: number; output: string }>;

/** A container port: a number, a numeric string, or the name of one of the container's ports. */
export function resolvePort(port: unknown, container: ContainerSpec): number | undefined {
  if (typeof port === 'number') return port > 0 && port < 65536 ? port : undefined;
  if (typeof port !== 'string') return undefined;
  if (/^\d+$/.test(port)) return resolvePort(Number(port), container);
  const ports = Array.isArray(container.ports) ? container.ports.filter(isPlainObject) : [];
  const found = ports.find((p) => p.name === port);
  return found && typeof found.containerPort === 'number' ? found.containerPort : undefined;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** What an httpGet action (probe or lifecycle hook) got: a response, or the error that kept it from one. */
export type HttpGetResult = { statusCode: number; body: string } | { error: string };

/**
 * The kubelet's NewRequestForHTTPGetAction and its GET: an httpGet action (port, host, path,
 * scheme, httpHeaders) sent to `host` or the pod IP, redirects not followed, the body kept up
 * to 10 KiB. `userAgent` names the caller (kube-probe/1.33, kube-lifecycle/1.33).
 */
export function httpGetAction(spec: Json, container: ContainerSpec, podIP: string | undefined, timeoutMs: number, userAgent: string): Promise<HttpGetResult> {
  const port = resolvePort(spec.port, container);
  const host = typeof spec.host === 'string' && spec.host !== '' ? spec.host : podIP;
  if (port === undefined) return Promise.resolve({ error: `unable to resolve port ${JSON.stringify(spec.port)}` });
  if (!host) return Promise.resolve({ error: 'the pod has no IP' });
  const scheme = typeof spec.scheme === 'string' ? spec.scheme.toUpperCase() : 'HTTP';
  let path = typeof spec.path === 'string' ? spec.path : '/';
  if (!path.startsWith('/')) path = `/${path}`;
  const url = `${scheme.toLowerCase()}://${hostPort(host, port)}${path}`;
  if (scheme !== 'HTTP') return Promise.resolve({ error: `probe scheme ${scheme} is not supported` });
  const headers: Record<string, string> = { 'User-Agent': userAgent, Accept: '*/*' };
  for (const h of Array.isArray(spec.httpHeaders) ? spec.httpHeaders.filter(isPlainObject) : []) {
    if (typeof h.name === 'string' && h.name !== '') headers[h.name] = typeof h.value === 'string' ? h.value : '';
  }
  return new Promise((done) => {
    let settled = false;
    const finish = (r: HttpGetResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done(r);
    };
    const req = request({ host, port, path, method: 'GET', headers, agent: false }, (res) => {
      const statusCode = res.statusCode ?? 0;
      let body = '';
      res.on('data', (c: Buffer) => {
        if (body.length < 10 * 1024) body += c.toString();
      });
      res.on('end', () => finish({ statusCode, body }));
      res.on('error', (e) => finish({ error: `Get ${JSON.stringify(url)}: ${e.message}` }));
    });
    const timer = setTimeout(() => {
      finish({ error: `Get ${JSON.stringify(url)}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
      req.destroy();
    }, timeoutMs);
    req.on('error', (e) => finish({ error: `Get ${JSON.stringify(url)}: ${e.message}` }));
    req.end();
  });
}

async function httpProbe(spec: Json, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const r = await httpGetAction(spec, target.container, target.podIP, timeoutMs, 'kube-probe/1.33');
  if ('error' in r) return { result: 'failure', output: r.error };
  return r.statusCode >= 200 && r.statusCode < 400 ? { result: 'success', output: r.body } : { result: 'failure', output: `HTTP probe failed with statuscode: ${r.statusCode}` };
}

function tcpProbe(spec: Json, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const port = resolvePort(spec.port, target.container);
  const host = typeof spec.host === 'string' && spec.host !== '' ? spec.host : target.podIP;
  if (port === undefined) return Promise.resolve({ result: 'failure', output: `unable to resolve port ${JSON.stringify(spec.port)}` });
  if (!host) return Promise.resolve({ result: 'failure', output: 'the pod has no IP' });
  return new Promise((done) => {
    const sock = connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      done({ result: 'failure', output: `dial tcp ${hostPort(host, port)}: i/o timeout` });
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      done({ result: 'success', output: '' });
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      done({ result: 'failure', output: `dial tcp ${hostPort(host, port)}: ${e.message}` });
    });
  });
}

/** The real prober: exec through the runtime, HTTP and TCP from the agent to the pod's IP. */
export function realProber(exec: ExecFn | undefined): Prober {
  return async (_type, spec, target) => {
    const timeoutMs = spec.timeoutSeconds * 1000;
    const raw = spec.raw;
    if (isPlainObject(raw.exec)) {
      const command = Array.isArray(raw.exec.command) ? raw.exec.command.map(String) : [];
      if (!exec) return { result: 'success', output: '' };
      try {
        const r = await exec(target.podUid, target.containerId, command, timeoutMs);
        return { result: r.exitCode === 0 ? 'success' : 'failure', output: r.output };
      } catch (e) {
        return { result: 'failure', output: (e as Error).message };
      }
    }
    if (isPlainObject(raw.httpGet)) return httpProbe(raw.httpGet, target, timeoutMs);
    if (isPlainObject(raw.tcpSocket)) return tcpProbe(raw.tcpSocket, target, timeoutMs);
    // grpc (and unknown handlers) are not run.
    return { result: 'success', output: '' };
  };
}

export interface ProbeClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: ProbeClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** The latest run of a container as the pod worker last saw it. */
export interface ContainerView {
  id: string;
  running: boolean;
  /** Epoch ms. */
  startedAt: number;
}

export interface ProbeManagerDeps {
  prober: Prober;
  clock?: ProbeClock;
  /** A result changed (ready, started, a liveness failure): the pod needs a sync. */
  onChange(podUid: string): void;
  /** A probe attempt failed: the kubelet's Unhealthy event. */
  onUnhealthy?(pod: KubeObject, message: string): void;
}

/** One container's probe of one kind (the kubelet's probe worker). */
class ProbeWorker {
  containerId: string | undefined;
  lastResult: ProbeResult = 'unknown';
  resultRun = 0;
  onHold = false;
  view: ContainerView | undefined;
  podIP: string | undefined;
  timer: unknown;
  running = false;
  stopped = false;

  constructor(
    readonly manager: ProbeManager,
    readonly type: ProbeType,
    public pod: KubeObject,
    public container: ContainerSpec,
    public spec: ProbeSpec,
  ) {}

  get podUid(): string {
    return this.pod.metadata.uid ?? '';
  }
}

/** The kubelet's prober manager with its results managers: workers, results keyed by container ID. */
export class ProbeManager {
  private readonly clock: ProbeClock;
  /** `${uid}/${container}/${type}` -> worker */
  private readonly workers = new Map<string, ProbeWorker>();
  /** `${type}/${containerId}` -> result */
  private readonly results = new Map<string, ProbeResult>();

  constructor(private readonly deps: ProbeManagerDeps) {
    this.clock = deps.clock ?? realClock;
  }

  /** Result of a probe kind for a container run; undefined when none has been set. */
  result(type: ProbeType, containerId: string): ProbeResult | undefined {
    return this.results.get(`${type}/${containerId}`);
  }

  /** started and ready for the status, per the probes of the container (those it has not count as passed). */
  containerState(container: ContainerSpec, containerId: string, running: boolean): { started: boolean; ready: boolean } {
    if (!running) return { started: false, ready: false };
    const started = !probeSpecOf(container, 'startup') || this.result('startup', containerId) === 'success';
    const ready = started && (!probeSpecOf(container, 'readiness') || this.result('readiness', containerId) === 'success');
    return { started, ready };
  }

  /** Why a running container should be killed ('liveness' or 'startup' failed), or undefined. */
  shouldKill(container: ContainerSpec, containerId: string): { type: ProbeType; spec: ProbeSpec } | undefined {
    for (const type of ['liveness', 'startup'] as const) {
      const spec = probeSpecOf(container, type);
      if (spec && this.result(type, containerId) === 'failure') return { type, spec };
    }
    return undefined;
  }

  /**
   * Brings the pod's workers in line with its containers: one per probe of each
   * container (regular and sidecar) that has been started; the views say which
   * run of each container is the latest and whether it runs.
   */
  sync(pod: KubeObject, containers: ContainerSpec[], views: ReadonlyMap<string, ContainerView>, podIP: string | undefined): void {
    const uid = pod.metadata.uid ?? '';
    const wanted = new Set<string>();
    for (const c of containers) {
      for (const type of probeTypes) {
        const spec = probeSpecOf(c, type);
        const view = views.get(c.name);
        if (!spec || !view) continue;
        const key = `${uid}/${c.name}/${type}`;
        wanted.add(key);
        let w = this.workers.get(key);
        if (!w) {
          w = new ProbeWorker(this, type, pod, c, spec);
          this.workers.set(key, w);
        }
        w.pod = pod;
        w.container = c;
        w.spec = spec;
        w.podIP = podIP;
        const changed = w.view?.id !== view.id || w.view.running !== view.running;
        w.view = view;
        if (changed && !w.running) this.schedule(w);
      }
    }
    for (const [key, w] of this.workers) if (key.startsWith(`${uid}/`) && !wanted.has(key)) this.stopWorker(key, w);
  }

  /** The pod is gone or finished: stop its workers and drop its results. */
  removePod(uid: string): void {
    for (const [key, w] of this.workers) {
      if (!key.startsWith(`${uid}/`)) continue;
      this.stopWorker(key, w);
    }
  }

  stop(): void {
    for (const [key, w] of this.workers) this.stopWorker(key, w);
  }

  private stopWorker(key: string, w: ProbeWorker): void {
    w.stopped = true;
    if (w.timer !== undefined) this.clock.clearTimeout(w.timer);
    w.timer = undefined;
    if (w.containerId) this.results.delete(`${w.type}/${w.containerId}`);
    this.workers.delete(key);
  }

  /** Sets the next tick: initialDelaySeconds after the start, then every periodSeconds. */
  private schedule(w: ProbeWorker, afterMs?: number): void {
    if (w.stopped) return;
    if (w.timer !== undefined) this.clock.clearTimeout(w.timer);
    let delay = afterMs ?? 0;
    if (afterMs === undefined && w.view?.running) delay = Math.max(0, w.view.startedAt + w.spec.initialDelaySeconds * 1000 - this.clock.now());
    w.timer = this.clock.setTimeout(() => {
      w.timer = undefined;
      void this.tick(w);
    }, delay);
  }

  private async tick(w: ProbeWorker): Promise<void> {
    if (w.stopped) return;
    w.running = true;
    const view = w.view;
    let keepGoing = true;
    try {
      keepGoing = await this.doProbe(w);
    } finally {
      w.running = false;
    }
    if (w.stopped) return;
    // The container changed while probing: start over with the new run.
    if (w.view !== view && (w.view?.id !== view?.id || w.view?.running !== view?.running)) this.schedule(w);
    else if (keepGoing) this.schedule(w, w.spec.periodSeconds * 1000);
  }

  private set(w: ProbeWorker, containerId: string, result: ProbeResult): void {
    const key = `${w.type}/${containerId}`;
    if (this.results.get(key) === result) return;
    this.results.set(key, result);
    this.deps.onChange(w.podUid);
  }

  /** The kubelet's worker.doProbe; false stops the ticking until the container changes. */
  async doProbe(w: ProbeWorker): Promise<boolean> {
    const view = w.view;
    if (!view) return false;
    if (w.containerId !== view.id) {
      // A new run of the container: start over.
      if (w.containerId) this.results.delete(`${w.type}/${w.containerId}`);
      w.containerId = view.id;
      w.lastResult = 'unknown';
      w.resultRun = 0;
      w.onHold = false;
      this.set(w, view.id, initialValue[w.type]);
    }
    if (!view.running) {
      // Not running: not ready; the next run restarts the worker through sync.
      if (w.type === 'readiness') this.set(w, view.id, 'failure');
      return false;
    }
    if (w.onHold) return false;
    if (this.clock.now() - view.startedAt < w.spec.initialDelaySeconds * 1000) return true;
    const hasStartup = !!probeSpecOf(w.container, 'startup');
    const started = !hasStartup || this.result('startup', view.id) === 'success';
    if (w.type === 'startup' && started) return false;
    if (w.type !== 'startup' && !started) return true;

    const outcome = await this.deps.prober(w.type, w.spec, { podUid: w.podUid, pod: w.pod, container: w.container, containerId: view.id, podIP: w.podIP });
    if (w.stopped || w.containerId !== view.id) return !w.stopped;
    if (outcome.result === 'failure') this.deps.onUnhealthy?.(w.pod, `${title[w.type]} probe failed: ${outcome.output}`);
    if (w.lastResult === outcome.result) w.resultRun++;
    else {
      w.lastResult = outcome.result;
      w.resultRun = 1;
    }
    if ((outcome.result === 'failure' && w.resultRun < w.spec.failureThreshold) || (outcome.result === 'success' && w.resultRun < w.spec.successThreshold)) return true;
    this.set(w, view.id, outcome.result);
    if ((w.type === 'liveness' || w.type === 'startup') && outcome.result === 'failure') {
      // The container will be killed: stop probing it until the next run.
      w.onHold = true;
      w.resultRun = 0;
      return false;
    }
    // A startup probe that succeeded is done; liveness and readiness may now run.
    if (w.type === 'startup' && outcome.result === 'success') {
      for (const other of this.workers.values()) if (other !== w && other.podUid === w.podUid && other.container.name === w.container.name && !other.running) this.schedule(other, 0);
      return false;
    }
    return true;
  }
}
