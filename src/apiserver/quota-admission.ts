// The ResourceQuota admission plugin: a create in a namespace with quotas is
// refused when it would take a quota over its hard limits (or when a quota
// limiting cpu or memory finds a container that does not say how much it
// wants), and otherwise charged to every quota it counts under at once, by
// writing their status.used, so that concurrent creates cannot overrun a
// quota before its controller counts again.
import type { KubeObject } from '../api/object.js';
import { Quantity } from '../api/quantity.js';
import {
  matchesScopes,
  objectUsage,
  podMissingResources,
  quotaScopeRequirements,
  sameSource,
  toList,
  usageSource,
  type PodForQuota,
  type QuotaSpec,
  type ResourceList,
  type UsageSource,
} from '../api/quota/usage.js';
import type { ResourceInfo } from '../api/resources.js';
import { admissionForbidden } from './service-account-admission.js';

/** What the plugin reads and writes of the namespace's quotas. */
export interface QuotaAccess {
  /** The ResourceQuotas of a namespace, as the API server's cache has them now. */
  quotas(namespace: string): KubeObject[];
  /** The same, once the cache has every write the server made so far (read after another write charged a quota first). */
  freshQuotas(namespace: string): Promise<KubeObject[]>;
  /** Writes a quota's status.used if the quota is still at the resourceVersion read; false when it has changed since. */
  charge(quota: KubeObject, used: Record<string, string>): Promise<boolean>;
}

/** How many times the quotas are read again when another write charged them first. */
const chargeAttempts = 5;

/** The quota evaluator of a resource: pods, services and claims have their own; anything else is an object count. */
function sourceOf(info: ResourceInfo): UsageSource {
  if (info.group === '') {
    if (info.kind === 'Pod') return { kind: 'pods' };
    if (info.kind === 'Service') return { kind: 'services' };
    if (info.kind === 'PersistentVolumeClaim') return { kind: 'persistentvolumeclaims' };
  }
  return { kind: 'count', group: info.group, plural: info.plural };
}

interface QuotaStatus {
  hard?: Record<string, string>;
  used?: Record<string, string>;
}

/** "cpu=1,pods=2": names sorted, as the plugin's prettyPrint writes a resource list. */
function prettyPrint(list: ResourceList, names: readonly string[]): string {
  return [...names]
    .sort()
    .map((n) => `${n}=${(list.get(n) ?? Quantity.zero()).toString()}`)
    .join(',');
}

/** Which updates the quota evaluators weigh: Services and claims (their type, ports and size count); a pod's resources do not change. */
export function quotaWeighsUpdate(info: ResourceInfo): boolean {
  return info.group === '' && (info.kind === 'Service' || info.kind === 'PersistentVolumeClaim');
}

/**
 * Checks and charges a create of `obj` (or an update from `old`: what it
 * adds) against the quotas of its namespace (Kubernetes' CheckRequest on
 * status.hard and status.used). A dry run is checked, not charged.
 */
export async function admitQuota(info: ResourceInfo, obj: KubeObject, old: KubeObject | undefined, access: QuotaAccess, dryRun: boolean, now = Date.now()): Promise<void> {
  const namespace = obj.metadata.namespace ?? '';
  const source = sourceOf(info);
  const forbidden = (message: string) => admissionForbidden(info, obj, message);
  // Quotas charged already when another one had changed: the next attempt leaves them be.
  const charged = new Set<string>();
  for (let attempt = 0; attempt < chargeAttempts; attempt++) {
    const quotas = (attempt === 0 ? access.quotas(namespace) : await access.freshQuotas(namespace)).filter((q) => !charged.has(q.metadata.name ?? ''));
    if (quotas.length === 0) return;
    const pertinent: { quota: KubeObject; names: string[]; status: QuotaStatus }[] = [];
    for (const quota of quotas) {
      const status = (quota.status ?? {}) as QuotaStatus;
      const names = Object.keys(status.hard ?? {}).filter((n) => {
        const s = usageSource(n);
        return s !== undefined && sameSource(s, source);
      });
      if (names.length === 0 || !matchesScopes(source, obj, quotaScopeRequirements((quota.spec ?? {}) as QuotaSpec))) continue;
      if (source.kind === 'pods') {
        const missing = podMissingResources(obj as PodForQuota, names);
        if (missing.length > 0) throw forbidden(`failed quota: ${quota.metadata.name}: must specify ${missing.join(',')}`);
      }
      if (names.some((n) => status.used?.[n] === undefined)) throw forbidden(`status unknown for quota: ${quota.metadata.name}, resources: ${[...names].sort().join(',')}`);
      pertinent.push({ quota, names, status });
    }
    if (pertinent.length === 0) return;
    const charges: { quota: KubeObject; used: Record<string, string> }[] = [];
    for (const { quota, names, status } of pertinent) {
      const requested: ResourceList = new Map();
      for (const n of names) {
        let q = objectUsage(source, n, obj, now).get(n);
        // An update is charged what it adds (SubtractWithNonNegativeResult): a Service turned NodePort, a claim grown.
        const before = old && objectUsage(source, n, old, now).get(n);
        if (q && before) q = q.cmp(before) > 0 ? q.sub(before) : undefined;
        if (q && !q.isZero()) requested.set(n, q);
      }
      if (requested.size === 0) continue;
      const hard = toList(status.hard);
      const used = toList(status.used);
      const next: ResourceList = new Map();
      const exceeded: string[] = [];
      for (const [n, q] of requested) {
        const total = (used.get(n) ?? Quantity.zero()).add(q);
        next.set(n, total);
        const limit = hard.get(n);
        if (limit && total.cmp(limit) > 0) exceeded.push(n);
      }
      if (exceeded.length > 0) {
        throw forbidden(`exceeded quota: ${quota.metadata.name}, requested: ${prettyPrint(requested, exceeded)}, used: ${prettyPrint(used, exceeded)}, limited: ${prettyPrint(hard, exceeded)}`);
      }
      const written: Record<string, string> = { ...(status.used ?? {}) };
      for (const [n, q] of next) written[n] = q.toString();
      charges.push({ quota, used: written });
    }
    if (dryRun || charges.length === 0) return;
    let conflict = false;
    for (const { quota, used } of charges) {
      if (await access.charge(quota, used)) charged.add(quota.metadata.name ?? '');
      else conflict = true;
    }
    if (!conflict) return;
  }
  throw forbidden(`quota of namespace ${namespace} changed while it was charged; try again`);
}
