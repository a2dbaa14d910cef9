// The TLS front's thread: it accepts the API server's connections, runs TLS
// and the sockets, and hands the plain bytes to the API server's thread
// (tls-front.ts), which speaks HTTP over them. Sending a response on
// loopback costs the sender the receiver's TCP work too; here that, and the
// encryption, is off the thread that serves requests.

import { createServer, type Server, type TLSSocket } from 'node:tls';
import { parentPort } from 'node:worker_threads';
import { Op, Outbox, type ConnectionInfo, type FrontReply, type FrontRequest, type TlsFrontSettings } from './tls-front-protocol.js';

const port = parentPort;
if (!port) throw new Error('tls-front-worker must run as a worker thread');

const reply = (message: FrontReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
const outbox = new Outbox((ops, transfer) => reply(ops, transfer));
const connections = new Map<number, TLSSocket>();
let nextId = 1;

/** The listener, made once the API server's certificates are known (the thread starts before). */
let server: Server | undefined;

function configure(settings: TlsFrontSettings): Server {
  // Not half-open, as an https.Server's sockets are not: a client that sends FIN (during the handshake too) gets its connection closed.
  const tls = createServer({ key: settings.key, cert: settings.cert, ca: settings.ca, requestCert: true, rejectUnauthorized: false }, accept);
  // A handshake that fails (a client not trusting the CA ...) concerns that client only.
  tls.on('tlsClientError', (_err, socket) => socket.destroy());
  return tls;
}

function accept(socket: TLSSocket): void {
  const id = nextId++;
  connections.set(id, socket);
  socket.setNoDelay(true);
  socket.setKeepAlive(true, 0);
  outbox.push(id, Op.open, connectionInfo(socket));
  socket.on('data', (chunk: Buffer) => outbox.pushChunk(id, Op.data, chunk));
  socket.on('end', () => outbox.push(id, Op.end, 0));
  socket.on('drain', () => outbox.push(id, Op.resume, 0));
  socket.on('error', () => socket.destroy());
  socket.on('close', () => {
    connections.delete(id);
    outbox.push(id, Op.closed, 0);
  });
}

function connectionInfo(socket: TLSSocket): ConnectionInfo {
  const info: ConnectionInfo = { authorized: socket.authorized };
  if (socket.remoteAddress !== undefined) info.remoteAddress = socket.remoteAddress;
  if (socket.remotePort !== undefined) info.remotePort = socket.remotePort;
  if (socket.localAddress !== undefined) info.localAddress = socket.localAddress;
  if (socket.localPort !== undefined) info.localPort = socket.localPort;
  if (socket.authorized) {
    const subject = socket.getPeerCertificate().subject as unknown as Record<string, string | string[]> | undefined;
    if (subject) info.subject = { ...subject };
  }
  return info;
}

/** The API server's ops for the connections, in order; writes to one socket in one turn go out in one system call. */
function traffic(ops: unknown[]): void {
  const corked = new Set<TLSSocket>();
  for (let i = 0; i < ops.length; i += 3) {
    const id = ops[i] as number;
    const socket = connections.get(id);
    if (!socket || socket.destroyed) continue;
    const flagged = ops[i + 1] as number;
    const op = flagged & ~Op.acked;
    const payload = ops[i + 2];
    switch (op) {
      case Op.utf8:
      case Op.latin1:
      case Op.data: {
        if (!corked.has(socket)) {
          socket.cork();
          corked.add(socket);
        }
        // An acknowledged write's buffer goes back once sent, to be written into again.
        const sent = flagged & Op.acked ? () => (payload instanceof Uint8Array ? outbox.pushView(id, Op.written, payload) : outbox.push(id, Op.written, 0)) : undefined;
        const flowing = op === Op.data ? socket.write(payload as Uint8Array, sent) : socket.write(payload as string, op === Op.utf8 ? 'utf8' : 'latin1', sent);
        if (!flowing) outbox.push(id, Op.pause, 0);
        break;
      }
      case Op.end:
        socket.end();
        break;
      case Op.destroy:
        // What was written before goes out first, as a net.Socket's write before destroy() does.
        if (corked.delete(socket)) socket.uncork();
        socket.destroy();
        break;
      case Op.pause:
        socket.pause();
        break;
      case Op.resume:
        socket.resume();
        break;
    }
  }
  for (const socket of corked) socket.uncork();
}

port.on('message', (request: FrontRequest) => {
  if (Array.isArray(request)) return traffic(request);
  switch (request.type) {
    case 'configure':
      server ??= configure(request.settings);
      break;
    case 'listen': {
      const listener = server;
      if (!listener) {
        reply({ type: 'listen-failed', message: 'the TLS listener has no certificates yet' });
        break;
      }
      const onError = (err: NodeJS.ErrnoException) => reply({ type: 'listen-failed', message: err.message, ...(err.code ? { code: err.code } : {}) });
      listener.once('error', onError);
      listener.listen(request.port, request.host, () => {
        listener.off('error', onError);
        const address = listener.address();
        if (address && typeof address === 'object') reply({ type: 'listening', address: { address: address.address, family: address.family, port: address.port } });
      });
      break;
    }
    case 'close':
      if (server?.listening) server.close(() => reply({ type: 'closed' }));
      else reply({ type: 'closed' });
      break;
  }
});
