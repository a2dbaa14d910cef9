// NodeUnschedulable: cordoned nodes (spec.unschedulable) take only pods
// that tolerate the node.kubernetes.io/unschedulable:NoSchedule taint.
import { tolerationsTolerateTaint, unschedulableTaint, type Node } from '../../api/scheduling/index.js';
import { ActionType, type ClusterEventWithHint, type CycleState, type EnqueueExtensions, type FilterPlugin } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';
import { Status } from '../status.js';

export const errReasonUnschedulable = 'node(s) were unschedulable';

export class NodeUnschedulable implements FilterPlugin, EnqueueExtensions {
  readonly name = 'NodeUnschedulable';

  filter(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    if (!nodeInfo.unschedulable) return Status.success();
    if (tolerationsTolerateTaint(pod.pod.spec?.tolerations, unschedulableTaint)) return Status.success();
    return Status.unresolvable(errReasonUnschedulable);
  }

  eventsToRegister(): ClusterEventWithHint[] {
    return [
      {
        event: { resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeTaint },
        hint: (pod, _old, node) => (node as Node).spec?.unschedulable !== true || tolerationsTolerateTaint(pod.pod.spec?.tolerations, unschedulableTaint),
      },
    ];
  }
}
