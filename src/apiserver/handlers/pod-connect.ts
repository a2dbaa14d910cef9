// pods/exec, pods/attach and pods/portforward (Kubernetes' ExecREST,
// AttachREST, PortForwardREST with the UpgradeAwareHandler): the API server
// checks the pod and container, then forwards the client's upgrade request
// (SPDY/3.1 or WebSocket) to the pod's node agent at the kubelet's path
// (/exec/<ns>/<pod>/<container>, /attach/..., /portForward/<ns>/<pod>) over
// TLS with its kubelet client certificate, and copies raw bytes both ways
// from then on: the agent's answer (101, or its error) goes to the client as
// it is. The API server does not take part in the streaming protocols.
import { queryFlag } from '../http/request-info.js';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError, BadRequestError, InternalError, MethodNotAllowedError } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import type { GenericStore } from '../registry/store.js';
import { containerFor, hostPort, podAgentLocation, type KubeletClientConfig } from './pod-node.js';

export const connectSubresources = new Set(['exec', 'attach', 'portforward']);

export interface PodConnectRequest {
  subresource: string;
  method: string;
  namespace: string;
  name: string;
  query: URLSearchParams;
  pods: GenericStore;
  storeFor(group: string, version: string, plural: string): GenericStore | undefined;
}

/** The agent path and query for exec and attach (the kubelet's input/output/error/tty = "1" parameters). */
function remoteCommandPath(kind: 'exec' | 'attach', namespace: string, name: string, container: string, q: URLSearchParams): string {
  const params = new URLSearchParams();
  const stdin = queryFlag(q, 'stdin');
  const stdout = queryFlag(q, 'stdout');
  const stderr = queryFlag(q, 'stderr');
  const tty = queryFlag(q, 'tty');
  if (!stdin && !stdout && !stderr) throw new BadRequestError('you must specify at least 1 of stdin, stdout, stderr');
  if (stdin) params.append('input', '1');
  if (stdout) params.append('output', '1');
  if (stderr) params.append('error', '1');
  if (tty) params.append('tty', '1');
  if (kind === 'exec') {
    const command = q.getAll('command');
    if (command.length === 0) throw new BadRequestError('you must specify at least one command for the container');
    for (const c of command) params.append('command', c);
  }
  return `/${kind}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}?${params}`;
}

/** Checks the request and finds where the agent serves it: host, port and the kubelet path. */
export async function podConnectLocation(r: PodConnectRequest): Promise<{ host: string; port: number; path: string; pod: KubeObject }> {
  if (r.method !== 'GET' && r.method !== 'POST') throw new MethodNotAllowedError(r.pods.ref(r.name));
  const pod = await r.pods.get(r.namespace, r.name);
  let path: string;
  if (r.subresource === 'portforward') {
    const ports = r.query.getAll('ports');
    for (const p of ports) {
      const n = Number(p);
      if (!Number.isInteger(n) || n < 1 || n > 65535) throw new BadRequestError(`invalid port "${p}": port must be between 1 and 65535`);
    }
    path = `/portForward/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.name)}${r.query.size ? `?${r.query}` : ''}`;
  } else {
    const container = containerFor(pod, r.name, r.query.get('container'));
    path = remoteCommandPath(r.subresource as 'exec' | 'attach', r.namespace, r.name, container, r.query);
  }
  const { host, port } = await podAgentLocation(pod, r.name, r.storeFor);
  return { host, port, path, pod };
}

/** Headers not passed on to the agent: the client's credentials and what the proxy sets itself. */
const dropped = new Set(['authorization', 'host', 'impersonate-user', 'impersonate-group', 'impersonate-uid', 'proxy-authorization', 'content-length', 'transfer-encoding']);

/** The raw HTTP/1.1 request the agent gets: the client's upgrade headers, a new path and Host. */
function upstreamRequestHead(req: IncomingMessage, host: string, port: number, path: string): string {
  const lines = [`${req.method ?? 'GET'} ${path} HTTP/1.1`, `Host: ${hostPort(host, port)}`];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (dropped.has(name.toLowerCase()) || name.toLowerCase().startsWith('impersonate-extra-')) continue;
    lines.push(`${name}: ${raw[i + 1]!.replace(/[\r\n]/g, ' ')}`);
  }
  const forwarded = req.socket.remoteAddress;
  if (forwarded) lines.push(`X-Forwarded-For: ${forwarded}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Connects to the agent over TLS with the kubelet client certificate. */
function dialAgent(host: string, port: number, kubelet: KubeletClientConfig): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port, cert: kubelet.certPem, key: kubelet.keyPem, ca: kubelet.caPem, rejectUnauthorized: kubelet.caPem !== undefined, servername: /^[\d.:]+$/.test(host) ? undefined : host });
    socket.once('secureConnect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
    const onError = (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ECONNREFUSED' ? `dial tcp ${hostPort(host, port)}: connect: connection refused` : err.message;
      reject(new InternalError(`error dialing backend: ${why}`, { cause: err }));
    };
    socket.once('error', onError);
  });
}

/**
 * Proxies an upgrade request to the pod's agent and pipes the two connections
 * together until either side closes (UpgradeAwareHandler). Throws ApiErrors
 * before anything was sent to the client.
 */
/** A connect subresource asked without an upgrade: checked like the real thing, then refused (Kubernetes' UpgradeRequired). */
export async function refuseWithoutUpgrade(r: PodConnectRequest, kubelet: KubeletClientConfig | undefined): Promise<never> {
  if (!kubelet) throw new ApiError(503, 'ServiceUnavailable', `pods/${r.subresource} is not served: the API server has no kubelet client certificate`);
  await podConnectLocation(r);
  throw new BadRequestError('Upgrade request required');
}

export async function proxyPodConnect(r: PodConnectRequest, kubelet: KubeletClientConfig | undefined, req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
  if (!kubelet) throw new ApiError(503, 'ServiceUnavailable', `pods/${r.subresource} is not served: the API server has no kubelet client certificate`);
  const { host, port, path } = await podConnectLocation(r);
  const agent = await dialAgent(host, port, kubelet);
  // An end on one side ends the other (pipe); an error or abrupt close tears both down.
  agent.on('error', () => client.destroy());
  client.on('error', () => agent.destroy());
  agent.on('close', () => {
    if (!client.writableEnded) client.destroy();
  });
  client.on('close', () => {
    if (!agent.writableEnded) agent.destroy();
  });
  agent.write(upstreamRequestHead(req, host, port, path));
  if (head.length) agent.write(head);
  agent.pipe(client);
  client.pipe(agent);
}
