// A DaemonSet's decisions per node, without I/O (Kubernetes' daemon
// controller: podsShouldBeOnNode, rollingUpdate, updateDaemonSetStatus):
// which nodes need a pod, which pods go, and how far a rolling update may
// go given maxUnavailable and maxSurge.
import { isPodAvailable, isPodReady, podPhase, type Pod } from '../workload-common/pods.js';
import { revisionHashLabel } from '../workload-common/revisions.js';
import type { Placement } from './eligibility.js';

/** extensions.DaemonSetTemplateGenerationKey. */
export const templateGenerationLabel = 'pod-template-generation';

/** intstr.GetScaledValueFromIntOrPercent. */
export function scaledValue(value: number | string | undefined | null, total: number, roundUp: boolean): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number') return value;
  const m = /^(-?[0-9]+)%$/.exec(value);
  if (!m) {
    const n = Number(value);
    return Number.isInteger(n) ? n : 0;
  }
  const scaled = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/** util.IsPodUpdated: the pod carries the current template's hash (or template generation). */
export function isPodUpdated(pod: Pod, hash: string, generation: string | undefined): boolean {
  const labels = pod.metadata.labels ?? {};
  const templateMatches = generation !== undefined && labels[templateGenerationLabel] === generation;
  const hashMatches = hash.length > 0 && labels[revisionHashLabel] === hash;
  return hashMatches || templateMatches;
}

/** podByCreationTimestampAndPhase: scheduled pods first, then oldest first. */
export function compareOldestFirst(a: Pod, b: Pod): number {
  const aBound = !!a.spec?.nodeName;
  const bBound = !!b.spec?.nodeName;
  if (aBound !== bBound) return aBound ? -1 : 1;
  const at = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
  const bt = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
  if (at !== bt) return at - bt;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
}

export interface NodeDecision {
  create: boolean;
  delete: Pod[];
  /** failed pods whose deletion waits for the per-node backoff */
  failedInBackoff: Pod[];
}

export interface NodeContext {
  placement: Placement;
  /** the daemon pods targeting the node; undefined when there are none */
  pods: Pod[] | undefined;
  allowsSurge: boolean;
  hash: string;
  generation: string | undefined;
  minReadySeconds: number;
  nowMs: number;
  /** false while a failed pod on this node should not be deleted yet */
  mayDeleteFailed: () => boolean;
}

/** podsShouldBeOnNode. */
export function podsShouldBeOnNode(c: NodeContext): NodeDecision {
  const out: NodeDecision = { create: false, delete: [], failedInBackoff: [] };
  const { shouldRun, shouldContinueRunning } = c.placement;
  const exists = c.pods !== undefined && c.pods.length > 0;
  if (shouldRun && !exists) {
    out.create = true;
    return out;
  }
  if (shouldContinueRunning) {
    const running: Pod[] = [];
    for (const pod of c.pods ?? []) {
      if (pod.metadata.deletionTimestamp) continue;
      const phase = podPhase(pod);
      if (phase === 'Failed') {
        if (c.mayDeleteFailed()) out.delete.push(pod);
        else out.failedInBackoff.push(pod);
      } else if (phase === 'Succeeded') out.delete.push(pod);
      else running.push(pod);
    }
    running.sort(compareOldestFirst);
    if (!c.allowsSurge) {
      out.delete.push(...running.slice(1));
      return out;
    }
    if (running.length <= 1) {
      if (running.length === 0 && shouldRun) out.create = true;
      return out;
    }
    // With surge, two pods may share a node only while the new one is not yet available and the old one is ready.
    let oldestNew: Pod | undefined;
    let oldestOld: Pod | undefined;
    for (const pod of running) {
      if (isPodUpdated(pod, c.hash, undefined)) {
        if (!oldestNew) {
          oldestNew = pod;
          continue;
        }
      } else if (!oldestOld) {
        oldestOld = pod;
        continue;
      }
      out.delete.push(pod);
    }
    if (oldestNew && oldestOld) {
      if (!isPodReady(oldestOld) || isPodAvailable(oldestNew, c.minReadySeconds, c.nowMs)) out.delete.push(oldestOld);
    }
    return out;
  }
  if (exists) for (const pod of c.pods ?? []) if (!pod.metadata.deletionTimestamp) out.delete.push(pod);
  return out;
}

/** findUpdatedPodsOnNode: the one new and one old pod on a node; ok is false when there are more. */
export function findUpdatedPodsOnNode(pods: readonly Pod[], hash: string, generation: string | undefined): { newPod?: Pod; oldPod?: Pod; ok: boolean } {
  let newPod: Pod | undefined;
  let oldPod: Pod | undefined;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    if (isPodUpdated(pod, hash, generation)) {
      if (newPod) return { ok: false };
      newPod = pod;
    } else {
      if (oldPod) return { ok: false };
      oldPod = pod;
    }
  }
  return { newPod, oldPod, ok: true };
}

export interface RollingUpdateInput {
  /** node name -> its daemon pods, with an empty list for every node that should run one */
  nodeToPods: ReadonlyMap<string, Pod[]>;
  hash: string;
  generation: string | undefined;
  maxSurge: number;
  maxUnavailable: number;
  minReadySeconds: number;
  nowMs: number;
  shouldRun: (node: string) => boolean;
}

/** rollingUpdate: old pods to delete and nodes to surge a new pod onto. */
export function planRollingUpdate(r: RollingUpdateInput): { deletes: Pod[]; createOn: string[] } {
  const available = (pod: Pod) => isPodAvailable(pod, r.minReadySeconds, r.nowMs);
  const nodes = [...r.nodeToPods.keys()].sort();
  if (r.maxSurge === 0) {
    let numUnavailable = 0;
    const allowedReplacement: Pod[] = [];
    const candidates: Pod[] = [];
    for (const node of nodes) {
      const { newPod, oldPod, ok } = findUpdatedPodsOnNode(r.nodeToPods.get(node) ?? [], r.hash, r.generation);
      if (!ok) {
        numUnavailable++;
        continue;
      }
      if ((!oldPod && !newPod) || (oldPod && newPod)) numUnavailable++;
      else if (newPod) {
        if (!available(newPod)) numUnavailable++;
      } else if (oldPod) {
        if (!available(oldPod)) allowedReplacement.push(oldPod);
        else if (numUnavailable < r.maxUnavailable) candidates.push(oldPod);
      }
    }
    const remaining = Math.min(Math.max(r.maxUnavailable - numUnavailable, 0), candidates.length);
    return { deletes: [...allowedReplacement, ...candidates.slice(0, remaining)], createOn: [] };
  }
  let numSurge = 0;
  const allowedNew: string[] = [];
  const candidateNew: string[] = [];
  const deletes: Pod[] = [];
  for (const node of nodes) {
    const { newPod, oldPod, ok } = findUpdatedPodsOnNode(r.nodeToPods.get(node) ?? [], r.hash, r.generation);
    if (!ok) {
      numSurge++;
      continue;
    }
    if (!oldPod) continue;
    if (!newPod) {
      if (!available(oldPod)) {
        if (r.shouldRun(node)) allowedNew.push(node);
      } else if (numSurge < r.maxSurge) candidateNew.push(node);
      continue;
    }
    if (!available(newPod)) {
      numSurge++;
      continue;
    }
    deletes.push(oldPod);
  }
  const remaining = Math.min(Math.max(r.maxSurge - numSurge, 0), candidateNew.length);
  return { deletes, createOn: [...allowedNew, ...candidateNew.slice(0, remaining)] };
}

export interface DaemonSetCounts {
  desiredNumberScheduled: number;
  currentNumberScheduled: number;
  numberMisscheduled: number;
  numberReady: number;
  numberAvailable: number;
  updatedNumberScheduled: number;
  numberUnavailable: number;
}

/** updateDaemonSetStatus's counting, over every node with its placement and pods. */
export function daemonSetCounts(
  nodes: readonly { placement: Placement; pods: Pod[] | undefined }[],
  hash: string,
  generation: string | undefined,
  minReadySeconds: number,
  nowMs: number,
): DaemonSetCounts {
  const c: DaemonSetCounts = { desiredNumberScheduled: 0, currentNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0, numberAvailable: 0, updatedNumberScheduled: 0, numberUnavailable: 0 };
  for (const { placement, pods } of nodes) {
    const scheduled = (pods ?? []).length > 0;
    if (placement.shouldRun) {
      c.desiredNumberScheduled++;
      if (!scheduled) continue;
      c.currentNumberScheduled++;
      const pod = [...(pods ?? [])].sort(compareOldestFirst)[0]!;
      if (isPodReady(pod)) {
        c.numberReady++;
        if (isPodAvailable(pod, minReadySeconds, nowMs)) c.numberAvailable++;
      }
      if (isPodUpdated(pod, hash, generation)) c.updatedNumberScheduled++;
    } else if (scheduled) c.numberMisscheduled++;
  }
  c.numberUnavailable = c.desiredNumberScheduled - c.numberAvailable;
  return c;
}
