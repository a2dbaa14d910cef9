// NodeAffinity: the pod's nodeSelector and required node affinity filter
// nodes; preferred node affinity terms add their weights to the score.
import { PreferredTermMatcher, RequiredNodeAffinity, type Node } from '../../api/scheduling/index.js';
import {
  ActionType,
  type ClusterEventWithHint,
  type CycleState,
  type EnqueueExtensions,
  type FilterPlugin,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
  type StateData,
} from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';
import { Status } from '../status.js';
import { defaultNormalizeScore } from './helpers.js';

export const errReasonNodeAffinity = "node(s) didn't match Pod's node affinity/selector";
const preFilterKey = 'PreFilterNodeAffinity';
const preScoreKey = 'PreScoreNodeAffinity';

class RequiredState implements StateData {
  constructor(readonly required: RequiredNodeAffinity) {}
  clone(): StateData {
    return this;
  }
}

class PreferredState implements StateData {
  constructor(readonly terms: PreferredTermMatcher[]) {}
  clone(): StateData {
    return this;
  }
}

export class NodeAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = 'NodeAffinity';

  preFilter(state: CycleState, pod: PodInfo): Status {
    const required = new RequiredNodeAffinity(pod.pod);
    if (required.empty) return Status.skip();
    state.write(preFilterKey, new RequiredState(required));
    return Status.success();
  }

  filter(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    const required = state.read<RequiredState>(preFilterKey)?.required ?? new RequiredNodeAffinity(pod.pod);
    return required.matchesLabels(nodeInfo.labels, nodeInfo.name) ? Status.success() : Status.unresolvable(errReasonNodeAffinity);
  }

  preScore(state: CycleState, pod: PodInfo): Status {
    const preferred = pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    if (preferred.length === 0) return Status.skip();
    state.write(preScoreKey, new PreferredState(preferred.filter((t) => t.weight !== 0).map((t) => new PreferredTermMatcher(t))));
    return Status.success();
  }

  score(state: CycleState, _pod: PodInfo, nodeInfo: NodeInfo): number {
    const terms = state.read<PreferredState>(preScoreKey)?.terms ?? [];
    let sum = 0;
    for (const t of terms) if (t.matches(nodeInfo.labels, nodeInfo.name)) sum += t.weight;
    return sum;
  }

  normalizeScore(_state: CycleState, _pod: PodInfo, _nodes: readonly NodeInfo[], scores: number[]): void {
    defaultNormalizeScore(scores, false);
  }

  eventsToRegister(): ClusterEventWithHint[] {
    return [
      {
        event: { resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeLabel },
        hint: (pod, _old, node) => new RequiredNodeAffinity(pod.pod).matches(node as Node),
      },
    ];
  }
}
