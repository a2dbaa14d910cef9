// RuncRuntime: pods as runc containers. Each pod gets a sandbox container (busybox `sleep` loop
// as "pause") owning the pod's network, IPC and UTS namespaces; app containers join them.
// With the `network` option the sandbox's network namespace gets eth0 on the node's pod bridge
// with an address of the node's pod CIDR (../../network/), set up right after the sandbox starts
// and torn down (veth deleted, address freed) when the sandbox is stopped or the pod removed;
// without it pods have loopback only. Every container run is an OCI bundle under
//   <root>/pods/<uid>/<name>-<attempt>/   (sandbox: <root>/pods/<uid>/sandbox/)
// with an overlayfs rootfs over the image's unpacked layers. App containers are watched by the
// node's monitor shim (monitor.ts, a detached process; monitor-shim.ts) that writes the CRI log
// and records start and exit, so that state survives an agent restart; the sandbox runs
// detached with no monitor, its exit noticed from its pid. runc's own state lives in <root>/runc (`runc --root`).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBusyboxImage, ImageNotFoundError, overlayLowerdir, unpackLayers, type ImageStore, type ResolvedImage } from '../../images/index.js';
import type { ContainerConfig, PodSandboxConfig, Runtime, RuntimeContainer, RuntimePod, RuntimeSandbox } from '../../runtime.js';
import { ContainerStartError } from '../../runtime.js';
import { PodNetwork } from '../../network/index.js';
import { spawnPool } from '../../spawn-pool.js';
import { ensureImage, pullPolicyOf } from './image-pull.js';
import { buildSpec, containerArgs, containerCapabilities, containerEnv, containerResources, containerUser, envReferences, expandVars, SpecError, type EnvContext } from './spec.js';
import { decodeSecret, prepareVolumes, volumeBinds, type PreparedVolume, type VolumeSource } from './volumes.js';
import { MonitorShim, maxSocketPath } from './monitor-shim.js';
import { files, lastRuncError, monitorAlive, monitorIsShim, processStartTime, readJson, readRecord, statStartTime, writeFileAtomic, type ExitRecord, type MonitorConfig, type StartedRecord } from './state-files.js';

/** Commands start on the spawn pool's threads: the agent's main thread does not wait for their fork. */
const run = (file: string, args: string[]) => spawnPool.execFile(file, args);
type Json = Record<string, unknown>;

export const defaultPauseImage = 'nami.dev/busybox:latest';

export interface RuncRuntimeOptions {
  /** State root: pods/, runc/ (runc --root). */
  root: string;
  images: ImageStore;
  /** Default /usr/sbin/runc, or `runc` on PATH. */
  runc?: string;
  /** The sandbox image; the default one is built from /bin/busybox when missing. */
  pauseImage?: string;
  /** Container logs are rotated before they exceed this many bytes (default 10 MiB, the kubelet's containerLogMaxSize). */
  containerLogMaxSize?: number;
  /** Log files kept per container run, the current one included (default 5, the kubelet's containerLogMaxFiles; at least 2). */
  containerLogMaxFiles?: number;
  /** One monitor process for all containers (default), or false: one each. */
  monitorShim?: boolean;
  /** pids.max for every container (default: none). */
  pidsLimit?: number;
  /** How often running containers are checked for exits (default 1000 ms). */
  pollMs?: number;
  /** How long a container may take to start (default 30 s). */
  startTimeoutMs?: number;
  /** File copied as the pods' /etc/resolv.conf (default /etc/resolv.conf). */
  resolvConf?: string;
  /** Config map and secret data for configMap/secret/projected volumes and env valueFrom / envFrom (the agent reads them from the API). Without it pods that use them fail with CreateContainerConfigError. */
  volumeSource?: VolumeSource;
  /** The pod network: a bridge (default nami0) with the gateway of podCidr, one veth and address per pod. Without it pods have loopback only. */
  network?: RuncNetworkOptions;
  /**
   * The pod's imagePullSecrets (Secret objects, kubernetes.io/dockerconfigjson or dockercfg) by
   * name, asked for on every pull; without it images are pulled anonymously.
   */
  pullSecrets?: (pod: { uid: string; namespace: string; name: string }, names: string[]) => Promise<Record<string, unknown>[]>;
}

export interface RuncNetworkOptions {
  /** The node's pod range, "10.244.0.0/24". */
  podCidr: string;
  /** Default nami0. */
  bridge?: string;
  /** Masquerade pod traffic leaving clusterCidr (default off). */
  masquerade?: boolean;
  /** All nodes' pod ranges (default podCidr): not masqueraded. */
  clusterCidr?: string;
  /** net.ipv4.ip_forward=1 and FORWARD accept rules for the bridge (default off); needed for several nodes and the outside. */
  forwarding?: boolean;
  mtu?: number;
}

/** What the runtime records about a pod's network (network.json). */
interface NetworkRecord {
  ip: string;
  hostVeth: string;
}

/** What the runtime records about a pod (pod.json). */
interface PodRecord {
  uid: string;
  namespace: string;
  name: string;
  hostname: string;
  hostNetwork: boolean;
  createdAt: number;
}

/** What the runtime records about one container run (container.json). */
interface RunMeta {
  id: string;
  name: string;
  attempt: number;
  image: string;
  imageRef: string;
  createdAt: number;
  logPath: string;
  sandbox?: boolean;
  /** Started with `runc run --detach` and no monitor (the sandbox: it logs nothing, its exit code means nothing). */
  unmonitored?: boolean;
}

export function cgroupV2(): boolean {
  return existsSync('/sys/fs/cgroup/cgroup.controllers');
}

function swapLimitable(): boolean {
  return cgroupV2() ? true : existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes');
}

const signalNumbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/** Mount points at or under `dir` in the host's mount table, deepest first. */
export function mountsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const target = line.split(' ')[1]?.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (target && (target === dir || target.startsWith(`${dir}/`))) out.push(target);
  }
  return out.sort((a, b) => b.length - a.length);
}

export class RuncRuntime implements Runtime {
  readonly type = 'runc';
  version = 'unknown';
  private readonly runc: string;
  private readonly runcRoot: string;
  private readonly podsDir: string;
  private readonly monitorJs = fileURLToPath(new URL('./monitor.js', import.meta.url));
  /** The node's monitor shim (one process watching every container), unless its socket path is too long. */
  private readonly shim: MonitorShim | undefined;
  private readonly listeners: ((uid: string) => void)[] = [];
  /** Run dirs seen running, by pod, to notice exits. */
  private readonly watched = new Map<string, { uid: string; dir: string }>();
  private timer: NodeJS.Timeout | undefined;
  private pollTick = 0;
  private closed = false;
  private readonly locks = new Map<string, Promise<unknown>>();
  /** The default pause image's build, while one runs. */
  private pauseBuild: Promise<unknown> | undefined;
  /** The pod network, when the network option is given. */
  network: PodNetwork | undefined;

  private constructor(private readonly opts: RuncRuntimeOptions) {
    this.runc = opts.runc ?? (existsSync('/usr/sbin/runc') ? '/usr/sbin/runc' : 'runc');
    this.runcRoot = join(opts.root, 'runc');
    this.podsDir = join(opts.root, 'pods');
    const socket = join(opts.root, 'monitor.sock');
    this.shim = opts.monitorShim !== false && Buffer.byteLength(socket) <= maxSocketPath ? new MonitorShim(socket, this.monitorJs, join(opts.root, 'monitor.log')) : undefined;
  }

  static async open(opts: RuncRuntimeOptions): Promise<RuncRuntime> {
    if (opts.containerLogMaxSize !== undefined && !(Number.isSafeInteger(opts.containerLogMaxSize) && opts.containerLogMaxSize > 0)) throw new Error(`containerLogMaxSize must be a positive number of bytes, got ${opts.containerLogMaxSize}`);
    if (opts.containerLogMaxFiles !== undefined && !(Number.isInteger(opts.containerLogMaxFiles) && opts.containerLogMaxFiles >= 2)) throw new Error(`containerLogMaxFiles must be an integer of at least 2, got ${opts.containerLogMaxFiles}`);
    const rt = new RuncRuntime(opts);
    await mkdir(rt.runcRoot, { recursive: true, mode: 0o700 });
    await mkdir(rt.podsDir, { recursive: true, mode: 0o711 });
    try {
      const { stdout } = await run(rt.runc, ['--version']);
      rt.version = /runc version (\S+)/.exec(stdout)?.[1] ?? 'unknown';
    } catch (e) {
      throw new Error(`cannot run ${rt.runc}: ${(e as Error).message}`);
    }
    if (opts.network) {
      rt.network = await PodNetwork.open({ ...opts.network, stateDir: join(opts.root, 'network') });
      // Addresses of pods that are gone (removed while the agent was down) go back.
      await rt.network.releaseUnknown((uid) => existsSync(join(rt.podDir(uid), 'pod.json')));
    }
    // Watch what was running before an agent restart.
    for (const pod of await rt.listPods()) for (const c of pod.containers) if (c.state === 'running' || c.state === 'created') rt.watch(pod.uid, join(rt.podsDir, pod.uid, `${safeName(c.name)}-${c.attempt}`));
    return rt;
  }

  onPodEvent(listener: (uid: string) => void): void {
    this.listeners.push(listener);
  }

  private emit(uid: string): void {
    if (this.closed) return;
    for (const l of this.listeners) l(uid);
  }

  /** Serializes work on one pod. */
  private withPod<T>(uid: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(uid) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.locks.set(uid, settled);
    void settled.then(() => {
      if (this.locks.get(uid) === settled) this.locks.delete(uid);
    });
    return next;
  }

  private watch(uid: string, dir: string): void {
    this.watched.set(dir, { uid, dir });
    if (!this.timer && !this.closed) this.pollTick = 0;
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => this.pollExits(), this.opts.pollMs ?? 1000);
    this.timer.unref();
  }

  private pollExits(): void {
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
  logPath(uid: string, name: string, attempt: number): string {
    return join(this.podDir(uid), 'logs', safeName(name), `${attempt}.log`);
  }

  // --- images ---

  private async resolveImage(ref: string): Promise<ResolvedImage> {
    try {
      return await this.opts.images.resolve(ref);
    } catch (e) {
      if (e instanceof ImageNotFoundError && ref === (this.opts.pauseImage ?? defaultPauseImage) && ref === defaultPauseImage) {
        // Pods started together wait for one build instead of each building the image.
        this.pauseBuild ??= buildBusyboxImage(this.opts.images).finally(() => (this.pauseBuild = undefined));
        await this.pauseBuild;
        return this.opts.images.resolve(ref);
      }
      throw e;
    }
  }

  /** A container's image by its imagePullPolicy: from the store, or pulled (with the pod's imagePullSecrets). Throws ContainerStartError. */
  private async ensureContainerImage(pod: { uid: string; namespace: string; name: string }, config: ContainerConfig): Promise<ResolvedImage> {
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
    if (names.length > 0 && this.opts.pullSecrets) {
      try {
        secrets = await this.opts.pullSecrets({ uid: pod.uid, namespace: pod.namespace, name: pod.name }, names);
      } catch {
        secrets = []; // the kubelet pulls without the secrets it cannot get
      }
    }
    return (await ensureImage(this.opts.images, config.image, { policy, secrets })).image;
  }

  private imageRefOf(img: ResolvedImage): string {
    const ref = img.reference;
    const at = ref.indexOf('@');
    const repo = at >= 0 ? ref.slice(0, at) : ref.replace(/:[^:/]+$/, '');
    return `${repo}@${img.digest}`;
  }

  // --- sandbox ---

  async runPodSandbox(config: PodSandboxConfig): Promise<RuntimeSandbox> {
    return this.withPod(config.uid, async () => {
      const dir = this.podDir(config.uid);
      const existing = await this.sandboxOf(dir);
      if (existing?.state === 'ready') return existing;
      await mkdir(dir, { recursive: true, mode: 0o711 });
      const hostname = config.hostname.slice(0, 63).replace(/[-.]+$/, '') || 'localhost';
      const rec: PodRecord = { uid: config.uid, namespace: config.namespace, name: config.name, hostname, hostNetwork: config.hostNetwork, createdAt: Date.now() };
      // The pod record is what finds the pod again after a reboot.
      writeFileAtomic(join(dir, 'pod.json'), JSON.stringify(rec), true);
      writeFileAtomic(join(dir, 'podspec.json'), JSON.stringify(config.pod.spec ?? {}));
      writeFileAtomic(join(dir, 'podobj.json'), JSON.stringify(config.pod));
      let podIp: string | undefined;
      if (this.network && !config.hostNetwork) {
        try {
          podIp = this.network.allocate(config.uid);
        } catch (e) {
          throw new ContainerStartError('FailedCreatePodSandBox', `pod IP: ${(e as Error).message}`, { cause: e });
        }
      }
      await this.writeEtcFiles(dir, rec, podIp);
      const sbDir = join(dir, 'sandbox');
      if (existsSync(sbDir)) await this.destroyRun(sbDir);
      let img: ResolvedImage;
      try {
        img = await this.resolveImage(this.opts.pauseImage ?? defaultPauseImage);
      } catch (e) {
        throw new ContainerStartError('FailedCreatePodSandBox', `sandbox image: ${(e as Error).message}`, { cause: e });
      }
      const id = randomBytes(32).toString('hex');
      const spec = buildSpec({
        args: ['/bin/sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 2147483647 & wait $!; done'],
        env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
        cwd: '/',
        user: { uid: 0, gid: 0 },
        capabilities: [],
        privileged: false,
        noNewPrivileges: true,
        readonlyRootfs: true,
        hostname: config.hostNetwork ? undefined : hostname,
        hostNetwork: config.hostNetwork,
        resources: { devices: [{ allow: false, access: 'rwm' }] },
        cgroupsPath: this.cgroupsPath(id),
        binds: [],
        annotations: { 'io.kubernetes.cri.container-type': 'sandbox', 'io.kubernetes.pod.uid': config.uid },
      });
      // The sandbox only holds the pod's namespaces: no monitor process for it (one Node.js process
      // less a pod); its exit is noticed from its pid.
      const meta: RunMeta = { id, name: 'POD', attempt: 0, image: img.reference, imageRef: this.imageRefOf(img), createdAt: Date.now(), logPath: join(sbDir, 'pause.log'), sandbox: true, unmonitored: true };
      try {
        await this.startRun(config.uid, sbDir, img, spec, meta, 'FailedCreatePodSandBox');
      } catch (e) {
        await this.teardownNetwork(config.uid);
        throw e;
      }
      if (this.network && !config.hostNetwork) await this.setupNetwork(config.uid, dir, sbDir);
      const sb = await this.sandboxOf(dir);
      if (!sb) throw new ContainerStartError('FailedCreatePodSandBox', 'the sandbox vanished after it started');
      return sb;
    });
  }

  /** Connects the running sandbox's network namespace to the bridge; on failure the sandbox goes and the address is freed. */
  private async setupNetwork(uid: string, dir: string, sbDir: string): Promise<void> {
    const net = this.network!;
    const started = readRecord<StartedRecord>(sbDir, files.started);
    try {
      if (!started || this.runState(sbDir).state !== 'running') throw new Error('the sandbox is not running');
      const a = await net.attach(uid, started.pid);
      const rec: NetworkRecord = { ip: a.ip, hostVeth: a.hostVeth };
      writeFileAtomic(join(dir, 'network.json'), JSON.stringify(rec));
    } catch (e) {
      await this.destroyRun(sbDir);
      await this.teardownNetwork(uid);
      throw new ContainerStartError('FailedCreatePodSandBox', `pod network: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Deletes the pod's veth and frees its address. */
  private async teardownNetwork(uid: string): Promise<void> {
    if (!this.network) return;
    await this.network.detach(uid);
    await rm(join(this.podDir(uid), 'network.json'), { force: true });
  }

  private cgroupsPath(id: string): string {
    return `nami/${id}`;
  }

  private async writeEtcFiles(dir: string, rec: PodRecord, podIp?: string): Promise<void> {
    const etc = join(dir, 'etc');
    await mkdir(etc, { recursive: true });
    const hostHostname = rec.hostNetwork ? readFileSync('/proc/sys/kernel/hostname', 'utf8').trim() : rec.hostname;
    await writeFile(join(etc, 'hostname'), `${hostHostname}\n`);
    let hosts = '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n';
    if (rec.hostNetwork) hosts = await readFile('/etc/hosts', 'utf8').catch(() => hosts);
    else if (podIp) hosts += `${podIp}\t${rec.hostname}\n`;
    await writeFile(join(etc, 'hosts'), hosts);
    const resolv = await readFile(this.opts.resolvConf ?? '/etc/resolv.conf', 'utf8').catch(() => '');
    await writeFile(join(etc, 'resolv.conf'), resolv);
  }

  private async sandboxOf(dir: string): Promise<RuntimeSandbox | undefined> {
    const sbDir = join(dir, 'sandbox');
    const meta = readRecord<RunMeta>(sbDir, files.meta);
    if (!meta) return undefined;
    const st = this.runState(sbDir);
    const ready = st.state === 'running';
    const net = ready ? readJson<NetworkRecord>(join(dir, 'network.json')) : undefined;
    return { id: meta.id, state: ready ? 'ready' : 'notready', ips: net?.ip ? [net.ip] : [], createdAt: meta.createdAt };
  }

  // --- container runs ---

  /** Mounts the rootfs, writes config.json and starts the monitor; waits until runc has started the container. */
  private async startRun(uid: string, dir: string, img: ResolvedImage, spec: Json | ((rootfs: string) => Promise<Json>), meta: RunMeta, failReason: string): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o711 });
    const rootfs = join(dir, files.rootfs);
    try {
      const layers = await unpackLayers(this.opts.images, img, { whiteouts: 'overlay' });
      await mkdir(join(dir, files.upper), { recursive: true });
      await mkdir(join(dir, files.work), { recursive: true });
      await mkdir(rootfs, { recursive: true });
      await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${overlayLowerdir(layers)},upperdir=${join(dir, files.upper)},workdir=${join(dir, files.work)}`, rootfs]);
      const full = typeof spec === 'function' ? await spec(rootfs) : spec;
      writeFileAtomic(join(dir, files.config), JSON.stringify(full, null, 2));
      await mkdir(join(meta.logPath, '..'), { recursive: true });
      if (!meta.unmonitored) {
        const mc: MonitorConfig = { runc: this.runc, runcRoot: this.runcRoot, id: meta.id, logPath: meta.logPath, logMaxBytes: this.opts.containerLogMaxSize, logMaxFiles: this.opts.containerLogMaxFiles };
        writeFileAtomic(join(dir, files.monitorConfig), JSON.stringify(mc));
        writeFileAtomic(join(dir, files.meta), JSON.stringify(meta));
      }
    } catch (e) {
      await this.destroyRun(dir);
      const reason = e instanceof SpecError ? 'CreateContainerConfigError' : failReason;
      throw new ContainerStartError(reason, (e as Error).message, { cause: e });
    }
    if (meta.unmonitored) {
      await this.startUnmonitored(dir, meta, failReason);
      this.watch(uid, dir);
      return;
    }
    // The monitor says on its stdout when the container started (or failed to), so the start is
    // noticed at once; the files stay the record.
    let monitorNotice: Promise<{ exited: boolean }>;
    try {
      // The node's shim when the socket path fits, else a monitor process of the run's own.
      monitorNotice = (this.shim ? await this.shim.run(dir) : await spawnPool.spawnDetached(process.execPath, [this.monitorJs, dir], { cwd: dir, stderrFile: join(dir, files.monitorLog) })).notice;
    } catch (e) {
      await this.destroyRun(dir);
      throw new ContainerStartError(failReason, `the container monitor did not start: ${(e as Error).message}`, { cause: e });
    }
    let noticed: { exited: boolean } | undefined;
    const notice = monitorNotice.then((n) => (noticed = n));
    const deadline = Date.now() + (this.opts.startTimeoutMs ?? 30_000);
    for (;;) {
      const exit = readRecord<ExitRecord>(dir, files.exit);
      if (exit?.startError !== undefined) {
        await this.destroyRun(dir);
        throw new ContainerStartError(failReason, exit.startError);
      }
      if (exit || existsSync(join(dir, files.started))) break;
      if (Date.now() > deadline) {
        await this.runcQuiet(['kill', meta.id, 'KILL']);
        throw new ContainerStartError(failReason, `the container did not start within ${(this.opts.startTimeoutMs ?? 30_000) / 1000}s`);
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

  /** `runc run --detach` with no stdio: returns once the container runs; its pid is the started record. */
  private async startUnmonitored(dir: string, meta: RunMeta, failReason: string): Promise<void> {
    const pidFile = join(dir, files.containerPid);
    const runc = [this.runc, '--root', this.runcRoot, '--log', join(dir, files.runcLog), '--log-format', 'json', 'run', '--detach', '--bundle', dir, '--pid-file', pidFile, meta.id];
    try {
      // The container keeps runc's stdio: /dev/null, so nothing waits on it.
      await spawnPool.execFile('sh', ['-c', 'cd "$1" && shift && exec "$@" </dev/null >/dev/null 2>&1', 'nami-runc', dir, ...runc]);
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      if (!pid) throw new Error('runc wrote no pid');
      const rec: StartedRecord = { startedAt: Date.now(), pid, pidStartTime: processStartTime(pid) };
      writeFileAtomic(join(dir, files.started), JSON.stringify(rec));
      // Written last: until then the run is not there for runState (no process to judge it by yet).
      writeFileAtomic(join(dir, files.meta), JSON.stringify(meta));
    } catch (e) {
      const message = lastRuncError(dir) ?? (e as Error).message;
      await this.runcQuiet(['delete', '--force', meta.id]);
      await this.destroyRun(dir);
      throw new ContainerStartError(failReason, message, { cause: e });
    }
  }

  async startContainer(uid: string, config: ContainerConfig): Promise<RuntimeContainer> {
    return this.withPod(uid, async () => {
      const podDir = this.podDir(uid);
      const pod = readJson<PodRecord>(join(podDir, 'pod.json'));
      const sbDir = join(podDir, 'sandbox');
      const sbState = this.runState(sbDir);
      const sbStarted = readRecord<StartedRecord>(sbDir, files.started);
      if (!pod || sbState.state !== 'running' || !sbStarted) throw new ContainerStartError('CreateContainerError', `the sandbox of pod ${uid} is not ready`);
      const img = await this.ensureContainerImage(pod, config);
      const dir = join(podDir, `${safeName(config.name)}-${config.attempt}`);
      if (existsSync(dir)) await this.destroyRun(dir);
      const id = randomBytes(32).toString('hex');
      const spec = config.spec as Json;
      const podSpec = readJson<Json>(join(podDir, 'podspec.json')) ?? {};
      const sc = (spec.securityContext ?? {}) as Json;
      const podObj = readJson<Json>(join(podDir, 'podobj.json')) ?? { metadata: { name: pod.name, namespace: pod.namespace, uid }, spec: podSpec };
      let envCtx: EnvContext;
      let volumes: Map<string, PreparedVolume>;
      try {
        envCtx = await this.envContext(podDir, podObj, spec);
        volumes = await prepareVolumes(podDir, envCtx, this.volumeSource);
      } catch (e) {
        throw new ContainerStartError('CreateContainerConfigError', (e as Error).message, { cause: e });
      }
      const build = async (rootfs: string): Promise<Json> => {
        const accounts = {
          passwd: await readFile(join(rootfs, 'etc/passwd'), 'utf8').catch(() => undefined),
          group: await readFile(join(rootfs, 'etc/group'), 'utf8').catch(() => undefined),
        };
        const { env, vars } = containerEnv(spec, img.config, pod.hostname, envCtx);
        const volumeMounts = await volumeBinds(spec, volumes, vars);
        const args = containerArgs(spec, img.config).map((a) => expandVars(a, vars));
        if (args.length === 0) throw new SpecError('no command specified');
        const etc = join(podDir, 'etc');
        return buildSpec({
          args,
          env,
          cwd: typeof spec.workingDir === 'string' && spec.workingDir ? spec.workingDir : img.config.WorkingDir || '/',
          user: containerUser(spec, podSpec, img.config, accounts),
          capabilities: containerCapabilities(spec, Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim()) || undefined),
          privileged: sc.privileged === true,
          noNewPrivileges: sc.allowPrivilegeEscalation === false,
          readonlyRootfs: sc.readOnlyRootFilesystem === true,
          sandboxPid: sbStarted.pid,
          hostNetwork: pod.hostNetwork,
          resources: containerResources(spec, { limitSwap: swapLimitable(), pidsLimit: this.opts.pidsLimit }),
          cgroupsPath: this.cgroupsPath(id),
          binds: [
            { source: join(etc, 'hostname'), destination: '/etc/hostname' },
            { source: join(etc, 'hosts'), destination: '/etc/hosts' },
            { source: join(etc, 'resolv.conf'), destination: '/etc/resolv.conf' },
          ].filter((b) => !volumeMounts.some((v) => v.destination === b.destination)).concat(volumeMounts),
          annotations: { 'io.kubernetes.cri.container-type': 'container', 'io.kubernetes.cri.container-name': config.name, 'io.kubernetes.pod.uid': uid },
        });
      };
      const logPath = this.logPath(uid, config.name, config.attempt);
      const meta: RunMeta = { id, name: config.name, attempt: config.attempt, image: img.reference, imageRef: this.imageRefOf(img), createdAt: Date.now(), logPath };
      await this.startRun(uid, dir, img, build, meta, 'RunContainerError');
      await this.pruneRuns(podDir, config.name);
      const c = this.containerOf(dir);
      if (!c) throw new ContainerStartError('RunContainerError', 'the container vanished after it started');
      return c;
    });
  }

  /** Keeps the latest two runs of a container, as the kubelet's container GC does by default. */
  private async pruneRuns(podDir: string, name: string): Promise<void> {
    const runs = (await this.runDirs(podDir)).map((d) => ({ d, m: readRecord<RunMeta>(d, files.meta) })).filter((r) => r.m?.name === name);
    runs.sort((a, b) => a.m!.attempt - b.m!.attempt);
    for (const r of runs.slice(0, -2)) if (this.runState(r.d).state === 'exited') await this.destroyRun(r.d);
  }

  private async runDirs(podDir: string): Promise<string[]> {
    const names = await readdir(podDir).catch(() => [] as string[]);
    return names.filter((n) => n !== 'sandbox' && n !== 'etc' && n !== 'logs' && !n.endsWith('.json')).map((n) => join(podDir, n)).filter((d) => existsSync(join(d, files.meta)));
  }

  /** The state of a run from its files; a run whose monitor died without an exit record gets one. */
  private runState(dir: string): { state: 'created' | 'running' | 'exited' | 'unknown'; started?: StartedRecord; exit?: ExitRecord } {
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
  private processAlive(started: StartedRecord): boolean {
    try {
      const stat = readFileSync(`/proc/${started.pid}/stat`, 'utf8');
      if (/\) [ZX] /.test(stat)) return false;
      return started.pidStartTime === undefined || statStartTime(stat) === started.pidStartTime;
    } catch {
      return false;
    }
  }

  /** Whether the run is still watched over: its monitor lives, or (unmonitored) its process. */
  private runAlive(dir: string, started?: StartedRecord): boolean {
    if (monitorAlive(dir)) return true;
    if (existsSync(join(dir, files.monitorConfig))) return false;
    const rec = started ?? readRecord<StartedRecord>(dir, files.started);
    return rec !== undefined && this.processAlive(rec);
  }

  private containerOf(dir: string): RuntimeContainer | undefined {
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

  private async runcQuiet(args: string[]): Promise<{ ok: boolean; stderr: string }> {
    try {
      await run(this.runc, ['--root', this.runcRoot, ...args]);
      return { ok: true, stderr: '' };
    } catch (e) {
      return { ok: false, stderr: String((e as { stderr?: string }).stderr ?? (e as Error).message) };
    }
  }

  /** SIGTERM (or the image's stop signal), the grace period, SIGKILL; then runc delete. */
  private async stopRun(dir: string, graceSeconds: number): Promise<void> {
    const meta = readRecord<RunMeta>(dir, files.meta);
    if (!meta) return;
    const done = () => this.runState(dir).state === 'exited' || this.runState(dir).state === 'unknown';
    if (!done()) {
      if (graceSeconds > 0) {
        await this.runcQuiet(['kill', meta.id, 'TERM']);
        const deadline = Date.now() + graceSeconds * 1000;
        while (!done() && Date.now() < deadline) await sleep(50);
      }
      if (!done()) {
        await this.runcQuiet(['kill', '--all', meta.id, 'KILL']);
        const deadline = Date.now() + 10_000;
        while (!done() && Date.now() < deadline) await sleep(50);
      }
    }
    await this.runcQuiet(['delete', '--force', meta.id]);
    // A monitor unmounts its run's rootfs when the container ends; without one, this does.
    if (meta.unmonitored) await run('umount', [join(dir, files.rootfs)]).catch(() => undefined);
  }

  async stopContainer(uid: string, containerId: string, gracePeriodSeconds: number): Promise<void> {
    const podDir = this.podDir(uid);
    const dir = (await this.runDirs(podDir)).find((d) => readRecord<RunMeta>(d, files.meta)?.id === containerId);
    if (!dir) return;
    await this.stopRun(dir, gracePeriodSeconds);
    this.emit(uid);
  }

  /** `runc exec` in the container's runc container (its process spec: env, user, cwd), output capped at 10 KiB. */
  async exec(uid: string, containerId: string, command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    const dir = (await this.runDirs(this.podDir(uid))).find((d) => readRecord<RunMeta>(d, files.meta)?.id === containerId);
    if (!dir || this.runState(dir).state !== 'running') throw new Error(`container ${containerId} is not running`);
    if (command.length === 0) throw new Error('no command');
    return new Promise((done, fail) => {
      const child = spawn(this.runc, ['--root', this.runcRoot, 'exec', containerId, ...command], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const add = (c: Buffer) => {
        if (output.length < 10 * 1024) output += c.toString();
      };
      child.stdout.on('data', add);
      child.stderr.on('data', add);
      const timer = setTimeout(() => {
        // runc passes SIGTERM on to the command; SIGKILL (runc itself) if that does not end it.
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 1000).unref();
        fail(new Error(`command ${JSON.stringify(command.join(' '))} timed out`));
      }, timeoutMs);
      child.on('error', (e) => {
        clearTimeout(timer);
        fail(e);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        done({ exitCode: code ?? (signal ? 128 + (signalNumbers[signal] ?? 9) : 1), output: output.slice(0, 10 * 1024) });
      });
    });
  }

  async stopPodSandbox(uid: string, gracePeriodSeconds: number): Promise<void> {
    const podDir = this.podDir(uid);
    if (!existsSync(podDir)) return;
    await Promise.all((await this.runDirs(podDir)).map((d) => this.stopRun(d, gracePeriodSeconds)));
    await this.stopRun(join(podDir, 'sandbox'), Math.min(gracePeriodSeconds, 2));
    await this.teardownNetwork(uid);
  }

  /** Kills what is left, unmounts the rootfs, removes the run dir. */
  private async destroyRun(dir: string): Promise<void> {
    const meta = readRecord<RunMeta>(dir, files.meta) ?? readRecord<{ id: string }>(dir, files.monitorConfig);
    if (meta) {
      await this.runcQuiet(['kill', '--all', meta.id, 'KILL']);
      const deadline = Date.now() + 5000;
      // The shim lives on after the run: its exit record says the run is over.
      while (monitorAlive(dir) && !existsSync(join(dir, files.exit)) && Date.now() < deadline) await sleep(20);
      await this.runcQuiet(['delete', '--force', meta.id]);
    }
    if (monitorAlive(dir) && !existsSync(join(dir, files.exit)) && !monitorIsShim(dir)) {
      try {
        process.kill(Number(readFileSync(join(dir, files.monitorPid), 'utf8').trim()), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const m of mountsUnder(dir)) await run('umount', [m]).catch(() => run('umount', ['-l', m]).catch(() => undefined));
    await rm(dir, { recursive: true, force: true });
    this.watched.delete(dir);
  }

  async removePod(uid: string): Promise<void> {
    return this.withPod(uid, async () => {
      const podDir = this.podDir(uid);
      if (!existsSync(podDir)) return this.teardownNetwork(uid);
      for (const d of await this.runDirs(podDir)) await this.destroyRun(d);
      await this.destroyRun(join(podDir, 'sandbox'));
      await this.teardownNetwork(uid);
      for (const m of mountsUnder(podDir)) await run('umount', ['-l', m]).catch(() => undefined);
      await rm(podDir, { recursive: true, force: true });
    });
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

  // --- volumes and env data ---

  private volumeSourceOverride: VolumeSource | undefined;

  /** Where config map and secret data come from (the volumeSource option, or what was set here). */
  get volumeSource(): VolumeSource | undefined {
    return this.volumeSourceOverride ?? this.opts.volumeSource;
  }

  setVolumeSource(source: VolumeSource | undefined): void {
    this.volumeSourceOverride = source;
  }

  /** The pod and the config map / secret data a container's env names, for containerEnv and downward API files. */
  private async envContext(podDir: string, podObj: Json, container: Json | undefined): Promise<EnvContext> {
    const ns = String(((podObj.metadata ?? {}) as Json).namespace ?? 'default');
    const status = (podObj.status ?? {}) as Json;
    const hostIP = typeof status.hostIP === 'string' ? status.hostIP : undefined;
    const rec = readJson<PodRecord>(join(podDir, 'pod.json'));
    const net = readJson<NetworkRecord>(join(podDir, 'network.json'));
    const ctx: EnvContext = {
      pod: podObj,
      podIP: net?.ip ?? (rec?.hostNetwork ? hostIP : undefined),
      hostIP,
      configMaps: {},
      secrets: {},
      nodeAllocatable: { cpu: cpus().length * 1000, memory: totalmem() },
    };
    if (container) {
      const refs = envReferences(container);
      const src = this.volumeSource;
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
