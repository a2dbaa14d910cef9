// Shared helpers of the node agent tests: polling waits (no fixed timing
// thresholds) and pods bound to nodes as a scheduler binds them.
import type { KubeList, KubeObject } from '../../src/api/object.js';
import type { RestClient } from '../../src/client/rest.js';
import { waitFor } from '../apiserver/harness.js';

export const waitTimeoutMs = 90_000;

export const podsIn = (namespace: string) => ({ group: '', version: 'v1', plural: 'pods', namespace });
export const nodesPath = { group: '', version: 'v1', plural: 'nodes' };
export const leasesPath = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: 'kube-node-lease' };

/** Polls probe until it returns something other than undefined/false (waitFor with the node agent tests' timeout). */
export function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, intervalMs = 25): Promise<T> {
  return waitFor(what, probe, waitTimeoutMs, intervalMs);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface PodOptions {
  annotations?: Record<string, string>;
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  initContainers?: Record<string, unknown>[];
  containers?: Record<string, unknown>[];
}

/** Creates a pod and binds it to a node through pods/binding, as the scheduler does. */
export async function createBoundPod(client: RestClient, namespace: string, name: string, node: string, opts: PodOptions = {}): Promise<KubeObject> {
  const spec: Record<string, unknown> = { containers: opts.containers ?? [{ name: 'app', image: 'nginx' }] };
  if (opts.restartPolicy) spec.restartPolicy = opts.restartPolicy;
  if (opts.initContainers) spec.initContainers = opts.initContainers;
  const pod = await client.create<KubeObject>(podsIn(namespace), { apiVersion: 'v1', kind: 'Pod', metadata: { name, annotations: opts.annotations }, spec });
  await client.request('POST', `/api/v1/namespaces/${namespace}/pods/${name}/binding`, {
    body: { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { apiVersion: 'v1', kind: 'Node', name: node } },
  });
  return pod;
}

export async function getPod(client: RestClient, namespace: string, name: string): Promise<KubeObject | undefined> {
  try {
    return await client.get<KubeObject>({ ...podsIn(namespace), name });
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

export async function listLeases(client: RestClient, prefix: string): Promise<KubeObject[]> {
  const list = await client.list<KubeList>(leasesPath);
  return list.items.filter((l) => l.metadata.name?.startsWith(prefix));
}

// Typed views of the status fields the tests read.
export interface ContainerStatusView {
  name: string;
  image: string;
  imageID: string;
  containerID?: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  state: { running?: { startedAt: string }; terminated?: { exitCode: number; reason?: string; startedAt: string; finishedAt: string; containerID: string }; waiting?: { reason: string; message?: string } };
  lastState: { terminated?: { exitCode: number; reason?: string } };
}

export interface PodStatusView {
  phase: string;
  conditions: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[];
  hostIP?: string;
  hostIPs?: { ip: string }[];
  podIP?: string;
  podIPs?: { ip: string }[];
  startTime?: string;
  qosClass?: string;
  reason?: string;
  message?: string;
  containerStatuses?: ContainerStatusView[];
  initContainerStatuses?: ContainerStatusView[];
}

export function statusOf(pod: KubeObject | undefined): PodStatusView {
  return (pod?.status ?? { phase: '', conditions: [] }) as PodStatusView;
}

export function condition(pod: KubeObject | undefined, type: string): PodStatusView['conditions'][number] | undefined {
  return (statusOf(pod).conditions ?? []).find((c) => c.type === type);
}
