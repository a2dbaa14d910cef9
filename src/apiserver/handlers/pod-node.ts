// What the pod subresources served by node agents share (pods/log, exec,
// attach, portforward; Kubernetes' pod strategy streamLocation): the
// container a request means, the node agent the pod runs on, and how the API
// server authenticates to it.
import { BadRequestError, InternalError } from '../../api/errors.js';
import { isPlainObject, type KubeObject } from '../../api/object.js';
import type { GenericStore } from '../registry/store.js';

/** How the API server authenticates to node agents (--kubelet-client-certificate/-key). */
export interface KubeletClientConfig {
  certPem: string;
  keyPem: string;
  /** Verify the agents' serving certificates with this CA; unset skips verification. */
  caPem?: string;
}

function names(list: unknown): string[] {
  return (Array.isArray(list) ? list : []).filter(isPlainObject).map((c) => String(c.name));
}

/** The container a request means: the query's, or the pod's only one (Kubernetes' message otherwise). */
export function containerFor(pod: KubeObject, podName: string, requested: string | null): string {
  const spec = isPlainObject(pod.spec) ? pod.spec : {};
  const regular = names(spec.containers);
  const init = names(spec.initContainers);
  const ephemeral = names(spec.ephemeralContainers);
  if (requested) {
    if (![...regular, ...init, ...ephemeral].includes(requested)) throw new BadRequestError(`container ${requested} is not valid for pod ${podName}`);
    return requested;
  }
  if (regular.length === 1) return regular[0]!;
  let msg = `a container name must be specified for pod ${podName}, choose one of: [${regular.join(' ')}]`;
  if (init.length) msg += ` or one of the init containers: [${init.join(' ')}]`;
  if (ephemeral.length) msg += ` or one of the ephemeral containers: [${ephemeral.join(' ')}]`;
  throw new BadRequestError(msg);
}

/** Where the node agent listens: its InternalIP (else any address) and daemonEndpoints port. */
export function nodeLocation(node: KubeObject): { host: string; port: number } {
  const status = isPlainObject(node.status) ? node.status : {};
  const addresses = (Array.isArray(status.addresses) ? status.addresses : []).filter(isPlainObject);
  const pick = (type: string) => addresses.find((a) => a.type === type && typeof a.address === 'string')?.address as string | undefined;
  const host = pick('InternalIP') ?? pick('Hostname') ?? pick('ExternalIP');
  const endpoints = isPlainObject(status.daemonEndpoints) && isPlainObject(status.daemonEndpoints.kubeletEndpoint) ? status.daemonEndpoints.kubeletEndpoint : {};
  const port = typeof endpoints.Port === 'number' && endpoints.Port > 0 ? endpoints.Port : 10250;
  if (!host) throw new InternalError(`node "${String(node.metadata.name)}" has no address`);
  return { host, port };
}

/** The node a pod is bound to; 400 when it has none yet. */
export function podNodeName(pod: KubeObject, podName: string): string {
  const nodeName = isPlainObject(pod.spec) && typeof pod.spec.nodeName === 'string' ? pod.spec.nodeName : '';
  if (!nodeName) throw new BadRequestError(`pod ${podName} does not have a host assigned`);
  return nodeName;
}

/** The agent of the pod's node: host and port. */
export async function podAgentLocation(pod: KubeObject, podName: string, storeFor: (group: string, version: string, plural: string) => GenericStore | undefined): Promise<{ host: string; port: number }> {
  const nodeName = podNodeName(pod, podName);
  const nodes = storeFor('', 'v1', 'nodes');
  if (!nodes) throw new InternalError('no node store');
  return nodeLocation(await nodes.get(undefined, nodeName));
}

/** host:port as a URL authority (IPv6 in brackets). */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
