// Controller expectations (pkg/controller's UIDTrackingControllerExpectations):
// how many creates a controller still waits to see in its pod informer, and
// which pods it waits to see deleted, so it never acts again on a cache that
// does not show its own writes yet.

/** How long unmet expectations hold a controller back (Kubernetes: 5 minutes). */
export const expectationsTimeoutMs = 5 * 60 * 1000;

interface Expectation {
  adds: number;
  deletes: Set<string>;
  timestamp: number;
}

export class Expectations {
  private readonly items = new Map<string, Expectation>();

  constructor(
    private readonly timeoutMs = expectationsTimeoutMs,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when the controller may act: no record, all seen, or the record expired. */
  satisfied(key: string): boolean {
    const e = this.items.get(key);
    if (!e) return true;
    if (e.adds <= 0 && e.deletes.size === 0) return true;
    return this.now() - e.timestamp > this.timeoutMs;
  }

  expectCreations(key: string, count: number): void {
    this.items.set(key, { adds: count, deletes: new Set(), timestamp: this.now() });
  }

  expectDeletions(key: string, podKeys: string[]): void {
    this.items.set(key, { adds: 0, deletes: new Set(podKeys), timestamp: this.now() });
  }

  creationObserved(key: string): void {
    const e = this.items.get(key);
    if (e) e.adds--;
  }

  /** A pod deletion counts once, whether seen as a deletionTimestamp or as the delete itself. */
  deletionObserved(key: string, podKey: string): void {
    this.items.get(key)?.deletes.delete(podKey);
  }

  delete(key: string): void {
    this.items.delete(key);
  }

  /** What is still awaited (for tests and logs). */
  pending(key: string): { adds: number; deletes: number } | undefined {
    const e = this.items.get(key);
    return e && { adds: e.adds, deletes: e.deletes.size };
  }
}
