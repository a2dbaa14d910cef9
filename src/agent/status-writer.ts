// Writes pod statuses to the API server as the kubelet's status manager does:
// a strategic merge patch of pods/{name}/status with the pod's UID as a
// precondition, only when the status differs from what was reported, and
// coalesced, so a pod that goes Pending -> Running before its write gets a
// slot is written once, as Running.
import { ApiError } from '../api/errors.js';
import type { KubeObject } from '../api/object.js';
import type { RestClient } from '../client/rest.js';
import { ownedPart, sameJson, statusPatch, type Json } from './pod-status.js';
import type { AgentLog } from './pod-worker.js';
import type { WriteLimiter } from './write-limiter.js';
import { podsResource as pods } from '../client/core-resources.js';

/** The field manager the kubelet writes pod status as. */
export const kubeletFieldManager = 'kubelet';

interface Pending {
  namespace: string;
  name: string;
  uid: string;
  status: Json;
  waiters: (() => void)[];
}

/** Compares two resourceVersions as the storage revisions they are (etcd's and Nami's are integers). */
function atLeast(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(a) >= BigInt(b);
  return a === b;
}

export class PodStatusWriter {
  private readonly pending = new Map<string, Pending>();
  /** UIDs with a write queued, running or waiting to retry. */
  private readonly scheduled = new Set<string>();
  /** What was last written, until the informer's copy of the pod catches up with it. */
  private readonly written = new Map<string, { resourceVersion: string; status: Json }>();
  private readonly retryDelay = new Map<string, number>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly client: RestClient,
    private readonly limiter: WriteLimiter,
    private readonly log: AgentLog = () => undefined,
  ) {}

  /** The status to build on: the one being written or last written, unless the pod in hand is already newer. */
  baseStatus(pod: KubeObject): Json {
    const uid = pod.metadata.uid ?? '';
    const pending = this.pending.get(uid);
    if (pending) return pending.status;
    const w = this.written.get(uid);
    if (w) {
      if (!atLeast(pod.metadata.resourceVersion, w.resourceVersion)) return w.status;
      this.written.delete(uid);
    }
    return (pod.status as Json | undefined) ?? {};
  }

  /** Reports a status; resolves once it is written, or found unchanged, or the pod is gone. */
  set(pod: KubeObject, status: Json): Promise<void> {
    const uid = pod.metadata.uid ?? '';
    const pending = this.pending.get(uid);
    if (!pending && sameJson(ownedPart(this.baseStatus(pod)), ownedPart(status))) return Promise.resolve();
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      if (pending) {
        pending.status = status;
        pending.waiters.push(resolve);
      } else {
        this.pending.set(uid, { namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '', uid, status, waiters: [resolve] });
      }
      if (!this.scheduled.has(uid)) this.schedule(uid);
    });
  }

  private schedule(uid: string): void {
    this.scheduled.add(uid);
    this.limiter.run(() => this.flush(uid), 'pods').catch(() => {
      // The limiter closed: the agent is stopping.
      this.scheduled.delete(uid);
      this.release(uid);
    });
  }

  private release(uid: string): void {
    const p = this.pending.get(uid);
    this.pending.delete(uid);
    for (const w of p?.waiters ?? []) w();
  }

  private async flush(uid: string): Promise<void> {
    const entry = this.pending.get(uid);
    this.pending.delete(uid);
    if (!entry || this.stopped) {
      this.scheduled.delete(uid);
      for (const w of entry?.waiters ?? []) w();
      return;
    }
    try {
      const updated = await this.client.patch<KubeObject>(
        { ...pods, namespace: entry.namespace, name: entry.name, subresource: 'status' },
        statusPatch(uid, entry.status),
        'strategic',
        { fieldManager: kubeletFieldManager },
      );
      this.written.set(uid, { resourceVersion: updated.metadata.resourceVersion ?? '', status: entry.status });
      this.retryDelay.delete(uid);
      for (const w of entry.waiters) w();
    } catch (err) {
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) {
        // Gone, or the name now belongs to another pod (UID precondition): nothing to report to.
        for (const w of entry.waiters) w();
      } else {
        const newer = this.pending.get(uid);
        if (newer) newer.waiters.push(...entry.waiters);
        else this.pending.set(uid, entry);
        const delay = Math.min((this.retryDelay.get(uid) ?? 250) * 2, 30_000);
        this.retryDelay.set(uid, delay);
        this.log(`pod ${entry.namespace}/${entry.name}: status update failed (${(err as Error).message}); retrying in ${delay} ms`);
        const timer = setTimeout(() => {
          this.retryTimers.delete(timer);
          if (this.stopped) return;
          this.schedule(uid);
        }, delay);
        timer.unref();
        this.retryTimers.add(timer);
        return;
      }
    }
    this.scheduled.delete(uid);
    if (this.pending.has(uid)) this.schedule(uid);
  }

  /** Drops what is kept for a pod that is gone. */
  forget(uid: string): void {
    this.written.delete(uid);
    this.retryDelay.delete(uid);
    if (!this.scheduled.has(uid)) this.release(uid);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    for (const uid of [...this.pending.keys()]) this.release(uid);
  }
}
