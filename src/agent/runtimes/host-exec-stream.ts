// Interactive exec of a plain host process (the process runtime's `kubectl
// exec`): pipes, or a host pseudo-terminal (node-pty) for tty, in a process
// group of its own so that ending the session ends what the command started.
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import type { ExecProcess, StreamOptions } from '../runtime.js';

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
  const pty = await import('node-pty');
  const term = pty.spawn(cmd.file, cmd.argv.slice(1), { name: 'xterm', cols: 80, rows: 24, cwd: cmd.cwd, env: cmd.env, encoding: null } as Parameters<typeof pty.spawn>[2]);
  const stdout = new PassThrough();
  term.onData((d: string | Buffer) => stdout.write(typeof d === 'string' ? Buffer.from(d, 'utf8') : d));
  let done = false;
  const exited = new Promise<number>((resolve) => {
    term.onExit(({ exitCode, signal }) => {
      done = true;
      setImmediate(() => {
        stdout.end();
        resolve(signal ? 128 + signal : exitCode);
      });
    });
  });
  let stdin: PassThrough | undefined;
  if (opts.stdin) {
    stdin = new PassThrough();
    stdin.on('data', (c: Buffer) => {
      if (!done) term.write(c);
    });
  }
  return {
    stdin,
    stdout,
    resize: (cols, rows) => {
      if (done || !(cols > 0) || !(rows > 0)) return;
      try {
        term.resize(cols, rows);
      } catch {
        /* just closed */
      }
    },
    exited,
    kill: () => {
      if (!done) signalGroup(term.pid, 'SIGHUP');
    },
  };
}
