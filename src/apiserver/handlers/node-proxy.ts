// GET nodes/{name}/proxy/{path}: the API server passes the request on to the
// node agent's HTTPS endpoint (Kubernetes' node ProxyREST), with the API
// server's kubelet client certificate, and returns its answer as it is —
// `kubectl get --raw /api/v1/nodes/<node>/proxy/stats/summary`. Only GET:
// the agent serves nothing else.
import { request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { ApiError, InternalError, MethodNotAllowedError } from '../../api/errors.js';
import { pipeToClient, readText, reasons } from './pod-log.js';
import { nodeLocation, type KubeletClientConfig } from './pod-node.js';
import type { ResourceRequest } from './resource.js';

export async function handleNodeProxy(r: ResourceRequest, kubelet: KubeletClientConfig | undefined): Promise<void> {
  const { store, info, query } = r;
  if (info.verb !== 'get') throw new MethodNotAllowedError(store.ref(info.name));
  if (!kubelet) throw new ApiError(503, 'ServiceUnavailable', 'nodes/proxy is not served: the API server has no kubelet client certificate');
  const node = await store.get(undefined, info.name!);
  const { host, port } = nodeLocation(node);
  const search = query.toString();
  const path = `/${info.rest.map(encodeURIComponent).join('/')}${search ? `?${search}` : ''}`;
  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  const location = `https://${hostForUrl}:${port}${path}`;
  const upstream = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpsRequest({ host, port, path, method: 'GET', cert: kubelet.certPem, key: kubelet.keyPem, ca: kubelet.caPem, rejectUnauthorized: kubelet.caPem !== undefined }, resolve);
    req.on('error', (err: NodeJS.ErrnoException) => reject(new InternalError(`Get "${location}": ${err.code === 'ECONNREFUSED' ? `dial tcp ${hostForUrl}:${port}: connect: connection refused` : err.message}`, { cause: err })));
    r.res.on('close', () => req.destroy());
    req.end();
  });
  const code = upstream.statusCode ?? 500;
  if (code >= 500) {
    const text = (await readText(upstream)).trim();
    throw new ApiError(code, reasons[code] ?? 'InternalError', text || `the node agent answered ${code}`);
  }
  // Anything else (a 404 of a path the agent does not serve too) goes back as the agent answered it.
  r.res.writeHead(code, { 'Content-Type': upstream.headers['content-type'] ?? 'application/octet-stream', 'Cache-Control': 'no-cache, private' });
  await pipeToClient(upstream, r.res);
}
