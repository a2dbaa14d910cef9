// `kubectl get componentstatuses` (cs) from real kubectl 1.20, 1.27 and 1.33:
// the scheduler, the controller manager and the store, their health worked
// out when asked, with Kubernetes' deprecation warning; and a server without
// its scheduler shown as such.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, KubectlRunner, kubectlOrSkip, startNami, type RunningNami } from './harness.js';

const versions = ['1.20', '1.27', '1.33'];

let nami: RunningNami;
let withoutScheduler: RunningNami;
before(async () => {
  [nami, withoutScheduler] = await Promise.all([startNami(), startNami(['--no-scheduler'])]);
});
after(async () => {
  await Promise.all([nami?.stop(), withoutScheduler?.stop()]);
});

/** The rows of `kubectl get cs`: name -> [status, message, error]. */
function rows(table: string): Map<string, string[]> {
  const lines = table.trim().split('\n');
  assert.match(lines[0] ?? '', /^NAME\s+STATUS\s+MESSAGE\s+ERROR\s*$/);
  return new Map(lines.slice(1).map((l) => {
    const [name, status, ...rest] = l.trim().split(/\s+/);
    return [name!, [status!, ...rest]];
  }));
}

for (const version of versions) {
  const { kubectl, skip } = kubectlOrSkip(version);
  describe(`kubectl ${version} get componentstatuses`, { skip }, () => {
    let k: KubectlRunner;
    before(() => {
      k = new KubectlRunner(kubectl!, nami.kubeconfig);
    });
    after(() => k?.cleanup());

    test('lists the scheduler, the controller manager and etcd-0 as healthy, with the deprecation warning', async () => {
      // The scheduler and controllers take their Leases just after the server is ready.
      const r = await eventually('every component healthy', async () => {
        const got = await k.run(['get', 'cs']);
        return got.code === 0 && [...rows(got.stdout).values()].every((c) => c[0] === 'Healthy') ? got : undefined;
      });
      assert.deepEqual([...rows(r.stdout).keys()], ['scheduler', 'controller-manager', 'etcd-0']);
      assert.deepEqual(rows(r.stdout).get('etcd-0'), ['Healthy', 'ok']);
      assert.match(r.stderr, /Warning: v1 ComponentStatus is deprecated in v1\.19\+/);
    });

    test('gets one component by name, as JSON and by field selector; an unknown one is NotFound', async () => {
      const one = JSON.parse(await k.ok(['get', 'componentstatus', 'etcd-0', '-o', 'json'])) as { kind: string; metadata: { name: string }; conditions: { type: string; status: string }[] };
      assert.equal(one.kind, 'ComponentStatus');
      assert.equal(one.metadata.name, 'etcd-0');
      assert.deepEqual(one.conditions.map((c) => [c.type, c.status]), [['Healthy', 'True']]);
      assert.deepEqual([...rows(await k.ok(['get', 'cs', '--field-selector', 'metadata.name=scheduler'])).keys()], ['scheduler']);
      const missing = await k.run(['get', 'cs', 'etcd-9']);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /NotFound.*componentstatuses "etcd-9" not found/);
    });

    test('is listed by api-resources as cs, get and list only', async () => {
      assert.match(await k.ok(['api-resources', '--api-group=']), /^componentstatuses\s+cs\s+v1\s+false\s+ComponentStatus\s*$/m);
      const deleted = await k.run(['delete', 'cs', 'scheduler']);
      assert.notEqual(deleted.code, 0);
      assert.match(deleted.stderr, /MethodNotAllowed/);
    });
  });
}

describe('a server without its scheduler', { skip: kubectlOrSkip('1.33').skip }, () => {
  test('shows the scheduler unhealthy, naming its Lease, and the rest healthy', async () => {
    const k = new KubectlRunner(kubectlOrSkip('1.33').kubectl!, withoutScheduler.kubeconfig);
    try {
      const table = await eventually('the controller manager healthy', async () => {
        const got = await k.run(['get', 'cs']);
        return got.code === 0 && rows(got.stdout).get('controller-manager')?.[0] === 'Healthy' ? got.stdout : undefined;
      });
      const scheduler = table.split('\n').find((l) => l.startsWith('scheduler'));
      assert.match(scheduler ?? '', /^scheduler\s+Unhealthy\s+no leader holds the kube-system\/kube-scheduler Lease: is it running\?\s*$/);
      assert.equal(rows(table).get('etcd-0')?.[0], 'Healthy');
    } finally {
      k.cleanup();
    }
  });
});
