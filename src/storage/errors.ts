// Storage errors beyond the ones the contract (backend.ts) declares.

/**
 * A read or compaction named a revision the store has not reached yet
 * (etcd: "mvcc: required revision is a future revision"). The API server
 * answers such a list with "Too large resource version".
 */
export class FutureRevisionError extends Error {
  override readonly name = 'FutureRevisionError';
  constructor(
    readonly requested: number,
    readonly current: number,
  ) {
    super(`required revision ${requested} is a future revision (current revision is ${current})`);
  }
}
