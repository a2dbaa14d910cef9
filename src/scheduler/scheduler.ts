// The scheduler: watches pods and nodes, takes pods that name it (and no
// node yet) from the scheduling queue one at a time, runs the framework's
// plugins to pick a node, assumes the pod there at once, and binds it
// through pods/binding in the background while the next pod is scheduled.
// Pods that fit nowhere get PodScheduled=False and a FailedScheduling event,
// and wait for a cluster event that may help them.
import { ApiError } from '../api/errors.js';
import type { Labels, Selector } from '../api/labels/index.js';
import type { KubeObject } from '../api/object.js';
import type { Node, Pod, PodCondition } from '../api/scheduling/index.js';
import { EventRecorder } from '../client/events.js';
import { objectKey, type Informer, type InformerFactory } from '../client/informer.js';
import type { RestClient } from '../client/rest.js';
import { SchedulerCache } from './cache.js';
import { ActionType, CycleState, type ClusterEvent, type FrameworkHandle, type Plugin, type QueuedPodInfo } from './framework.js';
import { FitError } from './fit-error.js';
import { PodInfo, type PodPriorityInfo } from './pod-info.js';
import { defaultPlugins, defaultScoreWeights, type DefaultPluginDeps } from './plugins/registry.js';
import type { PreemptionActions } from './plugins/default-preemption.js';
import { SchedulingQueue } from './queue.js';
import { Framework } from './runtime.js';
import { NoNodesAvailableError, PodScheduler } from './schedule-pod.js';
import type { Status } from './status.js';
import { podsResource as podsPath, nodesResource as nodesPath } from '../client/core-resources.js';

export const defaultSchedulerName = 'default-scheduler';

const namespacesPath = { group: '', version: 'v1', plural: 'namespaces' };
const priorityClassesPath = { group: 'scheduling.k8s.io', version: 'v1', plural: 'priorityclasses' };
const pdbsPath = { group: 'policy', version: 'v1', plural: 'poddisruptionbudgets' };

/** The classes kube-apiserver creates at start; used when the cluster has not created them. */
const systemPriorityClasses: Record<string, number> = { 'system-node-critical': 2000001000, 'system-cluster-critical': 2000000000 };

export interface SchedulerOptions {
  /** Pods whose spec.schedulerName is this are ours ("default-scheduler"). */
  schedulerName?: string;
  log?: (line: string) => void;
  /** Log every binding too, not only failures and preemptions. */
  verbose?: boolean;
  /** Backoff after the first failed attempt (1 s), doubling per attempt up to podMaxBackoffMs (10 s). */
  podInitialBackoffMs?: number;
  podMaxBackoffMs?: number;
  /** Pods unschedulable for this long are retried even without a helpful event (60 s). */
  unschedulableFlushMs?: number;
  /** Share of nodes to find feasible before scoring (0 = adaptive, as Kubernetes). */
  percentageOfNodesToScore?: number;
  /** Bindings in flight at once before the scheduling loop waits (256). */
  maxConcurrentBinds?: number;
  /** The profile's plugins, in order (default: kube-scheduler's default plugins). */
  plugins?: (deps: DefaultPluginDeps) => Plugin[];
  /** Score weights by plugin name (default: kube-scheduler's). */
  scoreWeights?: Record<string, number>;
}

export interface SchedulerStats {
  /** Pods bound to a node. */
  scheduled: number;
  /** Scheduling attempts (a pod tried three times counts three). */
  attempts: number;
  /** Attempts that found no node. */
  unschedulable: number;
  /** Attempts that failed with an error (including failed bindings). */
  errors: number;
  /** Pods evicted to make room for higher-priority ones. */
  preemptionVictims: number;
  /** Pods waiting in the queue. */
  pending: { active: number; backoff: number; unschedulable: number };
  /** Bindings not yet answered. */
  bindingsInFlight: number;
  nodes: number;
}

function isAssigned(pod: Pod): boolean {
  return !!pod.spec?.nodeName;
}

function isTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function sameLabels(a: Labels | undefined, b: Labels | undefined): boolean {
  const ak = Object.keys(a ?? {});
  if (ak.length !== Object.keys(b ?? {}).length) return false;
  for (const k of ak) if (a![k] !== b?.[k]) return false;
  return true;
}

function jsonSame(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** What changed between two versions of a Node, as ActionType bits. */
export function nodeUpdateActions(oldNode: Node, newNode: Node): number {
  let a = 0;
  if (!jsonSame(oldNode.status?.allocatable, newNode.status?.allocatable)) a |= ActionType.UpdateNodeAllocatable;
  if (!sameLabels(oldNode.metadata.labels, newNode.metadata.labels)) a |= ActionType.UpdateNodeLabel;
  if (!jsonSame(oldNode.spec?.taints, newNode.spec?.taints) || (oldNode.spec?.unschedulable ?? false) !== (newNode.spec?.unschedulable ?? false)) a |= ActionType.UpdateNodeTaint;
  const conditions = (n: Node) => (n.status?.conditions ?? []).map((c) => `${c.type}=${c.status}`).join(',');
  if (conditions(oldNode) !== conditions(newNode)) a |= ActionType.UpdateNodeCondition;
  if (!sameLabels(oldNode.metadata.annotations, newNode.metadata.annotations)) a |= ActionType.UpdateNodeAnnotation;
  return a;
}

/** What changed between two versions of a bound pod that can matter to others, as ActionType bits. */
function assignedPodUpdateActions(oldPod: PodInfo, newPod: PodInfo): number {
  let a = 0;
  if (!sameLabels(oldPod.labels, newPod.labels)) a |= ActionType.UpdatePodLabel;
  if (newPod.milliCPU < oldPod.milliCPU || newPod.memory < oldPod.memory || newPod.ephemeralStorage < oldPod.ephemeralStorage) a |= ActionType.UpdatePodScaleDown;
  return a;
}

const assignedPodAdd: ClusterEvent = { resource: 'Pod', actionType: ActionType.Add, label: 'AssignedPodAdd' };
const assignedPodDelete: ClusterEvent = { resource: 'Pod', actionType: ActionType.Delete, label: 'AssignedPodDelete' };
const nodeAdd: ClusterEvent = { resource: 'Node', actionType: ActionType.Add, label: 'NodeAdd' };
const nodeDelete: ClusterEvent = { resource: 'Node', actionType: ActionType.Delete, label: 'NodeDelete' };

/** Events are best effort: a bounded number in flight, the rest dropped when too many pile up (as client-go's broadcaster). */
class EventSink {
  private readonly pending: (() => Promise<void>)[] = [];
  private running = 0;
  dropped = 0;

  constructor(
    private readonly recorder: EventRecorder,
    // Few at a time: bindings matter more than events when both queue up at the API server.
    private readonly concurrency = 4,
    private readonly capacity = 5000,
  ) {}

  emit(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (this.pending.length >= this.capacity) {
      this.dropped++;
      return;
    }
    const involved: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata };
    this.pending.push(() => this.recorder.record(involved, type, reason, message));
    this.pump();
  }

  private pump(): void {
    while (this.running < this.concurrency && this.pending.length > 0) {
      const job = this.pending.shift()!;
      this.running++;
      void job().finally(() => {
        this.running--;
        this.pump();
      });
    }
  }
}

export class Scheduler {
  readonly schedulerName: string;
  private readonly cache = new SchedulerCache();
  private readonly queue: SchedulingQueue;
  private readonly framework: Framework;
  private readonly algorithm: PodScheduler;
  private readonly events: EventSink;
  private readonly podInformer: Informer;
  private readonly nodeInformer: Informer;
  private readonly namespaceInformer: Informer;
  private readonly priorityClassInformer: Informer;
  private readonly pdbInformer: Informer;
  private readonly log: (line: string) => void;
  private readonly verbose: boolean;
  private readonly maxBinds: number;
  private globalDefaultPriority: { value: number; preemptionPolicy?: string } | undefined;
  private started = false;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private bindsInFlight = 0;
  private bindSlotWaiter: (() => void) | undefined;
  /** The last status write per pod, so writes to one pod stay in order and a binding waits for them. */
  private readonly statusWrites = new Map<string, Promise<void>>();
  private readonly counters = { scheduled: 0, attempts: 0, unschedulable: 0, errors: 0, preemptionVictims: 0 };

  constructor(
    private readonly client: RestClient,
    factory: InformerFactory,
    opts: SchedulerOptions = {},
  ) {
    this.schedulerName = opts.schedulerName ?? defaultSchedulerName;
    this.log = opts.log ?? (() => undefined);
    this.verbose = opts.verbose ?? false;
    this.maxBinds = opts.maxConcurrentBinds ?? 256;
    this.podInformer = factory.informer(podsPath);
    this.nodeInformer = factory.informer(nodesPath);
    this.namespaceInformer = factory.informer(namespacesPath);
    this.priorityClassInformer = factory.informer(priorityClassesPath);
    this.pdbInformer = factory.informer(pdbsPath);
    this.events = new EventSink(new EventRecorder(client, this.schedulerName));

    const handle: FrameworkHandle = {
      nodes: this.cache,
      namespaceLabels: (ns) => this.namespaceInformer.get(ns)?.metadata.labels,
      namespacesMatching: (selector: Selector) =>
        this.namespaceInformer
          .list()
          .filter((ns) => selector.matches(ns.metadata.labels))
          .map((ns) => ns.metadata.name ?? ''),
      nominatedPodsForNode: (node) => this.queue.nominator.forNode(node),
    };
    const preemption: PreemptionActions = {
      preemptVictim: (victim, preemptor, nodeName) => this.preemptVictim(victim, preemptor, nodeName),
      clearNominatedNodeName: (pods) => this.clearNominatedNodeName(pods),
      podDisruptionBudgets: () => this.pdbInformer.list(),
    };
    const plugins = (opts.plugins ?? defaultPlugins)({ handle, client, framework: () => this.framework, preemption });
    this.framework = new Framework(handle, plugins, { scoreWeights: opts.scoreWeights ?? defaultScoreWeights });
    this.algorithm = new PodScheduler(this.framework, this.cache, {
      percentageOfNodesToScore: opts.percentageOfNodesToScore,
      nominatedNodeName: (pod) => pod.pod.status?.nominatedNodeName || this.queue.nominator.nodeOfPod(pod.key),
    });
    const sort = this.framework.queueSort;
    this.queue = new SchedulingQueue({
      less: sort ? (a, b) => sort.less(a, b) : (a, b) => a.timestamp < b.timestamp,
      podInitialBackoffMs: opts.podInitialBackoffMs,
      podMaxBackoffMs: opts.podMaxBackoffMs,
      unschedulableFlushMs: opts.unschedulableFlushMs,
      pluginEvents: this.framework.eventsToRegister(),
      preEnqueue: (pod) => this.framework.runPreEnqueuePlugins(pod).isSuccess(),
      log: this.verbose ? this.log : undefined,
    });
  }

  /** Starts watching and scheduling; resolves once the caches have synced and the loop runs. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.priorityClassInformer.on({
      add: () => this.refreshGlobalDefaultPriority(),
      update: () => this.refreshGlobalDefaultPriority(),
      delete: () => this.refreshGlobalDefaultPriority(),
    });
    this.nodeInformer.on({
      add: (n) => this.onNodeAdd(n as Node),
      update: (o, n) => this.onNodeUpdate(o as Node, n as Node),
      delete: (n) => this.onNodeDelete(n as Node),
    });
    await Promise.all([this.priorityClassInformer.start(), this.namespaceInformer.start(), this.pdbInformer.start(), this.nodeInformer.start()]);
    if (this.stopped) return;
    // Pods last: their priorities come from PriorityClasses, which are in by now.
    this.podInformer.on({
      add: (p) => this.onPodAdd(p as Pod),
      update: (o, p) => this.onPodUpdate(o as Pod, p as Pod),
      delete: (p) => this.onPodDelete(p as Pod),
    });
    await this.podInformer.start();
    if (this.stopped) return;
    this.log(`scheduler ${this.schedulerName}: ${this.cache.nodeCount} nodes, ${this.cache.podCount} bound pods, ${this.queue.counts().active} pods to schedule`);
    this.loop = this.run();
  }

  /** Stops scheduling (informers belong to the factory and are stopped with it). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.queue.close();
    this.framework.rejectWaitingPods('scheduler stopped');
    this.bindSlotWaiter?.();
  }

  get stats(): SchedulerStats {
    const c = this.queue.counts();
    return {
      ...this.counters,
      pending: { active: c.active, backoff: c.backoff, unschedulable: c.unschedulable },
      bindingsInFlight: this.bindsInFlight,
      nodes: this.cache.nodeCount,
    };
  }

  // --- informer handlers: they update the cache and the queue, nothing else

  private responsibleFor(pod: Pod): boolean {
    return (pod.spec?.schedulerName || defaultSchedulerName) === this.schedulerName;
  }

  private refreshGlobalDefaultPriority(): void {
    let best: { value: number; preemptionPolicy?: string } | undefined;
    for (const pc of this.priorityClassInformer.list()) {
      if (pc.globalDefault !== true || typeof pc.value !== 'number') continue;
      // Kubernetes takes the lowest value when several claim to be the default.
      if (!best || pc.value < best.value) best = { value: pc.value, preemptionPolicy: pc.preemptionPolicy as string | undefined };
    }
    this.globalDefaultPriority = best;
  }

  /** The pod's priority as the Priority admission plugin resolves it: spec.priority, its class, the global default, 0. */
  private priorityOf(pod: Pod): PodPriorityInfo {
    const spec = pod.spec ?? {};
    let classValue: number | undefined;
    let classPolicy: string | undefined;
    if (spec.priorityClassName) {
      const pc = this.priorityClassInformer.get(spec.priorityClassName);
      if (pc && typeof pc.value === 'number') {
        classValue = pc.value;
        classPolicy = pc.preemptionPolicy as string | undefined;
      } else classValue = systemPriorityClasses[spec.priorityClassName];
    } else if (this.globalDefaultPriority) {
      classValue = this.globalDefaultPriority.value;
      classPolicy = this.globalDefaultPriority.preemptionPolicy;
    }
    return {
      priority: typeof spec.priority === 'number' ? spec.priority : (classValue ?? 0),
      preemptionPolicy: spec.preemptionPolicy ?? classPolicy ?? 'PreemptLowerPriority',
    };
  }

  private podInfo(pod: Pod): PodInfo {
    return new PodInfo(pod, this.priorityOf(pod));
  }

  private onNodeAdd(node: Node): void {
    this.cache.addNode(node);
    this.queue.moveAllToActiveOrBackoffQueue(nodeAdd, undefined, node);
  }

  private onNodeUpdate(oldNode: Node, node: Node): void {
    this.cache.updateNode(node);
    const actions = nodeUpdateActions(oldNode, node);
    if (actions) this.queue.moveAllToActiveOrBackoffQueue({ resource: 'Node', actionType: actions, label: 'NodeUpdate' }, oldNode, node);
  }

  private onNodeDelete(node: Node): void {
    this.cache.removeNode(node.metadata.name ?? '');
    this.queue.moveAllToActiveOrBackoffQueue(nodeDelete, node, undefined);
  }

  private onPodAdd(pod: Pod): void {
    if (isTerminal(pod)) return;
    if (isAssigned(pod)) {
      const info = this.podInfo(pod);
      this.cache.addPod(info);
      this.queue.moveAllToActiveOrBackoffQueue(assignedPodAdd, undefined, info);
      return;
    }
    if (this.responsibleFor(pod) && !pod.metadata.deletionTimestamp) this.queue.add(this.podInfo(pod));
  }

  private onPodUpdate(oldPod: Pod, pod: Pod): void {
    const key = objectKey(pod);
    if (isAssigned(pod)) {
      if (isTerminal(pod)) {
        const removed = this.cache.removePod(key);
        if (removed) this.queue.moveAllToActiveOrBackoffQueue(assignedPodDelete, removed, undefined);
        return;
      }
      const previous = this.cache.getPod(key);
      const info = this.podInfo(pod);
      this.cache.addPod(info);
      if (!isAssigned(oldPod)) {
        // Bound: by us (confirming the assumed pod) or by someone else.
        this.queue.delete(key);
        this.queue.moveAllToActiveOrBackoffQueue(assignedPodAdd, undefined, info);
      } else if (previous) {
        const actions = assignedPodUpdateActions(previous, info);
        if (actions) this.queue.moveAllToActiveOrBackoffQueue({ resource: 'Pod', actionType: actions, label: 'AssignedPodUpdate' }, previous, info);
      }
      return;
    }
    // Updates to a pod being bound (our own status writes) change nothing for the queue.
    if (this.cache.isAssumed(key)) return;
    if (isTerminal(pod) || pod.metadata.deletionTimestamp || !this.responsibleFor(pod)) {
      this.queue.delete(key);
      return;
    }
    this.queue.update(this.podInfo(oldPod), this.podInfo(pod));
  }

  private onPodDelete(pod: Pod): void {
    const key = objectKey(pod);
    this.queue.delete(key);
    const removed = this.cache.removePod(key);
    if (removed) this.queue.moveAllToActiveOrBackoffQueue(assignedPodDelete, removed, undefined);
  }

  // --- the scheduling loop

  private async run(): Promise<void> {
    while (!this.stopped) {
      const qp = await this.queue.pop();
      if (!qp) return;
      try {
        await this.scheduleOne(qp);
      } catch (err) {
        this.log(`scheduling ${qp.podInfo.key}: ${(err as Error).stack ?? String(err)}`);
        this.queue.done(qp.podInfo.key);
      }
      if (this.bindsInFlight >= this.maxBinds) await new Promise<void>((resolve) => (this.bindSlotWaiter = resolve));
      // Let watch events and binding responses in between two pods.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** One scheduling cycle: synchronous from the queue to the assumed pod, so the cache cannot change under it. */
  private async scheduleOne(qp: QueuedPodInfo): Promise<void> {
    const key = qp.podInfo.key;
    const current = this.podInformer.get(key) as Pod | undefined;
    if (!current || current.metadata.uid !== qp.podInfo.uid || isAssigned(current) || current.metadata.deletionTimestamp || this.cache.isAssumed(key)) {
      this.queue.done(key);
      return;
    }
    if (current.metadata.resourceVersion !== qp.podInfo.pod.metadata.resourceVersion) qp.podInfo = this.podInfo(current);
    const pod = qp.podInfo;
    this.counters.attempts++;
    const state = new CycleState();

    let result;
    try {
      result = this.algorithm.schedulePod(state, pod);
    } catch (err) {
      if (err instanceof NoNodesAvailableError) {
        this.counters.unschedulable++;
        // No plugin registered this name, so any cluster event (the first node) queues the pod again.
        this.handleFailure(qp, 'Unschedulable', err.message, new Set(['NoNodesAvailable']));
      } else {
        this.counters.errors++;
        this.log(`error selecting a node for pod ${key}: ${(err as Error).message}`);
        this.handleFailure(qp, 'SchedulerError', (err as Error).message, new Set(), null);
      }
      return;
    }

    if (result instanceof FitError) {
      this.counters.unschedulable++;
      let nominate: string | null | undefined;
      if (this.framework.postFilterPlugins.length > 0) {
        const { result: post, status } = await this.framework.runPostFilterPlugins(state, pod, result.diagnosis.nodeToStatus);
        if (status.code === 'Error') this.log(`PostFilter for pod ${key}: ${status.message()}`);
        result.diagnosis.postFilterMessage = status.message();
        if (post?.nominatedNodeName) nominate = post.nominatedNodeName;
      }
      const message = result.message;
      const shown = current.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message;
      // Logged when the verdict changes, not on every retry.
      if (this.verbose || shown !== message || nominate) this.log(`pod ${key} is unschedulable: ${message}${nominate ? ` (nominated to ${nominate})` : ''}`);
      this.handleFailure(qp, 'Unschedulable', message, result.diagnosis.unschedulablePlugins, nominate);
      return;
    }

    const host = result.suggestedHost;
    const assumed = pod.assumedOn(host);
    this.cache.assumePod(assumed);
    const reserved = this.framework.runReservePluginsReserve(state, assumed, host);
    if (!reserved.isSuccess()) {
      this.framework.runReservePluginsUnreserve(state, assumed, host);
      this.cache.forgetPod(key);
      this.failCycle(qp, reserved);
      return;
    }
    const permit = this.framework.runPermitPlugins(state, assumed, host);
    if (!permit.isSuccess() && permit.code !== 'Wait') {
      this.framework.runReservePluginsUnreserve(state, assumed, host);
      this.cache.forgetPod(key);
      this.failCycle(qp, permit);
      return;
    }
    this.queue.done(key);
    this.queue.nominator.delete(key);
    this.bindsInFlight++;
    void this.bindingCycle(state, qp, assumed, host).finally(() => {
      this.bindsInFlight--;
      const waiter = this.bindSlotWaiter;
      this.bindSlotWaiter = undefined;
      waiter?.();
    });
  }

  private failCycle(qp: QueuedPodInfo, s: Status): void {
    if (s.isRejected()) {
      this.counters.unschedulable++;
      this.handleFailure(qp, 'Unschedulable', s.message(), new Set(s.plugin ? [s.plugin] : []));
    } else {
      this.counters.errors++;
      this.handleFailure(qp, 'SchedulerError', s.message(), new Set(), null);
    }
  }

  /** Permit wait, PreBind and Bind, off the scheduling loop. */
  private async bindingCycle(state: CycleState, qp: QueuedPodInfo, assumed: PodInfo, host: string): Promise<void> {
    const key = assumed.key;
    let phase = 'Permit';
    let s = await this.framework.waitOnPermit(assumed);
    if (s.isSuccess()) {
      // A status write for this pod still on its way must not land after the binding.
      await this.statusWrites.get(key);
      phase = 'PreBind';
      s = await this.framework.runPreBindPlugins(state, assumed, host);
    }
    if (s.isSuccess()) {
      phase = 'Bind';
      s = await this.framework.runBindPlugins(state, assumed, host);
    }
    if (s.isSuccess()) {
      this.cache.finishBinding(key);
      this.counters.scheduled++;
      if (this.verbose) this.log(`bound ${key} to ${host}`);
      this.events.emit(assumed.pod, 'Normal', 'Scheduled', `Successfully assigned ${assumed.namespace}/${assumed.name} to ${host}`);
      this.framework.runPostBindPlugins(state, assumed, host);
      return;
    }
    this.framework.runReservePluginsUnreserve(state, assumed, host);
    this.cache.forgetPod(key);
    // The room the pod was assumed to take is free again.
    this.queue.moveAllToActiveOrBackoffQueue(assignedPodDelete, assumed, undefined);
    const err = s.error;
    if (err instanceof ApiError && (err.code === 404 || err.code === 409)) {
      // Deleted, being deleted, or bound by someone else meanwhile: nothing left to do.
      this.log(`binding ${key} to ${host}: ${err.message}`);
      return;
    }
    if (s.isRejected()) {
      this.counters.unschedulable++;
      this.handleFailure(qp, 'Unschedulable', s.message(), new Set(s.plugin ? [s.plugin] : []), null);
      return;
    }
    this.counters.errors++;
    const message = s.plugin ? `running ${phase} plugin "${s.plugin}": ${s.message()}` : s.message();
    this.log(`binding ${key} to ${host} failed: ${message}`);
    this.handleFailure(qp, 'SchedulerError', message, new Set(), null);
  }

  /**
   * Puts the pod back in the queue, then (in the background) records the
   * FailedScheduling event and writes PodScheduled=False (and the nominated
   * node) when they changed. nominate: a node name sets it, null clears it.
   */
  private handleFailure(qp: QueuedPodInfo, reason: string, message: string, plugins: Set<string>, nominate?: string | null): void {
    const key = qp.podInfo.key;
    const current = this.podInformer.get(key) as Pod | undefined;
    if (!current || current.metadata.uid !== qp.podInfo.uid || isAssigned(current)) {
      this.queue.done(key);
      return;
    }
    if (current.metadata.resourceVersion !== qp.podInfo.pod.metadata.resourceVersion) qp.podInfo = this.podInfo(current);
    qp.unschedulablePlugins = plugins;
    this.queue.addUnschedulableIfNotPresent(qp);
    if (typeof nominate === 'string') this.queue.nominator.add(qp.podInfo, nominate);
    else if (nominate === null && current.status?.nominatedNodeName) this.queue.nominator.delete(key);
    if (this.stopped) return;
    this.events.emit(current, 'Warning', 'FailedScheduling', message);
    const nominated = nominate === undefined ? undefined : (nominate ?? '');
    this.writeStatus(current, { type: 'PodScheduled', status: 'False', reason, message }, nominated);
  }

  /** Patches pods/status when the condition or the nominated node differs from what the pod shows. */
  private writeStatus(pod: Pod, condition: PodCondition, nominatedNodeName: string | undefined): void {
    const existing = pod.status?.conditions?.find((c) => c.type === condition.type);
    const conditionChanged = !existing || existing.status !== condition.status || existing.reason !== condition.reason || existing.message !== condition.message;
    const nominationChanged = nominatedNodeName !== undefined && (pod.status?.nominatedNodeName ?? '') !== nominatedNodeName;
    if (!conditionChanged && !nominationChanged) return;
    const status: Record<string, unknown> = {};
    if (conditionChanged) {
      const transition = existing && existing.status === condition.status ? (existing.lastTransitionTime ?? now()) : now();
      status.conditions = [{ ...condition, lastProbeTime: null, lastTransitionTime: transition }];
    }
    if (nominationChanged) status.nominatedNodeName = nominatedNodeName || null;
    this.patchStatus(pod, { status });
  }

  private patchStatus(pod: Pod, patch: Record<string, unknown>): Promise<void> {
    const key = objectKey(pod);
    const previous = this.statusWrites.get(key) ?? Promise.resolve();
    const write = previous.then(async () => {
      try {
        await this.client.patch({ ...podsPath, namespace: pod.metadata.namespace, name: pod.metadata.name, subresource: 'status' }, patch, 'strategic');
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) this.log(`updating status of pod ${key}: ${(err as Error).message}`);
      }
    });
    this.statusWrites.set(key, write);
    void write.finally(() => {
      if (this.statusWrites.get(key) === write) this.statusWrites.delete(key);
    });
    return write;
  }

  // --- preemption's actions

  private async preemptVictim(victim: PodInfo, preemptor: PodInfo, nodeName: string): Promise<void> {
    const path = { ...podsPath, namespace: victim.namespace, name: victim.name };
    const existing = victim.pod.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
    if (existing?.status !== 'True' || existing.reason !== 'PreemptionByScheduler') {
      const condition = {
        type: 'DisruptionTarget',
        status: 'True',
        reason: 'PreemptionByScheduler',
        message: `${preemptor.pod.spec?.schedulerName || this.schedulerName}: preempting to accommodate a higher priority pod`,
        lastProbeTime: null,
        lastTransitionTime: now(),
      };
      try {
        await this.client.patch({ ...path, subresource: 'status' }, { status: { conditions: [condition] } }, 'strategic');
      } catch (err) {
        if (err instanceof ApiError && err.code === 404) return;
        throw err;
      }
    }
    try {
      // No options: the pod's own terminationGracePeriodSeconds applies.
      await this.client.delete(path);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return;
      throw err;
    }
    this.counters.preemptionVictims++;
    this.log(`preempted pod ${victim.key} on node ${nodeName} for pod ${preemptor.key}`);
    this.events.emit(victim.pod, 'Normal', 'Preempted', `Preempted by pod ${preemptor.uid} on node ${nodeName}`);
  }

  private async clearNominatedNodeName(pods: readonly PodInfo[]): Promise<void> {
    for (const p of pods) {
      this.queue.nominator.delete(p.key);
      // Even when the pod we hold does not show it yet: a write setting it may still be on its way.
      await this.patchStatus(p.pod, { status: { nominatedNodeName: null } });
    }
  }
}
