// RUN: the command in a runc container on the step's merged rootfs, with the image's Env,
// WorkingDir and User, in fresh namespaces whose network has only a loopback (runc brings `lo`
// up in a new network namespace). runc's state lives in the build's own --root, so nothing of it
// outlives the build.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SpecError } from '../../runtimes/container-env.js';
import { buildSpec, defaultCapabilities, resolveImageUser } from '../../runtimes/runc/spec.js';
import { resolveInRoot } from '../unpack.js';

export interface RunStepOptions {
  /** the step's merged rootfs */
  rootfs: string;
  /** where config.json and runc's state go (removed by the caller) */
  dir: string;
  args: string[];
  env: string[];
  cwd: string;
  /** the image's USER ("", "app", "1000:50") */
  user: string;
  runc?: string;
  onOutput?: (chunk: string) => void;
  signal?: AbortSignal;
}

export interface RunStepResult {
  exitCode: number;
  /** the last 64 KiB of stdout and stderr, interleaved as they came */
  output: string;
}

export class RunStepError extends Error {
  override readonly name = 'RunStepError';
}

export function defaultRunc(): string {
  return ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => existsSync(p)) ?? 'runc';
}

/** Mount points runc creates when the image lacks them; removed again so they do not end up in the layer. */
const mountPoints = ['proc', 'dev', 'sys'];

/** /etc/passwd and /etc/group of the rootfs, read without leaving it. */
export async function accountFiles(rootfs: string): Promise<{ passwd?: string; group?: string }> {
  const read = async (rel: string) => readFile(await resolveInRoot(rootfs, rel, true), 'utf8').catch(() => undefined);
  const passwd = await read('etc/passwd');
  const group = await read('etc/group');
  return { ...(passwd !== undefined ? { passwd } : {}), ...(group !== undefined ? { group } : {}) };
}

/** The user's home directory from /etc/passwd, else "/" ("/root" for root), as Docker sets HOME for RUN. */
export function homeOf(uid: number, passwd: string | undefined): string {
  for (const line of (passwd ?? '').split('\n')) {
    const f = line.split(':');
    if (f[2] === String(uid) && f[5]) return f[5];
  }
  return uid === 0 ? '/root' : '/';
}

export async function runStep(opts: RunStepOptions): Promise<RunStepResult> {
  let user;
  const files = await accountFiles(opts.rootfs);
  try {
    user = resolveImageUser(opts.user || undefined, files);
  } catch (e) {
    if (e instanceof SpecError) throw new RunStepError(`USER ${opts.user}: ${e.message}`);
    throw e;
  }
  // the working directory exists before the command runs (WORKDIR creates it, as in Docker)
  const cwd = await resolveInRoot(opts.rootfs, opts.cwd.replace(/^\/+/, ''), true);
  if (!(await lstat(cwd).catch(() => undefined))) await mkdir(cwd, { recursive: true, mode: 0o755 });
  const created: string[] = [];
  for (const m of mountPoints) if (!(await lstat(join(opts.rootfs, m)).catch(() => undefined))) created.push(m);

  const id = `nami-build-${process.pid}-${randomBytes(6).toString('hex')}`;
  const env = opts.env.some((e) => e.startsWith('HOME=')) ? opts.env : [...opts.env, `HOME=${homeOf(user.uid, files.passwd)}`];
  const spec = buildSpec({
    args: opts.args,
    env,
    cwd: opts.cwd,
    user,
    capabilities: defaultCapabilities,
    privileged: false,
    noNewPrivileges: false,
    readonlyRootfs: false,
    hostname: 'nami-build',
    hostNetwork: false,
    resources: { devices: [{ allow: false, access: 'rwm' }] },
    cgroupsPath: `nami/${id}`,
    binds: [],
    annotations: { 'dev.nami.build': 'true' },
  });
  spec.root = { path: opts.rootfs, readonly: false };
  const bundle = join(opts.dir, 'bundle');
  const state = join(opts.dir, 'runc');
  await mkdir(bundle, { recursive: true, mode: 0o700 });
  await mkdir(state, { recursive: true, mode: 0o700 });
  await writeFile(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
  const runc = opts.runc ?? defaultRunc();
  const runcArgs = ['--root', state];
  let output = '';
  const keep = (s: string) => {
    output = (output + s).slice(-65536);
    opts.onOutput?.(s);
  };
  try {
    const exitCode = await new Promise<number>((resolve, reject) => {
      const child = spawn(runc, [...runcArgs, 'run', '--bundle', bundle, id], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.setEncoding('utf8').on('data', keep);
      child.stderr.setEncoding('utf8').on('data', keep);
      const abort = () => {
        spawn(runc, [...runcArgs, 'kill', '--all', id, 'KILL'], { stdio: 'ignore' }).on('error', () => {});
      };
      opts.signal?.addEventListener('abort', abort, { once: true });
      child.on('error', (e) => reject(new RunStepError(`cannot run ${runc}: ${e.message}`)));
      child.on('close', (code, sig) => {
        opts.signal?.removeEventListener('abort', abort);
        resolve(code ?? (sig ? 128 + 9 : 1));
      });
    });
    return { exitCode, output };
  } finally {
    await new Promise<void>((resolve) => {
      const d = spawn(runc, [...runcArgs, 'delete', '--force', id], { stdio: 'ignore' });
      d.on('error', () => resolve());
      d.on('close', () => resolve());
    });
    for (const m of created) await rmdir(join(opts.rootfs, m)).catch(() => {});
  }
}
