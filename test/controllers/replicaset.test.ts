// The ReplicaSet / ReplicationController controller: pod ranking, slow start,
// expectations and status as pure functions, then against an in-process API
// server (the test acts as the nodes).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/object.js';
import { Expectations } from '../../src/controllers/workload-common/expectations.js';
import { deletesBefore, isPodAvailable, podFromTemplate, podsToDelete, slowStartBatch, type Pod } from '../../src/controllers/replicaset/pods.js';
import { calculateReplicaStatus, replicaStatusCurrent } from '../../src/controllers/replicaset/status.js';
import { createNamespace, eventually, FakeNodes, isReady, listPods, podTemplate, replicaSets, replicationControllers, startCluster, type Cluster, podsPath as podsResource } from './workloads-harness.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

function pod(name: string, opts: { node?: string; phase?: string; ready?: boolean; readySince?: number; created?: number; restarts?: number; cost?: string; uid?: string } = {}): Pod {
  const conditions = opts.ready ? [{ type: 'Ready', status: 'True', lastTransitionTime: iso(opts.readySince ?? NOW - 3600_000) }] : [];
  return {
    metadata: {
      name,
      uid: opts.uid ?? name,
      creationTimestamp: iso(opts.created ?? NOW - 3600_000),
      ...(opts.cost !== undefined ? { annotations: { 'controller.kubernetes.io/pod-deletion-cost': opts.cost } } : {}),
    },
    spec: opts.node ? { nodeName: opts.node } : {},
    status: { phase: opts.phase ?? 'Running', conditions, containerStatuses: [{ restartCount: opts.restarts ?? 0 }] },
  };
}

function order(list: Pod[]): string[] {
  return podsToDelete(list, list, list.length - 1, NOW).map((p) => p.metadata.name!);
}

describe('pod ranking for deletion (ActivePodsWithRanks)', () => {
  test('unassigned before assigned', () => {
    assert.equal(deletesBefore(pod('a'), 0, pod('b', { node: 'n1' }), 0, NOW), true);
    assert.equal(deletesBefore(pod('b', { node: 'n1' }), 0, pod('a'), 0, NOW), false);
  });
  test('Pending before Unknown before Running', () => {
    const pending = pod('p', { node: 'n', phase: 'Pending' });
    const unknown = pod('u', { node: 'n', phase: 'Unknown' });
    const running = pod('r', { node: 'n', phase: 'Running' });
    assert.equal(deletesBefore(pending, 0, unknown, 0, NOW), true);
    assert.equal(deletesBefore(unknown, 0, running, 0, NOW), true);
    assert.equal(deletesBefore(running, 0, pending, 0, NOW), false);
  });
  test('not ready before ready, then lower deletion cost first, then doubled-up first', () => {
    assert.equal(deletesBefore(pod('nr', { node: 'n' }), 0, pod('r', { node: 'n', ready: true }), 0, NOW), true);
    assert.equal(deletesBefore(pod('cheap', { node: 'n', ready: true, cost: '-5' }), 0, pod('dear', { node: 'n', ready: true, cost: '10' }), 0, NOW), true);
    assert.equal(deletesBefore(pod('dear', { node: 'n', ready: true, cost: '10' }), 5, pod('cheap', { node: 'n', ready: true }), 0, NOW), false);
    assert.equal(deletesBefore(pod('crowded', { node: 'n', ready: true }), 3, pod('alone', { node: 'm', ready: true }), 1, NOW), true);
  });
  test('ready for less time first (logarithmic buckets), then more restarts, then newer', () => {
    const recent = pod('recent', { node: 'n', ready: true, readySince: NOW - 10_000 });
    const old = pod('old', { node: 'n', ready: true, readySince: NOW - 3600_000 * 24 });
    assert.equal(deletesBefore(recent, 0, old, 0, NOW), true);
    assert.equal(deletesBefore(old, 0, recent, 0, NOW), false);
    const flappy = pod('flappy', { node: 'n', ready: true, restarts: 7 });
    const steady = pod('steady', { node: 'n', ready: true });
    assert.equal(deletesBefore(flappy, 0, steady, 0, NOW), true);
    const young = pod('young', { node: 'n', ready: true, created: NOW - 60_000 });
    const aged = pod('aged', { node: 'n', ready: true, created: NOW - 3600_000 * 48 });
    assert.equal(deletesBefore(young, 0, aged, 0, NOW), true);
    assert.equal(deletesBefore(aged, 0, young, 0, NOW), false);
  });
  test('podsToDelete takes the lowest ranked pods', () => {
    const list = [
      pod('running-ready', { node: 'n1', ready: true }),
      pod('unscheduled', { phase: 'Pending' }),
      pod('running-not-ready', { node: 'n2' }),
      pod('pending', { node: 'n3', phase: 'Pending' }),
    ];
    assert.deepEqual(order(list), ['unscheduled', 'pending', 'running-not-ready']);
    assert.deepEqual(
      podsToDelete(list, list, 4, NOW).map((p) => p.metadata.name),
      list.map((p) => p.metadata.name),
    );
  });
  test('pods sharing a node with more related pods go first', () => {
    const a = pod('a', { node: 'busy', ready: true });
    const b = pod('b', { node: 'quiet', ready: true });
    const sibling1 = pod('s1', { node: 'busy', ready: true });
    const sibling2 = pod('s2', { node: 'busy', ready: true });
    assert.deepEqual(
      podsToDelete([b, a], [a, b, sibling1, sibling2], 1, NOW).map((p) => p.metadata.name),
      ['a'],
    );
  });
});

describe('slow start, expectations, status', () => {
  test('slowStartBatch creates in batches of 1, 2, 4, ... and stops after a failing batch', async () => {
    let inFlight = 0;
    const batches: number[] = [];
    let calls = 0;
    const result = await slowStartBatch(10, 1, async () => {
      calls++;
      inFlight++;
      if (batches.length === 0 || inFlight === 1) batches.push(0);
      batches[batches.length - 1]!++;
      await new Promise((r) => setImmediate(r));
      inFlight--;
    });
    assert.deepEqual(result, { successes: 10 });
    assert.equal(calls, 10);
    assert.deepEqual(batches, [1, 2, 4, 3]);

    let n = 0;
    const failing = await slowStartBatch(10, 1, async () => {
      n++;
      if (n === 3) throw new Error('quota exceeded');
    });
    assert.equal(failing.successes, 2);
    assert.equal(n, 3);
    assert.equal((failing.error as Error).message, 'quota exceeded');
  });

  test('expectations hold a key back until its creates and deletes are seen, or time out', () => {
    let now = 0;
    const e = new Expectations(1000, () => now);
    assert.equal(e.satisfied('ns/rs'), true);
    e.expectCreations('ns/rs', 2);
    assert.equal(e.satisfied('ns/rs'), false);
    e.creationObserved('ns/rs');
    assert.equal(e.satisfied('ns/rs'), false);
    e.creationObserved('ns/rs');
    assert.equal(e.satisfied('ns/rs'), true);
    e.expectDeletions('ns/rs', ['ns/a', 'ns/b']);
    e.deletionObserved('ns/rs', 'ns/a');
    e.deletionObserved('ns/rs', 'ns/a');
    assert.equal(e.satisfied('ns/rs'), false);
    now = 2000;
    assert.equal(e.satisfied('ns/rs'), true);
  });

  test('status counts, minReadySeconds availability and the ReplicaFailure condition', () => {
    const template = { metadata: { labels: { app: 'web', tier: 'front' } } };
    const fresh = pod('fresh', { ready: true, readySince: NOW - 2000 });
    fresh.metadata.labels = { app: 'web', tier: 'front' };
    const settled = pod('settled', { ready: true, readySince: NOW - 60_000 });
    settled.metadata.labels = { app: 'web' };
    const starting = pod('starting', { phase: 'Pending' });
    starting.metadata.labels = { app: 'web', tier: 'front', extra: 'x' };
    assert.equal(isPodAvailable(fresh, 10, NOW), false);
    assert.equal(isPodAvailable(settled, 10, NOW), true);
    const status = calculateReplicaStatus({ replicas: 0 }, { replicas: 3, minReadySeconds: 10, template }, [fresh, settled, starting], undefined, NOW);
    assert.deepEqual(status, { replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1 });
    assert.equal(replicaStatusCurrent({ ...status, observedGeneration: 4 }, status, 4), true);
    assert.equal(replicaStatusCurrent({ ...status, observedGeneration: 3 }, status, 4), false);

    const failed = calculateReplicaStatus(status, { replicas: 5, template }, [fresh], new Error('pods "x" is forbidden: exceeded quota'), NOW);
    assert.equal(failed.conditions?.length, 1);
    assert.deepEqual({ ...failed.conditions![0], lastTransitionTime: undefined }, {
      type: 'ReplicaFailure',
      status: 'True',
      reason: 'FailedCreate',
      message: 'pods "x" is forbidden: exceeded quota',
      lastTransitionTime: undefined,
    });
    assert.equal(calculateReplicaStatus(failed, { replicas: 1, template }, [fresh], undefined, NOW).conditions, undefined);
    const deleting = calculateReplicaStatus({ replicas: 3 }, { replicas: 1, template }, [fresh, settled], new Error('nope'), NOW);
    assert.equal(deleting.conditions?.[0]?.reason, 'FailedDelete');
  });

  test('pods from a template carry its metadata, generateName <owner>- and the controller reference', () => {
    const owner: KubeObject = { metadata: { name: 'web', namespace: 'ns', uid: 'u1' } };
    const p = podFromTemplate(
      { metadata: { labels: { app: 'web' }, annotations: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
      owner,
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'u1', controller: true, blockOwnerDeletion: true },
    );
    assert.deepEqual(p.metadata, {
      generateName: 'web-',
      namespace: 'ns',
      labels: { app: 'web' },
      annotations: { a: 'b' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'u1', controller: true, blockOwnerDeletion: true }],
    });
  });
});

function rs(name: string, replicas: number, labels: Record<string, string>, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name },
    spec: { replicas, selector: { matchLabels: labels }, template: podTemplate(labels), ...extra },
  };
}

async function getStatus(c: Cluster, ns: string, name: string): Promise<Record<string, any>> {
  return ((await c.client.get({ ...replicaSets, namespace: ns, name })).status ?? {}) as Record<string, any>;
}

describe('ReplicaSet controller against the API server', () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster({ replicaSets: true, replicationControllers: true });
  });
  after(async () => {
    await c?.close();
  });

  test('creates N pods owned by the ReplicaSet and reports their readiness', async () => {
    const ns = 'rs-create';
    await createNamespace(c.client, ns);
    const nodes = new FakeNodes(c.client, ns);
    await nodes.start();
    try {
      const created = await c.client.create({ ...replicaSets, namespace: ns }, rs('web', 3, { app: 'web' }));
      const status = await eventually('3 ready replicas', async () => {
        const s = await getStatus(c, ns, 'web');
        return s.readyReplicas === 3 && s.availableReplicas === 3 ? s : undefined;
      });
      assert.equal(status.replicas, 3);
      assert.equal(status.fullyLabeledReplicas, 3);
      assert.equal(status.observedGeneration, 1);
      const list = await listPods(c.client, ns);
      assert.equal(list.length, 3);
      for (const p of list) {
        assert.match(p.metadata.name!, /^web-[a-z0-9]{5}$/);
        assert.equal(p.metadata.generateName, 'web-');
        assert.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: created.metadata.uid, controller: true, blockOwnerDeletion: true }]);
        assert.deepEqual(p.metadata.labels, { app: 'web' });
      }
    } finally {
      nodes.stop();
    }
  });

  test('never creates more than it needs while its creates are in flight', async () => {
    const ns = 'rs-burst';
    await createNamespace(c.client, ns);
    let added = 0;
    let deleted = 0;
    const watch = c.client.watch({ ...podsResource, namespace: ns }, {}, (type) => {
      if (type === 'ADDED') added++;
      if (type === 'DELETED') deleted++;
    });
    try {
      await c.client.create({ ...replicaSets, namespace: ns }, rs('many', 25, { app: 'many' }));
      await eventually('25 replicas', async () => ((await getStatus(c, ns, 'many')).replicas === 25 ? true : undefined));
      // Let any stray sync run, then count again.
      await c.client.patch({ ...replicaSets, namespace: ns, name: 'many' }, { metadata: { annotations: { poke: '1' } } }, 'merge');
      await eventually('the pod count to settle', async () => ((await listPods(c.client, ns)).length === 25 ? true : undefined));
      assert.equal(added, 25);
      assert.equal(deleted, 0);
      const events = (await c.client.list({ group: '', version: 'v1', plural: 'events', namespace: ns })).items;
      assert.ok(events.some((e) => e.reason === 'SuccessfulCreate' && /^Created pod: many-/.test(String(e.message))));
    } finally {
      watch.stop();
    }
  });

  test('scales up and down, deleting not-ready pods before ready ones', async () => {
    const ns = 'rs-scale';
    await createNamespace(c.client, ns);
    const nodes = new FakeNodes(c.client, ns);
    await nodes.start();
    try {
      await c.client.create({ ...replicaSets, namespace: ns }, rs('app', 3, { app: 'app' }));
      await eventually('3 ready', async () => ((await getStatus(c, ns, 'app')).readyReplicas === 3 ? true : undefined));
      const readyNames = (await listPods(c.client, ns)).map((p) => p.metadata.name!).sort();

      nodes.paused = true;
      await c.client.patch({ ...replicaSets, namespace: ns, name: 'app' }, { spec: { replicas: 5 } }, 'merge');
      await eventually('5 replicas', async () => ((await getStatus(c, ns, 'app')).replicas === 5 ? true : undefined));
      const all = await listPods(c.client, ns);
      assert.equal(all.filter(isReady).length, 3);

      await c.client.patch({ ...replicaSets, namespace: ns, name: 'app' }, { spec: { replicas: 3 } }, 'merge');
      const left = await eventually('3 pods left', async () => {
        const l = await listPods(c.client, ns);
        return l.length === 3 ? l : undefined;
      });
      assert.deepEqual(left.map((p) => p.metadata.name!).sort(), readyNames);

      await c.client.patch({ ...replicaSets, namespace: ns, name: 'app' }, { spec: { replicas: 0 } }, 'merge');
      await eventually('no pods', async () => ((await listPods(c.client, ns)).length === 0 ? true : undefined));
      const status = await eventually('status 0', async () => {
        const s = await getStatus(c, ns, 'app');
        return s.replicas === 0 && s.observedGeneration === 4 ? s : undefined;
      });
      assert.equal(status.readyReplicas, undefined);
    } finally {
      nodes.stop();
    }
  });

  test('adopts a matching orphan and releases a pod that stops matching', async () => {
    const ns = 'rs-adopt';
    await createNamespace(c.client, ns);
    const orphan = await c.client.create({ ...podsResource, namespace: ns }, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'orphan', labels: { app: 'db' } }, spec: { containers: [{ name: 'c', image: 'postgres' }] } });
    const owner = await c.client.create({ ...replicaSets, namespace: ns }, rs('db', 2, { app: 'db' }));
    await eventually('2 replicas', async () => ((await getStatus(c, ns, 'db')).replicas === 2 ? true : undefined));
    const adopted = await c.client.get({ ...podsResource, namespace: ns, name: 'orphan' });
    assert.equal(adopted.metadata.uid, orphan.metadata.uid);
    assert.deepEqual(adopted.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'db', uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    assert.equal((await listPods(c.client, ns)).length, 2);

    await c.client.patch({ ...podsResource, namespace: ns, name: 'orphan' }, { metadata: { labels: { app: 'debug' } } }, 'merge');
    await eventually('the pod released', async () => {
      const p = await c.client.get({ ...podsResource, namespace: ns, name: 'orphan' });
      return (p.metadata.ownerReferences ?? []).length === 0 ? true : undefined;
    });
    await eventually('a replacement', async () => ((await listPods(c.client, ns, 'app=db')).length === 2 ? true : undefined));
    assert.equal((await listPods(c.client, ns)).length, 3);
  });

  test('availableReplicas waits minReadySeconds after readiness', async () => {
    const ns = 'rs-minready';
    await createNamespace(c.client, ns);
    const nodes = new FakeNodes(c.client, ns);
    await nodes.start();
    try {
      await c.client.create({ ...replicaSets, namespace: ns }, rs('slow', 2, { app: 'slow' }, { minReadySeconds: 1 }));
      const s = await eventually('2 available', async () => {
        const st = await getStatus(c, ns, 'slow');
        return st.availableReplicas === 2 ? st : undefined;
      });
      assert.equal(s.readyReplicas, 2);
      for (const p of await listPods(c.client, ns)) {
        const readyAt = Date.parse((p.status as any).conditions.find((x: any) => x.type === 'Ready').lastTransitionTime);
        assert.ok(Date.now() >= readyAt + 1000);
      }
    } finally {
      nodes.stop();
    }
  });

  test('a ReplicationController (map selector) runs the same engine', async () => {
    const ns = 'rc-basic';
    await createNamespace(c.client, ns);
    const nodes = new FakeNodes(c.client, ns);
    await nodes.start();
    try {
      const rc = await c.client.create(
        { ...replicationControllers, namespace: ns },
        { apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'legacy' }, spec: { replicas: 2, selector: { app: 'legacy' }, template: podTemplate({ app: 'legacy' }) } },
      );
      const status = await eventually('2 ready', async () => {
        const st = (await c.client.get({ ...replicationControllers, namespace: ns, name: 'legacy' })).status as Record<string, any>;
        return st?.readyReplicas === 2 ? st : undefined;
      });
      assert.equal(status.replicas, 2);
      assert.equal(status.observedGeneration, 1);
      for (const p of await listPods(c.client, ns)) {
        assert.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'ReplicationController', name: 'legacy', uid: rc.metadata.uid, controller: true, blockOwnerDeletion: true }]);
      }
      await c.client.patch({ ...replicationControllers, namespace: ns, name: 'legacy' }, { spec: { replicas: 1 } }, 'merge');
      await eventually('1 pod', async () => ((await listPods(c.client, ns)).length === 1 ? true : undefined));
    } finally {
      nodes.stop();
    }
  });
});
