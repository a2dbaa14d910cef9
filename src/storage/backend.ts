// The storage contract every backend (memory, sqlite, etcd) implements.
// It is etcd's data model: a flat, ordered key space, every write gets the
// next cluster-wide revision, writes are compare-and-swap on a key's
// modRevision, and watchers replay the log from a revision.

/** One stored key as it is at some revision. */
export interface KeyValue {
  key: string;
  /** Serialized object (JSON text). */
  value: string;
  /** Revision at which the key was (last) created. */
  createRevision: number;
  /** Revision of the last write to the key; the object's resourceVersion. */
  modRevision: number;
}

export interface RangeOptions {
  /** Read the state as of this revision (0 = current). Older than the compacted revision -> CompactedError. */
  revision?: number;
  /** At most this many keys (0 = no limit). */
  limit?: number;
  /** Start at this key (inclusive); must lie within the prefix. Used for paging. */
  startKey?: string;
  /** Only count; return no kvs. */
  countOnly?: boolean;
}

export interface RangeResult {
  kvs: KeyValue[];
  /** The revision the read was served at. */
  revision: number;
  /** True when limit cut the result short. */
  more: boolean;
  /** Number of keys under the prefix at that revision (from startKey on). */
  count: number;
}

/** Outcome of a compare-and-swap write. */
export type WriteResult =
  | { ok: true; revision: number; kv: KeyValue }
  /** The compare failed: current is the key's value now (undefined when absent). */
  | { ok: false; revision: number; current?: KeyValue };

/**
 * A put carries the value it replaced (prev) only for a watch that asked
 * for previous values (WatchOptions.prevKv), and never for a create; a
 * delete always carries the value it deleted.
 */
export type WatchEvent =
  | { type: 'put'; kv: KeyValue; prev?: KeyValue }
  | { type: 'delete'; key: string; revision: number; prev: KeyValue };

export interface WatchOptions {
  /** Deliver every event with revision > afterRevision. Older than the compacted revision -> onError(CompactedError). */
  afterRevision: number;
  /**
   * Progress notification, as etcd's: called with a revision once every event
   * up to it under the prefix has been delivered, also when writes elsewhere
   * moved the store on. Backends that cannot tell (etcd here) never call it.
   */
  onProgress?: (revision: number) => void;
  /**
   * Puts carry the value they replaced, as etcd's watch with prev_kv. Off
   * by default, as in etcd: the value is then neither read nor copied.
   */
  prevKv?: boolean;
}

export interface Watch {
  /** Stop delivering events; idempotent. */
  cancel(): void;
}

export interface Backend {
  readonly name: string;
  /**
   * The servers behind the store, each to be checked on its own (an etcd
   * cluster's members, as kube-apiserver lists etcd-0, etcd-1 ... among its
   * component statuses); absent for a store of this process's own.
   */
  servers?(): StorageServer[];
  /** Current revision of the whole store. */
  currentRevision(): Promise<number>;
  /** The revision below which history has been dropped. */
  compactedRevision(): Promise<number>;
  get(key: string, opts?: { revision?: number }): Promise<{ kv?: KeyValue; revision: number }>;
  /** Keys with this prefix, in key order. */
  range(prefix: string, opts?: RangeOptions): Promise<RangeResult>;
  /** Create the key if it does not exist. */
  create(key: string, value: string): Promise<WriteResult>;
  /** Replace the value if the key's modRevision is still expectedModRevision. */
  update(key: string, value: string, expectedModRevision: number): Promise<WriteResult>;
  /** Delete the key if its modRevision is expectedModRevision (0 = unconditionally). */
  delete(key: string, expectedModRevision: number): Promise<WriteResult>;
  /**
   * Watch every key with this prefix. Events arrive in revision order, each
   * batch of one transaction together. A watch that cannot go on (compaction,
   * backend failure) calls onError once and delivers nothing more.
   */
  watch(prefix: string, opts: WatchOptions, onEvents: (events: WatchEvent[]) => void, onError: (err: Error) => void): Watch;
  /** Drop history older than revision, keeping every key's value at that revision. */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}

/** A read or watch asked for a revision that compaction has dropped. */
export class CompactedError extends Error {
  override readonly name = 'CompactedError';
  constructor(
    readonly requested: number,
    readonly compacted: number,
  ) {
    super(`required revision ${requested} has been compacted (oldest available is ${compacted + 1})`);
  }
}

/** The backend cannot be reached or failed; the request may be retried. */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** One server of a store: where it is, and a check that rejects when it does not answer. */
export interface StorageServer {
  endpoint: string;
  check(): Promise<void>;
}
