// The LimitRanger admission plugin: a new pod's containers get the default
// requests and limits of their namespace's LimitRanges (and the pod an
// annotation saying which), then pods and claims are held to the ranges'
// min, max and limit-to-request ratio, in kube-apiserver's words.
import type { KubeObject } from '../api/object.js';
import { Quantity } from '../api/quantity.js';
import { podResources, type PodForQuota } from '../api/quota/usage.js';

type ResourceList = Record<string, string>;

interface LimitRangeItem {
  type?: string;
  min?: ResourceList;
  max?: ResourceList;
  default?: ResourceList;
  defaultRequest?: ResourceList;
  maxLimitRequestRatio?: ResourceList;
}

interface ContainerResources {
  name?: string;
  resources?: { requests?: ResourceList; limits?: ResourceList };
}

const annotation = 'kubernetes.io/limit-ranger';

function itemsOf(range: KubeObject): LimitRangeItem[] {
  const limits = (range.spec as { limits?: unknown } | undefined)?.limits;
  return Array.isArray(limits) ? (limits as LimitRangeItem[]) : [];
}

function sortedKeys(list: ResourceList | undefined): string[] {
  return Object.keys(list ?? {}).sort();
}

/** Sets what a container leaves out of the defaults; returns the annotation's parts for it. */
function mergeContainer(container: ContainerResources, requests: ResourceList, limits: ResourceList, prefix: string): string[] {
  const setLimits = sortedKeys(limits).filter((k) => container.resources?.limits?.[k] === undefined);
  const setRequests = sortedKeys(requests).filter((k) => container.resources?.requests?.[k] === undefined);
  if (setLimits.length > 0 || setRequests.length > 0) {
    const resources = (container.resources ??= {});
    for (const k of setLimits) (resources.limits ??= {})[k] = limits[k]!;
    for (const k of setRequests) (resources.requests ??= {})[k] = requests[k]!;
  }
  const parts: string[] = [];
  if (setRequests.length > 0) parts.push(`${setRequests.join(', ')} request for ${prefix} ${container.name ?? ''}`);
  if (setLimits.length > 0) parts.push(`${setLimits.join(', ')} limit for ${prefix} ${container.name ?? ''}`);
  return parts;
}

/** The mutating half, for a pod being created: each range's container defaults (PodMutateLimitFunc), one range after another. */
export function defaultPodResources(pod: KubeObject, ranges: readonly KubeObject[]): void {
  const spec = (pod.spec ?? {}) as { containers?: ContainerResources[]; initContainers?: ContainerResources[] };
  for (const range of ranges) {
    const requests: ResourceList = {};
    const limits: ResourceList = {};
    for (const item of itemsOf(range)) {
      if (item.type !== 'Container') continue;
      Object.assign(requests, item.defaultRequest ?? {});
      Object.assign(limits, item.default ?? {});
    }
    const parts: string[] = [];
    for (const c of spec.containers ?? []) parts.push(...mergeContainer(c, requests, limits, 'container'));
    for (const c of spec.initContainers ?? []) parts.push(...mergeContainer(c, requests, limits, 'init container'));
    if (parts.length > 0) pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [annotation]: `LimitRanger plugin set: ${parts.join('; ')}` };
  }
}

function quantity(list: ResourceList | undefined, name: string): Quantity | undefined {
  const raw = list?.[name];
  return raw === undefined ? undefined : Quantity.tryParse(raw);
}

function minConstraint(type: string, name: string, enforced: Quantity, requests: ResourceList | undefined, limits: ResourceList | undefined): string | undefined {
  const req = quantity(requests, name);
  const lim = quantity(limits, name);
  if (!req) return `minimum ${name} usage per ${type} is ${enforced.toString()}.  No request is specified`;
  if (req.cmp(enforced) < 0) return `minimum ${name} usage per ${type} is ${enforced.toString()}, but request is ${req.toString()}`;
  if (lim && lim.cmp(enforced) < 0) return `minimum ${name} usage per ${type} is ${enforced.toString()}, but limit is ${lim.toString()}`;
  return undefined;
}

function maxConstraint(type: string, name: string, enforced: Quantity, requests: ResourceList | undefined, limits: ResourceList | undefined): string | undefined {
  const req = quantity(requests, name);
  const lim = quantity(limits, name);
  if (!lim) return `maximum ${name} usage per ${type} is ${enforced.toString()}.  No limit is specified`;
  if (lim.cmp(enforced) > 0) return `maximum ${name} usage per ${type} is ${enforced.toString()}, but limit is ${lim.toString()}`;
  if (req && req.cmp(enforced) > 0) return `maximum ${name} usage per ${type} is ${enforced.toString()}, but request is ${req.toString()}`;
  return undefined;
}

/** Claims: limits are not the user's to set, so max applies to the request alone. */
function maxRequestConstraint(type: string, name: string, enforced: Quantity, requests: ResourceList | undefined): string | undefined {
  const req = quantity(requests, name);
  if (!req) return `maximum ${name} usage per ${type} is ${enforced.toString()}.  No request is specified`;
  if (req.cmp(enforced) > 0) return `maximum ${name} usage per ${type} is ${enforced.toString()}, but request is ${req.toString()}`;
  return undefined;
}

function ratioConstraint(type: string, name: string, enforced: Quantity, requests: ResourceList | undefined, limits: ResourceList | undefined): string | undefined {
  const req = quantity(requests, name);
  const lim = quantity(limits, name);
  const prefix = `${name} max limit to request ratio per ${type} is ${enforced.toString()}`;
  if (!req || req.isZero()) return `${prefix}, but no request is specified or request is 0`;
  if (!lim || lim.isZero()) return `${prefix}, but no limit is specified or limit is 0`;
  const ratio = lim.milliValue() / req.milliValue();
  if (ratio * 1000 > enforced.milliValue()) return `${prefix}, but provided ratio is ${ratio.toFixed(6)}`;
  return undefined;
}

/** Checks each bound of a list (min, max, ratio), by resource name, collecting what is broken. */
function eachBound(list: ResourceList | undefined, check: (name: string, enforced: Quantity) => string | undefined, errors: string[]): void {
  for (const name of sortedKeys(list)) {
    const enforced = quantity(list, name);
    const err = enforced && check(name, enforced);
    if (err) errors.push(err);
  }
}

function checkItem(type: string, item: LimitRangeItem, requests: ResourceList | undefined, limits: ResourceList | undefined, errors: string[]): void {
  eachBound(item.min, (n, q) => minConstraint(type, n, q, requests, limits), errors);
  eachBound(item.max, (n, q) => maxConstraint(type, n, q, requests, limits), errors);
  eachBound(item.maxLimitRequestRatio, (n, q) => ratioConstraint(type, n, q, requests, limits), errors);
}

function asList(list: Map<string, Quantity>): ResourceList {
  return Object.fromEntries([...list].map(([k, q]) => [k, q.toString()]));
}

/**
 * The validating half (PodValidateLimitFunc, PersistentVolumeClaimValidateLimitFunc):
 * the first range a pod or claim breaks, with all it breaks of that range
 * ("[a, b]" for more than one, as Kubernetes aggregates them), or undefined.
 */
export function limitRangeViolation(kind: 'Pod' | 'PersistentVolumeClaim', obj: KubeObject, ranges: readonly KubeObject[]): string | undefined {
  for (const range of ranges) {
    const errors: string[] = [];
    for (const item of itemsOf(range)) {
      if (kind === 'PersistentVolumeClaim') {
        if (item.type !== 'PersistentVolumeClaim') continue;
        const requests = (obj.spec as { resources?: { requests?: ResourceList } } | undefined)?.resources?.requests;
        // Claims' limits are not the user's: max applies to the request alone.
        eachBound(item.min, (n, q) => minConstraint('PersistentVolumeClaim', n, q, requests, {}), errors);
        eachBound(item.max, (n, q) => maxRequestConstraint('PersistentVolumeClaim', n, q, requests), errors);
        continue;
      }
      const spec = (obj.spec ?? {}) as { containers?: ContainerResources[]; initContainers?: ContainerResources[] };
      if (item.type === 'Container') {
        for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) checkItem('Container', item, c.resources?.requests, c.resources?.limits, errors);
      } else if (item.type === 'Pod') {
        // The pod's containers together (init containers at their peak), without the pod overhead.
        const pod = { ...obj, spec: { ...(obj.spec as object), overhead: undefined } } as PodForQuota;
        checkItem('Pod', item, asList(podResources(pod, 'requests')), asList(podResources(pod, 'limits')), errors);
      }
    }
    if (errors.length === 1) return errors[0];
    if (errors.length > 1) return `[${errors.join(', ')}]`;
  }
  return undefined;
}
