// `kubectl logs` against real containers: `nami server` proxies pods/log to
// `nami agent`'s containerLogs endpoint (HTTPS, client certificate), which
// reads runc's CRI log files. The agent listens on 127.0.0.1 on a free port
// (NAMI_AGENT_ADDRESS, NAMI_AGENT_PORT).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { containerSkipReason, deleteLink, eventually, findKubectl, type Kubectl, kubectlOrSkip, KubectlRunner, kubectlFor, namiOk, type RunningHollow, type RunningNami, startAgent, startNami } from './harness.js';

const { kubectl, skip: noKubectl } = kubectlOrSkip('1.33');
const skip = noKubectl || containerSkipReason() || false;
const image = 'nami.dev/busybox:latest';
// Older clients when present beside it (1.20 only after scripts/fetch-kubectl-1.20.sh).
const clients: Kubectl[] = [kubectl, findKubectl('1.27'), findKubectl('1.20')].filter((k): k is Kubectl => k !== undefined);

function pod(name: string, containers: { name: string; script: string }[], restartPolicy = 'Never'): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { restartPolicy, terminationGracePeriodSeconds: 1, containers: containers.map((c) => ({ name: c.name, image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', c.script] })) },
  });
}

describe('kubectl logs of runc containers', { skip }, () => {
  let nami: RunningNami;
  let agent: RunningHollow;
  let k: KubectlRunner;
  let nodeDir: string;

  before(async () => {
    nami = await startNami();
    nodeDir = mkdtempSync(join(tmpdir(), 'nami-node-'));
    namiOk(['image', 'busybox', '--data-dir', nodeDir]);
    const saved = { port: process.env.NAMI_AGENT_PORT, address: process.env.NAMI_AGENT_ADDRESS };
    process.env.NAMI_AGENT_PORT = '0';
    process.env.NAMI_AGENT_ADDRESS = '127.0.0.1';
    try {
      // Small log files, so that a chatty container's log is rotated several times.
      agent = await startAgent(nami.kubeconfig, ['--data-dir', nodeDir, '--name', 'node-logs', '--bridge', 'nami-e2e2', '--pod-cidr', '10.198.2.0/24', '--container-log-max-size', '4Ki', '--container-log-max-files', '3']);
    } finally {
      for (const [key, env] of [['NAMI_AGENT_PORT', saved.port], ['NAMI_AGENT_ADDRESS', saved.address]] as const) {
        if (env === undefined) delete process.env[key];
        else process.env[key] = env;
      }
    }
    k = new KubectlRunner(kubectl!, nami.kubeconfig);
    await k.ok(['apply', '-f', k.writeFile('echo.json', pod('echo', [{ name: 'echo', script: 'for i in 1 2 3 4 5; do echo line $i; done' }]))]);
    await k.ok(['apply', '-f', k.writeFile('two.json', pod('two', [{ name: 'a', script: 'echo from a; exec sleep 3600' }, { name: 'b', script: 'echo from b >&2; exec sleep 3600' }]))]);
    await k.ok(['apply', '-f', k.writeFile('ticker.json', pod('ticker', [{ name: 'tick', script: 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.5; done' }]))]);
    const phase = (name: string) => k.ok(['get', 'pod', name, '-o', 'jsonpath={.status.phase}']);
    await eventually('echo to finish', async () => ((await phase('echo')) === 'Succeeded' ? true : undefined), 60_000);
    await eventually('two to run', async () => ((await phase('two')) === 'Running' ? true : undefined), 60_000);
    await eventually('ticker to run', async () => ((await phase('ticker')) === 'Running' ? true : undefined), 60_000);
  });
  after(async () => {
    await k?.run(['delete', 'pods', '--all', '--wait=true', '--timeout=30s']);
    await agent?.stop();
    await nami?.stop();
    k?.cleanup();
    if (nodeDir) rmSync(nodeDir, { recursive: true, force: true });
    deleteLink('nami-e2e2');
  });

  for (const client of clients) {
    describe(`kubectl ${client.version}`, () => {
      const kc = kubectlFor(client, () => nami.kubeconfig);

      test('logs, --tail and --timestamps', async () => {
        assert.equal(await kc.ok(['logs', 'echo']), 'line 1\nline 2\nline 3\nline 4\nline 5\n');
        assert.equal(await kc.ok(['logs', 'echo', '--tail=2']), 'line 4\nline 5\n');
        const stamped = (await kc.ok(['logs', 'pod/echo', '--timestamps', '--tail=1'])).split('\n');
        assert.match(stamped[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z line 5$/);
      });

      test('-c picks a container of two, stderr included', async () => {
        assert.equal(await kc.ok(['logs', 'two', '-c', 'a']), 'from a\n');
        assert.equal(await kc.ok(['logs', 'two', '-c', 'b']), 'from b\n');
      });

      test('logs -f sees lines written later', async () => {
        const follow = kc.spawn(['logs', '-f', 'ticker', '--tail=1']);
        try {
          const first = await eventually('a first tick', () => /tick (\d+)/.exec(follow.output())?.[1]);
          await eventually('a later tick', () => (new RegExp(`tick ${Number(first) + 2}\\n`).test(follow.output()) ? true : undefined), 30_000);
          assert.equal(follow.child.exitCode, null, 'kubectl logs -f keeps running');
        } finally {
          follow.child.kill('SIGTERM');
        }
      });
    });
  }

  test('logs -f ends when the container exits', async () => {
    await k.ok(['apply', '-f', k.writeFile('brief.json', pod('brief', [{ name: 'brief', script: 'echo start; sleep 3; echo done' }]))]);
    await eventually('brief to run', async () => ((await k.ok(['get', 'pod', 'brief', '-o', 'jsonpath={.status.phase}'])) === 'Running' ? true : undefined), 60_000);
    const r = await k.run(['logs', '-f', 'brief']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'start\ndone\n');
  });

  test('logs are rotated by size: logs shows the current file, logs -f goes on across rotations', async () => {
    // 1,500 lines of about 50 bytes of CRI log each, 50 every 0.2 s: some twenty 4 KiB files in 6 s.
    const script = 'i=0; while [ $i -lt 1500 ]; do echo "count $i"; i=$((i+1)); [ $((i % 50)) -eq 0 ] && sleep 0.2; done; exec sleep 3600';
    await k.ok(['apply', '-f', k.writeFile('chatty.json', pod('chatty', [{ name: 'chatty', script }]))]);
    await eventually('chatty to run', async () => ((await k.ok(['get', 'pod', 'chatty', '-o', 'jsonpath={.status.phase}'])) === 'Running' ? true : undefined), 60_000);
    const follow = k.spawn(['logs', '-f', 'chatty']);
    try {
      await eventually('the last line through logs -f', () => (follow.output().includes('count 1499\n') ? true : undefined), 60_000);
      const counts = follow.output().trim().split('\n').map((l) => Number(/^count (\d+)$/.exec(l)?.[1] ?? NaN));
      const from = counts[0]!;
      assert.deepEqual(counts, Array.from({ length: 1500 - from }, (_, i) => from + i), 'every line once, in order');
    } finally {
      follow.child.kill('SIGTERM');
    }
    const current = await k.ok(['logs', 'chatty']);
    assert.ok(current.endsWith('count 1499\n'));
    assert.ok(!current.startsWith('count 0\n'), 'older lines are in rotated files');
    assert.ok(Buffer.byteLength(current) < 4096);
    const uid = await k.ok(['get', 'pod', 'chatty', '-o', 'jsonpath={.metadata.uid}']);
    const files = readdirSync(join(nodeDir, 'runtime', 'pods', uid, 'logs', 'chatty')).sort();
    assert.equal(files.length, 3, files.join(' '));
    assert.deepEqual(files.filter((f) => !/^0\.log\.\d{8}-\d{6}(\.\d+)?$/.test(f)), ['0.log']);
  });

  test('errors as Kubernetes gives them', async () => {
    const missing = await k.run(['logs', 'nope']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /pods "nope" not found/);
  });
});
