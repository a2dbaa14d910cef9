// The ResourceQuota admission plugin, through HTTPS: creates refused over a
// quota's hard limits in kube-apiserver's words, and charged to the quota at
// once (status.used), so that concurrent creates cannot overrun it. The
// quotas' status is written here as their controller would write it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { forbiddenMessage as forbidden, startTestApiServer, type TestApiServer } from './harness.js';

let api: TestApiServer;
const ns = 'quotas';
const quotas = `/api/v1/namespaces/${ns}/resourcequotas`;
const pods = `/api/v1/namespaces/${ns}/pods`;
const cms = `/api/v1/namespaces/${ns}/configmaps`;

before(async () => {
  api = await startTestApiServer();
  assert.equal((await api.raw('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } })).status, 201);
});
after(async () => {
  await api?.close();
});

/** A quota with its status as the controller writes it: hard as in spec, used as given. */
async function quota(name: string, hard: Record<string, string>, used: Record<string, string> | undefined, spec: Record<string, unknown> = {}): Promise<void> {
  const created = await api.raw('POST', quotas, { body: { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name }, spec: { hard, ...spec } } });
  assert.equal(created.status, 201, created.text);
  const status = await api.raw('PUT', `${quotas}/${name}/status`, { body: { ...created.json, status: { hard, ...(used ? { used } : {}) } } });
  assert.equal(status.status, 200, status.text);
}

async function usedOf(name: string): Promise<Record<string, string>> {
  return (await api.raw('GET', `${quotas}/${name}`)).json?.status.used;
}

const pod = (name: string, requests?: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'main', image: 'busybox', ...(requests ? { resources: { requests } } : {}) }], ...extra },
});


describe('resource quota admission', () => {
  it('charges each create to the quota and refuses the one that would go over, naming what it asked, what was used and the limit', async () => {
    await quota('compute', { pods: '2', 'requests.cpu': '1' }, { pods: '0', 'requests.cpu': '0' });
    assert.equal((await api.raw('POST', pods, { body: pod('a', { cpu: '600m' }) })).status, 201);
    assert.deepEqual(await usedOf('compute'), { pods: '1', 'requests.cpu': '600m' });
    assert.equal(forbidden(await api.raw('POST', pods, { body: pod('b', { cpu: '600m' }) })), 'pods "b" is forbidden: exceeded quota: compute, requested: requests.cpu=600m, used: requests.cpu=600m, limited: requests.cpu=1');
    assert.equal(forbidden(await api.raw('POST', pods, { body: pod('c') })), 'pods "c" is forbidden: failed quota: compute: must specify requests.cpu');
    // A dry run is checked, not charged.
    assert.equal((await api.raw('POST', `${pods}?dryRun=All`, { body: pod('d', { cpu: '400m' }) })).status, 201);
    assert.deepEqual(await usedOf('compute'), { pods: '1', 'requests.cpu': '600m' });
    assert.equal((await api.raw('POST', pods, { body: pod('e', { cpu: '400m' }) })).status, 201);
    assert.equal(forbidden(await api.raw('POST', pods, { body: pod('f', { cpu: '0' }) })), 'pods "f" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2');
    await api.raw('DELETE', `${quotas}/compute`);
  });

  it('lets concurrent creates take exactly what the quota allows', async () => {
    await quota('counts', { configmaps: '6' }, { configmaps: '1' });
    const codes = await Promise.all(Array.from({ length: 12 }, (_, i) => api.raw('POST', cms, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` } } }).then((r) => r.status)));
    assert.equal(codes.filter((c) => c === 201).length, 5);
    assert.equal(codes.filter((c) => c === 403).length, 7);
    assert.deepEqual(await usedOf('counts'), { configmaps: '6' });
    await api.raw('DELETE', `${quotas}/counts`);
  });

  it('charges an update what it adds: a Service turned NodePort takes a node port of the quota', async () => {
    await quota('ports', { 'services.nodeports': '1', services: '5' }, { 'services.nodeports': '0', services: '0' });
    const services = `/api/v1/namespaces/${ns}/services`;
    const svc = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }] } });
    assert.equal((await api.raw('POST', services, { body: svc('one') })).status, 201);
    assert.equal((await api.raw('POST', services, { body: svc('two') })).status, 201);
    assert.deepEqual(await usedOf('ports'), { 'services.nodeports': '0', services: '2' });
    const toNodePort = { spec: { type: 'NodePort' } };
    const first = await api.raw('PATCH', `${services}/one`, { body: toNodePort, contentType: 'application/merge-patch+json' });
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(await usedOf('ports'), { 'services.nodeports': '1', services: '2' });
    const second = await api.raw('PATCH', `${services}/two`, { body: toNodePort, contentType: 'application/merge-patch+json' });
    assert.equal(forbidden(second), 'services "two" is forbidden: exceeded quota: ports, requested: services.nodeports=1, used: services.nodeports=1, limited: services.nodeports=1');
    // An update that adds nothing is not weighed.
    assert.equal((await api.raw('PATCH', `${services}/one`, { body: { metadata: { labels: { a: 'b' } } }, contentType: 'application/merge-patch+json' })).status, 200);
    await api.raw('DELETE', `${quotas}/ports`);
  });

  it('refuses while a quota has no usage for what it limits, and counts a pod only under the scopes it falls in', async () => {
    await quota('unknown', { 'count/secrets': '3' }, undefined);
    assert.equal(forbidden(await api.raw('POST', `/api/v1/namespaces/${ns}/secrets`, { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } } })), 'secrets "s" is forbidden: status unknown for quota: unknown, resources: count/secrets');
    await api.raw('DELETE', `${quotas}/unknown`);
    await quota('besteffort', { pods: '1' }, { pods: '1' }, { scopes: ['BestEffort'] });
    assert.equal((await api.raw('POST', pods, { body: pod('burstable', { cpu: '100m' }) })).status, 201, 'a pod with requests is not BestEffort');
    assert.match(forbidden(await api.raw('POST', pods, { body: pod('effortless') })), /exceeded quota: besteffort, requested: pods=1, used: pods=1, limited: pods=1/);
    await api.raw('DELETE', `${quotas}/besteffort`);
  });
});
