// A small cluster for scheduler tests: the in-process API server, Node
// objects made by hand (capacity, Ready condition, labels, taints), pods,
// and a running Scheduler.
import { startTestApiServer, waitFor, type TestApiServer } from '../apiserver/harness.js';
import { InformerFactory } from '../../src/client/informer.js';
import type { KubeList, KubeObject } from '../../src/api/object.js';
import type { Pod } from '../../src/api/scheduling/index.js';
import { Scheduler, type SchedulerOptions } from '../../src/scheduler/index.js';
import { node, type TestNode } from './fixtures.js';

export const nodesPath = { group: '', version: 'v1', plural: 'nodes' };
export const podsIn = (namespace: string) => ({ group: '', version: 'v1', plural: 'pods', namespace });

/** A Node as a kubelet would post it: node() of the unit tests, with the OS label, 100Gi of ephemeral storage and the Ready condition. */
export function nodeObject(name: string, o: TestNode = {}): KubeObject {
  const n = node(name, { ...o, labels: { 'kubernetes.io/os': 'linux', ...(o.labels ?? {}) }, extra: { 'ephemeral-storage': '100Gi', ...(o.extra ?? {}) } });
  return { ...n, status: { ...n.status, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }] } };
}

export interface PodOptions {
  cpu?: string;
  memory?: string;
  labels?: Record<string, string>;
  extraRequests?: Record<string, string>;
  spec?: Record<string, unknown>;
}

export function podObject(name: string, o: PodOptions = {}): KubeObject {
  const requests: Record<string, string> = { ...(o.cpu ? { cpu: o.cpu } : {}), ...(o.memory ? { memory: o.memory } : {}), ...(o.extraRequests ?? {}) };
  const limits: Record<string, string> = {};
  // Extended resources must have limits equal to requests.
  for (const [k, v] of Object.entries(o.extraRequests ?? {})) limits[k] = v;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: o.labels ?? {} },
    spec: {
      containers: [{ name: 'app', image: 'busybox', resources: { requests, ...(Object.keys(limits).length ? { limits } : {}) } }],
      ...(o.spec ?? {}),
    },
  };
}

export interface TestCluster {
  api: TestApiServer;
  scheduler: Scheduler;
  factory: InformerFactory;
  lines: string[];
  addNode(name: string, o?: TestNode): Promise<KubeObject>;
  addPod(namespace: string, name: string, o?: PodOptions): Promise<KubeObject>;
  getPod(namespace: string, name: string): Promise<Pod>;
  /** Waits until the pod is bound and returns its node. */
  nodeOf(namespace: string, name: string, timeoutMs?: number): Promise<string>;
  events(namespace: string, podName: string): Promise<KubeObject[]>;
  close(): Promise<void>;
}

export async function startCluster(opts: SchedulerOptions = {}, start = true): Promise<TestCluster> {
  const api = await startTestApiServer();
  const factory = new InformerFactory(api.client);
  const lines: string[] = [];
  const scheduler = new Scheduler(api.client, factory, { log: (l) => lines.push(l), ...opts });
  if (start) await scheduler.start();
  const cluster: TestCluster = {
    api,
    scheduler,
    factory,
    lines,
    addNode: (name, o) => api.client.create(nodesPath, nodeObject(name, o)),
    addPod: (namespace, name, o) => api.client.create(podsIn(namespace), podObject(name, o)),
    getPod: (namespace, name) => api.client.get<Pod>({ ...podsIn(namespace), name }),
    nodeOf: (namespace, name, timeoutMs) =>
      waitFor(
        `pod ${namespace}/${name} to be bound`,
        async () => (await api.client.get<Pod>({ ...podsIn(namespace), name })).spec?.nodeName || undefined,
        timeoutMs,
      ),
    events: async (namespace, podName) => {
      const list = await api.client.list<KubeList>({ group: '', version: 'v1', plural: 'events', namespace });
      return list.items.filter((e) => (e.involvedObject as { name?: string }).name === podName);
    },
    close: async () => {
      scheduler.stop();
      factory.stop();
      await api.close();
    },
  };
  return cluster;
}

/** The pod's PodScheduled condition, once it has the wanted status. */
export async function podScheduledCondition(c: TestCluster, namespace: string, name: string, status: 'True' | 'False', messageIncludes = ''): Promise<{ reason?: string; message?: string }> {
  return waitFor(`pod ${namespace}/${name} PodScheduled=${status}`, async () => {
    const pod = await c.getPod(namespace, name);
    const cond = pod.status?.conditions?.find((x) => x.type === 'PodScheduled');
    return cond && cond.status === status && (cond.message ?? '').includes(messageIncludes) ? cond : undefined;
  });
}
