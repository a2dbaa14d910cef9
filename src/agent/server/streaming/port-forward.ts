// The kubelet's port-forward protocol (portforward.k8s.io) on a SPDY session:
// for each forwarded connection the client opens an error stream and a data
// stream carrying the same `port` and `requestid` headers; once both are
// there the agent connects to that port in the pod and copies bytes both
// ways. A failure goes back as text on the error stream, as the kubelet writes
// it ("error forwarding port 80 to pod web, uid ...: ..."), and the session
// stays up for the next connection.
//
// kubectl up to 1.30 reaches it by upgrading to SPDY/3.1; 1.31 and later open
// a WebSocket with subprotocol SPDY/3.1+portforward.k8s.io and speak the same
// SPDY inside its binary messages (kubectl falls back to plain SPDY when the
// WebSocket is refused).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { acceptSpdyUpgrade, SpdySession, type SpdyStream } from './spdy.js';

export const portForwardProtocol = 'portforward.k8s.io';
export const portForwardWebSocketProtocol = `SPDY/3.1+${portForwardProtocol}`;

/** The pod a port-forward session reaches. */
export interface PortForwardTarget {
  name: string;
  uid: string;
  /** A connection to the pod's port (rejects with the reason nothing is there). */
  connect(port: number): Promise<Duplex>;
}

export interface PortForwardOptions {
  /** How long the second stream of a pair may take to come (the kubelet's streamCreationTimeout, 30 s). */
  streamCreationTimeoutMs?: number;
  log?: (line: string) => void;
}

interface Pair {
  port: number;
  error?: SpdyStream;
  data?: SpdyStream;
  timer?: NodeJS.Timeout;
}

function parsePort(value: string | undefined): number | undefined {
  if (!value || !/^\d+$/.test(value)) return undefined;
  const n = Number(value);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** Serves port-forward requests on an established session until it closes. */
export function servePortForward(session: SpdySession, target: PortForwardTarget, opts: PortForwardOptions = {}): void {
  const pairs = new Map<string, Pair>();
  const conns = new Set<Duplex>();
  const timeoutMs = opts.streamCreationTimeoutMs ?? 30_000;

  session.on('close', () => {
    for (const c of conns) c.destroy();
    for (const p of pairs.values()) clearTimeout(p.timer);
    pairs.clear();
  });
  session.on('error', (e: Error) => opts.log?.(`port-forward to ${target.name}: ${e.message}`));

  session.on('stream', (stream: SpdyStream) => {
    const type = stream.headers.streamtype;
    const port = parsePort(stream.headers.port);
    if ((type !== 'error' && type !== 'data') || port === undefined) {
      stream.reply({}, true);
      stream.reset();
      opts.log?.(`port-forward to ${target.name}: refused a stream with streamtype=${JSON.stringify(type)} port=${JSON.stringify(stream.headers.port)}`);
      return;
    }
    // Clients before requestID paired streams by id: error n, data n+2.
    const requestId = stream.headers.requestid ?? String(type === 'data' ? stream.id - 2 : stream.id);
    stream.reply();
    let pair = pairs.get(requestId);
    if (!pair) {
      pair = { port };
      pairs.set(requestId, pair);
      const p = pair;
      pair.timer = setTimeout(() => {
        pairs.delete(requestId);
        const msg = `timed out waiting for streams of request ${requestId}`;
        if (p.error) p.error.end(msg);
        p.data?.reset();
      }, timeoutMs);
      pair.timer.unref();
    }
    if (type === 'error') {
      pair.error = stream;
      // The client sends nothing on it; read so its FIN is seen.
      stream.resume();
    } else pair.data = stream;
    if (pair.error && pair.data) {
      clearTimeout(pair.timer);
      pairs.delete(requestId);
      void forward(pair.error, pair.data, port);
    }
  });

  async function forward(errorStream: SpdyStream, data: SpdyStream, port: number): Promise<void> {
    const fail = (reason: string) => {
      const msg = `error forwarding port ${port} to pod ${target.name}, uid ${target.uid}: ${reason}`;
      opts.log?.(msg);
      if (!errorStream.localClosed) errorStream.end(msg);
    };
    let conn: Duplex;
    try {
      conn = await target.connect(port);
    } catch (e) {
      fail((e as Error).message);
      data.end();
      return;
    }
    conns.add(conn);
    let failed = false;
    conn.on('error', (e: Error) => {
      failed = true;
      fail(e.message);
      data.end();
    });
    conn.on('close', () => {
      conns.delete(conn);
      if (!failed && !errorStream.localClosed) errorStream.end();
    });
    data.on('error', () => conn.destroy());
    data.pipe(conn);
    conn.pipe(data);
  }
}

// `ws` rejects subprotocols that are not RFC 6455 tokens, and "/" is not a token
// character; so the header is taken off the request and the answer names the
// protocol itself.
const webSocketServer = new WebSocketServer({ noServer: true, perMessageDeflate: false });
const tunnelled = new WeakSet<IncomingMessage>();
webSocketServer.on('headers', (headers: string[], req: IncomingMessage) => {
  if (tunnelled.has(req)) headers.push(`Sec-WebSocket-Protocol: ${portForwardWebSocketProtocol}`);
});

function isWebSocket(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

/**
 * Takes a port-forward upgrade request (SPDY/3.1, or a WebSocket tunnelling
 * SPDY) on the agent's server and serves it for `target`.
 */
export function acceptPortForward(req: IncomingMessage, socket: Duplex, head: Buffer, target: PortForwardTarget, opts: PortForwardOptions = {}): void {
  if (isWebSocket(req)) {
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    if (!offered.includes(portForwardWebSocketProtocol)) {
      const msg = `unable to upgrade: port-forward over WebSocket needs subprotocol ${portForwardWebSocketProtocol}`;
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(msg)}\r\nConnection: close\r\n\r\n${msg}`);
      return;
    }
    delete req.headers['sec-websocket-protocol'];
    tunnelled.add(req);
    webSocketServer.handleUpgrade(req, socket, head, (ws) => {
      const stream = createWebSocketStream(ws, { allowHalfOpen: false });
      stream.on('error', () => stream.destroy());
      servePortForward(new SpdySession(stream, { server: true }), target, opts);
    });
    return;
  }
  const accepted = acceptSpdyUpgrade(req, socket, head, [portForwardProtocol]);
  if (accepted) servePortForward(accepted.session, target, opts);
}
