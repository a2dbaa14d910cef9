// RuncRuntime: pods as runc containers. Each pod gets a sandbox container (busybox `sleep` loop
// as "pause") owning the pod's network, IPC and UTS namespaces; app containers join them.
// With the `network` option the sandbox's network namespace gets eth0 on the node's pod bridge
// with an address of the node's pod CIDR (../../network/), set up right after the sandbox starts
// and torn down (veth deleted, address freed) when the sandbox is stopped or the pod removed;
// without it pods have loopback only. Every container run is an OCI bundle under
//   <root>/pods/<uid>/<name>-<attempt>/   (sandbox: <root>/pods/<uid>/sandbox/)
// with an overlayfs rootfs over the image's unpacked layers. App containers are watched by the
// node's monitor shim (../container-monitor.ts --serve, a detached process; ../monitor-shim.ts)
// that writes the CRI log and records start and exit, so that state survives an agent restart;
// the sandbox runs detached with no monitor, its exit noticed from its pid (the run-dir
// bookkeeping shared with the process runtime is ../run-dir-runtime.ts). runc's own state lives
// in <root>/runc (`runc --root`).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { overlayLowerdir, unpackLayers, type ResolvedImage } from '../../images/index.js';
import type { ContainerConfig, ContainerUsage, ExecProcess, PodSandboxConfig, PodUsage, Runtime, RuntimeContainer, RuntimeSandbox, StreamOptions } from '../../runtime.js';
import { ContainerStartError } from '../../runtime.js';
import { connectInNetns, connectLoopback, PodNetwork } from '../../network/index.js';
import { containerArgs, containerEnv, expandVars, SpecError } from '../container-env.js';
import { buildSpec, containerCapabilities, containerResources, containerUser } from './spec.js';
import { volumeBinds } from '../volumes.js';
import { files, lastRuncError, monitorAlive, monitorIsShim, processStartTime, readJson, readRecord, writeFileAtomic, type MonitorConfig, type StartedRecord } from '../run-files.js';
import { checkLogOptions, defaultPauseImage, RunDirRuntime, safeName, sleep, type PodRecord, type RunDirRuntimeOptions, type RunMeta } from '../run-dir-runtime.js';
import { spawnPool } from '../../spawn-pool.js';
import { execCollecting } from '../exec-collecting.js';
import { attachToRun, makeStdinFifo, runAttachTarget } from '../attach.js';
import { runcExecStream } from './exec-stream.js';
import { cgroupV2, containerCgroup, ensurePodCgroup, podCgroupConfig, podCgroupParent, qosClassOf, removePodCgroup } from './cgroups.js';
import { cgroupUsage, directoryBytes, fileBytes, netDevOf } from './usage.js';
export { mountsUnder } from '../mounts.js';
import { mountsUnder } from '../mounts.js';

/** Commands start on the spawn pool's threads: the agent's main thread does not wait for their fork. */
const run = (file: string, args: string[]) => spawnPool.execFile(file, args);
type Json = Record<string, unknown>;

export { defaultPauseImage };

export interface RuncRuntimeOptions extends RunDirRuntimeOptions {
  /** State root: pods/, runc/ (runc --root). */
  root: string;
  /** Default /usr/sbin/runc, or `runc` on PATH. */
  runc?: string;
  /** One monitor process for all app containers (default), or false: one each. */
  monitorShim?: boolean;
  /** pids.max for every container (default: none). */
  pidsLimit?: number;
  /** How long a container may take to start (default 30 s). */
  startTimeoutMs?: number;
  /** File copied as the pods' /etc/resolv.conf (default /etc/resolv.conf). */
  resolvConf?: string;
  /** The pod network: a bridge (default nami0) with the gateway of podCidr, one veth and address per pod. Without it pods have loopback only. */
  network?: RuncNetworkOptions;
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

export { cgroupV2 };

function swapLimitable(): boolean {
  return cgroupV2() ? true : existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes');
}

export class RuncRuntime extends RunDirRuntime implements Runtime {
  readonly type = 'runc';
  version = 'unknown';
  private readonly runc: string;
  private readonly runcRoot: string;
  /** The pod network, when the network option is given. */
  network: PodNetwork | undefined;

  private constructor(private readonly opts: RuncRuntimeOptions) {
    super(opts);
    this.runc = opts.runc ?? (existsSync('/usr/sbin/runc') ? '/usr/sbin/runc' : 'runc');
    this.runcRoot = join(opts.root, 'runc');
    if (opts.monitorShim !== false) this.useMonitorShim();
  }

  static async open(opts: RuncRuntimeOptions): Promise<RuncRuntime> {
    checkLogOptions(opts);
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
    await rt.watchRunning();
    return rt;
  }




  // --- images ---


  // --- sandbox ---

  async runPodSandbox(config: PodSandboxConfig): Promise<RuntimeSandbox> {
    return this.withPod(config.uid, async () => {
      const dir = this.podDir(config.uid);
      const existing = await this.sandboxOf(dir);
      if (existing?.state === 'ready') return existing;
      const cgroupParent = podCgroupParent(qosClassOf(config.pod), config.uid);
      await ensurePodCgroup(cgroupParent, podCgroupConfig(config.pod)).catch((e: unknown) => {
        throw new ContainerStartError('FailedCreatePodSandBox', `pod cgroup ${cgroupParent}: ${(e as Error).message}`, { cause: e });
      });
      const rec = await this.recordPod(config, { cgroupParent });
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
        hostname: config.hostNetwork ? undefined : rec.hostname,
        hostNetwork: config.hostNetwork,
        resources: { devices: [{ allow: false, access: 'rwm' }] },
        cgroupsPath: this.cgroupsPath(id, config.uid),
        binds: [],
        annotations: { 'io.kubernetes.cri.container-type': 'sandbox', 'io.kubernetes.pod.uid': config.uid },
      });
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

  /** A container's cgroup: under its pod's QoS cgroup. */
  private cgroupsPath(id: string, uid: string): string {
    return containerCgroup(readJson<PodRecord>(join(this.podDir(uid), 'pod.json'))?.cgroupParent, id);
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

  protected async sandboxOf(dir: string): Promise<RuntimeSandbox | undefined> {
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
        const mc: MonitorConfig = { id: meta.id, logPath: meta.logPath, runc: { bin: this.runc, root: this.runcRoot }, ...this.logLimits() };
        if (meta.stdin) {
          await makeStdinFifo(dir);
          mc.stdin = true;
        }
        if (meta.tty) mc.tty = true;
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
    await this.startMonitor(uid, dir, failReason, this.opts.startTimeoutMs ?? 30_000, async () => {
      await this.runcQuiet(['kill', meta.id, 'KILL']);
    });
  }

  /** `runc run --detach` with no stdio (the sandbox): returns once the container runs; its pid is the started record. */
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
      const sc = (spec.securityContext ?? {}) as Json;
      const { podSpec, envCtx, volumes } = await this.containerContext(podDir, pod, spec);
      const targetPid = config.kind === 'ephemeral' && typeof spec.targetContainerName === 'string' && spec.targetContainerName ? await this.runningPid(podDir, spec.targetContainerName) : undefined;
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
          terminal: spec.tty === true,
          cwd: typeof spec.workingDir === 'string' && spec.workingDir ? spec.workingDir : img.config.WorkingDir || '/',
          user: containerUser(spec, podSpec, img.config, accounts),
          capabilities: containerCapabilities(spec, Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim()) || undefined),
          privileged: sc.privileged === true,
          noNewPrivileges: sc.allowPrivilegeEscalation === false,
          readonlyRootfs: sc.readOnlyRootFilesystem === true,
          sandboxPid: sbStarted.pid,
          targetPid,
          hostNetwork: pod.hostNetwork,
          resources: containerResources(spec, { limitSwap: swapLimitable(), pidsLimit: this.opts.pidsLimit }),
          cgroupsPath: this.cgroupsPath(id, uid),
          binds: [
            { source: join(etc, 'hostname'), destination: '/etc/hostname' },
            { source: join(etc, 'hosts'), destination: '/etc/hosts' },
            { source: join(etc, 'resolv.conf'), destination: '/etc/resolv.conf' },
          ].filter((b) => !volumeMounts.some((v) => v.destination === b.destination)).concat(volumeMounts),
          annotations: { 'io.kubernetes.cri.container-type': 'container', 'io.kubernetes.cri.container-name': config.name, 'io.kubernetes.pod.uid': uid },
        });
      };
      const logPath = this.containerLogPath(uid, config.name, config.attempt);
      const meta: RunMeta = { id, name: config.name, attempt: config.attempt, image: img.reference, imageRef: this.imageRefOf(img), createdAt: Date.now(), logPath };
      if (spec.stdin === true) meta.stdin = true;
      if (spec.stdin === true && spec.stdinOnce === true) meta.stdinOnce = true;
      if (spec.tty === true) meta.tty = true;
      await this.startRun(uid, dir, img, build, meta, 'RunContainerError');
      await this.pruneRuns(podDir, config.name);
      const c = this.containerOf(dir);
      if (!c) throw new ContainerStartError('RunContainerError', 'the container vanished after it started');
      return c;
    });
  }




  /** The process of a container's running run, whose namespaces an ephemeral container that targets it joins. */
  private async runningPid(podDir: string, name: string): Promise<number> {
    for (const dir of await this.runDirs(podDir)) {
      if (readRecord<RunMeta>(dir, files.meta)?.name !== name) continue;
      const st = this.runState(dir);
      if (st.state === 'running' && st.started) return st.started.pid;
    }
    throw new ContainerStartError('CreateContainerError', `the target container ${JSON.stringify(name)} is not running`);
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
    await this.stopGracefully(dir, graceSeconds, async (signal) => {
      await this.runcQuiet(signal === 'TERM' ? ['kill', meta.id, 'TERM'] : ['kill', '--all', meta.id, 'KILL']);
    });
    await this.runcQuiet(['delete', '--force', meta.id]);
    // A monitor unmounts its run's rootfs when the container ends; without one, this does.
    if (meta.unmonitored) await run('umount', [join(dir, files.rootfs)]).catch(() => undefined);
  }

  async stopContainer(uid: string, containerId: string, gracePeriodSeconds: number): Promise<void> {
    const dir = await this.runDirById(uid, containerId);
    if (!dir) return;
    await this.stopRun(dir, gracePeriodSeconds);
    this.emit(uid);
  }

  /** `runc exec` in the container's runc container (its process spec: env, user, cwd), output capped at 10 KiB. */
  async exec(uid: string, containerId: string, command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    const dir = await this.runDirById(uid, containerId);
    if (!dir || this.runState(dir).state !== 'running') throw new Error(`container ${containerId} is not running`);
    if (command.length === 0) throw new Error('no command');
    const child = spawn(this.runc, ['--root', this.runcRoot, 'exec', containerId, ...command], { stdio: ['ignore', 'pipe', 'pipe'] });
    return execCollecting(child, command, timeoutMs, () => {
      // runc passes SIGTERM on to the command; SIGKILL (runc itself) if that does not end it.
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 1000).unref();
    });
  }

  /** The run dir of a running container, or an error saying it does not run. */
  private async runningRun(uid: string, containerId: string): Promise<{ dir: string; meta: RunMeta }> {
    const dir = await this.runDirById(uid, containerId);
    const meta = dir ? readRecord<RunMeta>(dir, files.meta) : undefined;
    if (!dir || !meta || this.runState(dir).state !== 'running') throw new Error(`container ${containerId} is not running`);
    return { dir, meta };
  }

  /** `runc exec` with streamed stdio, under a terminal for tty (exec-stream.ts). */
  async execStream(uid: string, containerId: string, command: string[], opts: StreamOptions): Promise<ExecProcess> {
    await this.runningRun(uid, containerId);
    return runcExecStream({ runc: this.runc, runcRoot: this.runcRoot, id: containerId }, command, opts);
  }

  /** The container's output from now on, and its stdin FIFO when it has one (../attach.ts). */
  async attach(uid: string, containerId: string, opts: StreamOptions): Promise<ExecProcess> {
    const { dir, meta } = await this.runningRun(uid, containerId);
    return attachToRun(runAttachTarget(dir, meta, () => this.runState(dir).state === 'running'), opts);
  }

  /** A connection to the pod's 127.0.0.1:port, made from inside the sandbox's network namespace (the node's for host-network pods). */
  async portForward(uid: string, port: number): Promise<Duplex> {
    const rec = readJson<PodRecord>(join(this.podDir(uid), 'pod.json'));
    if (!rec) throw new Error(`pod ${uid} is not on this node`);
    if (rec.hostNetwork) return connectLoopback(port);
    const pid = readRecord<StartedRecord>(join(this.podDir(uid), 'sandbox'), files.started)?.pid;
    const netns = pid ? `/proc/${pid}/ns/net` : undefined;
    if (!netns || !existsSync(netns) || this.runState(join(this.podDir(uid), 'sandbox')).state !== 'running') throw new Error('the pod sandbox is not running');
    return connectInNetns(netns, '127.0.0.1', port);
  }

  async stopPodSandbox(uid: string, gracePeriodSeconds: number): Promise<void> {
    const podDir = this.podDir(uid);
    if (!existsSync(podDir)) return;
    await Promise.all((await this.runDirs(podDir)).map((d) => this.stopRun(d, gracePeriodSeconds)));
    await this.stopRun(join(podDir, 'sandbox'), Math.min(gracePeriodSeconds, 2));
    await this.teardownNetwork(uid);
  }

  /** Kills what is left, unmounts the rootfs, removes the run dir. */
  protected async destroyRun(dir: string): Promise<void> {
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
      const cgroupParent = readJson<PodRecord>(join(podDir, 'pod.json'))?.cgroupParent;
      if (cgroupParent) await removePodCgroup(cgroupParent);
      for (const m of mountsUnder(podDir)) await run('umount', ['-l', m]).catch(() => undefined);
      await rm(podDir, { recursive: true, force: true });
    });
  }

  // --- usage figures ---

  /** The figures of every pod whose sandbox runs: its cgroup, its running containers' cgroups, rootfs and log bytes, its network namespace, its emptyDirs. */
  async usage(): Promise<PodUsage[]> {
    const out: PodUsage[] = [];
    for (const name of await readdir(this.podsDir).catch(() => [] as string[])) {
      const podDir = join(this.podsDir, name);
      const rec = readJson<PodRecord>(join(podDir, 'pod.json'));
      const sbDir = join(podDir, 'sandbox');
      const sbStarted = readRecord<StartedRecord>(sbDir, files.started);
      if (!rec || !sbStarted || this.runState(sbDir).state !== 'running') continue;
      const containers: ContainerUsage[] = [];
      for (const dir of await this.runDirs(podDir)) {
        const meta = readRecord<RunMeta>(dir, files.meta);
        const st = this.runState(dir);
        if (!meta || st.state !== 'running') continue;
        containers.push({ ...(cgroupUsage(containerCgroup(rec.cgroupParent, meta.id)) ?? { time: Date.now() }), name: meta.name, id: meta.id, startedAt: st.started?.startedAt ?? meta.createdAt, rootfsUsedBytes: directoryBytes(join(dir, files.upper)), logsUsedBytes: fileBytes(meta.logPath) });
      }
      const emptyDirs = join(podDir, 'volumes', 'empty-dir');
      const volumes = (await readdir(emptyDirs).catch(() => [] as string[])).map((v) => ({ name: v, usedBytes: directoryBytes(join(emptyDirs, v)) }));
      const pod: PodUsage = { ...((rec.cgroupParent ? cgroupUsage(rec.cgroupParent) : undefined) ?? { time: Date.now() }), uid: rec.uid, namespace: rec.namespace, name: rec.name, createdAt: rec.createdAt, containers, volumes };
      if (!rec.hostNetwork) pod.network = netDevOf(sbStarted.pid);
      out.push(pod);
    }
    return out;
  }

  // --- volumes and env data ---




}
