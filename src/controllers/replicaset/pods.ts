// Pod helpers of Kubernetes' controller utilities (pkg/controller and
// podutil): which pods count as active, ready and available, which pods a
// controller deletes first when it scales down, and the slow-start batches
// in which it creates them.
import { cloneJson, type KubeObject, type OwnerReference } from '../../api/object.js';

export interface PodCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  [extra: string]: unknown;
}

export interface PodStatus {
  phase?: string;
  conditions?: PodCondition[];
  containerStatuses?: { restartCount?: number; [extra: string]: unknown }[];
  initContainerStatuses?: { name?: string; restartCount?: number; [extra: string]: unknown }[];
  [extra: string]: unknown;
}

export interface Pod extends KubeObject {
  spec?: { nodeName?: string; initContainers?: { name?: string; restartPolicy?: string }[]; [extra: string]: unknown };
  status?: PodStatus;
}

/** controller.IsPodActive: not terminal and not being deleted. */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}

export function podReadyCondition(pod: Pod): PodCondition | undefined {
  return (pod.status?.conditions ?? []).find((c) => c.type === 'Ready');
}

/** podutil.IsPodReady: the Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return podReadyCondition(pod)?.status === 'True';
}

/** A metav1.Time as milliseconds since the epoch; undefined for a zero or unparsable time. */
export function timeMs(t: string | undefined | null): number | undefined {
  if (!t) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * podutil.IsPodAvailable: ready, and ready for at least minReadySeconds
 * (the Ready condition's lastTransitionTime + minReadySeconds is before now).
 */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  if (!isPodReady(pod)) return false;
  if (!minReadySeconds) return true;
  const since = timeMs(podReadyCondition(pod)?.lastTransitionTime);
  return since !== undefined && since + minReadySeconds * 1000 < nowMs;
}

/** How long until a ready pod becomes available (0 when it already is or never will be by waiting). */
export function msUntilAvailable(pod: Pod, minReadySeconds: number, nowMs: number): number {
  if (!isPodReady(pod) || !minReadySeconds) return 0;
  const since = timeMs(podReadyCondition(pod)?.lastTransitionTime);
  if (since === undefined) return 0;
  return Math.max(0, since + minReadySeconds * 1000 - nowMs + 1);
}

const podPhaseOrdinal: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function phaseOrdinal(pod: Pod): number {
  // Go's map lookup of a missing phase gives 0, the same as Pending.
  return podPhaseOrdinal[pod.status?.phase ?? ''] ?? 0;
}

/** The controller.kubernetes.io/pod-deletion-cost annotation (an int32; 0 when absent or invalid). */
export function podDeletionCost(pod: Pod): number {
  const v = pod.metadata.annotations?.['controller.kubernetes.io/pod-deletion-cost'];
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return 0;
  const n = Number(v);
  return n > 2147483647 || n < -2147483648 ? 0 : n;
}

/** The highest restart count of the pod's containers (regular and restartable init containers). */
export function maxContainerRestarts(pod: Pod): number {
  let max = 0;
  for (const c of pod.status?.containerStatuses ?? []) max = Math.max(max, c.restartCount ?? 0);
  const sidecars = new Set((pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  for (const c of pod.status?.initContainerStatuses ?? []) if (sidecars.has(c.name)) max = Math.max(max, c.restartCount ?? 0);
  return max;
}

/** podReadyTime: when the pod became ready, undefined (Go's zero time) if it is not ready. */
function podReadyTime(pod: Pod): number | undefined {
  if (!isPodReady(pod)) return undefined;
  return timeMs(podReadyCondition(pod)?.lastTransitionTime);
}

/** afterOrZero: an empty time sorts first, then the later time. */
function afterOrZero(t1: number | undefined, t2: number | undefined): boolean {
  if (t1 === undefined || t2 === undefined) return t1 === undefined;
  return t1 > t2;
}

/** logarithmicRankDiff: compares floor(log2(age in ns)) of two times, as the LogarithmicScaleDown feature does. */
function logarithmicRankDiff(t1: number, t2: number, nowMs: number): number {
  const d1 = (nowMs - t1) * 1e6;
  const d2 = (nowMs - t2) * 1e6;
  const r1 = d1 > 0 ? Math.trunc(Math.log2(d1)) : -1;
  const r2 = d2 > 0 ? Math.trunc(Math.log2(d2)) : -1;
  return r1 - r2;
}

function uidLess(a: Pod, b: Pod): boolean {
  return (a.metadata.uid ?? '') < (b.metadata.uid ?? '');
}

/**
 * controller.ActivePodsWithRanks.Less: whether pod a should be deleted before
 * pod b. With rank the number of active related pods on the same node.
 *  1. unassigned < assigned
 *  2. Pending < Unknown < Running
 *  3. not ready < ready
 *  4. lower pod-deletion-cost < higher
 *  5. doubled up (higher rank) < not doubled up
 *  6. ready for a shorter time < longer (logarithmic buckets)
 *  7. more container restarts < fewer
 *  8. newer < older (logarithmic buckets), then uid
 */
export function deletesBefore(a: Pod, rankA: number, b: Pod, rankB: number, nowMs: number): boolean {
  const nodeA = a.spec?.nodeName ?? '';
  const nodeB = b.spec?.nodeName ?? '';
  if (nodeA !== nodeB && (nodeA === '' || nodeB === '')) return nodeA === '';
  if (phaseOrdinal(a) !== phaseOrdinal(b)) return phaseOrdinal(a) < phaseOrdinal(b);
  if (isPodReady(a) !== isPodReady(b)) return !isPodReady(a);
  const costA = podDeletionCost(a);
  const costB = podDeletionCost(b);
  if (costA !== costB) return costA < costB;
  if (rankA !== rankB) return rankA > rankB;
  if (isPodReady(a) && isPodReady(b)) {
    const readyA = podReadyTime(a);
    const readyB = podReadyTime(b);
    if (readyA !== readyB) {
      if (readyA === undefined || readyB === undefined) return afterOrZero(readyA, readyB);
      const diff = logarithmicRankDiff(readyA, readyB, nowMs);
      if (diff === 0) return uidLess(a, b);
      return diff < 0;
    }
  }
  const restartsA = maxContainerRestarts(a);
  const restartsB = maxContainerRestarts(b);
  if (restartsA !== restartsB) return restartsA > restartsB;
  const createdA = timeMs(a.metadata.creationTimestamp);
  const createdB = timeMs(b.metadata.creationTimestamp);
  if (createdA !== createdB) {
    if (createdA === undefined || createdB === undefined) return afterOrZero(createdA, createdB);
    const diff = logarithmicRankDiff(createdA, createdB, nowMs);
    if (diff === 0) return uidLess(a, b);
    return diff < 0;
  }
  return false;
}

/**
 * getPodsToDelete: the diff pods to delete, ranked as Kubernetes ranks them
 * (relatedPods are the active pods of the controller and its siblings: more
 * of them on a pod's node makes that pod go first).
 */
export function podsToDelete(filteredPods: Pod[], relatedPods: Pod[], diff: number, nowMs: number): Pod[] {
  if (diff >= filteredPods.length) return filteredPods.slice(0, diff);
  const podsOnNode = new Map<string, number>();
  for (const pod of relatedPods) {
    if (!isPodActive(pod)) continue;
    const node = pod.spec?.nodeName ?? '';
    podsOnNode.set(node, (podsOnNode.get(node) ?? 0) + 1);
  }
  const ranked = filteredPods.map((pod) => ({ pod, rank: podsOnNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
  ranked.sort((x, y) => (deletesBefore(x.pod, x.rank, y.pod, y.rank, nowMs) ? -1 : deletesBefore(y.pod, y.rank, x.pod, x.rank, nowMs) ? 1 : 0));
  return ranked.slice(0, diff).map((r) => r.pod);
}

/**
 * slowStartBatch: calls fn count times in batches of 1, 2, 4 ... (from
 * initialBatchSize), each batch in parallel, stopping after the first batch
 * with a failure. Returns how many calls succeeded and the first error.
 */
export async function slowStartBatch(count: number, initialBatchSize: number, fn: () => Promise<void>): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initialBatchSize); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += batch - failures.length;
    if (failures.length > 0) return { successes, error: failures[0]!.reason };
    remaining -= batch;
  }
  return { successes };
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[]; [extra: string]: unknown };
  spec?: Record<string, unknown>;
}

/** controller.GetPodFromTemplate: a pod to create from a template, named <owner>- plus a suffix. */
export function podFromTemplate(template: PodTemplate, owner: KubeObject, controllerRef: OwnerReference): Pod {
  const meta = template.metadata ?? {};
  const metadata: Pod['metadata'] = { generateName: `${owner.metadata.name}-`, namespace: owner.metadata.namespace };
  if (meta.labels && Object.keys(meta.labels).length > 0) metadata.labels = { ...meta.labels };
  if (meta.annotations && Object.keys(meta.annotations).length > 0) metadata.annotations = { ...meta.annotations };
  if (meta.finalizers && meta.finalizers.length > 0) metadata.finalizers = [...meta.finalizers];
  metadata.ownerReferences = [controllerRef];
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: cloneJson(template.spec ?? {}) };
}
