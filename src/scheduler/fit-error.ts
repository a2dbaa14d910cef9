// Why a pod fits no node, in the words kube-scheduler uses:
// "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. preemption: ..."
import type { NodeToStatus } from './framework.js';

export const noNodesAvailableMessage = 'no nodes available to schedule pods';

export interface Diagnosis {
  /** Why each node was rejected. */
  nodeToStatus: NodeToStatus;
  /** Plugins that rejected the pod somewhere: the events they registered may make it schedulable. */
  unschedulablePlugins: Set<string>;
  /** Set when a PreFilter plugin rejected the pod outright. */
  preFilterMessage?: string;
  /** What PostFilter (preemption) said, already prefixed ("preemption: ..."). */
  postFilterMessage?: string;
}

/** FitError.Error(): the sorted histogram of reasons over nodes, with the PreFilter and PostFilter messages. */
export function fitErrorMessage(numAllNodes: number, nodeToStatus: NodeToStatus, preFilterMessage?: string, postFilterMessage?: string): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (preFilterMessage) {
    msg += ` ${preFilterMessage}.`;
  } else {
    const counts = new Map<string, number>();
    for (const status of nodeToStatus.values()) for (const r of status.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
    const parts = [...counts].map(([reason, n]) => `${n} ${reason}`).sort();
    if (parts.length) msg += ` ${parts.join(', ')}.`;
  }
  // The PostFilter message ends with its own period.
  if (postFilterMessage) msg += ` ${postFilterMessage}`;
  return msg;
}

/** A pod that fits no node, with the diagnosis behind it (not thrown: schedulePod returns it). */
export class FitError {
  constructor(
    readonly numAllNodes: number,
    readonly diagnosis: Diagnosis,
  ) {}

  get message(): string {
    const d = this.diagnosis;
    return fitErrorMessage(this.numAllNodes, d.nodeToStatus, d.preFilterMessage, d.postFilterMessage);
  }
}
