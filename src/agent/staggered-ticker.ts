// One timer for many periodic jobs: every item comes round once per period,
// items spread evenly across it, so a thousand nodes renewing leases every
// 10 s make a steady hundred writes a second instead of a burst of a thousand.
export class StaggeredTicker<T> {
  private readonly slots: T[][];
  private next = 0;
  private slot = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly periodMs: number,
    private readonly onItem: (item: T) => void,
    slotCount = 50,
  ) {
    const count = Math.max(1, Math.min(slotCount, Math.floor(periodMs / 10) || 1));
    this.slots = Array.from({ length: count }, () => []);
  }

  /** Adds an item to the next slot, round-robin. */
  add(item: T): void {
    this.slots[this.next]!.push(item);
    this.next = (this.next + 1) % this.slots.length;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      const items = this.slots[this.slot]!;
      this.slot = (this.slot + 1) % this.slots.length;
      for (const item of items) this.onItem(item);
    }, this.periodMs / this.slots.length);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
