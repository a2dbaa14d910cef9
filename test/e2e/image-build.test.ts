// `bin/nami image build` as a user runs it, then a pod of the built image on a runc node, its
// output read with real `kubectl logs`. The node is `nami agent` beside `nami server` on its own
// bridge (nami-b1) and pod range, so it never touches a `nami up` of the machine.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { containerSkipReason, deleteLink, eventually, kubectlOrSkip, KubectlRunner, namiOk, repoRoot, type RunningHollow, type RunningNami, startAgent, startNami } from './harness.js';

const { kubectl, skip: noKubectl } = kubectlOrSkip('1.33');
const skip = noKubectl || containerSkipReason() || false;
const bridge = 'nami-b1';

function nami(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'nami'), ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('nami image build, then a pod of the image', { skip }, () => {
  let nodeDir: string;
  let ctx: string;
  let server: RunningNami | undefined;
  let agent: RunningHollow | undefined;
  let k: KubectlRunner | undefined;

  before(() => {
    nodeDir = mkdtempSync(join(tmpdir(), 'nami-build-node-'));
    ctx = mkdtempSync(join(tmpdir(), 'nami-build-ctx-'));
    namiOk(['image', 'busybox', '--data-dir', nodeDir]);
    mkdirSync(join(ctx, 'bin'));
    writeFileSync(join(ctx, 'bin', 'hello'), '#!/bin/sh\necho "hello $1 from $(pwd) as $(id -u), $GREETING, $(cat /srv/stamp)"\n', { mode: 0o755 });
    writeFileSync(join(ctx, 'Containerfile'), [
      'FROM nami.dev/busybox',
      'ARG STAMP=dev',
      'COPY bin/ /usr/local/bin/',
      'WORKDIR /srv',
      'RUN echo "built $STAMP" > stamp && rm /bin/ping',
      'ENV GREETING="have a nice day"',
      'USER nobody',
      'ENTRYPOINT ["hello"]',
      'CMD ["world"]',
    ].join('\n'));
  });
  after(async () => {
    await k?.run(['delete', 'pods', '--all', '--wait=true', '--timeout=30s']);
    await agent?.stop();
    await server?.stop();
    k?.cleanup();
    deleteLink(bridge);
    for (const d of [nodeDir, ctx]) if (d) rmSync(d, { recursive: true, force: true });
  });

  test('the CLI shows each step and the image ID, and stores the image under the name', () => {
    const r = nami(['image', 'build', '-t', 'localhost/hello:1', '--build-arg', 'STAMP=e2e', '--data-dir', nodeDir, ctx]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines.filter((l) => l.startsWith('STEP')).map((l) => l.slice(0, 9)), ['STEP 1/9:', 'STEP 2/9:', 'STEP 3/9:', 'STEP 4/9:', 'STEP 5/9:', 'STEP 6/9:', 'STEP 7/9:', 'STEP 8/9:', 'STEP 9/9:']);
    assert.ok(lines.includes('STEP 5/9: RUN echo "built $STAMP" > stamp && rm /bin/ping'));
    const id = lines.at(-1)!;
    assert.match(id, /^[a-f0-9]{64}$/);
    const ls = namiOk(['image', 'ls', '--data-dir', nodeDir]);
    assert.match(ls, new RegExp(`^localhost/hello:1\\s+${id.slice(0, 12)}\\s`, 'm'));
  });

  test('a failing RUN fails the command with the step\'s exit code, and leaves no build behind', () => {
    const bad = mkdtempSync(join(tmpdir(), 'nami-build-bad-'));
    try {
      writeFileSync(join(bad, 'Dockerfile'), 'FROM nami.dev/busybox\nRUN echo "about to fail"; exit 3\n');
      const r = nami(['image', 'build', '-t', 'localhost/bad:1', '--data-dir', nodeDir, bad]);
      assert.equal(r.status, 3);
      assert.match(r.stdout, /STEP 2\/2: RUN echo "about to fail"; exit 3\nabout to fail\n/);
      assert.match(r.stderr, /nami: STEP 2\/2: RUN .*: the command exited with code 3/);
      assert.deepEqual(readdirSync(join(nodeDir, 'images', 'tmp')).filter((n) => n.startsWith('build-')), []);
      const missing = nami(['image', 'build', '-t', 'localhost/bad:1', '--data-dir', nodeDir, join(bad, 'nothere')]);
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /^nami: build context .*nothere/);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });

  test('a pod of the built image runs its ENTRYPOINT and CMD as its USER in its WORKDIR (kubectl logs)', async () => {
    server = await startNami();
    const saved = { port: process.env.NAMI_AGENT_PORT, address: process.env.NAMI_AGENT_ADDRESS };
    process.env.NAMI_AGENT_PORT = '0';
    process.env.NAMI_AGENT_ADDRESS = '127.0.0.1';
    try {
      agent = await startAgent(server.kubeconfig, ['--data-dir', nodeDir, '--name', 'node-build', '--bridge', bridge, '--pod-cidr', '10.198.21.0/24']);
    } finally {
      for (const [key, env] of [['NAMI_AGENT_PORT', saved.port], ['NAMI_AGENT_ADDRESS', saved.address]] as const) {
        if (env === undefined) delete process.env[key];
        else process.env[key] = env;
      }
    }
    k = new KubectlRunner(kubectl!, server.kubeconfig);
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'hello' },
      spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'hello', image: 'localhost/hello:1', imagePullPolicy: 'Never' }] },
    };
    await k.ok(['apply', '-f', k.writeFile('hello.json', JSON.stringify(pod))]);
    const phase = await eventually('the pod to finish', async () => {
      const p = await k!.ok(['get', 'pod', 'hello', '-o', 'jsonpath={.status.phase}']);
      return p === 'Succeeded' || p === 'Failed' ? p : undefined;
    }, 60_000);
    assert.equal(phase, 'Succeeded', await k.ok(['get', 'pod', 'hello', '-o', 'yaml']));
    assert.equal(await k.ok(['logs', 'hello']), 'hello world from /srv as 65534, have a nice day, built e2e\n');
  });
});
