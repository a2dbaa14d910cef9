// Leader election on a coordination.k8s.io/v1 Lease, as client-go's
// leaderelection: one holder at a time renews the Lease; the others take it
// over once it has not been renewed for leaseDurationSeconds.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ApiError } from '../api/errors.js';
import type { KubeObject } from '../api/object.js';
import type { RestClient } from './rest.js';

export interface LeaderElectionOptions {
  namespace?: string;
  name: string;
  /** Who this candidate is; by default hostname plus a random suffix, as client-go does. */
  identity?: string;
  leaseDurationSeconds?: number;
  /** How long the leader keeps trying to renew before it gives up leading. */
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log?: (line: string) => void;
}

export interface LeaderCallbacks {
  onStartedLeading(): void | Promise<void>;
  onStoppedLeading(): void;
}

const leases = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' };

/** Lease times are MicroTime: RFC 3339 with microseconds. */
function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  readonly identity: string;
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private lastRenew = 0;
  private readonly namespace: string;
  private readonly duration: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;

  constructor(
    private readonly client: RestClient,
    private readonly opts: LeaderElectionOptions,
    private readonly callbacks: LeaderCallbacks,
  ) {
    this.identity = opts.identity ?? `${hostname()}_${randomUUID()}`;
    this.namespace = opts.namespace ?? 'kube-system';
    this.duration = opts.leaseDurationSeconds ?? 15;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Starts campaigning; returns at once. */
  start(): void {
    void this.tick();
  }

  /** Stops campaigning; a leader releases the Lease so another can take over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.leading) {
      this.leading = false;
      this.callbacks.onStoppedLeading();
      await this.release().catch(() => undefined);
    }
  }

  private schedule(): void {
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.retryPeriodMs);
  }

  private async tick(): Promise<void> {
    try {
      const held = await this.tryAcquireOrRenew();
      if (held) {
        this.lastRenew = Date.now();
        if (!this.leading && !this.stopped) {
          this.leading = true;
          this.opts.log?.(`leader election ${this.opts.name}: ${this.identity} is leading`);
          void Promise.resolve(this.callbacks.onStartedLeading()).catch((err: unknown) => this.opts.log?.(`leading failed: ${(err as Error).message}`));
        }
      } else if (this.leading) this.loseLead('another candidate holds the lease');
    } catch (err) {
      this.opts.log?.(`leader election ${this.opts.name}: ${(err as Error).message}`);
      if (this.leading && Date.now() - this.lastRenew > this.renewDeadlineMs) this.loseLead('could not renew the lease in time');
    }
    this.schedule();
  }

  private loseLead(why: string): void {
    this.leading = false;
    this.opts.log?.(`leader election ${this.opts.name}: ${this.identity} stopped leading: ${why}`);
    this.callbacks.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const path = { ...leases, namespace: this.namespace, name: this.opts.name };
    const now = new Date();
    let lease: KubeObject;
    try {
      lease = await this.client.get(path);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
      const spec = { holderIdentity: this.identity, leaseDurationSeconds: this.duration, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 };
      try {
        await this.client.create({ ...leases, namespace: this.namespace }, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.opts.name, namespace: this.namespace }, spec });
        return true;
      } catch (createErr) {
        if (createErr instanceof ApiError && createErr.code === 409) return false;
        throw createErr;
      }
    }
    const spec = (lease.spec ?? {}) as { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string; acquireTime?: string; leaseTransitions?: number };
    const mine = spec.holderIdentity === this.identity;
    const renewed = spec.renewTime ? Date.parse(spec.renewTime) : 0;
    const expired = !spec.holderIdentity || renewed + (spec.leaseDurationSeconds ?? this.duration) * 1000 < now.getTime();
    if (!mine && !expired) return false;
    const next = {
      holderIdentity: this.identity,
      leaseDurationSeconds: this.duration,
      acquireTime: mine ? spec.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
    };
    try {
      // The resourceVersion makes a takeover by two candidates at once a conflict for one of them.
      await this.client.update(path, { ...lease, spec: next });
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.code === 409) return false;
      throw err;
    }
  }

  private async release(): Promise<void> {
    const path = { ...leases, namespace: this.namespace, name: this.opts.name };
    const lease = await this.client.get(path);
    const spec = (lease.spec ?? {}) as Record<string, unknown>;
    if (spec.holderIdentity !== this.identity) return;
    await this.client.update(path, { ...lease, spec: { ...spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(new Date()) } });
  }
}
