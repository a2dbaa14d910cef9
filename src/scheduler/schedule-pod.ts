// One scheduling decision (Kubernetes' schedulePod): PreFilter, Filter over
// a rotating sample of nodes, PreScore and Score over the feasible ones, and
// the best-scoring node, ties broken at random.
import type { CycleState, NodeToStatus } from './framework.js';
import { FitError, type Diagnosis } from './fit-error.js';
import type { NodeInfo, NodeInfoLister } from './node-info.js';
import type { PodInfo } from './pod-info.js';
import type { Framework } from './runtime.js';

/** Never stop filtering before this many feasible nodes are found. */
export const minFeasibleNodesToFind = 100;
/** The adaptive percentage never drops below this. */
export const minFeasibleNodesPercentageToFind = 5;

/**
 * How many feasible nodes are enough to stop filtering: all of a small
 * cluster; else percentage% of the nodes (0 = adaptive: 50% minus 1% per
 * 125 nodes, at least 5%), and never fewer than 100.
 */
export function numFeasibleNodesToFind(numAllNodes: number, percentageOfNodesToScore = 0): number {
  if (numAllNodes < minFeasibleNodesToFind) return numAllNodes;
  let percentage = percentageOfNodesToScore;
  if (percentage <= 0) percentage = Math.max(50 - Math.trunc(numAllNodes / 125), minFeasibleNodesPercentageToFind);
  if (percentage >= 100) return numAllNodes;
  const n = Math.trunc((numAllNodes * percentage) / 100);
  return Math.max(n, minFeasibleNodesToFind);
}

export interface ScheduleResult {
  suggestedHost: string;
  /** Nodes filtered. */
  evaluatedNodes: number;
  /** Nodes that passed the filters. */
  feasibleNodes: number;
}

/** Thrown when the cluster has no nodes at all (counted as unschedulable, not as an error). */
export class NoNodesAvailableError extends Error {
  override name = 'NoNodesAvailableError';
  constructor() {
    super('no nodes available to schedule pods');
  }
}

export interface PodSchedulerOptions {
  percentageOfNodesToScore?: number;
  /** The node a pod was nominated to (by default its status.nominatedNodeName). */
  nominatedNodeName?: (pod: PodInfo) => string | undefined;
  random?: () => number;
}

export class PodScheduler {
  private nextStartNodeIndex = 0;
  private readonly random: () => number;

  constructor(
    private readonly fw: Framework,
    private readonly nodes: NodeInfoLister,
    private readonly opts: PodSchedulerOptions = {},
  ) {
    this.random = opts.random ?? Math.random;
  }

  /** A node for the pod, or the FitError explaining why there is none; other failures throw. */
  schedulePod(state: CycleState, pod: PodInfo): ScheduleResult | FitError {
    const allNodes = this.nodes.list();
    if (allNodes.length === 0) throw new NoNodesAvailableError();
    const { feasible, diagnosis, evaluated } = this.findNodesThatFitPod(state, pod, allNodes);
    if (feasible.length === 0) return new FitError(allNodes.length, diagnosis);
    if (feasible.length === 1) return { suggestedHost: feasible[0]!.name, evaluatedNodes: evaluated, feasibleNodes: 1 };
    const scores = this.prioritizeNodes(state, pod, feasible);
    return { suggestedHost: this.selectHost(feasible, scores), evaluatedNodes: evaluated, feasibleNodes: feasible.length };
  }

  findNodesThatFitPod(state: CycleState, pod: PodInfo, allNodes: readonly NodeInfo[]): { feasible: NodeInfo[]; diagnosis: Diagnosis; evaluated: number } {
    const diagnosis: Diagnosis = { nodeToStatus: new Map(), unschedulablePlugins: new Set() };
    const pre = this.fw.runPreFilterPlugins(state, pod, allNodes);
    if (!pre.isSuccess()) {
      if (!pre.isRejected()) throw pre.error ?? new Error(pre.message());
      for (const n of allNodes) diagnosis.nodeToStatus.set(n.name, pre);
      diagnosis.preFilterMessage = pre.message();
      if (pre.plugin) diagnosis.unschedulablePlugins.add(pre.plugin);
      return { feasible: [], diagnosis, evaluated: 0 };
    }
    // A pod that preempted others tries the node it was nominated to first.
    const nominated = this.opts.nominatedNodeName ? this.opts.nominatedNodeName(pod) : pod.pod.status?.nominatedNodeName;
    if (nominated) {
      const node = this.nodes.get(nominated);
      if (node) {
        const s = this.fw.runFilterPluginsWithNominatedPods(state, pod, node);
        if (s.isSuccess()) return { feasible: [node], diagnosis, evaluated: 1 };
      }
    }
    const { feasible, evaluated } = this.findNodesThatPassFilters(state, pod, allNodes, diagnosis.nodeToStatus, diagnosis.unschedulablePlugins);
    return { feasible, diagnosis, evaluated };
  }

  private findNodesThatPassFilters(
    state: CycleState,
    pod: PodInfo,
    nodes: readonly NodeInfo[],
    statuses: NodeToStatus,
    unschedulablePlugins: Set<string>,
  ): { feasible: NodeInfo[]; evaluated: number } {
    const n = nodes.length;
    const want = numFeasibleNodesToFind(n, this.opts.percentageOfNodesToScore);
    const feasible: NodeInfo[] = [];
    const start = this.nextStartNodeIndex % n;
    let processed = 0;
    for (let i = 0; i < n; i++) {
      const node = nodes[(start + i) % n]!;
      processed++;
      const s = this.fw.runFilterPluginsWithNominatedPods(state, pod, node);
      if (s.isSuccess()) {
        feasible.push(node);
        if (feasible.length >= want) break;
      } else if (s.isRejected()) {
        statuses.set(node.name, s);
        if (s.plugin) unschedulablePlugins.add(s.plugin);
      } else {
        throw s.error ?? new Error(s.message());
      }
    }
    this.nextStartNodeIndex = (start + processed) % n;
    return { feasible, evaluated: processed };
  }

  prioritizeNodes(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): number[] {
    if (this.fw.scorePlugins.length === 0) return new Array<number>(nodes.length).fill(1);
    const s = this.fw.runPreScorePlugins(state, pod, nodes);
    if (!s.isSuccess()) throw s.error ?? new Error(s.message());
    return this.fw.runScorePlugins(state, pod, nodes);
  }

  /** The highest score; among equals each is equally likely (reservoir sampling). */
  selectHost(nodes: readonly NodeInfo[], scores: readonly number[]): string {
    let best = 0;
    let ties = 1;
    for (let i = 1; i < nodes.length; i++) {
      const s = scores[i]!;
      if (s > scores[best]!) {
        best = i;
        ties = 1;
      } else if (s === scores[best]!) {
        ties++;
        if (this.random() * ties < 1) best = i;
      }
    }
    return nodes[best]!.name;
  }
}
