// The main thread's side of the checkpointer thread (sqlite-checkpoint-worker.ts):
// after writes it asks for a checkpoint, one at a time and at most every
// intervalMs, so WAL frames reach the database file while the writer goes
// on committing. Should the thread fail, commits checkpoint as SQLite's
// default has them do, which keeps the WAL bounded either way.

import { Worker } from 'node:worker_threads';
import type { CheckpointReply, CheckpointRequest } from './sqlite-schema.js';

export class Checkpointer {
  private readonly worker: Worker;
  private inFlight = false;
  /** Writes committed since the last checkpoint was asked for. */
  private pending = false;
  private last = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private closing: Promise<void> | undefined;

  constructor(
    path: string,
    private readonly intervalMs = 20,
  ) {
    this.worker = new Worker(new URL('./sqlite-checkpoint-worker.js', import.meta.url), { workerData: { path } });
    this.worker.on('message', (reply: CheckpointReply) => this.onReply(reply));
    // Not fatal: commits still checkpoint by themselves.
    this.worker.on('error', () => this.stop());
    this.worker.on('exit', () => this.stop());
    // After the listeners: adding a 'message' listener refs the worker's port again.
    this.worker.unref();
  }

  /** Writes were committed: fold them into the database file soon. */
  written(): void {
    this.pending = true;
    this.request();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.stopped) return;
      this.stop();
      const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
      this.worker.ref();
      this.worker.postMessage({ type: 'close' } satisfies CheckpointRequest);
      await exited;
    })();
    return this.closing;
  }

  private request(): void {
    if (this.stopped || this.inFlight || !this.pending || this.timer) return;
    const wait = this.last + this.intervalMs - performance.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.request();
      }, wait);
      this.timer.unref();
      return;
    }
    this.pending = false;
    this.inFlight = true;
    this.worker.postMessage({ type: 'checkpoint' } satisfies CheckpointRequest);
  }

  private onReply(reply: CheckpointReply): void {
    this.inFlight = false;
    this.last = performance.now();
    // A failed checkpoint (the database busy) leaves the WAL as it was: the next one folds it in.
    if (reply.type === 'failed') this.pending = true;
    this.request();
  }

  private stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
