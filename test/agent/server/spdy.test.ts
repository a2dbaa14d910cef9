// SPDY/3.1 codec: header blocks, streams in both directions with FIN and
// reset, PING echo, GOAWAY, the upgrade handshake's protocol negotiation, and
// bad input closing the session instead of throwing. Interop with kubectl's
// own spdystream is covered by the exec and port-forward end-to-end tests.
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { acceptSpdyUpgrade, decodeHeaderBlock, encodeHeaderBlock, SpdySession, type SpdyStream } from '../../../src/agent/server/streaming/spdy.js';
import { headerDictionary } from '../../../src/agent/server/streaming/spdy-dictionary.js';

/** Two connected sockets over loopback. */
async function socketPair(): Promise<[Socket, Socket]> {
  const server = createNetServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  const [serverSide] = await accepted;
  await once(client, 'connect').catch(() => undefined);
  server.close();
  return [client, serverSide];
}

function readAll(stream: SpdyStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.on('data', (c: Buffer) => (text += c.toString()));
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
  });
}

const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((f) => f()));

async function sessions(): Promise<{ client: SpdySession; server: SpdySession; clientSocket: Socket }> {
  const [a, b] = await socketPair();
  const client = new SpdySession(a, { server: false });
  const server = new SpdySession(b, { server: true });
  cleanups.push(() => {
    client.destroy();
    server.destroy();
  });
  return { client, server, clientSocket: a };
}

describe('SPDY header blocks', () => {
  it('round-trips names in lower case and several values', () => {
    const block = encodeHeaderBlock({ StreamType: 'stdin', port: ['80', '81'] });
    assert.deepEqual(decodeHeaderBlock(block), { streamtype: 'stdin', port: '80, 81' });
  });

  it('rejects truncated blocks, upper-case and duplicate names', () => {
    assert.throws(() => decodeHeaderBlock(Buffer.from([0, 0, 0, 1, 0, 0])), /truncated/);
    const upper = Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 0, 0, 1]), Buffer.from('A'), Buffer.from([0, 0, 0, 0])]);
    assert.throws(() => decodeHeaderBlock(upper), /lower case/);
    const twice = Buffer.concat([Buffer.from([0, 0, 0, 2]), ...[0, 1].map(() => Buffer.concat([Buffer.from([0, 0, 0, 1]), Buffer.from('a'), Buffer.from([0, 0, 0, 0])]))]);
    assert.throws(() => decodeHeaderBlock(twice), /twice/);
  });

  it('uses the SPDY/3 dictionary (1423 bytes; zlib checks its Adler-32)', () => {
    assert.equal(headerDictionary.length, 1423);
    assert.equal(headerDictionary.subarray(0, 11).toString('latin1'), '\0\0\0\x07options');
    assert.ok(headerDictionary.toString('latin1').endsWith('enq=0.'));
  });
});

describe('SPDY sessions', () => {
  it('carries data both ways on peer-opened streams, with FIN as end', async () => {
    const { client, server } = await sessions();
    const got = once(server, 'stream') as Promise<[SpdyStream]>;
    const c = client.openStream({ streamtype: 'stdin' });
    const replied = once(c, 'reply');
    c.end('hello server');
    const [s] = await got;
    assert.equal(s.id, 1);
    assert.deepEqual(s.headers, { streamtype: 'stdin' });
    s.reply({ ok: 'yes' });
    assert.deepEqual((await replied)[0], { ok: 'yes' });
    assert.equal(await readAll(s), 'hello server');
    const back = readAll(c);
    s.end('hello client');
    assert.equal(await back, 'hello client');
  });

  it('keeps many streams apart and their header contexts in step', async () => {
    const { client, server } = await sessions();
    const received = new Map<string, Promise<string>>();
    server.on('stream', (s: SpdyStream) => {
      s.reply();
      received.set(s.headers.name!, readAll(s));
    });
    const big = 'x'.repeat(200_000);
    const streams = Array.from({ length: 20 }, (_, i) => client.openStream({ name: `s${i}`, extra: 'v'.repeat(i * 10) }));
    streams.forEach((s, i) => s.end(i === 7 ? big : `payload ${i}`));
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setImmediate(r));
    }
    await new Promise<void>((resolve) => {
      const check = () => (received.size === 20 ? resolve() : setTimeout(check, 5));
      check();
    });
    for (let i = 0; i < 20; i++) assert.equal(await received.get(`s${i}`), i === 7 ? big : `payload ${i}`);
  });

  it('ends a reset stream and refuses writes quietly', async () => {
    const { client, server } = await sessions();
    const got = once(server, 'stream') as Promise<[SpdyStream]>;
    const c = client.openStream({ streamtype: 'data' });
    const [s] = await got;
    const ended = readAll(s);
    const reset = once(s, 'reset');
    c.reset();
    await reset;
    assert.equal(await ended, '');
    assert.equal(s.isReset, true);
  });

  it('answers PING and reports GOAWAY', async () => {
    const { client, server } = await sessions();
    await client.ping(1);
    const gone = once(client, 'goaway');
    server.close();
    await gone;
    await once(client, 'close');
  });

  it('closes the session on garbage instead of throwing', async () => {
    const { server, clientSocket } = await sessions();
    const errored = once(server, 'error');
    // A control frame of SPDY version 2.
    clientSocket.write(Buffer.from([0x80, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00]));
    const [err] = (await errored) as [Error];
    assert.match(err.message, /version 2/);
    await once(server, 'close');
  });
});

describe('SPDY upgrade handshake', () => {
  async function upgrade(headers: Record<string, string | string[]>): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
    const srv = createServer();
    srv.on('upgrade', (req, socket, head) => {
      const accepted = acceptSpdyUpgrade(req, socket, head, ['v4.channel.k8s.io', 'v3.channel.k8s.io']);
      accepted?.session.close();
    });
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    cleanups.push(() => srv.close());
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port, method: 'POST', path: '/exec', headers: { Connection: 'Upgrade', ...headers } });
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        resolve({ status: res.statusCode!, headers: res.headers, body: '' });
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('picks the first protocol the client offers that the server speaks', async () => {
    const r = await upgrade({ Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': ['v5.channel.k8s.io', 'v3.channel.k8s.io', 'v4.channel.k8s.io'] });
    assert.equal(r.status, 101);
    assert.equal(r.headers['x-stream-protocol-version'], 'v3.channel.k8s.io');
  });

  it('answers 403 naming both sides when no protocol matches, 400 without one', async () => {
    const r = await upgrade({ Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'channel.k8s.io' });
    assert.equal(r.status, 403);
    assert.match(r.body, /client supports \[channel.k8s.io\], server accepts \[v4.channel.k8s.io v3.channel.k8s.io\]/);
    assert.equal(r.headers['x-accepted-stream-protocol-versions'], 'v4.channel.k8s.io, v3.channel.k8s.io');
    const none = await upgrade({ Upgrade: 'SPDY/3.1' });
    assert.equal(none.status, 400);
  });
});
