// DefaultPreemption: when no node fits, find the node where evicting the
// fewest, least important lower-priority pods makes the pod fit, evict them
// (DisruptionTarget condition, then delete with their grace period), and
// nominate the node for the pod (Kubernetes' preemption.Evaluator).
import { selectorFromLabelSelector, type LabelSelector } from '../../api/labels/index.js';
import type { KubeObject } from '../../api/object.js';
import type { CycleState, FrameworkHandle, NodeToStatus, PostFilterPlugin, PostFilterResult } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import { moreImportantPod, type PodInfo } from '../pod-info.js';
import type { Framework } from '../runtime.js';
import { Status } from '../status.js';
import { fitErrorMessage } from '../fit-error.js';

export const errReasonNotHelpful = 'Preemption is not helpful for scheduling';
export const errReasonNoVictims = 'No preemption victims found for incoming pod';

/** What preemption does to the cluster, done by the scheduler (or a fake in tests). */
export interface PreemptionActions {
  /** Marks the victim with DisruptionTarget, deletes it with its grace period and records a Preempted event. */
  preemptVictim(victim: PodInfo, preemptor: PodInfo, nodeName: string): Promise<void>;
  /** Clears status.nominatedNodeName of pods whose nomination no longer holds. */
  clearNominatedNodeName(pods: readonly PodInfo[]): Promise<void>;
  /** PodDisruptionBudgets (policy/v1) as last seen. */
  podDisruptionBudgets(): readonly KubeObject[];
}

export interface Candidate {
  nodeName: string;
  victims: PodInfo[];
  numPDBViolations: number;
}

interface PdbView {
  namespace: string;
  selector: ReturnType<typeof selectorFromLabelSelector>;
  allowed: number;
  disrupted: Record<string, unknown>;
}

function pdbViews(pdbs: readonly KubeObject[]): PdbView[] {
  const out: PdbView[] = [];
  for (const pdb of pdbs) {
    const spec = (pdb.spec ?? {}) as { selector?: LabelSelector };
    const status = (pdb.status ?? {}) as { disruptionsAllowed?: number; disruptedPods?: Record<string, unknown> };
    let selector;
    try {
      selector = selectorFromLabelSelector(spec.selector ?? null);
    } catch {
      continue;
    }
    out.push({ namespace: pdb.metadata.namespace ?? '', selector, allowed: status.disruptionsAllowed ?? 0, disrupted: status.disruptedPods ?? {} });
  }
  return out;
}

/** Splits pods into those whose eviction would break a PodDisruptionBudget and the rest (in the given order). */
export function filterPodsWithPDBViolation(pods: readonly PodInfo[], pdbs: readonly KubeObject[]): [PodInfo[], PodInfo[]] {
  const views = pdbViews(pdbs);
  const allowed = views.map((v) => v.allowed);
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const p of pods) {
    let violated = false;
    if (Object.keys(p.labels).length > 0) {
      views.forEach((v, i) => {
        if (v.namespace !== p.namespace || v.selector.empty() || !v.selector.matches(p.labels)) return;
        if (p.name in v.disrupted) return;
        allowed[i]!--;
        if (allowed[i]! < 0) violated = true;
      });
    }
    (violated ? violating : nonViolating).push(p);
  }
  return [violating, nonViolating];
}

/** Kubernetes' pickOneNodeForPreemption: fewest PDB violations, lowest top victim priority, lowest priority sum, fewest victims, latest start. */
export function pickOneNodeForPreemption(candidates: readonly Candidate[]): Candidate | undefined {
  if (candidates.length === 0) return undefined;
  const offset = 2 ** 31;
  const criteria: ((c: Candidate) => number)[] = [
    (c) => -c.numPDBViolations,
    (c) => -(c.victims[0]?.priority ?? -Infinity),
    (c) => -c.victims.reduce((sum, v) => sum + v.priority + offset, 0),
    (c) => -c.victims.length,
    (c) => {
      // The earliest start among the highest-priority victims; later is better.
      const top = c.victims[0]?.priority;
      let earliest = Infinity;
      for (const v of c.victims) if (v.priority === top && (v.startTime ?? Infinity) < earliest) earliest = v.startTime ?? Infinity;
      return earliest === Infinity ? Number.MAX_SAFE_INTEGER : earliest;
    },
  ];
  let remaining = [...candidates];
  for (const score of criteria) {
    let best = -Infinity;
    for (const c of remaining) best = Math.max(best, score(c));
    remaining = remaining.filter((c) => score(c) === best);
    if (remaining.length === 1) break;
  }
  return remaining[0];
}

export interface DefaultPreemptionOptions {
  /** Share of potential nodes to dry-run at least (Kubernetes' minCandidateNodesPercentage). */
  minCandidateNodesPercentage?: number;
  /** Nodes to dry-run at least (minCandidateNodesAbsolute). */
  minCandidateNodesAbsolute?: number;
  random?: () => number;
}

export class DefaultPreemption implements PostFilterPlugin {
  readonly name = 'DefaultPreemption';

  constructor(
    private readonly handle: FrameworkHandle,
    private readonly framework: () => Framework,
    private readonly actions: PreemptionActions,
    private readonly opts: DefaultPreemptionOptions = {},
  ) {}

  /** Preempts, with its messages prefixed "preemption: " as kube-scheduler prints them. */
  async postFilter(state: CycleState, pod: PodInfo, statuses: NodeToStatus): Promise<{ result?: PostFilterResult; status: Status }> {
    const r = await this.preempt(state, pod, statuses);
    const msg = r.status.message();
    if (!msg) return r;
    return { result: r.result, status: new Status(r.status.code, [`preemption: ${msg}`], r.status.plugin, r.status.error) };
  }

  async preempt(state: CycleState, pod: PodInfo, statuses: NodeToStatus): Promise<{ result?: PostFilterResult; status: Status }> {
    const eligible = this.podEligibleToPreemptOthers(pod, statuses);
    if (eligible) return { status: Status.unschedulable(eligible) };
    const allNodes = this.handle.nodes.list();
    if (allNodes.length === 0) return { status: Status.error(new Error('no nodes available')) };

    const nodeStatuses: NodeToStatus = new Map();
    const potential: NodeInfo[] = [];
    const notHelpful = Status.unresolvable(errReasonNotHelpful);
    for (const n of allNodes) {
      if (statuses.get(n.name)?.code === 'UnschedulableAndUnresolvable') nodeStatuses.set(n.name, notHelpful);
      else potential.push(n);
    }
    if (potential.length === 0) {
      if (pod.pod.status?.nominatedNodeName) await this.actions.clearNominatedNodeName([pod]);
      return { status: Status.unschedulable(fitErrorMessage(nodeStatuses.size, nodeStatuses)) };
    }

    const candidates = this.dryRunPreemption(state, pod, potential, nodeStatuses);
    const best = pickOneNodeForPreemption(candidates);
    if (!best) return { status: Status.unschedulable(fitErrorMessage(nodeStatuses.size, nodeStatuses)) };

    for (const victim of best.victims) {
      const waiting = this.framework().getWaitingPod(victim.uid);
      if (waiting) waiting.reject(this.name, 'preempted');
      else await this.actions.preemptVictim(victim, pod, best.nodeName);
    }
    // Lower-priority pods nominated to this node may not fit any more: let them look elsewhere.
    const displaced = this.handle.nominatedPodsForNode(best.nodeName).filter((p) => p.priority < pod.priority && p.uid !== pod.uid);
    if (displaced.length) await this.actions.clearNominatedNodeName(displaced);
    return { result: { nominatedNodeName: best.nodeName }, status: Status.success() };
  }

  /** Undefined when the pod may preempt, else why not (PodEligibleToPreemptOthers). */
  podEligibleToPreemptOthers(pod: PodInfo, statuses: NodeToStatus): string | undefined {
    if (pod.preemptionPolicy === 'Never') return 'not eligible due to preemptionPolicy=Never.';
    const nominated = pod.pod.status?.nominatedNodeName;
    if (nominated) {
      if (statuses.get(nominated)?.code === 'UnschedulableAndUnresolvable') return undefined;
      const node = this.handle.nodes.get(nominated);
      if (node) for (const p of node.pods) if (p.priority < pod.priority && p.terminating) return 'not eligible due to a terminating pod on the nominated node.';
    }
    return undefined;
  }

  private dryRunPreemption(state: CycleState, pod: PodInfo, potential: readonly NodeInfo[], nodeStatuses: NodeToStatus): Candidate[] {
    const pct = this.opts.minCandidateNodesPercentage ?? 10;
    const abs = this.opts.minCandidateNodesAbsolute ?? 100;
    const n = potential.length;
    const numCandidates = Math.min(n, Math.max(Math.trunc((n * pct) / 100), abs));
    const offset = Math.floor((this.opts.random ?? Math.random)() * n);
    const pdbs = this.actions.podDisruptionBudgets();
    const violating: Candidate[] = [];
    const nonViolating: Candidate[] = [];
    for (let i = 0; i < n; i++) {
      const nodeInfo = potential[(offset + i) % n]!;
      const { victims, numPDBViolations, status } = this.selectVictimsOnNode(state.clone(), pod, nodeInfo.clone(), pdbs);
      if (status.isSuccess() && victims.length > 0) {
        (numPDBViolations === 0 ? nonViolating : violating).push({ nodeName: nodeInfo.name, victims, numPDBViolations });
        if (nonViolating.length > 0 && nonViolating.length + violating.length >= numCandidates) break;
        continue;
      }
      nodeStatuses.set(nodeInfo.name, status.isSuccess() ? Status.error(new Error(`expected at least one victim pod on node "${nodeInfo.name}"`)) : status);
    }
    return [...nonViolating, ...violating];
  }

  /** Removes every lower-priority pod, checks the pod fits, then puts back as many as still let it fit (most important first). */
  selectVictimsOnNode(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo, pdbs: readonly KubeObject[]): { victims: PodInfo[]; numPDBViolations: number; status: Status } {
    const fw = this.framework();
    const potentialVictims: PodInfo[] = [];
    for (const p of [...nodeInfo.pods]) {
      if (p.priority >= pod.priority) continue;
      potentialVictims.push(p);
      nodeInfo.removePod(p.key);
      const s = fw.runPreFilterExtensionRemovePod(state, pod, p, nodeInfo);
      if (!s.isSuccess()) return { victims: [], numPDBViolations: 0, status: s };
    }
    if (potentialVictims.length === 0) return { victims: [], numPDBViolations: 0, status: Status.unresolvable(errReasonNoVictims) };
    const fits = fw.runFilterPluginsWithNominatedPods(state, pod, nodeInfo);
    if (!fits.isSuccess()) return { victims: [], numPDBViolations: 0, status: fits };

    potentialVictims.sort((a, b) => (moreImportantPod(a, b) ? -1 : moreImportantPod(b, a) ? 1 : 0));
    const [violatingVictims, nonViolatingVictims] = filterPodsWithPDBViolation(potentialVictims, pdbs);
    const victims: PodInfo[] = [];
    let numPDBViolations = 0;
    const reprieve = (p: PodInfo): boolean => {
      nodeInfo.addPod(p);
      fw.runPreFilterExtensionAddPod(state, pod, p, nodeInfo);
      const ok = fw.runFilterPluginsWithNominatedPods(state, pod, nodeInfo).isSuccess();
      if (!ok) {
        nodeInfo.removePod(p.key);
        fw.runPreFilterExtensionRemovePod(state, pod, p, nodeInfo);
        victims.push(p);
      }
      return ok;
    };
    for (const p of violatingVictims) if (!reprieve(p)) numPDBViolations++;
    for (const p of nonViolatingVictims) reprieve(p);
    // Most important victims first, as Kubernetes sorts them for picking a node.
    victims.sort((a, b) => (moreImportantPod(a, b) ? -1 : moreImportantPod(b, a) ? 1 : 0));
    return { victims, numPDBViolations, status: Status.success() };
  }
}
