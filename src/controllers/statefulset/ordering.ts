// What a StatefulSet's sync does next, decided without any I/O, as
// Kubernetes' defaultStatefulSetControl.updateStatefulSet decides it:
// replicas are processed in ordinal order (OrderedReady waits for each to be
// Running and Ready before the next; Parallel does not wait), surplus pods
// are removed from the highest ordinal down, and a RollingUpdate replaces
// one pod at a time from the highest ordinal down to the partition.
import { isPodAvailable, isPodTerminal, isRunningAndReady, podPhase, type Pod } from '../workload-common/pods.js';
import { revisionHashLabel } from '../workload-common/revisions.js';

export const podNameLabel = 'statefulset.kubernetes.io/pod-name';
export const podIndexLabel = 'apps.kubernetes.io/pod-index';

/** The ordinal of a pod named "<set>-<n>", or -1 when the pod is not the set's member. */
export function parseOrdinal(setName: string, podName: string | undefined): number {
  const m = /^(.*)-([0-9]+)$/.exec(podName ?? '');
  if (!m || m[1] !== setName) return -1;
  const n = Number(m[2]);
  return Number.isSafeInteger(n) && n <= 2147483647 ? n : -1;
}

export function statefulPodName(setName: string, ordinal: number): string {
  return `${setName}-${ordinal}`;
}

export function podRevision(pod: Pod): string {
  return pod.metadata.labels?.[revisionHashLabel] ?? '';
}

function isTerminating(pod: Pod): boolean {
  return !!pod.metadata.deletionTimestamp;
}

/** isHealthy: running, ready and not being deleted. */
function isHealthy(pod: Pod): boolean {
  return isRunningAndReady(pod) && !isTerminating(pod);
}

export interface OrderingInput {
  setName: string;
  replicas: number;
  startOrdinal: number;
  /** podManagementPolicy OrderedReady (true) or Parallel (false) */
  monotonic: boolean;
  updateStrategy: 'RollingUpdate' | 'OnDelete';
  /** spec.updateStrategy.rollingUpdate.partition; undefined when rollingUpdate is absent */
  partition: number | undefined;
  minReadySeconds: number;
  nowMs: number;
  currentRevision: string;
  updateRevision: string;
  /** status.currentReplicas, which places new pods when rollingUpdate is absent */
  statusCurrentReplicas: number;
  /** the pods the set owns */
  pods: readonly Pod[];
}

export type OrderingAction =
  | { kind: 'create'; ordinal: number; revision: 'current' | 'update' }
  | { kind: 'delete'; pod: Pod; why: 'finished' | 'scale-down' | 'update' }
  /** a pending pod whose claims may still be missing */
  | { kind: 'create-claims'; pod: Pod }
  /** a pod whose identity labels are wrong */
  | { kind: 'fix-identity'; pod: Pod; ordinal: number };

export interface ReplicaCounts {
  replicas: number;
  readyReplicas: number;
  availableReplicas: number;
  currentReplicas: number;
  updatedReplicas: number;
}

export interface OrderingPlan {
  actions: OrderingAction[];
  counts: ReplicaCounts;
  /** what the plan waits for, for the log */
  waitingFor?: string;
}

function identityMatches(setName: string, pod: Pod, ordinal: number): boolean {
  const labels = pod.metadata.labels ?? {};
  return pod.metadata.name === statefulPodName(setName, ordinal) && labels[podNameLabel] === pod.metadata.name && labels[podIndexLabel] === String(ordinal);
}

/** computeReplicaStatus over the pods that exist. */
export function replicaCounts(pods: readonly Pod[], minReadySeconds: number, nowMs: number, currentRevision: string, updateRevision: string): ReplicaCounts {
  const c: ReplicaCounts = { replicas: 0, readyReplicas: 0, availableReplicas: 0, currentReplicas: 0, updatedReplicas: 0 };
  for (const pod of pods) {
    c.replicas++;
    if (isRunningAndReady(pod)) {
      c.readyReplicas++;
      if (isPodAvailable(pod, minReadySeconds, nowMs)) c.availableReplicas++;
    }
    if (!isTerminating(pod)) {
      const rev = podRevision(pod);
      if (rev === currentRevision) c.currentReplicas++;
      if (rev === updateRevision) c.updatedReplicas++;
    }
  }
  return c;
}

/** newVersionedStatefulSetPod's choice: which revision a new pod with this ordinal gets. */
export function revisionForNewPod(input: OrderingInput, ordinal: number): 'current' | 'update' {
  if (input.updateStrategy === 'RollingUpdate') {
    if (input.partition === undefined && ordinal < input.startOrdinal + input.statusCurrentReplicas) return 'current';
    if (input.partition !== undefined && ordinal < input.startOrdinal + input.partition) return 'current';
  }
  return 'update';
}

export function planStatefulSet(input: OrderingInput): OrderingPlan {
  const { setName, replicas, startOrdinal, monotonic, minReadySeconds, nowMs } = input;
  const end = startOrdinal + replicas - 1;
  const slots: (Pod | undefined)[] = new Array(Math.max(replicas, 0)).fill(undefined);
  const condemned: { pod: Pod; ordinal: number }[] = [];
  const members: Pod[] = [];
  for (const pod of input.pods) {
    const ord = parseOrdinal(setName, pod.metadata.name);
    if (ord < 0) continue;
    members.push(pod);
    if (ord >= startOrdinal && ord <= end) slots[ord - startOrdinal] = pod;
    else condemned.push({ pod, ordinal: ord });
  }
  condemned.sort((a, b) => b.ordinal - a.ordinal);
  const counts = replicaCounts(members, minReadySeconds, nowMs, input.currentRevision, input.updateRevision);
  const actions: OrderingAction[] = [];
  const plan: OrderingPlan = { actions, counts };

  // The first unhealthy pod: a missing replica counts, then condemned pods from the lowest ordinal.
  let firstUnhealthy: Pod | 'missing' | undefined;
  for (const pod of slots) {
    if (!pod || !isHealthy(pod)) {
      firstUnhealthy = pod ?? 'missing';
      break;
    }
  }
  if (firstUnhealthy === undefined) {
    for (let i = condemned.length - 1; i >= 0; i--) {
      if (!isHealthy(condemned[i]!.pod)) {
        firstUnhealthy = condemned[i]!.pod;
        break;
      }
    }
  }

  const available = (pod: Pod) => isRunningAndReady(pod) && isPodAvailable(pod, minReadySeconds, nowMs);

  for (let i = 0; i < slots.length; i++) {
    const ordinal = startOrdinal + i;
    const pod = slots[i];
    if (!pod) {
      actions.push({ kind: 'create', ordinal, revision: revisionForNewPod(input, ordinal) });
      if (monotonic) {
        plan.waitingFor = `${statefulPodName(setName, ordinal)} to be created`;
        return plan;
      }
      continue;
    }
    // A finished pod is deleted and made again on a later sync, whatever its exit code.
    if (isPodTerminal(pod)) {
      if (!isTerminating(pod)) actions.push({ kind: 'delete', pod, why: 'finished' });
      if (monotonic) {
        plan.waitingFor = `finished ${pod.metadata.name} to be replaced`;
        return plan;
      }
      continue;
    }
    if (podPhase(pod) === 'Pending') actions.push({ kind: 'create-claims', pod });
    if (monotonic && isTerminating(pod)) {
      plan.waitingFor = `${pod.metadata.name} to terminate`;
      return plan;
    }
    if (monotonic && !isRunningAndReady(pod)) {
      plan.waitingFor = `${pod.metadata.name} to be Running and Ready`;
      return plan;
    }
    if (monotonic && !available(pod)) {
      plan.waitingFor = `${pod.metadata.name} to be available`;
      return plan;
    }
    if (!identityMatches(setName, pod, ordinal)) actions.push({ kind: 'fix-identity', pod, ordinal });
  }

  for (const { pod } of condemned) {
    if (isTerminating(pod)) {
      if (monotonic) {
        plan.waitingFor = `${pod.metadata.name} to terminate`;
        return plan;
      }
      continue;
    }
    if (monotonic && pod !== firstUnhealthy && !available(pod)) {
      plan.waitingFor = `${pod.metadata.name} to be Running and Ready before scaling down`;
      return plan;
    }
    actions.push({ kind: 'delete', pod, why: 'scale-down' });
    if (monotonic) return plan;
  }

  if (input.updateStrategy === 'OnDelete') return plan;
  const updateMin = input.partition ?? 0;
  for (let target = slots.length - 1; target >= updateMin; target--) {
    const pod = slots[target];
    // In Parallel mode a missing replica was just created at the update revision: wait for it.
    if (!pod) {
      plan.waitingFor = `${statefulPodName(setName, startOrdinal + target)} to be created`;
      return plan;
    }
    if (podRevision(pod) !== input.updateRevision && !isTerminating(pod)) {
      actions.push({ kind: 'delete', pod, why: 'update' });
      counts.currentReplicas--;
      return plan;
    }
    if (!isHealthy(pod)) {
      plan.waitingFor = `${pod.metadata.name} to be updated and Ready`;
      return plan;
    }
  }
  return plan;
}
