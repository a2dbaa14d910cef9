// Starting processes off the agent's main thread. Node's spawn is synchronous until the child has
// exec'd: a fork of the whole agent, then a wait for the child to be scheduled. On a node busy
// starting many containers that is tens of milliseconds per process, during which the agent
// does nothing else; the runtime starts several processes per pod (mount, monitor, network).
// The pool hands them to a few worker threads instead, so they start in parallel while the
// main thread goes on. Without worker threads (or when one fails) it falls back to execFile here.
import { execFile } from 'node:child_process';
import { Worker } from 'node:worker_threads';

export type SpawnRequest =
  | { id: number; type: 'exec'; file: string; args: string[]; maxBuffer: number; cwd?: string }
  | { id: number; type: 'detached'; file: string; args: string[]; cwd: string; stderrFile: string };

export type SpawnReply =
  | { id: number; type: 'done'; stdout: string; stderr: string }
  | { id: number; type: 'failed'; message: string; code: number | string | null; signal: string | null; stdout: string; stderr: string }
  | { id: number; type: 'spawned'; pid: number }
  | { id: number; type: 'notice'; exited: boolean };

/** A failed command, with what execFile's error carries. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    message: string,
    readonly code: number | string | null,
    readonly signal: string | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

export interface DetachedProcess {
  pid: number;
  /** Resolves when the process wrote its first output (exited: false) or exited (true). */
  notice: Promise<{ exited: boolean }>;
}

interface Pending {
  resolve(r: SpawnReply): void;
  /** Replies after the first one (a detached process's notice). */
  later?: (r: SpawnReply) => void;
  /** Counts toward keeping the process alive. */
  held: boolean;
}

const workerUrl = new URL('./spawn-pool-worker.js', import.meta.url);

class PoolThread {
  readonly pending = new Map<number, Pending>();
  private held = 0;
  dead = false;

  private constructor(private readonly worker: Worker) {
    worker.unref();
    worker.on('message', (m: SpawnReply) => this.onReply(m));
    const fail = (e: Error) => {
      this.dead = true;
      for (const [id, p] of this.pending) p.resolve({ id, type: 'failed', message: `spawn thread: ${e.message}`, code: null, signal: null, stdout: '', stderr: '' });
      this.pending.clear();
      if (this.held > 0) worker.unref();
      this.held = 0;
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
  }

  static create(): PoolThread | undefined {
    try {
      return new PoolThread(new Worker(workerUrl));
    } catch {
      return undefined;
    }
  }

  send(req: SpawnRequest, p: Pending): void {
    this.pending.set(req.id, p);
    if (p.held && this.held++ === 0) this.worker.ref();
    this.worker.postMessage(req);
  }

  private release(p: Pending): void {
    if (p.held && --this.held === 0) this.worker.unref();
    p.held = false;
  }

  private onReply(m: SpawnReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === 'spawned') {
      // The notice comes later; it does not keep the agent alive.
      this.release(p);
      p.resolve(m);
      p.resolve = p.later ?? (() => undefined);
      return;
    }
    this.pending.delete(m.id);
    this.release(p);
    p.resolve(m);
  }
}

export class SpawnPool {
  private readonly threads: PoolThread[] = [];
  private nextId = 1;
  private broken = false;

  constructor(private readonly size = 4) {}

  /** The thread with the least work, starting one while the pool is not full. */
  private thread(): PoolThread | undefined {
    for (let i = this.threads.length - 1; i >= 0; i--) if (this.threads[i]!.dead) this.threads.splice(i, 1);
    let best = this.threads.reduce<PoolThread | undefined>((a, t) => (!a || t.pending.size < a.pending.size ? t : a), undefined);
    if ((!best || best.pending.size > 0) && this.threads.length < this.size && !this.broken) {
      const t = PoolThread.create();
      if (t) {
        this.threads.push(t);
        best = t;
      } else this.broken = true;
    }
    return best;
  }

  /** execFile (utf8 output) on a pool thread; rejects with a CommandError. */
  execFile(file: string, args: string[], opts: { maxBuffer?: number; cwd?: string } = {}): Promise<{ stdout: string; stderr: string }> {
    const t = this.thread();
    if (!t) return execHere(file, args, opts);
    return new Promise((resolve, reject) => {
      t.send(
        { id: this.nextId++, type: 'exec', file, args, maxBuffer: opts.maxBuffer ?? 1024 * 1024, cwd: opts.cwd },
        {
          held: true,
          resolve: (m) => {
            if (m.type === 'done') resolve({ stdout: m.stdout, stderr: m.stderr });
            else if (m.type === 'failed') reject(new CommandError(m.message, m.code, m.signal, m.stdout, m.stderr));
          },
        },
      );
    });
  }

  /**
   * Starts a detached process (its own session; stdin closed, stderr appended to `stderrFile`,
   * stdout a pipe only read for the first output). The agent does not wait for it.
   */
  spawnDetached(file: string, args: string[], opts: { cwd: string; stderrFile: string }): Promise<DetachedProcess> {
    const t = this.thread();
    if (!t) return Promise.reject(new Error('no spawn thread'));
    return new Promise((resolve, reject) => {
      let noticed: (n: { exited: boolean }) => void = () => undefined;
      const notice = new Promise<{ exited: boolean }>((r) => (noticed = r));
      t.send(
        { id: this.nextId++, type: 'detached', file, args, cwd: opts.cwd, stderrFile: opts.stderrFile },
        {
          held: true,
          resolve: (m) => {
            if (m.type === 'spawned') resolve({ pid: m.pid, notice });
            else if (m.type === 'failed') reject(new CommandError(m.message, m.code, m.signal, m.stdout, m.stderr));
          },
          later: (m) => noticed({ exited: m.type !== 'notice' || m.exited }),
        },
      );
    });
  }
}

function execHere(file: string, args: string[], opts: { maxBuffer?: number; cwd?: string }): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: opts.maxBuffer ?? 1024 * 1024, encoding: 'utf8', cwd: opts.cwd }, (err, stdout, stderr) => {
      if (!err) return resolve({ stdout, stderr });
      const e = err as NodeJS.ErrnoException & { signal?: string };
      reject(new CommandError(e.message, e.code ?? null, e.signal ?? null, stdout, stderr));
    });
  });
}

/** The process's pool. */
export const spawnPool = new SpawnPool();
