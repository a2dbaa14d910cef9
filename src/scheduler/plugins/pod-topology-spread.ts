// PodTopologySpread: keeps the number of matching pods per topology domain
// within maxSkew of the least-loaded domain. DoNotSchedule constraints
// filter nodes; ScheduleAnyway constraints score them (fewer matching pods
// in the node's domains is better).
import { newRequirement, selectorFromLabelSelector, type Labels, type Selector } from '../../api/labels/index.js';
import { findUntoleratedTaint, RequiredNodeAffinity, type Node, type TopologySpreadConstraint } from '../../api/scheduling/index.js';
import {
  ActionType,
  maxNodeScore,
  type ClusterEventWithHint,
  type CycleState,
  type EnqueueExtensions,
  type FilterPlugin,
  type FrameworkHandle,
  type PreFilterExtensions,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
  type StateData,
} from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';
import { Status } from '../status.js';

export const errReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints";
export const errReasonNodeLabelNotMatch = errReasonConstraintsNotMatch + ' (missing required label)';
const hostnameLabel = 'kubernetes.io/hostname';
const preFilterKey = 'PreFilterPodTopologySpread';
const preScoreKey = 'PreScorePodTopologySpread';
const doNotScheduleEffects = ['NoSchedule', 'NoExecute'];

export interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  selector: Selector;
  minDomains: number;
  honorNodeAffinity: boolean;
  honorNodeTaints: boolean;
}

const parsedConstraints = new WeakMap<PodInfo, { DoNotSchedule?: SpreadConstraint[]; ScheduleAnyway?: SpreadConstraint[] }>();

/** The pod's constraints with the given whenUnsatisfiable, selectors built (matchLabelKeys merged in); parsed once per PodInfo. */
export function spreadConstraints(pod: PodInfo, action: 'DoNotSchedule' | 'ScheduleAnyway'): SpreadConstraint[] {
  let cached = parsedConstraints.get(pod);
  if (!cached) parsedConstraints.set(pod, (cached = {}));
  return (cached[action] ??= parseConstraints(pod, action));
}

function parseConstraints(pod: PodInfo, action: 'DoNotSchedule' | 'ScheduleAnyway'): SpreadConstraint[] {
  const out: SpreadConstraint[] = [];
  for (const c of (pod.pod.spec?.topologySpreadConstraints ?? []) as TopologySpreadConstraint[]) {
    if (c.whenUnsatisfiable !== action) continue;
    let selector = selectorFromLabelSelector(c.labelSelector ?? null);
    for (const key of c.matchLabelKeys ?? []) {
      const v = pod.labels[key];
      if (v !== undefined) selector = selector.add(newRequirement(key, '=', [v]));
    }
    out.push({
      maxSkew: c.maxSkew ?? 1,
      topologyKey: c.topologyKey,
      selector,
      minDomains: c.minDomains ?? 1,
      honorNodeAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
      honorNodeTaints: c.nodeTaintsPolicy === 'Honor',
    });
  }
  return out;
}

function hasAllTopologyKeys(labels: Labels, constraints: readonly SpreadConstraint[]): boolean {
  for (const c of constraints) if (labels[c.topologyKey] === undefined) return false;
  return true;
}

function nodeIncluded(c: SpreadConstraint, pod: PodInfo, node: NodeInfo, required: RequiredNodeAffinity): boolean {
  if (c.honorNodeAffinity && !required.matchesLabels(node.labels, node.name)) return false;
  if (c.honorNodeTaints && findUntoleratedTaint(node.taints, pod.pod.spec?.tolerations, doNotScheduleEffects)) return false;
  return true;
}

/** Pods in the namespace, not terminating, that the selector matches (an empty selector counts none). */
export function countPodsMatchSelector(pods: readonly PodInfo[], selector: Selector, namespace: string): number {
  if (selector.empty()) return 0;
  let n = 0;
  for (const p of pods) if (!p.terminating && p.namespace === namespace && selector.matches(p.labels)) n++;
  return n;
}

class PreFilterState implements StateData {
  private mins: (number | undefined)[];

  constructor(
    readonly constraints: readonly SpreadConstraint[],
    /** Per constraint: domain value -> matching pods. */
    readonly tpValueToMatchNum: Map<string, number>[],
    readonly required: RequiredNodeAffinity,
  ) {
    this.mins = constraints.map(() => undefined);
  }

  clone(): StateData {
    return new PreFilterState(
      this.constraints,
      this.tpValueToMatchNum.map((m) => new Map(m)),
      this.required,
    );
  }

  /** The global minimum for skew; 0 while fewer than minDomains domains are eligible. */
  minMatchNum(i: number): number {
    const counts = this.tpValueToMatchNum[i]!;
    if (counts.size < this.constraints[i]!.minDomains) return 0;
    let min = this.mins[i];
    if (min === undefined) {
      min = Infinity;
      for (const v of counts.values()) if (v < min) min = v;
      if (min === Infinity) min = 0;
      this.mins[i] = min;
    }
    return min;
  }

  updateWithPod(other: PodInfo, pod: PodInfo, node: NodeInfo, delta: number): void {
    if (other.namespace !== pod.namespace || !hasAllTopologyKeys(node.labels, this.constraints)) return;
    this.constraints.forEach((c, i) => {
      if (!c.selector.matches(other.labels)) return;
      if (!nodeIncluded(c, pod, node, this.required)) return;
      const v = node.labels[c.topologyKey]!;
      const m = this.tpValueToMatchNum[i]!;
      m.set(v, (m.get(v) ?? 0) + delta);
      this.mins[i] = undefined;
    });
  }
}

class PreScoreState implements StateData {
  constructor(
    readonly constraints: readonly SpreadConstraint[],
    readonly ignoredNodes: Set<string>,
    /** "key\0value" -> matching pods in that domain (hostname domains are counted per node at Score). */
    readonly pairCounts: Map<string, number>,
    readonly weights: number[],
  ) {}
  clone(): StateData {
    return this;
  }
}

const pairKey = (key: string, value: string) => `${key}\u0000${value}`;
const invalidScore = -1;

export class PodTopologySpread implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = 'PodTopologySpread';

  constructor(private readonly handle: FrameworkHandle) {}

  preFilter(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status {
    const constraints = spreadConstraints(pod, 'DoNotSchedule');
    if (constraints.length === 0) return Status.skip();
    const required = new RequiredNodeAffinity(pod.pod);
    const counts = constraints.map(() => new Map<string, number>());
    for (const node of nodes) {
      if (!hasAllTopologyKeys(node.labels, constraints)) continue;
      constraints.forEach((c, i) => {
        if (!nodeIncluded(c, pod, node, required)) return;
        const v = node.labels[c.topologyKey]!;
        const m = counts[i]!;
        m.set(v, (m.get(v) ?? 0) + countPodsMatchSelector(node.pods, c.selector, pod.namespace));
      });
    }
    state.write(preFilterKey, new PreFilterState(constraints, counts, required));
    return Status.success();
  }

  preFilterExtensions(): PreFilterExtensions {
    return {
      addPod: (state, pod, podToAdd, nodeInfo) => {
        state.read<PreFilterState>(preFilterKey)?.updateWithPod(podToAdd, pod, nodeInfo, 1);
        return Status.success();
      },
      removePod: (state, pod, podToRemove, nodeInfo) => {
        state.read<PreFilterState>(preFilterKey)?.updateWithPod(podToRemove, pod, nodeInfo, -1);
        return Status.success();
      },
    };
  }

  filter(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    const s = state.read<PreFilterState>(preFilterKey);
    if (!s) return Status.error(new Error(`reading "${preFilterKey}" from cycleState: not found`));
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i]!;
      const value = nodeInfo.labels[c.topologyKey];
      if (value === undefined) return Status.unresolvable(errReasonNodeLabelNotMatch);
      const selfMatch = c.selector.matches(pod.labels) ? 1 : 0;
      const matchNum = s.tpValueToMatchNum[i]!.get(value) ?? 0;
      if (matchNum + selfMatch - s.minMatchNum(i) > c.maxSkew) return Status.unschedulable(errReasonConstraintsNotMatch);
    }
    return Status.success();
  }

  preScore(state: CycleState, pod: PodInfo, filteredNodes: readonly NodeInfo[]): Status {
    const constraints = spreadConstraints(pod, 'ScheduleAnyway');
    if (constraints.length === 0) return Status.skip();
    const ignored = new Set<string>();
    const pairCounts = new Map<string, number>();
    const sizes = constraints.map(() => 0);
    for (const node of filteredNodes) {
      if (!hasAllTopologyKeys(node.labels, constraints)) {
        ignored.add(node.name);
        continue;
      }
      constraints.forEach((c, i) => {
        if (c.topologyKey === hostnameLabel) return;
        const k = pairKey(c.topologyKey, node.labels[c.topologyKey]!);
        if (!pairCounts.has(k)) {
          pairCounts.set(k, 0);
          sizes[i]!++;
        }
      });
    }
    const weights = constraints.map((c, i) => Math.log((c.topologyKey === hostnameLabel ? filteredNodes.length - ignored.size : sizes[i]!) + 2));
    const required = new RequiredNodeAffinity(pod.pod);
    for (const node of this.handle.nodes.list()) {
      if (!hasAllTopologyKeys(node.labels, constraints)) continue;
      for (const c of constraints) {
        if (!nodeIncluded(c, pod, node, required)) continue;
        const value = node.labels[c.topologyKey];
        if (value === undefined) continue;
        const k = pairKey(c.topologyKey, value);
        const cur = pairCounts.get(k);
        // Domains with no candidate node do not matter; hostname domains are counted at Score.
        if (cur === undefined) continue;
        pairCounts.set(k, cur + countPodsMatchSelector(node.pods, c.selector, pod.namespace));
      }
    }
    state.write(preScoreKey, new PreScoreState(constraints, ignored, pairCounts, weights));
    return Status.success();
  }

  score(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): number {
    const s = state.read<PreScoreState>(preScoreKey);
    if (!s || s.ignoredNodes.has(nodeInfo.name)) return 0;
    let score = 0;
    s.constraints.forEach((c, i) => {
      const value = nodeInfo.labels[c.topologyKey];
      if (value === undefined) return;
      const cnt = c.topologyKey === hostnameLabel ? countPodsMatchSelector(nodeInfo.pods, c.selector, pod.namespace) : (s.pairCounts.get(pairKey(c.topologyKey, value)) ?? 0);
      score += cnt * s.weights[i]! + (c.maxSkew - 1);
    });
    return Math.round(score);
  }

  /** Fewer matching pods is better: maxScore * (max + min - score) / max; ignored nodes get 0. */
  normalizeScore(state: CycleState, _pod: PodInfo, nodes: readonly NodeInfo[], scores: number[]): void {
    const s = state.read<PreScoreState>(preScoreKey);
    if (!s) return;
    let min = Infinity;
    let max = 0;
    for (let i = 0; i < scores.length; i++) {
      if (s.ignoredNodes.has(nodes[i]!.name)) {
        scores[i] = invalidScore;
        continue;
      }
      if (scores[i]! < min) min = scores[i]!;
      if (scores[i]! > max) max = scores[i]!;
    }
    for (let i = 0; i < scores.length; i++) {
      if (scores[i] === invalidScore) scores[i] = 0;
      else if (max === 0) scores[i] = maxNodeScore;
      else scores[i] = Math.trunc((maxNodeScore * (max + min - scores[i]!)) / max);
    }
  }

  eventsToRegister(): ClusterEventWithHint[] {
    const podMatches = (pod: PodInfo, other: PodInfo | undefined) => {
      if (!other || other.namespace !== pod.namespace) return false;
      return [...spreadConstraints(pod, 'DoNotSchedule'), ...spreadConstraints(pod, 'ScheduleAnyway')].some((c) => c.selector.matches(other.labels));
    };
    return [
      {
        event: { resource: 'Pod', actionType: ActionType.Add | ActionType.Delete | ActionType.UpdatePodLabel },
        hint: (pod, oldObj, newObj) => podMatches(pod, oldObj as PodInfo | undefined) || podMatches(pod, newObj as PodInfo | undefined),
      },
      {
        event: { resource: 'Node', actionType: ActionType.Add | ActionType.Delete | ActionType.UpdateNodeLabel | ActionType.UpdateNodeTaint },
        hint: (pod, oldObj, newObj) => {
          const node = (newObj ?? oldObj) as Node;
          const labels = node.metadata.labels ?? {};
          return spreadConstraints(pod, 'DoNotSchedule').every((c) => labels[c.topologyKey] !== undefined);
        },
      },
    ];
  }
}
