// Shared by the ReplicaSet, Deployment and garbage collector tests: an
// in-process API server with the controllers running on one shared informer
// factory, and a fake node that makes pods Running and Ready (no pods run in
// these tests; the test acts as the nodes).
import type { KubeList, KubeObject } from '../../src/api/object.js';
import { Informer, InformerFactory, objectKey } from '../../src/client/informer.js';
import type { RestClient } from '../../src/client/rest.js';
import { WorkQueue, runWorkers } from '../../src/client/work-queue.js';
import { DeploymentController } from '../../src/controllers/deployment/controller.js';
import { GarbageCollector } from '../../src/controllers/garbagecollector/controller.js';
import { ReplicaSetController, ReplicationManager } from '../../src/controllers/replicaset/controller.js';
import { startTestApiServer, type TestApiServer } from '../apiserver/harness.js';

export const pods = { group: '', version: 'v1', plural: 'pods' };
export const replicaSets = { group: 'apps', version: 'v1', plural: 'replicasets' };
export const deployments = { group: 'apps', version: 'v1', plural: 'deployments' };
export const replicationControllers = { group: '', version: 'v1', plural: 'replicationcontrollers' };
export const namespaces = { group: '', version: 'v1', plural: 'namespaces' };

export { eventually } from '../e2e/harness.js';

export interface Cluster {
  api: TestApiServer;
  client: RestClient;
  factory: InformerFactory;
  gc?: GarbageCollector;
  close(): Promise<void>;
}

export async function startCluster(which: { replicaSets?: boolean; replicationControllers?: boolean; deployments?: boolean; gc?: boolean } = {}): Promise<Cluster> {
  const api = await startTestApiServer();
  const client = api.client;
  const factory = new InformerFactory(client);
  const log = process.env.NAMI_TEST_LOG ? (line: string) => console.error(line) : undefined;
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
    api,
    client,
    factory,
    gc,
    async close() {
      for (const c of controllers) c.stop();
      factory.stop();
      await api.close();
    },
  };
}

export async function createNamespace(client: RestClient, name: string): Promise<void> {
  await client.create(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

export async function listPods(client: RestClient, namespace: string, labelSelector?: string): Promise<KubeObject[]> {
  return (await client.list<KubeList>({ ...pods, namespace }, labelSelector ? { labelSelector } : undefined)).items;
}

export function isReady(pod: KubeObject): boolean {
  const conditions = ((pod.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []);
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * Acts as the nodes: every pod it is allowed to run becomes Running and
 * Ready (pods/status), pods being deleted from a node are removed with grace
 * period 0. `runs` decides which pods start (e.g. none with a bad image).
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
    this.informer = new Informer(client, { ...pods, namespace });
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
    const [namespace, name] = key.split('/');
    const spec = pod.spec as { nodeName?: string };
    if (pod.metadata.deletionTimestamp) {
      if (spec.nodeName) await this.client.delete({ ...pods, namespace, name }, { gracePeriodSeconds: 0 }).catch(() => undefined);
      return;
    }
    if (this.paused || isReady(pod) || !this.runs(pod)) return;
    const t = now();
    await this.client.patch(
      { ...pods, namespace, name, subresource: 'status' },
      {
        status: {
          phase: 'Running',
          conditions: [
            { type: 'Initialized', status: 'True', lastTransitionTime: t },
            { type: 'Ready', status: 'True', lastTransitionTime: t },
            { type: 'ContainersReady', status: 'True', lastTransitionTime: t },
            { type: 'PodScheduled', status: 'True', lastTransitionTime: t },
          ],
        },
      },
      'merge',
    );
    this.started.push(name!);
  }
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
