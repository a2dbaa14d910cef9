// A single node agent (the shape `nami agent` takes): it watches only its own
// pods (spec.nodeName=<node>) and runs them through the same pod worker as
// hollow nodes. And `nami hollow`'s runHollowCommand, run in-process.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../src/api/object.js';
import { FakeRuntime, localNodeConfig, runHollowCommand, startNodeAgent, type NodeAgentGroup } from '../../src/agent/index.js';
import { startTestApiServer, type TestApiServer } from '../apiserver/harness.js';
import { condition, createBoundPod, eventually, getPod, listLeases, nodesPath, statusOf } from './helpers.js';

describe('a single node agent', () => {
  let api: TestApiServer;
  let agent: NodeAgentGroup;

  before(async () => {
    api = await startTestApiServer();
    const node = localNodeConfig({ name: 'local-node', podCIDR: '10.250.0.0/24' });
    agent = await startNodeAgent(api.client, node, new FakeRuntime({ podCidr: node.podCIDR! }), { leaseRenewIntervalMs: 200 });
  });

  after(async () => {
    await agent?.stop();
    await api?.close();
  });

  it('registers the machine it runs on and runs the pods bound to it', async () => {
    const node = await api.client.get<KubeObject>({ ...nodesPath, name: 'local-node' });
    const capacity = (node.status as { capacity: Record<string, string> }).capacity;
    assert.match(capacity.cpu!, /^\d+$/);
    assert.match(capacity.memory!, /^\d+Ki$/);
    assert.equal((await listLeases(api.client, 'local-node')).length, 1);
    await createBoundPod(api.client, 'default', 'mine', 'local-node');
    await createBoundPod(api.client, 'default', 'elsewhere', 'some-other-node');
    const mine = await eventually('mine Running', async () => {
      const p = await getPod(api.client, 'default', 'mine');
      return statusOf(p).phase === 'Running' && p;
    });
    assert.equal(condition(mine, 'Ready')?.status, 'True');
    assert.equal(statusOf(mine).podIP, '10.250.0.2');
    // A pod bound to another node is not this agent's: it stays as the binding left it.
    assert.equal(statusOf(await getPod(api.client, 'default', 'elsewhere')).phase, 'Pending');
    assert.equal(statusOf(await getPod(api.client, 'default', 'elsewhere')).containerStatuses, undefined);
  });
});

describe('runHollowCommand', () => {
  let api: TestApiServer;

  before(async () => {
    api = await startTestApiServer();
  });

  after(async () => {
    await api?.close();
  });

  it('registers hollow nodes from a kubeconfig, reports it, and on SIGTERM stops without deleting them', async () => {
    const lines: string[] = [];
    const done = runHollowCommand({ kubeconfig: api.server.kubeconfigPath, nodes: 3, podsPerNode: 20, cpu: '2', memory: '4Gi' }, (line) => lines.push(line));
    await eventually('registered line', async () => lines.some((l) => /^registered 3 hollow nodes in \d+\.\d s$/.test(l)));
    const node = await api.client.get<KubeObject>({ ...nodesPath, name: 'hollow-node-2' });
    assert.deepEqual(
      [(node.status as { capacity: Record<string, string> }).capacity.cpu, (node.status as { capacity: Record<string, string> }).capacity.memory, (node.status as { capacity: Record<string, string> }).capacity.pods],
      ['2', '4Gi', '20'],
    );
    process.emit('SIGTERM');
    await done;
    assert.ok(lines.at(-1)?.startsWith('stopping hollow nodes'));
    assert.equal((await listLeases(api.client, 'hollow-node-')).length, 3, 'nothing is deleted on exit');
    assert.ok(await api.client.get({ ...nodesPath, name: 'hollow-node-0' }));
  });
});
