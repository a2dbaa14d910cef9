// The default backend: etcd's data model in one SQLite file (DIR/state.db),
// as an append-only log (see sqlite-schema.ts). Reads run on the caller's
// thread; writes go to a writer thread that commits everything queued in
// the same tick as one transaction, so concurrent writers share one fsync;
// a checkpointer thread folds the WAL into the database file beside it.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { BackendUnavailableError, CompactedError } from './backend.js';
import type { Backend, KeyValue, RangeOptions, RangeResult, Watch, WatchEvent, WatchOptions, WriteResult } from './backend.js';
import { Checkpointer } from './sqlite-checkpointer.js';
import { Compactor } from './compactor.js';
import type { CompactorOptions } from './compactor.js';
import { FutureRevisionError } from './errors.js';
import { keyInterval, prefixEnd } from './key-order.js';
import { compactedRevisionSql, createSchema, currentRevisionSql, kvFromRow, latestRowAtRevisionSql, openStateDatabase, stateFileName } from './sqlite-schema.js';
import type { LatestRow, WriteOp, WriteOutcome, WriterReply, WriterRequest } from './sqlite-schema.js';
import { LiveWatches, WatchSubscription } from './watch-subscription.js';

export interface SqliteBackendOptions {
  /** Compact automatically; off unless given (openBackend turns it on). */
  compaction?: CompactorOptions;
}

type QueuedWrite = { kind: 'write'; op: WriteOp; resolve: (r: WriteResult) => void; reject: (e: Error) => void };
type QueuedCompaction = { kind: 'compact'; revision: number; resolve: () => void; reject: (e: Error) => void };
type Queued = QueuedWrite | QueuedCompaction;

interface HistoryRow {
  id: number;
  name: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  value: string;
  prev_value: string | null;
}

/** At most this many writes share one transaction. */
const maxBatch = 1000;
/** Watch history is replayed this many rows at a time, yielding in between. */
const replayPage = 500;

export class SqliteBackend implements Backend {
  readonly name = 'sqlite';
  /** The database file. */
  readonly path: string;
  private readonly db: Database.Database;
  private readonly writer: Worker;
  private readonly checkpointer: Checkpointer;
  private readonly queue: Queued[] = [];
  private inFlight: Queued[] | undefined;
  private flushScheduled = false;
  private idleWaiters: (() => void)[] = [];
  /** Newest revision whose events have been handed to watchers. */
  private notifiedRevision: number;
  private knownCompacted: number;
  /** Watchers fed from the writer's results. */
  private readonly live = new LiveWatches();
  /** Watchers still reading history from the log. */
  private readonly catchingUp = new Set<WatchSubscription>();
  private state: 'open' | 'closing' | 'closed' | 'failed' = 'open';
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;
  private writerClosing = false;
  private readonly compactor: Compactor | undefined;
  private readonly statements = new Map<string, Database.Statement>();

  /** Opens (creating if needed) DIR/state.db. */
  constructor(dataDir: string, opts: SqliteBackendOptions = {}) {
    mkdirSync(dataDir, { recursive: true });
    this.path = join(dataDir, stateFileName);
    this.db = openStateDatabase(this.path);
    try {
      createSchema(this.db);
      this.notifiedRevision = this.readCurrentRevision();
      this.knownCompacted = this.readCompactedRevision();
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.writer = new Worker(new URL('./sqlite-writer.js', import.meta.url), { workerData: { path: this.path } });
    this.writer.unref();
    this.writer.on('message', (reply: WriterReply) => this.onReply(reply));
    this.writer.on('error', (err) => this.fail(new BackendUnavailableError(`sqlite writer failed: ${err.message}`, { cause: err })));
    this.writer.on('exit', (code) => {
      if (!this.writerClosing) this.fail(new BackendUnavailableError(`sqlite writer exited unexpectedly (code ${code})`));
    });
    this.checkpointer = new Checkpointer(this.path);
    if (opts.compaction) {
      this.compactor = new Compactor(this, opts.compaction);
      this.compactor.start();
    }
  }

  async currentRevision(): Promise<number> {
    this.checkUsable();
    return this.readCurrentRevision();
  }

  async compactedRevision(): Promise<number> {
    this.checkUsable();
    return this.readCompactedRevision();
  }

  async get(key: string, opts?: { revision?: number }): Promise<{ kv?: KeyValue; revision: number }> {
    this.checkUsable();
    return this.snapshot(() => {
      const revision = this.readRevisionFor(opts?.revision);
      const row = this.stmt<LatestRow>(latestRowAtRevisionSql).get(key, revision);
      return row && row.deleted === 0 ? { kv: kvFromRow(key, row), revision } : { revision };
    });
  }

  async range(prefix: string, opts: RangeOptions = {}): Promise<RangeResult> {
    this.checkUsable();
    const { from, to } = keyInterval(prefix, opts.startKey);
    const names = to === undefined ? 'name >= @from' : 'name >= @from AND name < @to';
    const latest = `SELECT MAX(id) AS id FROM kv WHERE ${names} AND id <= @revision GROUP BY name`;
    const limited = !!opts.limit && opts.limit > 0;
    return this.snapshot(() => {
      const revision = this.readRevisionFor(opts.revision);
      const params: Record<string, string | number> = { from, revision };
      if (to !== undefined) params.to = to;
      let kvs: KeyValue[] = [];
      if (!opts.countOnly) {
        const rows = this.stmt<LatestRow & { name: string }>(
          `SELECT kv.id, kv.name, kv.deleted, kv.create_revision, kv.value FROM kv JOIN (${latest}) AS latest ON kv.id = latest.id
           WHERE kv.deleted = 0 ORDER BY kv.name LIMIT @limit`,
        ).all({ ...params, limit: limited ? (opts.limit as number) : -1 });
        kvs = rows.map((r) => kvFromRow(r.name, r));
      }
      let count = kvs.length;
      if (opts.countOnly || limited) {
        count = this.stmt<{ n: number }>(`SELECT COUNT(*) AS n FROM kv JOIN (${latest}) AS latest ON kv.id = latest.id WHERE kv.deleted = 0`).get(params)?.n ?? 0;
      }
      return { kvs, revision, more: !opts.countOnly && count > kvs.length, count };
    });
  }

  create(key: string, value: string): Promise<WriteResult> {
    return this.write({ op: 'create', key, value });
  }

  update(key: string, value: string, expectedModRevision: number): Promise<WriteResult> {
    return this.write({ op: 'update', key, value, expected: expectedModRevision });
  }

  delete(key: string, expectedModRevision: number): Promise<WriteResult> {
    return this.write({ op: 'delete', key, expected: expectedModRevision });
  }

  watch(prefix: string, opts: WatchOptions, onEvents: (events: WatchEvent[]) => void, onError: (err: Error) => void): Watch {
    const sub = new WatchSubscription(prefix, opts.afterRevision, onEvents, onError, opts.onProgress, opts.prevKv);
    const refusal =
      this.state !== 'open'
        ? (this.failure ?? new BackendUnavailableError('sqlite storage is closed'))
        : opts.afterRevision < this.knownCompacted
          ? new CompactedError(opts.afterRevision, this.knownCompacted)
          : undefined;
    if (refusal) {
      queueMicrotask(() => sub.fail(refusal));
      return sub;
    }
    if (opts.afterRevision >= this.notifiedRevision) {
      this.live.add(sub);
    } else {
      this.catchingUp.add(sub);
      setImmediate(() => this.catchUp(sub));
    }
    return {
      cancel: () => {
        sub.cancel();
        this.live.delete(sub);
        this.catchingUp.delete(sub);
      },
    };
  }

  compact(revision: number): Promise<void> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'compact', revision, resolve, reject }));
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    if (this.state === 'open') this.state = 'closing';
    await this.compactor?.stop();
    if (this.inFlight || this.queue.length > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.checkpointer.close();
    if (this.state === 'closing') {
      const exited = new Promise<void>((resolve) => this.writer.once('exit', () => resolve()));
      this.writerClosing = true;
      this.writer.ref();
      this.writer.postMessage({ type: 'close' } satisfies WriterRequest);
      await exited;
    } else {
      this.writerClosing = true;
      await this.writer.terminate();
    }
    this.state = 'closed';
    for (const sub of [...this.live, ...this.catchingUp]) sub.cancel();
    this.live.clear();
    this.catchingUp.clear();
    this.db.close();
  }

  private write(op: WriteOp): Promise<WriteResult> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'write', op, resolve, reject }));
  }

  private enqueue(item: Queued): void {
    if (this.state !== 'open') {
      item.reject(this.failure ?? new BackendUnavailableError('sqlite storage is closed'));
      return;
    }
    this.queue.push(item);
    if (!this.inFlight && !this.flushScheduled) {
      this.flushScheduled = true;
      // Waiting for the end of the tick lets every write issued in it join one commit.
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  private flush(): void {
    if (this.inFlight || this.queue.length === 0 || this.state === 'failed') return;
    const head = this.queue[0] as Queued;
    let request: WriterRequest;
    if (head.kind === 'compact') {
      this.inFlight = this.queue.splice(0, 1);
      request = { type: 'compact', revision: head.revision };
    } else {
      let n = 0;
      while (n < this.queue.length && n < maxBatch && (this.queue[n] as Queued).kind === 'write') n++;
      const batch = this.queue.splice(0, n) as QueuedWrite[];
      this.inFlight = batch;
      request = { type: 'write', ops: batch.map((w) => w.op) };
    }
    // Keep the process alive only while a write is pending.
    this.writer.ref();
    this.writer.postMessage(request);
  }

  private onReply(reply: WriterReply): void {
    const done = this.inFlight ?? [];
    this.inFlight = undefined;
    // While closing, the pending 'exit' event must keep the process alive.
    if (!this.writerClosing) this.writer.unref();
    switch (reply.type) {
      case 'written':
        this.committed(done as QueuedWrite[], reply.outcomes);
        break;
      case 'compacted':
        this.knownCompacted = Math.max(this.knownCompacted, reply.compacted);
        for (const item of done) (item as QueuedCompaction).resolve();
        break;
      case 'future':
        for (const item of done) item.reject(new FutureRevisionError(reply.requested, reply.current));
        break;
      case 'failed': {
        const err = new BackendUnavailableError(`sqlite write failed: ${reply.message}`);
        for (const item of done) item.reject(err);
        break;
      }
      case 'closed':
        break;
    }
    if (this.queue.length > 0) this.flush();
    else if (this.idleWaiters.length > 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private committed(batch: QueuedWrite[], outcomes: WriteOutcome[]): void {
    const events: WatchEvent[] = [];
    const results: WriteResult[] = new Array(outcomes.length);
    const wantPrev = this.live.wantPrev;
    for (let i = 0; i < outcomes.length; i++) {
      const outcome = outcomes[i]!;
      if (!outcome.ok) {
        results[i] = outcome.current ? { ok: false, revision: outcome.revision, current: outcome.current } : { ok: false, revision: outcome.revision };
        continue;
      }
      const op = (batch[i] as QueuedWrite).op;
      if (op.op === 'delete') {
        const deleted = outcome.prev!;
        events.push({ type: 'delete', key: op.key, revision: outcome.revision, prev: deleted });
        results[i] = { ok: true, revision: outcome.revision, kv: deleted };
      } else {
        // The written value is the caller's own string: watchers and the caller get it back as given.
        const kv: KeyValue = { key: op.key, value: op.value, createRevision: outcome.createRevision, modRevision: outcome.revision };
        const prev = wantPrev && outcome.prevRevision !== undefined ? this.readReplaced(op.key, outcome.prevRevision, outcome.createRevision) : undefined;
        events.push(prev ? { type: 'put', kv, prev } : { type: 'put', kv });
        results[i] = { ok: true, revision: outcome.revision, kv };
      }
      this.notifiedRevision = Math.max(this.notifiedRevision, outcome.revision);
    }
    if (events.length > 0) {
      this.checkpointer.written();
      this.live.deliver(events);
    }
    for (let i = 0; i < outcomes.length; i++) (batch[i] as QueuedWrite).resolve(results[i]!);
  }

  /**
   * The value a put replaced, for the watches that take previous values
   * (the writer reports only its revision). Compaction removes a row only
   * once a later one at or below its target replaces it, and it runs on the
   * writer after the write it follows has been handled here: the row is
   * there until this batch's events are out.
   */
  private readReplaced(key: string, revision: number, createRevision: number): KeyValue | undefined {
    const row = this.stmt<{ value: string }>('SELECT value FROM kv WHERE id = ?').get(revision);
    return row ? { key, value: row.value, createRevision, modRevision: revision } : undefined;
  }

  /**
   * Replays one page of history to a watcher that starts behind the live
   * feed. Pages end at notifiedRevision, and the switch to live happens in
   * the same tick as the last page, so no revision is missed or repeated.
   */
  private catchUp(sub: WatchSubscription): void {
    if (!sub.active || this.state !== 'open') return;
    const until = this.notifiedRevision;
    const from = sub.cursor;
    let page: { compacted: number; rows: HistoryRow[] };
    try {
      page = this.snapshot(() => ({ compacted: this.readCompactedRevision(), rows: this.readHistory(sub.prefix, from, until, sub.prevKv) }));
    } catch (err) {
      this.catchingUp.delete(sub);
      sub.fail(new BackendUnavailableError(`reading watch history failed: ${(err as Error).message}`, { cause: err }));
      return;
    }
    if (page.compacted > from) {
      this.catchingUp.delete(sub);
      sub.fail(new CompactedError(from, page.compacted));
      return;
    }
    sub.deliver(page.rows.map(eventFromRow));
    if (!sub.active) return;
    const last = page.rows[page.rows.length - 1];
    if (last && page.rows.length === replayPage) {
      sub.cursor = last.id;
      setImmediate(() => this.catchUp(sub));
      return;
    }
    sub.cursor = Math.max(sub.cursor, until);
    this.catchingUp.delete(sub);
    this.live.add(sub);
  }

  /** A page of history; an update's replaced value is read (joined) only for a watch that asks for previous values. */
  private readHistory(prefix: string, after: number, until: number, withPrev: boolean): HistoryRow[] {
    const end = prefixEnd(prefix);
    const names = end === undefined ? '' : 'AND kv.name >= @from AND kv.name < @to';
    const params: Record<string, string | number> = { after, until, limit: replayPage };
    if (end !== undefined) Object.assign(params, { from: prefix, to: end });
    const prevValue = withPrev ? 'prev.value' : 'NULL';
    const prevJoin = withPrev ? 'LEFT JOIN kv AS prev ON prev.id = kv.prev_revision AND kv.created = 0 AND kv.deleted = 0' : '';
    return this.stmt<HistoryRow>(
      `SELECT kv.id, kv.name, kv.created, kv.deleted, kv.create_revision, kv.prev_revision, kv.value, ${prevValue} AS prev_value
       FROM kv ${prevJoin} WHERE kv.id > @after AND kv.id <= @until ${names} ORDER BY kv.id LIMIT @limit`,
    ).all(params);
  }

  /** The revision a read is served at; must run inside snapshot(). */
  private readRevisionFor(requested: number | undefined): number {
    const current = this.readCurrentRevision();
    if (!requested) return current;
    const compacted = this.readCompactedRevision();
    if (requested < compacted) throw new CompactedError(requested, compacted);
    if (requested > current) throw new FutureRevisionError(requested, current);
    return requested;
  }

  private readCurrentRevision(): number {
    return this.stmt<{ revision: number }>(currentRevisionSql).get()?.revision ?? 0;
  }

  private readCompactedRevision(): number {
    return this.stmt<{ revision: number }>(compactedRevisionSql).get()?.revision ?? 0;
  }

  /** Runs fn in one read transaction, so all its queries see one revision. */
  private snapshot<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  private stmt<Row>(sql: string): Database.Statement<unknown[], Row> {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s as Database.Statement<unknown[], Row>;
  }

  private checkUsable(): void {
    if (this.state === 'open') return;
    throw this.failure ?? new BackendUnavailableError('sqlite storage is closed');
  }

  private fail(err: Error): void {
    if (this.state === 'closed' || this.state === 'failed') return;
    this.state = 'failed';
    this.failure = err;
    for (const item of [...(this.inFlight ?? []), ...this.queue.splice(0)]) item.reject(err);
    this.inFlight = undefined;
    for (const sub of [...this.live, ...this.catchingUp]) sub.fail(err);
    this.live.clear();
    this.catchingUp.clear();
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

function eventFromRow(row: HistoryRow): WatchEvent {
  if (row.deleted) {
    return { type: 'delete', key: row.name, revision: row.id, prev: { key: row.name, value: row.value, createRevision: row.create_revision, modRevision: row.prev_revision } };
  }
  const kv: KeyValue = { key: row.name, value: row.value, createRevision: row.create_revision, modRevision: row.id };
  if (row.created || row.prev_value === null) return { type: 'put', kv };
  return { type: 'put', kv, prev: { key: row.name, value: row.prev_value, createRevision: row.create_revision, modRevision: row.prev_revision } };
}
