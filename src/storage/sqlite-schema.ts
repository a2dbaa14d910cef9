// The SQLite layout shared by SqliteBackend (reads, on the caller's thread)
// and its writer thread: an append-only log with one row per write, whose
// id is the write's revision.
//
//   created  1 on the row that (re)creates a key
//   deleted  1 on a tombstone; it repeats the deleted value so a delete
//            event can carry it after older rows are compacted away
//   prev_revision  id of the key's previous row (0 for a first create);
//            UNIQUE (name, prev_revision) lets only one write follow a row
//
// A read at revision R takes, per key, the row with the largest id <= R.
//
// The one index, (name, prev_revision), also finds a key's rows in id
// order: each row names the key's newest row before it, so a key's
// prev_revision grows with its id (compaction removes rows, never reorders
// them), and an index entry carries its row's id. A second index on
// (name, id) would cost every write a third B-tree to change and a commit
// a page more per write to sync, for the same order.

import Database from 'better-sqlite3';
import type { KeyValue } from './backend.js';

export const stateFileName = 'state.db';

export function openStateDatabase(path: string): Database.Database {
  const db = new Database(path);
  try {
    // Only takes effect before the first table exists, which is the point:
    // a new file is created able to hand freed pages back after compaction.
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    // FULL syncs the WAL at every commit: a write is acknowledged only once on disk.
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 10000');
    // Without a limit the WAL file stays as large as its largest burst.
    db.pragma(`journal_size_limit = ${16 * 1024 * 1024}`);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

export function createSchema(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS kv (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      name TEXT NOT NULL,
      created INTEGER NOT NULL,
      deleted INTEGER NOT NULL,
      create_revision INTEGER NOT NULL,
      prev_revision INTEGER NOT NULL,
      value TEXT NOT NULL
    );
    CREATE UNIQUE INDEX IF NOT EXISTS kv_name_prev_revision ON kv (name, prev_revision);
    DROP INDEX IF EXISTS kv_name_id;
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', 1), ('compact_revision', 0);
  `);
}

/** A key's newest row (the last in prev_revision order, which is id order), with the given columns and condition. */
function latestRowQuery(columns: string, condition = ''): string {
  return `SELECT ${columns} FROM kv WHERE name = ?${condition} ORDER BY prev_revision DESC LIMIT 1`;
}

/** A key's newest row. */
export const latestRowSql = latestRowQuery('id, deleted, create_revision, value');
/** A key's newest row without its value: what a create or an update compares with. */
export const latestRowMetaSql = latestRowQuery('id, deleted, create_revision');
/** A key's newest row whose id is at most the second parameter (a read at that revision). */
export const latestRowAtRevisionSql = latestRowQuery('id, deleted, create_revision, value', ' AND id <= ?');

/** AUTOINCREMENT's counter, which survives compaction deleting the newest rows. */
export const currentRevisionSql = `SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'kv'), 0) AS revision`;
export const compactedRevisionSql = `SELECT value AS revision FROM meta WHERE key = 'compact_revision'`;

export interface LatestRowMeta {
  id: number;
  deleted: number;
  create_revision: number;
}

export interface LatestRow extends LatestRowMeta {
  value: string;
}

export function kvFromRow(name: string, row: LatestRow): KeyValue {
  return { key: name, value: row.value, createRevision: row.create_revision, modRevision: row.id };
}

// Messages between SqliteBackend and its writer thread. One request is in
// flight at a time, so replies need no ids.

export type WriteOp =
  | { op: 'create'; key: string; value: string }
  | { op: 'update'; key: string; value: string; expected: number }
  | { op: 'delete'; key: string; expected: number };

/**
 * A successful write names its revision and the key's createRevision, not
 * the value, which the caller has (sending it back would copy it twice).
 * An update names the revision it replaced (prevRevision), whose value is
 * read only for watches that ask for previous values; a delete returns the
 * deleted value (prev).
 */
export type WriteOutcome =
  | { ok: true; revision: number; createRevision: number; prevRevision?: number; prev?: KeyValue }
  | { ok: false; revision: number; current?: KeyValue };

export type WriterRequest = { type: 'write'; ops: WriteOp[] } | { type: 'compact'; revision: number } | { type: 'close' };

export type WriterReply =
  | { type: 'written'; outcomes: WriteOutcome[] }
  | { type: 'compacted'; compacted: number; removed: number }
  | { type: 'future'; requested: number; current: number }
  | { type: 'failed'; message: string; code?: string }
  | { type: 'closed' };

export type CheckpointRequest = { type: 'checkpoint' } | { type: 'close' };
export type CheckpointReply = { type: 'checkpointed' } | { type: 'failed'; message: string };
