import type { Watch, WatchEvent } from './backend.js';

export function eventKey(event: WatchEvent): string {
  return event.type === 'put' ? event.kv.key : event.key;
}

export function eventRevision(event: WatchEvent): number {
  return event.type === 'put' ? event.kv.modRevision : event.revision;
}

/**
 * One caller's watch, as the memory and SQLite backends track it. The cursor
 * (the last revision handed over) lets a backend offer the same revision
 * twice, from history replay and from the live feed, without the caller ever
 * seeing it twice.
 */
export class WatchSubscription implements Watch {
  private finished = false;

  constructor(
    readonly prefix: string,
    public cursor: number,
    private readonly onEvents: (events: WatchEvent[]) => void,
    private readonly onError: (err: Error) => void,
    private readonly onProgress?: (revision: number) => void,
  ) {}

  get active(): boolean {
    return !this.finished;
  }

  /**
   * Hands over the events under the prefix that are newer than the cursor.
   * `live` says the batch is the store's newest writes, all of them, so the
   * watcher is then up to date with its last revision (progress).
   */
  deliver(events: readonly WatchEvent[], live = false): void {
    if (this.finished) return;
    // Every write reaches every watch of the backend (one per resource): most find nothing of theirs.
    let mine: WatchEvent[] | undefined;
    for (const e of events) if (eventRevision(e) > this.cursor && eventKey(e).startsWith(this.prefix)) (mine ??= []).push(e);
    if (mine !== undefined) {
      const batch = mine;
      this.cursor = eventRevision(batch[batch.length - 1]!);
      this.guard(() => this.onEvents(batch));
    }
    const top = events[events.length - 1];
    if (live && this.onProgress && top !== undefined && eventRevision(top) > this.cursor && !this.finished) {
      this.cursor = eventRevision(top);
      const revision = this.cursor;
      this.guard(() => this.onProgress!(revision));
    }
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      // A throwing handler is a bug in the caller; surface it without
      // breaking delivery to the other watchers of this backend.
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  fail(err: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.onError(err);
  }

  cancel(): void {
    this.finished = true;
  }
}
