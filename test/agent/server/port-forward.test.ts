// The port-forward protocol on a SPDY session: stream pairs by requestid,
// bytes both ways with half-close, a refused port reported on the error
// stream in the kubelet's words while the session serves the next request,
// and malformed streams refused. kubectl's own clients (SPDY and the
// WebSocket tunnel) are driven by test/e2e/port-forward.test.ts.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { acceptPortForward, type PortForwardTarget } from '../../../src/agent/server/streaming/port-forward.js';
import { SpdySession, type SpdyStream } from '../../../src/agent/server/streaming/spdy.js';

const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((f) => f()));

let echoPort = 0;
let agentPort = 0;
const closedPort = 1; // nothing listens on port 1 of the loopback

before(async () => {
  // An upper-casing echo server that closes its side after the client's FIN.
  const echo = createNetServer({ allowHalfOpen: true }, (s: Socket) => {
    s.on('data', (c: Buffer) => s.write(c.toString('latin1').toUpperCase(), 'latin1'));
    s.on('end', () => s.end());
  });
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  echoPort = (echo.address() as AddressInfo).port;
  const target: PortForwardTarget = {
    name: 'web',
    uid: 'uid-1',
    connect: (port) =>
      new Promise<Duplex>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
        s.once('connect', () => resolve(s));
        s.once('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code === 'ECONNREFUSED' ? 'connection refused' : e.message)));
      }),
  };
  const agent = createServer((_req, res) => res.writeHead(400).end());
  agent.on('upgrade', (req, socket, head) => acceptPortForward(req, socket, head, target, { streamCreationTimeoutMs: 300 }));
  agent.listen(0, '127.0.0.1');
  await once(agent, 'listening');
  agentPort = (agent.address() as AddressInfo).port;
  cleanups.push(() => {
    echo.close();
    agent.close();
  });
});

async function openSession(): Promise<SpdySession> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: agentPort, method: 'POST', path: '/portForward/default/web', headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'portforward.k8s.io' } });
    req.on('upgrade', (res, socket, head) => {
      assert.equal(res.headers['x-stream-protocol-version'], 'portforward.k8s.io');
      const session = new SpdySession(socket, { server: false });
      session.feed(head);
      cleanups.push(() => session.destroy());
      resolve(session);
    });
    req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
    req.on('error', reject);
    req.end();
  });
}

function collect(stream: SpdyStream): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

function forward(session: SpdySession, port: number, requestId: string): { error: SpdyStream; data: SpdyStream } {
  const error = session.openStream({ streamtype: 'error', port: String(port), requestid: requestId });
  error.end();
  const data = session.openStream({ streamtype: 'data', port: String(port), requestid: requestId });
  return { error, data };
}

describe('port-forward protocol', () => {
  it('copies bytes both ways and half-closes, several connections on one session', async () => {
    const session = await openSession();
    const payload = Buffer.alloc(1_000_000, 'abcdefghij');
    const results = await Promise.all(
      ['0', '1', '2'].map(async (rid) => {
        const { error, data } = forward(session, echoPort, rid);
        const errText = collect(error);
        const got = collect(data);
        data.end(rid === '1' ? payload : `hello ${rid}`);
        return { got: await got, err: (await errText).toString() };
      }),
    );
    assert.equal(results[0]!.got.toString(), 'HELLO 0');
    assert.equal(results[1]!.got.length, payload.length);
    assert.ok(results[1]!.got.equals(Buffer.from(payload.toString('latin1').toUpperCase(), 'latin1')));
    assert.equal(results[2]!.got.toString(), 'HELLO 2');
    assert.deepEqual(
      results.map((r) => r.err),
      ['', '', ''],
    );
  });

  it('reports a refused port on the error stream and keeps serving', async () => {
    const session = await openSession();
    const bad = forward(session, closedPort, '0');
    const errText = collect(bad.error);
    await collect(bad.data);
    assert.equal((await errText).toString(), `error forwarding port ${closedPort} to pod web, uid uid-1: connection refused`);
    const good = forward(session, echoPort, '1');
    const got = collect(good.data);
    good.data.end('still up');
    assert.equal((await got).toString(), 'STILL UP');
  });

  it('refuses streams without a valid port or type, and times out a lonely half of a pair', async () => {
    const session = await openSession();
    const noPort = session.openStream({ streamtype: 'data', requestid: '9' });
    await once(noPort, 'reset');
    const lonely = session.openStream({ streamtype: 'error', port: String(echoPort), requestid: '5' });
    lonely.end();
    assert.match((await collect(lonely)).toString(), /timed out waiting for streams of request 5/);
  });
});
