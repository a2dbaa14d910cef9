// A pod's effective resource requests as Kubernetes computes them
// (component-helpers resource.PodRequests): the containers' sum, sidecars
// (restartable init containers) added, the largest init container step as a
// floor, pod-level requests overriding, and the RuntimeClass overhead on top.
// Amounts are plain numbers: cpu in millicores, everything else in whole
// units (bytes for memory, ephemeral-storage and hugepages).
import { Quantity } from '../quantity.js';
import type { KubeObject } from '../object.js';
import type { Container, Node, Pod, ResourceList } from './types.js';

export type ResourceAmounts = Record<string, number>;

/** Kubernetes' defaults for containers that state no cpu or memory request, used when scoring (DefaultMilliCPURequest, DefaultMemoryRequest). */
export const defaultNonZeroRequests: Readonly<ResourceAmounts> = { cpu: 100, memory: 200 * 1024 * 1024 };

const parsed = new Map<string, number>();

/** One quantity as a number: millicores for cpu, whole units (rounded up) otherwise; 0 when it does not parse. */
export function resourceAmount(resource: string, quantity: string | number | undefined | null): number {
  if (quantity === undefined || quantity === null) return 0;
  if (typeof quantity === 'number') return resource === 'cpu' ? Math.ceil(quantity * 1000) : Math.ceil(quantity);
  const cacheKey = resource === 'cpu' ? `m${quantity}` : quantity;
  const hit = parsed.get(cacheKey);
  if (hit !== undefined) return hit;
  const q = Quantity.tryParse(quantity);
  const value = q === undefined ? 0 : resource === 'cpu' ? q.milliValue() : q.value();
  if (parsed.size > 10_000) parsed.clear();
  parsed.set(cacheKey, value);
  return value;
}

/** A ResourceList (requests, limits, allocatable ...) as numbers. */
export function resourceAmounts(list: ResourceList | null | undefined): ResourceAmounts {
  const out: ResourceAmounts = {};
  if (!list) return out;
  for (const name of Object.keys(list)) out[name] = resourceAmount(name, list[name]);
  return out;
}

function addInto(into: ResourceAmounts, from: ResourceAmounts): void {
  for (const name of Object.keys(from)) into[name] = (into[name] ?? 0) + from[name]!;
}

function maxInto(into: ResourceAmounts, from: ResourceAmounts): void {
  for (const name of Object.keys(from)) {
    const v = from[name]!;
    const cur = into[name];
    if (cur === undefined || v > cur) into[name] = v;
  }
}

export interface PodRequestsOptions {
  /** Amounts to use for resources a container does not request at all (scoring uses defaultNonZeroRequests). */
  nonMissing?: Readonly<ResourceAmounts>;
  /** Leave out spec.overhead. */
  excludeOverhead?: boolean;
}

function containerRequests(c: Container, nonMissing: Readonly<ResourceAmounts> | undefined): ResourceAmounts {
  const reqs = resourceAmounts(c.resources?.requests);
  if (nonMissing) for (const name of Object.keys(nonMissing)) if (!(name in reqs)) reqs[name] = nonMissing[name]!;
  return reqs;
}

function isPodLevelResource(name: string): boolean {
  return name === 'cpu' || name === 'memory' || name.startsWith('hugepages-');
}

/** The pod's effective requests, resource name -> amount (cpu in millicores, others in whole units). */
export function podRequests(pod: KubeObject, opts: PodRequestsOptions = {}): ResourceAmounts {
  const spec = (pod as Pod).spec ?? {};
  const reqs: ResourceAmounts = {};
  for (const c of spec.containers ?? []) addInto(reqs, containerRequests(c, opts.nonMissing));
  const sidecars: ResourceAmounts = {};
  const initFloor: ResourceAmounts = {};
  for (const c of spec.initContainers ?? []) {
    const own = containerRequests(c, opts.nonMissing);
    let step: ResourceAmounts;
    if (c.restartPolicy === 'Always') {
      // A sidecar keeps running beside the app containers, and beside the init containers after it.
      addInto(reqs, own);
      addInto(sidecars, own);
      step = { ...sidecars };
    } else {
      step = { ...own };
      addInto(step, sidecars);
    }
    maxInto(initFloor, step);
  }
  maxInto(reqs, initFloor);
  const podLevel = spec.resources?.requests;
  if (podLevel) {
    for (const name of Object.keys(podLevel)) if (isPodLevelResource(name)) reqs[name] = resourceAmount(name, podLevel[name]);
  }
  if (!opts.excludeOverhead && spec.overhead) addInto(reqs, resourceAmounts(spec.overhead));
  return reqs;
}

/** The node's status.allocatable as numbers (what the scheduler may hand out). */
export function nodeAllocatable(node: KubeObject): ResourceAmounts {
  return resourceAmounts((node as Node).status?.allocatable);
}
