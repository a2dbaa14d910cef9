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
  ) {}

  get active(): boolean {
    return !this.finished;
  }

  /** Hands over the events under the prefix that are newer than the cursor. */
  deliver(events: readonly WatchEvent[]): void {
    if (this.finished) return;
    const mine = events.filter((e) => eventRevision(e) > this.cursor && eventKey(e).startsWith(this.prefix));
    const last = mine[mine.length - 1];
    if (last === undefined) return;
    this.cursor = eventRevision(last);
    try {
      this.onEvents(mine);
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
