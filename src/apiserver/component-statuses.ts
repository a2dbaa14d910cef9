// ComponentStatus (core/v1 componentstatuses, `kubectl get cs`): the health
// of the control plane's parts, worked out when asked and never stored, as
// kube-apiserver's componentstatus REST does. kube-apiserver probes the
// scheduler's and controller manager's /healthz on their usual ports; Nami's
// run in `nami server` or as `nami scheduler` / `nami controllers` anywhere,
// and are leader-elected on the kube-scheduler and kube-controller-manager
// Leases: a component is healthy while a holder keeps its Lease renewed.
// etcd-N is the store's Nth etcd member, healthy while it answers a status
// request; a store of Nami's own (sqlite, memory) is etcd-0, as /readyz
// calls it, healthy while it answers a read.
import type { KubeObject } from '../api/object.js';
import type { Backend, StorageServer } from '../storage/backend.js';
import { failureOf, withTimeout } from './health.js';

export interface ComponentCondition {
  type: 'Healthy';
  status: 'True' | 'False' | 'Unknown';
  message?: string;
  error?: string;
}

export interface ComponentStatus extends KubeObject {
  conditions: ComponentCondition[];
}

/** The Lease fields a health check reads. */
interface LeaseSpec {
  holderIdentity?: string | null;
  renewTime?: string | null;
  leaseDurationSeconds?: number | null;
}

const leaseOf: Record<string, string> = { scheduler: 'kube-scheduler', 'controller-manager': 'kube-controller-manager' };

function componentStatus(name: string, condition: ComponentCondition): ComponentStatus {
  // creationTimestamp null, as Go writes the zero time of an object never stored.
  const metadata = { name, creationTimestamp: null } as unknown as KubeObject['metadata'];
  return { kind: 'ComponentStatus', apiVersion: 'v1', metadata, conditions: [condition] };
}

/** A leader-elected component's condition from its Lease (undefined when there is none), at `now`. */
export function leaseCondition(leaseName: string, lease: KubeObject | undefined, now: number): ComponentCondition {
  const where = `the kube-system/${leaseName} Lease`;
  const spec = (lease?.spec ?? {}) as LeaseSpec;
  if (!lease || !spec.holderIdentity) return { type: 'Healthy', status: 'False', error: `no leader holds ${where}: is it running?` };
  const renewed = spec.renewTime ? Date.parse(spec.renewTime) : NaN;
  if (Number.isNaN(renewed)) return { type: 'Healthy', status: 'Unknown', error: `${where} held by ${spec.holderIdentity} has no renewTime` };
  const durationMs = (spec.leaseDurationSeconds ?? 15) * 1000;
  const agoSeconds = Math.max(0, Math.round((now - renewed) / 1000));
  if (now - renewed > durationMs) {
    return { type: 'Healthy', status: 'False', error: `${where} held by ${spec.holderIdentity} was last renewed ${agoSeconds}s ago (lease duration ${durationMs / 1000}s)` };
  }
  return { type: 'Healthy', status: 'True', message: 'ok' };
}

/** A store server's condition: healthy when its check answers in time (the etcd health check's limit). */
async function serverCondition(server: StorageServer): Promise<ComponentCondition> {
  const err = await failureOf(() => withTimeout(server.check()));
  return err ? { type: 'Healthy', status: 'False', error: err.message } : { type: 'Healthy', status: 'True', message: 'ok' };
}

/** The store's servers: an etcd cluster's members, or the store itself when it is this process's own (checked by a read). */
function storageServers(backend: Backend): StorageServer[] {
  return backend.servers?.() ?? [{ endpoint: backend.name, check: async () => void (await backend.currentRevision()) }];
}

export interface ComponentSources {
  backend: Backend;
  /** The kube-system Lease of that name, if there is one. */
  lease(name: string): Promise<KubeObject | undefined>;
  now?: () => number;
}

/**
 * The components, in the order kube-apiserver's documentation shows them:
 * the scheduler, the controller manager, then etcd-0, etcd-1 ... one per
 * server of the store (one, etcd-0, for a store of this process's own).
 */
export function componentNames(backend: Backend): string[] {
  return ['scheduler', 'controller-manager', ...storageServers(backend).map((_, i) => `etcd-${i}`)];
}

/** One component's status; undefined when there is no component of that name. */
export async function componentStatusOf(name: string, sources: ComponentSources): Promise<ComponentStatus | undefined> {
  const lease = leaseOf[name];
  if (lease) return componentStatus(name, leaseCondition(lease, await sources.lease(lease), (sources.now ?? Date.now)()));
  const index = /^etcd-(0|[1-9][0-9]*)$/.exec(name)?.[1];
  if (index === undefined) return undefined;
  const server = storageServers(sources.backend)[Number(index)];
  return server ? componentStatus(name, await serverCondition(server)) : undefined;
}
