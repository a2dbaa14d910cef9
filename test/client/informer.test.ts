// The informer's cache as controllers read it: indexes kept in step with
// changes, late handlers told about what is already cached, one informer per
// resource through the factory.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { KubeObject } from '../../src/api/object.js';
import { InformerFactory } from '../../src/client/informer.js';
import { startTestApiServer, waitUntil, type TestApiServer } from '../apiserver/harness.js';

let api: TestApiServer;
before(async () => {
  api = await startTestApiServer();
});
after(async () => {
  await api?.close();
});

const pods = { group: '', version: 'v1', plural: 'pods' };
const pod = (name: string, nodeName?: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...(nodeName ? { nodeName } : {}) } });
const names = (objs: KubeObject[]) => objs.map((o) => o.metadata.name).sort();

test('indexes follow adds, updates and deletes; late handlers see the cache; the factory shares informers', async () => {
  const factory = new InformerFactory(api.client);
  const informer = factory.informer(pods);
  assert.equal(factory.informer(pods), informer, 'one informer per resource');
  informer.addIndex('node', (p) => [String((p.spec as { nodeName?: string }).nodeName ?? '')]);
  await api.client.create({ ...pods, namespace: 'default' }, pod('a', 'n1'));
  await factory.start();
  await api.client.create({ ...pods, namespace: 'default' }, pod('b', 'n1'));
  await api.client.create({ ...pods, namespace: 'kube-system' }, pod('c', 'n2'));
  await waitUntil('three pods cached', () => informer.list().length === 3);
  assert.deepEqual(names(informer.byIndex('node', 'n1')), ['a', 'b']);
  assert.deepEqual(names(informer.inNamespace('kube-system')), ['c']);
  await api.client.delete({ ...pods, namespace: 'default', name: 'b' }, { gracePeriodSeconds: 0 });
  await waitUntil('b gone from the index', () => informer.byIndex('node', 'n1').length === 1);
  const late: string[] = [];
  informer.on({ add: (o) => late.push(o.metadata.name!) });
  assert.deepEqual(late.sort(), ['a', 'c'], 'a handler added after the sync hears of every cached object');
  factory.stop();
});

test('an informer whose watch is gone too long relists after 410 Gone and misses nothing', async () => {
  const factory = new InformerFactory(api.client);
  const configmaps = { group: '', version: 'v1', plural: 'configmaps' };
  const informer = factory.informer(configmaps);
  await factory.start();
  const before = informer.list().length;
  // The API server stops answering; meanwhile more changes happen than its watch cache keeps (2,000 events).
  const listener = api.server.server;
  const { port } = listener.address() as AddressInfo;
  listener.close();
  listener.closeAllConnections();
  const store = api.server.api.storeFor('', 'v1', 'configmaps')!;
  for (let i = 0; i < 2100; i++) await store.create('default', { metadata: { name: `gone-${i}` }, data: { i: String(i) } });
  await listener.listen(port, '127.0.0.1');
  await waitUntil('the informer to hold every configmap again', () => informer.list().length === before + 2100, 60_000);
  assert.equal((informer.get('default/gone-2099')?.data as Record<string, string> | undefined)?.i, '2099');
  factory.stop();
});
