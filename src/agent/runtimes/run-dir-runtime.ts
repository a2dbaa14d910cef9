// What the runc and process runtimes share: pods and container runs kept as directories, so
// that their state outlives the agent. Layout under <root>/pods/<uid>/:
//   pod.json, podspec.json, podobj.json   the pod as the runtime was given it
//   <name>-<attempt>/                      one container run: container.json (RunMeta) and the
//                                          monitor's files (../run-files.ts): started.json, exit.json
//   logs/<name>/<attempt>.log              the CRI log of each run (kubelet's /var/log/pods)
//   volumes/<kind>/<name>/                 the pod's volumes (../volumes.ts)
// A run's state comes from its files and its monitor (container-monitor.ts: one detached process
// a run, or the node's shim watching every run, monitor-shim.ts), which outlives the agent; the
// monitor says when a container started, exits are noticed by polling, and both are reported
// through onPodEvent.
// Subclasses own the sandbox and how a run is started, stopped and destroyed.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBusyboxImage, ImageNotFoundError, type ImageStore, type ResolvedImage } from '../images/index.js';
import { ContainerStartError, type ContainerConfig, type PodSandboxConfig, type RuntimeContainer, type RuntimePod, type RuntimeSandbox } from '../runtime.js';
import { envReferences, serviceEnvVars, SpecError, type EnvContext } from './container-env.js';
import { ensureImage, pullPolicyOf } from './image-pull.js';
import { spawnPool } from '../spawn-pool.js';
import { MonitorShim, maxSocketPath } from './monitor-shim.js';
import { files, monitorAlive, readJson, readRecord, statStartTime, writeFileAtomic, type ExitRecord, type StartedRecord } from './run-files.js';
import { decodeSecret, prepareVolumes, VolumeNotReadyError, volumeNotReadyStartError, type PreparedVolume, type VolumeSource } from './volumes.js';

type Json = Record<string, unknown>;

const monitorJs = fileURLToPath(new URL('./container-monitor.js', import.meta.url));

/** The image built from the host's busybox when missing (the runc sandbox's "pause" image). */
export const defaultPauseImage = 'nami.dev/busybox:latest';

export interface RunDirRuntimeOptions {
  /** State root: pods/ (and what the runtime keeps beside it). */
  root: string;
  images: ImageStore;
  /** An image built from /bin/busybox when missing (default nami.dev/busybox:latest). */
  pauseImage?: string;
  /** How often running containers are checked for exits (default 1000 ms). */
  pollMs?: number;
  /** Container logs are rotated before they exceed this many bytes (default 10 MiB, the kubelet's containerLogMaxSize). */
  containerLogMaxSize?: number;
  /** Log files kept per container run, the current one included (default 5, the kubelet's containerLogMaxFiles; at least 2). */
  containerLogMaxFiles?: number;
  /** Config map and secret data for configMap/secret/projected volumes and env valueFrom / envFrom (the agent reads them from the API). Without it pods that use them fail with CreateContainerConfigError. */
  volumeSource?: VolumeSource;
  /**
   * The pod's imagePullSecrets (Secret objects, kubernetes.io/dockerconfigjson or dockercfg) by
   * name, asked for on every pull; without it images are pulled anonymously.
   */
  pullSecrets?: (pod: { uid: string; namespace: string; name: string }, names: string[]) => Promise<Record<string, unknown>[]>;
}

/** What the runtime records about a pod (pod.json). */
export interface PodRecord {
  uid: string;
  namespace: string;
  name: string;
  hostname: string;
  hostNetwork: boolean;
  createdAt: number;
  /** runc: the pod's cgroup by QoS class (runc/cgroups.ts); pods made before it have none and run under nami/. */
  cgroupParent?: string;
}

/** What the runtime records about one container run (container.json). */
export interface RunMeta {
  id: string;
  name: string;
  attempt: number;
  image: string;
  imageRef: string;
  createdAt: number;
  logPath: string;
  sandbox?: boolean;
  /** The container has a stdin FIFO (spec `stdin: true`), for attach. */
  stdin?: boolean;
  /** Spec `stdinOnce: true` (with stdin): the first attach session with stdin closes it when it ends. */
  stdinOnce?: boolean;
  /** Spec `tty: true` (runc): the container runs with a terminal, its output is the log's stdout, attachers resize it. */
  tty?: boolean;
  /** Started with no monitor (runc's sandbox, `runc run --detach`: it logs nothing, its exit code means nothing); its exit is noticed from its pid. */
  unmonitored?: boolean;
}

/** Checks the log rotation options (the agent's --container-log-max-size / --container-log-max-files). */
/**
 * The services' variables for a pod's containers, read when a container
 * starts: the namespace's services with enableServiceLinks (the default),
 * and default/kubernetes always. Unreadable services fail the start, as the
 * kubelet does before its service informer has synced.
 */
async function serviceEnvOf(services: (namespace: string) => Promise<Json[]>, namespace: string, pod: Json): Promise<Map<string, string>> {
  const links = ((pod.spec ?? {}) as Json).enableServiceLinks !== false;
  try {
    const lists = await Promise.all([links ? services(namespace) : [], links && namespace === 'default' ? [] : services('default')]);
    return serviceEnvVars(namespace, links, lists.flat());
  } catch (e) {
    throw new SpecError(`services could not be read, cannot construct envvars: ${(e as Error).message}`);
  }
}

export function checkLogOptions(opts: Pick<RunDirRuntimeOptions, 'containerLogMaxSize' | 'containerLogMaxFiles'>): void {
  if (opts.containerLogMaxSize !== undefined && !(Number.isSafeInteger(opts.containerLogMaxSize) && opts.containerLogMaxSize > 0)) throw new Error(`containerLogMaxSize must be a positive number of bytes, got ${opts.containerLogMaxSize}`);
  if (opts.containerLogMaxFiles !== undefined && !(Number.isInteger(opts.containerLogMaxFiles) && opts.containerLogMaxFiles >= 2)) throw new Error(`containerLogMaxFiles must be an integer of at least 2, got ${opts.containerLogMaxFiles}`);
}

export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, '_');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export abstract class RunDirRuntime {
  protected readonly podsDir: string;
  protected readonly listeners: ((uid: string) => void)[] = [];
  /** Run dirs seen running, by pod, to notice exits. */
  protected readonly watched = new Map<string, { uid: string; dir: string }>();
  protected timer: NodeJS.Timeout | undefined;
  private pollTick = 0;
  /** The default pause image's build, while one runs. */
  private pauseBuild: Promise<unknown> | undefined;
  /** The node's monitor shim (one process watching every container), when the runtime uses one. */
  protected shim: MonitorShim | undefined;
  protected closed = false;
  protected readonly locks = new Map<string, Promise<unknown>>();
  private volumeSourceOverride: VolumeSource | undefined;

  protected constructor(protected readonly base: RunDirRuntimeOptions) {
    this.podsDir = join(base.root, 'pods');
  }

  /** Has app containers watched by one shim at <root>/monitor.sock, unless that socket path is too long for a unix socket. */
  protected useMonitorShim(): void {
    const socket = join(this.base.root, 'monitor.sock');
    if (Buffer.byteLength(socket) <= maxSocketPath) this.shim = new MonitorShim(socket, monitorJs, join(this.base.root, 'monitor.log'));
  }

  /** The log rotation settings a run's monitor.json carries. */
  protected logLimits(): { logMaxBytes?: number; logMaxFiles?: number } {
    return { logMaxBytes: this.base.containerLogMaxSize, logMaxFiles: this.base.containerLogMaxFiles };
  }

  /** The pod's sandbox as its files show it. */
  protected abstract sandboxOf(podDir: string): Promise<RuntimeSandbox | undefined>;
  /** Kills what is left of a run and removes its directory. */
  protected abstract destroyRun(dir: string): Promise<void>;

  /** The pod IP env and downward API files show (status.podIP): the network record's, or the node's for host-network pods. */
  protected podIPOf(podDir: string, rec: PodRecord | undefined, hostIP: string | undefined): string | undefined {
    return readJson<{ ip?: string }>(join(podDir, 'network.json'))?.ip ?? (rec?.hostNetwork ? hostIP : undefined);
  }

  /** Watches what was running before an agent restart. */
  protected async watchRunning(): Promise<void> {
    for (const pod of await this.listPods()) for (const c of pod.containers) if (c.state === 'running' || c.state === 'created') this.watch(pod.uid, join(this.podsDir, safeName(pod.uid), `${safeName(c.name)}-${c.attempt}`));
  }

  onPodEvent(listener: (uid: string) => void): void {
    this.listeners.push(listener);
  }

  protected emit(uid: string): void {
    if (this.closed) return;
    for (const l of this.listeners) l(uid);
  }

  /** Serializes work on one pod. */
  protected withPod<T>(uid: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(uid) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.locks.set(uid, settled);
    void settled.then(() => {
      if (this.locks.get(uid) === settled) this.locks.delete(uid);
    });
    return next;
  }

  protected watch(uid: string, dir: string): void {
    this.watched.set(dir, { uid, dir });
    if (!this.timer && !this.closed) this.pollTick = 0;
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => this.pollExits(), this.base.pollMs ?? 1000);
    this.timer.unref();
  }

  protected pollExits(): void {
    // An exit record is looked for every round; whether the monitor (or an unmonitored run's
    // process) is still there, which costs a few /proc reads a run, every fifth.
    const alive = this.pollTick++ % 5 === 0;
    for (const [key, w] of this.watched) {
      if (existsSync(join(w.dir, files.exit)) || !existsSync(w.dir) || (alive && !this.runAlive(w.dir))) {
        this.watched.delete(key);
        this.emit(w.uid);
      }
    }
    if (this.watched.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  podDir(uid: string): string {
    return join(this.podsDir, safeName(uid));
  }

  /** The CRI log of a container run: <root>/pods/<uid>/logs/<name>/<attempt>.log, as the kubelet's /var/log/pods. */
  containerLogPath(uid: string, name: string, attempt: number): string {
    return join(this.podDir(uid), 'logs', safeName(name), `${attempt}.log`);
  }

  /** Every tagged image of the store, with the names the kubelet reports (repo@digest, repo:tag). */
  async listImages(): Promise<{ names: string[]; sizeBytes: number }[]> {
    return (await this.base.images.list()).map((i) => {
      const slash = i.reference.lastIndexOf('/');
      const colon = i.reference.lastIndexOf(':');
      const repo = colon > slash ? i.reference.slice(0, colon) : i.reference;
      return { names: [`${repo}@${i.digest}`, i.reference], sizeBytes: i.size };
    });
  }

  protected async resolveImage(ref: string): Promise<ResolvedImage> {
    try {
      return await this.base.images.resolve(ref);
    } catch (e) {
      if (e instanceof ImageNotFoundError && ref === (this.base.pauseImage ?? defaultPauseImage) && ref === defaultPauseImage) {
        // Pods started together wait for one build instead of each building the image.
        this.pauseBuild ??= buildBusyboxImage(this.base.images).finally(() => (this.pauseBuild = undefined));
        await this.pauseBuild;
        return this.base.images.resolve(ref);
      }
      throw e;
    }
  }

  /** A container's image by its imagePullPolicy: from the store, or pulled (with the pod's imagePullSecrets). Throws ContainerStartError. */
  protected async ensureContainerImage(pod: { uid: string; namespace: string; name: string }, config: ContainerConfig): Promise<ResolvedImage> {
    const spec = config.spec as Json;
    const policy = pullPolicyOf(spec, config.image);
    // nami.dev/ images are the node's own (built locally, as the busybox one): never pulled.
    if (config.image.startsWith('nami.dev/')) {
      try {
        return await this.resolveImage(config.image);
      } catch (e) {
        if (e instanceof ImageNotFoundError) throw new ContainerStartError('ErrImageNeverPull', `Container image ${JSON.stringify(config.image)} is not present and nami.dev/ images are never pulled`, { cause: e });
        throw new ContainerStartError('InvalidImageName', (e as Error).message, { cause: e });
      }
    }
    let secrets: Json[] = [];
    const podSpec = readJson<Json>(join(this.podDir(pod.uid), 'podspec.json')) ?? {};
    const names = (Array.isArray(podSpec.imagePullSecrets) ? podSpec.imagePullSecrets : []).map((s) => (s as Json)?.name).filter((n): n is string => typeof n === 'string' && n !== '');
    if (names.length > 0 && this.base.pullSecrets) {
      try {
        secrets = await this.base.pullSecrets({ uid: pod.uid, namespace: pod.namespace, name: pod.name }, names);
      } catch {
        secrets = []; // the kubelet pulls without the secrets it cannot get
      }
    }
    return (await ensureImage(this.base.images, config.image, { policy, secrets })).image;
  }

  protected imageRefOf(img: ResolvedImage): string {
    const ref = img.reference;
    const at = ref.indexOf('@');
    const repo = at >= 0 ? ref.slice(0, at) : ref.replace(/:[^:/]+$/, '');
    return `${repo}@${img.digest}`;
  }

  /** Writes what the runtime keeps about a new pod (pod.json, podspec.json, podobj.json). */
  protected async recordPod(config: PodSandboxConfig, extra: Partial<PodRecord> = {}): Promise<PodRecord> {
    const dir = this.podDir(config.uid);
    await mkdir(dir, { recursive: true, mode: 0o711 });
    const hostname = config.hostname.slice(0, 63).replace(/[-.]+$/, '') || 'localhost';
    const rec: PodRecord = { uid: config.uid, namespace: config.namespace, name: config.name, hostname, hostNetwork: config.hostNetwork, createdAt: Date.now(), ...extra };
    writeFileAtomic(join(dir, 'pod.json'), JSON.stringify(rec), { durable: true });
    writeFileAtomic(join(dir, 'podspec.json'), JSON.stringify(config.pod.spec ?? {}));
    writeFileAtomic(join(dir, 'podobj.json'), JSON.stringify(config.pod));
    return rec;
  }

  /** The stored pod object (or one made from the record) and what a container of it needs: its env context and the pod's volumes, set up. */
  protected async containerContext(podDir: string, pod: PodRecord, container: Json): Promise<{ podSpec: Json; podObj: Json; envCtx: EnvContext; volumes: Map<string, PreparedVolume> }> {
    const podSpec = readJson<Json>(join(podDir, 'podspec.json')) ?? {};
    const podObj = readJson<Json>(join(podDir, 'podobj.json')) ?? { metadata: { name: pod.name, namespace: pod.namespace, uid: pod.uid }, spec: podSpec };
    try {
      const envCtx = await this.envContext(podDir, podObj, container);
      const volumes = await prepareVolumes(podDir, envCtx, this.volumeSource);
      return { podSpec, podObj, envCtx, volumes };
    } catch (e) {
      if (e instanceof VolumeNotReadyError) throw volumeNotReadyStartError(e);
      throw new ContainerStartError('CreateContainerConfigError', (e as Error).message, { cause: e });
    }
  }

  /** Stops a run: `kill('TERM')`, up to graceSeconds, then `kill('KILL')` and up to 10 s more for the monitor to record the exit. */
  protected async stopGracefully(dir: string, graceSeconds: number, kill: (signal: 'TERM' | 'KILL') => Promise<void>): Promise<void> {
    const done = () => {
      const s = this.runState(dir).state;
      return s === 'exited' || s === 'unknown';
    };
    if (done()) return;
    if (graceSeconds > 0) {
      await kill('TERM');
      const deadline = Date.now() + graceSeconds * 1000;
      while (!done() && Date.now() < deadline) await sleep(50);
    }
    if (!done()) {
      await kill('KILL');
      const deadline = Date.now() + 10_000;
      while (!done() && Date.now() < deadline) await sleep(50);
    }
  }

  /**
   * Starts the detached monitor of a prepared run dir (monitor.json, container.json written) and
   * waits until it reports the container started or failed to; then watches it for its exit.
   */
  protected async startMonitor(uid: string, dir: string, failReason: string, timeoutMs: number, killOnTimeout: () => Promise<void>): Promise<void> {
    // The monitor says when the container started (or failed to), so the start is noticed at
    // once; the files stay the record.
    let monitorNotice: Promise<{ exited: boolean }>;
    try {
      // The node's shim when there is one, else a monitor process of the run's own.
      monitorNotice = (this.shim ? await this.shim.run(dir) : await spawnPool.spawnDetached(process.execPath, [monitorJs, dir], { cwd: dir, stderrFile: join(dir, files.monitorLog) })).notice;
    } catch (e) {
      await this.destroyRun(dir);
      throw new ContainerStartError(failReason, `the container monitor did not start: ${(e as Error).message}`, { cause: e });
    }
    let noticed: { exited: boolean } | undefined;
    const notice = monitorNotice.then((n) => (noticed = n));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const exit = readRecord<ExitRecord>(dir, files.exit);
      if (exit?.startError !== undefined) {
        await this.destroyRun(dir);
        throw new ContainerStartError(failReason, exit.startError);
      }
      if (exit || existsSync(join(dir, files.started))) break;
      if (Date.now() > deadline) {
        await killOnTimeout();
        throw new ContainerStartError(failReason, `the container did not start within ${timeoutMs / 1000}s`);
      }
      if (noticed?.exited && !existsSync(join(dir, files.exit))) {
        const log = await readFile(join(dir, files.monitorLog), 'utf8').catch(() => '');
        await this.destroyRun(dir);
        throw new ContainerStartError(failReason, `the container monitor failed: ${log.trim().split('\n')[0] ?? ''}`);
      }
      await (noticed ? sleep(10) : Promise.race([notice, sleep(250)]));
    }
    this.watch(uid, dir);
  }

  /** The run dir of a container run by its ID. */
  protected async runDirById(uid: string, containerId: string): Promise<string | undefined> {
    return (await this.runDirs(this.podDir(uid))).find((d) => readRecord<RunMeta>(d, files.meta)?.id === containerId);
  }

  /** Keeps the latest two runs of a container, as the kubelet's container GC does by default. */
  protected async pruneRuns(podDir: string, name: string): Promise<void> {
    const runs = (await this.runDirs(podDir)).map((d) => ({ d, m: readRecord<RunMeta>(d, files.meta) })).filter((r) => r.m?.name === name);
    runs.sort((a, b) => a.m!.attempt - b.m!.attempt);
    for (const r of runs.slice(0, -2)) if (this.runState(r.d).state === 'exited') await this.destroyRun(r.d);
  }

  protected async runDirs(podDir: string): Promise<string[]> {
    const names = await readdir(podDir).catch(() => [] as string[]);
    return names.filter((n) => n !== 'sandbox' && n !== 'etc' && n !== 'logs' && !n.endsWith('.json')).map((n) => join(podDir, n)).filter((d) => existsSync(join(d, files.meta)));
  }

  /** The state of a run from its files; a run whose monitor died without an exit record gets one. */
  protected runState(dir: string): { state: 'created' | 'running' | 'exited' | 'unknown'; started?: StartedRecord; exit?: ExitRecord } {
    const exit = readRecord<ExitRecord>(dir, files.exit);
    const started = readRecord<StartedRecord>(dir, files.started);
    if (exit) return { state: 'exited', started, exit };
    if (!existsSync(join(dir, files.meta))) return { state: 'unknown' };
    if (this.runAlive(dir, started)) return { state: started ? 'running' : 'created', started };
    // Re-read: the monitor may have just finished.
    const late = readRecord<ExitRecord>(dir, files.exit);
    if (late) return { state: 'exited', started, exit: late };
    const meta = readRecord<RunMeta>(dir, files.meta);
    if (started && meta && this.processAlive(started)) return { state: 'running', started };
    const rec: ExitRecord = meta?.unmonitored
      ? { exitCode: 0, finishedAt: Date.now(), oomKilled: false, message: 'the sandbox process ended' }
      : { exitCode: 255, finishedAt: Date.now(), oomKilled: false, message: 'the container monitor is gone; the exit status is unknown' };
    try {
      writeFileAtomic(join(dir, files.exit), JSON.stringify(rec));
    } catch {
      /* dir going away */
    }
    return { state: 'exited', started, exit: rec };
  }

  /** Whether a started container's process lives (and is the same process: its start time, when recorded). */
  protected processAlive(started: StartedRecord): boolean {
    try {
      const stat = readFileSync(`/proc/${started.pid}/stat`, 'utf8');
      if (/\) [ZX] /.test(stat)) return false;
      return started.pidStartTime === undefined || statStartTime(stat) === started.pidStartTime;
    } catch {
      return false;
    }
  }

  /** Whether the run is still watched over: its monitor lives, or (unmonitored) its process. */
  protected runAlive(dir: string, started?: StartedRecord): boolean {
    if (monitorAlive(dir)) return true;
    if (existsSync(join(dir, files.monitorConfig))) return false;
    const rec = started ?? readRecord<StartedRecord>(dir, files.started);
    return rec !== undefined && this.processAlive(rec);
  }

  protected containerOf(dir: string): RuntimeContainer | undefined {
    const meta = readRecord<RunMeta>(dir, files.meta);
    if (!meta) return undefined;
    const st = this.runState(dir);
    const c: RuntimeContainer = { id: meta.id, name: meta.name, attempt: meta.attempt, image: meta.image, imageRef: meta.imageRef, state: st.state, createdAt: meta.createdAt };
    if (st.started) c.startedAt = st.started.startedAt;
    if (st.exit) {
      c.exitCode = st.exit.exitCode;
      c.finishedAt = st.exit.finishedAt;
      c.startedAt ??= st.exit.finishedAt;
      c.reason = st.exit.oomKilled ? 'OOMKilled' : st.exit.exitCode === 0 ? 'Completed' : 'Error';
      if (st.exit.message) c.message = st.exit.message;
    }
    // The monitor may record a quick container's start after its exit: times stay in order.
    if (c.startedAt !== undefined) {
      c.startedAt = Math.max(c.startedAt, c.createdAt);
      if (c.finishedAt !== undefined) c.startedAt = Math.min(c.startedAt, c.finishedAt);
    }
    return c;
  }

  async podStatus(uid: string): Promise<RuntimePod | undefined> {
    const podDir = this.podDir(uid);
    const rec = readJson<PodRecord>(join(podDir, 'pod.json'));
    if (!rec) return undefined;
    const containers: RuntimeContainer[] = [];
    for (const d of await this.runDirs(podDir)) {
      const c = this.containerOf(d);
      if (c) containers.push(c);
    }
    containers.sort((a, b) => a.createdAt - b.createdAt);
    return { uid: rec.uid, namespace: rec.namespace, name: rec.name, sandbox: await this.sandboxOf(podDir), containers };
  }

  async listPods(): Promise<RuntimePod[]> {
    const out: RuntimePod[] = [];
    for (const name of await readdir(this.podsDir).catch(() => [] as string[])) {
      const rec = readJson<PodRecord>(join(this.podsDir, name, 'pod.json'));
      if (!rec) continue;
      const p = await this.podStatus(rec.uid);
      if (p) out.push(p);
    }
    return out;
  }

  /** Where config map and secret data come from (the volumeSource option, or what was set here). */
  get volumeSource(): VolumeSource | undefined {
    return this.volumeSourceOverride ?? this.base.volumeSource;
  }

  setVolumeSource(source: VolumeSource | undefined): void {
    this.volumeSourceOverride = source;
  }

  /** The pod and the config map / secret data a container's env names, for containerEnv and downward API files. */
  protected async envContext(podDir: string, podObj: Json, container: Json | undefined): Promise<EnvContext> {
    const ns = String(((podObj.metadata ?? {}) as Json).namespace ?? 'default');
    const status = (podObj.status ?? {}) as Json;
    const hostIP = typeof status.hostIP === 'string' ? status.hostIP : undefined;
    const rec = readJson<PodRecord>(join(podDir, 'pod.json'));
        const ctx: EnvContext = {
      pod: podObj,
      podIP: this.podIPOf(podDir, rec, hostIP),
      hostIP,
      configMaps: {},
      secrets: {},
      nodeAllocatable: { cpu: cpus().length * 1000, memory: totalmem() },
    };
    if (container) {
      const refs = envReferences(container);
      const src = this.volumeSource;
      if (src?.services) ctx.serviceEnv = await serviceEnvOf(src.services.bind(src), ns, podObj);
      if ((refs.configMaps.length > 0 || refs.secrets.length > 0) && !src) throw new SpecError('env refers to config maps or secrets, but this node has no source for them');
      for (const n of refs.configMaps) ctx.configMaps![n] = await src!.configMap(ns, n);
      for (const n of refs.secrets) ctx.secrets![n] = decodeSecret(await src!.secret(ns, n));
    }
    return ctx;
  }

  /**
   * Rewrites the pod's configMap / secret / downwardAPI / projected volumes from the current data
   * (atomically: containers see the old or the new files), e.g. after a ConfigMap or label change.
   * `pod` replaces the stored pod object when given.
   */
  async updatePodVolumes(uid: string, pod?: PodSandboxConfig['pod']): Promise<void> {
    return this.withPod(uid, async () => {
      const podDir = this.podDir(uid);
      if (!existsSync(join(podDir, 'pod.json'))) return;
      if (pod) writeFileAtomic(join(podDir, 'podobj.json'), JSON.stringify(pod));
      const podObj = readJson<Json>(join(podDir, 'podobj.json'));
      if (!podObj) return;
      await prepareVolumes(podDir, await this.envContext(podDir, podObj, undefined), this.volumeSource, true);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.locks.values()]);
  }
}
