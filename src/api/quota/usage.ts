// What a ResourceQuota counts (Kubernetes' quota evaluators for pods,
// services, persistent volume claims and object counts): which objects a
// hard limit's resource name is about, each object's usage, the pod scopes,
// and the used amounts of a quota. Pure functions.
import type { KubeObject } from '../object.js';
import { Quantity } from '../quantity.js';
import { computeQuotaResources } from '../validation/resources.js';

/** Where the usage of one quota resource name comes from. */
export type UsageSource =
  | { kind: 'pods' }
  | { kind: 'services' }
  | { kind: 'persistentvolumeclaims' }
  /** A plain object count of any served resource. */
  | { kind: 'count'; group: string; plural: string };

export const storageClassSuffix = '.storageclass.storage.k8s.io/';

const podComputeResources = new Set(['pods', 'count/pods', ...computeQuotaResources]);
const serviceResources = new Set(['services', 'count/services', 'services.loadbalancers', 'services.nodeports']);
const claimResources = new Set(['persistentvolumeclaims', 'count/persistentvolumeclaims', 'requests.storage']);
/** The object counts that predate count/<resource>. */
const legacyCounts: Record<string, string> = {
  configmaps: 'configmaps',
  secrets: 'secrets',
  replicationcontrollers: 'replicationcontrollers',
  resourcequotas: 'resourcequotas',
};

/** helper.IsExtendedResourceName: a domain-prefixed name outside kubernetes.io, not a requests. name. */
function isExtendedResourceName(name: string): boolean {
  if (name.startsWith('requests.') || !name.includes('/')) return false;
  const domain = name.slice(0, name.indexOf('/'));
  return domain !== 'kubernetes.io' && !domain.endsWith('.kubernetes.io');
}

/** Which objects the quota resource name `name` counts, or undefined for a name no evaluator knows. */
export function usageSource(name: string): UsageSource | undefined {
  if (podComputeResources.has(name) || name.startsWith('hugepages-') || name.startsWith('requests.hugepages-')) return { kind: 'pods' };
  if (name.startsWith('requests.') && isExtendedResourceName(name.slice('requests.'.length))) return { kind: 'pods' };
  if (serviceResources.has(name)) return { kind: 'services' };
  if (claimResources.has(name)) return { kind: 'persistentvolumeclaims' };
  if (name.includes(storageClassSuffix)) {
    const rest = name.slice(name.indexOf(storageClassSuffix) + storageClassSuffix.length);
    if (rest === 'requests.storage' || rest === 'persistentvolumeclaims') return { kind: 'persistentvolumeclaims' };
    return undefined;
  }
  const legacy = legacyCounts[name];
  if (legacy) return { kind: 'count', group: '', plural: legacy };
  if (name.startsWith('count/')) {
    const gr = name.slice('count/'.length);
    const dot = gr.indexOf('.');
    const plural = dot < 0 ? gr : gr.slice(0, dot);
    const group = dot < 0 ? '' : gr.slice(dot + 1);
    if (!plural) return undefined;
    return { kind: 'count', group, plural };
  }
  return undefined;
}

export function sourceKey(s: UsageSource): string {
  switch (s.kind) {
    case 'pods':
      return 'pods';
    case 'services':
      return 'services';
    case 'persistentvolumeclaims':
      return 'persistentvolumeclaims';
    case 'count':
      return s.group ? `${s.plural}.${s.group}` : s.plural;
  }
}

// ---- pods ----

export type ResourceList = Map<string, Quantity>;

interface ContainerView {
  restartPolicy?: string;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

export type PodForQuota = KubeObject & {
  spec?: {
    containers?: ContainerView[];
    initContainers?: ContainerView[];
    overhead?: Record<string, string>;
    activeDeadlineSeconds?: number | null;
    priorityClassName?: string;
    affinity?: Record<string, unknown>;
  };
  status?: { phase?: string; qosClass?: string };
};

/** A resource list of quantities (what does not parse left out). */
export function toList(raw: Record<string, string> | undefined): ResourceList {
  const out: ResourceList = new Map();
  for (const [k, v] of Object.entries(raw ?? {})) {
    const q = Quantity.tryParse(v);
    if (q) out.set(k, q);
  }
  return out;
}

function addInto(into: ResourceList, add: ResourceList): void {
  for (const [k, v] of add) into.set(k, (into.get(k) ?? Quantity.zero()).add(v));
}

function maxInto(into: ResourceList, other: ResourceList): void {
  for (const [k, v] of other) {
    const have = into.get(k);
    if (!have || v.cmp(have) > 0) into.set(k, v);
  }
}

/**
 * resourcehelper.PodRequests / PodLimits: the containers' sum, or what the
 * init containers need at their peak if more (restartable "sidecar" init
 * containers keep running beside those after them), plus the pod overhead.
 */
export function podResources(pod: PodForQuota, field: 'requests' | 'limits'): ResourceList {
  const total: ResourceList = new Map();
  for (const c of pod.spec?.containers ?? []) addInto(total, toList(c.resources?.[field]));
  const sidecars: ResourceList = new Map();
  const initPeak: ResourceList = new Map();
  for (const c of pod.spec?.initContainers ?? []) {
    const own = toList(c.resources?.[field]);
    let need: ResourceList;
    if (c.restartPolicy === 'Always') {
      addInto(total, own);
      addInto(sidecars, own);
      need = new Map(sidecars);
    } else {
      need = new Map(own);
      addInto(need, sidecars);
    }
    maxInto(initPeak, need);
  }
  maxInto(total, initPeak);
  addInto(total, toList(pod.spec?.overhead));
  return total;
}

/** QuotaV1Pod: terminal pods, and pods past their deletion grace period, no longer use compute quota. */
export function podCountsTowardQuota(pod: PodForQuota, now: number): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  const deletion = pod.metadata.deletionTimestamp;
  const grace = pod.metadata.deletionGracePeriodSeconds;
  if (deletion && typeof grace === 'number') {
    if (now > Date.parse(deletion) + grace * 1000) return false;
  }
  return true;
}

/** The usage of one pod under every name the pod evaluator knows. */
export function podUsage(pod: PodForQuota, now: number): ResourceList {
  // count/pods tracks every pod in storage; the rest only pods still running or to run.
  const out: ResourceList = new Map([['count/pods', Quantity.fromValue(1)]]);
  if (!podCountsTowardQuota(pod, now)) return out;
  out.set('pods', Quantity.fromValue(1));
  const requests = podResources(pod, 'requests');
  const limits = podResources(pod, 'limits');
  for (const r of ['cpu', 'memory', 'ephemeral-storage']) {
    const req = requests.get(r);
    if (req) {
      out.set(r, req);
      out.set(`requests.${r}`, req);
    }
    const lim = limits.get(r);
    if (lim) out.set(`limits.${r}`, lim);
  }
  for (const [r, q] of requests) {
    if (r.startsWith('hugepages-')) {
      out.set(r, q);
      out.set(`requests.${r}`, q);
    }
    if (isExtendedResourceName(r)) out.set(`requests.${r}`, q);
  }
  return out;
}

/** qos.GetPodQOS, from status.qosClass when the API server has set it. */
export function podQOSClass(pod: PodForQuota): string {
  if (pod.status?.qosClass) return pod.status.qosClass;
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    for (const r of ['cpu', 'memory']) {
      const req = c.resources?.requests?.[r];
      const lim = c.resources?.limits?.[r];
      if (req !== undefined || lim !== undefined) any = true;
      const rq = Quantity.tryParse(req ?? lim);
      const lq = Quantity.tryParse(lim);
      if (!lq || !rq || !rq.equals(lq)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

export interface ScopedResourceSelectorRequirement {
  scopeName: string;
  operator: string;
  values?: string[];
}

function usesCrossNamespaceAffinity(pod: PodForQuota): boolean {
  const affinity = pod.spec?.affinity ?? {};
  const terms: Record<string, unknown>[] = [];
  for (const kind of ['podAffinity', 'podAntiAffinity']) {
    const a = (affinity[kind] ?? {}) as Record<string, unknown>;
    for (const t of (a.requiredDuringSchedulingIgnoredDuringExecution ?? []) as Record<string, unknown>[]) terms.push(t);
    for (const w of (a.preferredDuringSchedulingIgnoredDuringExecution ?? []) as Record<string, unknown>[]) terms.push((w.podAffinityTerm ?? {}) as Record<string, unknown>);
  }
  return terms.some((t) => (Array.isArray(t.namespaces) && t.namespaces.length > 0) || (t.namespaceSelector !== undefined && t.namespaceSelector !== null));
}

/** podMatchesScopeFunc: whether a pod falls under one scope requirement. */
export function podMatchesScope(pod: PodForQuota, req: ScopedResourceSelectorRequirement): boolean {
  const terminating = typeof pod.spec?.activeDeadlineSeconds === 'number' && pod.spec.activeDeadlineSeconds >= 0;
  switch (req.scopeName) {
    case 'Terminating':
      return terminating;
    case 'NotTerminating':
      return !terminating;
    case 'BestEffort':
      return podQOSClass(pod) === 'BestEffort';
    case 'NotBestEffort':
      return podQOSClass(pod) !== 'BestEffort';
    case 'CrossNamespacePodAffinity':
      return usesCrossNamespaceAffinity(pod);
    case 'PriorityClass': {
      const pc = pod.spec?.priorityClassName ?? '';
      const values = req.values ?? [];
      switch (req.operator) {
        case 'Exists':
          return pc !== '';
        case 'DoesNotExist':
          return pc === '';
        case 'In':
          return values.includes(pc);
        case 'NotIn':
          return !values.includes(pc);
        default:
          return false;
      }
    }
    default:
      return false;
  }
}

// ---- services and claims ----

export type ServiceForQuota = KubeObject & {
  spec?: { type?: string; ports?: { nodePort?: number }[]; allocateLoadBalancerNodePorts?: boolean };
};

export function serviceUsage(svc: ServiceForQuota): ResourceList {
  const out: ResourceList = new Map([
    ['services', Quantity.fromValue(1)],
    ['count/services', Quantity.fromValue(1)],
  ]);
  const ports = svc.spec?.ports ?? [];
  switch (svc.spec?.type) {
    case 'NodePort':
      out.set('services.nodeports', Quantity.fromValue(ports.length));
      break;
    case 'LoadBalancer':
      out.set('services.loadbalancers', Quantity.fromValue(1));
      // Without node port allocation, only ports given an explicit node port count.
      out.set('services.nodeports', Quantity.fromValue(svc.spec.allocateLoadBalancerNodePorts === false ? ports.filter((p) => p.nodePort).length : ports.length));
      break;
  }
  return out;
}

export type ClaimForQuota = KubeObject & {
  spec?: { storageClassName?: string | null; resources?: { requests?: Record<string, string> } };
  status?: { allocatedResources?: Record<string, string> };
};

export function claimUsage(pvc: ClaimForQuota): ResourceList {
  const out: ResourceList = new Map([
    ['persistentvolumeclaims', Quantity.fromValue(1)],
    ['count/persistentvolumeclaims', Quantity.fromValue(1)],
  ]);
  const className = pvc.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? pvc.spec?.storageClassName ?? '';
  if (className) out.set(`${className}${storageClassSuffix}persistentvolumeclaims`, Quantity.fromValue(1));
  // An expansion being recovered from counts the larger of request and allocation.
  let storage = Quantity.tryParse(pvc.spec?.resources?.requests?.storage);
  const allocated = Quantity.tryParse(pvc.status?.allocatedResources?.storage);
  if (allocated && (!storage || allocated.cmp(storage) > 0)) storage = allocated;
  if (storage) {
    out.set('requests.storage', storage);
    if (className) out.set(`${className}${storageClassSuffix}requests.storage`, storage);
  }
  return out;
}

// ---- a quota ----

export interface QuotaSpec {
  hard?: Record<string, string>;
  scopes?: string[];
  scopeSelector?: { matchExpressions?: ScopedResourceSelectorRequirement[] };
}

/**
 * The used amounts of the quota's hard resources, given the objects of its
 * namespace for each source (undefined: the source is not known, the name
 * is left out). With scopes, only pods falling under all of them count, and
 * object counts are zero (as Kubernetes' generic evaluator matches no scope).
 */
export function quotaUsage(spec: QuotaSpec, objects: (source: UsageSource) => KubeObject[] | undefined, now: number): Record<string, string> {
  const requirements = quotaScopeRequirements(spec);
  const used: Record<string, string> = {};
  const usageCache = new Map<string, ResourceList>();
  for (const name of Object.keys(spec.hard ?? {})) {
    const source = usageSource(name);
    if (!source) continue;
    const items = objects(source);
    if (!items) continue;
    const cacheKey = sourceKey(source);
    let total = usageCache.get(cacheKey);
    if (!total) {
      total = new Map();
      for (const obj of items) {
        if (!matchesScopes(source, obj, requirements)) continue;
        addInto(total, objectUsage(source, name, obj, now));
      }
      if (source.kind !== 'count') usageCache.set(cacheKey, total);
    }
    used[name] = (total.get(name) ?? Quantity.zero()).toString();
  }
  return used;
}

/** A quota's scopes and scope selector, as one list of requirements. */
export function quotaScopeRequirements(spec: QuotaSpec): ScopedResourceSelectorRequirement[] {
  return [...(spec.scopes ?? []).map((scopeName) => ({ scopeName, operator: 'Exists' })), ...(spec.scopeSelector?.matchExpressions ?? [])];
}

/** Whether an object falls under every scope requirement: pods by the pod scopes; other objects only when there are none (Kubernetes' generic evaluator matches no scope). */
export function matchesScopes(source: UsageSource, obj: KubeObject, requirements: readonly ScopedResourceSelectorRequirement[]): boolean {
  if (source.kind === 'pods') return requirements.every((r) => podMatchesScope(obj as PodForQuota, r));
  return requirements.length === 0;
}

/** What one object of the source counts under its evaluator's names (an object count: 1 under `name`). */
export function objectUsage(source: UsageSource, name: string, obj: KubeObject, now: number): ResourceList {
  switch (source.kind) {
    case 'pods':
      return podUsage(obj as PodForQuota, now);
    case 'services':
      return serviceUsage(obj as ServiceForQuota);
    case 'persistentvolumeclaims':
      return claimUsage(obj as ClaimForQuota);
    case 'count':
      return new Map([[name, Quantity.fromValue(1)]]);
  }
}

/** Whether two sources are the same evaluator's (the same resource, for object counts). */
export function sameSource(a: UsageSource, b: UsageSource): boolean {
  if (a.kind !== b.kind) return false;
  return a.kind !== 'count' || (b.kind === 'count' && a.group === b.group && a.plural === b.plural);
}

/** The resources the quota admission makes every container of a pod name when a quota limits them (Kubernetes' validationSet). */
const mustSpecify = ['cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory'];

/** The pod evaluator's Constraints: of the quota's cpu and memory names, those some container leaves out, sorted. */
export function podMissingResources(pod: PodForQuota, quotaNames: readonly string[]): string[] {
  const required = mustSpecify.filter((n) => quotaNames.includes(n));
  const missing = new Set<string>();
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
    const has = new Set<string>();
    for (const r of Object.keys(c.resources?.requests ?? {})) has.add(r).add(`requests.${r}`);
    for (const r of Object.keys(c.resources?.limits ?? {})) has.add(`limits.${r}`);
    for (const n of required) if (!has.has(n)) missing.add(n);
  }
  return [...missing].sort();
}
