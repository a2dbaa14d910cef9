// The resource quota controller against a real API server: status.hard and
// status.used follow the quota and the objects it counts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../src/api/object.js';
import { ResourceQuotaController } from '../../src/controllers/resourcequota/index.js';
import { core, createNamespace, podManifest, startControllerEnv, testLog, waitFor, type ControllerEnv } from './core-controllers-env.js';

const ns = 'quota-test';

let env: ControllerEnv;
let controller: ResourceQuotaController;

before(async () => {
  env = await startControllerEnv();
  await createNamespace(env.client, ns);
  await createNamespace(env.client, 'quota-elsewhere');
  controller = new ResourceQuotaController(env.factory, { log: testLog, resyncPeriodMs: 0 });
  await env.factory.start();
  await controller.start();
});

after(async () => {
  controller?.stop();
  await env?.close();
});

type Quota = KubeObject & { status?: { hard?: Record<string, string>; used?: Record<string, string> } };

async function waitUsed(name: string, want: Record<string, string>): Promise<Quota> {
  return waitFor(`${name} used ${JSON.stringify(want)}`, async () => {
    const q = await env.client.get<Quota>(core('resourcequotas', ns, name));
    const used = q.status?.used ?? {};
    return Object.entries(want).every(([k, v]) => used[k] === v) ? q : undefined;
  });
}

describe('resource quota status', () => {
  it('starts with hard = spec.hard and zero used', async () => {
    await env.client.create(core('resourcequotas', ns), {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'compute' },
      spec: { hard: { pods: '10', 'requests.cpu': '4', 'requests.memory': '4Gi', 'limits.cpu': '8', 'limits.memory': '8Gi' } },
    });
    const q = await waitUsed('compute', { pods: '0', 'requests.cpu': '0', 'requests.memory': '0', 'limits.cpu': '0', 'limits.memory': '0' });
    assert.deepEqual(q.status?.hard, { pods: '10', 'requests.cpu': '4', 'requests.memory': '4Gi', 'limits.cpu': '8', 'limits.memory': '8Gi' });
    assert.deepEqual(Object.keys(q.status?.used ?? {}).sort(), ['limits.cpu', 'limits.memory', 'pods', 'requests.cpu', 'requests.memory']);
  });

  it('counts pods and their requests and limits as they come and go', async () => {
    const resources = { requests: { cpu: '250m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } };
    await env.client.create(core('pods', ns), podManifest('p1', { resources }));
    await env.client.create(core('pods', ns), podManifest('p2', { resources: { limits: { cpu: '1', memory: '1Gi' } } }));
    await env.client.create(core('pods', 'quota-elsewhere'), podManifest('other', { resources }));
    await waitUsed('compute', { pods: '2', 'requests.cpu': '1250m', 'requests.memory': '1152Mi', 'limits.cpu': '1500m', 'limits.memory': '1280Mi' });
    await env.client.patch(core('pods', ns, 'p2', 'status'), { status: { phase: 'Succeeded' } }, 'merge');
    await waitUsed('compute', { pods: '1', 'requests.cpu': '250m', 'limits.memory': '256Mi' });
    await env.client.delete(core('pods', ns, 'p1'));
    await waitUsed('compute', { pods: '0', 'requests.cpu': '0' });
  });

  it('follows changes of spec.hard', async () => {
    await env.client.patch(core('resourcequotas', ns, 'compute'), { spec: { hard: { pods: '5', 'count/pods': '20' } } }, 'merge');
    const q = await waitFor('the new hard limits', async () => {
      const x = await env.client.get<Quota>(core('resourcequotas', ns, 'compute'));
      return x.status?.hard?.pods === '5' && x.status.used?.['count/pods'] !== undefined ? x : undefined;
    });
    assert.equal(q.status?.hard?.['count/pods'], '20');
    // p2 has finished but is still stored: it counts in count/pods only.
    assert.equal(q.status?.used?.['count/pods'], '1');
    assert.equal(q.status?.used?.pods, '0');
  });

  it('counts objects: configmaps, secrets, services, claims and their storage, count/<resource>.<group>', async () => {
    await env.client.create(core('resourcequotas', ns), {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'objects' },
      spec: {
        hard: {
          configmaps: '10',
          'count/secrets': '10',
          services: '5',
          'services.nodeports': '4',
          persistentvolumeclaims: '5',
          'requests.storage': '100Gi',
          'gold.storageclass.storage.k8s.io/requests.storage': '10Gi',
          'count/deployments.apps': '3',
          resourcequotas: '3',
        },
      },
    });
    await waitUsed('objects', { configmaps: '0', 'count/secrets': '0', services: '0', persistentvolumeclaims: '0', 'requests.storage': '0', 'count/deployments.apps': '0', resourcequotas: '2' });
    await env.client.create(core('configmaps', ns), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { a: '1' } });
    await env.client.create(core('secrets', ns), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { a: '1' } });
    await env.client.create(core('services', ns), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'np' }, spec: { type: 'NodePort', selector: { a: 'b' }, ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81 }] } });
    for (const [name, size, cls] of [
      ['c1', '1Gi', 'gold'],
      ['c2', '5Gi', 'silver'],
    ] as const) {
      await env.client.create(core('persistentvolumeclaims', ns), {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name },
        spec: { storageClassName: cls, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } },
      });
    }
    await env.client.create({ group: 'apps', version: 'v1', plural: 'deployments', namespace: ns }, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: { selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    await waitUsed('objects', {
      configmaps: '1',
      'count/secrets': '1',
      services: '1',
      'services.nodeports': '2',
      persistentvolumeclaims: '2',
      'requests.storage': '6Gi',
      'gold.storageclass.storage.k8s.io/requests.storage': '1Gi',
      'count/deployments.apps': '1',
    });
    await env.client.delete(core('configmaps', ns, 'cm'));
    await waitUsed('objects', { configmaps: '0' });
  });

  it('counts only pods under the quota’s scopes', async () => {
    await env.client.create(core('resourcequotas', ns), {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'best-effort' },
      spec: { hard: { pods: '3' }, scopes: ['BestEffort'] },
    });
    // A quota on cpu and memory makes every container name them (quota admission): the pods here need not.
    await env.client.patch(core('resourcequotas', ns, 'compute'), { spec: { hard: { 'requests.cpu': null, 'requests.memory': null, 'limits.cpu': null, 'limits.memory': null } } }, 'merge');
    await waitFor('compute to limit pods alone', async () => {
      const q = await env.client.get<Quota>(core('resourcequotas', ns, 'compute'));
      return q.status?.hard && !('requests.cpu' in q.status.hard) ? true : undefined;
    });
    await env.client.create(core('pods', ns), podManifest('be'));
    await env.client.create(core('pods', ns), podManifest('burstable', { resources: { requests: { cpu: '100m' } } }));
    await waitUsed('best-effort', { pods: '1' });
    await waitUsed('compute', { pods: '2' });
  });
});
