// The Deployment controller: rolling-update arithmetic, proportional scaling,
// the pod-template-hash and conditions as pure functions, then rollouts
// against an in-process API server with the ReplicaSet controller and a fake
// node making pods Ready.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeList, KubeObject } from '../../src/api/object.js';
import { Informer } from '../../src/client/informer.js';
import {
  computeHash,
  equalIgnoreHash,
  maxSurge,
  maxUnavailable,
  planOldScaleDown,
  planScale,
  progressCheckAfterMs,
  resolveFenceposts,
  rollingNewReplicaSetTarget,
  rolloutStatus,
  safeEncodeString,
  scaledValue,
  setNewReplicaSetAnnotations,
  type Deployment,
  type ReplicaSet,
} from '../../src/controllers/deployment/util.js';
import { createNamespace, deployments, eventually, FakeNodes, imageOf, isReady, listPods, podTemplate, replicaSets, startCluster, type Cluster, podsPath as podsResource } from './workloads-harness.js';

const T0 = Date.parse('2024-05-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

function dep(replicas: number, surge: number | string = '25%', unavailable: number | string = '25%', extra: Partial<Deployment['spec']> = {}): Deployment {
  return {
    metadata: { name: 'web', namespace: 'ns', uid: 'd1', generation: 1 },
    spec: { replicas, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: surge, maxUnavailable: unavailable } }, progressDeadlineSeconds: 600, ...extra },
    status: {},
  };
}

function rs(name: string, replicas: number, available: number, opts: { created?: number; maxReplicas?: number; desired?: number; revision?: number } = {}): ReplicaSet {
  const annotations: Record<string, string> = {};
  if (opts.maxReplicas !== undefined) annotations['deployment.kubernetes.io/max-replicas'] = String(opts.maxReplicas);
  if (opts.desired !== undefined) annotations['deployment.kubernetes.io/desired-replicas'] = String(opts.desired);
  if (opts.revision !== undefined) annotations['deployment.kubernetes.io/revision'] = String(opts.revision);
  return {
    metadata: { name, uid: name, creationTimestamp: iso(opts.created ?? T0), annotations },
    spec: { replicas },
    status: { replicas, availableReplicas: available, readyReplicas: available },
  };
}

describe('rolling update arithmetic', () => {
  test('percentages round surge up and unavailability down; both zero makes unavailability 1', () => {
    assert.equal(scaledValue('25%', 10, true), 3);
    assert.equal(scaledValue('25%', 10, false), 2);
    assert.equal(scaledValue(4, 10, true), 4);
    assert.throws(() => scaledValue('25', 10, true), /string is not a percentage/);
    assert.deepEqual(resolveFenceposts('25%', '25%', 3), { surge: 1, unavailable: 0 });
    assert.deepEqual(resolveFenceposts('0%', '1%', 2), { surge: 0, unavailable: 1 });
    assert.deepEqual(resolveFenceposts(0, 0, 5), { surge: 0, unavailable: 1 });
    assert.equal(maxSurge(dep(10)), 3);
    assert.equal(maxUnavailable(dep(10)), 2);
    assert.equal(maxUnavailable(dep(2, 0, 5)), 2);
    assert.equal(maxUnavailable(dep(0)), 0);
    assert.equal(maxSurge({ ...dep(10), spec: { replicas: 10, strategy: { type: 'Recreate' } } }), 0);
  });

  test('the new replica set grows within maxSurge, old ones shrink while minAvailable holds', () => {
    const d = dep(10, 2, 2);
    const oldRS = rs('old', 10, 10, { created: T0 - 1000 });
    const newRS = rs('new', 0, 0);
    assert.equal(rollingNewReplicaSetTarget(d, [oldRS, newRS], newRS), 2);
    const grown = rs('new', 2, 0);
    assert.equal(rollingNewReplicaSetTarget(d, [oldRS, grown], grown), 2, 'surge exhausted: stays');
    const plan = planOldScaleDown(d, [oldRS, grown], [oldRS], grown);
    assert.deepEqual(plan.cleanup, []);
    assert.deepEqual(plan.scaleDown.map((s) => [s.rs.metadata.name, s.replicas]), [['old', 8]]);
    // New pods not available yet and old ones at minAvailable: nothing moves.
    const stuck = planOldScaleDown(d, [rs('old', 8, 8), rs('new', 4, 0)], [rs('old', 8, 8)], rs('new', 4, 0));
    assert.deepEqual(stuck, { cleanup: [], scaleDown: [] });
    // maxUnavailable 0: only what the new replica set made available goes.
    const d0 = dep(4, 1, 0);
    const p0 = planOldScaleDown(d0, [rs('old', 4, 4), rs('new', 1, 1)], [rs('old', 4, 4)], rs('new', 1, 1));
    assert.deepEqual(p0.scaleDown.map((s) => s.replicas), [3]);
  });

  test('unhealthy old replicas are cleaned up first', () => {
    const d = dep(10, 3, 2);
    const older = rs('older', 5, 2, { created: T0 - 2000 });
    const old = rs('old', 5, 5, { created: T0 - 1000 });
    const newRS = rs('new', 3, 0);
    const plan = planOldScaleDown(d, [older, old, newRS], [older, old], newRS);
    // maxScaledDown = 13 - 8 - 3 = 2: two of older's three unavailable replicas go.
    assert.deepEqual(plan.cleanup.map((s) => [s.rs.metadata.name, s.replicas]), [['older', 3]]);
    // Then available 2 + 5 + 0 = 7 is below minAvailable 8: no further scale down.
    assert.deepEqual(plan.scaleDown, []);
  });

  test('a scaling event mid-rollout is shared proportionally, the leftover to the largest', () => {
    const up = { ...dep(20, 3, 2) };
    const older = rs('old', 7, 7, { created: T0 - 1000, maxReplicas: 13, desired: 10 });
    const newer = rs('new', 6, 0, { created: T0, maxReplicas: 13, desired: 10 });
    const steps = planScale(up, newer, [older]);
    assert.deepEqual(steps.map((s) => [s.rs.metadata.name, s.replicas, s.operation]), [['old', 12, 'up'], ['new', 11, 'up']]);
    const down = dep(2, 3, 2);
    const stepsDown = planScale(down, newer, [older]);
    assert.deepEqual(stepsDown.map((s) => [s.rs.metadata.name, s.replicas, s.operation]), [['old', 3, 'down'], ['new', 2, 'down']]);
    // One active replica set simply takes the new size.
    assert.deepEqual(planScale(dep(5), rs('only', 3, 3), [rs('empty', 0, 0)]).map((s) => [s.rs.metadata.name, s.replicas]), [['only', 5]]);
    // A saturated new replica set: the old ones go to zero.
    const saturated = rs('new', 5, 5, { desired: 5 });
    assert.deepEqual(planScale(dep(5), saturated, [rs('old', 2, 2)]).map((s) => [s.rs.metadata.name, s.replicas]), [['old', 0]]);
  });
});

describe('hash, revisions, conditions', () => {
  test('the pod-template-hash is stable, ignores spelling of zero values, and moves with collisionCount', () => {
    const t = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } };
    const h = computeHash(t);
    assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
    assert.equal(computeHash(JSON.parse(JSON.stringify(t))), h);
    assert.equal(computeHash({ ...t, spec: { ...t.spec, volumes: [], hostNetwork: false } }), h);
    assert.notEqual(computeHash({ ...t, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } }), h);
    assert.notEqual(computeHash(t, 1), h);
    assert.notEqual(computeHash(t, 1), computeHash(t, 2));
    assert.equal(safeEncodeString('0123'), '4567');
    assert.equal(equalIgnoreHash({ ...t, metadata: { labels: { app: 'web', 'pod-template-hash': 'abc' } } }, t), true);
    assert.equal(equalIgnoreHash({ ...t, metadata: { labels: { app: 'api' } } }, t), false);
  });

  test('a replica set brought back into use gets the next revision and keeps its old one in revision-history', () => {
    const d = dep(3);
    d.metadata.annotations = { 'kubernetes.io/change-cause': 'undo', 'deployment.kubernetes.io/revision': '2' };
    const back = rs('old', 0, 0, { revision: 1 });
    assert.equal(setNewReplicaSetAnnotations(d, back, '3', true), true);
    assert.equal(back.metadata.annotations!['deployment.kubernetes.io/revision'], '3');
    assert.equal(back.metadata.annotations!['deployment.kubernetes.io/revision-history'], '1');
    assert.equal(back.metadata.annotations!['kubernetes.io/change-cause'], 'undo');
    setNewReplicaSetAnnotations(d, back, '5', true);
    assert.equal(back.metadata.annotations!['deployment.kubernetes.io/revision-history'], '1,3');
    const fresh = rs('fresh', 0, 0);
    setNewReplicaSetAnnotations(d, fresh, '1', false);
    assert.deepEqual(fresh.metadata.annotations, {
      'kubernetes.io/change-cause': 'undo',
      'deployment.kubernetes.io/revision': '1',
      'deployment.kubernetes.io/desired-replicas': '3',
      'deployment.kubernetes.io/max-replicas': '4',
    });
  });

  test('rollout status: progressing, complete, timed out', () => {
    const d = dep(2, 1, 1);
    d.status = { conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: 'Created new replica set "web-abc"', lastUpdateTime: iso(T0), lastTransitionTime: iso(T0) }] };
    const newRS = rs('web-abc', 2, 1);
    const s1 = rolloutStatus([newRS], newRS, d, T0 + 5000);
    assert.equal(s1.updatedReplicas, 2);
    assert.equal(s1.unavailableReplicas, 1);
    const prog = s1.conditions!.find((c) => c.type === 'Progressing')!;
    assert.deepEqual([prog.status, prog.reason, prog.message, prog.lastUpdateTime, prog.lastTransitionTime], ['True', 'ReplicaSetUpdated', 'ReplicaSet "web-abc" is progressing.', iso(T0 + 5000), iso(T0)]);
    const avail = s1.conditions!.find((c) => c.type === 'Available')!;
    assert.deepEqual([avail.status, avail.reason, avail.message], ['True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.']);

    const done = rs('web-abc', 2, 2);
    const s2 = rolloutStatus([done], done, { ...d, status: s1 }, T0 + 9000);
    const complete = s2.conditions!.find((c) => c.type === 'Progressing')!;
    assert.deepEqual([complete.status, complete.reason, complete.message], ['True', 'NewReplicaSetAvailable', 'ReplicaSet "web-abc" has successfully progressed.']);
    assert.equal(s2.unavailableReplicas, undefined);
    assert.equal(progressCheckAfterMs({ ...d, status: s2 }, s2, T0 + 9000), -1);

    const short = { ...dep(2, 1, 1, { progressDeadlineSeconds: 10 }), status: s1 };
    const stalled = rs('web-abc', 2, 1);
    assert.equal(progressCheckAfterMs(short, rolloutStatus([stalled], stalled, short, T0 + 6000), T0 + 6000), 10_000 - 1000 + 1000);
    const s3 = rolloutStatus([stalled], stalled, short, T0 + 16_000);
    const timedOut = s3.conditions!.find((c) => c.type === 'Progressing')!;
    assert.deepEqual([timedOut.status, timedOut.reason, timedOut.message], ['False', 'ProgressDeadlineExceeded', 'ReplicaSet "web-abc" has timed out progressing.']);
    const none = rs('web-abc', 2, 0);
    const s4 = rolloutStatus([none], none, { ...dep(2, 0, 0), status: {} }, T0);
    assert.equal(s4.conditions!.find((c) => c.type === 'Available')!.reason, 'MinimumReplicasUnavailable');
  });
});

// ---------------------------------------------------------------- against the API server

function deployment(name: string, replicas: number, extra: Record<string, unknown> = {}, image = 'nginx:1.25'): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: podTemplate({ app: name }, image), ...extra },
  };
}

async function getDeployment(c: Cluster, ns: string, name: string): Promise<Record<string, any>> {
  return (await c.client.get({ ...deployments, namespace: ns, name })) as Record<string, any>;
}

async function ownedReplicaSets(c: Cluster, ns: string, uid: string): Promise<Record<string, any>[]> {
  const list = (await c.client.list<KubeList>({ ...replicaSets, namespace: ns })).items;
  return list.filter((r) => (r.metadata.ownerReferences ?? []).some((o) => o.uid === uid && o.controller)) as Record<string, any>[];
}

/** kubectl rollout status's test (DeploymentStatusViewer). */
function rolledOut(d: Record<string, any>): boolean {
  const s = d.status ?? {};
  if ((d.metadata.generation ?? 0) > (s.observedGeneration ?? 0)) return false;
  if ((s.updatedReplicas ?? 0) < d.spec.replicas) return false;
  if ((s.replicas ?? 0) > (s.updatedReplicas ?? 0)) return false;
  return (s.availableReplicas ?? 0) >= (s.updatedReplicas ?? 0);
}

async function waitRolledOut(c: Cluster, ns: string, name: string): Promise<Record<string, any>> {
  return eventually(`deployment ${name} rolled out`, async () => {
    const d = await getDeployment(c, ns, name);
    return rolledOut(d) ? d : undefined;
  }, 60_000);
}

function condition(d: Record<string, any>, type: string): Record<string, any> | undefined {
  return (d.status?.conditions ?? []).find((x: any) => x.type === type);
}

/** What `kubectl rollout undo` does: the template of the previous revision's replica set, patched back. */
async function rolloutUndo(c: Cluster, ns: string, name: string): Promise<void> {
  const d = await getDeployment(c, ns, name);
  const owned = await ownedReplicaSets(c, ns, d.metadata.uid);
  const byRevision = owned.map((r) => ({ r, rev: Number(r.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0) })).sort((a, b) => b.rev - a.rev);
  const previous = byRevision[1]!.r;
  const template = JSON.parse(JSON.stringify(previous.spec.template));
  delete template.metadata.labels['pod-template-hash'];
  const skip = ['kubectl.kubernetes.io/last-applied-configuration', 'deployment.kubernetes.io/revision', 'deployment.kubernetes.io/revision-history', 'deployment.kubernetes.io/desired-replicas', 'deployment.kubernetes.io/max-replicas', 'deprecated.deployment.rollback.to'];
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries((d.metadata.annotations ?? {}) as Record<string, string>)) if (skip.includes(k)) annotations[k] = v;
  for (const [k, v] of Object.entries((previous.metadata.annotations ?? {}) as Record<string, string>)) if (!skip.includes(k)) annotations[k] = v;
  await c.client.patch({ ...deployments, namespace: ns, name }, [
    { op: 'replace', path: '/spec/template', value: template },
    { op: 'replace', path: '/metadata/annotations', value: annotations },
  ], 'json');
}

describe('Deployment controller against the API server', () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster({ replicaSets: true, deployments: true, gc: true });
  });
  after(async () => {
    await c?.close();
  });

  test('rolls out: a <name>-<hash> ReplicaSet with revision annotations, status and conditions', async () => {
    const ns = 'deploy-create';
    await createNamespace(c.client, ns);
    const nodes = new FakeNodes(c.client, ns);
    await nodes.start();
    try {
      const created = await c.client.create({ ...deployments, namespace: ns }, deployment('web', 3));
      const d = await waitRolledOut(c, ns, 'web');
      assert.deepEqual(
        { ...d.status, conditions: undefined },
        { observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, conditions: undefined },
      );
      assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '1');
      const available = condition(d, 'Available')!;
      assert.deepEqual([available.status, available.reason, available.message], ['True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.']);
      const owned = await ownedReplicaSets(c, ns, created.metadata.uid!);
      assert.equal(owned.length, 1);
      const r = owned[0]!;
      const hash = r.metadata.labels['pod-template-hash'];
      assert.equal(r.metadata.name, `web-${hash}`);
      assert.deepEqual(r.spec.selector.matchLabels, { app: 'web', 'pod-template-hash': hash });
      assert.deepEqual(r.spec.template.metadata.labels, { app: 'web', 'pod-template-hash': hash });
      assert.deepEqual(r.metadata.annotations, { 'deployment.kubernetes.io/revision': '1', 'deployment.kubernetes.io/desired-replicas': '3', 'deployment.kubernetes.io/max-replicas': '4' });
      assert.deepEqual(r.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: created.metadata.uid, controller: true, blockOwnerDeletion: true }]);
      const progressing = await eventually('NewReplicaSetAvailable', async () => {
        const p = condition(await getDeployment(c, ns, 'web'), 'Progressing');
        return p?.reason === 'NewReplicaSetAvailable' ? p : undefined;
      });
      assert.equal(progressing.message, `ReplicaSet "web-${hash}" has successfully progressed.`);
      const events = (await c.client.list({ group: '', version: 'v1', plural: 'events', namespace: ns })).items;
      assert.ok(events.some((e) => e.reason === 'ScalingReplicaSet' && e.message === `Scaled up replica set web-${hash} to 3`));
    } finally {
      nodes.stop();
    }
  });

  test('minReadySeconds reaches the ReplicaSet, and changing it updates the ReplicaSet in place', async () => {
    const ns = 'deploy-minready';
    await createNamespace(c.client, ns);
    const nodes = new FakeNodes(c.client, ns);
    await nodes.start();
    try {
      const created = await c.client.create({ ...deployments, namespace: ns }, deployment('mr', 2, { minReadySeconds: 1 }));
      const d = await waitRolledOut(c, ns, 'mr');
      assert.equal(d.status.availableReplicas, 2);
      const [r] = await ownedReplicaSets(c, ns, created.metadata.uid!);
      assert.equal(r!.spec.minReadySeconds, 1);
      await c.client.patch({ ...deployments, namespace: ns, name: 'mr' }, { spec: { minReadySeconds: 0 } }, 'merge');
      await eventually('the ReplicaSet updated', async () => {
        const o = await ownedReplicaSets(c, ns, created.metadata.uid!);
        return o.length === 1 && (o[0]!.spec.minReadySeconds ?? 0) === 0 && o[0]!.metadata.uid === r!.metadata.uid ? true : undefined;
      });
    } finally {
      nodes.stop();
    }
  });

  test('scales 3 -> 10 -> 2', async () => {
    const ns = 'deploy-scale';
    await createNamespace(c.client, ns);
    const nodes = new FakeNodes(c.client, ns);
    await nodes.start();
    try {
      await c.client.create({ ...deployments, namespace: ns }, deployment('api', 3));
      await waitRolledOut(c, ns, 'api');
      for (const n of [10, 2]) {
        await c.client.patch({ ...deployments, namespace: ns, name: 'api', subresource: 'scale' }, { spec: { replicas: n } }, 'merge');
        // Rolled out, as kubectl rollout status says, holds while a scale-down still has pods to remove
        // (status.replicas above spec.replicas with every replica updated), so wait for the count too.
        const d = await eventually(`deployment api at ${n} replicas`, async () => {
          const got = await waitRolledOut(c, ns, 'api');
          return got.status.replicas === n ? got : undefined;
        }, 60_000);
        assert.equal(d.status.availableReplicas, n);
        await eventually(`${n} pods`, async () => ((await listPods(c.client, ns)).length === n ? true : undefined));
        const owned = await ownedReplicaSets(c, ns, d.metadata.uid);
        assert.equal(owned.length, 1);
        assert.equal(owned[0]!.spec.replicas, n);
        assert.equal(owned[0]!.metadata.annotations['deployment.kubernetes.io/desired-replicas'], String(n));
      }
    } finally {
      nodes.stop();
    }
  });

  test('an image update with maxUnavailable 0 never has fewer ready pods than replicas, then rolls back', async () => {
    const ns = 'deploy-rolling';
    await createNamespace(c.client, ns);
    const nodes = new FakeNodes(c.client, ns);
    await nodes.start();
    const replicas = 4;
    try {
      await c.client.create({ ...deployments, namespace: ns }, deployment('shop', replicas, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }, 'shop:1'));
      await waitRolledOut(c, ns, 'shop');

      // Watch the pods as a node would see them: the ready count must never drop below replicas.
      const watcher = new Informer(c.client, { ...podsResource, namespace: ns });
      let minReady = Infinity;
      let maxPods = 0;
      const count = () => {
        const live = watcher.list().filter((p) => !p.metadata.deletionTimestamp);
        minReady = Math.min(minReady, live.filter(isReady).length);
        maxPods = Math.max(maxPods, live.length);
      };
      watcher.on({ add: count, update: count, delete: count });
      await watcher.start();
      minReady = Infinity;
      count();
      assert.equal(minReady, replicas);
      try {
        await c.client.patch({ ...deployments, namespace: ns, name: 'shop' }, { spec: { template: { spec: { containers: [{ name: 'main', image: 'shop:2' }] } } } }, 'strategic');
        const d = await waitRolledOut(c, ns, 'shop');
        assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '2');
        await eventually('only new pods', async () => {
          const l = await listPods(c.client, ns);
          return l.length === replicas && l.every((p) => imageOf(p) === 'shop:2') ? true : undefined;
        });
        assert.ok(minReady >= replicas, `ready pods dropped to ${minReady}`);
        assert.ok(maxPods <= replicas + 1, `maxSurge exceeded: ${maxPods} pods`);

        const owned = await ownedReplicaSets(c, ns, d.metadata.uid);
        assert.equal(owned.length, 2);
        const oldRS = owned.find((r) => imageOf(r as KubeObject) === 'shop:1')!;
        assert.equal(oldRS.spec.replicas, 0);
        assert.equal(oldRS.metadata.annotations['deployment.kubernetes.io/revision'], '1');

        // kubectl rollout undo: the previous revision's template comes back; its ReplicaSet is reused as revision 3.
        await rolloutUndo(c, ns, 'shop');
        const back = await eventually('rolled back', async () => {
          const x = await getDeployment(c, ns, 'shop');
          return rolledOut(x) && x.metadata.annotations['deployment.kubernetes.io/revision'] === '3' ? x : undefined;
        }, 60_000);
        assert.equal(imageOf(back as KubeObject), 'shop:1');
        const after = await ownedReplicaSets(c, ns, back.metadata.uid);
        assert.equal(after.length, 2);
        const reused = after.find((r) => r.metadata.uid === oldRS.metadata.uid)!;
        assert.equal(reused.metadata.annotations['deployment.kubernetes.io/revision'], '3');
        assert.equal(reused.metadata.annotations['deployment.kubernetes.io/revision-history'], '1');
        assert.equal(reused.spec.replicas, replicas);
        await eventually('old pods back', async () => {
          const l = await listPods(c.client, ns);
          return l.length === replicas && l.every((p) => imageOf(p) === 'shop:1') ? true : undefined;
        });
        assert.ok(minReady >= replicas, `ready pods dropped to ${minReady} during the rollback`);
      } finally {
        watcher.stop();
      }
    } finally {
      nodes.stop();
    }
  });

  test('pause holds a template change back (DeploymentPaused); resume rolls it out', async () => {
    const ns = 'deploy-pause';
    await createNamespace(c.client, ns);
    const nodes = new FakeNodes(c.client, ns);
    await nodes.start();
    try {
      const created = await c.client.create({ ...deployments, namespace: ns }, deployment('cart', 2));
      await waitRolledOut(c, ns, 'cart');
      await c.client.patch({ ...deployments, namespace: ns, name: 'cart' }, { spec: { paused: true } }, 'merge');
      const paused = await eventually('DeploymentPaused', async () => {
        const d = await getDeployment(c, ns, 'cart');
        const p = condition(d, 'Progressing');
        return p?.reason === 'DeploymentPaused' ? p : undefined;
      });
      assert.deepEqual([paused.status, paused.message], ['Unknown', 'Deployment is paused']);
      await c.client.patch({ ...deployments, namespace: ns, name: 'cart' }, { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-05-01T12:00:00Z' } } } } }, 'strategic');
      const observed = await eventually('the change observed', async () => {
        const d = await getDeployment(c, ns, 'cart');
        return d.status.observedGeneration === d.metadata.generation ? d : undefined;
      });
      assert.equal(observed.metadata.annotations['deployment.kubernetes.io/revision'], '1');
      assert.equal((await ownedReplicaSets(c, ns, created.metadata.uid!)).length, 1, 'no new ReplicaSet while paused');

      await c.client.patch({ ...deployments, namespace: ns, name: 'cart' }, { spec: { paused: null } }, 'merge');
      const d = await eventually('rolled out after resume', async () => {
        const x = await getDeployment(c, ns, 'cart');
        return rolledOut(x) && x.metadata.annotations['deployment.kubernetes.io/revision'] === '2' ? x : undefined;
      }, 60_000);
      const owned = await ownedReplicaSets(c, ns, d.metadata.uid);
      assert.equal(owned.length, 2);
      assert.ok(owned.some((r) => r.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'] === '2024-05-01T12:00:00Z' && r.spec.replicas === 2));
      await eventually('NewReplicaSetAvailable', async () => (condition(await getDeployment(c, ns, 'cart'), 'Progressing')?.reason === 'NewReplicaSetAvailable' ? true : undefined));
    } finally {
      nodes.stop();
    }
  });

  test('a rollout that makes no progress reports ProgressDeadlineExceeded', async () => {
    const ns = 'deploy-deadline';
    await createNamespace(c.client, ns);
    const nodes = new FakeNodes(c.client, ns, (p) => imageOf(p) !== 'broken:1');
    await nodes.start();
    try {
      await c.client.create({ ...deployments, namespace: ns }, deployment('stuck', 2, { progressDeadlineSeconds: 1 }, 'broken:1'));
      const p = await eventually('ProgressDeadlineExceeded', async () => {
        const x = condition(await getDeployment(c, ns, 'stuck'), 'Progressing');
        return x?.reason === 'ProgressDeadlineExceeded' ? x : undefined;
      }, 30_000);
      const d = await getDeployment(c, ns, 'stuck');
      const hash = (await ownedReplicaSets(c, ns, d.metadata.uid))[0]!.metadata.labels['pod-template-hash'];
      assert.deepEqual([p.status, p.message], ['False', `ReplicaSet "stuck-${hash}" has timed out progressing.`]);
      const a = condition(d, 'Available')!;
      assert.deepEqual([a.status, a.reason, a.message], ['False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.']);
      assert.equal(d.status.unavailableReplicas, 2);
    } finally {
      nodes.stop();
    }
  });

  test('Recreate scales the old ReplicaSet to zero before the new one starts; revisionHistoryLimit prunes', async () => {
    const ns = 'deploy-recreate';
    await createNamespace(c.client, ns);
    const nodes = new FakeNodes(c.client, ns);
    await nodes.start();
    const watcher = new Informer(c.client, { ...podsResource, namespace: ns });
    let mixed = false;
    const check = () => {
      const images = new Set(watcher.list().filter((p) => !p.metadata.deletionTimestamp).map(imageOf));
      if (images.size > 1) mixed = true;
    };
    watcher.on({ add: check, update: check, delete: check });
    await watcher.start();
    try {
      const created = await c.client.create({ ...deployments, namespace: ns }, deployment('batch', 2, { strategy: { type: 'Recreate' }, revisionHistoryLimit: 1 }, 'batch:1'));
      await waitRolledOut(c, ns, 'batch');
      for (const v of [2, 3]) {
        await c.client.patch({ ...deployments, namespace: ns, name: 'batch' }, { spec: { template: { spec: { containers: [{ name: 'main', image: `batch:${v}` }] } } } }, 'strategic');
        await eventually(`revision ${v} rolled out`, async () => {
          const x = await getDeployment(c, ns, 'batch');
          return rolledOut(x) && x.metadata.annotations['deployment.kubernetes.io/revision'] === String(v) ? x : undefined;
        }, 60_000);
      }
      assert.equal(mixed, false, 'old and new pods ran at once');
      const owned = await eventually('history pruned to 1 old ReplicaSet', async () => {
        const o = await ownedReplicaSets(c, ns, created.metadata.uid!);
        return o.length === 2 ? o : undefined;
      });
      assert.deepEqual(owned.map((r) => imageOf(r as KubeObject)).sort(), ['batch:2', 'batch:3']);
    } finally {
      watcher.stop();
      nodes.stop();
    }
  });

  test('a name taken by another template bumps collisionCount and the hash', async () => {
    const ns = 'deploy-collision';
    await createNamespace(c.client, ns);
    const created = await c.client.create({ ...deployments, namespace: ns }, deployment('dup', 1, { paused: true }));
    const hash = computeHash((created.spec as Deployment['spec']).template);
    // Squatting on <name>-<hash>, with labels the deployment does not select (so it is not adopted).
    await c.client.create({ ...replicaSets, namespace: ns }, {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: `dup-${hash}`, labels: { app: 'other' } },
      spec: { replicas: 0, selector: { matchLabels: { app: 'other' } }, template: podTemplate({ app: 'other' }) },
    });
    await c.client.patch({ ...deployments, namespace: ns, name: 'dup' }, { spec: { paused: null } }, 'merge');
    const d = await eventually('collisionCount 1 and a rollout', async () => {
      const x = await getDeployment(c, ns, 'dup');
      return x.status.collisionCount === 1 && x.status.updatedReplicas === 1 ? x : undefined;
    });
    const owned = await ownedReplicaSets(c, ns, d.metadata.uid);
    assert.equal(owned.length, 1);
    assert.equal(owned[0]!.metadata.name, `dup-${computeHash((created.spec as Deployment['spec']).template, 1)}`);
  });

  test('scaling mid-rollout shares the new size among the ReplicaSets proportionally', async () => {
    const ns = 'deploy-proportional';
    await createNamespace(c.client, ns);
    // New pods never become ready: the rollout stays in the middle.
    const nodes = new FakeNodes(c.client, ns, (p) => imageOf(p) !== 'app:2');
    await nodes.start();
    try {
      await c.client.create({ ...deployments, namespace: ns }, deployment('prop', 10, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } } }, 'app:1'));
      const d1 = await waitRolledOut(c, ns, 'prop');
      await c.client.patch({ ...deployments, namespace: ns, name: 'prop' }, { spec: { template: { spec: { containers: [{ name: 'main', image: 'app:2' }] } } } }, 'strategic');
      // 10 replicas, surge 3, unavailable 2: old 8 + new 5 once nothing more can move.
      const mid = await eventually('the rollout stuck at 8 + 5', async () => {
        const o = await ownedReplicaSets(c, ns, d1.metadata.uid);
        const sizes = o.map((r) => [imageOf(r as KubeObject), r.spec.replicas]).sort();
        return JSON.stringify(sizes) === JSON.stringify([['app:1', 8], ['app:2', 5]]) ? o : undefined;
      });
      assert.equal(mid.length, 2);
      await c.client.patch({ ...deployments, namespace: ns, name: 'prop', subresource: 'scale' }, { spec: { replicas: 20 } }, 'merge');
      // Allowed 20 + 3 = 23, so 10 to add, in proportion to max-replicas 13: the larger old one first,
      // round(8 * 23 / 13) = 14 (+6), then the new one round(5 * 23 / 13) = 9 (+4).
      await eventually('proportional scale-up', async () => {
        const o = await ownedReplicaSets(c, ns, d1.metadata.uid);
        const sizes = o.map((r) => [imageOf(r as KubeObject), r.spec.replicas, r.metadata.annotations['deployment.kubernetes.io/desired-replicas']]).sort();
        return JSON.stringify(sizes) === JSON.stringify([['app:1', 14, '20'], ['app:2', 9, '20']]) ? true : undefined;
      });
    } finally {
      nodes.stop();
    }
  });
});
