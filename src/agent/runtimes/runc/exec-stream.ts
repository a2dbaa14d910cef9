// Interactive `runc exec` for `kubectl exec`: without a terminal the command's
// stdio are pipes; with one, `runc exec -t` runs in the foreground under a host
// pseudo-terminal (node-pty): runc makes the container's terminal, puts the
// host one in raw mode and copies between them, and on SIGWINCH (which resizing
// the host terminal sends) resizes the container's from it.
//
// runc reports its own failures (no such executable ...) on the same stderr
// (or terminal) as the command's output. What arrives before runc has written
// the process's pid file is held back: once the file is there it is the
// command's; when runc exits without writing it, the command never started and
// the held text is runc's error (also in its --log), which becomes an
// ExecStartError instead of output.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { ExecStartError, type ExecProcess, type StreamOptions } from '../../runtime.js';
import { spawnInTerminal } from '../terminal.js';

export interface RuncExecTarget {
  runc: string;
  runcRoot: string;
  /** runc's container ID. */
  id: string;
}

const signalNumbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** The last error runc logged (--log-format json): "exec failed: unable to start container process: ...". */
function runcLogError(logFile: string): string | undefined {
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return undefined;
  }
  let last: string | undefined;
  for (const line of text.split('\n')) {
    try {
      const rec = JSON.parse(line) as { level?: string; msg?: string };
      if (rec.level === 'error' && rec.msg) last = rec.msg;
    } catch {
      /* not JSON */
    }
  }
  return last;
}

/** Holds output back until the command is known to have started (see the top of the file). */
class StartGate {
  private held: { out: PassThrough; chunk: Buffer }[] = [];
  private open = false;
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly pidFile: string) {}

  push(out: PassThrough, chunk: Buffer): void {
    if (!this.open && existsSync(this.pidFile)) this.release();
    if (this.open) {
      out.write(chunk);
      return;
    }
    this.held.push({ out, chunk });
    // A prompt written before the pid file must not wait for more output to show.
    this.timer ??= setInterval(() => {
      if (existsSync(this.pidFile)) this.release();
    }, 10);
  }

  /** The command started: what was held is its output. */
  release(): void {
    this.open = true;
    this.stop();
    for (const h of this.held) h.out.write(h.chunk);
    this.held = [];
  }

  /** Stops watching for the pid file (the command ended). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  started(): boolean {
    return this.open || existsSync(this.pidFile);
  }
}

/** Starts `command` in the container; see the top of the file. */
export async function runcExecStream(target: RuncExecTarget, command: string[], opts: StreamOptions): Promise<ExecProcess> {
  if (command.length === 0) throw new ExecStartError('no command given');
  const work = mkdtempSync(join(tmpdir(), 'nami-exec-'));
  const pidFile = join(work, 'pid');
  const logFile = join(work, 'runc.log');
  const args = ['--root', target.runcRoot, '--log', logFile, '--log-format', 'json', 'exec', '--pid-file', pidFile, ...(opts.tty ? ['-t'] : []), target.id, ...command];
  const gate = new StartGate(pidFile);
  const cleanup = () => rmSync(work, { recursive: true, force: true });
  /** The exit code, or an ExecStartError when runc never started the command. */
  const outcome = (code: number): number => {
    gate.stop();
    if (gate.started()) return code;
    const why = runcLogError(logFile) ?? `runc exec exited with status ${code}`;
    throw new ExecStartError(`OCI runtime exec failed: ${why}: unknown`);
  };
  return opts.tty ? execWithTerminal(target, args, opts, gate, outcome, cleanup) : execWithPipes(target, args, opts, gate, outcome, cleanup);
}

function execWithPipes(target: RuncExecTarget, args: string[], opts: StreamOptions, gate: StartGate, outcome: (code: number) => number, cleanup: () => void): ExecProcess {
  const child = spawn(target.runc, args, { stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  child.stdout!.on('data', (c: Buffer) => gate.push(stdout, c));
  child.stderr!.on('data', (c: Buffer) => gate.push(stderr, c));
  // A command that does not read its stdin must not fail the session when the client writes.
  child.stdin?.on('error', () => {});
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', (e) => {
      cleanup();
      stdout.end();
      stderr.end();
      reject(new ExecStartError(`cannot run runc: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      const raw = code ?? (signal ? 128 + (signalNumbers[signal] ?? 9) : 1);
      try {
        const rc = outcome(raw);
        gate.release();
        resolve(rc);
      } catch (e) {
        reject(e as Error);
      } finally {
        cleanup();
        stdout.end();
        stderr.end();
      }
    });
  });
  exited.catch(() => {});
  return {
    stdin: child.stdin ?? undefined,
    stdout,
    stderr,
    resize: () => {},
    exited,
    kill: () => {
      // runc passes SIGTERM on to the command; SIGKILL ends runc itself if that does not help.
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    },
  };
}

async function execWithTerminal(target: RuncExecTarget, args: string[], opts: StreamOptions, gate: StartGate, outcome: (code: number) => number, cleanup: () => void): Promise<ExecProcess> {
  const term = await spawnInTerminal(target.runc, args, { stdin: opts.stdin, push: (out, chunk) => gate.push(out, chunk) });
  const exited = term.exited.then((raw) => {
    try {
      const rc = outcome(raw);
      gate.release();
      return rc;
    } finally {
      cleanup();
      term.stdout.end();
    }
  });
  exited.catch(() => {});
  return { stdin: term.stdin, stdout: term.stdout as Readable, resize: term.resize, exited, kill: term.hangUp };
}
