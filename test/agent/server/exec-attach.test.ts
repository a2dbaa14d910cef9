// exec and attach end to end in one process: a client speaking WebSocket
// (v5, v4) or SPDY/3.1 (v4, v2) upgrades through the API server, which checks
// the pod and proxies to the node agent's /exec and /attach endpoints (client
// certificate); the agent runs a scripted runtime. What kubectl does with it
// is in test/e2e/exec.test.ts; here every protocol detail is checked.
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { ExecStartError, FakeRuntime, localNodeConfig, startNodeAgent, type ExecProcess, type NodeAgentGroup, type StreamOptions } from '../../../src/agent/index.js';
import { startKubeletServer, type RunningKubeletServer } from '../../../src/agent/server/kubelet-server.js';
import { selfSignedServingCert } from '../../../src/agent/server/serving-cert.js';
import { SpdySession, type SpdyStream } from '../../../src/agent/server/streaming/spdy.js';
import { startTestApiServer, type TestApiServer } from '../../apiserver/harness.js';
import { createBoundPod, eventually, getPod } from '../helpers.js';

/** Commands the scripted runtime knows; see exec() below. */
function scripted(command: string[], opts: StreamOptions): ExecProcess {
  const stdout = new PassThrough();
  const stderr = opts.tty ? undefined : new PassThrough();
  const stdin = opts.stdin ? new PassThrough() : undefined;
  let finish: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => (finish = resolve));
  const end = (code: number) => {
    stdout.end();
    stderr?.end();
    finish(code);
  };
  const proc: ExecProcess = { stdin, stdout, stderr, resize: () => {}, exited, kill: () => end(137) };
  const [name, ...args] = command;
  switch (name) {
    case 'echo':
      stdout.write(`${args.join(' ')}\n`);
      end(0);
      break;
    case 'split':
      stdout.write('out\n');
      stderr?.write('err\n');
      end(Number(args[0] ?? 3));
      break;
    case 'cat':
      stdin?.pipe(stdout, { end: false });
      stdin?.on('end', () => end(0));
      break;
    case 'sizes': {
      // Reports each terminal size; ends after as many as asked for.
      let left = Number(args[0] ?? 1);
      proc.resize = (cols, rows) => {
        stdout.write(`size ${cols}x${rows}\n`);
        if (--left === 0) end(0);
      };
      break;
    }
    case 'missing':
      return { stdout: Readable.from([]), resize: () => {}, exited: Promise.reject(new ExecStartError('OCI runtime exec failed: exec failed: unable to start container process: exec: "missing": executable file not found in $PATH: unknown')), kill: () => {} };
    default:
      stderr?.write(`sh: ${name}: not found\n`);
      end(127);
  }
  return proc;
}

class ScriptedRuntime extends FakeRuntime {
  attaches = 0;
  constructor() {
    super({ podCidr: '10.252.0.0/24' });
  }
  async execStream(_uid: string, _id: string, command: string[], opts: StreamOptions): Promise<ExecProcess> {
    return scripted(command, opts);
  }
  async attach(_uid: string, _id: string, opts: StreamOptions): Promise<ExecProcess> {
    this.attaches++;
    const proc = scripted(['cat'], opts);
    proc.stdout.push('attached\n');
    return proc;
  }
}

interface Frames {
  /** Bytes per channel. */
  channels: Map<number, Buffer>;
  protocol: string;
  closeCode: number;
}

describe('exec and attach through the API server and the agent', () => {
  let api: TestApiServer;
  let agent: NodeAgentGroup;
  let kubelet: RunningKubeletServer;
  const runtime = new ScriptedRuntime();
  let base: URL;

  before(async () => {
    api = await startTestApiServer();
    base = new URL(api.config.server);
    const serving = selfSignedServingCert('exec-node', ['localhost'], ['127.0.0.1']);
    kubelet = await startKubeletServer({ runtime, clientCaPem: api.config.caPem!, ...serving, host: '127.0.0.1', port: 0, streamCreationTimeoutMs: 300 });
    const node = localNodeConfig({ name: 'exec-node', internalIP: '127.0.0.1', kubeletPort: kubelet.port, podCIDR: '10.252.0.0/24' });
    agent = await startNodeAgent(api.client, node, runtime, {});
    await createBoundPod(api.client, 'default', 'web', 'exec-node', { containers: [{ name: 'app', image: 'nginx' }, { name: 'side', image: 'busybox' }] });
    await eventually('web to run', async () => ((await getPod(api.client, 'default', 'web'))?.status as { phase?: string } | undefined)?.phase === 'Running' || undefined);
  });

  after(async () => {
    await agent?.stop();
    await kubelet?.close();
    await api?.close();
  });

  const tls = () => ({ ca: api.config.caPem, cert: api.config.certPem, key: api.config.keyPem });
  const execPath = (query: string, sub = 'exec', pod = 'web') => `/api/v1/namespaces/default/pods/${pod}/${sub}?${query}`;

  /** A WebSocket session: sends `send` (channel-prefixed) once open, collects channels until the server closes. */
  function wsSession(path: string, protocols: string[], send: (ws: WebSocket) => void = () => {}): Promise<Frames> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`wss://${base.host}${path}`, protocols, tls());
      const channels = new Map<number, Buffer>();
      ws.on('open', () => send(ws));
      ws.on('message', (data: Buffer) => {
        const id = data[0]!;
        channels.set(id, Buffer.concat([channels.get(id) ?? Buffer.alloc(0), data.subarray(1)]));
      });
      ws.on('close', (code) => resolve({ channels, protocol: ws.protocol, closeCode: code }));
      ws.on('unexpected-response', (_req, res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      ws.on('error', reject);
    });
  }

  const text = (f: Frames, id: number) => f.channels.get(id)?.toString() ?? '';

  /** A SPDY session as client-go opens it: error, stdin, stdout, stderr, resize streams. */
  function spdySession(path: string, protocol: string, types: string[], drive: (streams: Map<string, SpdyStream>) => void = () => {}): Promise<{ protocol: string; out: Map<string, string> }> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest({ host: base.hostname, port: base.port, method: 'POST', path, ...tls(), headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocol, 'Content-Length': '0' } });
      req.on('upgrade', (res, socket, head) => {
        const session = new SpdySession(socket, { server: false });
        session.feed(head);
        const streams = new Map<string, SpdyStream>();
        const out = new Map<string, string>();
        const ended: Promise<void>[] = [];
        for (const t of types) {
          const s = session.openStream({ streamtype: t });
          streams.set(t, s);
          out.set(t, '');
          s.on('data', (c: Buffer) => out.set(t, out.get(t)! + c.toString()));
          if (t === 'error' || t === 'stdout' || t === 'stderr') ended.push(new Promise((r) => s.once('end', () => r())));
          if (t === 'error') s.end();
        }
        drive(streams);
        void Promise.all(ended).then(() => {
          session.destroy();
          resolve({ protocol: String(res.headers['x-stream-protocol-version']), out });
        });
      });
      req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.on('error', reject);
      req.end();
    });
  }

  it('WebSocket v5: stdout and stderr on their channels, the exit code as a Status', async () => {
    const f = await wsSession(execPath('container=app&command=split&command=3&stdout=true&stderr=true'), ['v5.channel.k8s.io']);
    assert.equal(f.protocol, 'v5.channel.k8s.io');
    assert.equal(text(f, 1), 'out\n');
    assert.equal(text(f, 2), 'err\n');
    assert.deepEqual(JSON.parse(text(f, 3)), {
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: exit status 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    assert.equal(f.closeCode, 1000);
  });

  it('WebSocket v5: stdin until the close message, then Success', async () => {
    const f = await wsSession(execPath('container=app&command=cat&stdin=true&stdout=true&stderr=true'), ['v5.channel.k8s.io', 'v4.channel.k8s.io'], (ws) => {
      ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('hello ')]));
      ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('world')]));
      ws.send(Buffer.from([255, 0]));
    });
    assert.equal(text(f, 1), 'hello world');
    assert.deepEqual(JSON.parse(text(f, 3)), { metadata: {}, status: 'Success' });
  });

  it('WebSocket with a terminal: resize messages reach the command, no stderr channel', async () => {
    const f = await wsSession(execPath('container=app&command=sizes&command=2&stdin=true&stdout=true&stderr=true&tty=true'), ['v5.channel.k8s.io'], (ws) => {
      ws.send(Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":100,"Height":30}\n')]));
      ws.send(Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":120,"Height":40}\n')]));
    });
    assert.equal(text(f, 1), 'size 100x30\nsize 120x40\n');
    assert.equal(f.channels.has(2), false);
  });

  it('WebSocket v4 when the client offers no v5', async () => {
    const f = await wsSession(execPath('container=app&command=echo&command=hi&stdout=true'), ['v4.channel.k8s.io']);
    assert.equal(f.protocol, 'v4.channel.k8s.io');
    assert.equal(text(f, 1), 'hi\n');
    assert.deepEqual(JSON.parse(text(f, 3)), { metadata: {}, status: 'Success' });
  });

  it('a command that cannot start is an InternalError Status', async () => {
    const f = await wsSession(execPath('container=app&command=missing&stdout=true&stderr=true'), ['v5.channel.k8s.io']);
    const status = JSON.parse(text(f, 3)) as { status: string; reason: string; code: number; message: string };
    assert.equal(status.status, 'Failure');
    assert.equal(status.reason, 'InternalError');
    assert.equal(status.code, 500);
    assert.match(status.message, /^Internal error occurred: error executing command in container: OCI runtime exec failed: .*executable file not found in \$PATH/);
    assert.equal(text(f, 1) + text(f, 2), '');
  });

  it('SPDY v4: streams by streamType, stdin with a FIN, the exit code on the error stream', async () => {
    const split = await spdySession(execPath('container=app&command=split&command=7&stdout=true&stderr=true'), 'v4.channel.k8s.io', ['error', 'stdout', 'stderr']);
    assert.equal(split.protocol, 'v4.channel.k8s.io');
    assert.equal(split.out.get('stdout'), 'out\n');
    assert.equal(split.out.get('stderr'), 'err\n');
    assert.deepEqual(JSON.parse(split.out.get('error')!).details, { causes: [{ reason: 'ExitCode', message: '7' }] });
    const cat = await spdySession(execPath('container=app&command=cat&stdin=true&stdout=true&stderr=true'), 'v4.channel.k8s.io', ['error', 'stdin', 'stdout', 'stderr'], (s) => s.get('stdin')!.end('piped in'));
    assert.equal(cat.out.get('stdout'), 'piped in');
    assert.deepEqual(JSON.parse(cat.out.get('error')!), { metadata: {}, status: 'Success' });
  });

  it('SPDY v3 resize stream; v2 reports failures as text and success as nothing', async () => {
    const sized = await spdySession(execPath('container=app&command=sizes&stdin=true&stdout=true&tty=true'), 'v3.channel.k8s.io', ['error', 'stdin', 'stdout', 'resize'], (s) => s.get('resize')!.write('{"Width":90,"Height":20}\n'));
    assert.equal(sized.out.get('stdout'), 'size 90x20\n');
    const failed = await spdySession(execPath('container=app&command=split&stdout=true&stderr=true'), 'v2.channel.k8s.io', ['error', 'stdout', 'stderr']);
    assert.equal(failed.protocol, 'v2.channel.k8s.io');
    assert.equal(failed.out.get('error'), 'command terminated with non-zero exit code: exit status 3');
    const ok = await spdySession(execPath('container=app&command=echo&command=fine&stdout=true'), 'v2.channel.k8s.io', ['error', 'stdout']);
    assert.equal(ok.out.get('stdout'), 'fine\n');
    assert.equal(ok.out.get('error'), '');
  });

  it('attach streams output and takes stdin', async () => {
    const before = runtime.attaches;
    const f = await wsSession(execPath('container=side&stdin=true&stdout=true&stderr=true', 'attach'), ['v5.channel.k8s.io'], (ws) => {
      ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('typed\n')]));
      ws.send(Buffer.from([255, 0]));
    });
    assert.equal(text(f, 1), 'attached\ntyped\n');
    assert.equal(runtime.attaches, before + 1);
  });

  it('the API server answers Status errors before upgrading', async () => {
    const plain = await api.raw('POST', execPath('container=app&command=echo&stdout=true'));
    assert.equal(plain.status, 400);
    assert.equal(plain.json?.message, 'Upgrade request required');
    const noPod = await api.raw('GET', execPath('command=echo&stdout=true', 'exec', 'ghost'));
    assert.equal(noPod.status, 404);
    assert.equal(noPod.json?.message, 'pods "ghost" not found');
    await assert.rejects(wsSession(execPath('command=echo&stdout=true', 'exec', 'ghost'), ['v5.channel.k8s.io']), /no upgrade: 404/);
    const badContainer = await api.raw('POST', execPath('command=echo&stdout=true&container=nope'));
    assert.equal(badContainer.status, 400);
    assert.equal(badContainer.json?.message, 'container nope is not valid for pod web');
    const noStreams = await api.raw('POST', execPath('command=echo&container=app'));
    assert.equal(noStreams.json?.message, 'you must specify at least 1 of stdin, stdout, stderr');
    const twoContainers = await api.raw('POST', execPath('command=echo&stdout=true'));
    assert.equal(twoContainers.status, 400);
    assert.equal(twoContainers.json?.message, 'a container name must be specified for pod web, choose one of: [app side]');
    await assert.rejects(spdySession(execPath('command=echo&stdout=true&container=nope'), 'v4.channel.k8s.io', ['error', 'stdout']), /no upgrade: 400/);
  });

  describe('the agent port itself', () => {
    /** An upgrade request straight to the agent: the status code, and the body when it refused. */
    function agentUpgrade(path: string, anonymous = false): Promise<{ status: number; body: string }> {
      return new Promise((resolve, reject) => {
        const creds = anonymous ? {} : { cert: api.config.certPem, key: api.config.keyPem };
        const req = httpsRequest({ host: '127.0.0.1', port: kubelet.port, method: 'POST', path, rejectUnauthorized: false, ...creds, headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io', 'Content-Length': '0' } });
        req.on('upgrade', (res, socket) => {
          // A client that never opens its streams: the agent gives up after streamCreationTimeoutMs.
          socket.resume();
          socket.on('close', () => resolve({ status: res.statusCode ?? 0, body: '' }));
        });
        req.on('response', (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    }

    it('refuses anonymous callers with 401', async () => {
      assert.equal((await agentUpgrade('/exec/default/web/app?command=echo&output=1', true)).status, 401);
    });

    it('answers as the kubelet for a missing pod or container', async () => {
      assert.deepEqual(await agentUpgrade('/exec/default/ghost/app?command=echo&output=1'), { status: 404, body: 'pod does not exist\n' });
      assert.deepEqual(await agentUpgrade('/exec/default/web/nope?command=echo&output=1'), { status: 400, body: 'container not found ("nope")\n' });
      assert.deepEqual(await agentUpgrade('/exec/default/web/app?output=1'), { status: 400, body: 'you must specify at least one command for the container\n' });
      assert.equal((await agentUpgrade('/exec/default/%E0%A4%A/app?command=echo&output=1')).status, 404, 'a path that does not decode is not found, not a crash');
    });

    it('closes a session whose client does not open its streams in time', async () => {
      assert.equal((await agentUpgrade('/exec/default/web/app?command=echo&output=1')).status, 101);
    });
  });
});
