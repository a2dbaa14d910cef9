// End-to-end harness: runs `bin/nami server` as a user would and drives it
// with real kubectl binaries.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';

/** A python3 that imports the kubernetes package: Debian's first (a python3 earlier on PATH may not have it). */
export function findPythonClient(): string | undefined {
  return ['/usr/bin/python3', 'python3'].find((python) => spawnSync(python, ['-c', 'import kubernetes'], { stdio: 'ignore' }).status === 0);
}

export const pythonClientMissing = 'python3 with the kubernetes package not found (apt-get install python3-kubernetes)';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const namiBin = join(repoRoot, 'bin', 'nami');

export interface RunningNami {
  url: string;
  kubeconfig: string;
  dataDir: string;
  process: ChildProcess;
  /** What the server wrote to stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
}

export async function startNami(extraArgs: string[] = [], opts: { dataDir?: string; command?: 'server' | 'up' } = {}): Promise<RunningNami> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'nami-e2e-'));
  const child = spawn(process.execPath, [namiBin, opts.command ?? 'server', '--data-dir', dataDir, '--listen', '127.0.0.1:0', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`nami server did not become ready in 30 s\nstdout: ${out}\nstderr: ${err}`)), 30_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /ready at (https:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]!);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`nami server exited with ${code}\nstdout: ${out}\nstderr: ${err}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    url,
    kubeconfig: join(dataDir, 'admin.kubeconfig'),
    dataDir,
    process: child,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Kubectl {
  version: string;
  path: string;
}

function whichKubectl(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return p ? realpathSync(p) : undefined;
}

/**
 * The kubectl versions the suite drives: 1.27 and 1.33 sit beside the
 * machine's kubectl as kubectl.1.XX; 1.20 is Debian's kubernetes-client,
 * unpacked into .cache/kubectl-1.20 by scripts/fetch-kubectl-1.20.sh.
 */
export function findKubectl(version: string): Kubectl | undefined {
  if (version === '1.20') {
    const p = join(repoRoot, '.cache', 'kubectl-1.20', 'usr', 'bin', 'kubectl');
    return existsSync(p) ? { version, path: p } : undefined;
  }
  const base = whichKubectl();
  if (!base) return undefined;
  const p = join(dirname(base), `kubectl.${version}`);
  return existsSync(p) ? { version, path: p } : undefined;
}

/** A kubectl that is required: missing means skip locally (with why), fail under CI. */
export function kubectlOrSkip(version: string): { kubectl?: Kubectl; skip: string | false } {
  const k = findKubectl(version);
  if (k) return { kubectl: k, skip: false };
  const why = version === '1.20' ? 'kubectl 1.20 not found: run scripts/fetch-kubectl-1.20.sh (Debian package kubernetes-client)' : `kubectl ${version} not found beside the kubectl on PATH (kubectl.${version})`;
  if (process.env.CI === 'true') throw new Error(why);
  return { skip: why };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class KubectlRunner {
  private readonly home: string;
  constructor(
    readonly kubectl: Kubectl,
    /** The kubeconfig, or where to find it once the cluster is up (suites make runners before they start it). */
    private readonly kubeconfigOf: string | (() => string),
  ) {
    // A private HOME keeps kubectl's discovery cache per test run.
    this.home = mkdtempSync(join(tmpdir(), 'nami-kubectl-home-'));
  }

  get kubeconfig(): string {
    return typeof this.kubeconfigOf === 'string' ? this.kubeconfigOf : this.kubeconfigOf();
  }

  run(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
    return new Promise((resolveRun) => {
      const child = spawn(this.kubectl.path, ['--kubeconfig', this.kubeconfig, ...args], {
        env: { PATH: process.env.PATH ?? '', HOME: this.home, ...opts.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', (code) => resolveRun({ code: code ?? -1, stdout, stderr }));
      child.stdin.end(opts.input ?? '');
    });
  }

  /** Runs and fails with kubectl's own output unless it exits 0. */
  async ok(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<string> {
    const r = await this.run(args, opts);
    if (r.code !== 0) throw new Error(`kubectl ${this.kubectl.version} ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout;
  }

  /** Starts a long-running kubectl (get -w) and collects its output. */
  spawn(args: string[]): { child: ChildProcess; output: () => string } {
    const child = spawn(this.kubectl.path, ['--kubeconfig', this.kubeconfig, ...args], { env: { PATH: process.env.PATH ?? '', HOME: this.home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    return { child, output: () => out };
  }

  writeFile(name: string, content: string): string {
    const p = join(this.home, name);
    writeFileSync(p, content);
    return p;
  }

  cleanup(): void {
    rmSync(this.home, { recursive: true, force: true });
  }
}

/** A runner for one kubectl inside a suite (made now, cleaned up after the suite); the kubeconfig is read when it runs. */
export function kubectlFor(client: Kubectl, kubeconfig: () => string): KubectlRunner {
  const kc = new KubectlRunner(client, kubeconfig);
  after(() => kc.cleanup());
  return kc;
}

/** Polls until check returns a value (not undefined), or fails after timeoutMs with the last state. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface RunningHollow {
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Runs a long-lived `nami` command (hollow, agent) until stop(); resolves once
 * its output matches `ready`. stop() sends `signal` (SIGKILL: the process just
 * vanishes, as a crashed node does).
 */
async function startNamiProcess(args: string[], ready: RegExp, signal: NodeJS.Signals): Promise<RunningHollow> {
  const what = `nami ${args[0]}`;
  const child = spawn(process.execPath, [namiBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} was not ready in 60 s\n${out}`)), 60_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolveReady();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}\n${out}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
  };
}

/** Runs `nami hollow` against a cluster until stop(); resolves once its nodes are registered. */
export function startHollow(kubeconfig: string, args: string[]): Promise<RunningHollow> {
  return startNamiProcess(['hollow', '--kubeconfig', kubeconfig, ...args], /registered \d+ hollow nodes/, 'SIGKILL');
}

/** Runs `nami controllers` against a cluster until stop(); resolves once it campaigns for its Lease. */
export function startControllers(kubeconfig: string, args: string[]): Promise<RunningHollow> {
  return startNamiProcess(['controllers', '--kubeconfig', kubeconfig, ...args], /campaigning for the kube-controller-manager Lease/, 'SIGTERM');
}

/** Why tests that run real containers cannot run here (not root, no runc, no busybox-static), or undefined. */
export function containerSkipReason(): string | undefined {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root');
  if (spawnSync('sh', ['-c', 'command -v runc']).status !== 0) missing.push('runc (Debian package runc)');
  if (!existsSync('/bin/busybox')) missing.push('/bin/busybox (Debian package busybox-static)');
  if (missing.length === 0) return undefined;
  const why = `needs ${missing.join(', ')}`;
  if (process.env.CI === 'true') throw new Error(why);
  return why;
}

/** Runs `nami` with arguments to completion, failing with its output unless it exits 0. */
export function namiOk(args: string[]): string {
  const r = spawnSync(process.execPath, [namiBin, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nami ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Runs `nami agent` until stop(); resolves once its node is registered. */
export function startAgent(kubeconfig: string, args: string[]): Promise<RunningHollow> {
  return startNamiProcess(['agent', '--kubeconfig', kubeconfig, ...args], /registered/, 'SIGTERM');
}

/** Removes a network link (a test's pod bridge) if it exists. */
export function deleteLink(name: string): void {
  spawnSync('ip', ['link', 'del', name], { stdio: 'ignore' });
}

/** Whether a network link exists. */
export function linkExists(name: string): boolean {
  return spawnSync('ip', ['link', 'show', name], { stdio: 'ignore' }).status === 0;
}
