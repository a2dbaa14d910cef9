// One process carries 1,000 hollow nodes: all register (Node Ready, Lease),
// and every Lease is renewed at least once. The figures are printed, not
// asserted: how long this takes depends on the machine.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeList } from '../../src/api/object.js';
import { hollowNodeLabel, startHollowNodes, type HollowNodes } from '../../src/agent/index.js';
import { startTestApiServer, type TestApiServer } from '../apiserver/harness.js';
import { condition, createBoundPod, eventually, getPod, listLeases, nodesPath, statusOf } from './helpers.js';

const count = 1_000;
const prefix = 'scale-';

describe('1,000 hollow nodes in one process', { timeout: 600_000 }, () => {
  let api: TestApiServer;
  let hollow: HollowNodes | undefined;

  before(async () => {
    api = await startTestApiServer();
  });

  after(async () => {
    await hollow?.stop();
    await api?.close();
  });

  it('register, hold Leases and renew every one of them', async () => {
    const started = Date.now();
    // A shorter renewal than the kubelet's 10 s keeps the test short; it also means three times the write rate.
    hollow = await startHollowNodes(api.client, { nodes: count, namePrefix: prefix, leaseRenewIntervalMs: 3_000 });
    const registeredMs = Date.now() - started;
    console.log(`registered ${count} hollow nodes in ${(registeredMs / 1000).toFixed(2)} s`);

    const nodes = await api.client.list<KubeList>(nodesPath, { labelSelector: `${hollowNodeLabel}=true` });
    assert.equal(nodes.items.length, count);
    const notReady = nodes.items.filter((n) => {
      const conditions = (n.status as { conditions?: { type: string; status: string }[] }).conditions ?? [];
      return conditions.find((c) => c.type === 'Ready')?.status !== 'True';
    });
    assert.deepEqual(notReady.map((n) => n.metadata.name), []);

    const leases = await listLeases(api.client, prefix);
    assert.equal(leases.length, count);
    const firstRenew = new Map(leases.map((l) => [l.metadata.name!, Date.parse((l.spec as { renewTime: string }).renewTime)]));
    const renewStarted = Date.now();
    let pending = count;
    await eventually(
      'every lease renewed',
      async () => {
        const now = await listLeases(api.client, prefix);
        pending = now.filter((l) => !(Date.parse((l.spec as { renewTime: string }).renewTime) > firstRenew.get(l.metadata.name!)!)).length;
        return pending === 0;
      },
      500,
    );
    console.log(`every lease renewed again within ${((Date.now() - renewStarted) / 1000).toFixed(2)} s (renewal interval 3 s)`);

    // The nodes still run pods.
    await createBoundPod(api.client, 'default', 'on-node-999', `${prefix}999`);
    await eventually('pod on the last node Running', async () => statusOf(await getPod(api.client, 'default', 'on-node-999')).phase === 'Running');
    assert.equal(condition(await getPod(api.client, 'default', 'on-node-999'), 'Ready')?.status, 'True');
    const rss = process.memoryUsage().rss / 2 ** 20;
    console.log(`process RSS with the API server and ${count} hollow nodes: ${rss.toFixed(0)} MiB`);
  });
});
