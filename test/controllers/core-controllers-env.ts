// What the controller tests share: an API server with a shared informer
// factory, polling until a condition holds, and small object builders.
import { ApiError } from '../../src/api/errors.js';
import type { KubeObject } from '../../src/api/object.js';
import { InformerFactory } from '../../src/client/informer.js';
import type { RestClient } from '../../src/client/rest.js';
import { startTestApiServer, type TestApiServer } from '../apiserver/harness.js';

export interface ControllerEnv {
  api: TestApiServer;
  client: RestClient;
  factory: InformerFactory;
  close(): Promise<void>;
}

export async function startControllerEnv(): Promise<ControllerEnv> {
  const api = await startTestApiServer();
  const factory = new InformerFactory(api.client);
  return {
    api,
    client: api.client,
    factory,
    async close() {
      factory.stop();
      await api.close();
    },
  };
}

/**
 * Polls fn until it returns something other than undefined/false, or fails
 * after timeoutMs with the last value seen (no timing assertions: the
 * timeout is only a bound for a broken controller).
 */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<Exclude<T, undefined | false>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as Exclude<T, undefined | false>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function getOrUndefined<T = KubeObject>(client: RestClient, path: Parameters<RestClient['get']>[0]): Promise<T | undefined> {
  try {
    return await client.get<T>(path);
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) return undefined;
    throw err;
  }
}

export const core = (plural: string, namespace?: string, name?: string, subresource?: string) => ({ group: '', version: 'v1', plural, namespace, name, subresource });

export async function createNamespace(client: RestClient, name: string): Promise<void> {
  await client.create(core('namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

export interface PodOptions {
  labels?: Record<string, string>;
  nodeName?: string;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  hostname?: string;
  subdomain?: string;
  tolerations?: Record<string, unknown>[];
  resources?: Record<string, unknown>;
  extraSpec?: Record<string, unknown>;
}

export function podManifest(name: string, o: PodOptions = {}): KubeObject {
  const container: Record<string, unknown> = { name: 'main', image: 'busybox:1.36' };
  if (o.ports) container.ports = o.ports;
  if (o.resources) container.resources = o.resources;
  const spec: Record<string, unknown> = { containers: [container], ...(o.extraSpec ?? {}) };
  if (o.nodeName) spec.nodeName = o.nodeName;
  if (o.hostname) spec.hostname = o.hostname;
  if (o.subdomain) spec.subdomain = o.subdomain;
  if (o.tolerations) spec.tolerations = o.tolerations;
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: o.labels ?? {} }, spec };
}

/** Sets a pod's status as a node agent would: running, with an IP, ready or not. */
export async function setPodStatus(client: RestClient, namespace: string, name: string, ip: string, ready: boolean): Promise<KubeObject> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return client.patch(
    core('pods', namespace, name, 'status'),
    {
      status: {
        phase: 'Running',
        podIP: ip,
        podIPs: [{ ip }],
        conditions: [
          { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now },
          { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: now },
        ],
      },
    },
    'merge',
  );
}

export function condition(obj: KubeObject | undefined, type: string): Record<string, unknown> | undefined {
  const conditions = ((obj?.status as { conditions?: Record<string, unknown>[] } | undefined)?.conditions ?? []) as Record<string, unknown>[];
  return conditions.find((c) => c.type === type);
}

/** Controller logs on stderr when NAMI_TEST_LOG is set. */
export const testLog: ((line: string) => void) | undefined = process.env.NAMI_TEST_LOG ? (line) => console.error(line) : undefined;
