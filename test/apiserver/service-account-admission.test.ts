// The ServiceAccount admission plugin, on as in a cluster: a pod's account
// is defaulted and must exist, its token volume is mounted unless the pod or
// the account says no, and it takes the account's imagePullSecrets.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApiServer, type TestApiServer } from './harness.js';

let api: TestApiServer;
const ns = 'accounts';
const pods = `/api/v1/namespaces/${ns}/pods`;
const accounts = `/api/v1/namespaces/${ns}/serviceaccounts`;

before(async () => {
  api = await startTestApiServer('memory', { serviceAccountAdmission: true });
  assert.equal((await api.raw('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } })).status, 201);
  for (const sa of [{ name: 'default' }, { name: 'builder', imagePullSecrets: [{ name: 'registry-cred' }] }, { name: 'quiet', automountServiceAccountToken: false }]) {
    const { name, ...rest } = sa;
    const r = await api.raw('POST', accounts, { body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name }, ...rest } });
    assert.equal(r.status, 201, r.text);
  }
});
after(async () => {
  await api?.close();
});

type Pod = { metadata: { name: string }; spec: Record<string, any> };

const pod = (name: string, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, ...metadata },
  spec: { containers: [{ name: 'main', image: 'busybox' }], ...spec },
});

async function created(body: object): Promise<Pod> {
  const r = await api.raw('POST', pods, { body });
  assert.equal(r.status, 201, r.text);
  return r.json as Pod;
}

const mountPath = '/var/run/secrets/kubernetes.io/serviceaccount';
const tokenVolumes = (p: Pod) => ((p.spec.volumes ?? []) as { name: string }[]).filter((v) => v.name.startsWith('kube-api-access-'));

describe('the ServiceAccount admission plugin', () => {
  it('runs a pod as "default" and mounts the token volume in every container', async () => {
    const p = await created(pod('plain', { initContainers: [{ name: 'init', image: 'busybox' }] }));
    assert.equal(p.spec.serviceAccountName, 'default');
    assert.equal(p.spec.serviceAccount, 'default');
    const [volume] = tokenVolumes(p);
    assert.match(volume!.name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.deepEqual(volume, {
      name: volume!.name,
      projected: {
        defaultMode: 420,
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
        ],
      },
    });
    for (const c of [...p.spec.initContainers, ...p.spec.containers]) {
      assert.deepEqual(c.volumeMounts, [{ name: volume!.name, readOnly: true, mountPath }], c.name);
    }
    const selected = await api.raw('GET', `${pods}?fieldSelector=${encodeURIComponent('spec.serviceAccountName=default')}`);
    assert.ok(selected.json!.items.some((i: Pod) => i.metadata.name === 'plain'));
  });

  it('gives no field manager what admission adds, as kube-apiserver tracks fields before mutating admission', async () => {
    const p = (await created(pod('owned'))) as Pod & { metadata: { managedFields?: { manager: string; fieldsV1: Record<string, any> }[] } };
    assert.equal(tokenVolumes(p).length, 1);
    assert.ok(p.spec.tolerations?.length > 0 && p.spec.priority === 0, 'the other plugins ran too');
    const [entry, ...others] = p.metadata.managedFields ?? [];
    assert.equal(others.length, 0);
    const spec = entry!.fieldsV1['f:spec'];
    assert.ok(spec['f:dnsPolicy'], 'defaulted fields are the creator\'s');
    for (const added of ['f:volumes', 'f:tolerations', 'f:priority', 'f:preemptionPolicy', 'f:serviceAccountName', 'f:serviceAccount']) {
      assert.equal(spec[added], undefined, `${added} has no manager`);
    }
    const container = spec['f:containers']['k:{"name":"main"}'];
    assert.ok(container['f:image']);
    assert.equal(container['f:volumeMounts'], undefined);
  });

  it('keeps the account a pod names, and takes its imagePullSecrets when the pod has none', async () => {
    const named = await created(pod('named', { serviceAccountName: 'builder' }));
    assert.equal(named.spec.serviceAccountName, 'builder');
    assert.deepEqual(named.spec.imagePullSecrets, [{ name: 'registry-cred' }]);
    const own = await created(pod('own-secrets', { serviceAccountName: 'builder', imagePullSecrets: [{ name: 'mine' }] }));
    assert.deepEqual(own.spec.imagePullSecrets, [{ name: 'mine' }]);
    const alias = await created(pod('alias', { serviceAccount: 'builder' }));
    assert.equal(alias.spec.serviceAccountName, 'builder', 'the deprecated serviceAccount names it too');
  });

  it('refuses a pod whose account does not exist', async () => {
    const r = await api.raw('POST', pods, { body: pod('ghostly', { serviceAccountName: 'ghost' }) });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json!.reason, 'Forbidden');
    assert.equal(r.json!.message, `pods "ghostly" is forbidden: error looking up service account ${ns}/ghost: serviceaccount "ghost" not found`);
    const generated = await api.raw('POST', pods, { body: { ...pod('', { serviceAccountName: 'ghost' }), metadata: { generateName: 'web-' } } });
    assert.equal(generated.status, 403, generated.text);
    assert.match(generated.json!.message, /^pods "web-" is forbidden: /);
  });

  it('waits a while for the default account, which a controller makes after its namespace', async () => {
    assert.equal((await api.raw('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fresh' } } })).status, 201);
    const pending = api.raw('POST', '/api/v1/namespaces/fresh/pods', { body: pod('early') });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await api.raw('POST', '/api/v1/namespaces/fresh/serviceaccounts', { body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } } })).status, 201);
    const r = await pending;
    assert.equal(r.status, 201, r.text);
    assert.equal((await api.raw('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'empty' } } })).status, 201);
    const never = await api.raw('POST', '/api/v1/namespaces/empty/pods', { body: pod('never') });
    assert.equal(never.status, 403, never.text);
    assert.equal(never.json!.message, 'pods "never" is forbidden: error looking up service account empty/default: serviceaccount "default" not found');
  });

  it('mounts no token where the pod or its account says not to; the pod\'s word wins', async () => {
    assert.deepEqual(tokenVolumes(await created(pod('pod-says-no', { automountServiceAccountToken: false }))), []);
    const quiet = await created(pod('account-says-no', { serviceAccountName: 'quiet' }));
    assert.deepEqual(tokenVolumes(quiet), []);
    assert.equal(quiet.spec.containers[0].volumeMounts, undefined);
    assert.equal(tokenVolumes(await created(pod('pod-overrides', { serviceAccountName: 'quiet', automountServiceAccountToken: true }))).length, 1);
  });

  it('leaves a container that mounts something at the token path alone, and reuses a token volume the pod has', async () => {
    const own = { name: 'own', emptyDir: {} };
    const p = await created(
      pod('partly', {
        volumes: [own],
        containers: [
          { name: 'has-own', image: 'busybox', volumeMounts: [{ name: 'own', mountPath }] },
          { name: 'gets-token', image: 'busybox' },
        ],
      }),
    );
    const [volume] = tokenVolumes(p);
    assert.deepEqual(p.spec.containers[0].volumeMounts, [{ name: 'own', mountPath }]);
    assert.deepEqual(p.spec.containers[1].volumeMounts, [{ name: volume!.name, readOnly: true, mountPath }]);
    const none = await created(pod('all-own', { volumes: [own], containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'own', mountPath }] }] }));
    assert.deepEqual(tokenVolumes(none), [], 'no container needs the token volume');
    const given = { name: 'kube-api-access-mine1', emptyDir: {} };
    const reused = await created(pod('reused', { volumes: [given] }));
    assert.deepEqual(tokenVolumes(reused).map((v) => v.name), ['kube-api-access-mine1']);
    assert.deepEqual(reused.spec.containers[0].volumeMounts, [{ name: 'kube-api-access-mine1', readOnly: true, mountPath }]);
  });

  it('leaves a static node\'s mirror pod as it is', async () => {
    const mirror = await created(pod('mirror', { nodeName: 'node-1' }, { annotations: { 'kubernetes.io/config.mirror': 'abc' } }));
    assert.equal(mirror.spec.serviceAccountName, undefined);
    assert.deepEqual(tokenVolumes(mirror), []);
  });
});
