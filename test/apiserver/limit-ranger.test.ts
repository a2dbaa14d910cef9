// The LimitRanger admission plugin, through HTTPS: a pod's containers get
// their namespace's default requests and limits, and pods and claims are
// held to its min, max and limit-to-request ratio, in kube-apiserver's words.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { forbiddenMessage as forbidden, startTestApiServer, type TestApiServer } from './harness.js';

let api: TestApiServer;
const ns = 'limits';
const pods = `/api/v1/namespaces/${ns}/pods`;

before(async () => {
  api = await startTestApiServer();
  assert.equal((await api.raw('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } })).status, 201);
  const range = {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: { name: 'bounds' },
    spec: {
      limits: [
        { type: 'Container', default: { cpu: '500m' }, defaultRequest: { cpu: '250m' }, max: { cpu: '1' }, min: { cpu: '100m' }, maxLimitRequestRatio: { cpu: '4' } },
        { type: 'Pod', max: { memory: '1Gi' } },
        { type: 'PersistentVolumeClaim', max: { storage: '2Gi' } },
      ],
    },
  };
  const r = await api.raw('POST', `/api/v1/namespaces/${ns}/limitranges`, { body: range });
  assert.equal(r.status, 201, r.text);
});
after(async () => {
  await api?.close();
});

const pod = (name: string, resources?: object, containers = 1) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: Array.from({ length: containers }, (_, i) => ({ name: `c${i}`, image: 'busybox', ...(resources ? { resources } : {}) })) },
});


describe('limit ranger admission', () => {
  it('fills the defaults a container leaves out and says so on the pod', async () => {
    const r = await api.raw('POST', pods, { body: pod('plain', { limits: { memory: '64Mi' } }) });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.json?.spec.containers[0].resources, { limits: { memory: '64Mi', cpu: '500m' }, requests: { memory: '64Mi', cpu: '250m' } });
    assert.equal(r.json?.metadata.annotations['kubernetes.io/limit-ranger'], 'LimitRanger plugin set: cpu request for container c0; cpu limit for container c0');
  });

  it('holds containers and pods to the range, every broken bound of it named', async () => {
    const mem = { memory: '64Mi' };
    assert.equal(forbidden(await api.raw('POST', pods, { body: pod('big', { limits: { cpu: '2', ...mem }, requests: { cpu: '600m' } }) })), 'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2');
    assert.equal(
      forbidden(await api.raw('POST', pods, { body: pod('lopsided', { limits: { cpu: '1', ...mem }, requests: { cpu: '100m' } }) })),
      'pods "lopsided" is forbidden: cpu max limit to request ratio per Container is 4, but provided ratio is 10.000000',
    );
    assert.equal(forbidden(await api.raw('POST', pods, { body: pod('tiny', { limits: { cpu: '50m', ...mem }, requests: { cpu: '50m' } }) })), 'pods "tiny" is forbidden: minimum cpu usage per Container is 100m, but request is 50m');
    assert.equal(forbidden(await api.raw('POST', pods, { body: pod('heavy', { limits: { memory: '600Mi' } }, 2) })), 'pods "heavy" is forbidden: maximum memory usage per Pod is 1Gi, but limit is 1200Mi');
    // More than one bound broken: all of them, as Kubernetes aggregates errors.
    assert.equal(
      forbidden(await api.raw('POST', pods, { body: pod('unbounded', { limits: { cpu: '2' } }) })),
      'pods "unbounded" is forbidden: [maximum cpu usage per Container is 1, but limit is 2, maximum memory usage per Pod is 1Gi.  No limit is specified]',
    );
  });

  it('holds claims to the range\'s storage bounds', async () => {
    const claim = (name: string, storage: string) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage } } } });
    const claims = `/api/v1/namespaces/${ns}/persistentvolumeclaims`;
    assert.equal((await api.raw('POST', claims, { body: claim('small', '1Gi') })).status, 201);
    assert.equal(forbidden(await api.raw('POST', claims, { body: claim('large', '5Gi') })), 'persistentvolumeclaims "large" is forbidden: maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi');
    // A bound claim may grow, within the range.
    const bound = await api.raw('PATCH', `${claims}/small/status`, { body: { status: { phase: 'Bound' } }, contentType: 'application/merge-patch+json' });
    assert.equal(bound.status, 200, bound.text);
    const grow = (storage: string) => api.raw('PATCH', `${claims}/small`, { body: { spec: { resources: { requests: { storage } } } }, contentType: 'application/merge-patch+json' });
    assert.equal(forbidden(await grow('5Gi')), 'persistentvolumeclaims "small" is forbidden: maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi');
    const grown = await grow('2Gi');
    assert.equal(grown.status, 200, grown.text);
  });
});
