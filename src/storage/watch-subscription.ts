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
    /** Whether puts carry the value they replaced (WatchOptions.prevKv); if not, it is left out. */
    readonly prevKv = false,
  ) {}

  get active(): boolean {
    return !this.finished;
  }

  /**
   * Hands over the events under the prefix that are newer than the cursor.
   * `live` says the batch is the store's newest writes, all of them, so the
   * watcher is then up to date with its last revision (progress).
   */
  deliver(events: readonly WatchEvent[], live = false, top = events.length > 0 ? eventRevision(events[events.length - 1]!) : undefined): void {
    if (this.finished) return;
    // Every write reaches every watch of the backend (one per resource): most find nothing of theirs.
    let mine: WatchEvent[] | undefined;
    for (const e of events) if (eventRevision(e) > this.cursor && eventKey(e).startsWith(this.prefix)) (mine ??= []).push(this.prevKv || e.type !== 'put' || e.prev === undefined ? e : { type: 'put', kv: e.kv });
    if (mine !== undefined) {
      const batch = mine;
      this.cursor = eventRevision(batch[batch.length - 1]!);
      this.guard(() => this.onEvents(batch));
    }
    if (live && this.onProgress && top !== undefined && top > this.cursor && !this.finished) {
      this.cursor = top;
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

const noEvents: readonly WatchEvent[] = Object.freeze([]);

/**
 * The watches that follow a backend's live feed. A batch of writes reaches
 * each watch with only the events under its prefix, found through the
 * prefixes of each key that end at a "/" (as every resource's watch prefix
 * does) instead of each watch testing every event; every watch then learns
 * the batch's revision.
 */
export class LiveWatches implements Iterable<WatchSubscription> {
  private readonly subs = new Set<WatchSubscription>();
  /** Watches by prefix, for prefixes ending in "/"; the others are tested one by one. */
  private byPrefix: Map<string, WatchSubscription[]> | undefined;
  private others: WatchSubscription[] = [];

  add(sub: WatchSubscription): void {
    this.subs.add(sub);
    this.byPrefix = undefined;
  }

  delete(sub: WatchSubscription): void {
    if (this.subs.delete(sub)) this.byPrefix = undefined;
  }

  clear(): void {
    this.subs.clear();
    this.byPrefix = undefined;
  }

  /** Whether any of the watches takes puts' previous values (WatchOptions.prevKv); asked once per batch of writes. */
  get wantPrev(): boolean {
    for (const sub of this.subs) if (sub.prevKv) return true;
    return false;
  }

  [Symbol.iterator](): Iterator<WatchSubscription> {
    return this.subs[Symbol.iterator]();
  }

  /** Hands over a batch of the store's newest writes, all of them, in revision order. */
  deliver(events: readonly WatchEvent[]): void {
    if (events.length === 0) return;
    const byPrefix = this.byPrefix ?? this.index();
    const mine = new Map<WatchSubscription, WatchEvent[]>();
    const add = (sub: WatchSubscription, e: WatchEvent) => {
      const list = mine.get(sub);
      if (list) list.push(e);
      else mine.set(sub, [e]);
    };
    for (const e of events) {
      const key = eventKey(e);
      for (const sub of this.others) if (key.startsWith(sub.prefix)) add(sub, e);
      for (let slash = key.indexOf('/'); slash >= 0; slash = key.indexOf('/', slash + 1)) {
        const subs = byPrefix.get(key.slice(0, slash + 1));
        if (subs) for (const sub of subs) add(sub, e);
      }
    }
    const top = eventRevision(events[events.length - 1]!);
    for (const sub of this.subs) sub.deliver(mine.get(sub) ?? noEvents, true, top);
  }

  private index(): Map<string, WatchSubscription[]> {
    const byPrefix = new Map<string, WatchSubscription[]>();
    this.others = [];
    for (const sub of this.subs) {
      if (!sub.prefix.endsWith('/')) this.others.push(sub);
      else {
        const list = byPrefix.get(sub.prefix);
        if (list) list.push(sub);
        else byPrefix.set(sub.prefix, [sub]);
      }
    }
    this.byPrefix = byPrefix;
    return byPrefix;
  }
}
