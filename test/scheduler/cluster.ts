// A small cluster for scheduler tests: the in-process API server, Node
// objects made by hand (capacity, Ready condition, labels, taints), pods,
// and a running Scheduler.
import { startTestApiServer, type TestApiServer } from '../apiserver/harness.js';
import { InformerFactory } from '../../src/client/informer.js';
import type { KubeList, KubeObject } from '../../src/api/object.js';
import type { Pod, Taint } from '../../src/api/scheduling/index.js';
import { Scheduler, type SchedulerOptions } from '../../src/scheduler/index.js';

export const nodesPath = { group: '', version: 'v1', plural: 'nodes' };
export const podsIn = (namespace: string) => ({ group: '', version: 'v1', plural: 'pods', namespace });

export interface NodeOptions {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  /** Extra allocatable resources (nvidia.com/gpu ...). */
  extra?: Record<string, string>;
}

export function nodeObject(name: string, o: NodeOptions = {}): KubeObject {
  const resources = { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: o.pods ?? '110', 'ephemeral-storage': '100Gi', ...(o.extra ?? {}) };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...(o.labels ?? {}) } },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }],
    },
  };
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
  addNode(name: string, o?: NodeOptions): Promise<KubeObject>;
  addPod(namespace: string, name: string, o?: PodOptions): Promise<KubeObject>;
  getPod(namespace: string, name: string): Promise<Pod>;
  /** Waits until the pod is bound and returns its node. */
  nodeOf(namespace: string, name: string, timeoutMs?: number): Promise<string>;
  events(namespace: string, podName: string): Promise<KubeObject[]>;
  close(): Promise<void>;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
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
