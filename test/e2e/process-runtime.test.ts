// The process runtime works for a non-root user: `nami up --runtime process` run as nobody
// (uid 65534, through setpriv) with a data dir of its own, driven by real kubectl 1.20, 1.27 and
// 1.33: pods from the busybox image run as host processes of uid 65534 and end with their exit
// codes, `kubectl logs` shows their output, a Deployment's pod answers HTTP on loopback, and a
// pod asking for a volume mount gets CreateContainerError saying why.
// Switching to nobody needs root: skips otherwise (fails under CI=true).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventually, findKubectl, type Kubectl, kubectlOrSkip, KubectlRunner, kubectlFor, repoRoot } from './harness.js';

const nobody = 65534;
const image = 'nami.dev/busybox:1';

function skipReason(): string | false {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (to run nami as nobody)');
  if (spawnSync('sh', ['-c', 'command -v setpriv']).status !== 0) missing.push('setpriv (Debian package util-linux)');
  if (!existsSync('/bin/busybox')) missing.push('/bin/busybox (Debian package busybox-static)');
  if (missing.length === 0) return false;
  const why = `needs ${missing.join(', ')}`;
  if (process.env.CI === 'true') throw new Error(why);
  return why;
}

const { kubectl, skip: noKubectl } = kubectlOrSkip('1.33');
const skip = noKubectl || skipReason();
const clients: Kubectl[] = [kubectl, findKubectl('1.27'), findKubectl('1.20')].filter((k): k is Kubectl => k !== undefined);

/** Runs a command as nobody with a clean environment. */
function asNobody(args: string[], env: Record<string, string> = {}): string[] {
  return ['setpriv', `--reuid=${nobody}`, `--regid=${nobody}`, '--clear-groups', '--reset-env', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...args];
}

/** Fails with instructions when nobody cannot read the repository (bin/nami, dist, node_modules). */
function assertReadableByNobody(): void {
  const files = [join(repoRoot, 'bin', 'nami'), join(repoRoot, 'dist', 'src', 'cli', 'main.js'), join(repoRoot, 'node_modules', 'commander', 'package.json')];
  const [cmd, ...args] = asNobody(['sh', '-c', 'for f; do test -r "$f" || { echo "$f"; exit 1; }; done', 'sh', ...files]);
  const r = spawnSync(cmd!, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(
      `uid ${nobody} cannot read ${r.stdout.trim() || r.stderr.trim()}: this test runs nami as nobody from this checkout. ` +
        'Make the checkout (and every directory above it, and node_modules) readable and searchable by others, e.g. chmod o+rx on each directory and o+r on the files.',
    );
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function httpGet(url: string): Promise<string | undefined> {
  try {
    const r = await fetch(url);
    return r.ok ? await r.text() : undefined;
  } catch {
    return undefined;
  }
}

describe('nami up --runtime process as a non-root user', { skip }, () => {
  let dataDir: string;
  let nami: ChildProcess;
  let stderr = '';
  let k: KubectlRunner;

  before(async () => {
    assertReadableByNobody();
    dataDir = mkdtempSync(join(tmpdir(), 'nami-process-e2e-'));
    chownSync(dataDir, nobody, nobody);
    const [cmd, ...args] = asNobody([process.execPath, join(repoRoot, 'bin', 'nami'), 'up', '--runtime', 'process', '--data-dir', dataDir, '--listen', '127.0.0.1:0'], {
      HOME: dataDir,
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      // Any free port for the agent: 10250 may be another test's.
      NAMI_AGENT_PORT: '0',
    });
    nami = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    nami.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    nami.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    await eventually('nami up to bring up its node', () => {
      if (nami.exitCode !== null) throw new Error(`nami up exited ${nami.exitCode}\n${stdout}\n${stderr}`);
      return /node: \S+ \(runtime process\)/.test(stdout) ? true : undefined;
    }, 60_000);
    k = new KubectlRunner(kubectl!, join(dataDir, 'admin.kubeconfig'));
    await eventually('the node to be Ready', async () => ((await k.ok(['get', 'nodes', '-o', 'jsonpath={.items[0].status.conditions[?(@.type=="Ready")].status}'])) === 'True' ? true : undefined), 60_000);
  });

  after(async () => {
    await k?.run(['delete', 'deployments,pods', '--all', '--wait=true', '--timeout=30s']);
    if (nami && nami.exitCode === null && nami.signalCode === null) {
      const exited = new Promise((r) => nami.once('exit', r));
      nami.kill('SIGTERM');
      await exited;
    }
    k?.cleanup();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('nami up says loudly that containers are not isolated; the node reports the process runtime', async () => {
    assert.match(stderr, /WARNING: the process runtime does not isolate containers/);
    assert.match(await k.ok(['get', 'nodes', '-o', 'jsonpath={.items[0].status.nodeInfo.containerRuntimeVersion}']), /^process:\/\//);
  });

  test('a pod whose volume cannot be mounted waits with CreateContainerError naming why', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'wants-mount' },
      spec: { restartPolicy: 'Never', volumes: [{ name: 'data', emptyDir: {} }], containers: [{ name: 'c', image, command: ['true'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }] },
    };
    await k.ok(['apply', '-f', k.writeFile('wants-mount.json', JSON.stringify(pod))]);
    const waiting = await eventually('the waiting reason', async () => {
      const out = await k.ok(['get', 'pod', 'wants-mount', '-o', 'jsonpath={.status.containerStatuses[0].state.waiting.reason}|{.status.containerStatuses[0].state.waiting.message}']);
      return out.startsWith('CreateContainerError|') ? out : undefined;
    }, 60_000);
    assert.match(waiting, /volume "data" cannot be mounted at \/data/);
    await k.ok(['delete', 'pod', 'wants-mount', '--wait=true', '--timeout=30s']);
  });

  test('containers get the variables of the API server\'s service and, with service links, of their namespace\'s services', async () => {
    await k.ok(['create', 'service', 'clusterip', 'shop-api', '--tcp=8080:80']);
    const ip = (name: string) => k.ok(['get', 'service', name, '-o', 'jsonpath={.spec.clusterIP}']);
    const [apiIP, shopIP] = [await ip('kubernetes'), await ip('shop-api')];
    const envPod = (name: string, enableServiceLinks: boolean) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { restartPolicy: 'Never', enableServiceLinks, containers: [{ name: 'c', image, command: ['env'], env: [{ name: 'SHOP_URL', value: 'http://$(SHOP_API_SERVICE_HOST):$(SHOP_API_SERVICE_PORT)' }] }] },
    });
    await k.ok(['apply', '-f', k.writeFile('env-links.json', JSON.stringify(envPod('env-links', true)))]);
    await k.ok(['apply', '-f', k.writeFile('env-nolinks.json', JSON.stringify(envPod('env-nolinks', false)))]);
    const envOf = async (name: string) => {
      await eventually(`${name} to finish`, async () => ((await k.ok(['get', 'pod', name, '-o', 'jsonpath={.status.phase}'])) === 'Succeeded' ? true : undefined), 60_000);
      return new Map((await k.ok(['logs', name])).split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    };
    const links = await envOf('env-links');
    assert.equal(links.get('KUBERNETES_SERVICE_HOST'), apiIP);
    assert.equal(links.get('KUBERNETES_SERVICE_PORT'), '443');
    assert.equal(links.get('SHOP_API_SERVICE_HOST'), shopIP);
    assert.equal(links.get('SHOP_API_PORT_8080_TCP'), `tcp://${shopIP}:8080`);
    assert.equal(links.get('SHOP_URL'), `http://${shopIP}:8080`);
    const noLinks = await envOf('env-nolinks');
    assert.equal(noLinks.get('KUBERNETES_SERVICE_HOST'), apiIP);
    assert.equal(noLinks.get('SHOP_API_SERVICE_HOST'), undefined);
    assert.equal(noLinks.get('SHOP_URL'), 'http://$(SHOP_API_SERVICE_HOST):$(SHOP_API_SERVICE_PORT)', 'names nothing defines stay as written');
    await k.ok(['delete', 'pod', 'env-links', 'env-nolinks', '--wait=true', '--timeout=30s']);
    await k.ok(['delete', 'service', 'shop-api']);
  });

  for (const client of clients) {
    describe(`kubectl ${client.version}`, () => {
      const kc = kubectlFor(client, () => join(dataDir, 'admin.kubeconfig'));
      const v = client.version.replace('.', '-');

      const phase = (name: string) => kc.ok(['get', 'pod', name, '-o', 'jsonpath={.status.phase}']);

      test('pods run as uid 65534, end with their exit codes, and kubectl logs shows their output', async () => {
        await kc.ok(['run', `ok-${v}`, `--image=${image}`, '--restart=Never', '--', 'sh', '-c', 'echo hello from $HOSTNAME; id -u']);
        await kc.ok(['run', `fail-${v}`, `--image=${image}`, '--restart=Never', '--', 'sh', '-c', 'echo failing >&2; exit 3']);
        await eventually('the pod to succeed', async () => ((await phase(`ok-${v}`)) === 'Succeeded' ? true : undefined), 60_000);
        await eventually('the pod to fail', async () => ((await phase(`fail-${v}`)) === 'Failed' ? true : undefined), 60_000);
        const code = (name: string) => kc.ok(['get', 'pod', name, '-o', 'jsonpath={.status.containerStatuses[0].state.terminated.exitCode}']);
        assert.equal(await code(`ok-${v}`), '0');
        assert.equal(await code(`fail-${v}`), '3');
        assert.equal(await kc.ok(['logs', `ok-${v}`]), `hello from ok-${v}\n${nobody}\n`);
        assert.equal(await kc.ok(['logs', `fail-${v}`]), 'failing\n');
        await kc.ok(['delete', 'pod', `ok-${v}`, `fail-${v}`, '--wait=true', '--timeout=30s']);
      });

      test('a Deployment\'s pod serves HTTP on the node\'s loopback', async () => {
        const port = await freePort();
        const name = `web-${v}`;
        const deployment = {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: name } },
            template: {
              metadata: { labels: { app: name } },
              spec: {
                terminationGracePeriodSeconds: 2,
                containers: [
                  {
                    name: 'httpd',
                    image,
                    // The working dir is inside the pod's copy of the image, so index.html stays the pod's.
                    workingDir: '/www',
                    command: ['sh', '-c', `echo "served by $(id -u)" > index.html && exec httpd -f -p 127.0.0.1:${port} -h .`],
                  },
                ],
              },
            },
          },
        };
        await kc.ok(['apply', '-f', kc.writeFile(`${name}.json`, JSON.stringify(deployment))]);
        const body = await eventually('the pod to answer HTTP', () => httpGet(`http://127.0.0.1:${port}/`), 60_000);
        assert.equal(body, `served by ${nobody}\n`);
        assert.equal(await kc.ok(['get', 'pods', '-l', `app=${name}`, '-o', 'jsonpath={.items[0].status.podIP}']), '127.0.0.1');
        await kc.ok(['delete', 'deployment', name, '--wait=true', '--timeout=30s']);
        await eventually('the pod to go', async () => ((await kc.ok(['get', 'pods', '-l', `app=${name}`, '-o', 'name'])) === '' ? true : undefined), 60_000);
        await eventually('its process to stop serving', async () => ((await httpGet(`http://127.0.0.1:${port}/`)) === undefined ? true : undefined), 30_000);
      });
    });
  }
});
