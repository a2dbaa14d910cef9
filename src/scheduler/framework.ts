// The scheduler framework's extension points as small interfaces, one per
// point, as Kubernetes' pkg/scheduler/framework: a plugin implements the
// ones it needs, and the Framework (runtime.ts) calls them in order.
import type { Labels, Selector } from '../api/labels/index.js';
import type { NodeInfo, NodeInfoLister } from './node-info.js';
import type { PodInfo } from './pod-info.js';
import type { Status } from './status.js';

/** The highest score a Score plugin gives after normalizing. */
export const maxNodeScore = 100;

/** Per-cycle data a plugin keeps between its extension points; cloned for preemption's what-ifs. */
export interface StateData {
  clone(): StateData;
}

export class CycleState {
  private readonly data = new Map<string, StateData>();
  /** PreFilter plugins that returned Skip: their Filter is not run this cycle. */
  readonly skipFilterPlugins = new Set<string>();
  /** PreScore plugins that returned Skip: their Score is not run this cycle. */
  readonly skipScorePlugins = new Set<string>();
  /** The Filter plugins to run this cycle (set by the framework after PreFilter). */
  filterPlugins: readonly FilterPlugin[] | undefined;

  read<T extends StateData>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }

  write(key: string, value: StateData): void {
    this.data.set(key, value);
  }

  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.data) c.data.set(k, v.clone());
    for (const p of this.skipFilterPlugins) c.skipFilterPlugins.add(p);
    for (const p of this.skipScorePlugins) c.skipScorePlugins.add(p);
    c.filterPlugins = this.filterPlugins;
    return c;
  }
}

/** A pod waiting in the scheduling queue, with what the queue knows about its attempts. */
export interface QueuedPodInfo {
  podInfo: PodInfo;
  /** When it was last added to the queue (ms); the sort's tie-breaker and the backoff's start. */
  timestamp: number;
  /** Scheduling attempts so far. */
  attempts: number;
  /** When it was first added to the queue (ms). */
  initialAttemptTimestamp: number;
  /** Plugins that rejected it in the last attempt (what events can make it schedulable). */
  unschedulablePlugins: Set<string>;
  /** Held back by spec.schedulingGates. */
  gated: boolean;
}

export interface Plugin {
  readonly name: string;
}

/** Decides whether a pod may enter the active queue at all (scheduling gates). */
export interface PreEnqueuePlugin extends Plugin {
  preEnqueue(pod: PodInfo): Status;
}

export interface QueueSortPlugin extends Plugin {
  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean;
}

/** Lets PreFilter state follow pods added to or removed from a node in a what-if (nominated pods, preemption victims). */
export interface PreFilterExtensions {
  addPod(state: CycleState, podToSchedule: PodInfo, podToAdd: PodInfo, nodeInfo: NodeInfo): Status;
  removePod(state: CycleState, podToSchedule: PodInfo, podToRemove: PodInfo, nodeInfo: NodeInfo): Status;
}

export interface PreFilterPlugin extends Plugin {
  /** Computes per-cycle state over all nodes; Skip means the plugin's Filter has nothing to check for this pod. */
  preFilter(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status;
  preFilterExtensions?(): PreFilterExtensions | undefined;
}

export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status;
}

/** Why each node was rejected in a cycle, by node name. */
export type NodeToStatus = Map<string, Status>;

export interface PostFilterResult {
  /** The node the pod is nominated to (preemption made room there). */
  nominatedNodeName?: string;
}

export interface PostFilterPlugin extends Plugin {
  /** Runs when no node fits, to make one fit (preemption). */
  postFilter(state: CycleState, pod: PodInfo, statuses: NodeToStatus): Promise<{ result?: PostFilterResult; status: Status }>;
}

export interface PreScorePlugin extends Plugin {
  /** Skip means the plugin's Score has nothing to say for this pod. */
  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status;
}

export interface ScorePlugin extends Plugin {
  /** A raw score for one feasible node; errors are thrown. */
  score(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): number;
  /** Rescales the raw scores (same order as nodes) to 0..maxNodeScore. */
  normalizeScore?(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], scores: number[]): void;
}

export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: PodInfo, nodeName: string): Status;
  unreserve(state: CycleState, pod: PodInfo, nodeName: string): void;
}

export interface PermitResult {
  /** Success, a rejection, or Wait (then timeoutMs bounds the wait). */
  status: Status;
  timeoutMs?: number;
}

export interface PermitPlugin extends Plugin {
  permit(state: CycleState, pod: PodInfo, nodeName: string): PermitResult;
}

export interface PreBindPlugin extends Plugin {
  preBind(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status>;
}

export interface BindPlugin extends Plugin {
  /** Skip lets the next bind plugin bind. */
  bind(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status>;
}

export interface PostBindPlugin extends Plugin {
  postBind(state: CycleState, pod: PodInfo, nodeName: string): void;
}

/** What changed in the cluster, as a bit set per resource (Kubernetes' framework.ActionType). */
export const ActionType = {
  Add: 1,
  Delete: 2,
  UpdateNodeAllocatable: 4,
  UpdateNodeLabel: 8,
  UpdateNodeTaint: 16,
  UpdateNodeCondition: 32,
  UpdateNodeAnnotation: 64,
  UpdatePodLabel: 128,
  UpdatePodScaleDown: 256,
  UpdatePodTolerations: 512,
  UpdatePodSchedulingGatesEliminated: 1024,
  /** Any other change to the object. */
  UpdateOther: 2048,
  Update: 4 | 8 | 16 | 32 | 64 | 128 | 256 | 512 | 1024 | 2048,
  All: 4095,
} as const;

/** 'Pod' is a pod bound to a node; 'UnscheduledPod' a pod still waiting; '*' any resource. */
export type EventResource = 'Node' | 'Pod' | 'UnscheduledPod' | 'Namespace' | 'PodDisruptionBudget' | 'PriorityClass' | '*';

export interface ClusterEvent {
  resource: EventResource;
  actionType: number;
  /** For logs: "NodeAdd", "AssignedPodDelete" ... */
  label: string;
}

/**
 * Tells whether an event could make this pod schedulable (a QueueingHint);
 * true queues it. For Node events the objects are Nodes, for Pod events
 * PodInfos; an Add has no old object, a Delete no new one.
 */
export type QueueingHint = (pod: PodInfo, oldObj: unknown, newObj: unknown) => boolean;

export interface ClusterEventWithHint {
  event: { resource: EventResource; actionType: number };
  hint?: QueueingHint;
}

/** Plugins that reject pods say which cluster events may change their verdict. */
export interface EnqueueExtensions {
  eventsToRegister(): ClusterEventWithHint[];
}

/** What plugins may read about the cluster besides the node they look at. */
export interface FrameworkHandle {
  readonly nodes: NodeInfoLister;
  /** Labels of a namespace (undefined when it is not known). */
  namespaceLabels(namespace: string): Labels | undefined;
  /** The namespaces whose labels the selector matches. */
  namespacesMatching(selector: Selector): string[];
  /** Pods nominated to run on the node (room was made for them by preemption). */
  nominatedPodsForNode(nodeName: string): readonly PodInfo[];
}

export function isPreEnqueue(p: Plugin): p is PreEnqueuePlugin {
  return typeof (p as PreEnqueuePlugin).preEnqueue === 'function';
}
export function isPreFilter(p: Plugin): p is PreFilterPlugin {
  return typeof (p as PreFilterPlugin).preFilter === 'function';
}
export function isFilter(p: Plugin): p is FilterPlugin {
  return typeof (p as FilterPlugin).filter === 'function';
}
export function isPostFilter(p: Plugin): p is PostFilterPlugin {
  return typeof (p as PostFilterPlugin).postFilter === 'function';
}
export function isPreScore(p: Plugin): p is PreScorePlugin {
  return typeof (p as PreScorePlugin).preScore === 'function';
}
export function isScore(p: Plugin): p is ScorePlugin {
  return typeof (p as ScorePlugin).score === 'function';
}
export function isReserve(p: Plugin): p is ReservePlugin {
  return typeof (p as ReservePlugin).reserve === 'function';
}
export function isPermit(p: Plugin): p is PermitPlugin {
  return typeof (p as PermitPlugin).permit === 'function';
}
export function isPreBind(p: Plugin): p is PreBindPlugin {
  return typeof (p as PreBindPlugin).preBind === 'function';
}
export function isBind(p: Plugin): p is BindPlugin {
  return typeof (p as BindPlugin).bind === 'function';
}
export function isPostBind(p: Plugin): p is PostBindPlugin {
  return typeof (p as PostBindPlugin).postBind === 'function';
}
export function isQueueSort(p: Plugin): p is QueueSortPlugin {
  return typeof (p as QueueSortPlugin).less === 'function';
}
export function hasEnqueueExtensions(p: Plugin): p is Plugin & EnqueueExtensions {
  return typeof (p as unknown as EnqueueExtensions).eventsToRegister === 'function';
}
