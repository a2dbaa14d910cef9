// Pod facts the workload controllers share, as Kubernetes' pkg/api/v1/pod
// and pkg/controller helpers read them: phases, readiness, availability,
// the order in which surplus pods are deleted, and controller references.
import type { KubeObject, OwnerReference } from '../../api/object.js';
import { splitApiVersion } from '../../api/resources.js';

export interface PodCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface ContainerStatus {
  name: string;
  restartCount?: number;
  ready?: boolean;
  state?: { terminated?: { exitCode?: number; finishedAt?: string; reason?: string }; running?: unknown; waiting?: unknown };
}

export interface PodStatus {
  phase?: string;
  conditions?: PodCondition[];
  containerStatuses?: ContainerStatus[];
  initContainerStatuses?: ContainerStatus[];
}

export interface PodSpec {
  nodeName?: string;
  hostname?: string;
  subdomain?: string;
  restartPolicy?: string;
  volumes?: Record<string, unknown>[];
  tolerations?: Record<string, unknown>[];
  affinity?: Record<string, unknown>;
  hostNetwork?: boolean;
  [field: string]: unknown;
}

export interface Pod extends KubeObject {
  spec?: PodSpec;
  status?: PodStatus;
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[]; [field: string]: unknown };
  spec?: PodSpec;
}

export function podPhase(pod: Pod): string {
  return pod.status?.phase ?? '';
}

export function isPodTerminal(pod: Pod): boolean {
  const phase = podPhase(pod);
  return phase === 'Succeeded' || phase === 'Failed';
}

/** controller.IsPodActive: not finished and not being deleted. */
export function isPodActive(pod: Pod): boolean {
  return !isPodTerminal(pod) && !pod.metadata.deletionTimestamp;
}

/** Being deleted but not finished (controller.CountTerminatingPods). */
export function isPodTerminating(pod: Pod): boolean {
  return !!pod.metadata.deletionTimestamp && !isPodTerminal(pod);
}

export function podCondition(pod: Pod, type: string): PodCondition | undefined {
  return pod.status?.conditions?.find((c) => c.type === type);
}

export function isPodReady(pod: Pod): boolean {
  return podCondition(pod, 'Ready')?.status === 'True';
}

/** podutil.IsPodAvailable: Ready for at least minReadySeconds. */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  const ready = podCondition(pod, 'Ready');
  if (ready?.status !== 'True') return false;
  if (!minReadySeconds) return true;
  const since = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : NaN;
  // Strictly after, as Kubernetes' IsPodAvailable.
  return !Number.isNaN(since) && since + minReadySeconds * 1000 < nowMs;
}

export function isRunningAndReady(pod: Pod): boolean {
  return podPhase(pod) === 'Running' && isPodReady(pod);
}

export function restartCount(pod: Pod): number {
  let n = 0;
  for (const s of [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]) n += s.restartCount ?? 0;
  return n;
}

function timeMs(t: string | undefined): number {
  const ms = t ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? 0 : ms;
}

const phaseRank: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * controller.ActivePods' order: the pods to delete first come first —
 * unassigned before assigned, pending before running, not ready before
 * ready, ready for less time before more, more restarts first, newer first.
 */
export function compareForDeletion(a: Pod, b: Pod): number {
  const aNode = a.spec?.nodeName ?? '';
  const bNode = b.spec?.nodeName ?? '';
  if ((aNode === '') !== (bNode === '')) return aNode === '' ? -1 : 1;
  const ar = phaseRank[podPhase(a)] ?? 1;
  const br = phaseRank[podPhase(b)] ?? 1;
  if (ar !== br) return ar - br;
  const aReady = isPodReady(a);
  const bReady = isPodReady(b);
  if (aReady !== bReady) return aReady ? 1 : -1;
  if (aReady && bReady) {
    const at = timeMs(podCondition(a, 'Ready')?.lastTransitionTime);
    const bt = timeMs(podCondition(b, 'Ready')?.lastTransitionTime);
    if (at !== bt) return bt - at;
  }
  const arc = restartCount(a);
  const brc = restartCount(b);
  if (arc !== brc) return brc - arc;
  const ac = timeMs(a.metadata.creationTimestamp);
  const bc = timeMs(b.metadata.creationTimestamp);
  if (ac !== bc) return bc - ac;
  return (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}

export function controllerRefOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** The API group of an apiVersion ("apps/v1" -> "apps", "v1" -> ""). */
export function groupOf(apiVersion: string | undefined): string {
  return splitApiVersion(apiVersion ?? '').group;
}

/** metav1.NewControllerRef. */
export function newControllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata.name ?? '', uid: owner.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

/** The informer index of objects by the uid of their controller. */
export const controllerUidIndex = 'controller-uid';
export function controllerUidIndexFunc(obj: KubeObject): string[] {
  const ref = controllerRefOf(obj);
  return ref ? [ref.uid] : [];
}

/** The timestamp format of metav1.Time (seconds, UTC). */
export function formatTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** getPodsPrefix: "<name>-" when that is a valid generateName, else the name. */
export function generateNamePrefix(ownerName: string): string {
  const prefix = `${ownerName}-`;
  return prefix.length <= 253 ? prefix : ownerName;
}
