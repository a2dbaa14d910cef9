// An in-process store with the full etcd semantics (history, compaction,
// watch replay), for tests and throwaway clusters. Nothing survives close().

import { BackendUnavailableError, CompactedError } from './backend.js';
import type { Backend, KeyValue, RangeOptions, RangeResult, Watch, WatchEvent, WatchOptions, WriteResult } from './backend.js';
import { FutureRevisionError } from './errors.js';
import { compareKeys, keyInterval } from './key-order.js';
import { WatchSubscription, eventRevision } from './watch-subscription.js';

interface Version {
  revision: number;
  createRevision: number;
  value: string;
  deleted: boolean;
}

export class MemoryBackend implements Backend {
  readonly name = 'memory';
  private revision = 0;
  private compacted = 0;
  /** Each key's versions, oldest first; a deleted key ends in a tombstone. */
  private readonly versions = new Map<string, Version[]>();
  /** Every key in `versions`, in key order. */
  private readonly sortedKeys: string[] = [];
  /** Events newer than the compacted revision, in revision order. */
  private readonly log: WatchEvent[] = [];
  private readonly subscriptions = new Set<WatchSubscription>();
  private closed = false;

  async currentRevision(): Promise<number> {
    this.checkOpen();
    return this.revision;
  }

  async compactedRevision(): Promise<number> {
    this.checkOpen();
    return this.compacted;
  }

  async get(key: string, opts?: { revision?: number }): Promise<{ kv?: KeyValue; revision: number }> {
    const revision = this.readRevision(opts?.revision);
    const kv = this.valueAt(key, revision);
    return kv ? { kv, revision } : { revision };
  }

  async range(prefix: string, opts: RangeOptions = {}): Promise<RangeResult> {
    const revision = this.readRevision(opts.revision);
    const { from, to } = keyInterval(prefix, opts.startKey);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
    const kvs: KeyValue[] = [];
    let count = 0;
    for (let i = this.lowerBound(from); i < this.sortedKeys.length; i++) {
      const key = this.sortedKeys[i] as string;
      if (to !== undefined && compareKeys(key, to) >= 0) break;
      const kv = this.valueAt(key, revision);
      if (!kv) continue;
      count++;
      if (!opts.countOnly && kvs.length < limit) kvs.push(kv);
    }
    return { kvs, revision, more: !opts.countOnly && count > kvs.length, count };
  }

  async create(key: string, value: string): Promise<WriteResult> {
    this.checkOpen();
    const current = this.latest(key);
    if (current) return { ok: false, revision: this.revision, current };
    const revision = ++this.revision;
    const kv: KeyValue = { key, value, createRevision: revision, modRevision: revision };
    this.append(key, { revision, createRevision: revision, value, deleted: false }, { type: 'put', kv });
    return { ok: true, revision, kv };
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<WriteResult> {
    this.checkOpen();
    const current = this.latest(key);
    if (!current || current.modRevision !== expectedModRevision) return failure(this.revision, current);
    const revision = ++this.revision;
    const kv: KeyValue = { key, value, createRevision: current.createRevision, modRevision: revision };
    this.append(key, { revision, createRevision: current.createRevision, value, deleted: false }, { type: 'put', kv, prev: current });
    return { ok: true, revision, kv };
  }

  async delete(key: string, expectedModRevision: number): Promise<WriteResult> {
    this.checkOpen();
    const current = this.latest(key);
    if (!current || (expectedModRevision !== 0 && current.modRevision !== expectedModRevision)) return failure(this.revision, current);
    const revision = ++this.revision;
    this.append(key, { revision, createRevision: current.createRevision, value: current.value, deleted: true }, { type: 'delete', key, revision, prev: current });
    return { ok: true, revision, kv: current };
  }

  watch(prefix: string, opts: WatchOptions, onEvents: (events: WatchEvent[]) => void, onError: (err: Error) => void): Watch {
    const sub = new WatchSubscription(prefix, opts.afterRevision, onEvents, onError, opts.onProgress, opts.prevKv);
    if (this.closed) {
      queueMicrotask(() => sub.fail(new BackendUnavailableError('memory storage is closed')));
      return sub;
    }
    if (opts.afterRevision < this.compacted) {
      const err = new CompactedError(opts.afterRevision, this.compacted);
      queueMicrotask(() => sub.fail(err));
      return sub;
    }
    // Replay is captured now and queued ahead of any later write's delivery,
    // so history and live events meet with no gap.
    const replay = this.log.slice(this.firstLogIndexAfter(opts.afterRevision));
    this.subscriptions.add(sub);
    if (replay.length > 0) queueMicrotask(() => sub.deliver(replay, true));
    return {
      cancel: () => {
        sub.cancel();
        this.subscriptions.delete(sub);
      },
    };
  }

  async compact(revision: number): Promise<void> {
    this.checkOpen();
    if (revision > this.revision) throw new FutureRevisionError(revision, this.revision);
    if (revision <= this.compacted) return;
    for (let i = this.sortedKeys.length - 1; i >= 0; i--) {
      const key = this.sortedKeys[i] as string;
      const versions = this.versions.get(key) ?? [];
      let keep = versions.length - 1;
      while (keep >= 0 && (versions[keep] as Version).revision > revision) keep--;
      // Keep the key's value at `revision` (dropping it too if it is a tombstone) and everything after.
      const drop = keep >= 0 && (versions[keep] as Version).deleted ? keep + 1 : Math.max(keep, 0);
      versions.splice(0, drop);
      if (versions.length === 0) {
        this.versions.delete(key);
        this.sortedKeys.splice(i, 1);
      }
    }
    this.log.splice(0, this.firstLogIndexAfter(revision));
    this.compacted = revision;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const sub of this.subscriptions) sub.cancel();
    this.subscriptions.clear();
  }

  private append(key: string, version: Version, event: WatchEvent): void {
    let versions = this.versions.get(key);
    if (!versions) {
      versions = [];
      this.versions.set(key, versions);
      this.sortedKeys.splice(this.lowerBound(key), 0, key);
    }
    versions.push(version);
    this.log.push(event);
    const batch = [event];
    for (const sub of this.subscriptions) {
      // Delivering from the microtask queue keeps revision order even when a
      // handler writes again, and never calls a handler from inside a write.
      queueMicrotask(() => sub.deliver(batch, true));
    }
  }

  private latest(key: string): KeyValue | undefined {
    return this.valueAt(key, this.revision);
  }

  private valueAt(key: string, revision: number): KeyValue | undefined {
    const versions = this.versions.get(key);
    if (!versions) return undefined;
    for (let i = versions.length - 1; i >= 0; i--) {
      const v = versions[i] as Version;
      if (v.revision > revision) continue;
      return v.deleted ? undefined : { key, value: v.value, createRevision: v.createRevision, modRevision: v.revision };
    }
    return undefined;
  }

  private readRevision(requested: number | undefined): number {
    this.checkOpen();
    if (!requested) return this.revision;
    if (requested < this.compacted) throw new CompactedError(requested, this.compacted);
    if (requested > this.revision) throw new FutureRevisionError(requested, this.revision);
    return requested;
  }

  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.sortedKeys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.sortedKeys[mid] as string, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private firstLogIndexAfter(revision: number): number {
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (eventRevision(this.log[mid] as WatchEvent) <= revision) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private checkOpen(): void {
    if (this.closed) throw new BackendUnavailableError('memory storage is closed');
  }
}

function failure(revision: number, current: KeyValue | undefined): WriteResult {
  return current ? { ok: false, revision, current } : { ok: false, revision };
}
