// The HTTPS listener: TLS with the cluster CA, client certificates verified
// when presented (bearer tokens otherwise), HTTP/1.1 keep-alive. TLS and the
// sockets run on a thread of their own (tls-front.ts); HTTP runs here.
import { createServer } from 'node:http';
import type { ApiServer } from './server.js';
import type { ClusterPki } from './pki.js';
import type { TlsFront } from './tls-front.js';

export interface ListenOptions {
  host: string;
  port: number;
}

/** Serves `api` through `front` (started early: see TlsFront's constructor) on opts.host:opts.port; resolves with the port bound. */
export async function listenHttps(api: ApiServer, pki: ClusterPki, opts: ListenOptions, front: TlsFront): Promise<number> {
  const http = createServer(api.handle);
  // exec, attach and portforward upgrade the connection (SPDY/3.1 or WebSocket).
  http.on('upgrade', api.handleUpgrade);
  http.keepAliveTimeout = 65_000;
  http.headersTimeout = 70_000;
  // Watches are long-lived; the handler ends them itself.
  http.requestTimeout = 0;
  http.timeout = 0;
  front.serve(http, { key: pki.server.keyPem, cert: pki.server.certPem, ca: pki.ca.certPem });
  const address = await front.listen(opts.port, opts.host);
  return address.port;
}
