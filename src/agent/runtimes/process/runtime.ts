// ProcessRuntime: pods as plain host processes, for machines without root. NOTHING IS ISOLATED:
// a container is its command run as the agent's user, in a process group of its own, on the
// node's network, seeing the node's file system. What it gives: the image's files (unpacked
// into a directory per container run, where the command and PATH are looked up first), the
// pod's env (as runc has it), CRI logs, exit codes, graceful stop and adoption after an agent
// restart, through the same run directories and monitor process as runc (../run-dir-runtime.ts,
// ../container-monitor.ts):
//   <root>/pods/<uid>/sandbox.json          the "sandbox": no process, only ready or not
//   <root>/pods/<uid>/<name>-<attempt>/     container.json, monitor.json, rootfs/, started.json, exit.json
// What it cannot do (mounts, other users, tmpfs) makes the container fail with
// CreateContainerError naming it (limits.ts).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { spawn } from 'node:child_process';
import { flattenLayers, unpackLayers } from '../../images/index.js';
import { connectLoopback } from '../../network/index.js';
import { ContainerStartError, ExecStartError, type ContainerConfig, type ExecProcess, type PodSandboxConfig, type Runtime, type RuntimeContainer, type RuntimeSandbox, type StreamOptions } from '../../runtime.js';
import { attachToRun, makeStdinFifo, runAttachTarget } from '../attach.js';
import { hostExecStream } from '../host-exec-stream.js';
import { containerArgs, containerEnv, expandVars, SpecError } from '../container-env.js';
import { execCollecting } from '../exec-collecting.js';
import { checkLogOptions, RunDirRuntime, sleep, safeName, type PodRecord, type RunDirRuntimeOptions, type RunMeta } from '../run-dir-runtime.js';
import { files, monitorAlive, readJson, readRecord, writeFileAtomic, type MonitorConfig, type ProcessLaunch, type StartedRecord } from '../run-files.js';
import { envObject, hostWorkingDir, resolveExecutable, rootfsPath } from './host-command.js';
import { unsupportedContainerFeatures, unsupportedVolumes, volumeEnvName } from './limits.js';

type Json = Record<string, unknown>;

export interface ProcessRuntimeOptions extends RunDirRuntimeOptions {
  /** The node's IP: every pod's IP, as pods share the node's network. */
  nodeIP?: string;
  /** How long a container may take to start (default 30 s). */
  startTimeoutMs?: number;
}

/** What the runtime records about a pod's sandbox (sandbox.json). */
interface SandboxRecord {
  id: string;
  createdAt: number;
  ready: boolean;
}

/** Removes a tree even where an image made directories read-only for their owner. */
async function removeTree(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } catch {
    const open = async (d: string): Promise<void> => {
      await chmod(d, 0o700).catch(() => undefined);
      for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) if (e.isDirectory()) await open(join(d, e.name));
    };
    await open(dir);
    await rm(dir, { recursive: true, force: true });
  }
}

/** SIGTERM/SIGKILL to a container's process group (its pid leads it). */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* the group is gone */
  }
}

export class ProcessRuntime extends RunDirRuntime implements Runtime {
  readonly type = 'process';
  readonly version = '0.1.0';
  private readonly uid = process.getuid?.() ?? 0;
  private readonly gid = process.getgid?.() ?? 0;

  private constructor(private readonly opts: ProcessRuntimeOptions) {
    super(opts);
  }

  static async open(opts: ProcessRuntimeOptions): Promise<ProcessRuntime> {
    checkLogOptions(opts);
    const rt = new ProcessRuntime(opts);
    await mkdir(rt.podsDir, { recursive: true, mode: 0o711 });
    await rt.watchRunning();
    return rt;
  }

  protected override podIPOf(_podDir: string, _rec: PodRecord | undefined, hostIP: string | undefined): string | undefined {
    return this.opts.nodeIP ?? hostIP;
  }

  // --- sandbox: nothing runs, the pod shares the node's network ---

  async runPodSandbox(config: PodSandboxConfig): Promise<RuntimeSandbox> {
    return this.withPod(config.uid, async () => {
      const dir = this.podDir(config.uid);
      const existing = await this.sandboxOf(dir);
      if (existing?.state === 'ready') return existing;
      await this.recordPod(config);
      const sb: SandboxRecord = { id: randomBytes(32).toString('hex'), createdAt: Date.now(), ready: true };
      writeFileAtomic(join(dir, 'sandbox.json'), JSON.stringify(sb));
      return (await this.sandboxOf(dir))!;
    });
  }

  protected async sandboxOf(podDir: string): Promise<RuntimeSandbox | undefined> {
    const sb = readJson<SandboxRecord>(join(podDir, 'sandbox.json'));
    if (!sb) return undefined;
    // The node's IP is never released: a stopped pod still shows it, as a host-network pod does.
    return { id: sb.id, state: sb.ready ? 'ready' : 'notready', ips: this.opts.nodeIP ? [this.opts.nodeIP] : [], createdAt: sb.createdAt };
  }

  async stopPodSandbox(uid: string, gracePeriodSeconds: number): Promise<void> {
    const podDir = this.podDir(uid);
    if (!existsSync(podDir)) return;
    await Promise.all((await this.runDirs(podDir)).map((d) => this.stopRun(d, gracePeriodSeconds)));
    const sb = readJson<SandboxRecord>(join(podDir, 'sandbox.json'));
    if (sb) writeFileAtomic(join(podDir, 'sandbox.json'), JSON.stringify({ ...sb, ready: false }));
  }

  // --- containers ---

  async startContainer(uid: string, config: ContainerConfig): Promise<RuntimeContainer> {
    return this.withPod(uid, async () => {
      const podDir = this.podDir(uid);
      const pod = readJson<PodRecord>(join(podDir, 'pod.json'));
      if (!pod || (await this.sandboxOf(podDir))?.state !== 'ready') throw new ContainerStartError('CreateContainerError', `the sandbox of pod ${uid} is not ready`);
      const spec = config.spec as Json;
      // Said before anything is set up: no volume is prepared for a container that cannot run.
      const podSpec = readJson<Json>(join(podDir, 'podspec.json')) ?? {};
      const annotations = ((readJson<Json>(join(podDir, 'podobj.json'))?.metadata as Json | undefined)?.annotations ?? {}) as Record<string, string>;
      const cannot = [...unsupportedVolumes(podSpec), ...unsupportedContainerFeatures(spec, podSpec, annotations, this.uid, this.gid)];
      if (cannot.length > 0) throw new ContainerStartError('CreateContainerError', `the process runtime (no isolation) cannot run this container as specified: ${cannot.join('; ')}`);
      const img = await this.ensureContainerImage(pod, config);
      const dir = join(podDir, `${safeName(config.name)}-${config.attempt}`);
      if (existsSync(dir)) await this.destroyRun(dir);
      const { envCtx, volumes } = await this.containerContext(podDir, pod, spec);
      const id = randomBytes(32).toString('hex');
      const logPath = this.containerLogPath(uid, config.name, config.attempt);
      const meta: RunMeta = { id, name: config.name, attempt: config.attempt, image: img.reference, imageRef: this.imageRefOf(img), createdAt: Date.now(), logPath };
      try {
        await mkdir(dir, { recursive: true, mode: 0o711 });
        const rootfs = join(dir, files.rootfs);
        await flattenLayers(await unpackLayers(this.opts.images, img, { whiteouts: 'oci' }), rootfs);
        const { env, vars } = containerEnv(spec, img.config, pod.hostname, envCtx);
        const args = containerArgs(spec, img.config).map((a) => expandVars(a, vars));
        if (args.length === 0) throw new SpecError('no command specified');
        const envs = envObject(env);
        envs.PATH = rootfsPath(envs.PATH ?? '', rootfs);
        for (const m of (Array.isArray(spec.volumeMounts) ? spec.volumeMounts : []) as Json[]) {
          const vol = volumes.get(String(m.name ?? ''));
          if (vol) envs[volumeEnvName(vol.name)] = vol.path;
        }
        const cwd = hostWorkingDir(rootfs, typeof spec.workingDir === 'string' && spec.workingDir ? spec.workingDir : img.config.WorkingDir || '/');
        await mkdir(cwd, { recursive: true });
        const file = resolveExecutable(args[0]!, rootfs, envs.PATH, cwd);
        if (!file) throw new ContainerStartError('RunContainerError', `exec: ${JSON.stringify(args[0])}: executable file not found in the image or on the node (PATH ${envs.PATH})`);
        const launch: ProcessLaunch = { file, argv: args, env: envs, cwd };
        await mkdir(join(logPath, '..'), { recursive: true });
        const mc: MonitorConfig = { id, logPath, process: launch, ...this.logLimits() };
        if (spec.stdin === true) {
          await makeStdinFifo(dir);
          mc.stdin = meta.stdin = true;
          if (spec.stdinOnce === true) meta.stdinOnce = true;
        }
        // The env may hold secret values: for the agent's user only.
        writeFileAtomic(join(dir, files.monitorConfig), JSON.stringify(mc), { mode: 0o600 });
        writeFileAtomic(join(dir, files.meta), JSON.stringify(meta));
      } catch (e) {
        await this.destroyRun(dir);
        if (e instanceof ContainerStartError) throw e;
        const reason = e instanceof SpecError ? 'CreateContainerConfigError' : 'CreateContainerError';
        throw new ContainerStartError(reason, (e as Error).message, { cause: e });
      }
      await this.startMonitor(uid, dir, 'RunContainerError', this.opts.startTimeoutMs ?? 30_000, async () => this.killRun(dir, 'SIGKILL'));
      await this.pruneRuns(podDir, config.name);
      const c = this.containerOf(dir);
      if (!c) throw new ContainerStartError('RunContainerError', 'the container vanished after it started');
      return c;
    });
  }

  /** Signals a run's process group while it runs (its monitor alive: the pid is still the container's). */
  private killRun(dir: string, signal: NodeJS.Signals): void {
    const started = readRecord<StartedRecord>(dir, files.started);
    if (started && monitorAlive(dir) && !existsSync(join(dir, files.exit))) signalGroup(started.pid, signal);
  }

  /** SIGTERM to the process group, the grace period, SIGKILL. */
  private async stopRun(dir: string, graceSeconds: number): Promise<void> {
    await this.stopGracefully(dir, graceSeconds, async (signal) => this.killRun(dir, signal === 'TERM' ? 'SIGTERM' : 'SIGKILL'));
  }

  async stopContainer(uid: string, containerId: string, gracePeriodSeconds: number): Promise<void> {
    const dir = await this.runDirById(uid, containerId);
    if (!dir) return;
    await this.stopRun(dir, gracePeriodSeconds);
    this.emit(uid);
  }

  /** Runs a command the way the container's own ran: its env, working dir and rootfs-first lookup. */
  /** Pods share the node's network: port-forward reaches the node's 127.0.0.1:port. */
  async portForward(uid: string, port: number): Promise<Duplex> {
    if (!readJson<PodRecord>(join(this.podDir(uid), 'pod.json'))) throw new Error(`pod ${uid} is not on this node`);
    return connectLoopback(port);
  }

  async exec(uid: string, containerId: string, command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    const dir = await this.runDirById(uid, containerId);
    if (!dir || this.runState(dir).state !== 'running') throw new Error(`container ${containerId} is not running`);
    if (command.length === 0) throw new Error('no command');
    const launch = readRecord<MonitorConfig>(dir, files.monitorConfig)?.process;
    if (!launch) throw new Error(`container ${containerId} has no process record`);
    const file = resolveExecutable(command[0]!, join(dir, files.rootfs), launch.env.PATH ?? '', launch.cwd);
    if (!file) throw new Error(`exec: ${JSON.stringify(command[0])}: executable file not found`);
    const child = spawn(file, command.slice(1), { argv0: command[0], cwd: launch.cwd, env: launch.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    return execCollecting(child, command, timeoutMs, () => {
      if (child.pid) signalGroup(child.pid, 'SIGKILL');
    });
  }

  /** The run dir, meta and launch record of a running container. */
  private async runningLaunch(uid: string, containerId: string): Promise<{ dir: string; meta: RunMeta; launch: ProcessLaunch }> {
    const dir = await this.runDirById(uid, containerId);
    const meta = dir ? readRecord<RunMeta>(dir, files.meta) : undefined;
    const launch = dir ? readRecord<MonitorConfig>(dir, files.monitorConfig)?.process : undefined;
    if (!dir || !meta || !launch || this.runState(dir).state !== 'running') throw new Error(`container ${containerId} is not running`);
    return { dir, meta, launch };
  }

  /** `kubectl exec`: the command as a host process with the container's env and working dir (../host-exec-stream.ts). */
  async execStream(uid: string, containerId: string, command: string[], opts: StreamOptions): Promise<ExecProcess> {
    const { dir, launch } = await this.runningLaunch(uid, containerId);
    if (command.length === 0) throw new ExecStartError('no command given');
    const file = resolveExecutable(command[0]!, join(dir, files.rootfs), launch.env.PATH ?? '', launch.cwd);
    if (!file) throw new ExecStartError(`exec: ${JSON.stringify(command[0])}: executable file not found in $PATH`);
    return hostExecStream({ file, argv: command, env: launch.env, cwd: launch.cwd }, opts);
  }

  /** `kubectl attach`: the container's output from now on, its stdin FIFO when it has one (../attach.ts). */
  async attach(uid: string, containerId: string, opts: StreamOptions): Promise<ExecProcess> {
    const { dir, meta } = await this.runningLaunch(uid, containerId);
    return attachToRun(runAttachTarget(dir, meta, () => this.runState(dir).state === 'running'), opts);
  }

  /** Kills what is left of the run (its process group, its monitor) and removes its dir. */
  protected async destroyRun(dir: string): Promise<void> {
    this.killRun(dir, 'SIGKILL');
    const deadline = Date.now() + 5000;
    while (monitorAlive(dir) && Date.now() < deadline) await sleep(20);
    await removeTree(dir);
    this.watched.delete(dir);
  }

  async removePod(uid: string): Promise<void> {
    return this.withPod(uid, async () => {
      const podDir = this.podDir(uid);
      if (!existsSync(podDir)) return;
      for (const d of await this.runDirs(podDir)) await this.destroyRun(d);
      await removeTree(podDir);
    });
  }
}
