// Runs a profile's plugins at each extension point in order, as Kubernetes'
// frameworkImpl: first rejection wins at Filter, weighted sums at Score,
// Skip honoured, and permit plugins may hold a pod before binding.
import {
  CycleState,
  hasEnqueueExtensions,
  isBind,
  isFilter,
  isPermit,
  isPostBind,
  isPostFilter,
  isPreEnqueue,
  isPreBind,
  isPreFilter,
  isPreScore,
  isQueueSort,
  isReserve,
  isScore,
  maxNodeScore,
  type BindPlugin,
  type ClusterEventWithHint,
  type FilterPlugin,
  type FrameworkHandle,
  type NodeToStatus,
  type PermitPlugin,
  type Plugin,
  type PostBindPlugin,
  type PostFilterPlugin,
  type PostFilterResult,
  type PreBindPlugin,
  type PreEnqueuePlugin,
  type PreFilterPlugin,
  type PreScorePlugin,
  type QueueSortPlugin,
  type ReservePlugin,
  type ScorePlugin,
} from './framework.js';
import type { NodeInfo } from './node-info.js';
import type { PodInfo } from './pod-info.js';
import { Status } from './status.js';

/** A pod held by permit plugins until each of them allows it (or one rejects, or time runs out). */
export class WaitingPod {
  private readonly pending: Set<string>;
  private readonly timers: NodeJS.Timeout[] = [];
  private settle!: (s: Status) => void;
  private settled = false;
  readonly result: Promise<Status>;

  constructor(
    readonly pod: PodInfo,
    readonly nodeName: string,
    waits: Map<string, number>,
  ) {
    this.pending = new Set(waits.keys());
    this.result = new Promise((resolve) => (this.settle = resolve));
    for (const [plugin, timeoutMs] of waits) {
      // Not unref'd: stop() rejects waiting pods, which clears these.
      this.timers.push(setTimeout(() => this.reject(plugin, `rejected due to timeout after waiting ${timeoutMs}ms at plugin ${plugin}`), timeoutMs));
    }
  }

  /** The plugins still holding the pod. */
  pendingPlugins(): string[] {
    return [...this.pending];
  }

  allow(plugin: string): void {
    this.pending.delete(plugin);
    if (this.pending.size === 0) this.finish(Status.success());
  }

  reject(plugin: string, message: string): void {
    this.finish(new Status('Unschedulable', [message], plugin));
  }

  private finish(s: Status): void {
    if (this.settled) return;
    this.settled = true;
    for (const t of this.timers) clearTimeout(t);
    this.settle(s);
  }
}

export interface ProfileOptions {
  /** Score weights by plugin name (1 when absent). */
  scoreWeights?: Record<string, number>;
}

export class Framework {
  readonly queueSort: QueueSortPlugin | undefined;
  readonly preEnqueuePlugins: PreEnqueuePlugin[];
  readonly preFilterPlugins: PreFilterPlugin[];
  readonly filterPlugins: FilterPlugin[];
  readonly postFilterPlugins: PostFilterPlugin[];
  readonly preScorePlugins: PreScorePlugin[];
  readonly scorePlugins: { plugin: ScorePlugin; weight: number }[];
  readonly reservePlugins: ReservePlugin[];
  readonly permitPlugins: PermitPlugin[];
  readonly preBindPlugins: PreBindPlugin[];
  readonly bindPlugins: BindPlugin[];
  readonly postBindPlugins: PostBindPlugin[];
  private readonly waitingPods = new Map<string, WaitingPod>();

  constructor(
    readonly handle: FrameworkHandle,
    readonly plugins: readonly Plugin[],
    opts: ProfileOptions = {},
  ) {
    this.queueSort = plugins.find(isQueueSort);
    this.preEnqueuePlugins = plugins.filter(isPreEnqueue);
    this.preFilterPlugins = plugins.filter(isPreFilter);
    this.filterPlugins = plugins.filter(isFilter);
    this.postFilterPlugins = plugins.filter(isPostFilter);
    this.preScorePlugins = plugins.filter(isPreScore);
    this.scorePlugins = plugins.filter(isScore).map((plugin) => ({ plugin, weight: opts.scoreWeights?.[plugin.name] ?? 1 }));
    this.reservePlugins = plugins.filter(isReserve);
    this.permitPlugins = plugins.filter(isPermit);
    this.preBindPlugins = plugins.filter(isPreBind);
    this.bindPlugins = plugins.filter(isBind);
    this.postBindPlugins = plugins.filter(isPostBind);
  }

  /** Each plugin's cluster events, for the queue to know what may make a rejected pod schedulable. */
  eventsToRegister(): Map<string, ClusterEventWithHint[]> {
    const out = new Map<string, ClusterEventWithHint[]>();
    for (const p of this.plugins) if (hasEnqueueExtensions(p)) out.set(p.name, p.eventsToRegister());
    return out;
  }

  /** Runs PreEnqueue plugins: false (with the first objection) keeps the pod out of the active queue. */
  runPreEnqueuePlugins(pod: PodInfo): Status {
    for (const pl of this.preEnqueuePlugins) {
      const s = pl.preEnqueue(pod);
      if (!s.isSuccess()) return s.withPlugin(pl.name);
    }
    return Status.success();
  }

  /** Runs PreFilter plugins; the first rejection or error is returned with its plugin. */
  runPreFilterPlugins(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status {
    for (const pl of this.preFilterPlugins) {
      let s: Status;
      try {
        s = pl.preFilter(state, pod, nodes);
      } catch (err) {
        s = Status.error(err);
      }
      if (s.isSkip()) {
        state.skipFilterPlugins.add(pl.name);
        state.filterPlugins = undefined;
        continue;
      }
      if (!s.isSuccess()) return s.withPlugin(pl.name);
    }
    return Status.success();
  }

  runPreFilterExtensionAddPod(state: CycleState, podToSchedule: PodInfo, podToAdd: PodInfo, nodeInfo: NodeInfo): Status {
    for (const pl of this.preFilterPlugins) {
      if (state.skipFilterPlugins.has(pl.name)) continue;
      const ext = pl.preFilterExtensions?.();
      if (!ext) continue;
      const s = ext.addPod(state, podToSchedule, podToAdd, nodeInfo);
      if (!s.isSuccess()) return s.withPlugin(pl.name);
    }
    return Status.success();
  }

  runPreFilterExtensionRemovePod(state: CycleState, podToSchedule: PodInfo, podToRemove: PodInfo, nodeInfo: NodeInfo): Status {
    for (const pl of this.preFilterPlugins) {
      if (state.skipFilterPlugins.has(pl.name)) continue;
      const ext = pl.preFilterExtensions?.();
      if (!ext) continue;
      const s = ext.removePod(state, podToSchedule, podToRemove, nodeInfo);
      if (!s.isSuccess()) return s.withPlugin(pl.name);
    }
    return Status.success();
  }

  /** Runs Filter plugins on one node; the first that does not pass decides. */
  runFilterPlugins(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    let plugins = state.filterPlugins;
    if (!plugins) {
      const skip = state.skipFilterPlugins;
      plugins = state.filterPlugins = this.filterPlugins.filter((pl) => !skip.has(pl.name));
    }
    for (const pl of plugins) {
      let s: Status;
      try {
        s = pl.filter(state, pod, nodeInfo);
      } catch (err) {
        s = Status.error(err);
      }
      if (!s.isSuccess()) return s.withPlugin(pl.name);
    }
    return Status.success();
  }

  /**
   * Filters a node as if the pods nominated to it with at least this pod's
   * priority were already there, then (when that passes and some were added)
   * again without them: pod affinity may need them absent, resources present.
   */
  runFilterPluginsWithNominatedPods(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    const nominated = this.handle.nominatedPodsForNode(nodeInfo.name);
    if (nominated.length > 0) {
      let withNominated: NodeInfo | undefined;
      let stateWith: CycleState | undefined;
      for (const np of nominated) {
        if (np.priority < pod.priority || np.uid === pod.uid) continue;
        if (!withNominated) {
          withNominated = nodeInfo.clone();
          stateWith = state.clone();
        }
        withNominated.addPod(np);
        const s = this.runPreFilterExtensionAddPod(stateWith!, pod, np, withNominated);
        if (!s.isSuccess()) return s;
      }
      if (withNominated) {
        const s = this.runFilterPlugins(stateWith!, pod, withNominated);
        if (!s.isSuccess()) return s;
      }
    }
    return this.runFilterPlugins(state, pod, nodeInfo);
  }

  /** Runs PostFilter plugins until one succeeds (preemption found room) or says nothing can help. */
  async runPostFilterPlugins(state: CycleState, pod: PodInfo, statuses: NodeToStatus): Promise<{ result?: PostFilterResult; status: Status }> {
    let result: PostFilterResult | undefined;
    const reasons: string[] = [];
    let rejector = '';
    for (const pl of this.postFilterPlugins) {
      let r: { result?: PostFilterResult; status: Status };
      try {
        r = await pl.postFilter(state, pod, statuses);
      } catch (err) {
        return { status: Status.error(err).withPlugin(pl.name) };
      }
      const s = r.status;
      if (s.isSuccess()) return r;
      if (s.code === 'UnschedulableAndUnresolvable') return { result: r.result, status: s.withPlugin(pl.name) };
      if (!s.isRejected()) return { status: new Status('Error', s.reasons, pl.name, s.error) };
      if (r.result?.nominatedNodeName !== undefined) result = r.result;
      reasons.push(...s.reasons);
      if (!rejector) rejector = pl.name;
    }
    return { result, status: new Status('Unschedulable', reasons, rejector) };
  }

  runPreScorePlugins(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status {
    for (const pl of this.preScorePlugins) {
      let s: Status;
      try {
        s = pl.preScore(state, pod, nodes);
      } catch (err) {
        s = Status.error(err);
      }
      if (s.isSkip()) {
        state.skipScorePlugins.add(pl.name);
        continue;
      }
      if (!s.isSuccess()) return s.withPlugin(pl.name);
    }
    return Status.success();
  }

  /** Each node's weighted sum of normalized scores (same order as nodes). */
  runScorePlugins(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): number[] {
    const totals = new Array<number>(nodes.length).fill(0);
    for (const { plugin, weight } of this.scorePlugins) {
      if (state.skipScorePlugins.has(plugin.name)) continue;
      const scores = new Array<number>(nodes.length);
      for (let i = 0; i < nodes.length; i++) scores[i] = plugin.score(state, pod, nodes[i]!);
      plugin.normalizeScore?.(state, pod, nodes, scores);
      for (let i = 0; i < nodes.length; i++) {
        const s = scores[i]!;
        if (s > maxNodeScore || s < 0) throw new Error(`plugin "${plugin.name}" returns an invalid score ${s}, it should in the range of [0, ${maxNodeScore}] after normalizing`);
        totals[i]! += s * weight;
      }
    }
    return totals;
  }

  runReservePluginsReserve(state: CycleState, pod: PodInfo, nodeName: string): Status {
    for (const pl of this.reservePlugins) {
      let s: Status;
      try {
        s = pl.reserve(state, pod, nodeName);
      } catch (err) {
        s = Status.error(err);
      }
      if (!s.isSuccess()) return s.withPlugin(pl.name);
    }
    return Status.success();
  }

  /** Undoes Reserve, in reverse order. */
  runReservePluginsUnreserve(state: CycleState, pod: PodInfo, nodeName: string): void {
    for (let i = this.reservePlugins.length - 1; i >= 0; i--) {
      try {
        this.reservePlugins[i]!.unreserve(state, pod, nodeName);
      } catch {
        // Unreserve must not fail; a plugin that throws has nothing left to undo.
      }
    }
  }

  /** Runs Permit plugins: Success, a rejection, or Wait (the pod is then held; see waitOnPermit). */
  runPermitPlugins(state: CycleState, pod: PodInfo, nodeName: string): Status {
    const waits = new Map<string, number>();
    for (const pl of this.permitPlugins) {
      let r;
      try {
        r = pl.permit(state, pod, nodeName);
      } catch (err) {
        return Status.error(err).withPlugin(pl.name);
      }
      const s = r.status;
      if (s.code === 'Wait') {
        waits.set(pl.name, Math.min(r.timeoutMs ?? 15 * 60_000, 15 * 60_000));
        continue;
      }
      if (!s.isSuccess()) return s.withPlugin(pl.name);
    }
    if (waits.size > 0) {
      this.waitingPods.set(pod.uid, new WaitingPod(pod, nodeName, waits));
      return new Status('Wait');
    }
    return Status.success();
  }

  /** Resolves once every permit plugin holding the pod has allowed it (Success) or one rejected it. */
  async waitOnPermit(pod: PodInfo): Promise<Status> {
    const wp = this.waitingPods.get(pod.uid);
    if (!wp) return Status.success();
    try {
      return await wp.result;
    } finally {
      this.waitingPods.delete(pod.uid);
    }
  }

  getWaitingPod(uid: string): WaitingPod | undefined {
    return this.waitingPods.get(uid);
  }

  /** Rejects every waiting pod (shutdown). */
  rejectWaitingPods(message: string): void {
    for (const wp of this.waitingPods.values()) wp.reject('', message);
  }

  async runPreBindPlugins(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status> {
    for (const pl of this.preBindPlugins) {
      let s: Status;
      try {
        s = await pl.preBind(state, pod, nodeName);
      } catch (err) {
        s = Status.error(err);
      }
      if (!s.isSuccess()) return s.withPlugin(pl.name);
    }
    return Status.success();
  }

  /** Runs Bind plugins until one does not Skip. */
  async runBindPlugins(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status> {
    for (const pl of this.bindPlugins) {
      let s: Status;
      try {
        s = await pl.bind(state, pod, nodeName);
      } catch (err) {
        s = Status.error(err);
      }
      if (s.isSkip()) continue;
      return s.isSuccess() ? s : s.withPlugin(pl.name);
    }
    return new Status('Error', ['no bind plugin bound the pod']);
  }

  runPostBindPlugins(state: CycleState, pod: PodInfo, nodeName: string): void {
    for (const pl of this.postBindPlugins) {
      try {
        pl.postBind(state, pod, nodeName);
      } catch {
        // Informational only.
      }
    }
  }
}
