// The API server's listener: TLS and the sockets on a thread of their own,
// HTTP on the serving thread. What a client sees must be what a plain
// HTTPS server gives: certificates, keep-alive, order, flow control, closes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { connect, type TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { newCertificate, type KeyPairPem } from '../../src/api/x509/certificate.js';
import { TlsFront } from '../../src/apiserver/tls-front.js';

/** A test server: handlers by path, over a TlsFront on a free port; `http` to set its timeouts on. */
async function startFront(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ front: TlsFront; http: Server; port: number; ca: KeyPairPem; client: KeyPairPem }> {
  const ca = newCertificate({ commonName: 'front-test-ca', kind: 'ca', years: 1 });
  const server = newCertificate({ commonName: 'front', ipAddresses: ['127.0.0.1'], kind: 'server', years: 1 }, ca);
  const client = newCertificate({ commonName: 'jane', organizations: ['dev', 'ops'], kind: 'client', years: 1 }, ca);
  const http = createServer(handle);
  const front = new TlsFront();
  front.serve(http, { key: server.keyPem, cert: server.certPem, ca: ca.certPem });
  const { port } = await front.listen(0, '127.0.0.1');
  return { front, http, port, ca, client };
}

function dial(port: number, ca: KeyPairPem, cert?: KeyPairPem): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: ca.certPem, ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}) }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Reads HTTP/1.1 responses with a Content-Length off a socket, in order. */
function responses(socket: TLSSocket, count: number): Promise<{ status: number; body: string }[]> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const out: { status: number; body: string }[] = [];
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const headEnd = buffered.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const head = buffered.subarray(0, headEnd).toString('latin1');
        const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < headEnd + 4 + length) return;
        out.push({ status: Number(head.split(' ')[1]), body: buffered.subarray(headEnd + 4, headEnd + 4 + length).toString() });
        buffered = buffered.subarray(headEnd + 4 + length);
        if (out.length === count) {
          socket.off('data', onData);
          resolve(out);
          return;
        }
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

describe('the TLS front', () => {
  let front: TlsFront;
  let port: number;
  let ca: KeyPairPem;
  let client: KeyPairPem;
  const seen: { path: string; authorized: boolean; subject: unknown; remoteAddress: string | undefined }[] = [];
  const closedEarly: string[] = [];
  let slowResponseMaxBuffered = 0;
  let slowResponseWaitedForDrain = false;
  const bigChunk = Buffer.alloc(64 * 1024, 'x');
  const bigChunks = 400; // 25 MiB
  const reusedChunkBytes = 300 * 1024;
  const reusedChunks = 40;
  const reusedPattern = (i: number) => String.fromCharCode(97 + (i % 26));
  const mixedParts: [string | Buffer, BufferEncoding][] = [
    ['{"type":"ADDED","object":{"name":"ü€😀"}}\n', 'utf8'],
    [Buffer.from([0xff, 0x00, 0x80, 0x0a]), 'utf8'],
    ['café', 'latin1'],
    [Buffer.from('\r\n'), 'utf8'],
    [Buffer.alloc(70 * 1024, 'b'), 'utf8'],
    ['x'.repeat(70 * 1024), 'utf8'],
    ['end', 'ascii'],
  ];

  before(async () => {
    ({ front, port, ca, client } = await startFront((req, res) => {
      const socket = req.socket as unknown as { authorized: boolean; remoteAddress?: string; getPeerCertificate(): { subject?: unknown } };
      seen.push({ path: req.url ?? '', authorized: socket.authorized, subject: socket.getPeerCertificate().subject, remoteAddress: socket.remoteAddress });
      if (req.url === '/big') {
        // A large streamed answer that waits for 'drain', as a watch or a big list does.
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bigChunk.length * bigChunks) });
        let sent = 0;
        const more = () => {
          while (sent < bigChunks) {
            sent++;
            const flowing = res.write(bigChunk);
            slowResponseMaxBuffered = Math.max(slowResponseMaxBuffered, res.writableLength);
            if (!flowing) {
              slowResponseWaitedForDrain = true;
              res.once('drain', more);
              return;
            }
          }
          res.end();
        };
        more();
        return;
      }
      if (req.url === '/reused') {
        // Large writes from one buffer, filled again once each write's callback says it was taken.
        const buffer = Buffer.alloc(reusedChunkBytes);
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(reusedChunkBytes * reusedChunks) });
        let sent = 0;
        const next = () => {
          if (sent === reusedChunks) {
            res.end();
            return;
          }
          buffer.fill(reusedPattern(sent++));
          res.write(buffer, next);
        };
        next();
        return;
      }
      if (req.url === '/mixed') {
        // A chunked body written in one turn, as a watch writes its events: strings and bytes, text and not.
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        for (const [part, encoding] of mixedParts) (typeof part === 'string' ? res.write(part, encoding) : res.write(part));
        res.end();
        return;
      }
      if (req.url === '/hold') {
        // Answers nothing: the client goes away first.
        res.on('close', () => closedEarly.push(req.url ?? ''));
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        const text = JSON.stringify({ path: req.url, method: req.method, body });
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) });
        res.end(text);
      });
    }));
  });
  after(() => front.stop());

  it('hands the client certificate, verified, and the peer address to the HTTP side', async () => {
    const socket = await dial(port, ca, client);
    const answers = responses(socket, 1);
    socket.write('GET /who HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal((await answers)[0]!.status, 200);
    socket.destroy();
    const req = seen.find((s) => s.path === '/who')!;
    assert.equal(req.authorized, true);
    assert.deepEqual(req.subject, { CN: 'jane', O: ['dev', 'ops'] });
    assert.equal(req.remoteAddress, '127.0.0.1');
  });

  it('a connection without a client certificate is not authorized', async () => {
    const socket = await dial(port, ca);
    const answers = responses(socket, 1);
    socket.write('GET /anonymous HTTP/1.1\r\nHost: x\r\n\r\n');
    await answers;
    socket.destroy();
    const req = seen.find((s) => s.path === '/anonymous')!;
    assert.equal(req.authorized, false);
    assert.equal(req.subject, undefined);
  });

  it('answers keep-alive and pipelined requests on one connection in order, bodies intact', async () => {
    const socket = await dial(port, ca, client);
    const n = 50;
    const answers = responses(socket, n);
    let all = '';
    for (let i = 0; i < n; i++) {
      const body = `{"n":${i},"text":"${'é'.repeat(i * 10)}"}`;
      all += `POST /echo/${i} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    }
    // All fifty in one write: they reach the server in a few reads, most of them in one.
    socket.write(all);
    const got = await answers;
    socket.destroy();
    assert.equal(got.length, n);
    got.forEach((r, i) => {
      assert.equal(r.status, 200);
      const echoed = JSON.parse(r.body) as { path: string; body: string };
      assert.equal(echoed.path, `/echo/${i}`);
      assert.deepEqual(JSON.parse(echoed.body), { n: i, text: 'é'.repeat(i * 10) });
    });
  });

  it('requests from many connections at once each get their own answer', async () => {
    // More at once than the serving thread takes in one turn: the rest wait for the next turns, in order.
    const sockets = await Promise.all(Array.from({ length: 40 }, () => dial(port, ca, client)));
    const answers = sockets.map((s) => responses(s, 3));
    sockets.forEach((s, i) => {
      for (let k = 0; k < 3; k++) s.write(`POST /many/${i}/${k} HTTP/1.1\r\nHost: x\r\nContent-Length: ${String(i).length}\r\n\r\n${i}`);
    });
    const got = await Promise.all(answers);
    for (const s of sockets) s.destroy();
    got.forEach((rs, i) =>
      rs.forEach((r, k) => {
        const echoed = JSON.parse(r.body) as { path: string; body: string };
        assert.equal(echoed.path, `/many/${i}/${k}`);
        assert.equal(echoed.body, String(i));
      }),
    );
  });

  it('a client that reads slowly holds the server back instead of filling its memory, and gets every byte', async () => {
    const socket = await dial(port, ca, client);
    socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    socket.pause();
    // While the client reads nothing, the handler is made to wait for 'drain' early.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(slowResponseWaitedForDrain, true, 'the handler never waited for drain');
    const hash = createHash('sha256');
    let bodyBytes = 0;
    let headerDone = false;
    const expected = bigChunk.length * bigChunks;
    await new Promise<void>((resolve, reject) => {
      socket.on('data', (chunk: Buffer) => {
        let data = chunk;
        if (!headerDone) {
          const end = chunk.indexOf('\r\n\r\n');
          assert.ok(end >= 0);
          headerDone = true;
          data = chunk.subarray(end + 4);
        }
        hash.update(data);
        bodyBytes += data.length;
        if (bodyBytes >= expected) resolve();
      });
      socket.once('error', reject);
      socket.resume();
    });
    socket.destroy();
    assert.equal(bodyBytes, expected);
    assert.equal(hash.digest('hex'), createHash('sha256').update(Buffer.concat(Array.from({ length: bigChunks }, () => bigChunk))).digest('hex'));
    // What the HTTP side held at any time stayed far below the 25 MiB answer.
    assert.ok(slowResponseMaxBuffered < 4 * 1024 * 1024, `the HTTP side buffered up to ${slowResponseMaxBuffered} bytes`);
  });

  it('large writes from a buffer the handler fills again arrive intact, and their copies\' buffers come back to be reused', async () => {
    const socket = await dial(port, ca, client);
    socket.write('GET /reused HTTP/1.1\r\nHost: x\r\n\r\n');
    const expected = reusedChunkBytes * reusedChunks;
    const received: Buffer[] = [];
    let bodyBytes = -1;
    await new Promise<void>((resolve, reject) => {
      let head = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        if (bodyBytes < 0) {
          head = Buffer.concat([head, chunk]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) return;
          chunk = head.subarray(end + 4);
          bodyBytes = 0;
        }
        received.push(chunk);
        bodyBytes += chunk.length;
        if (bodyBytes >= expected) resolve();
      });
      socket.once('error', reject);
    });
    socket.destroy();
    const body = Buffer.concat(received);
    assert.equal(body.length, expected);
    for (let i = 0; i < reusedChunks; i++) {
      const part = body.subarray(i * reusedChunkBytes, (i + 1) * reusedChunkBytes);
      assert.ok(part.equals(Buffer.alloc(reusedChunkBytes, reusedPattern(i))), `chunk ${i} is not what was written`);
    }
    // The front hands a buffer back once the kernel has its bytes, a message that may still be on its way when the client has them.
    for (let i = 0; i < 500 && front.keptLargeBuffers === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(front.keptLargeBuffers > 0, 'no buffer came back from the front');
    assert.ok(front.keptLargeBuffers <= 16, `${front.keptLargeBuffers} buffers kept`);
  });

  it('a chunked body of strings and bytes written in one turn arrives byte for byte', async () => {
    const body = await new Promise<Buffer>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path: '/mixed', ca: ca.certPem, cert: client.certPem, key: client.keyPem }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      });
      req.on('error', reject);
      req.end();
    });
    const expected = Buffer.concat(mixedParts.map(([part, encoding]) => (typeof part === 'string' ? Buffer.from(part, encoding) : part)));
    assert.equal(body.length, expected.length);
    assert.ok(body.equals(expected));
  });

  it('a client that goes away closes its request on the HTTP side', async () => {
    const socket = await dial(port, ca, client);
    socket.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => seen.some((s) => s.path === '/hold'));
    socket.destroy();
    await waitFor(() => closedEarly.includes('/hold'));
  });

  it('bytes that are not TLS, and HTTP that is not HTTP, cost only their own connection', async () => {
    const { createConnection } = await import('node:net');
    const plain = createConnection({ host: '127.0.0.1', port });
    plain.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => plain.once('close', resolve));
    const socket = await dial(port, ca, client);
    const bad = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.once('close', () => resolve(text));
    });
    socket.write('NOT HTTP AT ALL\r\n\r\n');
    assert.match(await bad, /^HTTP\/1\.1 400 Bad Request/);
    const good = await dial(port, ca, client);
    const answers = responses(good, 1);
    good.write('GET /after HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal((await answers)[0]!.status, 200);
    good.destroy();
  });

  it('a client that connects and sends FIN before any handshake gets its connection closed, and the listener closes', { timeout: 30_000 }, async () => {
    const { createConnection } = await import('node:net');
    // Half-closed, an unanswered connection would sit until the handshake timeout (two minutes), and hold close() as long.
    const plain = createConnection({ host: '127.0.0.1', port });
    await new Promise((resolve) => plain.once('connect', resolve));
    const closed = new Promise((resolve) => plain.once('close', resolve));
    plain.end();
    await closed;
  });

  it('listening on a port in use fails as net.Server does, with EADDRINUSE', async () => {
    const taken = createNetServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port: busy } = taken.address() as AddressInfo;
    const cert = newCertificate({ commonName: 'front', ipAddresses: ['127.0.0.1'], kind: 'server', years: 1 }, ca);
    const other = new TlsFront();
    other.serve(createServer(), { key: cert.keyPem, cert: cert.certPem, ca: ca.certPem });
    try {
      await assert.rejects(other.listen(busy, '127.0.0.1'), (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE');
    } finally {
      await other.terminate();
      taken.close();
    }
  });
});

async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the TLS front and keep-alive', () => {
  it('closes a kept-alive connection once it is idle for keepAliveTimeout, and not while requests come', async () => {
    const { front, http, port, ca } = await startFront((_req, res) => res.end('ok'));
    http.keepAliveTimeout = 300;
    try {
      const busy = await dial(port, ca);
      const idle = await dial(port, ca);
      let busyClosed = false;
      busy.once('close', () => (busyClosed = true));
      const idleClosed = new Promise((resolve) => idle.once('close', resolve));
      const first = responses(idle, 1);
      idle.write('GET /once HTTP/1.1\r\nHost: x\r\n\r\n');
      await first;
      // A request every 100 ms for three times the timeout: the connection stays.
      for (let i = 0; i < 9; i++) {
        const answer = responses(busy, 1);
        busy.write('GET /again HTTP/1.1\r\nHost: x\r\n\r\n');
        assert.equal((await answer)[0]!.status, 200);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(busyClosed, false, 'a connection in use was closed');
      await idleClosed;
      busy.destroy();
    } finally {
      await front.stop();
    }
  });
});
