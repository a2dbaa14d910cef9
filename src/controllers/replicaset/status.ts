// ReplicaSet / ReplicationController status as Kubernetes' replica set
// controller computes it (calculateStatus): counts of the active pods it owns
// and the ReplicaFailure condition when creating or deleting pods failed.
import { apiTime } from '../../api/api-time.js';
import { Selector } from '../../api/labels/index.js';
import { isPodAvailable, isPodReady, type Pod } from './pods.js';

export interface ReplicaCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface ReplicaStatus {
  replicas: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: ReplicaCondition[];
  [extra: string]: unknown;
}

export const replicaFailure = 'ReplicaFailure';

/** metav1.Now as it is serialized: RFC 3339 with seconds. */
export const nowTime = apiTime;

/**
 * The status for a replica set owning filteredPods (active pods only).
 * manageError is the error creating or deleting pods gave, if any.
 */
export function calculateReplicaStatus(
  current: ReplicaStatus | undefined,
  spec: { replicas?: number; minReadySeconds?: number; template?: { metadata?: { labels?: Record<string, string> } } },
  filteredPods: Pod[],
  manageError: Error | undefined,
  nowMs: number,
): ReplicaStatus {
  const status: ReplicaStatus = { ...(current ?? { replicas: 0 }) };
  const templateSelector = Selector.fromSet(spec.template?.metadata?.labels ?? {});
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const pod of filteredPods) {
    if (templateSelector.matches(pod.metadata.labels ?? {})) fullyLabeled++;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, spec.minReadySeconds ?? 0, nowMs)) available++;
    }
  }
  const conditions = [...(current?.conditions ?? [])];
  const failure = conditions.find((c) => c.type === replicaFailure);
  if (manageError && !failure) {
    const diff = filteredPods.length - (spec.replicas ?? 1);
    const reason = diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '';
    conditions.push({ type: replicaFailure, status: 'True', lastTransitionTime: nowTime(nowMs), reason, message: manageError.message });
  } else if (!manageError && failure) {
    conditions.splice(conditions.indexOf(failure), 1);
  }
  if (conditions.length > 0) status.conditions = conditions;
  else delete status.conditions;
  status.replicas = filteredPods.length;
  setOrOmit(status, 'fullyLabeledReplicas', fullyLabeled);
  setOrOmit(status, 'readyReplicas', ready);
  setOrOmit(status, 'availableReplicas', available);
  return status;
}

/** Go's omitempty: a zero count is left out, as Kubernetes serializes it. */
function setOrOmit(status: ReplicaStatus, field: 'fullyLabeledReplicas' | 'readyReplicas' | 'availableReplicas', value: number): void {
  if (value === 0) delete status[field];
  else status[field] = value;
}

/** updateReplicaSetStatus's test: nothing to write when the counts, generation and conditions are current. */
export function replicaStatusCurrent(current: ReplicaStatus | undefined, next: ReplicaStatus, generation: number): boolean {
  const c = current ?? { replicas: 0 };
  return (
    (c.replicas ?? 0) === next.replicas &&
    (c.fullyLabeledReplicas ?? 0) === (next.fullyLabeledReplicas ?? 0) &&
    (c.readyReplicas ?? 0) === (next.readyReplicas ?? 0) &&
    (c.availableReplicas ?? 0) === (next.availableReplicas ?? 0) &&
    (c.observedGeneration ?? 0) === generation &&
    JSON.stringify(c.conditions ?? []) === JSON.stringify(next.conditions ?? [])
  );
}
