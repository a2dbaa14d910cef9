// NodePorts: a pod asking for host ports fits only where they are free
// (the same port and protocol on 0.0.0.0 or the same address is taken).
import { ActionType, type ClusterEventWithHint, type CycleState, type EnqueueExtensions, type FilterPlugin, type PreFilterPlugin } from '../framework.js';
import { hostPortConflict, type NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';
import { Status } from '../status.js';

export const errReasonNodePorts = "node(s) didn't have free ports for the requested pod ports";

export class NodePorts implements PreFilterPlugin, FilterPlugin, EnqueueExtensions {
  readonly name = 'NodePorts';

  preFilter(_state: CycleState, pod: PodInfo): Status {
    return pod.hostPorts.length === 0 ? Status.skip() : Status.success();
  }

  filter(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    if (nodeInfo.usedPorts.length === 0) return Status.success();
    for (const want of pod.hostPorts) if (hostPortConflict(nodeInfo.usedPorts, want)) return Status.unschedulable(errReasonNodePorts);
    return Status.success();
  }

  eventsToRegister(): ClusterEventWithHint[] {
    return [
      {
        event: { resource: 'Pod', actionType: ActionType.Delete },
        hint: (pod, deleted) => (deleted as PodInfo).hostPorts.some((hp) => hostPortConflict(pod.hostPorts, hp)),
      },
      { event: { resource: 'Node', actionType: ActionType.Add } },
    ];
  }
}
