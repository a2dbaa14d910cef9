// Typed reads of the parts of a pod the node agent acts on. Pods arrive as
// plain JSON from the API server; these helpers never throw on odd shapes.
import { isPlainObject, type KubeObject } from '../api/object.js';

export interface ContainerSpec {
  name: string;
  image: string;
  /** Only init containers may set it, and only to "Always" (a sidecar). */
  restartPolicy?: string;
  [field: string]: unknown;
}

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export function podSpec(pod: KubeObject): Record<string, unknown> {
  return isPlainObject(pod.spec) ? pod.spec : {};
}

export function podStatusOf(pod: KubeObject): Record<string, unknown> {
  return isPlainObject(pod.status) ? pod.status : {};
}

function containerList(value: unknown): ContainerSpec[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isPlainObject).map((c) => ({ ...c, name: typeof c.name === 'string' ? c.name : '', image: typeof c.image === 'string' ? c.image : '' }));
}

export function regularContainers(pod: KubeObject): ContainerSpec[] {
  return containerList(podSpec(pod).containers);
}

export function initContainers(pod: KubeObject): ContainerSpec[] {
  return containerList(podSpec(pod).initContainers);
}

/** Containers added to a running pod (pods/ephemeralcontainers, `kubectl debug`): started once, never restarted. */
export function ephemeralContainers(pod: KubeObject): ContainerSpec[] {
  return containerList(podSpec(pod).ephemeralContainers);
}

/** An init container that keeps running beside the regular ones (restartPolicy Always). */
export function isSidecar(container: ContainerSpec): boolean {
  return container.restartPolicy === 'Always';
}

export function restartPolicyOf(pod: KubeObject): RestartPolicy {
  const p = podSpec(pod).restartPolicy;
  return p === 'OnFailure' || p === 'Never' ? p : 'Always';
}

export function nodeNameOf(pod: KubeObject): string {
  const n = podSpec(pod).nodeName;
  return typeof n === 'string' ? n : '';
}

export function isHostNetwork(pod: KubeObject): boolean {
  return podSpec(pod).hostNetwork === true;
}

export function phaseOf(pod: KubeObject): string {
  const phase = podStatusOf(pod).phase;
  return typeof phase === 'string' ? phase : '';
}

export function isTerminalPhase(phase: unknown): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}

/** How long the containers get to stop: the deletion's grace period, else the pod's terminationGracePeriodSeconds (30). */
export function gracePeriodOf(pod: KubeObject): number {
  const fromDeletion = pod.metadata.deletionGracePeriodSeconds;
  if (typeof fromDeletion === 'number') return fromDeletion;
  const fromSpec = podSpec(pod).terminationGracePeriodSeconds;
  return typeof fromSpec === 'number' ? fromSpec : 30;
}

/** client-go's format.Pod: "name_namespace(uid)", as the kubelet names pods in messages. */
export function formatPod(pod: KubeObject): string {
  return `${pod.metadata.name ?? ''}_${pod.metadata.namespace ?? ''}(${pod.metadata.uid ?? ''})`;
}

export function podKey(pod: KubeObject): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}
