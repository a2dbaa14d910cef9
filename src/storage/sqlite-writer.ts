// SqliteBackend's writer thread. Every write batch is one transaction, so one
// fsync acknowledges all writes queued together (group commit), while the
// caller's thread keeps serving reads and requests during the sync.

import { parentPort, workerData } from 'node:worker_threads';
import { compactedRevisionSql, currentRevisionSql, kvFromRow, latestRowMetaSql, latestRowSql, openStateDatabase } from './sqlite-schema.js';
import type { LatestRow, LatestRowMeta, WriteOp, WriteOutcome, WriterReply, WriterRequest } from './sqlite-schema.js';

const port = parentPort;
if (!port) throw new Error('sqlite-writer must run as a worker thread');
// SqliteBackend created the schema before starting this thread.
const db = openStateDatabase((workerData as { path: string }).path);

const latestStmt = db.prepare<[string], LatestRow>(latestRowSql);
const latestMetaStmt = db.prepare<[string], LatestRowMeta>(latestRowMetaSql);
const insertStmt = db.prepare<[number, string, number, number, number, number, string]>(
  'INSERT INTO kv (id, name, created, deleted, create_revision, prev_revision, value) VALUES (?, ?, ?, ?, ?, ?, ?)',
);
const currentRevisionStmt = db.prepare<[], { revision: number }>(currentRevisionSql);
const compactedRevisionStmt = db.prepare<[], { revision: number }>(compactedRevisionSql);
// A row is superseded once a later row at or below the target names it as
// its previous row; tombstones at or below the target go too. Scanning only
// (from, to] suffices because earlier rows were handled by earlier compactions.
const compactStmt = db.prepare<{ from: number; to: number }>(`
  DELETE FROM kv WHERE id IN (
    SELECT prev_revision FROM kv WHERE id > @from AND id <= @to AND prev_revision != 0
    UNION ALL
    SELECT id FROM kv WHERE id > @from AND id <= @to AND deleted = 1)`);
const setCompactedStmt = db.prepare<[number]>(`UPDATE meta SET value = ? WHERE key = 'compact_revision'`);

let revision = readRevision();

function readRevision(): number {
  return currentRevisionStmt.get()?.revision ?? 0;
}

function append(name: string, created: boolean, deleted: boolean, createRevision: number, prevRevision: number, value: string): number {
  const id = revision + 1;
  insertStmt.run(id, name, created ? 1 : 0, deleted ? 1 : 0, createRevision === 0 ? id : createRevision, prevRevision, value);
  revision = id;
  return id;
}

/** A failed compare, given the key's newest row: the key's value now, if it has one. */
function failed(key: string, row: LatestRow | undefined): WriteOutcome {
  return row && row.deleted === 0 ? { ok: false, revision, current: kvFromRow(key, row) } : { ok: false, revision };
}

/** A failed compare of a create or an update, which read the newest row without its value: read again with it. */
function conflict(key: string): WriteOutcome {
  return failed(key, latestStmt.get(key));
}

// Each compare is checked against the key's newest row, not left to the
// UNIQUE index alone: after compaction a stale prev_revision may no longer
// collide with anything. A create or an update reads that row without its
// value (the value is read again only on a conflict): nothing needs it.
function apply(op: WriteOp): WriteOutcome {
  switch (op.op) {
    case 'create': {
      const row = latestMetaStmt.get(op.key);
      if (row && row.deleted === 0) return conflict(op.key);
      const id = append(op.key, true, false, 0, row?.id ?? 0, op.value);
      return { ok: true, revision: id, createRevision: id };
    }
    case 'update': {
      const row = latestMetaStmt.get(op.key);
      if (!row || row.deleted !== 0 || row.id !== op.expected) return conflict(op.key);
      const id = append(op.key, false, false, row.create_revision, row.id, op.value);
      return { ok: true, revision: id, createRevision: row.create_revision, prevRevision: row.id };
    }
    case 'delete': {
      const row = latestStmt.get(op.key);
      if (!row || row.deleted !== 0 || (op.expected !== 0 && row.id !== op.expected)) return failed(op.key, row);
      const deleted = kvFromRow(op.key, row);
      const id = append(op.key, false, true, deleted.createRevision, deleted.modRevision, deleted.value);
      return { ok: true, revision: id, createRevision: deleted.createRevision, prev: deleted };
    }
  }
}

const applyBatch = db.transaction((ops: WriteOp[]) => ops.map(apply));

const compactChunk = db.transaction((from: number, to: number) => {
  const { changes } = compactStmt.run({ from, to });
  setCompactedStmt.run(to);
  return changes;
});

// Bounded chunks keep each transaction, and the WAL it produces, small.
const compactionChunk = 10_000;

function compact(target: number): WriterReply {
  const current = readRevision();
  if (target > current) return { type: 'future', requested: target, current };
  let compacted = compactedRevisionStmt.get()?.revision ?? 0;
  if (target <= compacted) return { type: 'compacted', compacted, removed: 0 };
  let removed = 0;
  while (compacted < target) {
    const to = Math.min(target, compacted + compactionChunk);
    removed += compactChunk.immediate(compacted, to);
    compacted = to;
  }
  // Hand freed pages back to the file system, then fold the WAL into the
  // database and truncate it, so disk use follows live data.
  db.pragma('incremental_vacuum');
  truncateWal();
  return { type: 'compacted', compacted, removed };
}

/** A checkpoint that empties the WAL file; the checkpointer thread may hold the checkpoint lock for a moment. */
function truncateWal(): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 0; attempt < 200; attempt++) {
    const [row] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
    if (!row || row.busy === 0) return;
    Atomics.wait(pause, 0, 0, 5);
  }
}

function handle(request: WriterRequest): WriterReply {
  switch (request.type) {
    case 'write':
      try {
        return { type: 'written', outcomes: applyBatch.immediate(request.ops) };
      } catch (err) {
        revision = readRevision();
        throw err;
      }
    case 'compact':
      return compact(request.revision);
    case 'close':
      db.close();
      return { type: 'closed' };
  }
}

port.on('message', (request: WriterRequest) => {
  let reply: WriterReply;
  try {
    reply = handle(request);
  } catch (err) {
    const e = err as Error & { code?: unknown };
    reply = { type: 'failed', message: e.message, ...(typeof e.code === 'string' ? { code: e.code } : {}) };
  }
  port.postMessage(reply);
  if (reply.type === 'closed') port.close();
});
