// `nami server --shutdown-delay-duration`: after SIGTERM the server goes on
// serving for that long with /readyz failing its shutdown check (so a load
// balancer stops sending to it), then shuts down, as kube-apiserver does.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, KubectlRunner, kubectlOrSkip, namiBin, startNami, type RunningNami } from './harness.js';

const { kubectl, skip } = kubectlOrSkip('1.33');

describe('nami server --shutdown-delay-duration', { skip }, () => {
  let nami: RunningNami;
  let k: KubectlRunner;
  before(async () => {
    nami = await startNami(['--no-scheduler', '--no-controllers', '--shutdown-delay-duration', '3']);
    k = new KubectlRunner(kubectl!, nami.kubeconfig);
  });
  after(async () => {
    k?.cleanup();
    await nami?.stop();
  });

  test('serves with /readyz failing after SIGTERM, then exits', async () => {
    assert.match(await k.ok(['get', '--raw', '/readyz?verbose']), /\[\+\]shutdown ok\n/);
    const exited = new Promise<number | null>((resolve) => nami.process.once('exit', (code) => resolve(code)));
    nami.process.kill('SIGTERM');
    const readyz = await k.run(['get', '--raw', '/readyz']);
    assert.notEqual(readyz.code, 0);
    assert.match(readyz.stderr, /\[-\]shutdown failed: reason withheld/);
    assert.equal((await k.run(['get', '--raw', '/livez'])).stdout, 'ok');
    assert.match(await k.ok(['get', 'namespaces']), /kube-system/);
    assert.equal(await exited, 0);
  });
});

test('--shutdown-delay-duration that is not a number of seconds stops nami server at once', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nami-e2e-shutdown-'));
  try {
    const r = spawnSync(process.execPath, [namiBin, 'server', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--shutdown-delay-duration', 'soon'], { encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--shutdown-delay-duration must be a number of seconds \(for example 40 or 40s\), got "soon"/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

describe('nami server on SIGTERM', { skip }, () => {
  let nami: RunningNami;
  let k: KubectlRunner;
  before(async () => {
    nami = await startNami(['--no-scheduler', '--no-controllers']);
    k = new KubectlRunner(kubectl!, nami.kubeconfig);
  });
  after(async () => {
    k?.cleanup();
    await nami?.stop();
  });

  test('answers the requests it is serving before it exits, and ends the watches', async () => {
    const current = Number(JSON.parse(await k.ok(['get', '--raw', '/api/v1/namespaces/default/configmaps'])).metadata.resourceVersion);
    // A list at a resourceVersion the store has not reached waits 3 s for it, then answers 504.
    // -v=9 logs the connection as it is made: the signal comes once the request is surely on its way (a fixed wait was too short on a loaded machine).
    const slow = k.spawn(['get', '-v=9', '--raw', `/api/v1/namespaces/default/configmaps?resourceVersion=${current + 1_000_000}`]);
    const slowDone = new Promise<void>((resolve) => slow.child.once('close', () => resolve()));
    const watch = k.run(['get', 'configmaps', '-n', 'default', '--watch', '--request-timeout=0']);
    await eventually('the slow request to connect', async () => (/HTTP Trace: Dial (?:to tcp:\S+ )?succeed/.test(slow.output()) ? true : undefined), 20_000);
    await new Promise((r) => setTimeout(r, 1000));
    const exited = new Promise<number | null>((resolve) => nami.process.once('exit', (code) => resolve(code)));
    nami.process.kill('SIGTERM');
    await slowDone;
    // Its answer, a 504 suggesting a retry after 1 s as kube-apiserver's does, came before the server exited (the retry then finds no server).
    assert.match(slow.output(), /504 Gateway Timeout/, 'the request in flight got its answer, not a closed connection');
    assert.equal(await exited, 0);
    await watch; // the watch ended with the server
  });
});
