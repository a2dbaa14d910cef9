// The endpoints and endpointslice controllers against a real API server:
// Endpoints and EndpointSlices follow pods' addresses and readiness.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeList, KubeObject } from '../../src/api/object.js';
import { EndpointsController } from '../../src/controllers/endpoints/index.js';
import { EndpointSliceController } from '../../src/controllers/endpointslice/index.js';
import { core, createNamespace, getOrUndefined, podManifest, setPodStatus, startControllerEnv, testLog, waitFor, type ControllerEnv } from './core-controllers-env.js';

const ns = 'endpoints-test';
const slices = (namespace = ns) => ({ group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', namespace });

let env: ControllerEnv;
let endpoints: EndpointsController;
let endpointSlices: EndpointSliceController;

before(async () => {
  env = await startControllerEnv();
  await createNamespace(env.client, ns);
  endpoints = new EndpointsController(env.factory, { log: testLog });
  endpointSlices = new EndpointSliceController(env.factory, { log: testLog });
  await env.factory.start();
  await Promise.all([endpoints.start(), endpointSlices.start()]);
});

after(async () => {
  endpoints?.stop();
  endpointSlices?.stop();
  await env?.close();
});

type Subset = { addresses?: { ip: string; hostname?: string; nodeName?: string; targetRef?: { name: string } }[]; notReadyAddresses?: { ip: string }[]; ports?: { name?: string; port: number; protocol: string }[] };
type Slice = KubeObject & { addressType?: string; endpoints?: { addresses: string[]; conditions: Record<string, boolean>; targetRef?: { name: string }; nodeName?: string; hostname?: string }[]; ports?: { name: string; port: number }[] | null };

async function subsetsOf(name: string): Promise<Subset[] | undefined> {
  const ep = await getOrUndefined(env.client, core('endpoints', ns, name));
  return ep ? ((ep.subsets as Subset[] | undefined) ?? []) : undefined;
}

async function slicesOf(service: string): Promise<Slice[]> {
  const list = await env.client.list<KubeList>(slices(), { labelSelector: `kubernetes.io/service-name=${service}` });
  return list.items as Slice[];
}

const ips = (s: Subset[] | undefined, field: 'addresses' | 'notReadyAddresses') => (s ?? []).flatMap((x) => (x[field] ?? []).map((a) => a.ip)).sort();

describe('endpoints and endpoint slices of a service', () => {
  it('list ready and not-ready pods with the named target port resolved', async () => {
    await env.client.create(core('services', ns), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', labels: { tier: 'front' } },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    for (const name of ['web-a', 'web-b']) {
      await env.client.create(core('pods', ns), podManifest(name, { labels: { app: 'web' }, nodeName: 'node-1', ports: [{ name: 'http', containerPort: 8080 }] }));
    }
    await setPodStatus(env.client, ns, 'web-a', '10.244.0.11', true);
    await setPodStatus(env.client, ns, 'web-b', '10.244.0.12', false);

    const subsets = await waitFor('web endpoints with one ready and one not-ready address', async () => {
      const s = await subsetsOf('web');
      return ips(s, 'addresses').join() === '10.244.0.11' && ips(s, 'notReadyAddresses').join() === '10.244.0.12' ? s : undefined;
    });
    assert.deepEqual(subsets[0]!.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    assert.equal(subsets[0]!.addresses![0]!.nodeName, 'node-1');
    assert.equal(subsets[0]!.addresses![0]!.targetRef?.name, 'web-a');
    const ep = await env.client.get(core('endpoints', ns, 'web'));
    assert.equal(ep.metadata.labels?.tier, 'front');

    const [slice] = await waitFor('one endpoint slice with both pods', async () => {
      const s = await slicesOf('web');
      return s.length === 1 && (s[0]!.endpoints ?? []).length === 2 ? s : undefined;
    });
    assert.equal(slice!.addressType, 'IPv4');
    assert.equal(slice!.metadata.labels?.['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
    assert.equal(slice!.metadata.labels?.tier, 'front');
    assert.ok(slice!.metadata.name!.startsWith('web-'));
    assert.equal(slice!.metadata.ownerReferences?.[0]?.kind, 'Service');
    assert.deepEqual(slice!.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    const byPod = Object.fromEntries((slice!.endpoints ?? []).map((e) => [e.targetRef?.name, e]));
    assert.deepEqual(byPod['web-a']!.conditions, { ready: true, serving: true, terminating: false });
    assert.deepEqual(byPod['web-b']!.conditions, { ready: false, serving: false, terminating: false });
    assert.deepEqual(byPod['web-a']!.addresses, ['10.244.0.11']);
    assert.equal(byPod['web-a']!.nodeName, 'node-1');
  });

  it('follow a pod turning ready, and a pod that stops matching the selector', async () => {
    await setPodStatus(env.client, ns, 'web-b', '10.244.0.12', true);
    await waitFor('both addresses ready', async () => ips(await subsetsOf('web'), 'addresses').join() === '10.244.0.11,10.244.0.12');
    await env.client.patch(core('pods', ns, 'web-b'), { metadata: { labels: { app: 'other' } } }, 'merge');
    await waitFor('web-b gone from the endpoints', async () => ips(await subsetsOf('web'), 'addresses').join() === '10.244.0.11');
    await waitFor('web-b gone from the slice', async () => {
      const s = await slicesOf('web');
      return s.length === 1 && s[0]!.endpoints?.map((e) => e.targetRef?.name).join() === 'web-a';
    });
  });

  it('keep a terminating pod in the slice as terminating, but not in the Endpoints', async () => {
    await env.client.delete(core('pods', ns, 'web-a'));
    const pod = await env.client.get(core('pods', ns, 'web-a'));
    assert.ok(pod.metadata.deletionTimestamp, 'a pod bound to a node is deleted gracefully');
    await waitFor('no address left in the Endpoints', async () => {
      const s = await subsetsOf('web');
      return s !== undefined && ips(s, 'addresses').length === 0 && ips(s, 'notReadyAddresses').length === 0;
    });
    await waitFor('the slice endpoint terminating', async () => {
      const s = await slicesOf('web');
      const e = s[0]?.endpoints?.[0];
      return s.length === 1 && e?.conditions.terminating === true && e.conditions.ready === false && e.conditions.serving === true;
    });
    await env.client.delete(core('pods', ns, 'web-a'), { gracePeriodSeconds: 0 });
    await waitFor('an empty placeholder slice', async () => {
      const s = await slicesOf('web');
      return s.length === 1 && (s[0]!.endpoints ?? []).length === 0 && !s[0]!.ports;
    });
  });

  it('recreate Endpoints deleted by someone else', async () => {
    await env.client.delete(core('endpoints', ns, 'web'));
    await waitFor('the web Endpoints back', async () => (await subsetsOf('web')) !== undefined);
  });

  it('set hostnames and the headless label for a headless service, and publish not-ready addresses', async () => {
    await env.client.create(core('services', ns), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'db' },
      spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: { app: 'db' }, ports: [{ port: 5432 }] },
    });
    await env.client.create(core('pods', ns), podManifest('db-0', { labels: { app: 'db' }, hostname: 'db-0', subdomain: 'db' }));
    await setPodStatus(env.client, ns, 'db-0', '10.244.0.20', false);
    const subsets = await waitFor('db endpoints', async () => {
      const s = await subsetsOf('db');
      return ips(s, 'addresses').join() === '10.244.0.20' ? s : undefined;
    });
    assert.equal(subsets[0]!.addresses![0]!.hostname, 'db-0');
    const ep = await env.client.get(core('endpoints', ns, 'db'));
    assert.equal(ep.metadata.labels?.['service.kubernetes.io/headless'], '');
    const s = await waitFor('db slice', async () => {
      const list = await slicesOf('db');
      return list[0]?.endpoints?.length === 1 ? list[0] : undefined;
    });
    assert.equal(s.endpoints![0]!.hostname, 'db-0');
    assert.equal(s.endpoints![0]!.conditions.ready, true);
    assert.equal(s.metadata.labels?.['service.kubernetes.io/headless'], '');
  });

  it('spread more than 100 endpoints over several slices', async () => {
    await env.client.create(core('services', ns), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'many' },
      spec: { selector: { app: 'many' }, ports: [{ port: 80 }] },
    });
    await Promise.all(
      Array.from({ length: 120 }, async (_, i) => {
        await env.client.create(core('pods', ns), podManifest(`many-${i}`, { labels: { app: 'many' } }));
        await setPodStatus(env.client, ns, `many-${i}`, `10.245.0.${i + 1}`, true);
      }),
    );
    const list = await waitFor('120 endpoints in slices', async () => {
      const s = await slicesOf('many');
      return s.reduce((n, x) => n + (x.endpoints?.length ?? 0), 0) === 120 ? s : undefined;
    });
    assert.ok(list.length >= 2);
    assert.ok(list.every((x) => (x.endpoints?.length ?? 0) <= 100));
    assert.equal(ips(await subsetsOf('many'), 'addresses').length, 120);
  });

  it('leave services without selectors and the kubernetes Service alone, and go with their service', async () => {
    await env.client.create(core('services', ns), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'manual' }, spec: { ports: [{ port: 80 }] } });
    const manual = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'manual' }, subsets: [{ addresses: [{ ip: '192.0.2.1' }], ports: [{ port: 80 }] }] };
    await env.client.create(core('endpoints', ns), manual);
    await endpoints.sync(`${ns}/manual`);
    await endpointSlices.sync(`${ns}/manual`);
    await endpoints.sync('default/kubernetes');
    await endpointSlices.sync('default/kubernetes');
    assert.deepEqual(ips((await env.client.get(core('endpoints', ns, 'manual'))).subsets as Subset[], 'addresses'), ['192.0.2.1']);
    assert.equal((await slicesOf('manual')).length, 0);
    assert.equal((await slicesOf('kubernetes').then((s) => s.filter((x) => x.metadata.labels?.['endpointslice.kubernetes.io/managed-by'] === 'endpointslice-controller.k8s.io'))).length, 0);

    await env.client.delete(core('services', ns, 'web'));
    await waitFor('the web Endpoints gone', async () => (await subsetsOf('web')) === undefined);
    await waitFor('the web slices gone', async () => (await slicesOf('web')).length === 0);
  });
});
