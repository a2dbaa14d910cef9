// A monitored container run under a host terminal, for containers with `tty: true`: the monitor
// runs `runc run` (process.terminal in the spec) under a pseudo-terminal (node-pty); runc makes
// the container's terminal and copies between it and this one. Its output is the container's
// stdout (the CRI log); the run's stdin FIFO, when it has one, is typed into it; the size
// attachers ask for (files.ttySize in the run dir, {cols, rows}) is applied to it, which runc
// passes on to the container's terminal on SIGWINCH.
import { openSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { files } from './run-files.js';
import { spawnInTerminal } from './terminal.js';

export interface TerminalRun {
  /** The exit status of runc (the container's), once its last output is in. */
  exited: Promise<number>;
  /** Applies files.ttySize when it changed. */
  checkSize(): void;
  /** Stops reading the stdin FIFO. */
  close(): void;
}

/** The size an attacher last asked for, undefined when none did or the file is bad. */
export function readTtySize(dir: string): { cols: number; rows: number } | undefined {
  try {
    const v = JSON.parse(readFileSync(join(dir, files.ttySize), 'utf8')) as { cols?: unknown; rows?: unknown };
    const cols = Number(v.cols);
    const rows = Number(v.rows);
    return Number.isInteger(cols) && Number.isInteger(rows) && cols > 0 && rows > 0 && cols <= 65535 && rows <= 65535 ? { cols, rows } : undefined;
  } catch {
    return undefined;
  }
}

export async function runInTerminal(file: string, args: string[], opts: { dir: string; stdin: boolean; output: (chunk: Buffer) => void }): Promise<TerminalRun> {
  const term = await spawnInTerminal(file, args, { cwd: opts.dir, stdin: opts.stdin, push: (_out, chunk) => opts.output(chunk) });
  term.stdout.resume();
  let input: Socket | undefined;
  if (term.stdin) {
    // A reader of the FIFO of its own (non-blocking: the monitor holds a writer), read as a pipe.
    input = new Socket({ fd: openSync(join(opts.dir, files.stdin), 'r'), readable: true, writable: false });
    input.on('error', () => undefined);
    input.on('data', (c: Buffer) => term.stdin!.write(c));
    // stdinOnce closed it: end-of-file, as a terminal says it.
    input.on('end', () => term.stdin!.write('\x04'));
  }
  let size = '';
  const checkSize = () => {
    const s = readTtySize(opts.dir);
    if (!s || `${s.cols}x${s.rows}` === size) return;
    size = `${s.cols}x${s.rows}`;
    term.resize(s.cols, s.rows);
  };
  checkSize();
  return { exited: term.exited, checkSize, close: () => input?.destroy() };
}
