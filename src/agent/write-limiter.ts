// A small concurrency limit for the writes of many node agents in one
// process: a thousand hollow nodes renewing leases and reporting pods must
// not open a thousand requests at once. Heartbeats (leases, node status) go
// first, so a burst of pod status writes cannot make nodes look dead.

export type WriteLane = 'heartbeat' | 'pods';

/** Raised for writes still queued when the limiter closes. */
export class WriteLimiterClosedError extends Error {
  override readonly name = 'WriteLimiterClosedError';
  constructor() {
    super('the write limiter was closed before this write could run');
  }
}

interface Task {
  run(): Promise<void>;
  reject(err: Error): void;
}

export class WriteLimiter {
  private readonly lanes: Record<WriteLane, Task[]> = { heartbeat: [], pods: [] };
  private active = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(readonly concurrency = 16) {
    if (!(concurrency >= 1)) throw new RangeError(`write concurrency must be at least 1, got ${concurrency}`);
  }

  /** Runs fn once fewer than `concurrency` writes are in flight. */
  run<T>(fn: () => Promise<T>, lane: WriteLane = 'pods'): Promise<T> {
    if (this.closed) return Promise.reject(new WriteLimiterClosedError());
    return new Promise<T>((resolve, reject) => {
      this.lanes[lane].push({
        run: () => fn().then(resolve, reject),
        reject,
      });
      this.pump();
    });
  }

  /** Writes waiting for a slot. */
  get queued(): number {
    return this.lanes.heartbeat.length + this.lanes.pods.length;
  }

  get inFlight(): number {
    return this.active;
  }

  private pump(): void {
    while (this.active < this.concurrency) {
      const task = this.lanes.heartbeat.shift() ?? this.lanes.pods.shift();
      if (!task) break;
      this.active++;
      void task.run().finally(() => {
        this.active--;
        this.pump();
      });
    }
    if (this.active === 0 && this.queued === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.active === 0 && this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Refuses new writes, fails the queued ones and waits for those in flight. */
  async close(): Promise<void> {
    this.closed = true;
    for (const lane of Object.values(this.lanes)) for (const task of lane.splice(0)) task.reject(new WriteLimiterClosedError());
    await this.idle();
  }
}
