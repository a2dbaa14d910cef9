// The workload controller tests' harness: an in-process API server with one
// shared informer factory (and, for the ReplicaSet, Deployment and garbage
// collector tests, those controllers running on it), and the test acting as
// the nodes, as a kubelet would: binding pods, reporting them Running and
// Ready or finished, and completing the deletion of pods on a node
// (gracePeriodSeconds=0) — call by call (markRunningReady, markFinished,
// finishDeletions), or for every pod as it comes (FakeNodes). No pods run.
// Waits poll with generous timeouts; nothing here asserts on timing.
import type { KubeList, KubeObject } from '../../src/api/object.js';
import { ApiError } from '../../src/api/errors.js';
import { Informer, InformerFactory, objectKey } from '../../src/client/informer.js';
import { resourceUrlPath, type RestClient } from '../../src/client/rest.js';
import { WorkQueue, runWorkers } from '../../src/client/work-queue.js';
import { DeploymentController } from '../../src/controllers/deployment/controller.js';
import { GarbageCollector } from '../../src/controllers/garbagecollector/controller.js';
import { ReplicaSetController, ReplicationManager } from '../../src/controllers/replicaset/controller.js';
import { startTestApiServer, type TestApiServer } from '../apiserver/harness.js';

export const podsPath = { group: '', version: 'v1', plural: 'pods' };
export const nodesPath = { group: '', version: 'v1', plural: 'nodes' };
export const namespacesPath = { group: '', version: 'v1', plural: 'namespaces' };
export const replicaSets = { group: 'apps', version: 'v1', plural: 'replicasets' };
export const deployments = { group: 'apps', version: 'v1', plural: 'deployments' };
export const replicationControllers = { group: '', version: 'v1', plural: 'replicationcontrollers' };

export { waitFor } from '../apiserver/harness.js';
export { eventually } from '../e2e/harness.js';

export interface Env {
  api: TestApiServer;
  client: RestClient;
  factory: InformerFactory;
  log: ((line: string) => void) | undefined;
  close(): Promise<void>;
}

/** An API server and a shared informer factory (NAMI_TEST_LOG=1 prints what controllers log). */
export async function startEnv(): Promise<Env> {
  const api = await startTestApiServer();
  const factory = new InformerFactory(api.client);
  const log = process.env.NAMI_TEST_LOG ? (line: string) => console.error(line) : undefined;
  return {
    api,
    client: api.client,
    factory,
    log,
    async close() {
      factory.stop();
      await api.close();
    },
  };
}

export interface Cluster extends Env {
  gc?: GarbageCollector;
}

/** startEnv with the chosen controllers running; close() stops them first. */
export async function startCluster(which: { replicaSets?: boolean; replicationControllers?: boolean; deployments?: boolean; gc?: boolean } = {}): Promise<Cluster> {
  const env = await startEnv();
  const { factory, log } = env;
  const controllers: { start(): Promise<void>; stop(): void }[] = [];
  if (which.replicaSets) controllers.push(new ReplicaSetController(factory, { log }));
  if (which.replicationControllers) controllers.push(new ReplicationManager(factory, { log }));
  if (which.deployments) controllers.push(new DeploymentController(factory, { log }));
  let gc: GarbageCollector | undefined;
  if (which.gc) {
    gc = new GarbageCollector(factory, { log, rediscoverMs: 2000 });
    controllers.push(gc);
  }
  await Promise.all(controllers.map((c) => c.start()));
  return {
    ...env,
    gc,
    async close() {
      for (const c of controllers) c.stop();
      await env.close();
    },
  };
}

export async function createNamespace(client: RestClient, name: string): Promise<void> {
  await client.create(namespacesPath, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

export async function listPods(client: RestClient, namespace: string, labelSelector?: string): Promise<KubeObject[]> {
  return (await client.list<KubeList>({ ...podsPath, namespace }, labelSelector ? { labelSelector } : undefined)).items;
}

export function isReady(pod: KubeObject): boolean {
  const conditions = (pod.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

export function isActivePod(pod: KubeObject): boolean {
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  return !pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed';
}

export function podPhase(pod: KubeObject): string {
  return (pod.status as { phase?: string } | undefined)?.phase ?? '';
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

// ------------------------------------------------------------ acting as the nodes

/** Binds a pod to a node, as the scheduler would. */
export async function bindPod(client: RestClient, pod: KubeObject, node: string): Promise<void> {
  await client.request('POST', resourceUrlPath({ ...podsPath, namespace: pod.metadata.namespace, name: pod.metadata.name, subresource: 'binding' }), {
    body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: pod.metadata.name }, target: { apiVersion: 'v1', kind: 'Node', name: node } },
  });
}

async function setStatus(client: RestClient, pod: KubeObject, status: Record<string, unknown>): Promise<void> {
  await client.patch({ ...podsPath, namespace: pod.metadata.namespace, name: pod.metadata.name, subresource: 'status' }, { status }, 'merge');
}

/** The status of each of the pod's containers (one "main" when the object shows none), all in one state. */
function containerStatuses(pod: KubeObject, ready: boolean, state: Record<string, unknown>): Record<string, unknown>[] {
  const containers = (pod.spec as { containers?: { name: string; image?: string }[] } | undefined)?.containers ?? [{ name: 'main', image: 'busybox' }];
  return containers.map((c) => ({ name: c.name, ready, restartCount: 0, image: c.image ?? 'busybox', imageID: '', started: ready, state }));
}

/** The node reports the pod Running with a Ready condition. */
export async function markRunningReady(client: RestClient, pod: KubeObject): Promise<void> {
  const t = now();
  await setStatus(client, pod, {
    phase: 'Running',
    conditions: [
      { type: 'PodScheduled', status: 'True', lastTransitionTime: t },
      { type: 'Initialized', status: 'True', lastTransitionTime: t },
      { type: 'ContainersReady', status: 'True', lastTransitionTime: t },
      { type: 'Ready', status: 'True', lastTransitionTime: t },
    ],
    containerStatuses: containerStatuses(pod, true, { running: { startedAt: t } }),
  });
}

/** The node reports the pod finished, its container terminated with exitCode. */
export async function markFinished(client: RestClient, pod: KubeObject, exitCode: number, extraConditions: Record<string, unknown>[] = []): Promise<void> {
  const t = now();
  await setStatus(client, pod, {
    phase: exitCode === 0 ? 'Succeeded' : 'Failed',
    conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: t, reason: 'PodCompleted' }, ...extraConditions],
    containerStatuses: containerStatuses(pod, false, { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: t, finishedAt: t } }),
  });
}

/** Completes the deletion of a pod being deleted, as the kubelet does once its containers stopped (gone already is fine). */
export async function completeDeletion(client: RestClient, pod: KubeObject): Promise<void> {
  try {
    await client.delete({ ...podsPath, namespace: pod.metadata.namespace, name: pod.metadata.name }, { gracePeriodSeconds: 0 });
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 404)) throw err;
  }
}

/** completeDeletion for every pod being deleted in the namespace. */
export async function finishDeletions(client: RestClient, namespace: string): Promise<void> {
  for (const pod of await listPods(client, namespace)) {
    if (pod.metadata.deletionTimestamp) await completeDeletion(client, pod);
  }
}

/**
 * Acts as the nodes for every pod of a namespace as it comes: each pod it
 * is allowed to run is reported Running and Ready (markRunningReady), pods
 * being deleted from a node are removed (completeDeletion). `runs` decides
 * which pods start (e.g. none with a bad image).
 */
export class FakeNodes {
  private readonly informer: Informer;
  private readonly queue = new WorkQueue();
  /** Pods whose status was patched ready by us, in order. */
  readonly started: string[] = [];
  paused = false;

  constructor(
    private readonly client: RestClient,
    namespace: string,
    public runs: (pod: KubeObject) => boolean = () => true,
  ) {
    this.informer = new Informer(client, { ...podsPath, namespace });
    const enqueue = (pod: KubeObject) => this.queue.add(objectKey(pod));
    this.informer.on({ add: enqueue, update: (_o, pod) => enqueue(pod) });
  }

  async start(): Promise<void> {
    await this.informer.start();
    void runWorkers(this.queue, 2, (key) => this.sync(key));
  }

  stop(): void {
    this.queue.shutDown();
    this.informer.stop();
  }

  /** Lets pods start again (and looks at every pod once more). */
  resume(): void {
    this.paused = false;
    for (const pod of this.informer.list()) this.queue.add(objectKey(pod));
  }

  private async sync(key: string): Promise<void> {
    const pod = this.informer.get(key);
    if (!pod) return;
    if (pod.metadata.deletionTimestamp) {
      if ((pod.spec as { nodeName?: string }).nodeName) await completeDeletion(this.client, pod).catch(() => undefined);
      return;
    }
    if (this.paused || isReady(pod) || !this.runs(pod)) return;
    await markRunningReady(this.client, pod);
    this.started.push(pod.metadata.name!);
  }
}

// ------------------------------------------------------------ objects

export function container(name = 'main'): Record<string, unknown> {
  return { name, image: 'busybox' };
}

/** A pod template with one container. */
export function podTemplate(labels: Record<string, string>, image = 'nginx:1.25', annotations?: Record<string, string>): Record<string, unknown> {
  return {
    metadata: { labels, ...(annotations ? { annotations } : {}) },
    spec: { containers: [{ name: 'main', image }] },
  };
}

export function imageOf(obj: KubeObject): string | undefined {
  const spec = (obj.spec as { template?: { spec?: { containers?: { image?: string }[] } }; containers?: { image?: string }[] } | undefined) ?? {};
  return (spec.template?.spec?.containers ?? spec.containers ?? [])[0]?.image;
}
