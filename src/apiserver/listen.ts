// The HTTPS listener: TLS with the cluster CA, client certificates verified
// when presented (bearer tokens otherwise), HTTP/1.1 keep-alive.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ApiServer } from './server.js';
import type { ClusterPki } from './pki.js';

export interface ListenOptions {
  host: string;
  port: number;
}

export function listenHttps(api: ApiServer, pki: ClusterPki, opts: ListenOptions): Promise<{ server: Server; port: number }> {
  const server = createServer(
    {
      key: pki.server.keyPem,
      cert: pki.server.certPem,
      ca: pki.ca.certPem,
      requestCert: true,
      rejectUnauthorized: false,
      keepAlive: true,
    },
    api.handle,
  );
  // exec, attach and portforward upgrade the connection (SPDY/3.1 or WebSocket).
  server.on('upgrade', api.handleUpgrade);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 70_000;
  // Watches are long-lived; the handler ends them itself.
  server.requestTimeout = 0;
  server.timeout = 0;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve({ server, port: (server.address() as AddressInfo).port });
    });
  });
}
