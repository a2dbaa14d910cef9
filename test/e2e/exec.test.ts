// `kubectl exec`, `attach` and `cp` against real containers: `nami server`
// proxies the upgrade to `nami agent` (runc), which speaks WebSocket
// (kubectl 1.30+) or SPDY/3.1 (older ones, and 1.33 with
// KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false). Terminal sessions run kubectl
// under tmux, so it sees a real terminal that can be resized. Exec also
// reads the service account token the agent mounts in every container.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { containerSkipReason, deleteLink, eventually, findKubectl, findPythonClient, pythonClientMissing, type Kubectl, kubectlOrSkip, KubectlRunner, kubectlFor, namiOk, type RunningHollow, type RunningNami, startAgent, startNami } from './harness.js';

const { kubectl, skip: noKubectl } = kubectlOrSkip('1.33');
const noTmux = spawnSync('sh', ['-c', 'command -v tmux']).status === 0 ? undefined : 'tmux not found (Debian package tmux)';
if (noTmux && process.env.CI === 'true') throw new Error(noTmux);
const skip = noKubectl || containerSkipReason() || noTmux || false;
const image = 'nami.dev/busybox:latest';
const clients: Kubectl[] = [kubectl, findKubectl('1.27'), findKubectl('1.20')].filter((k): k is Kubectl => k !== undefined);
const bridge = 'nami-x1';
/** Debian's python3-kubernetes, for its exec client. */
const pythonClient = findPythonClient();
/** tmux's server socket, in the suite's temp dir (removed with it). */
let tmuxSocket = '';

interface ContainerSpec {
  name: string;
  script: string;
  env?: Record<string, string>;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
}

function pod(name: string, containers: ContainerSpec[], restartPolicy = 'Never'): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      restartPolicy,
      terminationGracePeriodSeconds: 1,
      containers: containers.map((c) => ({
        name: c.name,
        image,
        imagePullPolicy: 'IfNotPresent',
        command: ['sh', '-c', c.script],
        env: Object.entries(c.env ?? {}).map(([n, value]) => ({ name: n, value })),
        ...(c.stdin ? { stdin: true } : {}),
        ...(c.stdinOnce ? { stdinOnce: true } : {}),
        ...(c.tty ? { tty: true } : {}),
      })),
    },
  });
}

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', ['-S', tmuxSocket, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** kubectl with a stdin the test writes to, collecting its output. */
function spawnKubectl(k: KubectlRunner, home: string, args: string[]): { child: ChildProcessWithoutNullStreams; output: () => string } {
  const child = spawn(k.kubectl.path, ['--kubeconfig', k.kubeconfig, ...args], { env: { PATH: process.env.PATH ?? '', HOME: home }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return { child, output: () => out };
}

function stop(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const done = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  return done;
}

/** GET http://127.0.0.1:port/path: status and body, or undefined when the connection fails. */
function httpGet(port: number, path: string): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(undefined));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

describe('kubectl exec, attach and cp with runc containers', { skip }, () => {
  let nami: RunningNami;
  let agent: RunningHollow;
  let k: KubectlRunner;
  let nodeDir: string;
  let home: string;

  before(async () => {
    nami = await startNami();
    nodeDir = mkdtempSync(join(tmpdir(), 'nami-node-'));
    home = mkdtempSync(join(tmpdir(), 'nami-exec-home-'));
    tmuxSocket = join(home, 'tmux.sock');
    namiOk(['image', 'busybox', '--data-dir', nodeDir]);
    const saved = { port: process.env.NAMI_AGENT_PORT, address: process.env.NAMI_AGENT_ADDRESS };
    process.env.NAMI_AGENT_PORT = '0';
    process.env.NAMI_AGENT_ADDRESS = '127.0.0.1';
    try {
      agent = await startAgent(nami.kubeconfig, ['--data-dir', nodeDir, '--name', 'node-exec', '--bridge', bridge, '--pod-cidr', '10.198.12.0/24']);
    } finally {
      for (const [key, env] of [['NAMI_AGENT_PORT', saved.port], ['NAMI_AGENT_ADDRESS', saved.address]] as const) {
        if (env === undefined) delete process.env[key];
        else process.env[key] = env;
      }
    }
    k = new KubectlRunner(kubectl!, nami.kubeconfig);
    await k.ok(['apply', '-f', k.writeFile('shell.json', pod('shell', [{ name: 'main', script: 'exec sleep 3600' }]))]);
    await k.ok(['apply', '-f', k.writeFile('two.json', pod('two', [{ name: 'a', script: 'exec sleep 3600', env: { WHO: 'first' } }, { name: 'b', script: 'exec sleep 3600', env: { WHO: 'second' } }]))]);
    await k.ok(['apply', '-f', k.writeFile('ticker.json', pod('ticker', [{ name: 'tick', script: 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.5; done' }]))]);
    await k.ok(['apply', '-f', k.writeFile('reader.json', pod('reader', [{ name: 'cat', script: 'exec cat', stdin: true }]))]);
    await k.ok(['apply', '-f', k.writeFile('term.json', pod('term', [{ name: 'sh', script: 'exec sh', stdin: true, tty: true }]))]);
    await k.ok(['apply', '-f', k.writeFile('server.json', pod('server', [{ name: 'web', script: 'mkdir -p /www && echo hello through port-forward > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www' }]))]);
    await k.ok(['apply', '-f', k.writeFile('done.json', pod('done', [{ name: 'main', script: 'true' }]))]);
    const phase = (name: string) => k.ok(['get', 'pod', name, '-o', 'jsonpath={.status.phase}']);
    for (const name of ['shell', 'two', 'ticker', 'reader', 'term', 'server']) await eventually(`${name} to run`, async () => ((await phase(name)) === 'Running' ? true : undefined), 60_000);
    await eventually('done to finish', async () => ((await phase('done')) === 'Succeeded' ? true : undefined), 60_000);
  });
  after(async () => {
    spawnSync('tmux', ['-S', tmuxSocket, 'kill-server'], { stdio: 'ignore' });
    await k?.run(['delete', 'pods', '--all', '--wait=true', '--timeout=30s']);
    await agent?.stop();
    await nami?.stop();
    k?.cleanup();
    if (nodeDir) rmSync(nodeDir, { recursive: true, force: true });
    if (home) rmSync(home, { recursive: true, force: true });
    deleteLink(bridge);
  });

  for (const client of clients) {
    describe(`kubectl ${client.version}`, () => {
      const kc = kubectlFor(client, () => nami.kubeconfig);

      test('exec keeps stdout and stderr apart and passes the exit code on', async () => {
        const r = await kc.run(['exec', 'shell', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
        assert.equal(r.code, 3, r.stderr);
        assert.equal(r.stdout, 'out\n');
        assert.match(r.stderr, /^err\n/);
        assert.match(r.stderr, /command terminated with exit code 3/);
        const ok = await kc.run(['exec', 'shell', '--', 'hostname']);
        assert.equal(ok.code, 0, ok.stderr);
        assert.equal(ok.stdout, 'shell\n');
      });

      test('exec -i feeds stdin to the command', async () => {
        assert.equal(await kc.ok(['exec', '-i', 'shell', '--', 'cat'], { input: 'hi\nthere\n' }), 'hi\nthere\n');
      });

      test('exec -c picks the second container of two', async () => {
        assert.equal(await kc.ok(['exec', 'two', '-c', 'b', '--', 'sh', '-c', 'echo $WHO']), 'second\n');
        assert.equal(await kc.ok(['exec', 'two', '-c', 'a', '--', 'sh', '-c', 'echo $WHO']), 'first\n');
      });

      test('exec -it runs a terminal that resizes, echoes input and passes exit codes on', async () => {
        const session = `it-${client.version.replace('.', '-')}`;
        const kubeconfigDir = mkdtempSync(join(tmpdir(), 'nami-exec-tty-'));
        try {
          const script = join(kubeconfigDir, 'run.sh');
          writeFileSync(script, `#!/bin/sh\nHOME=${kubeconfigDir} '${client.path}' --kubeconfig '${nami.kubeconfig}' exec -it shell -- sh\necho "KUBECTL-EXIT=$?"\nsleep 600\n`, { mode: 0o755 });
          tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', script);
          const pane = () => tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', session);
          await eventually('the shell prompt', () => (/[#$] $/m.test(pane()) ? true : undefined), 30_000);
          // The container's terminal takes a new size when runc handles SIGWINCH, maybe after a command typed at once: ask until it shows.
          await eventually('tty and size', () => {
            if (/\/dev\/pts\/\d+\s+40 120/.test(pane())) return true;
            tmux('send-keys', '-t', session, 'tty; stty size', 'Enter');
            return undefined;
          }, 15_000);
          tmux('resize-window', '-t', session, '-x', '100', '-y', '30');
          await eventually('the new size', () => {
            tmux('send-keys', '-t', session, 'stty size', 'Enter');
            return /^30 100$/m.test(pane()) ? true : undefined;
          }, 15_000);
          tmux('send-keys', '-t', session, 'echo typed-$((40+2))', 'Enter');
          await eventually('the typed line and its output', () => (/echo typed-\$\(\(40\+2\)\)/.test(pane()) && /^typed-42$/m.test(pane()) ? true : undefined), 15_000);
          tmux('send-keys', '-t', session, 'exit 5', 'Enter');
          await eventually('kubectl to exit 5', () => (/KUBECTL-EXIT=5/.test(pane()) ? true : undefined), 15_000);
        } catch (e) {
          throw new Error(`${(e as Error).message}\nthe terminal showed:\n${tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', session)}`);
        } finally {
          spawnSync('tmux', ['-S', tmuxSocket, 'kill-session', '-t', session], { stdio: 'ignore' });
          rmSync(kubeconfigDir, { recursive: true, force: true });
        }
      });

      test('cp copies a file into the pod and back', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'nami-cp-'));
        try {
          const content = Array.from({ length: 60_000 }, (_, i) => `line ${i} of a file for kubectl cp`).join('\n') + '\n';
          writeFileSync(join(dir, 'in.txt'), content);
          const target = `/tmp/cp-${client.version}.txt`;
          await kc.ok(['cp', join(dir, 'in.txt'), `shell:${target}`]);
          assert.equal(await kc.ok(['exec', 'shell', '--', 'md5sum', target]).then((s) => s.split(' ')[0]), spawnSync('md5sum', [join(dir, 'in.txt')], { encoding: 'utf8' }).stdout.split(' ')[0]);
          await kc.ok(['cp', `shell:${target}`, join(dir, 'back.txt')]);
          assert.equal(readFileSync(join(dir, 'back.txt'), 'utf8'), content);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });

      test('attach shows what the container prints from now on', async () => {
        const attached = spawnKubectl(kc, home, ['attach', 'ticker']);
        try {
          const first = await eventually('a tick', () => /tick (\d+)\n/.exec(attached.output())?.[1], 30_000);
          await eventually('a later tick', () => (new RegExp(`tick ${Number(first) + 2}\\n`).test(attached.output()) ? true : undefined), 30_000);
          assert.equal(attached.child.exitCode, null, 'kubectl attach keeps running');
        } finally {
          await stop(attached.child);
        }
      });

      test('attach -i writes to the stdin of a container started with stdin: true', async () => {
        const word = `hello-${client.version}`;
        const attached = spawnKubectl(kc, home, ['attach', '-i', 'reader']);
        try {
          // The session is up once something typed comes back; keep typing until then.
          await eventually('the echo of the input', () => {
            attached.child.stdin.write(`${word}\n`);
            return attached.output().includes(`${word}\n`) ? true : undefined;
          }, 30_000);
        } finally {
          await stop(attached.child);
        }
      });

      test('attach -i to a stdinOnce container: ending the input closes its stdin, the pod completes', async () => {
        const name = `once-${client.version.replace('.', '-')}`;
        const word = `only-${name}`;
        await kc.ok(['apply', '-f', kc.writeFile(`${name}.json`, pod(name, [{ name: 'cat', script: 'exec cat', stdin: true, stdinOnce: true }]))]);
        const phase = () => kc.ok(['get', 'pod', name, '-o', 'jsonpath={.status.phase}']);
        await eventually(`${name} to run`, async () => ((await phase()) === 'Running' ? true : undefined), 60_000);
        const attached = spawnKubectl(kc, home, ['attach', '-i', name]);
        const exited = new Promise<number | null>((r) => attached.child.once('exit', (code) => r(code)));
        try {
          await eventually('the echo of the input', () => {
            if (attached.output().includes(`${word}\n`)) return true;
            attached.child.stdin.write(`${word}\n`);
            return undefined;
          }, 30_000);
          attached.child.stdin.end();
          assert.equal(await exited, 0, attached.output());
          await eventually(`${name} to complete`, async () => ((await phase()) === 'Succeeded' ? true : undefined), 30_000);
          assert.match(await kc.ok(['logs', name]), new RegExp(`^${word}\n`));
        } finally {
          await stop(attached.child);
          await kc.run(['delete', 'pod', name, '--wait=false']);
        }
      });

      test('attach -it to a tty container gets its terminal, which resizes', async () => {
        const session = `at-${client.version.replace('.', '-')}`;
        const dir = mkdtempSync(join(tmpdir(), 'nami-attach-tty-'));
        try {
          const script = join(dir, 'run.sh');
          writeFileSync(script, `#!/bin/sh\nHOME=${dir} '${client.path}' --kubeconfig '${nami.kubeconfig}' attach -it term\necho "KUBECTL-EXIT=$?"\nsleep 600\n`, { mode: 0o755 });
          tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', script);
          const pane = () => tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', session);
          await eventually('tty and size', () => {
            if (/\/dev\/pts\/\d+\s+40 120/.test(pane())) return true;
            tmux('send-keys', '-t', session, 'tty; stty size', 'Enter');
            return undefined;
          }, 30_000);
          tmux('resize-window', '-t', session, '-x', '100', '-y', '30');
          await eventually('the new size', () => {
            tmux('send-keys', '-t', session, 'stty size', 'Enter');
            return /^30 100\r?$/m.test(pane()) ? true : undefined;
          }, 15_000);
        } catch (e) {
          throw new Error(`${(e as Error).message}\nthe terminal showed:\n${tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', session)}`);
        } finally {
          spawnSync('tmux', ['-S', tmuxSocket, 'kill-session', '-t', session], { stdio: 'ignore' });
          rmSync(dir, { recursive: true, force: true });
        }
      });

      test('port-forward carries an HTTP request to a server listening on the pod\'s own 127.0.0.1', async () => {
        const forward = spawnKubectl(kc, home, ['port-forward', 'pod/server', ':8080']);
        try {
          const port = Number(await eventually('the local port', () => /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(forward.output())?.[1], 30_000));
          const answer = await eventually('the page', () => httpGet(port, '/index.html'), 30_000);
          assert.equal(answer.status, 200);
          assert.equal(answer.body, 'hello through port-forward\n');
          // A second request, on a new connection, over the same session.
          assert.equal((await httpGet(port, '/index.html'))?.body, 'hello through port-forward\n');
        } finally {
          await stop(forward.child);
        }
      });

      test('errors as kubectl shows them', async () => {
        const missing = await kc.run(['exec', 'shell', '-c', 'nope', '--', 'true']);
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /container nope is not valid for pod shell/);
        const finished = await kc.run(['exec', 'done', '--', 'true']);
        assert.equal(finished.code, 1);
        assert.match(finished.stderr, /cannot exec into a container in a completed pod; current phase is Succeeded/);
        const noPod = await kc.run(['exec', 'ghost', '--', 'true']);
        assert.equal(noPod.code, 1);
        assert.match(noPod.stderr, /pods "ghost" not found/);
      });
    });
  }

  // kubectl 1.20's debug wants the EphemeralContainers kind, which Kubernetes 1.22 replaced with the pod: it fails on a 1.33 cluster too.
  for (const client of clients.filter((c) => c.version !== '1.20')) {
    test(`kubectl ${client.version} debug adds an ephemeral container that sees its target's processes`, async () => {
      const kc = kubectlFor(client, () => nami.kubeconfig);
      const name = `debugger-${client.version.replace('.', '-')}`;
      const r = await kc.run(['debug', 'shell', '-i', `--container=${name}`, `--image=${image}`, '--target=main', '--profile=general', '--', 'sh'], { input: 'echo in-debugger; ps; exit\n' });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /in-debugger/);
      assert.match(r.stdout, /^\s*1 \S+\s+sleep 3600$/m, 'the target container is process 1 of the namespace the debugger joined');
      const statuses = JSON.parse(await kc.ok(['get', 'pod', 'shell', '-o', 'jsonpath={.status.ephemeralContainerStatuses}'])) as { name: string; state: Record<string, unknown>; containerID?: string }[];
      const mine = statuses.find((s) => s.name === name);
      assert.ok(mine && mine.containerID?.startsWith('runc://'), JSON.stringify(statuses));
      assert.ok(mine.state.running || mine.state.terminated, JSON.stringify(mine));
      assert.equal(await kc.ok(['get', 'pod', 'shell', '-o', 'jsonpath={.status.phase}']), 'Running', 'the pod itself goes on');
    });
  }

  test('a pod has its service account token, the cluster CA and its namespace, and the token names the pod', async () => {
    const dir = '/var/run/secrets/kubernetes.io/serviceaccount';
    const token = await k.ok(['exec', 'shell', '--', 'cat', `${dir}/token`]);
    assert.equal(await k.ok(['exec', 'shell', '--', 'cat', `${dir}/namespace`]), 'default');
    assert.equal(await k.ok(['exec', 'shell', '--', 'cat', `${dir}/ca.crt`]), readFileSync(join(nami.dataDir, 'pki', 'ca.crt'), 'utf8'));
    const config = k.writeFile('token.kubeconfig', JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'nami', cluster: { server: nami.url, 'certificate-authority': join(nami.dataDir, 'pki', 'ca.crt') } }],
      users: [{ name: 'pod', user: { token } }],
      contexts: [{ name: 'pod', context: { cluster: 'nami', user: 'pod' } }],
      'current-context': 'pod',
    }));
    const asPod = new KubectlRunner(kubectl!, config);
    try {
      const who = JSON.parse(await asPod.ok(['auth', 'whoami', '-o', 'json'])) as { status: { userInfo: { username: string; extra: Record<string, string[]> } } };
      assert.equal(who.status.userInfo.username, 'system:serviceaccount:default:default');
      assert.deepEqual(who.status.userInfo.extra['authentication.kubernetes.io/pod-name'], ['shell']);
      assert.deepEqual(who.status.userInfo.extra['authentication.kubernetes.io/node-name'], ['node-exec']);
    } finally {
      asPod.cleanup();
    }
  });

  test('kubectl 1.33 falls back to SPDY when WebSockets are off', async () => {
    const env = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' };
    const r = await k.run(['exec', 'shell', '--', 'sh', '-c', 'echo spdy-out; echo spdy-err >&2; exit 4'], { env });
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.stdout, 'spdy-out\n');
    assert.match(r.stderr, /spdy-err\n/);
    assert.equal(await k.ok(['exec', '-i', 'shell', '--', 'cat'], { input: 'over spdy\n', env }), 'over spdy\n');
  });

  test('kubectl exec ends when the command does, though its stdin is still open', async () => {
    for (const env of [{}, { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' }]) {
      const child = spawn(kubectl!.path, ['--kubeconfig', nami.kubeconfig, 'exec', '-i', 'shell', '--', 'sh', '-c', 'read line; echo "got $line"; exit 5'], { env: { ...process.env, ...env } });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.stdin.write('hello\n'); // and never ended: the client's stdin stays open
      try {
        assert.equal(await exited, 5);
        assert.equal(out, 'got hello\n');
      } finally {
        child.stdin.destroy();
        child.kill();
      }
    }
  });

  test('the Python client writes stdin as WebSocket text messages, and the command reads them', { skip: pythonClient ? false : pythonClientMissing }, () => {
    const script = [
      'import sys, time',
      'from kubernetes import client, config',
      'from kubernetes.stream import stream',
      'config.load_kube_config(sys.argv[1])',
      "ws = stream(client.CoreV1Api().connect_get_namespaced_pod_exec, 'shell', 'default', command=['sh'], stdin=True, stdout=True, stderr=True, tty=False, _preload_content=False)",
      "ws.write_stdin('echo from-python\\n')",
      'out, deadline = "", time.time() + 20',
      "while 'from-python' not in out and time.time() < deadline:",
      '    ws.update(timeout=1)',
      '    out += ws.read_stdout(timeout=0) if ws.peek_stdout() else ""',
      'ws.close()',
      'print(out, end="")',
    ].join('\n');
    const r = spawnSync(pythonClient!, ['-c', script, nami.kubeconfig], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'from-python\n');
  });

  test('a command that does not exist fails as the kubelet reports it', async () => {
    const r = await k.run(['exec', 'shell', '--', 'no-such-command']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /executable file not found in \$PATH/);
  });

  test('a pod no node took yet cannot be exec-ed into', async () => {
    const spec = JSON.parse(pod('nowhere', [{ name: 'main', script: 'sleep 3600' }])) as { spec: Record<string, unknown> };
    spec.spec.nodeSelector = { 'nami.dev/no-such-label': 'x' };
    await k.ok(['apply', '-f', k.writeFile('nowhere.json', JSON.stringify(spec))]);
    const r = await k.run(['exec', 'nowhere', '--', 'true']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /pod nowhere does not have a host assigned/);
  });

  test('the agent port refuses an anonymous exec', async () => {
    const port = Number(await k.ok(['get', 'node', 'node-exec', '-o', 'jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}']));
    const code = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/exec/default/shell/main?command=id&output=1', rejectUnauthorized: false, headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' } });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(code, 401);
  });
});
