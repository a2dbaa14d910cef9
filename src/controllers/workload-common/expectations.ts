// Controller expectations, as Kubernetes' ControllerExpectations: after a
// controller creates or deletes pods, its informer lags behind the writes, so
// a sync that ran on the stale cache would create or delete again. A key's
// expectations are "satisfied" once every write it made has been seen come
// back through the informer (or after a timeout, in case an event was lost).

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

  constructor(private readonly timeoutMs = defaultTimeoutMs) {}

  private entry(key: string): Expected {
    let e = this.byKey.get(key);
    if (!e) {
      e = { adds: 0, deletes: new Set(), finalizers: new Set(), setAt: Date.now() };
      this.byKey.set(key, e);
    }
    return e;
  }

  expectCreations(key: string, n: number): void {
    const e = this.entry(key);
    e.adds += n;
    e.setAt = Date.now();
  }

  creationObserved(key: string): void {
    const e = this.byKey.get(key);
    if (e && e.adds > 0) e.adds--;
  }

  expectDeletions(key: string, uids: readonly string[]): void {
    const e = this.entry(key);
    for (const uid of uids) e.deletes.add(uid);
    e.setAt = Date.now();
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
    if (Date.now() - e.setAt > this.timeoutMs) {
      e.adds = 0;
      e.deletes.clear();
      return true;
    }
    return false;
  }

  forget(key: string): void {
    this.byKey.delete(key);
  }
}
