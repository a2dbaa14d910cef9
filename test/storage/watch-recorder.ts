// Records what a watch delivers so tests can wait for, then assert on, it.
import type { Backend, Watch, WatchEvent } from '../../src/storage/backend.js';
import { eventKey, eventRevision } from '../../src/storage/watch-subscription.js';

/** Only guards against a hung test; no test asserts on how long anything takes. */
const giveUpAfterMs = 20_000;

export class WatchRecorder {
  readonly events: WatchEvent[] = [];
  readonly batches: WatchEvent[][] = [];
  error: Error | undefined;
  errorCount = 0;
  private readonly watch: Watch;
  private readonly waiters = new Set<() => void>();

  constructor(backend: Backend, prefix: string, afterRevision: number, opts: { prevKv?: boolean } = {}) {
    this.watch = backend.watch(
      prefix,
      { afterRevision, ...opts },
      (events) => {
        this.batches.push(events);
        this.events.push(...events);
        this.wake();
      },
      (err) => {
        this.error = err;
        this.errorCount++;
        this.wake();
      },
    );
  }

  get revisions(): number[] {
    return this.events.map(eventRevision);
  }

  get keys(): string[] {
    return this.events.map(eventKey);
  }

  cancel(): void {
    this.watch.cancel();
  }

  /** Resolves once at least n events arrived. */
  untilEvents(n: number): Promise<void> {
    return this.until(() => this.events.length >= n, `${n} events`);
  }

  untilError(): Promise<Error> {
    return this.until(() => this.error !== undefined, 'an error', { acceptError: true }).then(() => this.error as Error);
  }

  /** Resolves once done() holds; an error from the watch rejects unless acceptError. */
  until(done: () => boolean, what: string, opts: { acceptError?: boolean } = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (done()) {
          finish();
          resolve();
        } else if (this.error && !opts.acceptError) {
          finish();
          reject(new Error(`watch failed while waiting for ${what}: ${this.error.message}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`gave up waiting for ${what}; got ${this.events.length} events: ${JSON.stringify(this.revisions)}`));
      }, giveUpAfterMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  private wake(): void {
    for (const check of [...this.waiters]) check();
  }
}
