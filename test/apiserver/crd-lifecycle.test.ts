// A CRD's life as kube-apiserver runs it: the versions it has stored
// objects at, and its deletion, held until its custom resources (and their
// own finalizers) are gone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApiServer, waitFor, type TestApiServer } from './harness.js';

let api: TestApiServer;
const crds = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
before(async () => {
  api = await startTestApiServer();
  assert.equal((await api.raw('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'crds' } } })).status, 201);
});
after(async () => {
  await api?.close();
});

const schema = { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { n: { type: 'integer' } } } } } };
const crd = (plural: string, versions: object[]) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.life.nami.test` },
  spec: { group: 'life.nami.test', scope: 'Namespaced', names: { plural, kind: plural[0]!.toUpperCase() + plural.slice(1, -1) }, versions },
});

describe('CRD lifecycle', () => {
  it('remembers every version it stored objects at, and keeps them in spec.versions until a migration drops them', async () => {
    const created = await api.raw('POST', crds, { body: crd('stores', [{ name: 'v1', served: true, storage: true, schema }, { name: 'v2', served: true, storage: false, schema }]) });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.json?.status.storedVersions, ['v1']);
    assert.deepEqual(created.json?.metadata.finalizers, ['customresourcecleanup.apiextensions.k8s.io']);
    const since = created.json?.status.conditions.find((c: { type: string }) => c.type === 'Established').lastTransitionTime;
    await new Promise((r) => setTimeout(r, 1100));
    const moved = await api.raw('PUT', `${crds}/stores.life.nami.test`, { body: { ...created.json, spec: { ...created.json!.spec, versions: [{ name: 'v1', served: true, storage: false, schema }, { name: 'v2', served: true, storage: true, schema }] } } });
    assert.equal(moved.status, 200, moved.text);
    assert.deepEqual(moved.json?.status.storedVersions, ['v1', 'v2']);
    assert.equal(moved.json?.status.conditions.find((c: { type: string }) => c.type === 'Established').lastTransitionTime, since, 'a condition that keeps its status keeps its time');
    const dropped = await api.raw('PUT', `${crds}/stores.life.nami.test`, { body: { ...moved.json, spec: { ...moved.json!.spec, versions: [{ name: 'v2', served: true, storage: true, schema }] } } });
    assert.equal(dropped.status, 422, dropped.text);
    assert.match(dropped.json?.message, /status\.storedVersions\[0\]: Invalid value: "v1": missing from spec\.versions; v1 was previously a storage version/);
    // A storage migration removes v1 through /status; then v1 may go.
    const migrated = await api.raw('PUT', `${crds}/stores.life.nami.test/status`, { body: { ...moved.json, status: { ...moved.json!.status, storedVersions: ['v2'] } } });
    assert.equal(migrated.status, 200, migrated.text);
    const emptied = await api.raw('PUT', `${crds}/stores.life.nami.test/status`, { body: { ...migrated.json, status: { ...migrated.json!.status, storedVersions: [] } } });
    assert.equal(emptied.status, 422);
    assert.match(emptied.json?.message, /status\.storedVersions: Invalid value: \[\]: must have at least one stored version/);
    const gone = await api.raw('PUT', `${crds}/stores.life.nami.test`, { body: { ...migrated.json, spec: { ...migrated.json!.spec, versions: [{ name: 'v2', served: true, storage: true, schema }] } } });
    assert.equal(gone.status, 200, gone.text);
  });

  it('is deleted only once its custom resources are, their own finalizers included, refusing new ones meanwhile', async () => {
    assert.equal((await api.raw('POST', crds, { body: crd('holds', [{ name: 'v1', served: true, storage: true, schema }]) })).status, 201);
    const path = '/apis/life.nami.test/v1/namespaces/crds/holds';
    const hold = (name: string, finalizers: string[] = []) => ({ apiVersion: 'life.nami.test/v1', kind: 'Hold', metadata: { name, finalizers }, spec: { n: 1 } });
    await waitFor('the Hold resource served', async () => ((await api.raw('POST', path, { body: hold('kept', ['example.com/hold']) })).status === 201 ? true : undefined));
    assert.equal((await api.raw('POST', path, { body: hold('plain') })).status, 201);

    assert.equal((await api.raw('DELETE', `${crds}/holds.life.nami.test`)).status, 200);
    const terminating = await waitFor('the Terminating condition', async () => {
      const c = (await api.raw('GET', `${crds}/holds.life.nami.test`)).json;
      return c?.status?.conditions?.find((x: { type: string }) => x.type === 'Terminating') ? c : undefined;
    });
    assert.deepEqual(
      terminating.status.conditions.find((x: { type: string }) => x.type === 'Terminating'),
      { ...terminating.status.conditions.find((x: { type: string }) => x.type === 'Terminating'), status: 'True', reason: 'InstanceDeletionInProgress', message: 'CustomResource deletion is in progress' },
    );
    await waitFor('the plain Hold gone', async () => ((await api.raw('GET', `${path}/plain`)).status === 404 ? true : undefined));
    const kept = await api.raw('GET', `${path}/kept`);
    assert.equal(kept.status, 200, 'a custom resource with a finalizer is still served while the CRD waits for it');
    assert.ok(kept.json?.metadata.deletionTimestamp);
    const refused = await api.raw('POST', path, { body: hold('late') });
    assert.equal(refused.status, 405, refused.text);
    assert.equal(refused.json?.message, 'create not allowed while custom resource definition is terminating');
    assert.equal((await api.raw('GET', `${crds}/holds.life.nami.test`)).status, 200, 'the CRD waits');

    // The finalizer's owner lets go: the custom resource goes, then the CRD.
    assert.equal((await api.raw('PATCH', `${path}/kept`, { body: { metadata: { finalizers: null } }, contentType: 'application/merge-patch+json' })).status, 200);
    await waitFor('the CRD gone', async () => ((await api.raw('GET', `${crds}/holds.life.nami.test`)).status === 404 ? true : undefined), 15_000);
    assert.equal((await api.raw('GET', path)).status, 404);
  });

  it('serves only the versions marked served, warns on deprecated ones, and keeps the kind once established', async () => {
    const created = await api.raw('POST', crds, {
      body: crd('olds', [
        { name: 'v1', served: false, storage: true, schema },
        { name: 'v2', served: true, storage: false, schema, deprecated: true, additionalPrinterColumns: [{ name: 'Two', type: 'integer', jsonPath: '.spec.n' }] },
        { name: 'v3', served: true, storage: false, schema, deprecated: true, deprecationWarning: 'use life.nami.test/v4', additionalPrinterColumns: [{ name: 'Three', type: 'integer', jsonPath: '.spec.n' }] },
      ]),
    });
    assert.equal(created.status, 201, created.text);
    const at = (v: string) => `/apis/life.nami.test/${v}/namespaces/crds/olds`;
    await waitFor('the Old resource served', async () => ((await api.raw('GET', at('v2'))).status === 200 ? true : undefined));
    assert.equal((await api.raw('GET', at('v1'))).status, 404, 'an unserved storage version is not served');
    const group = (await api.raw('GET', '/apis/life.nami.test')).json;
    assert.ok(!group?.versions.some((v: { version: string }) => v.version === 'v1'), JSON.stringify(group));
    assert.equal((await api.raw('GET', '/apis/life.nami.test/v1')).status, 404);
    // Objects are still stored at the storage version, and read at a served one.
    const made = await api.raw('POST', at('v2'), { body: { apiVersion: 'life.nami.test/v2', kind: 'Old', metadata: { name: 'o' }, spec: { n: 1 } } });
    assert.equal(made.status, 201, made.text);
    assert.equal(made.headers.warning, '299 - "life.nami.test/v2 Old is deprecated"');
    assert.equal((await api.raw('GET', `${at('v3')}/o`)).headers.warning, '299 - "use life.nami.test/v4"');
    // Each version prints its own columns.
    const columns = async (v: string) => ((await api.raw('GET', at(v), { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' })).json?.columnDefinitions ?? []).map((c: { name: string }) => c.name);
    assert.deepEqual(await columns('v2'), ['Name', 'Two']);
    assert.deepEqual(await columns('v3'), ['Name', 'Three']);

    const renamed = await api.raw('PATCH', `${crds}/olds.life.nami.test`, { body: { spec: { names: { kind: 'Older' } } }, contentType: 'application/merge-patch+json' });
    assert.equal(renamed.status, 422, renamed.text);
    assert.match(renamed.json?.message, /spec\.names\.kind: Invalid value: "Older": field is immutable/);
  });

  it('does not accept, nor serve, names another CRD of the group holds', async () => {
    const widgets = { ...crd('widgets', [{ name: 'v1', served: true, storage: true, schema }]) };
    widgets.spec.names = { plural: 'widgets', kind: 'Widget', shortNames: ['wd'] } as typeof widgets.spec.names;
    assert.equal((await api.raw('POST', crds, { body: widgets })).status, 201);
    const gadgets = crd('gadgets', [{ name: 'v1', served: true, storage: true, schema }]);
    gadgets.spec.names = { plural: 'gadgets', kind: 'Widget' } as typeof gadgets.spec.names;
    const created = await api.raw('POST', crds, { body: gadgets });
    assert.equal(created.status, 201, created.text);
    const conditions = Object.fromEntries((created.json?.status.conditions as { type: string; status: string; reason: string; message: string }[]).map((c) => [c.type, [c.status, c.reason, c.message]]));
    // Each name is checked in turn and the last conflict is reported, as Kubernetes' naming controller leaves it: kind Widget brings list kind WidgetList.
    assert.deepEqual(conditions.NamesAccepted, ['False', 'ListKindConflict', '"WidgetList" is already in use']);
    assert.deepEqual(conditions.Established, ['False', 'NotAccepted', 'not all names are accepted']);
    await waitFor('widgets served', async () => ((await api.raw('GET', '/apis/life.nami.test/v1/namespaces/crds/widgets')).status === 200 ? true : undefined));
    assert.equal((await api.raw('GET', '/apis/life.nami.test/v1/namespaces/crds/gadgets')).status, 404, 'a CRD whose names are not accepted is not served');
    // Renamed to a kind (and the list kind and singular the old kind gave it) of its own, it is accepted and served.
    const renamed = await api.raw('PATCH', `${crds}/gadgets.life.nami.test`, { body: { spec: { names: { kind: 'Gadget', listKind: 'GadgetList', singular: 'gadget' } } }, contentType: 'application/merge-patch+json' });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.json?.status.conditions.find((c: { type: string }) => c.type === 'NamesAccepted').status, 'True', JSON.stringify(renamed.json?.status));
    await waitFor('gadgets served', async () => ((await api.raw('GET', '/apis/life.nami.test/v1/namespaces/crds/gadgets')).status === 200 ? true : undefined));
  });

  it('serves stored custom resources with the defaults their schema gained later, and without the fields it dropped', async () => {
    const withSchema = (spec: object) => ({ openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: spec } } } });
    const created = await api.raw('POST', crds, { body: crd('paints', [{ name: 'v1', served: true, storage: true, schema: withSchema({ n: { type: 'integer' }, old: { type: 'string' } }) }]) });
    assert.equal(created.status, 201, created.text);
    const path = '/apis/life.nami.test/v1/namespaces/crds/paints';
    await waitFor('the Paint resource served', async () => ((await api.raw('POST', path, { body: { apiVersion: 'life.nami.test/v1', kind: 'Paint', metadata: { name: 'p1' }, spec: { n: 1, old: 'x' } } })).status === 201 ? true : undefined));
    const crdNow = (await api.raw('GET', `${crds}/paints.life.nami.test`)).json!;
    const changed = await api.raw('PUT', `${crds}/paints.life.nami.test`, { body: { ...crdNow, spec: { ...crdNow.spec, versions: [{ name: 'v1', served: true, storage: true, schema: withSchema({ n: { type: 'integer' }, color: { type: 'string', default: 'red' } }) }] } } });
    assert.equal(changed.status, 200, changed.text);
    const read = await waitFor('the default applied on read', async () => {
      const got = (await api.raw('GET', `${path}/p1`)).json;
      return got?.spec?.color === 'red' ? got : undefined;
    });
    assert.deepEqual(read.spec, { n: 1, color: 'red' }, 'the dropped field is not served');
    const listed = (await api.raw('GET', path)).json!;
    assert.deepEqual(listed.items[0].spec, { n: 1, color: 'red' });
  });

  it('lets an update keep what a newer rule refuses, and warns of it', async () => {
    const schemaAt = (rules: object[]) => ({ openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { name: { type: 'string', 'x-kubernetes-validations': rules }, n: { type: 'integer' } } } } } });
    assert.equal((await api.raw('POST', crds, { body: crd('ratchets', [{ name: 'v1', served: true, storage: true, schema: schemaAt([{ rule: 'true' }]) }]) })).status, 201);
    const path = '/apis/life.nami.test/v1/namespaces/crds/ratchets';
    await waitFor('the Ratchet resource served', async () => ((await api.raw('POST', path, { body: { apiVersion: 'life.nami.test/v1', kind: 'Ratchet', metadata: { name: 'r1' }, spec: { name: 'toolong', n: 1 } } })).status === 201 ? true : undefined));
    const crdNow = (await api.raw('GET', `${crds}/ratchets.life.nami.test`)).json!;
    const tightened = await api.raw('PUT', `${crds}/ratchets.life.nami.test`, { body: { ...crdNow, spec: { ...crdNow.spec, versions: [{ name: 'v1', served: true, storage: true, schema: schemaAt([{ rule: 'self.size() <= 3', message: 'name too long' }]) }] } } });
    assert.equal(tightened.status, 200, tightened.text);
    const patched = await waitFor('the tightened rule in force', async () => {
      const bad = await api.raw('PATCH', `${path}/r1`, { body: { spec: { name: 'stilltoolong' } }, contentType: 'application/merge-patch+json' });
      return bad.status === 422 ? bad : undefined;
    });
    assert.match(patched.json?.message, /spec\.name: Invalid value: "string": name too long/);
    const kept = await api.raw('PATCH', `${path}/r1`, { body: { spec: { n: 2 } }, contentType: 'application/merge-patch+json' });
    assert.equal(kept.status, 200, kept.text);
    assert.equal(kept.headers.warning, '299 - "spec.name: Invalid value: \\"string\\": name too long"');
  });
});
