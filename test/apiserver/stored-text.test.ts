// What a write returns, a read returns: the server serializes a written
// object once and serves that text (with the resourceVersion added) from
// the write's response, gets, lists and watches. Objects whose text could
// mislead that (members named metadata or resourceVersion in their data,
// braces in strings, members in any order) must read back as they were written.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../src/api/object.js';
import { startTestApiServer, waitFor, type TestApiServer } from './harness.js';

const tricky = {
  resourceVersion: 'not the object version',
  metadata: '{"metadata":{"name":"x"}}',
  quoted: '"metadata":{"resourceVersion":"1"}',
  braces: '{[}]',
};

for (const storage of ['memory', 'sqlite']) {
  describe(`written objects read back as written (${storage} storage)`, () => {
    let api: TestApiServer;
    const cms = '/api/v1/namespaces/default/configmaps';
    before(async () => {
      api = await startTestApiServer(storage);
    });
    after(async () => {
      await api?.close();
    });

    async function readsBack(name: string, written: Record<string, any>): Promise<void> {
      const rv = written.metadata.resourceVersion;
      assert.match(rv, /^[0-9]+$/);
      const got = await api.raw('GET', `${cms}/${name}`);
      assert.equal(got.status, 200, got.text);
      assert.deepEqual(got.json, written);
      const list = await api.raw('GET', cms);
      assert.deepEqual(
        list.json?.items.find((i: KubeObject) => i.metadata.name === name),
        written,
      );
    }

    for (const [label, data] of [
      ['plain data', { a: '1' }],
      ['data whose text looks like metadata', tricky],
    ] as const) {
      it(`${label}: the create, update and patch responses equal what get, list and watch return`, async () => {
        const name = label === 'plain data' ? 'plain' : 'tricky';
        // Members in an unusual order, data first.
        const body = `{"data":${JSON.stringify(data)},"metadata":{"name":"${name}","annotations":{"note":"{\\"metadata\\":{}}"}},"kind":"ConfigMap","apiVersion":"v1"}`;
        const created = await api.raw('POST', cms, { body });
        assert.equal(created.status, 201, created.text);
        assert.deepEqual(created.json?.data, data);
        assert.equal(created.json?.metadata.annotations.note, '{"metadata":{}}');
        await readsBack(name, created.json!);

        const events: { type: string; object: KubeObject }[] = [];
        const watch = api.client.watch({ group: '', version: 'v1', plural: 'configmaps', namespace: 'default' }, { resourceVersion: created.json!.metadata.resourceVersion }, (type, object) => {
          if (object.metadata.name === name) events.push({ type, object });
        });
        try {
          const updated = await api.raw('PUT', `${cms}/${name}`, { body: { ...created.json, data: { ...data, added: 'by update' } } });
          assert.equal(updated.status, 200, updated.text);
          assert.equal(updated.json?.data.added, 'by update');
          await readsBack(name, updated.json!);

          const patched = await api.raw('PATCH', `${cms}/${name}`, { body: { data: { patched: '{"metadata":{' } }, contentType: 'application/merge-patch+json' });
          assert.equal(patched.status, 200, patched.text);
          assert.deepEqual(patched.json?.data, { ...data, added: 'by update', patched: '{"metadata":{' });
          assert.ok(Number(patched.json?.metadata.resourceVersion) > Number(updated.json?.metadata.resourceVersion));
          await readsBack(name, patched.json!);

          await waitFor('both MODIFIED events', () => events.length >= 2);
          assert.deepEqual(
            events.map((e) => e.type),
            ['MODIFIED', 'MODIFIED'],
          );
          assert.deepEqual(events[0]!.object, updated.json);
          assert.deepEqual(events[1]!.object, patched.json);
        } finally {
          watch.stop();
          await watch.done.catch(() => undefined);
        }
      });
    }

    // The cache keeps a created object as its text and parses it when something first needs the object.
    it('objects only ever served as text are still selected, watched by name, printed and patched', async () => {
      const make = async (namespace: string, name: string, tier: string) => {
        const res = await api.raw('POST', `/api/v1/namespaces/${namespace}/configmaps`, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { tier } }, data: { tier } } });
        assert.equal(res.status, 201, res.text);
        return res.json!;
      };
      const names: string[] = [];
      const watch = api.client.watch({ group: '', version: 'v1', plural: 'configmaps' }, { resourceVersion: '0', fieldSelector: 'metadata.name=text-web' }, (type, object) => {
        names.push(`${type} ${object.metadata.namespace}/${object.metadata.name}`);
      });
      try {
        const web = await make('default', 'text-web', 'web');
        await make('default', 'text-db', 'db');
        const other = await make('kube-public', 'text-web', 'db');

        const selected = await api.raw('GET', `${cms}?labelSelector=tier%3Dweb`);
        assert.deepEqual(
          selected.json?.items.map((i: KubeObject) => i.metadata.name),
          ['text-web'],
        );
        assert.deepEqual(selected.json?.items[0], web);

        const table = await api.raw('GET', `${cms}/text-db`, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
        assert.equal(table.json?.kind, 'Table', table.text);
        assert.equal(table.json?.rows[0].cells[0], 'text-db');

        const patched = await api.raw('PATCH', `/api/v1/namespaces/kube-public/configmaps/text-web`, { body: { data: { patched: 'yes' } }, contentType: 'application/merge-patch+json' });
        assert.equal(patched.status, 200, patched.text);
        assert.deepEqual(patched.json?.data, { tier: 'db', patched: 'yes' });
        assert.equal(patched.json?.metadata.uid, other.metadata.uid);
        const read = await api.raw('GET', `/api/v1/namespaces/kube-public/configmaps/text-web`);
        assert.deepEqual(read.json, patched.json);

        await waitFor('the watch to see both objects named text-web', () => names.length >= 3);
        assert.deepEqual(names.sort(), ['ADDED default/text-web', 'ADDED kube-public/text-web', 'MODIFIED kube-public/text-web']);
      } finally {
        watch.stop();
        await watch.done.catch(() => undefined);
      }
    });

    it('an update that changes nothing but the order of members stores nothing new', async () => {
      const created = await api.raw('POST', cms, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'same' }, data: { a: '1', b: '2' } } });
      assert.equal(created.status, 201, created.text);
      const { data, ...rest } = created.json!;
      const reordered = await api.raw('PUT', `${cms}/same`, { body: { data: { b: data.b, a: data.a }, ...rest } });
      assert.equal(reordered.status, 200, reordered.text);
      assert.equal(reordered.json?.metadata.resourceVersion, created.json?.metadata.resourceVersion);
    });
  });
}
