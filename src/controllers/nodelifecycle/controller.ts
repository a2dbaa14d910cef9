// The node lifecycle controller (Kubernetes' pkg/controller/nodelifecycle
// with the tainteviction controller folded in):
//   - a node whose Lease (kube-node-lease/<node>) is not renewed and whose
//     Ready heartbeat does not change for nodeMonitorGracePeriod gets its
//     conditions set Unknown ("Kubelet stopped posting node status."), and
//     the pods on it Ready=False (MarkPodsNotReady);
//   - node conditions and spec.unschedulable are mirrored as NoSchedule taints,
//     Ready False/Unknown as the not-ready/unreachable NoExecute taints;
//   - pods on a node with NoExecute taints they do not tolerate are deleted,
//     at once or after their tolerationSeconds.
// Not done: zone-aware rate limiting of evictions and the "full disruption"
// mode that stops evicting when every node of a zone is down.
import { apiTime } from '../../api/api-time.js';
import { ApiError } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import { EventRecorder } from '../../client/events.js';
import { rvAtLeast, type Informer, type InformerFactory } from '../../client/informer.js';
import { evictionDecision, type TimedTaint } from './eviction.js';
import { NodeHealthTracker, unknownConditions } from './health.js';
import { condition, desiredControllerTaints, reconcileTaints, type NodeCondition, type Taint, type Toleration } from './taints.js';
import { nodesResource, podsResource } from '../../client/core-resources.js';
import { QueueController, type QueueControllerOptions } from '../queue-controller.js';

export const nodeLeaseNamespace = 'kube-node-lease';
const leasesResource = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: nodeLeaseNamespace };
const podsByNodeIndex = 'nodelifecycle.spec.nodeName';

export interface NodeLifecycleControllerOptions extends QueueControllerOptions {
  /** How long a node may go unheard before it is marked Unknown (40 s). */
  nodeMonitorGracePeriodMs?: number;
  /** How long a new node may take to post its first status (60 s). */
  nodeStartupGracePeriodMs?: number;
  /** How often every node is looked at again (5 s). */
  nodeMonitorPeriodMs?: number;
}

type Node = KubeObject & {
  spec?: { unschedulable?: boolean; taints?: Taint[] };
  status?: { conditions?: NodeCondition[] };
};

type Pod = KubeObject & {
  spec?: { nodeName?: string; tolerations?: Toleration[] };
  status?: { conditions?: { type?: string; status?: string }[] };
};

/** How long a write of ours may take to show in the informer before we stop waiting for it. */
const staleCacheLimitMs = 30_000;

const nowTimestamp = apiTime;

const podRef = (pod: KubeObject): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata });
const nodeRef = (node: KubeObject): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: node.metadata });
const podKey = (pod: KubeObject) => `${pod.metadata.namespace}/${pod.metadata.name}`;

export class NodeLifecycleController extends QueueController {
  private readonly nodes: Informer;
  private readonly pods: Informer;
  private readonly leases: Informer;
  private readonly health: NodeHealthTracker;
  private readonly nodeEvents: EventRecorder;
  private readonly evictionEvents: EventRecorder;
  /** Pods whose deletion is scheduled (for the cancel event), by "namespace/name". */
  private readonly scheduled = new Map<string, { node: string; at: number }>();
  /** When this process first saw a NoExecute taint that has no timeAdded, by "node\0key\0effect". */
  private readonly taintFirstSeen = new Map<string, number>();
  /** One pending re-check per node: the earliest time something is due. */
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  /** Our last write to each node, until the informer shows it (a sync on an older copy would only conflict). */
  private readonly written = new Map<string, { rv: string; since: number }>();
  /** Pods this process deleted, by uid, until the informer shows them going: not deleted (nor announced) twice. */
  private readonly evicted = new Map<string, number>();
  /** Pods marked not ready, by uid: the resourceVersion they had then. */
  private readonly markedNotReady = new Map<string, string | undefined>();
  private monitor: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    factory: InformerFactory,
    private readonly opts: NodeLifecycleControllerOptions = {},
  ) {
    super(factory, opts, 2);
    this.health = new NodeHealthTracker(opts.nodeMonitorGracePeriodMs ?? 40_000, opts.nodeStartupGracePeriodMs ?? 60_000);
    this.nodeEvents = new EventRecorder(this.client, 'node-controller');
    this.evictionEvents = new EventRecorder(this.client, 'taint-eviction-controller');
    this.nodes = this.informer(nodesResource);
    this.pods = this.informer(podsResource);
    this.leases = this.informer(leasesResource);
    this.pods.addIndex(podsByNodeIndex, (p) => {
      const node = (p as Pod).spec?.nodeName;
      return node ? [node] : [];
    });

    const enqueueNode = (node: KubeObject) => this.queue.add(node.metadata.name ?? '');
    this.nodes.on({ add: enqueueNode, update: (_old, node) => enqueueNode(node), delete: enqueueNode });
    this.leases.on({ add: enqueueNode, update: (_old, lease) => enqueueNode(lease) });
    // Pods matter only on nodes with NoExecute taints or an Unknown Ready condition.
    const enqueuePodNode = (pod: KubeObject) => {
      const name = (pod as Pod).spec?.nodeName;
      if (!name) return;
      const node = this.nodes.get(name) as Node | undefined;
      if (!node) return;
      const tainted = (node.spec?.taints ?? []).some((t) => t.effect === 'NoExecute');
      if (tainted || condition(node.status?.conditions, 'Ready')?.status === 'Unknown' || this.hasScheduled(name)) this.queue.add(name);
    };
    this.pods.on({ add: enqueuePodNode, update: (_old, pod) => enqueuePodNode(pod), delete: enqueuePodNode });
  }

  override async start(): Promise<void> {
    await super.start();
    this.monitor = setInterval(() => {
      for (const node of this.nodes.list()) this.queue.add(node.metadata.name ?? '');
    }, this.opts.nodeMonitorPeriodMs ?? 5000);
    this.monitor.unref();
  }

  override stop(): void {
    this.stopped = true;
    super.stop();
    if (this.monitor) clearInterval(this.monitor);
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private hasScheduled(node: string): boolean {
    for (const s of this.scheduled.values()) if (s.node === node) return true;
    return false;
  }

  /** Looks at the node again at `at` (ms since the epoch), unless an earlier look is already due. */
  private recheckAt(name: string, at: number): void {
    if (this.stopped) return;
    const pending = this.timers.get(name);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(name);
      this.queue.add(name);
    }, Math.max(0, at - Date.now()) + 10);
    timer.unref();
    this.timers.set(name, { at, timer });
  }

  /** False while our last write to the node has not reached the informer. */
  private cacheCaughtUp(name: string, node: Node | undefined): boolean {
    const w = this.written.get(name);
    if (!w) return true;
    if (!node || rvAtLeast(node.metadata.resourceVersion, w.rv) || Date.now() - w.since > staleCacheLimitMs) {
      this.written.delete(name);
      return true;
    }
    return false;
  }

  async sync(name: string): Promise<void> {
    let node = this.nodes.get(name) as Node | undefined;
    // The informer event for our write brings the node back to the queue.
    if (!this.cacheCaughtUp(name, node)) return;
    if (!node) {
      this.health.forget(name);
      for (const [key, s] of this.scheduled) if (s.node === name) this.scheduled.delete(key);
      for (const key of this.taintFirstSeen.keys()) if (key.startsWith(`${name}\u0000`)) this.taintFirstSeen.delete(key);
      return;
    }
    const now = Date.now();
    const lease = this.leases.get(`${nodeLeaseNamespace}/${name}`) as (KubeObject & { spec?: { renewTime?: string } }) | undefined;
    const observedReady = condition(node.status?.conditions, 'Ready')?.status;
    const h = this.health.observe({ name, creationTimestamp: node.metadata.creationTimestamp, conditions: node.status?.conditions }, lease?.spec?.renewTime, now);
    if (h.first) void this.nodeEvents.record(nodeRef(node), 'Normal', 'RegisteredNode', `Node ${name} event: Registered Node ${name} in Controller`);

    if (h.expired) {
      const conditions = unknownConditions({ name, creationTimestamp: node.metadata.creationTimestamp, conditions: node.status?.conditions }, nowTimestamp(now));
      if (conditions) {
        node = await this.client.update<Node>({ ...nodesResource, name, subresource: 'status' }, { ...node, status: { ...(node.status ?? {}), conditions } });
        this.written.set(name, { rv: node.metadata.resourceVersion ?? '', since: Date.now() });
        this.log(`node ${name}: not heard from for ${Math.round((now - h.probe) / 1000)} s, conditions set Unknown`);
        if (observedReady === 'True') void this.nodeEvents.record(nodeRef(node), 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      }
    } else {
      this.recheckAt(name, h.deadline + 1);
    }

    node = await this.syncTaints(node);
    const pods = this.pods.byIndex(podsByNodeIndex, name) as Pod[];
    if (condition(node.status?.conditions, 'Ready')?.status === 'Unknown') await this.markPodsNotReady(pods);
    await this.evictPods(node, pods, now);
  }

  /** Puts the condition and unschedulable taints, and the NoExecute ones, where they belong. */
  private async syncTaints(node: Node): Promise<Node> {
    const name = node.metadata.name ?? '';
    const current = node.spec?.taints ?? [];
    const desired = desiredControllerTaints(node.status?.conditions, node.spec?.unschedulable === true);
    const taints = reconcileTaints(current, desired, nowTimestamp());
    if (!taints) return node;
    const spec: Record<string, unknown> = { ...(node.spec ?? {}), taints };
    if (taints.length === 0) delete spec.taints;
    const updated = await this.client.update<Node>({ ...nodesResource, name }, { ...node, spec });
    this.written.set(name, { rv: updated.metadata.resourceVersion ?? '', since: Date.now() });
    const describe = (ts: Taint[]) => ts.map((t) => `${t.key}:${t.effect}`).join(', ') || 'none';
    this.log(`node ${name}: taints ${describe(current)} -> ${describe(taints)}`);
    return updated;
  }

  /** MarkPodsNotReady: the pods of a node nobody hears from are not ready either. */
  private async markPodsNotReady(pods: Pod[]): Promise<void> {
    for (const pod of pods) {
      const ready = (pod.status?.conditions ?? []).find((c) => c.type === 'Ready');
      if (!ready || ready.status === 'False') continue;
      // The copy we already marked, not yet replaced in the informer.
      if (this.markedNotReady.get(pod.metadata.uid ?? '') === pod.metadata.resourceVersion) continue;
      try {
        await this.client.patch(
          { ...podsResource, namespace: pod.metadata.namespace, name: pod.metadata.name, subresource: 'status' },
          { status: { conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: nowTimestamp() }] } },
          'strategic',
        );
      } catch (err) {
        if (err instanceof ApiError && err.code === 404) continue;
        throw err;
      }
      this.markedNotReady.set(pod.metadata.uid ?? '', pod.metadata.resourceVersion);
      if (this.markedNotReady.size > 10_000) this.markedNotReady.clear();
      this.log(`pod ${podKey(pod)}: marked not ready, its node is not heard from`);
      void this.nodeEvents.record(podRef(pod), 'Warning', 'NodeNotReady', 'Node is not ready');
    }
  }

  private async evictPods(node: Node, pods: Pod[], now: number): Promise<void> {
    const name = node.metadata.name ?? '';
    const taints: TimedTaint[] = [];
    const live = new Set<string>();
    for (const t of node.spec?.taints ?? []) {
      if (t.effect !== 'NoExecute') continue;
      const seenKey = `${name}\u0000${t.key}\u0000${t.effect}`;
      live.add(seenKey);
      let since = t.timeAdded ? Date.parse(t.timeAdded) : NaN;
      if (Number.isNaN(since)) {
        since = this.taintFirstSeen.get(seenKey) ?? now;
        this.taintFirstSeen.set(seenKey, since);
      }
      taints.push({ ...t, since });
    }
    for (const key of this.taintFirstSeen.keys()) if (key.startsWith(`${name}\u0000`) && !live.has(key)) this.taintFirstSeen.delete(key);

    const present = new Set(pods.map(podKey));
    for (const [key, s] of this.scheduled) if (s.node === name && !present.has(key)) this.scheduled.delete(key);

    for (const [uid, at] of this.evicted) if (now - at > staleCacheLimitMs) this.evicted.delete(uid);
    for (const pod of pods) {
      const key = podKey(pod);
      if (pod.metadata.deletionTimestamp || this.evicted.has(pod.metadata.uid ?? '')) {
        this.scheduled.delete(key);
        continue;
      }
      const created = pod.metadata.creationTimestamp ? Date.parse(pod.metadata.creationTimestamp) : NaN;
      const decision = evictionDecision(taints, pod.spec?.tolerations ?? [], created, now);
      if (decision.action === 'keep') {
        if (this.scheduled.delete(key)) void this.evictionEvents.record(podRef(pod), 'Normal', 'TaintManagerEviction', `Cancelling deletion of Pod ${key}`);
        continue;
      }
      if (decision.action === 'evictAt') {
        if (this.scheduled.get(key)?.at !== decision.at) this.log(`pod ${key}: tolerates the taints of node ${name} until ${new Date(decision.at).toISOString()}`);
        this.scheduled.set(key, { node: name, at: decision.at });
        this.recheckAt(name, decision.at);
        continue;
      }
      await this.evict(pod, name);
      this.scheduled.delete(key);
    }
  }

  private async evict(pod: Pod, node: string): Promise<void> {
    const key = podKey(pod);
    const path = { ...podsResource, namespace: pod.metadata.namespace, name: pod.metadata.name };
    void this.evictionEvents.record(podRef(pod), 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
    // As Kubernetes does, the pod says why it goes before it goes (best effort).
    try {
      await this.client.patch(
        { ...path, subresource: 'status' },
        {
          status: {
            conditions: [
              { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint', lastTransitionTime: nowTimestamp() },
            ],
          },
        },
        'strategic',
      );
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return;
      this.log(`pod ${key}: could not add the DisruptionTarget condition: ${(err as Error).message}`);
    }
    try {
      await this.client.delete(path, { preconditions: { uid: pod.metadata.uid } });
      this.evicted.set(pod.metadata.uid ?? '', Date.now());
      this.log(`pod ${key}: deleted for the NoExecute taints of node ${node}`);
    } catch (err) {
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return;
      throw err;
    }
  }
}
