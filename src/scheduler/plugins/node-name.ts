// NodeName: a pod that names its node fits only there.
import { ActionType, type ClusterEventWithHint, type CycleState, type EnqueueExtensions, type FilterPlugin } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';
import { Status } from '../status.js';
import type { Node } from '../../api/scheduling/index.js';

export const errReasonNodeName = "node(s) didn't match the requested node name";

export class NodeName implements FilterPlugin, EnqueueExtensions {
  readonly name = 'NodeName';

  filter(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    const want = pod.pod.spec?.nodeName;
    if (!want || want === nodeInfo.name) return Status.success();
    return Status.unresolvable(errReasonNodeName);
  }

  eventsToRegister(): ClusterEventWithHint[] {
    return [{ event: { resource: 'Node', actionType: ActionType.Add }, hint: (pod, _old, node) => !pod.pod.spec?.nodeName || (node as Node).metadata.name === pod.pod.spec.nodeName }];
  }
}
