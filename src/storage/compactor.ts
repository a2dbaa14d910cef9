// Periodic compaction, as kube-apiserver does against etcd (every 5 minutes,
// compacting to the revision it saw one interval earlier): history stays
// long enough for watchers to resume after a short disconnect, and storage
// does not grow with the number of writes.

import { debuglog } from 'node:util';
import type { Backend } from './backend.js';

const log = debuglog('nami:storage');

export interface CompactorOptions {
  /** How often to compact. */
  intervalMs: number;
  /** Keep at least this many of the newest revisions. */
  retainRevisions?: number;
  /** Keep every revision written during this long. Defaults to intervalMs when retainRevisions is not given. */
  retainMs?: number;
  /** Clock, replaceable in tests. */
  now?: () => number;
}

/** kube-apiserver's default (--etcd-compaction-interval=5m). */
export const defaultCompaction: CompactorOptions = { intervalMs: 5 * 60_000, retainMs: 5 * 60_000 };

export class Compactor {
  private readonly seen: { at: number; revision: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly retainMs: number | undefined;
  private readonly now: () => number;

  constructor(
    private readonly backend: Backend,
    private readonly opts: CompactorOptions,
  ) {
    this.retainMs = opts.retainMs ?? (opts.retainRevisions === undefined ? opts.intervalMs : undefined);
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.runOnce()
        .then(
          () => undefined,
          (err: unknown) => log('compaction failed: %s', err instanceof Error ? err.message : String(err)),
        )
        .finally(() => {
          this.running = undefined;
        });
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One compaction round; returns the revision compacted to, or undefined when nothing was old enough. */
  async runOnce(): Promise<number | undefined> {
    const at = this.now();
    const current = await this.backend.currentRevision();
    const targets: number[] = [];
    if (this.opts.retainRevisions !== undefined) targets.push(current - this.opts.retainRevisions);
    if (this.retainMs !== undefined) {
      this.seen.push({ at, revision: current });
      const cutoff = at - this.retainMs;
      let old: number | undefined;
      while (this.seen.length > 1 && (this.seen[1] as { at: number }).at <= cutoff) this.seen.shift();
      const first = this.seen[0];
      if (first && first.at <= cutoff) old = first.revision;
      if (old === undefined) {
        log('compaction skipped: no revision is older than %d ms yet', this.retainMs);
        return undefined;
      }
      targets.push(old);
    }
    // Both limits given: honour the one that keeps more history.
    const target = Math.min(...targets);
    const compacted = await this.backend.compactedRevision();
    if (target <= compacted) {
      log('compaction skipped: revision %d is already compacted (at %d, current %d)', target, compacted, current);
      return undefined;
    }
    await this.backend.compact(target);
    log('compacted %s storage to revision %d (current %d)', this.backend.name, target, current);
    return target;
  }
}
