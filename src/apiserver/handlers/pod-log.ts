// GET pods/{name}/log: the API server finds the pod's node and proxies to
// that node agent's containerLogs endpoint (Kubernetes' LogREST and
// LocationStreamer), authenticating with the API server's kubelet client
// certificate and streaming the answer (chunked, for follow). The agent's
// serving certificate is not verified, as kube-apiserver's default without
// --kubelet-certificate-authority.
import { queryFlag } from '../http/request-info.js';
import { request as httpsRequest } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, BadRequestError, InternalError, MethodNotAllowedError, type StatusReason } from '../../api/errors.js';
import { isPlainObject, type KubeObject } from '../../api/object.js';
import type { ResourceRequest } from './resource.js';
import { containerFor, hostPort, podAgentLocation, podNodeName, type KubeletClientConfig } from './pod-node.js';

export type { KubeletClientConfig } from './pod-node.js';

type Json = Record<string, unknown>;

export const reasons: Record<number, StatusReason> = { 400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed', 409: 'Conflict', 429: 'TooManyRequests', 503: 'ServiceUnavailable' };


/** The container's status in the pod, from any of the three lists. */
function containerStatus(pod: KubeObject, container: string): Json | undefined {
  const status = isPlainObject(pod.status) ? pod.status : {};
  for (const key of ['containerStatuses', 'initContainerStatuses', 'ephemeralContainerStatuses']) {
    const list = status[key];
    const found = (Array.isArray(list) ? list : []).find((s) => isPlainObject(s) && s.name === container);
    if (found) return found as Json;
  }
  return undefined;
}

/** The kubelet's validateContainerLogStatus, from the status the agent reported. */
function checkContainerState(pod: KubeObject, podName: string, container: string, previous: boolean): void {
  const s = containerStatus(pod, container);
  const state = s && isPlainObject(s.state) ? s.state : {};
  const last = s && isPlainObject(s.lastState) ? s.lastState : {};
  if (previous) {
    if (!isPlainObject(last.terminated)) throw new BadRequestError(`previous terminated container "${container}" in pod "${podName}" not found`);
    return;
  }
  if (isPlainObject(state.running) || isPlainObject(state.terminated)) return;
  // A container that ran before keeps its last run's log while it waits (CrashLoopBackOff).
  if (isPlainObject(last.terminated)) return;
  const waiting = isPlainObject(state.waiting) ? state.waiting : {};
  const reason = typeof waiting.reason === 'string' && waiting.reason ? waiting.reason : 'ContainerCreating';
  throw new BadRequestError(`container "${container}" in pod "${podName}" is waiting to start: ${reason}`);
}

function checkParams(q: URLSearchParams): void {
  const nonNegative = (name: string, min: number) => {
    const v = q.get(name);
    if (v === null || v === '') return;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new BadRequestError(`couldn't parse ${name} "${v}"`);
    if (n < min) throw new BadRequestError(`PodLogOptions "" is invalid: ${name}: Invalid value: ${n}: must be ${min === 0 ? 'greater than or equal to 0' : 'greater than 0'}`);
  };
  nonNegative('tailLines', 0);
  nonNegative('limitBytes', 1);
  nonNegative('sinceSeconds', 1);
  if (q.get('sinceSeconds') && q.get('sinceTime')) throw new BadRequestError('PodLogOptions "" is invalid: sinceSeconds: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified');
  const since = q.get('sinceTime');
  if (since && Number.isNaN(Date.parse(since))) throw new BadRequestError(`couldn't parse sinceTime "${since}"`);
}

export function readText(res: IncomingMessage, limit = 64 * 1024): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => {
      if (text.length < limit) text += c;
    });
    res.on('end', () => resolve(text));
    res.on('error', () => resolve(text));
  });
}

export async function handlePodLog(r: ResourceRequest, kubelet: KubeletClientConfig | undefined): Promise<void> {
  const { store, info, query } = r;
  if (info.verb !== 'get') throw new MethodNotAllowedError(store.ref(info.name));
  if (!kubelet) throw new ApiError(503, 'ServiceUnavailable', 'pods/log is not served: the API server has no kubelet client certificate');
  const podName = info.name!;
  const pod = await store.get(info.namespace, podName);
  checkParams(query);
  const container = containerFor(pod, podName, query.get('container'));
  podNodeName(pod, podName);
  const previous = queryFlag(query, 'previous');
  checkContainerState(pod, podName, container, previous);
  const { host, port } = await podAgentLocation(pod, podName, r.storeFor);

  const params = new URLSearchParams();
  for (const name of ['follow', 'previous', 'timestamps']) if (queryFlag(query, name)) params.set(name, 'true');
  for (const name of ['tailLines', 'limitBytes', 'sinceSeconds', 'sinceTime']) {
    const v = query.get(name);
    if (v) params.set(name, v);
  }
  const path = `/containerLogs/${encodeURIComponent(info.namespace!)}/${encodeURIComponent(podName)}/${encodeURIComponent(container)}${params.size ? `?${params}` : ''}`;
  const location = `https://${hostPort(host, port)}${path}`;

  const upstream = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpsRequest({ host, port, path, method: 'GET', cert: kubelet.certPem, key: kubelet.keyPem, ca: kubelet.caPem, rejectUnauthorized: kubelet.caPem !== undefined }, resolve);
    req.on('error', (err: NodeJS.ErrnoException) => reject(new InternalError(`Get "${location}": ${err.code === 'ECONNREFUSED' ? `dial tcp ${hostPort(host, port)}: connect: connection refused` : err.message}`, { cause: err })));
    // The client went away before the agent answered.
    r.res.on('close', () => req.destroy());
    req.end();
  });
  const code = upstream.statusCode ?? 500;
  if (code < 200 || code > 299) {
    const text = (await readText(upstream)).trim();
    throw new ApiError(code, reasons[code] ?? ('InternalError'), text || `the node agent answered ${code}`);
  }
  r.res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
  r.res.flushHeaders();
  r.res.on('close', () => upstream.destroy());
  await pipeToClient(upstream, r.res);
}

/** Copies an agent's answer to the client until it ends; an upstream failure cuts the client's response. */
export function pipeToClient(upstream: IncomingMessage, res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    upstream.on('error', () => {
      res.destroy();
      resolve();
    });
    upstream.on('end', resolve);
    upstream.on('close', resolve);
    upstream.pipe(res);
  });
}
