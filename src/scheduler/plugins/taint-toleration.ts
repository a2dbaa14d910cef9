// TaintToleration: NoSchedule and NoExecute taints keep out pods that do not
// tolerate them; each untolerated PreferNoSchedule taint lowers the score.
import { findUntoleratedTaint, tolerationsTolerateTaint, type Node, type Toleration } from '../../api/scheduling/index.js';
import {
  ActionType,
  type ClusterEventWithHint,
  type CycleState,
  type EnqueueExtensions,
  type FilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
  type StateData,
} from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';
import { Status } from '../status.js';
import { defaultNormalizeScore } from './helpers.js';

export const errReasonUntoleratedTaint = 'node(s) had untolerated taint(s)';
const doNotScheduleEffects = ['NoSchedule', 'NoExecute'];
const preScoreKey = 'PreScoreTaintToleration';

class PreScoreState implements StateData {
  constructor(readonly tolerationsPreferNoSchedule: Toleration[]) {}
  clone(): StateData {
    return this;
  }
}

export class TaintToleration implements FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = 'TaintToleration';

  filter(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    if (nodeInfo.taints.length === 0) return Status.success();
    const taint = findUntoleratedTaint(nodeInfo.taints, pod.pod.spec?.tolerations, doNotScheduleEffects);
    return taint ? Status.unresolvable(errReasonUntoleratedTaint) : Status.success();
  }

  preScore(state: CycleState, pod: PodInfo): Status {
    const tolerations = (pod.pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    state.write(preScoreKey, new PreScoreState(tolerations));
    return Status.success();
  }

  /** The number of PreferNoSchedule taints the pod does not tolerate (fewer is better). */
  score(state: CycleState, _pod: PodInfo, nodeInfo: NodeInfo): number {
    if (nodeInfo.taints.length === 0) return 0;
    const tolerations = state.read<PreScoreState>(preScoreKey)?.tolerationsPreferNoSchedule ?? [];
    let n = 0;
    for (const taint of nodeInfo.taints) if (taint.effect === 'PreferNoSchedule' && !tolerationsTolerateTaint(tolerations, taint)) n++;
    return n;
  }

  normalizeScore(_state: CycleState, _pod: PodInfo, _nodes: readonly NodeInfo[], scores: number[]): void {
    defaultNormalizeScore(scores, true);
  }

  eventsToRegister(): ClusterEventWithHint[] {
    return [
      {
        event: { resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeTaint },
        hint: (pod, _old, node) => !findUntoleratedTaint((node as Node).spec?.taints, pod.pod.spec?.tolerations, doNotScheduleEffects),
      },
    ];
  }
}
