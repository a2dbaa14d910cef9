// Node taints as the node lifecycle controller manages them: the NoSchedule
// taints that mirror node conditions and spec.unschedulable
// (TaintNodesByCondition), the NoExecute not-ready/unreachable taints that
// follow the Ready condition (TaintBasedEvictions), and which tolerations a
// pod uses against a node's taints. Pure functions; toleration matching
// itself is the scheduler's shared rule (src/api/scheduling).
import { tolerationToleratesTaint, type Taint, type Toleration } from '../../api/scheduling/index.js';

export type { Taint, Toleration };
/** v1.Toleration.ToleratesTaint. */
export const toleratesTaint = tolerationToleratesTaint;

export interface NodeCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string | null;
  lastTransitionTime?: string | null;
}

export const taintNotReady = 'node.kubernetes.io/not-ready';
export const taintUnreachable = 'node.kubernetes.io/unreachable';
export const taintUnschedulable = 'node.kubernetes.io/unschedulable';
export const taintMemoryPressure = 'node.kubernetes.io/memory-pressure';
export const taintDiskPressure = 'node.kubernetes.io/disk-pressure';
export const taintPIDPressure = 'node.kubernetes.io/pid-pressure';
export const taintNetworkUnavailable = 'node.kubernetes.io/network-unavailable';

/** nodeConditionToTaintKeyStatusMap: which condition status puts which NoSchedule taint on a node. */
const conditionTaints: Record<string, Record<string, string>> = {
  Ready: { False: taintNotReady, Unknown: taintUnreachable },
  MemoryPressure: { True: taintMemoryPressure },
  DiskPressure: { True: taintDiskPressure },
  NetworkUnavailable: { True: taintNetworkUnavailable },
  PIDPressure: { True: taintPIDPressure },
};

/** The NoSchedule taint keys this controller owns. */
const noScheduleKeys = new Set([taintNotReady, taintUnreachable, taintMemoryPressure, taintDiskPressure, taintNetworkUnavailable, taintPIDPressure, taintUnschedulable]);
/** The NoExecute taint keys this controller owns. */
const noExecuteKeys = new Set([taintNotReady, taintUnreachable]);

/**
 * v1helper.GetMatchingTolerations: for each taint the first toleration that
 * tolerates it, or undefined when some taint is not tolerated.
 */
export function matchingTolerations(taints: Taint[], tolerations: Toleration[]): Toleration[] | undefined {
  const used: Toleration[] = [];
  for (const taint of taints) {
    const t = tolerations.find((tol) => toleratesTaint(tol, taint));
    if (!t) return undefined;
    used.push(t);
  }
  return used;
}

export function condition(conditions: NodeCondition[] | undefined, type: string): NodeCondition | undefined {
  return (conditions ?? []).find((c) => c.type === type);
}

/** The controller-owned taints a node with these conditions and spec.unschedulable should have (without timeAdded). */
export function desiredControllerTaints(conditions: NodeCondition[] | undefined, unschedulable: boolean): Taint[] {
  const out: Taint[] = [];
  for (const c of conditions ?? []) {
    const key = conditionTaints[c.type]?.[c.status];
    if (key && !out.some((t) => t.key === key)) out.push({ key, effect: 'NoSchedule' });
  }
  if (unschedulable) out.push({ key: taintUnschedulable, effect: 'NoSchedule' });
  // A node with no Ready condition yet is left alone until the startup grace period marks it Unknown.
  const ready = condition(conditions, 'Ready')?.status;
  if (ready === 'False') out.push({ key: taintNotReady, effect: 'NoExecute' });
  else if (ready === 'Unknown') out.push({ key: taintUnreachable, effect: 'NoExecute' });
  return out;
}

function owned(t: Taint): boolean {
  return (t.effect === 'NoSchedule' && noScheduleKeys.has(t.key)) || (t.effect === 'NoExecute' && noExecuteKeys.has(t.key));
}

const sameTaint = (a: Taint, b: Taint) => a.key === b.key && a.effect === b.effect;

/**
 * The node's taints with the controller-owned ones made equal to `desired`:
 * others' taints and owned taints that stay are kept as they are (with their
 * timeAdded), new ones are appended with timeAdded = now. Undefined when
 * nothing changes.
 */
export function reconcileTaints(current: Taint[], desired: Taint[], now: string): Taint[] | undefined {
  const next: Taint[] = [];
  let changed = false;
  for (const t of current) {
    if (owned(t) && !desired.some((d) => sameTaint(d, t))) {
      changed = true;
      continue;
    }
    next.push(t);
  }
  for (const d of desired) {
    if (next.some((t) => sameTaint(t, d))) continue;
    next.push({ ...d, timeAdded: now });
    changed = true;
  }
  return changed ? next : undefined;
}
