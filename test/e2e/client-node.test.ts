// The real npm client @kubernetes/client-node against `nami server`: typed
// CoreV1Api list calls, the Watch class, an informer (makeInformer), and
// service account tokens (TokenRequest, TokenReview, a client that holds
// only a token).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthenticationV1Api, CoreV1Api, KubeConfig, makeInformer, Watch, type V1ConfigMap } from '@kubernetes/client-node';
import { eventually, startNami, type RunningNami } from './harness.js';

let nami: RunningNami;
let kc: KubeConfig;
let core: CoreV1Api;
/** Closers for watches and informers still open; run before the server stops. */
const closers: (() => Promise<void> | void)[] = [];

before(async () => {
  nami = await startNami();
  kc = new KubeConfig();
  kc.loadFromFile(nami.kubeconfig);
  core = kc.makeApiClient(CoreV1Api);
});
after(async () => {
  for (const close of closers.splice(0)) await close();
  await nami?.stop();
});

async function namespace(name: string): Promise<string> {
  await core.createNamespace({ body: { metadata: { name } } });
  return name;
}

function configMap(name: string, data: Record<string, string>, labels: Record<string, string> = {}): V1ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data };
}

/** Every namespace has the cluster's kube-root-ca.crt, as in Kubernetes: the tests' own ConfigMaps are the rest. */
const ours = (name: string) => name !== 'kube-root-ca.crt';
const names = (items: readonly V1ConfigMap[]) => items.map((i) => i.metadata?.name ?? '').filter(ours).sort();

describe('CoreV1Api list', () => {
  let ns: string;
  before(async () => {
    ns = await namespace('cn-list');
    await core.createNamespacedConfigMap({ namespace: ns, body: configMap('alpha', { k: 'a' }, { tier: 'web' }) });
    await core.createNamespacedConfigMap({ namespace: ns, body: configMap('beta', { k: 'b' }, { tier: 'web' }) });
    await core.createNamespacedConfigMap({ namespace: ns, body: configMap('gamma', { k: 'c' }, { tier: 'db' }) });
  });

  test('lists the ConfigMaps created in the namespace, with their data', async () => {
    const list = await core.listNamespacedConfigMap({ namespace: ns });
    assert.deepEqual(names(list.items), ['alpha', 'beta', 'gamma']);
    const beta = list.items.find((i) => i.metadata?.name === 'beta');
    assert.deepEqual(beta?.data, { k: 'b' });
    assert.equal(beta?.metadata?.namespace, ns);
    assert.ok(beta?.metadata?.uid, 'items carry a uid');
    const created = beta?.metadata?.creationTimestamp;
    assert.ok(created instanceof Date && !Number.isNaN(created.getTime()), `creationTimestamp parses as a date (got ${String(created)})`);
    assert.match(list.metadata?.resourceVersion ?? '', /^\d+$/, 'the list carries a resourceVersion to watch from');
  });

  test('labelSelector narrows the list (equality, inequality and set-based)', async () => {
    assert.deepEqual(names((await core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'tier=web' })).items), ['alpha', 'beta']);
    assert.deepEqual(names((await core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'tier!=web' })).items), ['gamma']);
    assert.deepEqual(names((await core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'tier in (db,cache)' })).items), ['gamma']);
    assert.deepEqual((await core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'tier=none' })).items, []);
  });

  test('a list in another namespace does not see these objects', async () => {
    const other = await namespace('cn-list-other');
    // Only what the cluster puts in every namespace (kube-root-ca.crt), none of these.
    assert.deepEqual(names((await core.listNamespacedConfigMap({ namespace: other })).items), []);
  });
});

interface SeenEvent {
  type: string;
  name: string;
  resourceVersion: string;
  kind: string | undefined;
  data: Record<string, string> | undefined;
}

describe('Watch', () => {
  let ns: string;
  before(async () => {
    ns = await namespace('cn-watch');
  });

  /** Starts a watch on the namespace's configmaps; the returned stop aborts it. */
  async function watchConfigMaps(query: Record<string, string>) {
    const events: SeenEvent[] = [];
    let done: { err: unknown } | undefined;
    let stopping = false;
    const controller = await new Watch(kc).watch(
      `/api/v1/namespaces/${ns}/configmaps`,
      query,
      (type, obj: V1ConfigMap) => {
        if (ours(obj.metadata?.name ?? '')) events.push({ type, name: obj.metadata?.name ?? '', resourceVersion: obj.metadata?.resourceVersion ?? '', kind: obj.kind, data: obj.data });
      },
      (err) => {
        if (!stopping) done = { err };
      },
    );
    const stop = () => {
      stopping = true;
      controller.abort();
    };
    closers.push(stop);
    return { events, stop, ended: () => done };
  }

  test('delivers ADDED, MODIFIED, DELETED for an object, in order', async () => {
    const start = await core.listNamespacedConfigMap({ namespace: ns });
    const w = await watchConfigMaps({ resourceVersion: start.metadata!.resourceVersion! });

    const created = await core.createNamespacedConfigMap({ namespace: ns, body: configMap('watched', { v: '1' }) });
    await eventually('ADDED for watched', () => (w.events.some((e) => e.name === 'watched') ? true : undefined));
    const current = await core.readNamespacedConfigMap({ name: 'watched', namespace: ns });
    current.data = { v: '2' };
    const replaced = await core.replaceNamespacedConfigMap({ name: 'watched', namespace: ns, body: current });
    await core.deleteNamespacedConfigMap({ name: 'watched', namespace: ns });

    const seen = await eventually('three events for watched', () => {
      const mine = w.events.filter((e) => e.name === 'watched');
      return mine.length >= 3 ? mine : undefined;
    });
    assert.deepEqual(
      seen.map((e) => e.type),
      ['ADDED', 'MODIFIED', 'DELETED'],
    );
    assert.equal(seen[0]!.resourceVersion, created.metadata!.resourceVersion, 'ADDED carries the created object');
    assert.deepEqual(seen[0]!.data, { v: '1' });
    assert.equal(seen[1]!.resourceVersion, replaced.metadata!.resourceVersion, 'MODIFIED carries the replaced object');
    assert.deepEqual(seen[1]!.data, { v: '2' });
    assert.ok(Number(seen[2]!.resourceVersion) > Number(seen[1]!.resourceVersion), 'DELETED comes at a later resourceVersion');
    for (const e of seen) assert.equal(e.kind, 'ConfigMap', `${e.type} event object has kind ConfigMap`);
    assert.equal(w.ended(), undefined, 'the watch stayed open');
    w.stop();
  });

  test('without a resourceVersion, existing objects arrive as ADDED first', async () => {
    await core.createNamespacedConfigMap({ namespace: ns, body: configMap('existing', { v: '1' }) });
    const w = await watchConfigMaps({});
    await eventually('ADDED for existing', () => (w.events.some((e) => e.name === 'existing') ? true : undefined));
    await core.createNamespacedConfigMap({ namespace: ns, body: configMap('later', { v: '1' }) });
    await eventually('ADDED for later', () => (w.events.some((e) => e.name === 'later') ? true : undefined));
    assert.deepEqual(
      w.events.map((e) => `${e.type} ${e.name}`),
      ['ADDED existing', 'ADDED later'],
    );
    w.stop();
  });

  test('a labelSelector watch sees only matching objects, and an object that stops matching leaves as DELETED', async () => {
    const start = await core.listNamespacedConfigMap({ namespace: ns });
    const w = await watchConfigMaps({ resourceVersion: start.metadata!.resourceVersion!, labelSelector: 'pick=yes' });
    await core.createNamespacedConfigMap({ namespace: ns, body: configMap('skipped', { v: '1' }, { pick: 'no' }) });
    await core.createNamespacedConfigMap({ namespace: ns, body: configMap('picked', { v: '1' }, { pick: 'yes' }) });
    await eventually('ADDED for picked', () => (w.events.some((e) => e.name === 'picked') ? true : undefined));
    const picked = await core.readNamespacedConfigMap({ name: 'picked', namespace: ns });
    picked.metadata!.labels = { pick: 'no' };
    await core.replaceNamespacedConfigMap({ name: 'picked', namespace: ns, body: picked });
    await eventually('picked to leave', () => (w.events.length >= 2 ? true : undefined));
    assert.deepEqual(
      w.events.map((e) => `${e.type} ${e.name}`),
      ['ADDED picked', 'DELETED picked'],
    );
    w.stop();
  });
});

describe('informer (makeInformer)', () => {
  let ns: string;
  before(async () => {
    ns = await namespace('cn-informer');
    await core.createNamespacedConfigMap({ namespace: ns, body: configMap('pre', { v: '1' }) });
  });

  test('its cache and add/update/delete handlers follow the namespace', async () => {
    const informer = makeInformer<V1ConfigMap>(kc, `/api/v1/namespaces/${ns}/configmaps`, () => core.listNamespacedConfigMap({ namespace: ns }));
    const added: string[] = [];
    const updated: { name: string; data: Record<string, string> | undefined }[] = [];
    const deleted: string[] = [];
    const errors: unknown[] = [];
    informer.on('add', (obj) => {
      if (ours(obj.metadata?.name ?? '')) added.push(obj.metadata?.name ?? '');
    });
    informer.on('update', (obj) => updated.push({ name: obj.metadata?.name ?? '', data: obj.data }));
    informer.on('delete', (obj) => deleted.push(obj.metadata?.name ?? ''));
    informer.on('error', (err) => errors.push(err));
    let stopped = false;
    const stop = async () => {
      if (!stopped) {
        stopped = true;
        await informer.stop();
      }
    };
    closers.push(stop);

    await informer.start();
    // The initial list fills the cache and fires 'add' for what already exists.
    await eventually('pre in the cache', () => (informer.get('pre', ns) ? true : undefined));
    assert.deepEqual(names(informer.list(ns)), ['pre']);
    assert.deepEqual(added, ['pre']);

    await core.createNamespacedConfigMap({ namespace: ns, body: configMap('fresh', { v: '1' }) });
    await eventually('fresh in the cache', () => (informer.get('fresh', ns) ? true : undefined));
    assert.deepEqual(names(informer.list(ns)), ['fresh', 'pre']);
    assert.deepEqual(added, ['pre', 'fresh']);

    const fresh = await core.readNamespacedConfigMap({ name: 'fresh', namespace: ns });
    fresh.data = { v: '2' };
    const replaced = await core.replaceNamespacedConfigMap({ name: 'fresh', namespace: ns, body: fresh });
    await eventually('fresh updated in the cache', () => (informer.get('fresh', ns)?.data?.v === '2' ? true : undefined));
    assert.equal(informer.get('fresh', ns)?.metadata?.resourceVersion, replaced.metadata?.resourceVersion);
    assert.deepEqual(updated, [{ name: 'fresh', data: { v: '2' } }]);

    await core.deleteNamespacedConfigMap({ name: 'pre', namespace: ns });
    await eventually('pre gone from the cache', () => (informer.get('pre', ns) === undefined ? true : undefined));
    assert.deepEqual(names(informer.list(ns)), ['fresh']);
    assert.deepEqual(deleted, ['pre']);

    assert.deepEqual(errors, [], 'the informer reported no errors');
    assert.deepEqual(added, ['pre', 'fresh'], 'no spurious adds (a re-list would repeat them)');
    await stop();
  });
});

describe('service account tokens', () => {
  test('a TokenRequest gives a token that a token-only client uses and a TokenReview names', async () => {
    const ns = await namespace('cn-tokens');
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'reporter' } } });
    const issued = await core.createNamespacedServiceAccountToken({ name: 'reporter', namespace: ns, body: { spec: { audiences: [], expirationSeconds: 900 } } });
    const token = issued.status?.token ?? '';
    assert.ok(issued.status?.expirationTimestamp instanceof Date, 'the expiration parses as a date');
    assert.equal(issued.spec.expirationSeconds, 900);
    const cluster = kc.getCurrentCluster()!;
    const tokenOnly = new KubeConfig();
    tokenOnly.loadFromOptions({
      clusters: [cluster],
      users: [{ name: 'reporter', token }],
      contexts: [{ name: 'reporter', cluster: cluster.name, user: 'reporter' }],
      currentContext: 'reporter',
    });
    const asReporter = tokenOnly.makeApiClient(CoreV1Api);
    const accounts = await asReporter.listNamespacedServiceAccount({ namespace: ns });
    assert.ok(accounts.items.some((a) => a.metadata?.name === 'reporter'));
    const review = await kc.makeApiClient(AuthenticationV1Api).createTokenReview({ body: { spec: { token } } });
    assert.equal(review.status?.authenticated, true);
    assert.equal(review.status?.user?.username, `system:serviceaccount:${ns}:reporter`);
  });
});
