// Interactive exec of a plain host process (the process runtime's `kubectl
// exec`): pipes, or a host pseudo-terminal (node-pty) for tty, in a process
// group of its own so that ending the session ends what the command started.
import { spawn } from 'node:child_process';
import type { ExecProcess, StreamOptions } from '../runtime.js';
import { spawnInTerminal } from './terminal.js';

export interface HostCommand {
  /** The executable (resolved). */
  file: string;
  /** argv; argv[0] as given (busybox picks its applet by it). */
  argv: string[];
  env: Record<string, string>;
  cwd: string;
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    /* gone */
  }
}

export async function hostExecStream(cmd: HostCommand, opts: StreamOptions): Promise<ExecProcess> {
  if (opts.tty) return hostExecWithTerminal(cmd, opts);
  const child = spawn(cmd.file, cmd.argv.slice(1), { argv0: cmd.argv[0], cwd: cmd.cwd, env: cmd.env, detached: true, stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  child.stdin?.on('error', () => {});
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 + 9 : 1)));
  });
  exited.catch(() => {});
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  return {
    stdin: child.stdin ?? undefined,
    stdout: child.stdout!,
    stderr: child.stderr!,
    resize: () => {},
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) signalGroup(child.pid, 'SIGKILL');
    },
  };
}

async function hostExecWithTerminal(cmd: HostCommand, opts: StreamOptions): Promise<ExecProcess> {
  const term = await spawnInTerminal(cmd.file, cmd.argv.slice(1), { cwd: cmd.cwd, env: cmd.env, stdin: opts.stdin });
  const exited = term.exited.finally(() => term.stdout.end());
  return { stdin: term.stdin, stdout: term.stdout, resize: term.resize, exited, kill: term.hangUp };
}
