// The garbage collector: its decision table, then background, foreground and
// orphan deletion against an in-process API server (with the Deployment and
// ReplicaSet controllers for the workload cases).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../src/api/errors.js';
import type { KubeList, KubeObject, OwnerReference } from '../../src/api/object.js';
import { decide } from '../../src/controllers/garbagecollector/decide.js';
import { createNamespace, deployments, eventually, listPods, podTemplate, replicaSets, startCluster, type Cluster, podsPath as podsResource } from './workloads-harness.js';

const ref = (uid: string, block = false): OwnerReference => ({ apiVersion: 'v1', kind: 'ConfigMap', name: uid, uid, ...(block ? { blockOwnerDeletion: true } : {}) });

describe('attemptToDeleteItem decisions', () => {
  test('a solid owner keeps the object, dropping dangling and waiting references', () => {
    assert.deepEqual(decide({ solid: [ref('a')], dangling: [], waiting: [] }, [], false, false), { action: 'none' });
    assert.deepEqual(decide({ solid: [ref('a')], dangling: [ref('b')], waiting: [ref('c')] }, [], true, false), { action: 'removeRefs', uids: ['b', 'c'] });
  });
  test('an owner waiting for its dependents makes one with dependents go in the foreground', () => {
    assert.deepEqual(decide({ solid: [], dangling: [], waiting: [ref('a', true)] }, [], true, false), { action: 'delete', propagation: 'Foreground', unblockFirst: false });
    assert.deepEqual(decide({ solid: [], dangling: [], waiting: [ref('a', true)] }, [], true, true), { action: 'delete', propagation: 'Foreground', unblockFirst: true });
    assert.deepEqual(decide({ solid: [], dangling: [], waiting: [ref('a', true)] }, [], false, false), { action: 'delete', propagation: 'Background', unblockFirst: false });
  });
  test('no owner left: delete, honouring the finalizers the object already has', () => {
    assert.deepEqual(decide({ solid: [], dangling: [ref('a')], waiting: [] }, [], false, false), { action: 'delete', propagation: 'Background', unblockFirst: false });
    assert.deepEqual(decide({ solid: [], dangling: [ref('a')], waiting: [] }, ['orphan'], true, false), { action: 'delete', propagation: 'Orphan', unblockFirst: false });
    assert.deepEqual(decide({ solid: [], dangling: [ref('a')], waiting: [] }, ['foregroundDeletion'], true, false), { action: 'delete', propagation: 'Foreground', unblockFirst: false });
  });
});

const configMaps = { group: '', version: 'v1', plural: 'configmaps' };
const crds = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions' };
const widgets = { group: 'example.com', version: 'v1', plural: 'widgets' };

async function exists(c: Cluster, path: Record<string, unknown> & { group: string; version: string; plural: string }): Promise<KubeObject | undefined> {
  try {
    return await c.client.get(path);
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) return undefined;
    throw err;
  }
}

function ownerRef(obj: KubeObject, extra: Partial<OwnerReference> = {}): OwnerReference {
  return { apiVersion: obj.apiVersion!, kind: obj.kind!, name: obj.metadata.name!, uid: obj.metadata.uid!, ...extra };
}

function configMap(name: string, owners: OwnerReference[] = []): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(owners.length > 0 ? { ownerReferences: owners } : {}) }, data: { k: 'v' } };
}

function deployment(name: string, replicas: number): KubeObject {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name }, spec: { replicas, selector: { matchLabels: { app: name } }, template: podTemplate({ app: name }) } };
}

async function readyDeployment(c: Cluster, ns: string, name: string, replicas: number): Promise<{ d: KubeObject; rsNames: string[]; podNames: string[] }> {
  const d = await c.client.create({ ...deployments, namespace: ns }, deployment(name, replicas));
  const podNames = await eventually(`${replicas} pods of ${name}`, async () => {
    const l = await listPods(c.client, ns, `app=${name}`);
    return l.length === replicas ? l.map((p) => p.metadata.name!) : undefined;
  });
  const rsNames = (await c.client.list<KubeList>({ ...replicaSets, namespace: ns })).items.map((r) => r.metadata.name!);
  return { d, rsNames, podNames };
}

describe('garbage collector against the API server', () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster({ replicaSets: true, deployments: true, gc: true });
  });
  after(async () => {
    await c?.close();
  });

  test('it watches the kinds that can be owners and dependents, not events', () => {
    const watched = c.gc!.watchedResources();
    for (const r of ['/pods', 'apps/replicasets', 'apps/deployments', 'apps/statefulsets', 'apps/daemonsets', 'batch/jobs', 'batch/cronjobs', 'apps/controllerrevisions', '/configmaps', '/secrets', '/services', '/endpoints', 'discovery.k8s.io/endpointslices', '/persistentvolumeclaims']) {
      assert.ok(watched.includes(r), `${r} not watched`);
    }
    assert.ok(!watched.includes('/events') && !watched.includes('events.k8s.io/events'));
  });

  test('background: deleting a Deployment removes its ReplicaSets and pods', async () => {
    const ns = 'gc-background';
    await createNamespace(c.client, ns);
    const { rsNames } = await readyDeployment(c, ns, 'web', 3);
    assert.equal(rsNames.length, 1);
    await c.client.delete({ ...deployments, namespace: ns, name: 'web' }, { propagationPolicy: 'Background' });
    await eventually('ReplicaSets gone', async () => ((await c.client.list<KubeList>({ ...replicaSets, namespace: ns })).items.length === 0 ? true : undefined));
    await eventually('pods gone', async () => ((await listPods(c.client, ns)).length === 0 ? true : undefined));
  });

  test('foreground: the owner stays (foregroundDeletion) until its blocking dependents are gone', async () => {
    const ns = 'gc-foreground';
    await createNamespace(c.client, ns);
    const { rsNames, podNames } = await readyDeployment(c, ns, 'fg', 2);
    const gone: string[] = [];
    const watches = [deployments, replicaSets, podsResource].map((r) =>
      c.client.watch({ ...r, namespace: ns }, {}, (type, obj) => {
        if (type === 'DELETED') gone.push(`${obj.kind}/${obj.metadata.name}`);
      }),
    );
    try {
      const deleting = await c.client.delete({ ...deployments, namespace: ns, name: 'fg' }, { propagationPolicy: 'Foreground' });
      assert.ok(deleting.metadata.deletionTimestamp);
      assert.deepEqual(deleting.metadata.finalizers, ['foregroundDeletion']);
      await eventually('the deployment gone', async () => ((await exists(c, { ...deployments, namespace: ns, name: 'fg' })) ? undefined : true));
      await eventually('all deletions seen', () => (gone.length === 1 + rsNames.length + podNames.length ? true : undefined));
      // Dependents first: the pods, then their ReplicaSet, then the Deployment.
      assert.equal(gone[gone.length - 1], 'Deployment/fg');
      const rsAt = gone.indexOf(`ReplicaSet/${rsNames[0]}`);
      for (const p of podNames) assert.ok(gone.indexOf(`Pod/${p}`) < rsAt, `pod ${p} outlived its ReplicaSet: ${gone.join(', ')}`);
    } finally {
      for (const w of watches) w.stop();
    }
  });

  test('orphan: dependents lose the owner reference and stay', async () => {
    const ns = 'gc-orphan';
    await createNamespace(c.client, ns);
    const { rsNames, podNames } = await readyDeployment(c, ns, 'keep', 2);
    await c.client.delete({ ...deployments, namespace: ns, name: 'keep' }, { propagationPolicy: 'Orphan' });
    await eventually('the deployment gone', async () => ((await exists(c, { ...deployments, namespace: ns, name: 'keep' })) ? undefined : true));
    const rs = await eventually('the ReplicaSet orphaned', async () => {
      const r = await c.client.get({ ...replicaSets, namespace: ns, name: rsNames[0] });
      return (r.metadata.ownerReferences ?? []).length === 0 ? r : undefined;
    });
    assert.equal((rs.spec as { replicas: number }).replicas, 2);
    const left = await listPods(c.client, ns);
    assert.deepEqual(left.map((p) => p.metadata.name).sort(), [...podNames].sort());
    for (const p of left) assert.equal(p.metadata.ownerReferences?.[0]?.uid, rs.metadata.uid);
  });

  test('foreground and orphan work for any kind: config maps owning config maps', async () => {
    const ns = 'gc-configmaps';
    await createNamespace(c.client, ns);
    const cm = (name: string, owners: OwnerReference[] = []) => c.client.create({ ...configMaps, namespace: ns }, configMap(name, owners));
    const root = await cm('root');
    const child = await cm('child', [ownerRef(root, { blockOwnerDeletion: true })]);
    await cm('grandchild', [ownerRef(child, { blockOwnerDeletion: true })]);
    await c.client.delete({ ...configMaps, namespace: ns, name: 'root' }, { propagationPolicy: 'Foreground' });
    await eventually('the whole chain gone', async () => {
      for (const n of ['root', 'child', 'grandchild']) if (await exists(c, { ...configMaps, namespace: ns, name: n })) return undefined;
      return true;
    });

    const parent = await cm('parent');
    await cm('kid', [ownerRef(parent)]);
    const deleting = await c.client.delete({ ...configMaps, namespace: ns, name: 'parent' }, { propagationPolicy: 'Orphan' });
    assert.deepEqual(deleting.metadata.finalizers, ['orphan']);
    await eventually('the parent gone', async () => ((await exists(c, { ...configMaps, namespace: ns, name: 'parent' })) ? undefined : true));
    const kid = await eventually('the kid orphaned', async () => {
      const k = await c.client.get({ ...configMaps, namespace: ns, name: 'kid' });
      return k.metadata.ownerReferences === undefined ? k : undefined;
    });
    assert.equal(kid.metadata.name, 'kid');
  });

  test('a dependent whose owner never existed is deleted; a dangling reference beside a live owner is removed', async () => {
    const ns = 'gc-dangling';
    await createNamespace(c.client, ns);
    const ghost: OwnerReference = { apiVersion: 'v1', kind: 'ConfigMap', name: 'ghost', uid: '00000000-0000-0000-0000-000000000001' };
    await c.client.create({ ...configMaps, namespace: ns }, configMap('lonely', [ghost]));
    await eventually('lonely deleted', async () => ((await exists(c, { ...configMaps, namespace: ns, name: 'lonely' })) ? undefined : true));

    const live = await c.client.create({ ...configMaps, namespace: ns }, configMap('live'));
    await c.client.create({ ...configMaps, namespace: ns }, configMap('both', [ownerRef(live), ghost]));
    const both = await eventually('the dangling reference removed', async () => {
      const b = await c.client.get({ ...configMaps, namespace: ns, name: 'both' });
      return b.metadata.ownerReferences?.length === 1 ? b : undefined;
    });
    assert.equal(both.metadata.ownerReferences![0]!.uid, live.metadata.uid);
  });

  test('custom resources, found by discovery once their CRD is created, own and are owned', async () => {
    const ns = 'gc-custom';
    await createNamespace(c.client, ns);
    await c.client.create(crds, {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    });
    await eventually('widgets watched', () => (c.gc!.watchedResources().includes('example.com/widgets') ? true : undefined), 30_000);
    const widget = await eventually<KubeObject>('a widget', () => c.client.create({ ...widgets, namespace: ns }, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1' } }));
    await c.client.create({ ...configMaps, namespace: ns }, configMap('of-widget', [ownerRef(widget)]));
    const holder = await c.client.create({ ...configMaps, namespace: ns }, configMap('holder'));
    await c.client.create({ ...widgets, namespace: ns }, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w2', ownerReferences: [ownerRef(holder)] } });

    await c.client.delete({ ...widgets, namespace: ns, name: 'w1' });
    await eventually('the widget\'s config map gone', async () => ((await exists(c, { ...configMaps, namespace: ns, name: 'of-widget' })) ? undefined : true));
    await c.client.delete({ ...configMaps, namespace: ns, name: 'holder' });
    await eventually('the held widget gone', async () => ((await exists(c, { ...widgets, namespace: ns, name: 'w2' })) ? undefined : true));
  });
});
