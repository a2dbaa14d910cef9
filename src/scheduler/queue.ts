// The scheduling queue (Kubernetes' PriorityQueue): an active heap ordered by
// the QueueSort plugin, a backoff heap for pods that failed recently (1 s
// doubling to 10 s by default), and a set of unschedulable pods that wait
// for a cluster event that may help them, or for the periodic flush.
import type { ClusterEvent, ClusterEventWithHint, QueuedPodInfo } from './framework.js';
import { Heap } from './heap.js';
import type { PodInfo } from './pod-info.js';

export interface SchedulingQueueOptions {
  /** The QueueSort plugin's order. */
  less: (a: QueuedPodInfo, b: QueuedPodInfo) => boolean;
  podInitialBackoffMs?: number;
  podMaxBackoffMs?: number;
  /** How long a pod may stay unschedulable before it is retried anyway. */
  unschedulableFlushMs?: number;
  /** Cluster events each plugin registered, by plugin name. */
  pluginEvents?: Map<string, ClusterEventWithHint[]>;
  /** False when the pod may not be queued yet (scheduling gates). */
  preEnqueue?: (pod: PodInfo) => boolean;
  now?: () => number;
  /** Run the backoff and unschedulable flush timers (tests drive flushes by hand with false). */
  timers?: boolean;
  log?: (line: string) => void;
}

export const unschedulableTimeout: ClusterEvent = { resource: '*', actionType: 4095, label: 'UnschedulableTimeout' };
export const forceActivate: ClusterEvent = { resource: '*', actionType: 4095, label: 'ForceActivate' };

interface InFlight {
  qp: QueuedPodInfo;
  /** Index into inFlightEvents when the pod was popped. */
  eventIndex: number;
  deleted: boolean;
  /** The latest object seen while in flight. */
  latest?: PodInfo;
  /** The pod's spec or metadata changed while in flight. */
  updated: boolean;
}

interface RecordedEvent {
  event: ClusterEvent;
  oldObj: unknown;
  newObj: unknown;
}

/** Pods nominated to nodes (room was made for them by preemption). */
export class Nominator {
  private readonly byNode = new Map<string, PodInfo[]>();
  private readonly nodeOf = new Map<string, string>();
  private static readonly none: readonly PodInfo[] = [];

  /** Records the pod as nominated to nodeName (or to its status.nominatedNodeName); no node removes it. */
  add(pod: PodInfo, nodeName?: string): void {
    this.delete(pod.key);
    const node = nodeName ?? pod.pod.status?.nominatedNodeName ?? '';
    if (!node) return;
    this.nodeOf.set(pod.key, node);
    let list = this.byNode.get(node);
    if (!list) this.byNode.set(node, (list = []));
    list.push(pod);
  }

  /** Follows an update: a nomination the scheduler made is kept until the pod's status shows another. */
  update(oldPod: PodInfo, newPod: PodInfo): void {
    const oldNode = oldPod.pod.status?.nominatedNodeName ?? '';
    const newNode = newPod.pod.status?.nominatedNodeName ?? '';
    const current = this.nodeOf.get(newPod.key);
    if (!newNode && !oldNode && current) this.add(newPod, current);
    else this.add(newPod, newNode);
  }

  delete(key: string): void {
    const node = this.nodeOf.get(key);
    if (node === undefined) return;
    this.nodeOf.delete(key);
    const list = this.byNode.get(node);
    if (!list) return;
    const rest = list.filter((p) => p.key !== key);
    if (rest.length) this.byNode.set(node, rest);
    else this.byNode.delete(node);
  }

  forNode(nodeName: string): readonly PodInfo[] {
    return this.byNode.get(nodeName) ?? Nominator.none;
  }

  nodeOfPod(key: string): string | undefined {
    return this.nodeOf.get(key);
  }
}

/** Deep equality of JSON values. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], bb[i])) return false;
    return true;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  if (ak.length !== bk.length) return false;
  for (const k of ak) if (!jsonEqual(ao[k], bo[k])) return false;
  return true;
}

const ignoredMetadata = new Set(['resourceVersion', 'generation', 'managedFields', 'finalizers']);

/** True when anything but status and bookkeeping metadata changed (Kubernetes' isPodUpdated). */
export function isPodUpdated(oldPod: PodInfo, newPod: PodInfo): boolean {
  if (!jsonEqual(oldPod.pod.spec, newPod.pod.spec)) return true;
  const om = oldPod.pod.metadata;
  const nm = newPod.pod.metadata;
  const keys = new Set([...Object.keys(om), ...Object.keys(nm)]);
  for (const k of keys) if (!ignoredMetadata.has(k) && !jsonEqual(om[k], nm[k])) return true;
  return false;
}

export class SchedulingQueue {
  private readonly activeQ: Heap<QueuedPodInfo>;
  private readonly backoffQ: Heap<QueuedPodInfo>;
  private readonly unschedulable = new Map<string, QueuedPodInfo>();
  private readonly inFlight = new Map<string, InFlight>();
  private inFlightEvents: RecordedEvent[] = [];
  private inFlightEventsBase = 0;
  private readonly waiters: ((qp: QueuedPodInfo | undefined) => void)[] = [];
  private closed = false;
  private backoffTimer: NodeJS.Timeout | undefined;
  private backoffTimerAt = Infinity;
  private flushTimer: NodeJS.Timeout | undefined;
  readonly nominator = new Nominator();
  /** Incremented by every pop. */
  schedulingCycle = 0;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly flushMs: number;
  private readonly now: () => number;
  private readonly pluginEvents: Map<string, ClusterEventWithHint[]>;

  constructor(private readonly opts: SchedulingQueueOptions) {
    this.initialBackoffMs = opts.podInitialBackoffMs ?? 1000;
    this.maxBackoffMs = Math.max(opts.podMaxBackoffMs ?? 10_000, this.initialBackoffMs);
    this.flushMs = opts.unschedulableFlushMs ?? 60_000;
    this.now = opts.now ?? Date.now;
    this.pluginEvents = opts.pluginEvents ?? new Map();
    const key = (qp: QueuedPodInfo) => qp.podInfo.key;
    this.activeQ = new Heap(key, opts.less);
    this.backoffQ = new Heap(key, (a, b) => this.backoffExpiry(a) < this.backoffExpiry(b));
    if (opts.timers !== false) {
      this.flushTimer = setInterval(() => this.flushUnschedulableLeftover(), Math.max(10, Math.min(30_000, this.flushMs / 2)));
      this.flushTimer.unref();
    }
  }

  /** How long a pod with this many attempts backs off: initial, doubled per further attempt, capped. */
  backoffDuration(attempts: number): number {
    if (attempts <= 0) return 0;
    let d = this.initialBackoffMs;
    for (let i = 1; i < attempts; i++) {
      if (d >= this.maxBackoffMs - d) return this.maxBackoffMs;
      d += d;
    }
    return Math.min(d, this.maxBackoffMs);
  }

  private backoffExpiry(qp: QueuedPodInfo): number {
    return qp.timestamp + this.backoffDuration(qp.attempts);
  }

  private isBackingOff(qp: QueuedPodInfo): boolean {
    return this.backoffExpiry(qp) > this.now();
  }

  private newQueued(pod: PodInfo): QueuedPodInfo {
    const now = this.now();
    return { podInfo: pod, timestamp: now, attempts: 0, initialAttemptTimestamp: now, unschedulablePlugins: new Set(), gated: false };
  }

  private gated(pod: PodInfo): boolean {
    return this.opts.preEnqueue ? !this.opts.preEnqueue(pod) : false;
  }

  private pushActive(qp: QueuedPodInfo): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter(this.takeForScheduling(qp));
      return;
    }
    this.activeQ.addOrUpdate(qp);
  }

  private pushBackoff(qp: QueuedPodInfo): void {
    this.backoffQ.addOrUpdate(qp);
    this.armBackoffTimer();
  }

  /** A new pod waiting to be scheduled. */
  add(pod: PodInfo): void {
    if (this.closed) return;
    const flight = this.inFlight.get(pod.key);
    if (flight) {
      flight.latest = pod;
      return;
    }
    const existing = this.find(pod.key);
    if (existing) {
      this.update(existing.podInfo, pod);
      return;
    }
    this.nominator.add(pod);
    const qp = this.newQueued(pod);
    if (this.gated(pod)) {
      qp.gated = true;
      this.unschedulable.set(pod.key, qp);
      return;
    }
    this.pushActive(qp);
  }

  private find(key: string): QueuedPodInfo | undefined {
    return this.activeQ.get(key) ?? this.backoffQ.get(key) ?? this.unschedulable.get(key);
  }

  /** The pod changed while waiting (or while being scheduled). */
  update(oldPod: PodInfo, newPod: PodInfo): void {
    if (this.closed) return;
    this.nominator.update(oldPod, newPod);
    const key = newPod.key;
    const flight = this.inFlight.get(key);
    if (flight) {
      flight.latest = newPod;
      if (isPodUpdated(oldPod, newPod)) flight.updated = true;
      return;
    }
    const active = this.activeQ.get(key);
    if (active) {
      active.podInfo = newPod;
      this.activeQ.addOrUpdate(active);
      return;
    }
    const backoff = this.backoffQ.get(key);
    if (backoff) {
      backoff.podInfo = newPod;
      this.backoffQ.addOrUpdate(backoff);
      return;
    }
    const waiting = this.unschedulable.get(key);
    if (waiting) {
      const changed = isPodUpdated(oldPod, newPod);
      waiting.podInfo = newPod;
      if (!changed) return;
      if (this.gated(newPod)) {
        waiting.gated = true;
        return;
      }
      const wasGated = waiting.gated;
      waiting.gated = false;
      this.unschedulable.delete(key);
      if (!wasGated && this.isBackingOff(waiting)) this.pushBackoff(waiting);
      else this.pushActive(waiting);
      return;
    }
    this.add(newPod);
  }

  /** The pod is gone, or no longer ours to schedule. */
  delete(key: string): void {
    this.nominator.delete(key);
    this.activeQ.delete(key);
    this.backoffQ.delete(key);
    this.unschedulable.delete(key);
    const flight = this.inFlight.get(key);
    if (flight) flight.deleted = true;
  }

  private takeForScheduling(qp: QueuedPodInfo): QueuedPodInfo {
    this.schedulingCycle++;
    qp.attempts++;
    qp.unschedulablePlugins = new Set();
    this.inFlight.set(qp.podInfo.key, { qp, eventIndex: this.inFlightEventsBase + this.inFlightEvents.length, deleted: false, updated: false });
    return qp;
  }

  /** The next pod to schedule, without waiting (undefined when none is active). */
  tryPop(): QueuedPodInfo | undefined {
    const qp = this.activeQ.pop();
    return qp ? this.takeForScheduling(qp) : undefined;
  }

  /** The next pod to schedule; waits for one; undefined once closed. */
  pop(): Promise<QueuedPodInfo | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const qp = this.tryPop();
    if (qp) return Promise.resolve(qp);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The scheduling attempt of the pod ended (it was assumed on a node, or dropped). */
  done(key: string): void {
    this.inFlight.delete(key);
    this.trimInFlightEvents();
  }

  /**
   * Puts a pod that failed back: to backoff when it failed with an error, or
   * when an event that may help it came while it was being scheduled; to the
   * unschedulable set otherwise.
   */
  addUnschedulableIfNotPresent(qp: QueuedPodInfo): void {
    const key = qp.podInfo.key;
    const flight = this.inFlight.get(key);
    this.inFlight.delete(key);
    if (this.closed || flight?.deleted) {
      this.trimInFlightEvents();
      return;
    }
    if (this.find(key)) {
      this.trimInFlightEvents();
      return;
    }
    if (flight?.latest) qp.podInfo = flight.latest;
    qp.timestamp = this.now();
    let toBackoff = qp.unschedulablePlugins.size === 0 || flight?.updated === true;
    if (!toBackoff && flight) {
      for (let i = flight.eventIndex - this.inFlightEventsBase; i < this.inFlightEvents.length; i++) {
        const e = this.inFlightEvents[i];
        if (e && this.podMatchesEvent(qp, e.event, e.oldObj, e.newObj)) {
          toBackoff = true;
          break;
        }
      }
    }
    this.trimInFlightEvents();
    if (toBackoff) this.pushBackoff(qp);
    else this.unschedulable.set(key, qp);
  }

  private trimInFlightEvents(): void {
    if (this.inFlight.size === 0) {
      this.inFlightEventsBase += this.inFlightEvents.length;
      this.inFlightEvents = [];
    }
  }

  /** True when one of the plugins that rejected the pod registered the event (and its hint, if any, says it may help). */
  private podMatchesEvent(qp: QueuedPodInfo, event: ClusterEvent, oldObj: unknown, newObj: unknown): boolean {
    if (event.resource === '*') return true;
    if (qp.unschedulablePlugins.size === 0) return true;
    for (const plugin of qp.unschedulablePlugins) {
      const regs = this.pluginEvents.get(plugin);
      // A plugin that registered nothing may be helped by anything.
      if (!regs) return true;
      for (const reg of regs) {
        if (reg.event.resource !== event.resource && reg.event.resource !== '*') continue;
        if ((reg.event.actionType & event.actionType) === 0) continue;
        if (!reg.hint) return true;
        try {
          if (reg.hint(qp.podInfo, oldObj, newObj)) return true;
        } catch {
          return true;
        }
      }
    }
    return false;
  }

  /** A cluster event happened: unschedulable pods it may help go to backoff (or active when their backoff is over). */
  moveAllToActiveOrBackoffQueue(event: ClusterEvent, oldObj?: unknown, newObj?: unknown): void {
    if (this.closed) return;
    if (this.inFlight.size > 0) this.inFlightEvents.push({ event, oldObj, newObj });
    if (this.unschedulable.size === 0) return;
    let moved = 0;
    for (const [key, qp] of this.unschedulable) {
      if (qp.gated) continue;
      if (!this.podMatchesEvent(qp, event, oldObj, newObj)) continue;
      this.unschedulable.delete(key);
      moved++;
      if (this.isBackingOff(qp)) this.pushBackoff(qp);
      else this.pushActive(qp);
    }
    if (moved > 0) this.opts.log?.(`${event.label}: ${moved} unschedulable pod(s) queued again`);
  }

  /** Moves pods whose backoff is over to the active heap. */
  flushBackoffCompleted(): void {
    const now = this.now();
    for (;;) {
      const head = this.backoffQ.peek();
      if (!head || this.backoffExpiry(head) > now) break;
      this.backoffQ.pop();
      this.pushActive(head);
    }
    this.armBackoffTimer();
  }

  /** Retries pods that have been unschedulable longer than the flush interval. */
  flushUnschedulableLeftover(): void {
    const now = this.now();
    const stale: QueuedPodInfo[] = [];
    for (const qp of this.unschedulable.values()) if (!qp.gated && now - qp.timestamp >= this.flushMs) stale.push(qp);
    for (const qp of stale) {
      this.unschedulable.delete(qp.podInfo.key);
      if (this.isBackingOff(qp)) this.pushBackoff(qp);
      else this.pushActive(qp);
    }
    if (stale.length) this.opts.log?.(`${unschedulableTimeout.label}: ${stale.length} pod(s) queued again`);
  }

  private armBackoffTimer(): void {
    if (this.opts.timers === false || this.closed) return;
    const head = this.backoffQ.peek();
    if (!head) return;
    const at = this.backoffExpiry(head);
    if (this.backoffTimer && this.backoffTimerAt <= at) return;
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.backoffTimerAt = at;
    this.backoffTimer = setTimeout(
      () => {
        this.backoffTimer = undefined;
        this.backoffTimerAt = Infinity;
        this.flushBackoffCompleted();
      },
      Math.max(0, at - this.now()),
    );
    this.backoffTimer.unref();
  }

  /** How many pods wait where (for stats and tests). */
  counts(): { active: number; backoff: number; unschedulable: number; inFlight: number } {
    return { active: this.activeQ.size, backoff: this.backoffQ.size, unschedulable: this.unschedulable.size, inFlight: this.inFlight.size };
  }

  /** Where a pod waits: 'active', 'backoff', 'unschedulable', 'inFlight' or undefined. */
  whereIs(key: string): 'active' | 'backoff' | 'unschedulable' | 'inFlight' | undefined {
    if (this.activeQ.has(key)) return 'active';
    if (this.backoffQ.has(key)) return 'backoff';
    if (this.unschedulable.has(key)) return 'unschedulable';
    if (this.inFlight.has(key)) return 'inFlight';
    return undefined;
  }

  close(): void {
    this.closed = true;
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    if (this.flushTimer) clearInterval(this.flushTimer);
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}
