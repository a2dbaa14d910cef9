// Node agents: each registers its Node, renews its Lease in kube-node-lease,
// reports node status, and runs the pods bound to it through its runtime.
// Any number of agents share one process's machinery: one pod informer
// (indexed by spec.nodeName), one work queue, one write limiter and two
// staggered tickers, so that a node costs a few small objects and no timer,
// watch or connection of its own. One real node is a group of one; hollow
// nodes are a group of a thousand.
import { ApiError } from '../api/errors.js';
import type { KubeObject } from '../api/object.js';
import { isPlainObject } from '../api/object.js';
import { EventRecorder } from '../client/events.js';
import { InformerFactory, objectKey, type Informer } from '../client/informer.js';
import type { RestClient } from '../client/rest.js';
import { WorkQueue, runWorkers } from '../client/work-queue.js';
import { healthyNode, initialNode, nodeLabels, nodeStatus, nodeStatusChanged, type NodeConfig, type NodeHealth } from './node-status.js';
import { nodeNameOf } from './pod-spec.js';
import { PodWorker, type AgentLog, type CrashLoopBackOff } from './pod-worker.js';
import type { Runtime } from './runtime.js';
import { StaggeredTicker } from './staggered-ticker.js';
import { PodStatusWriter } from './status-writer.js';
import { microTime } from './timestamps.js';
import { WriteLimiter } from './write-limiter.js';
import { nodesResource as nodesPath, podsResource as podsPath } from '../client/core-resources.js';

type Json = Record<string, unknown>;

const leaseNamespace = 'kube-node-lease';
const leasesPath = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: leaseNamespace };
/** Node, Lease and status writes show up in managedFields as the kubelet's. */
const asKubelet = { fieldManager: 'kubelet' };
/** The informer index of pods by the node they are bound to. */
export const podsByNodeIndex = 'spec.nodeName';

export interface NodeAgentOptions {
  /** spec.leaseDurationSeconds of the node Lease (40, the kubelet's nodeLeaseDurationSeconds). */
  leaseDurationSeconds?: number;
  /** How often the Lease is renewed: a quarter of its duration (10 s), as the kubelet does. */
  leaseRenewIntervalMs?: number;
  /** How often node status is computed and posted if it changed (the kubelet's nodeStatusUpdateFrequency, 10 s). */
  nodeStatusUpdateFrequencyMs?: number;
  /** How often node status is posted even when unchanged (the kubelet's nodeStatusReportFrequency, 5 min). */
  nodeStatusReportFrequencyMs?: number;
  /** Writes in flight at once across all nodes of the process. */
  writeConcurrency?: number;
  crashLoopBackOff?: CrashLoopBackOff;
  /** Record Events (Pulled, Created, Started, Killing, BackOff) on pods. */
  events?: boolean;
  /** A process's shared informer factory; the group makes its own when not given. */
  informers?: InformerFactory;
  /** Each node's health for its conditions; all fine when not given. */
  health?: (node: string) => NodeHealth;
  /** Each node's status.images (the images its runtime holds); none reported when not given. */
  images?: (node: string) => { names: string[]; sizeBytes: number }[] | undefined;
  /** Called as nodes finish registering. */
  onRegistered?: (registered: number, total: number) => void;
  /** How often running pods' configMap/secret/downwardAPI volumes are refreshed (the kubelet's sync period; 10 s). */
  volumeRefreshIntervalMs?: number;
  log?: AgentLog;
}

export interface NodeSpecAndRuntime {
  config: NodeConfig;
  runtime: Runtime;
}

export interface NodeAgentGroup {
  /** The node names, in the order given. */
  readonly nodes: string[];
  /** Stops heartbeats, status reports and pod work; deletes nothing (the nodes just stop heartbeating). */
  stop(): Promise<void>;
}

interface Shared {
  client: RestClient;
  limiter: WriteLimiter;
  leaseDurationSeconds: number;
  reportFrequencyMs: number;
  health: (node: string) => NodeHealth;
  images: (node: string) => { names: string[]; sizeBytes: number }[] | undefined;
  log: AgentLog;
  stopped: () => boolean;
}

/** One node: its registration, Lease, status reports and pod worker. */
class NodeAgent {
  uid: string | undefined;
  private lease: KubeObject | undefined;
  private reported: Json | undefined;
  private reportedAt = 0;
  private leaseBusy = false;
  private statusBusy = false;
  registered = false;

  constructor(
    readonly config: NodeConfig,
    readonly runtime: Runtime,
    readonly worker: PodWorker,
    private readonly shared: Shared,
  ) {}

  get name(): string {
    return this.config.name;
  }

  private status(previousConditions: Json[]): Json {
    return nodeStatus(this.config, `${this.runtime.type}://${this.runtime.version}`, this.shared.health(this.name), previousConditions, Date.now(), this.shared.images(this.name));
  }

  private heartbeat<T>(fn: () => Promise<T>): Promise<T> {
    return this.shared.limiter.run(fn, 'heartbeat');
  }

  /** Creates the Node, or takes over an existing one (the kubelet's tryRegisterWithAPIServer), then its Lease. */
  async register(): Promise<void> {
    let delay = 100;
    while (!this.shared.stopped()) {
      try {
        await this.registerOnce();
        await this.ensureLease();
        this.registered = true;
        return;
      } catch (err) {
        if (this.shared.stopped()) return;
        this.shared.log(`node ${this.name}: registration failed: ${(err as Error).message}; retrying in ${delay} ms`);
        await new Promise((r) => setTimeout(r, delay).unref());
        delay = Math.min(delay * 2, 7_000);
      }
    }
  }

  private async registerOnce(): Promise<void> {
    const status = this.status([]);
    try {
      const created = await this.heartbeat(() => this.shared.client.create<KubeObject>(nodesPath, initialNode(this.config, status), asKubelet));
      this.uid = created.metadata.uid;
      this.reported = status;
      this.reportedAt = Date.now();
      return;
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
    }
    // Registered before (an agent restart): keep the node, bring its labels and status up to date.
    const existing = await this.heartbeat(() => this.shared.client.get<KubeObject>({ ...nodesPath, name: this.name }));
    this.uid = existing.metadata.uid;
    const want = nodeLabels(this.config);
    const have = existing.metadata.labels ?? {};
    const changed = Object.fromEntries(Object.entries(want).filter(([k, v]) => have[k] !== v));
    if (Object.keys(changed).length > 0) {
      await this.heartbeat(() => this.shared.client.patch({ ...nodesPath, name: this.name }, { metadata: { labels: changed } }, 'strategic', asKubelet));
    }
    const previous = isPlainObject(existing.status) && Array.isArray(existing.status.conditions) ? existing.status.conditions.filter(isPlainObject) : [];
    this.reported = undefined;
    await this.postStatus(this.status(previous));
  }

  private leaseBody(): KubeObject {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.name,
        namespace: leaseNamespace,
        ownerReferences: this.uid ? [{ apiVersion: 'v1', kind: 'Node', name: this.name, uid: this.uid }] : undefined,
      },
      spec: { holderIdentity: this.name, leaseDurationSeconds: this.shared.leaseDurationSeconds, renewTime: microTime() },
    };
  }

  private async ensureLease(): Promise<void> {
    try {
      this.lease = await this.heartbeat(() => this.shared.client.create<KubeObject>(leasesPath, this.leaseBody(), asKubelet));
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
      this.lease = undefined;
      await this.renewLease();
    }
  }

  /** One renewal, skipped while the previous one is still on its way (the limiter may be backed up). */
  tickLease(): void {
    if (!this.registered || this.leaseBusy || this.shared.stopped()) return;
    this.leaseBusy = true;
    this.renewLease()
      .catch((err: unknown) => {
        if (!this.shared.stopped()) this.shared.log(`node ${this.name}: lease renewal failed: ${(err as Error).message}`);
      })
      .finally(() => (this.leaseBusy = false));
  }

  /** The kubelet's lease controller: update the Lease it holds with a new renewTime; on conflict read it again once. */
  private async renewLease(): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (!this.lease) {
        try {
          this.lease = await this.heartbeat(() => this.shared.client.get<KubeObject>({ ...leasesPath, name: this.name }));
        } catch (err) {
          if (err instanceof ApiError && err.code === 404) return this.ensureLease();
          throw err;
        }
      }
      const current = this.lease;
      const spec = isPlainObject(current.spec) ? current.spec : {};
      const metadata: Json = { ...current.metadata };
      delete metadata.managedFields;
      if (this.uid && !(Array.isArray(metadata.ownerReferences) && metadata.ownerReferences.length > 0)) {
        metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name: this.name, uid: this.uid }];
      }
      const body = {
        ...current,
        metadata,
        spec: { ...spec, holderIdentity: this.name, leaseDurationSeconds: this.shared.leaseDurationSeconds, renewTime: microTime() },
      };
      try {
        this.lease = await this.heartbeat(() => this.shared.client.update<KubeObject>({ ...leasesPath, name: this.name }, body, asKubelet));
        return;
      } catch (err) {
        if (!(err instanceof ApiError) || (err.code !== 409 && err.code !== 404)) throw err;
        this.lease = undefined;
      }
    }
  }

  /** One status round: post when something changed or the report frequency has passed. */
  tickStatus(): void {
    if (!this.registered || this.statusBusy || this.shared.stopped()) return;
    const previous = Array.isArray(this.reported?.conditions) ? (this.reported.conditions as unknown[]).filter(isPlainObject) : [];
    const next = this.status(previous);
    if (!nodeStatusChanged(this.reported, next) && Date.now() - this.reportedAt < this.shared.reportFrequencyMs) return;
    this.statusBusy = true;
    this.postStatus(next)
      .catch((err: unknown) => {
        // A Node deleted under a running agent stays deleted: the kubelet registers once per start, and so does this.
        if (!this.shared.stopped()) this.shared.log(`node ${this.name}: status update failed: ${(err as Error).message}`);
      })
      .finally(() => (this.statusBusy = false));
  }

  /** PATCH nodes/{name}/status (strategic merge: conditions and addresses merge by type, as the kubelet's patch). */
  private async postStatus(status: Json): Promise<void> {
    const updated = await this.heartbeat(() =>
      this.shared.client.patch<KubeObject>({ ...nodesPath, name: this.name, subresource: 'status' }, { status }, 'strategic', asKubelet),
    );
    this.uid = updated.metadata.uid;
    this.reported = status;
    this.reportedAt = Date.now();
  }
}

/** Starts node agents sharing one process's informer, queue and write limiter; resolves once every node is registered. */
export async function startNodeAgents(client: RestClient, nodes: NodeSpecAndRuntime[], opts: NodeAgentOptions & { podFieldSelector?: string } = {}): Promise<NodeAgentGroup> {
  const log = opts.log ?? (() => undefined);
  const names = nodes.map((n) => n.config.name);
  if (new Set(names).size !== names.length) throw new RangeError('node names must be unique');
  let stopped = false;
  const leaseDurationSeconds = opts.leaseDurationSeconds ?? 40;
  const limiter = new WriteLimiter(opts.writeConcurrency ?? 16);
  const statusWriter = new PodStatusWriter(client, limiter, log);
  const factory = opts.informers ?? new InformerFactory(client, { log });
  const ownsFactory = !opts.informers;
  const informer: Informer = factory.informer(podsPath, opts.podFieldSelector ? { fieldSelector: opts.podFieldSelector } : {});
  try {
    informer.addIndex(podsByNodeIndex, (pod) => [nodeNameOf(pod)]);
  } catch {
    // Another user of the shared informer added it already.
  }
  const queue = new WorkQueue(100, 30_000);
  const shared: Shared = {
    client,
    limiter,
    leaseDurationSeconds,
    reportFrequencyMs: opts.nodeStatusReportFrequencyMs ?? 300_000,
    health: opts.health ?? (() => healthyNode),
    images: opts.images ?? (() => undefined),
    log,
    stopped: () => stopped,
  };
  const events = opts.events ? new Map<string, EventRecorder>() : undefined;
  const agents = new Map<string, NodeAgent>();
  for (const { config, runtime } of nodes) {
    let recorder: EventRecorder | undefined;
    if (events) {
      recorder = new EventRecorder(client, 'kubelet', config.name);
      events.set(config.name, recorder);
    }
    const worker = new PodWorker({
      nodeName: config.name,
      hostIPs: [config.internalIP],
      runtime,
      client,
      limiter,
      statusWriter,
      getPod: (key) => {
        const pod = informer.get(key);
        return pod && nodeNameOf(pod) === config.name ? pod : undefined;
      },
      requeue: (key, afterMs) => (afterMs ? queue.addAfter(key, afterMs) : queue.add(key)),
      backOff: opts.crashLoopBackOff,
      events: recorder,
      podCapacity: Number.parseInt(config.allocatable?.pods ?? config.capacity.pods ?? '110', 10),
      log,
    });
    agents.set(config.name, new NodeAgent(config, runtime, worker, shared));
  }

  // pod key -> the node it was bound to, to route a deletion after the informer forgot the pod.
  const podNode = new Map<string, string>();
  const route = (pod: KubeObject) => {
    if (stopped) return;
    const node = nodeNameOf(pod);
    if (!node || !agents.has(node)) return;
    const key = objectKey(pod);
    podNode.set(key, node);
    queue.add(key);
  };
  informer.on({
    add: route,
    update: (_old, pod) => route(pod),
    delete: (pod) => {
      if (stopped) return;
      const key = objectKey(pod);
      if (podNode.has(key)) queue.add(key);
    },
  });

  // Registration first, as the kubelet does before it runs pods; the limiter paces the writes.
  let registered = 0;
  await Promise.all(
    [...agents.values()].map(async (agent) => {
      await agent.register();
      registered++;
      opts.onRegistered?.(registered, agents.size);
    }),
  );
  log(`registered ${registered} node(s)`, 'info');

  const leaseTicker = new StaggeredTicker<NodeAgent>(opts.leaseRenewIntervalMs ?? leaseDurationSeconds * 250, (a) => a.tickLease());
  const statusTicker = new StaggeredTicker<NodeAgent>(opts.nodeStatusUpdateFrequencyMs ?? 10_000, (a) => a.tickStatus());
  for (const agent of agents.values()) {
    leaseTicker.add(agent);
    statusTicker.add(agent);
  }
  leaseTicker.start();
  statusTicker.start();
  // ConfigMap and Secret changes reach mounted files, as the kubelet's periodic pod sync makes them.
  const refreshVolumes = async () => {
    for (const agent of agents.values()) {
      if (!agent.runtime.updatePodVolumes) continue;
      for (const pod of informer.byIndex(podsByNodeIndex, agent.name)) {
        if (pod.metadata.deletionTimestamp || !hasDataVolumes(pod)) continue;
        await agent.runtime.updatePodVolumes(pod.metadata.uid!, pod).catch((err: unknown) => log(`refreshing volumes of ${objectKey(pod)}: ${(err as Error).message}`));
      }
    }
  };
  let refreshing = false;
  const volumeTimer = setInterval(() => {
    if (refreshing || stopped) return;
    refreshing = true;
    void refreshVolumes().finally(() => (refreshing = false));
  }, opts.volumeRefreshIntervalMs ?? 10_000);
  volumeTimer.unref();

  const workersDone = runWorkers(
    queue,
    4,
    async (key) => {
      // The pod worker runs the pod in a task of its own; this only routes the key to its node.
      const pod = informer.get(key);
      const node = pod ? nodeNameOf(pod) : podNode.get(key);
      if (!pod) podNode.delete(key);
      const agent = node ? agents.get(node) : undefined;
      agent?.worker.sync(key);
    },
    log,
  );
  if (ownsFactory) await factory.start();
  else await informer.start();
  // What the runtimes still run for pods the API server no longer has on the node goes (the kubelet's HandlePodCleanups).
  await Promise.all([...agents.values()].map((a) => a.worker.removeOrphans(informer.byIndex(podsByNodeIndex, a.name))));

  return {
    nodes: names,
    async stop() {
      if (stopped) return;
      stopped = true;
      leaseTicker.stop();
      statusTicker.stop();
      clearInterval(volumeTimer);
      queue.shutDown();
      if (ownsFactory) factory.stop();
      statusWriter.stop();
      await limiter.close();
      await Promise.all([...agents.values()].map((a) => a.worker.stop()));
      await workersDone;
      await Promise.all([...agents.values()].map((a) => a.runtime.close()));
      log(`stopped ${agents.size} node(s)`, 'info');
    },
  };
}

/** Whether a pod has volumes whose content comes from the API (configMap, secret, downwardAPI, projected). */
function hasDataVolumes(pod: KubeObject): boolean {
  const volumes = ((pod.spec as { volumes?: Record<string, unknown>[] } | undefined)?.volumes ?? []);
  return volumes.some((v) => v.configMap || v.secret || v.downwardAPI || v.projected);
}

/** One node agent for the machine it runs on: pods are watched with spec.nodeName=<node>. */
export function startNodeAgent(client: RestClient, node: NodeConfig, runtime: Runtime, opts: NodeAgentOptions = {}): Promise<NodeAgentGroup> {
  return startNodeAgents(client, [{ config: node, runtime }], { events: true, ...opts, podFieldSelector: `spec.nodeName=${node.name}` });
}
