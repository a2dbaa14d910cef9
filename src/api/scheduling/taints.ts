// Taints and tolerations as core/v1's helpers match them
// (Toleration.ToleratesTaint, TolerationsTolerateTaint, FindMatchingUntoleratedTaint).
import type { KubeObject } from '../object.js';
import type { Node, Taint, TaintEffect, Toleration } from './types.js';

/** The taint Kubernetes treats `spec.unschedulable: true` as. */
export const unschedulableTaint: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

/** Toleration.ToleratesTaint: an empty effect or key matches any; "Exists" ignores the value, "Equal" (or empty) compares it. */
export function tolerationToleratesTaint(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  switch (toleration.operator ?? '') {
    case '':
    case 'Equal':
      return (toleration.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

/** True when any of the tolerations tolerates the taint. */
export function tolerationsTolerateTaint(tolerations: readonly Toleration[] | null | undefined, taint: Taint): boolean {
  if (!tolerations) return false;
  for (const t of tolerations) if (tolerationToleratesTaint(t, taint)) return true;
  return false;
}

/**
 * The first taint whose effect is one of `effects` (every effect when
 * omitted) that no toleration tolerates, or undefined when all are tolerated.
 */
export function findUntoleratedTaint(
  taints: readonly Taint[] | null | undefined,
  tolerations: readonly Toleration[] | null | undefined,
  effects?: readonly (TaintEffect | string)[],
): Taint | undefined {
  if (!taints) return undefined;
  for (const taint of taints) {
    if (effects && !effects.includes(taint.effect)) continue;
    if (!tolerationsTolerateTaint(tolerations, taint)) return taint;
  }
  return undefined;
}

/** The node's taints (spec.taints), never undefined. */
export function nodeTaints(node: KubeObject): Taint[] {
  const taints = (node as Node).spec?.taints;
  return Array.isArray(taints) ? taints : [];
}

/** The pod's tolerations (spec.tolerations), never undefined. */
export function podTolerations(pod: KubeObject): Toleration[] {
  const spec = pod.spec as { tolerations?: Toleration[] } | undefined;
  return Array.isArray(spec?.tolerations) ? spec.tolerations : [];
}
