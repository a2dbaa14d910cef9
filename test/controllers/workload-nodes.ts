// For the StatefulSet, DaemonSet, Job and CronJob controller tests: an API
// server with one shared informer factory, and the test acting as the nodes —
// binding pods, reporting them Running and Ready or finished, and completing
// the deletion of pods on a node (gracePeriodSeconds=0), as a kubelet would.
// Waits poll with generous timeouts; nothing here asserts on timing.
import type { KubeList, KubeObject } from '../../src/api/object.js';
import { ApiError } from '../../src/api/errors.js';
import { InformerFactory } from '../../src/client/informer.js';
import { resourceUrlPath, type RestClient } from '../../src/client/rest.js';
import { startTestApiServer, type TestApiServer } from '../apiserver/harness.js';

export const podsPath = { group: '', version: 'v1', plural: 'pods' };
export const nodesPath = { group: '', version: 'v1', plural: 'nodes' };
export const namespacesPath = { group: '', version: 'v1', plural: 'namespaces' };

export interface Env {
  api: TestApiServer;
  client: RestClient;
  factory: InformerFactory;
  log: ((line: string) => void) | undefined;
  close(): Promise<void>;
}

/** An API server and a shared informer factory; controllers passed to close() are stopped first. */
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

export async function createNamespace(client: RestClient, name: string): Promise<void> {
  await client.create(namespacesPath, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

/** Polls until fn gives something other than undefined/false; the timeout only bounds a broken controller. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function listPods(client: RestClient, namespace: string, labelSelector?: string): Promise<KubeObject[]> {
  return (await client.list<KubeList>({ ...podsPath, namespace }, labelSelector ? { labelSelector } : undefined)).items;
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Binds a pod to a node, as the scheduler would. */
export async function bindPod(client: RestClient, pod: KubeObject, node: string): Promise<void> {
  await client.request('POST', resourceUrlPath({ ...podsPath, namespace: pod.metadata.namespace, name: pod.metadata.name, subresource: 'binding' }), {
    body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: pod.metadata.name }, target: { apiVersion: 'v1', kind: 'Node', name: node } },
  });
}

async function setStatus(client: RestClient, pod: KubeObject, status: Record<string, unknown>): Promise<void> {
  await client.patch({ ...podsPath, namespace: pod.metadata.namespace, name: pod.metadata.name, subresource: 'status' }, { status }, 'merge');
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
    containerStatuses: [{ name: 'main', ready: true, restartCount: 0, image: 'busybox', imageID: '', started: true, state: { running: { startedAt: t } } }],
  });
}

/** The node reports the pod finished, its container terminated with exitCode. */
export async function markFinished(client: RestClient, pod: KubeObject, exitCode: number, extraConditions: Record<string, unknown>[] = []): Promise<void> {
  const t = now();
  await setStatus(client, pod, {
    phase: exitCode === 0 ? 'Succeeded' : 'Failed',
    conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: t, reason: 'PodCompleted' }, ...extraConditions],
    containerStatuses: [
      {
        name: 'main',
        ready: false,
        restartCount: 0,
        image: 'busybox',
        imageID: '',
        started: false,
        state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: t, finishedAt: t } },
      },
    ],
  });
}

/** Completes the deletion of pods being deleted, as the kubelet does once their containers stopped. */
export async function finishDeletions(client: RestClient, namespace: string): Promise<void> {
  for (const pod of await listPods(client, namespace)) {
    if (!pod.metadata.deletionTimestamp) continue;
    try {
      await client.delete({ ...podsPath, namespace, name: pod.metadata.name }, { gracePeriodSeconds: 0 });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }
}

export function isActivePod(pod: KubeObject): boolean {
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  return !pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed';
}

export function podPhase(pod: KubeObject): string {
  return (pod.status as { phase?: string } | undefined)?.phase ?? '';
}

export function container(name = 'main'): Record<string, unknown> {
  return { name, image: 'busybox' };
}
