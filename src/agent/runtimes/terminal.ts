// A command under a host pseudo-terminal (node-pty), for `kubectl exec -t`:
// its output as a stream, input written to the terminal, resizes reaching
// the command as SIGWINCH, and a hang-up (SIGHUP) to end it, as a closed ssh
// connection does. Both runtimes' interactive exec use it.
import { PassThrough } from 'node:stream';

export interface TerminalOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Whether the client sends input. */
  stdin: boolean;
  /** Where each chunk of output goes (default: written to stdout at once). */
  push?: (stdout: PassThrough, chunk: Buffer) => void;
}

export interface TerminalSession {
  stdout: PassThrough;
  stdin: PassThrough | undefined;
  /** The command's raw exit status (128 + signal when killed), once its last output is in. stdout is not ended: the caller does that. */
  exited: Promise<number>;
  resize(cols: number, rows: number): void;
  hangUp(): void;
}

export async function spawnInTerminal(file: string, args: string[], opts: TerminalOptions): Promise<TerminalSession> {
  const pty = await import('node-pty');
  const term = pty.spawn(file, args, { name: 'xterm', cols: 80, rows: 24, ...(opts.cwd ? { cwd: opts.cwd } : {}), ...(opts.env ? { env: opts.env } : {}), encoding: null } as Parameters<typeof pty.spawn>[2]);
  const stdout = new PassThrough();
  const push = opts.push ?? ((out, chunk) => out.write(chunk));
  term.onData((d: string | Buffer) => push(stdout, typeof d === 'string' ? Buffer.from(d, 'utf8') : d));
  let done = false;
  const exited = new Promise<number>((resolve) => {
    term.onExit(({ exitCode, signal }) => {
      done = true;
      // node-pty may deliver the last output right after the exit event.
      setImmediate(() => resolve(signal ? 128 + signal : exitCode));
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
    stdout,
    stdin,
    exited,
    resize: (cols, rows) => {
      if (done || !(cols > 0) || !(rows > 0)) return;
      try {
        term.resize(cols, rows);
      } catch {
        /* the terminal just closed */
      }
    },
    hangUp: () => {
      if (done) return;
      try {
        term.kill('SIGHUP');
      } catch {
        /* gone */
      }
    },
  };
}
