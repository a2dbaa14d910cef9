// Controller expectations, as Kubernetes' ControllerExpectations: after a
// controller creates or deletes pods, its informer lags behind the writes, so
// a sync that ran on the stale cache would create or delete again. A key's
// expectations are "satisfied" once every write it made has been seen come
// back through the informer (or after a timeout, in case an event was lost).
// Deletions are tracked by pod uid (UIDTrackingControllerExpectations): a
// deletion counts once, whether seen as a deletionTimestamp or as the delete
// itself.

interface Expected {
  adds: number;
  /** uids of pods whose deletion has not been seen yet */
  deletes: Set<string>;
  /** uids of pods whose finalizer removal has not been seen yet */
  finalizers: Set<string>;
  setAt: number;
}

/** Kubernetes' ExpectationsTimeout. */
const defaultTimeoutMs = 5 * 60_000;

export class Expectations {
  private readonly byKey = new Map<string, Expected>();

  constructor(
    private readonly timeoutMs = defaultTimeoutMs,
    private readonly now: () => number = Date.now,
  ) {}

  private entry(key: string): Expected {
    let e = this.byKey.get(key);
    if (!e) {
      e = { adds: 0, deletes: new Set(), finalizers: new Set(), setAt: this.now() };
      this.byKey.set(key, e);
    }
    return e;
  }

  expectCreations(key: string, n: number): void {
    const e = this.entry(key);
    e.adds += n;
    e.setAt = this.now();
  }

  creationObserved(key: string): void {
    const e = this.byKey.get(key);
    if (e && e.adds > 0) e.adds--;
  }

  expectDeletions(key: string, uids: readonly string[]): void {
    const e = this.entry(key);
    for (const uid of uids) e.deletes.add(uid);
    e.setAt = this.now();
  }

  deletionObserved(key: string, uid: string): void {
    this.byKey.get(key)?.deletes.delete(uid);
  }

  expectFinalizersRemoved(key: string, uids: readonly string[]): void {
    const e = this.entry(key);
    for (const uid of uids) e.finalizers.add(uid);
  }

  finalizerRemovalObserved(key: string, uid: string): void {
    this.byKey.get(key)?.finalizers.delete(uid);
  }

  /** uids whose finalizer removal is still on its way through the informer. */
  expectedFinalizerRemovals(key: string): ReadonlySet<string> {
    return this.byKey.get(key)?.finalizers ?? new Set();
  }

  /** True when no creations or deletions are outstanding (or they timed out). */
  satisfied(key: string): boolean {
    const e = this.byKey.get(key);
    if (!e) return true;
    if (e.adds <= 0 && e.deletes.size === 0) return true;
    if (this.now() - e.setAt > this.timeoutMs) {
      e.adds = 0;
      e.deletes.clear();
      return true;
    }
    return false;
  }

  /** What is still awaited (for tests and logs). */
  pending(key: string): { adds: number; deletes: number } | undefined {
    const e = this.byKey.get(key);
    return e && { adds: e.adds, deletes: e.deletes.size };
  }

  forget(key: string): void {
    this.byKey.delete(key);
  }
}
