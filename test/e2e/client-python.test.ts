// The official Python client (Debian's python3-kubernetes) against `nami
// server`: typed list calls with a label selector, its Watch (which sends
// watch=True), a scale patch, and its ApiException for 404 and 409. The
// steps are in client-python.py; each prints a JSON line checked here.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { findPythonClient, pythonClientMissing, repoRoot, startNami, type RunningNami } from './harness.js';

const python = findPythonClient();
const skip = python ? false : pythonClientMissing;
if (skip && process.env.CI === 'true') throw new Error(`python client tests cannot run under CI: ${skip}`);

type Step = { step: string; error?: string; status?: number; body?: { reason?: string; code?: number; message?: string } } & Record<string, unknown>;

describe('python3-kubernetes against nami server', { skip }, () => {
  let nami: RunningNami;
  const steps = new Map<string, Step>();
  before(async () => {
    nami = await startNami();
    const out = await new Promise<string>((res, rej) =>
      execFile(python!, [join(repoRoot, 'test', 'e2e', 'client-python.py'), nami.kubeconfig, 'py-client'], { timeout: 60_000 }, (err, stdout, stderr) =>
        err ? rej(new Error(`client-python.py failed: ${err.message}\n${stdout}${stderr}`)) : res(stdout),
      ),
    );
    for (const line of out.split('\n').filter(Boolean)) {
      const s = JSON.parse(line) as Step;
      steps.set(s.step, s);
    }
  });
  after(async () => {
    await nami?.stop();
  });

  const ok = (name: string): Step => {
    const s = steps.get(name);
    assert.ok(s, `step ${name} ran`);
    assert.equal(s.error, undefined, `step ${name}: ${JSON.stringify(s)}`);
    return s;
  };

  test('creates and lists by label selector', () => {
    ok('setup');
    assert.deepEqual(ok('list').names, ['alpha']);
  });

  test('its Watch starts with the objects there are when given no resourceVersion', () => {
    const events = ok('watch-from-now').events as [string, string][];
    assert.deepEqual(events.filter(([, name]) => name !== 'kube-root-ca.crt').sort(), [['ADDED', 'alpha'], ['ADDED', 'beta']]);
  });

  test('its Watch from a list\'s resourceVersion sees ADDED, MODIFIED and DELETED', () => {
    // The namespace's kube-root-ca.crt, which a controller adds, may come in the stream too.
    const events = (ok('watch-changes').events as [string, string, string][]).filter(([, name]) => name !== 'kube-root-ca.crt');
    assert.deepEqual(events, [['ADDED', 'gamma', 'c'], ['MODIFIED', 'gamma', 'c2'], ['DELETED', 'gamma', 'c2']]);
  });

  test('patches a Deployment\'s scale and reads the defaults back', () => {
    const s = ok('scale');
    assert.equal(s.replicas, 3);
    assert.equal(s.maxSurge, '25%');
  });

  test('gets ApiException 404 NotFound and 409 Conflict with a Status body', () => {
    const missing = steps.get('not-found');
    assert.equal(missing?.status, 404);
    assert.equal(missing?.body?.reason, 'NotFound');
    const stale = steps.get('conflict');
    assert.equal(stale?.status, 409);
    assert.equal(stale?.body?.reason, 'Conflict');
    assert.match(stale?.body?.message ?? '', /the object has been modified; please apply your changes to the latest version and try again/);
  });

  test('reads the version', () => {
    assert.match(String(ok('version').gitVersion), /^v1\.33\./);
  });
});
