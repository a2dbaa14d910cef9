// InterPodAffinity: required pod affinity and anti-affinity filter nodes by
// the pods already running in each topology domain (and existing pods'
// anti-affinity keeps the incoming pod away from them); preferred terms, of
// the incoming pod and of existing pods, score domains.
import type { Labels } from '../../api/labels/index.js';
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
import type { AffinityTerm, PodInfo } from '../pod-info.js';
import { Status } from '../status.js';

export const errReasonExistingAntiAffinityRulesNotMatch = "node(s) didn't satisfy existing pods anti-affinity rules";
export const errReasonAffinityRulesNotMatch = "node(s) didn't match pod affinity rules";
export const errReasonAntiAffinityRulesNotMatch = "node(s) didn't match pod anti-affinity rules";

const preFilterKey = 'PreFilterInterPodAffinity';
const preScoreKey = 'PreScoreInterPodAffinity';
/** Weight of an existing pod's required affinity term that the incoming pod matches (hardPodAffinityWeight). */
const hardPodAffinityWeight = 1;

const pairKey = (key: string, value: string) => `${key}\u0000${value}`;

/** Counts per topology pair (key, value). */
class TopologyCounts {
  readonly counts = new Map<string, number>();

  update(labels: Labels, topologyKey: string, delta: number): void {
    const value = labels[topologyKey];
    if (value === undefined) return;
    const k = pairKey(topologyKey, value);
    const n = (this.counts.get(k) ?? 0) + delta;
    if (n === 0) this.counts.delete(k);
    else this.counts.set(k, n);
  }

  get(topologyKey: string, value: string): number {
    return this.counts.get(pairKey(topologyKey, value)) ?? 0;
  }

  get size(): number {
    return this.counts.size;
  }

  clone(): TopologyCounts {
    const c = new TopologyCounts();
    for (const [k, v] of this.counts) c.counts.set(k, v);
    return c;
  }

  /** Adds delta for each term when the pod matches all of them (affinity: one pod must satisfy every term). */
  updateWithAffinityTerms(terms: readonly AffinityTerm[], pod: PodInfo, nodeLabels: Labels, delta: number): void {
    if (terms.length === 0 || !matchesAllTerms(terms, pod)) return;
    for (const t of terms) this.update(nodeLabels, t.topologyKey, delta);
  }

  /** Adds delta for each term the pod matches. */
  updateWithAntiAffinityTerms(terms: readonly AffinityTerm[], pod: PodInfo, nsLabels: Labels | undefined, nodeLabels: Labels, delta: number): void {
    for (const t of terms) if (t.matches(pod, nsLabels)) this.update(nodeLabels, t.topologyKey, delta);
  }
}

function matchesAllTerms(terms: readonly AffinityTerm[], pod: PodInfo): boolean {
  if (terms.length === 0) return false;
  for (const t of terms) if (!t.matches(pod, undefined)) return false;
  return true;
}

class PreFilterState implements StateData {
  constructor(
    readonly pod: PodInfo,
    /** The incoming pod's terms with namespaceSelector resolved. */
    readonly affinityTerms: readonly AffinityTerm[],
    readonly antiAffinityTerms: readonly AffinityTerm[],
    readonly namespaceLabels: Labels | undefined,
    /** Existing pods' required anti-affinity terms the incoming pod matches. */
    readonly existingAntiAffinityCounts: TopologyCounts,
    /** Existing pods matching all the incoming pod's affinity terms. */
    readonly affinityCounts: TopologyCounts,
    /** Existing pods matching the incoming pod's anti-affinity terms. */
    readonly antiAffinityCounts: TopologyCounts,
  ) {}

  clone(): StateData {
    return new PreFilterState(
      this.pod,
      this.affinityTerms,
      this.antiAffinityTerms,
      this.namespaceLabels,
      this.existingAntiAffinityCounts.clone(),
      this.affinityCounts.clone(),
      this.antiAffinityCounts.clone(),
    );
  }

  updateWithPod(other: PodInfo, nodeLabels: Labels, delta: number): void {
    this.existingAntiAffinityCounts.updateWithAntiAffinityTerms(other.requiredAntiAffinityTerms, this.pod, this.namespaceLabels, nodeLabels, delta);
    this.affinityCounts.updateWithAffinityTerms(this.affinityTerms, other, nodeLabels, delta);
    this.antiAffinityCounts.updateWithAntiAffinityTerms(this.antiAffinityTerms, other, undefined, nodeLabels, delta);
  }
}

class PreScoreState implements StateData {
  constructor(readonly topologyScore: Map<string, Map<string, number>>) {}
  clone(): StateData {
    return this;
  }
}

export class InterPodAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = 'InterPodAffinity';

  constructor(private readonly handle: FrameworkHandle) {}

  private resolve(terms: readonly AffinityTerm[]): AffinityTerm[] {
    return terms.map((t) => t.withNamespaces((sel) => this.handle.namespacesMatching(sel)));
  }

  preFilter(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status {
    if (pod.parseErrors.length) return Status.unresolvable(...pod.parseErrors);
    const withAntiAffinityPods = this.handle.nodes.havePodsWithRequiredAntiAffinity();
    if (pod.requiredAffinityTerms.length === 0 && pod.requiredAntiAffinityTerms.length === 0 && withAntiAffinityPods.length === 0) return Status.skip();
    const affinityTerms = this.resolve(pod.requiredAffinityTerms);
    const antiAffinityTerms = this.resolve(pod.requiredAntiAffinityTerms);
    const nsLabels = this.handle.namespaceLabels(pod.namespace);
    const existing = new TopologyCounts();
    for (const node of withAntiAffinityPods) {
      for (const other of node.podsWithRequiredAntiAffinity) existing.updateWithAntiAffinityTerms(other.requiredAntiAffinityTerms, pod, nsLabels, node.labels, 1);
    }
    const affinity = new TopologyCounts();
    const anti = new TopologyCounts();
    if (affinityTerms.length || antiAffinityTerms.length) {
      for (const node of nodes) {
        for (const other of node.pods) {
          affinity.updateWithAffinityTerms(affinityTerms, other, node.labels, 1);
          anti.updateWithAntiAffinityTerms(antiAffinityTerms, other, undefined, node.labels, 1);
        }
      }
    }
    state.write(preFilterKey, new PreFilterState(pod, affinityTerms, antiAffinityTerms, nsLabels, existing, affinity, anti));
    return Status.success();
  }

  preFilterExtensions(): PreFilterExtensions {
    return {
      addPod: (state, _pod, podToAdd, nodeInfo) => {
        state.read<PreFilterState>(preFilterKey)?.updateWithPod(podToAdd, nodeInfo.labels, 1);
        return Status.success();
      },
      removePod: (state, _pod, podToRemove, nodeInfo) => {
        state.read<PreFilterState>(preFilterKey)?.updateWithPod(podToRemove, nodeInfo.labels, -1);
        return Status.success();
      },
    };
  }

  filter(state: CycleState, _pod: PodInfo, nodeInfo: NodeInfo): Status {
    const s = state.read<PreFilterState>(preFilterKey);
    if (!s) return Status.error(new Error(`reading "${preFilterKey}" from cycleState: not found`));
    if (!satisfyPodAffinity(s, nodeInfo)) return Status.unresolvable(errReasonAffinityRulesNotMatch);
    if (!satisfyPodAntiAffinity(s, nodeInfo)) return Status.unschedulable(errReasonAntiAffinityRulesNotMatch);
    if (!satisfyExistingPodsAntiAffinity(s, nodeInfo)) return Status.unschedulable(errReasonExistingAntiAffinityRulesNotMatch);
    return Status.success();
  }

  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status {
    if (nodes.length === 0) return Status.skip();
    const hasConstraints = pod.preferredAffinityTerms.length > 0 || pod.preferredAntiAffinityTerms.length > 0;
    const candidates = hasConstraints ? this.handle.nodes.list() : this.handle.nodes.havePodsWithAffinity();
    if (candidates.length === 0) return Status.skip();
    const preferredAffinity = this.resolve(pod.preferredAffinityTerms);
    const preferredAnti = this.resolve(pod.preferredAntiAffinityTerms);
    const nsLabels = this.handle.namespaceLabels(pod.namespace);
    const topologyScore = new Map<string, Map<string, number>>();
    const add = (term: AffinityTerm, weight: number, target: PodInfo, targetNsLabels: Labels | undefined, nodeLabels: Labels) => {
      if (!term.matches(target, targetNsLabels)) return;
      const value = nodeLabels[term.topologyKey];
      if (value === undefined) return;
      let byValue = topologyScore.get(term.topologyKey);
      if (!byValue) topologyScore.set(term.topologyKey, (byValue = new Map()));
      byValue.set(value, (byValue.get(value) ?? 0) + weight);
    };
    for (const node of candidates) {
      const labels = node.labels;
      if (Object.keys(labels).length === 0) continue;
      for (const existing of hasConstraints ? node.pods : node.podsWithAffinity) {
        for (const t of preferredAffinity) add(t, t.weight, existing, undefined, labels);
        for (const t of preferredAnti) add(t, -t.weight, existing, undefined, labels);
        for (const t of existing.requiredAffinityTerms) add(t, hardPodAffinityWeight, pod, nsLabels, labels);
        for (const t of existing.preferredAffinityTerms) add(t, t.weight, pod, nsLabels, labels);
        for (const t of existing.preferredAntiAffinityTerms) add(t, -t.weight, pod, nsLabels, labels);
      }
    }
    if (topologyScore.size === 0) return Status.skip();
    state.write(preScoreKey, new PreScoreState(topologyScore));
    return Status.success();
  }

  score(state: CycleState, _pod: PodInfo, nodeInfo: NodeInfo): number {
    const s = state.read<PreScoreState>(preScoreKey);
    if (!s) return 0;
    let score = 0;
    for (const [key, byValue] of s.topologyScore) {
      const v = nodeInfo.labels[key];
      if (v !== undefined) score += byValue.get(v) ?? 0;
    }
    return score;
  }

  /** Min-max scaling: the lowest raw score becomes 0, the highest maxNodeScore. */
  normalizeScore(_state: CycleState, _pod: PodInfo, _nodes: readonly NodeInfo[], scores: number[]): void {
    let min = Infinity;
    let max = -Infinity;
    for (const s of scores) {
      if (s < min) min = s;
      if (s > max) max = s;
    }
    const diff = max - min;
    for (let i = 0; i < scores.length; i++) scores[i] = diff > 0 ? Math.trunc((maxNodeScore * (scores[i]! - min)) / diff) : 0;
  }

  eventsToRegister(): ClusterEventWithHint[] {
    return [
      {
        event: { resource: 'Pod', actionType: ActionType.Add | ActionType.UpdatePodLabel },
        // A new or relabelled pod can satisfy the pod's affinity, or stop matching its anti-affinity.
        hint: (pod, oldObj, newObj) => {
          const added = newObj as PodInfo;
          if (pod.requiredAffinityTerms.some((t) => t.matches(added, undefined))) return true;
          return oldObj !== undefined && pod.requiredAntiAffinityTerms.some((t) => t.matches(oldObj as PodInfo, undefined));
        },
      },
      {
        event: { resource: 'Pod', actionType: ActionType.Delete },
        // A deleted pod can free a domain from the pod's anti-affinity, or take its own anti-affinity away.
        hint: (pod, oldObj) => {
          const deleted = oldObj as PodInfo;
          return deleted.hasRequiredAntiAffinity || pod.requiredAntiAffinityTerms.some((t) => t.matches(deleted, undefined));
        },
      },
      { event: { resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeLabel } },
    ];
  }
}

function satisfyPodAffinity(s: PreFilterState, nodeInfo: NodeInfo): boolean {
  let podsExist = true;
  for (const t of s.affinityTerms) {
    const value = nodeInfo.labels[t.topologyKey];
    // Every topology key must be on the node.
    if (value === undefined) return false;
    if (s.affinityCounts.get(t.topologyKey, value) <= 0) podsExist = false;
  }
  if (podsExist) return true;
  // The first pod of a group with affinity to itself: no pod anywhere matches, and it matches its own terms.
  return s.affinityCounts.size === 0 && matchesAllTerms(s.affinityTerms, s.pod);
}

function satisfyPodAntiAffinity(s: PreFilterState, nodeInfo: NodeInfo): boolean {
  if (s.antiAffinityCounts.size === 0) return true;
  for (const t of s.antiAffinityTerms) {
    const value = nodeInfo.labels[t.topologyKey];
    if (value !== undefined && s.antiAffinityCounts.get(t.topologyKey, value) > 0) return false;
  }
  return true;
}

function satisfyExistingPodsAntiAffinity(s: PreFilterState, nodeInfo: NodeInfo): boolean {
  if (s.existingAntiAffinityCounts.size === 0) return true;
  for (const key of Object.keys(nodeInfo.labels)) {
    if (s.existingAntiAffinityCounts.get(key, nodeInfo.labels[key]!) > 0) return false;
  }
  return true;
}
