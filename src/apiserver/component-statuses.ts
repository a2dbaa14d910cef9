// ComponentStatus (core/v1 componentstatuses, `kubectl get cs`): the health
// of the control plane's parts, worked out when asked and never stored, as
// kube-apiserver's componentstatus REST does. kube-apiserver probes the
// scheduler's and controller manager's /healthz on their usual ports; Nami's
// run in `nami server` or as `nami scheduler` / `nami controllers` anywhere,
// and are leader-elected on the kube-scheduler and kube-controller-manager
// Leases: a component is healthy while a holder keeps its Lease renewed. The
// store is etcd-0, as /readyz calls it: healthy when it answers a read.
import type { KubeObject } from '../api/object.js';
import type { Backend } from '../storage/backend.js';
import { checkStorage } from './health.js';

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

/** The components kube-apiserver lists, in the order its documentation shows them. */
export const componentNames = ['scheduler', 'controller-manager', 'etcd-0'] as const;
export type ComponentName = (typeof componentNames)[number];

const leaseOf: Record<Exclude<ComponentName, 'etcd-0'>, string> = { scheduler: 'kube-scheduler', 'controller-manager': 'kube-controller-manager' };

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

/** The store's condition: healthy when it answers a read in time (the etcd health check's). */
export async function storageCondition(backend: Backend): Promise<ComponentCondition> {
  try {
    await checkStorage(backend);
    return { type: 'Healthy', status: 'True', message: 'ok' };
  } catch (err) {
    return { type: 'Healthy', status: 'False', error: (err as Error).message };
  }
}

export interface ComponentSources {
  backend: Backend;
  /** The kube-system Lease of that name, if there is one. */
  lease(name: string): Promise<KubeObject | undefined>;
  now?: () => number;
}

/** One component's status. */
export async function componentStatusOf(name: ComponentName, sources: ComponentSources): Promise<ComponentStatus> {
  if (name === 'etcd-0') return componentStatus(name, await storageCondition(sources.backend));
  const leaseName = leaseOf[name];
  return componentStatus(name, leaseCondition(leaseName, await sources.lease(leaseName), (sources.now ?? Date.now)()));
}

export function isComponentName(name: string): name is ComponentName {
  return (componentNames as readonly string[]).includes(name);
}
