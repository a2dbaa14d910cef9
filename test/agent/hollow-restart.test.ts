// Stopping hollow nodes stops their heartbeats; starting them again with the
// same names adopts the pods they had reported: nothing starts twice, no
// restart is counted, and the adopted pods still end and delete as before.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../src/api/object.js';
import { startHollowNodes, type HollowNodes, type HollowNodesOptions } from '../../src/agent/index.js';
import { startTestApiServer, type TestApiServer } from '../apiserver/harness.js';
import { condition, createBoundPod, eventually, getPod, listLeases, nodesPath, podsIn, sleep, statusOf } from './helpers.js';

const prefix = 'rs-';
const options: HollowNodesOptions = { nodes: 2, namePrefix: prefix, leaseRenewIntervalMs: 100, nodeStatusUpdateFrequencyMs: 100 };

function renewTimes(leases: KubeObject[]): Map<string, string> {
  return new Map(leases.map((l) => [l.metadata.name!, (l.spec as { renewTime: string }).renewTime]));
}

describe('hollow nodes stopped and started again', () => {
  let api: TestApiServer;
  let first: HollowNodes | undefined;
  let second: HollowNodes | undefined;
  const before1: Record<string, KubeObject> = {};

  before(async () => {
    api = await startTestApiServer();
    first = await startHollowNodes(api.client, options);
    await createBoundPod(api.client, 'default', 'keep', `${prefix}0`);
    await createBoundPod(api.client, 'default', 'keep-init', `${prefix}1`, { initContainers: [{ name: 'setup', image: 'busybox' }] });
    await createBoundPod(api.client, 'default', 'ended', `${prefix}1`, { restartPolicy: 'Never', annotations: { 'nami.dev/fake-exit-code': '0' } });
    await createBoundPod(api.client, 'default', 'late-exit', `${prefix}1`, { restartPolicy: 'Never', annotations: { 'nami.dev/fake-exit-code': '4', 'nami.dev/fake-exit-after-ms': '4000' } });
    for (const [name, phase] of [['keep', 'Running'], ['keep-init', 'Running'], ['ended', 'Succeeded'], ['late-exit', 'Running']] as const) {
      before1[name] = await eventually(`${name} ${phase}`, async () => {
        const p = await getPod(api.client, 'default', name);
        return statusOf(p).phase === phase && condition(p, 'Ready')?.status === (phase === 'Running' ? 'True' : 'False') && p;
      });
    }
  });

  after(async () => {
    await first?.stop();
    await second?.stop();
    await api?.close();
  });

  it('stops renewing leases and reporting status once stopped', async () => {
    const leases = await listLeases(api.client, prefix);
    assert.equal(leases.length, 2);
    await first!.stop();
    const stoppedAt = renewTimes(await listLeases(api.client, prefix));
    const nodeVersions = await Promise.all([0, 1].map(async (i) => (await api.client.get<KubeObject>({ ...nodesPath, name: `${prefix}${i}` })).metadata.resourceVersion));
    // Ten renewal intervals: a running agent would have renewed ten times.
    await sleep(1_000);
    assert.deepEqual(renewTimes(await listLeases(api.client, prefix)), stoppedAt);
    const later = await Promise.all([0, 1].map(async (i) => (await api.client.get<KubeObject>({ ...nodesPath, name: `${prefix}${i}` })).metadata.resourceVersion));
    assert.deepEqual(later, nodeVersions);
    // Stopping deletes nothing.
    assert.ok(await getPod(api.client, 'default', 'keep'));
    first = undefined;
  });

  it('adopts the pods it had reported when started again with the same names', async () => {
    const stoppedAt = renewTimes(await listLeases(api.client, prefix));
    second = await startHollowNodes(api.client, options);
    await eventually('leases renewed again', async () => {
      const now = await listLeases(api.client, prefix);
      return now.length === 2 && now.every((l) => Date.parse((l.spec as { renewTime: string }).renewTime) > Date.parse(stoppedAt.get(l.metadata.name!)!));
    });
    // A pod created now runs, which means the restarted agent has gone through the pods it found.
    await createBoundPod(api.client, 'default', 'after', `${prefix}0`);
    const fresh = await eventually('after Running', async () => {
      const p = await getPod(api.client, 'default', 'after');
      return statusOf(p).phase === 'Running' && p;
    });
    for (const name of ['keep', 'keep-init', 'ended']) {
      const now = (await getPod(api.client, 'default', name))!;
      const was = statusOf(before1[name]);
      const is = statusOf(now);
      assert.equal(is.phase, was.phase, `${name} phase`);
      assert.equal(is.startTime, was.startTime, `${name} startTime`);
      assert.equal(is.podIP, was.podIP, `${name} podIP`);
      assert.deepEqual(
        is.containerStatuses!.map((c) => [c.containerID ?? c.state.terminated?.containerID, c.restartCount, c.state.running?.startedAt]),
        was.containerStatuses!.map((c) => [c.containerID ?? c.state.terminated?.containerID, c.restartCount, c.state.running?.startedAt]),
        `${name} keeps its containers`,
      );
      assert.deepEqual(is.initContainerStatuses, was.initContainerStatuses, `${name} init containers`);
      assert.equal(now.metadata.resourceVersion, before1[name]!.metadata.resourceVersion, `${name}: no status rewritten`);
    }
    // The adopted pod kept its address; the new one on the same node got another.
    assert.notEqual(statusOf(fresh).podIP, statusOf(before1.keep).podIP);
  });

  it('lets an adopted container end on its own schedule, as the same run', async () => {
    const ended = await eventually('late-exit Failed', async () => {
      const p = await getPod(api.client, 'default', 'late-exit');
      return statusOf(p).phase === 'Failed' && p;
    });
    const cs = statusOf(ended).containerStatuses![0]!;
    assert.equal(cs.state.terminated?.exitCode, 4);
    assert.equal(cs.state.terminated?.containerID, statusOf(before1['late-exit']).containerStatuses![0]!.containerID);
    assert.equal(cs.restartCount, 0);
    assert.equal(cs.state.terminated?.startedAt, statusOf(before1['late-exit']).containerStatuses![0]!.state.running?.startedAt);
  });

  it('terminates and deletes an adopted pod', async () => {
    const containerID = statusOf(before1.keep).containerStatuses![0]!.containerID;
    await api.client.delete({ ...podsIn('default'), name: 'keep' });
    await eventually('keep gone', async () => (await getPod(api.client, 'default', 'keep')) === undefined);
    assert.ok(containerID);
  });
});
