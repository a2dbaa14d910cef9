// Requests as a Kubernetes client makes them, through HTTPS: the errors a
// client gets for bad input, and the write semantics kube-apiserver has
// (concurrency, dry runs, finalizers, graceful deletion, subresources,
// allocation of service IPs, generated Job selectors, namespace lifecycle).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApiServer, waitFor, type TestApiServer } from './harness.js';
import { yamlOffThreadBytes } from '../../src/apiserver/http/body.js';

let api: TestApiServer;
before(async () => {
  api = await startTestApiServer();
  for (const name of ['errors', 'writes', 'subresources', 'tables']) {
    const r = await api.raw('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
    assert.equal(r.status, 201, r.text);
  }
});
after(async () => {
  await api?.close();
});

const cm = (name: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...extra }, data: { a: '1' } });
const pod = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: name } },
  spec: { containers: [{ name: 'main', image: 'busybox:1.36' }], ...extra },
});

function assertStatus(r: { status: number; json: Record<string, any> | undefined; text: string }, code: number, reason: string): Record<string, any> {
  assert.equal(r.status, code, r.text);
  assert.equal(r.json?.kind, 'Status', r.text);
  assert.equal(r.json?.status, 'Failure');
  assert.equal(r.json?.code, code);
  assert.equal(r.json?.reason, reason);
  assert.ok(typeof r.json?.message === 'string' && r.json.message.length > 0);
  return r.json!;
}

describe('bad requests get a Status, and the server goes on', () => {
  const cms = '/api/v1/namespaces/errors/configmaps';

  it('refuses requests without credentials with 401', async () => {
    assertStatus(await api.raw('GET', cms, { anonymous: true }), 401, 'Unauthorized');
  });

  it('answers malformed JSON with 400', async () => {
    const s = assertStatus(await api.raw('POST', cms, { body: '{"apiVersion": "v1", "kind": ' }), 400, 'BadRequest');
    assert.match(s.message, /JSON/);
  });

  it('refuses a CRD whose schema cannot be compiled, serves one with OpenAPI v3.0 bounds, and goes on', async () => {
    const crds = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
    const crd = (name: string, props: Record<string, unknown>) => ({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${name}.errors.nami.test` },
      spec: {
        group: 'errors.nami.test',
        scope: 'Namespaced',
        names: { plural: name, kind: name[0]!.toUpperCase() + name.slice(1, -1) },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: props } } } } }],
      },
    });
    const bad = assertStatus(await api.raw('POST', crds, { body: crd('bads', { name: { type: 'string', pattern: '^(a' } }) }), 422, 'Invalid');
    assert.match(bad.message, /spec\.validation\.openAPIV3Schema\.properties\[spec\]\.properties\[name\]\.pattern: Invalid value: "\^\(a": must be a valid regular expression/);
    // exclusiveMinimum is a flag on minimum in a CRD's schema (ajv alone refuses it, which once stopped the server).
    assert.equal((await api.raw('POST', crds, { body: crd('bounds', { ratio: { type: 'number', minimum: 0, exclusiveMinimum: true } }) })).status, 201);
    const path = '/apis/errors.nami.test/v1/namespaces/errors/bounds';
    const bound = (name: string, ratio: number) => ({ apiVersion: 'errors.nami.test/v1', kind: 'Bound', metadata: { name }, spec: { ratio } });
    await waitFor('the Bound resource served', async () => ((await api.raw('POST', path, { body: bound('ok', 0.5) })).status === 201 ? true : undefined));
    const zero = assertStatus(await api.raw('POST', path, { body: bound('zero', 0) }), 422, 'Invalid');
    assert.equal(zero.message, 'Bound.errors.nami.test "zero" is invalid: spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0');
    assert.equal((await api.raw('GET', '/readyz')).status, 200);
  });

  it('answers a method a path has no route for with the router\'s 405', async () => {
    const pods = '/api/v1/namespaces/errors/pods';
    assert.equal((await api.raw('POST', pods, { body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'routed' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } })).status, 201);
    const cases: [string, string, object?][] = [
      ['GET', `${pods}/routed/eviction`],
      ['GET', `${pods}/routed/binding`],
      ['GET', '/api/v1/namespaces/errors/serviceaccounts/default/token'],
      ['POST', `${pods}/routed`, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'routed' } }],
      ['DELETE', `${pods}/routed/log`],
    ];
    for (const [method, path, body] of cases) {
      const s = assertStatus(await api.raw(method, path, body ? { body } : {}), 405, 'MethodNotAllowed');
      assert.equal(s.message, 'the server does not allow this method on the requested resource', `${method} ${path}`);
    }
  });

  it('refuses list parameters that do not convert to their Go types, in the words of strconv', async () => {
    const s = assertStatus(await api.raw('GET', `${cms}?limit=abc`), 400, 'BadRequest');
    assert.equal(s.message, 'strconv.ParseInt: parsing "abc": invalid syntax');
    assert.equal(assertStatus(await api.raw('GET', `${cms}?limit=99999999999999999999`), 400, 'BadRequest').message, 'strconv.ParseInt: parsing "99999999999999999999": value out of range');
    assert.equal(assertStatus(await api.raw('GET', `${cms}?watch=true&timeoutSeconds=1.5`), 400, 'BadRequest').message, 'strconv.ParseInt: parsing "1.5": invalid syntax');
    assert.equal(assertStatus(await api.raw('GET', `${cms}?timeoutSeconds=abc`), 400, 'BadRequest').message, 'strconv.ParseInt: parsing "abc": invalid syntax', 'a list decodes timeoutSeconds too');
    assert.equal((await api.raw('GET', `${cms}?limit=1`)).status, 200);
  });

  it('answers a list at a resourceVersion the store has not reached with 504 ResourceVersionTooLarge, and one that is no uint64 with 400', async () => {
    const cms = '/api/v1/namespaces/errors/configmaps';
    const current = Number((await api.raw('GET', cms)).json?.metadata.resourceVersion);
    const ahead = current + 1_000_000;
    const tooLarge = assertStatus(await api.raw('GET', `${cms}?resourceVersion=${ahead}`), 504, 'Timeout');
    assert.match(tooLarge.message, new RegExp(`^Too large resource version: ${ahead}, current: \\d+$`));
    assert.deepEqual(tooLarge.details.causes, [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }]);
    for (const rv of ['x', '-1', '18446744073709551616', '1'.repeat(21)]) {
      assert.equal(assertStatus(await api.raw('GET', `${cms}?resourceVersion=${rv}`), 400, 'BadRequest').message, `invalid resource version "${rv}"`);
    }
  });

  it('refuses the resourceVersionMatch a list may not have, with 422 on ListOptions', async () => {
    const bogus = assertStatus(await api.raw('GET', `${cms}?resourceVersion=1&resourceVersionMatch=bogus`), 422, 'Invalid');
    assert.equal(bogus.details?.kind, 'ListOptions');
    assert.deepEqual(bogus.details?.causes, [{ reason: 'FieldValueNotSupported', message: 'Unsupported value: "bogus": supported values: "Exact", "NotOlderThan", ""', field: 'resourceVersionMatch' }]);
    const noVersion = assertStatus(await api.raw('GET', `${cms}?resourceVersionMatch=NotOlderThan`), 422, 'Invalid');
    assert.match(noVersion.message, /resourceVersionMatch is forbidden unless resourceVersion is provided/);
    const exactZero = assertStatus(await api.raw('GET', `${cms}?resourceVersion=0&resourceVersionMatch=Exact`), 422, 'Invalid');
    assert.match(exactZero.message, /resourceVersionMatch "exact" is forbidden for resourceVersion "0"/);
    assert.equal((await api.raw('GET', `${cms}?resourceVersion=1&resourceVersionMatch=NotOlderThan`)).status, 200);
  });

  it('refuses a field manager over 128 bytes or with a character that does not print, with 422 on the options', async () => {
    const long = assertStatus(await api.raw('POST', `${cms}?fieldManager=${'m'.repeat(129)}`, { body: cm('long-manager') }), 422, 'Invalid');
    assert.equal(long.details?.kind, 'CreateOptions');
    assert.deepEqual(long.details?.causes, [{ reason: 'FieldValueTooLong', message: 'Too long: may not be more than 128 bytes', field: 'fieldManager' }]);
    const bell = assertStatus(await api.raw('PATCH', `${cms}/long-manager?fieldManager=a%07b`, { body: '{}', contentType: 'application/merge-patch+json' }), 422, 'Invalid');
    assert.equal(bell.details?.kind, 'PatchOptions');
    assert.match(bell.message, /fieldManager: Invalid value: "a\\u0007b": invalid character U\+0007 \(at position 1\)/);
    assert.equal((await api.raw('POST', `${cms}?fieldManager=${'m'.repeat(128)}`, { body: cm('long-manager') })).status, 201);
  });

  it('answers malformed YAML with 400', async () => {
    assertStatus(await api.raw('POST', cms, { body: 'metadata:\n  name: [unclosed\n', contentType: 'application/yaml' }), 400, 'BadRequest');
  });

  it('parses a large YAML body on another thread: it decodes as a small one, and the server answers meanwhile', async () => {
    const keys = 20_000;
    let yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: large-yaml\ndata:\n';
    for (let i = 0; i < keys; i++) yaml += `  key${i}: "value ${i}"\n`;
    assert.ok(Buffer.byteLength(yaml) > yamlOffThreadBytes);
    const order: string[] = [];
    const large = api.raw('POST', cms, { body: yaml, contentType: 'application/yaml' }).then((r) => {
      order.push('large');
      return r;
    });
    // Sent once the large body is on its way; parsing it takes the parser most of a second here.
    await new Promise((r) => setTimeout(r, 50));
    const small = await api.raw('GET', cms);
    order.push('small');
    assert.equal(small.status, 200);
    const created = await large;
    assert.equal(created.status, 201, created.text);
    assert.equal(Object.keys(created.json?.data ?? {}).length, keys);
    assert.equal(created.json?.data.key19999, 'value 19999');
    assert.deepEqual(order, ['small', 'large']);
    // Its errors are a small body's.
    assertStatus(await api.raw('POST', cms, { body: `${yaml}  broken: [unclosed\n`, contentType: 'application/yaml' }), 400, 'BadRequest');
  });

  it('keeps the last of a repeated YAML key, as kube-apiserver keeps the last duplicate field', async () => {
    const r = await api.raw('POST', cms, { body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: repeated\ndata:\n  k: first\n  k: last\n', contentType: 'application/yaml' });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.json?.data, { k: 'last' });
  });

  it('accepts YAML bodies', async () => {
    const r = await api.raw('POST', cms, { body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  k: v\n', contentType: 'application/yaml' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json?.data.k, 'v');
  });

  it('answers an unknown content type with 415', async () => {
    assertStatus(await api.raw('POST', cms, { body: 'hello', contentType: 'text/plain' }), 415, 'UnsupportedMediaType');
  });

  it('answers a patch with an unknown patch type with 415', async () => {
    assert.equal((await api.raw('POST', cms, { body: cm('patch-me') })).status, 201);
    assertStatus(await api.raw('PATCH', `${cms}/patch-me`, { body: '{}', contentType: 'application/xml' }), 415, 'UnsupportedMediaType');
  });

  it('answers a body over 3 MiB with 413', async () => {
    const big = JSON.stringify(cm('big', {})).replace('"a":"1"', `"a":"${'x'.repeat(3 * 1024 * 1024)}"`);
    assertStatus(await api.raw('POST', cms, { body: big }), 413, 'RequestEntityTooLarge');
  });

  it('answers an invalid name with 422 and the field that is wrong', async () => {
    const s = assertStatus(await api.raw('POST', cms, { body: cm('Not_A_Name') }), 422, 'Invalid');
    assert.equal(s.details.kind, 'ConfigMap');
    assert.ok(s.details.causes.some((c: { field: string }) => c.field === 'metadata.name'), JSON.stringify(s.details));
  });

  it('rejects unknown fields under fieldValidation=Strict, naming them', async () => {
    const body = { ...pod('strict'), spec: { containers: [{ name: 'main', image: 'busybox', bogus: 1 }] }, extra: true };
    const s = assertStatus(await api.raw('POST', '/api/v1/namespaces/errors/pods?fieldValidation=Strict', { body }), 400, 'BadRequest');
    assert.match(s.message, /unknown field "spec\.containers\[0\]\.bogus"/);
    assert.match(s.message, /unknown field "extra"/);
    // The decoder's words, as for a value of the wrong type.
    assert.match(s.message, /^Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field /);
  });

  it('warns about unknown fields by default and drops them', async () => {
    const body = { ...pod('warned'), spec: { containers: [{ name: 'main', image: 'busybox', bogus: 1 }] } };
    const r = await api.raw('POST', '/api/v1/namespaces/errors/pods', { body });
    assert.equal(r.status, 201, r.text);
    assert.match(String(r.headers.warning), /unknown field \\"spec\.containers\[0\]\.bogus\\"/);
    assert.equal(r.json?.spec.containers[0].bogus, undefined);
    const ignored = await api.raw('POST', '/api/v1/namespaces/errors/pods?fieldValidation=Ignore', { body: { ...body, metadata: { name: 'ignored' } } });
    assert.equal(ignored.status, 201, ignored.text);
    assert.equal(ignored.headers.warning, undefined);
  });

  it('checks a merge patch\'s own members for unknown fields: refused under Strict, dropped with a warning by default, and a null member deletes', async () => {
    const created = await api.raw('POST', '/api/v1/namespaces/errors/pods', { body: pod('patched') });
    assert.equal(created.status, 201, created.text);
    const path = '/api/v1/namespaces/errors/pods/patched';
    const merge = 'application/merge-patch+json';
    const strict = assertStatus(
      await api.raw('PATCH', `${path}?fieldValidation=Strict`, { body: { metadata: { labels: { a: 'b' } }, spec: { bogus: 1 } }, contentType: merge }),
      400,
      'BadRequest',
    );
    assert.match(strict.message, /unknown field "spec\.bogus"/);
    const warned = await api.raw('PATCH', path, { body: { metadata: { labels: { a: 'b' } }, spec: { bogus: 1 } }, contentType: merge });
    assert.equal(warned.status, 200, warned.text);
    assert.match(String(warned.headers.warning), /unknown field \\"spec\.bogus\\"/);
    assert.equal(warned.json?.metadata.labels.a, 'b');
    assert.equal(warned.json?.spec.bogus, undefined);
    // Deleting a field that does not exist names no field of the result, as Kubernetes' strict decoding of the patched object has it.
    const deleting = await api.raw('PATCH', `${path}?fieldValidation=Strict`, { body: { metadata: { labels: { a: null } }, spec: { bogus: null } }, contentType: merge });
    assert.equal(deleting.status, 200, deleting.text);
    assert.equal(deleting.headers.warning, undefined);
    assert.equal(deleting.json?.metadata.labels?.a, undefined);
  });

  it('refuses an applied configuration with undeclared fields whatever fieldValidation says, in server-side apply\'s words', async () => {
    const apply = 'application/apply-patch+yaml';
    const path = '/api/v1/namespaces/errors/pods/applied';
    const config = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'applied', namespace: 'errors' }, spec: { containers: [{ name: 'main', image: 'busybox', bogus: 1 }] }, extra: true };
    for (const mode of ['Strict', 'Ignore']) {
      const s = assertStatus(await api.raw('PATCH', `${path}?fieldManager=me&fieldValidation=${mode}`, { body: config, contentType: apply }), 400, 'BadRequest');
      assert.equal(s.message, 'failed to create typed patch object (errors/applied; /v1, Kind=Pod): errors:\n  .spec.containers[name="main"].bogus: field not declared in schema\n  .extra: field not declared in schema');
    }
    const one = assertStatus(await api.raw('PATCH', `${path}?fieldManager=me`, { body: { ...config, extra: undefined, spec: { containers: [{ name: 'main', image: 'busybox' }], bogus: 'x' } }, contentType: apply }), 400, 'BadRequest');
    assert.equal(one.message, 'failed to create typed patch object (errors/applied; /v1, Kind=Pod): .spec.bogus: field not declared in schema');
    const ok = await api.raw('PATCH', `${path}?fieldManager=me`, { body: { ...config, extra: undefined, spec: { containers: [{ name: 'main', image: 'busybox' }] } }, contentType: apply });
    assert.equal(ok.status, 201, ok.text);
  });

  it('answers a bad label selector and an unsupported field selector with 400', async () => {
    assertStatus(await api.raw('GET', `${cms}?labelSelector=${encodeURIComponent('a in (b')}`), 400, 'BadRequest');
    const s = assertStatus(await api.raw('GET', `/api/v1/namespaces/errors/pods?fieldSelector=${encodeURIComponent('spec.bogus=x')}`), 400, 'BadRequest');
    assert.match(s.message, /field label not supported: spec\.bogus/);
  });

  it('answers a body of another kind with 400', async () => {
    assertStatus(await api.raw('POST', cms, { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } } }), 400, 'BadRequest');
  });

  it('answers unknown paths and resources with 404', async () => {
    assertStatus(await api.raw('GET', '/api/v1/namespaces/errors/widgets'), 404, 'NotFound');
    assertStatus(await api.raw('GET', `${cms}/nope`), 404, 'NotFound');
  });

  it('is still serving after all of that', async () => {
    const r = await api.raw('GET', '/readyz');
    assert.equal(r.status, 200);
    assert.equal(r.text, 'ok');
  });
});

describe('writes', () => {
  const cms = '/api/v1/namespaces/writes/configmaps';

  it('answers an update with a stale resourceVersion with 409 Conflict', async () => {
    const created = await api.raw('POST', cms, { body: cm('occ') });
    const first = await api.raw('PUT', `${cms}/occ`, { body: { ...created.json, data: { a: '2' } } });
    assert.equal(first.status, 200, first.text);
    assert.notEqual(first.json?.metadata.resourceVersion, created.json?.metadata.resourceVersion);
    const s = assertStatus(await api.raw('PUT', `${cms}/occ`, { body: { ...created.json, data: { a: '3' } } }), 409, 'Conflict');
    assert.match(s.message, /the object has been modified/);
  });

  it('names objects from generateName', async () => {
    const r = await api.raw('POST', cms, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-' } } });
    assert.equal(r.status, 201, r.text);
    assert.match(r.json?.metadata.name, /^gen-[a-z0-9]{5}$/);
  });

  it('stores nothing on dryRun=All', async () => {
    const r = await api.raw('POST', `${cms}?dryRun=All`, { body: cm('dry') });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json?.metadata.name, 'dry');
    assertStatus(await api.raw('GET', `${cms}/dry`), 404, 'NotFound');
    assertStatus(await api.raw('POST', `${cms}?dryRun=Some`, { body: cm('dry') }), 400, 'BadRequest');
  });

  it('pages lists with limit and continue', async () => {
    for (let i = 0; i < 5; i++) await api.raw('POST', '/api/v1/namespaces/writes/secrets', { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: `page-${i}` } } });
    const names: string[] = [];
    let cont = '';
    let pages = 0;
    do {
      const r = await api.raw('GET', `/api/v1/namespaces/writes/secrets?limit=2${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
      assert.equal(r.status, 200, r.text);
      assert.ok(r.json!.items.length <= 2);
      if (pages === 0) assert.equal(r.json!.metadata.remainingItemCount, 3);
      names.push(...r.json!.items.map((i: { metadata: { name: string } }) => i.metadata.name));
      cont = r.json!.metadata.continue ?? '';
      pages++;
    } while (cont);
    assert.deepEqual(names, ['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    assert.equal(pages, 3);
  });

  it('reads a list to its end without keeping it, giving the whole body\'s length, and a missing resource\'s Status', async () => {
    for (let i = 0; i < 3; i++) await api.raw('POST', '/api/v1/namespaces/writes/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `long-${i}` }, data: { text: 'ü€😀'.repeat(20_000) } } });
    const path = '/api/v1/namespaces/writes/configmaps';
    const whole = await api.client.requestText('GET', path);
    assert.ok(whole.text.includes('long-2'));
    assert.equal(await api.client.requestLength('GET', path), Buffer.byteLength(whole.text));
    await assert.rejects(api.client.requestLength('GET', '/api/v1/namespaces/writes/nothings'), (err: { code?: number; reason?: string }) => err.code === 404 && err.reason === 'NotFound');
  });

  it('keeps an object with finalizers until they are removed', async () => {
    await api.raw('POST', cms, { body: cm('held', { finalizers: ['example.com/hold'] }) });
    const del = await api.raw('DELETE', `${cms}/held`);
    assert.equal(del.status, 200, del.text);
    assert.ok(del.json?.metadata.deletionTimestamp, 'the object is marked for deletion');
    const still = await api.raw('GET', `${cms}/held`);
    assert.equal(still.status, 200);
    assert.deepEqual(still.json?.metadata.finalizers, ['example.com/hold']);
    const patched = await api.raw('PATCH', `${cms}/held`, { body: { metadata: { finalizers: null } }, contentType: 'application/merge-patch+json' });
    assert.equal(patched.status, 200, patched.text);
    assertStatus(await api.raw('GET', `${cms}/held`), 404, 'NotFound');
  });

  it('rejects an unknown propagationPolicy with 422', async () => {
    await api.raw('POST', cms, { body: cm('policy') });
    assertStatus(await api.raw('DELETE', `${cms}/policy?propagationPolicy=Sometimes`), 422, 'Invalid');
    assert.equal((await api.raw('DELETE', `${cms}/policy?propagationPolicy=Background`)).status, 200);
  });

  it('refuses new objects in a missing or terminating namespace', async () => {
    const s = assertStatus(await api.raw('POST', '/api/v1/namespaces/nowhere/configmaps', { body: cm('x') }), 404, 'NotFound');
    assert.match(s.message, /namespaces "nowhere" not found/);
    await api.raw('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'closing' } } });
    await api.raw('POST', '/api/v1/namespaces/closing/configmaps', { body: cm('inside') });
    const del = await api.raw('DELETE', '/api/v1/namespaces/closing');
    assert.equal(del.json?.status?.phase, 'Terminating', del.text);
    const f = assertStatus(await api.raw('POST', '/api/v1/namespaces/closing/configmaps', { body: cm('late') }), 403, 'Forbidden');
    assert.match(f.message, /unable to create new content in namespace closing because it is being terminated/);
  });

  it('allocates distinct cluster IPs and node ports, and keeps them on update', async () => {
    const svcs = '/api/v1/namespaces/writes/services';
    const spec = (type: string) => ({ type, selector: { app: 'x' }, ports: [{ port: 80, targetPort: 8080 }] });
    const a = await api.raw('POST', svcs, { body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' }, spec: spec('ClusterIP') } });
    const b = await api.raw('POST', svcs, { body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'b' }, spec: spec('NodePort') } });
    assert.equal(a.status, 201, a.text);
    assert.equal(b.status, 201, b.text);
    for (const svc of [a.json!, b.json!]) {
      assert.match(svc.spec.clusterIP, /^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/, 'an address of 10.96.0.0/12');
      assert.deepEqual(svc.spec.clusterIPs, [svc.spec.clusterIP]);
    }
    assert.notEqual(a.json!.spec.clusterIP, b.json!.spec.clusterIP);
    const nodePort = b.json!.spec.ports[0].nodePort as number;
    assert.ok(nodePort >= 30000 && nodePort <= 32767, String(nodePort));
    const kubernetes = await api.raw('GET', '/api/v1/namespaces/default/services/kubernetes');
    assert.equal(kubernetes.json?.spec.clusterIP, '10.96.0.1');
    // A PUT of the manifest without the allocated values keeps them.
    const put = await api.raw('PUT', `${svcs}/b`, { body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'b' }, spec: spec('NodePort') } });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.json?.spec.clusterIP, b.json!.spec.clusterIP);
    assert.equal(put.json?.spec.ports[0].nodePort, nodePort);
    // The node port goes with the port's name, as Kubernetes pairs them: a renumbered port keeps it, a renamed one gets another.
    const named = (name: string, port: number) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'named' }, spec: { type: 'NodePort', selector: { app: 'n' }, ports: [{ name, port }] } });
    const first = await api.raw('POST', svcs, { body: named('web', 80) });
    assert.equal(first.status, 201, first.text);
    const renumbered = await api.raw('PUT', `${svcs}/named`, { body: named('web', 8080) });
    assert.equal(renumbered.json?.spec.ports[0].nodePort, first.json?.spec.ports[0].nodePort);
    const renamed = await api.raw('PUT', `${svcs}/named`, { body: named('http', 8080) });
    assert.equal(renamed.status, 200, renamed.text);
    assert.notEqual(renamed.json?.spec.ports[0].nodePort, first.json?.spec.ports[0].nodePort);
    const taken = await api.raw('POST', svcs, { body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'c' }, spec: { ...spec('ClusterIP'), clusterIP: a.json!.spec.clusterIP } } });
    assertStatus(taken, 422, 'Invalid');
    assert.match(taken.json!.message, /provided IP is already allocated/);
  });

  it('refuses a requested cluster IP outside the service CIDR, or its network and broadcast addresses', async () => {
    const svcs = '/api/v1/namespaces/writes/services';
    const post = (name: string, clusterIP: string) =>
      api.raw('POST', svcs, { body: { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { clusterIP, selector: { app: 'x' }, ports: [{ port: 80 }] } } });
    const outside = assertStatus(await post('outside', '10.0.0.5'), 422, 'Invalid');
    assert.equal(outside.message, 'Service "outside" is invalid: spec.clusterIPs: Invalid value: ["10.0.0.5"]: failed to allocate IP 10.0.0.5: the provided network does not match the current range');
    assert.deepEqual(outside.details.causes, [
      { reason: 'FieldValueInvalid', message: 'Invalid value: ["10.0.0.5"]: failed to allocate IP 10.0.0.5: the provided network does not match the current range', field: 'spec.clusterIPs' },
    ]);
    for (const ip of ['10.96.0.0', '10.111.255.255']) {
      const s = assertStatus(await post('edge', ip), 422, 'Invalid');
      assert.equal(
        s.message,
        `Service "edge" is invalid: spec.clusterIPs: Invalid value: ["${ip}"]: failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is 10.96.0.0/12`,
      );
    }
    const inside = await post('inside', '10.111.255.254');
    assert.equal(inside.status, 201, inside.text);
    assert.equal(inside.json?.spec.clusterIP, '10.111.255.254');
  });

  it('drops what only a Service\'s old type needed when a patch changes the type, and sets node ports on its own copy of the ports', async () => {
    const svcs = '/api/v1/namespaces/writes/services';
    const merge = (name: string, body: object) => api.raw('PATCH', `${svcs}/${name}`, { body, contentType: 'application/merge-patch+json' });
    const created = await api.raw('POST', svcs, { body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'retyped' }, spec: { type: 'ClusterIP', ports: [{ port: 80 }] } } });
    assert.equal(created.status, 201, created.text);
    // A merge patch leaves the ports as stored: the node port handed out must not be written into the stored Service's.
    const toNodePort = await merge('retyped', { spec: { type: 'NodePort' } });
    assert.equal(toNodePort.status, 200, toNodePort.text);
    assert.ok(toNodePort.json?.spec.ports[0].nodePort >= 30000);
    assert.equal(toNodePort.json?.spec.externalTrafficPolicy, 'Cluster');
    const back = await merge('retyped', { spec: { type: 'ClusterIP' } });
    assert.equal(back.status, 200, back.text);
    assert.deepEqual([back.json?.spec.ports[0].nodePort, back.json?.spec.externalTrafficPolicy], [undefined, undefined]);
    const external = await merge('retyped', { spec: { type: 'ExternalName', externalName: 'example.invalid' } });
    assert.equal(external.status, 200, external.text);
    assert.deepEqual([external.json?.spec.clusterIP, external.json?.spec.clusterIPs, external.json?.spec.ipFamilies], [undefined, undefined, undefined]);
  });

  it('claims the node ports Services ask for, refuses taken and out-of-range ones, and frees them on delete', async () => {
    const svcs = '/api/v1/namespaces/writes/services';
    const svc = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ...spec } });
    const nodePort = (name: string, port: number, extra: Record<string, unknown> = {}) => svc(name, { type: 'NodePort', ports: [{ port: 80, nodePort: port }], ...extra });
    const a = await api.raw('POST', svcs, { body: nodePort('np-a', 30080) });
    assert.equal(a.status, 201, a.text);
    assert.equal(a.json?.spec.ports[0].nodePort, 30080);
    const taken = assertStatus(await api.raw('POST', svcs, { body: nodePort('np-b', 30080) }), 422, 'Invalid');
    assert.equal(taken.message, 'Service "np-b" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated');
    assert.deepEqual(taken.details.causes, [{ reason: 'FieldValueInvalid', message: 'Invalid value: 30080: provided port is already allocated', field: 'spec.ports[0].nodePort' }]);
    const outside = assertStatus(await api.raw('POST', svcs, { body: nodePort('np-b', 20000) }), 422, 'Invalid');
    assert.equal(outside.message, 'Service "np-b" is invalid: spec.ports[0].nodePort: Invalid value: 20000: provided port is not in the valid range. The range of valid ports is 30000-32767');
    // A LoadBalancer asking for no ports gets one per port number (TCP and UDP 53 share one); one that allocates none gets none.
    const lb = await api.raw('POST', svcs, {
      body: svc('np-lb', { type: 'LoadBalancer', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }, { name: 'web', port: 80 }] }),
    });
    assert.equal(lb.status, 201, lb.text);
    const [udp, tcp, web] = (lb.json!.spec.ports as { nodePort: number }[]).map((p) => p.nodePort);
    assert.ok(udp! >= 30000 && udp! <= 32767 && udp === tcp && web !== udp && web! >= 30000, lb.text);
    const none = await api.raw('POST', svcs, { body: svc('np-none', { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80 }] }) });
    assert.equal(none.status, 201, none.text);
    assert.equal(none.json?.spec.ports[0].nodePort, undefined);
    // An update keeps its own ports and claims the ones it adds.
    const update = (ports: unknown[]) => api.raw('PUT', `${svcs}/np-a`, { body: svc('np-a', { type: 'NodePort', ports }) });
    assert.equal((await update([{ name: 'a', port: 80, nodePort: 30080 }, { name: 'b', port: 81, nodePort: 30081 }])).status, 200);
    const clash = assertStatus(await update([{ name: 'a', port: 80, nodePort: 30080 }, { name: 'c', port: 82, nodePort: udp }]), 422, 'Invalid');
    assert.equal(clash.message, `Service "np-a" is invalid: spec.ports[1].nodePort: Invalid value: ${udp}: provided port is already allocated`);
    // Refused creates and dry runs hold nothing; a deleted Service's ports are free at once.
    const refused = assertStatus(await api.raw('POST', svcs, { body: nodePort('np-c', 30090, { sessionAffinity: 'Sometimes' }) }), 422, 'Invalid');
    assert.match(refused.message, /spec.sessionAffinity: Unsupported value: "Sometimes"/);
    assert.equal((await api.raw('POST', `${svcs}?dryRun=All`, { body: nodePort('np-c', 30090) })).status, 201);
    assert.equal((await api.raw('POST', svcs, { body: nodePort('np-c', 30090) })).status, 201);
    assert.equal((await api.raw('DELETE', `${svcs}/np-a`)).status, 200);
    const again = await api.raw('POST', svcs, { body: nodePort('np-b', 30080) });
    assert.equal(again.status, 201, again.text);
    const freed = await api.raw('POST', svcs, { body: nodePort('np-d', 30081) });
    assert.equal(freed.status, 201, freed.text);
  });

  it('generates a Job selector and template labels from its uid', async () => {
    const body = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'once' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } };
    const r = await api.raw('POST', '/apis/batch/v1/namespaces/writes/jobs', { body });
    assert.equal(r.status, 201, r.text);
    const uid = r.json!.metadata.uid as string;
    assert.deepEqual(r.json!.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
    assert.equal(r.json!.spec.template.metadata.labels['batch.kubernetes.io/job-name'], 'once');
    assert.equal(r.json!.spec.template.metadata.labels['controller-uid'], uid);
    const manual = await api.raw('POST', '/apis/batch/v1/namespaces/writes/jobs', {
      body: { ...body, metadata: { name: 'manual' }, spec: { ...body.spec, manualSelector: true } },
    });
    assertStatus(manual, 422, 'Invalid');
    assert.ok(manual.json!.details.causes.some((c: { field: string }) => c.field === 'spec.selector'), manual.text);
  });

  it('records field managers on ordinary writes', async () => {
    const r = await api.raw('POST', `${cms}?fieldManager=tester`, { body: cm('managed') });
    const entry = r.json!.metadata.managedFields.find((m: { manager: string }) => m.manager === 'tester');
    assert.equal(entry.operation, 'Update');
    assert.deepEqual(Object.keys(entry.fieldsV1).sort(), ['f:data']);
  });

  it('leaves out the empty members Go\'s JSON leaves out (omitempty), on create, update and every patch type, and keeps pointers and structs', async () => {
    const pods = '/api/v1/namespaces/writes/pods';
    const created = await api.raw('POST', pods, {
      body: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'empties', annotations: {}, labels: {}, finalizers: [], ownerReferences: [] },
        spec: {
          hostname: '',
          nodeSelector: {},
          hostNetwork: false,
          priority: 0,
          automountServiceAccountToken: false,
          containers: [{ name: 'main', image: 'busybox', args: [], env: [], ports: [], workingDir: '', resources: { limits: {} } }],
        },
      },
    });
    assert.equal(created.status, 201, created.text);
    const meta = created.json!.metadata;
    for (const member of ['annotations', 'labels', 'finalizers', 'ownerReferences']) assert.equal(member in meta, false, `metadata.${member} is left out`);
    const spec = created.json!.spec;
    for (const member of ['hostname', 'nodeSelector', 'hostNetwork']) assert.equal(member in spec, false, `spec.${member} is left out`);
    assert.equal(spec.priority, 0, 'a pointer set to 0 stays');
    assert.equal(spec.automountServiceAccountToken, false, 'a pointer set to false stays');
    assert.deepEqual(spec.containers[0].resources, {}, 'a struct stays, however empty, and no empty requests are defaulted from empty limits');
    for (const member of ['args', 'env', 'ports', 'workingDir']) assert.equal(member in spec.containers[0], false, `containers[0].${member} is left out`);
    assert.equal(JSON.stringify(created.json!.metadata.managedFields).includes('f:annotations'), false, 'nobody owns what is not there');

    // A merge patch that empties a map, and a JSON patch and a strategic merge patch that set empty members.
    const cmPath = `${cms}/emptied`;
    assert.equal((await api.raw('POST', cms, { body: cm('emptied', { annotations: { a: '1' } }) })).status, 201);
    const merged = await api.raw('PATCH', cmPath, { body: { metadata: { annotations: { a: null } } }, contentType: 'application/merge-patch+json' });
    assert.equal(merged.status, 200, merged.text);
    assert.equal('annotations' in merged.json!.metadata, false, 'an emptied map is left out');
    const json = await api.raw('PATCH', cmPath, { body: [{ op: 'add', path: '/metadata/labels', value: {} }, { op: 'replace', path: '/data', value: {} }], contentType: 'application/json-patch+json' });
    assert.equal(json.status, 200, json.text);
    assert.equal('labels' in json.json!.metadata, false);
    assert.equal('data' in json.json!, false);
    const strategic = await api.raw('PATCH', cmPath, { body: { metadata: { annotations: {} }, binaryData: {} }, contentType: 'application/strategic-merge-patch+json' });
    assert.equal(strategic.status, 200, strategic.text);
    assert.equal('annotations' in strategic.json!.metadata, false);
    assert.equal('binaryData' in strategic.json!, false);
    const updated = await api.raw('PUT', cmPath, { body: { ...strategic.json!, data: {}, immutable: false } });
    assert.equal(updated.status, 200, updated.text);
    assert.equal('data' in updated.json!, false);
    assert.equal(updated.json!.immutable, false, 'a pointer keeps false');
  });

  it('keeps an applied configuration\'s empty members as fields its manager owns, and leaves them out of the object', async () => {
    const applied = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied-empty', annotations: {} }, data: { a: '1' } };
    const r = await api.raw('PATCH', `${cms}/applied-empty?fieldManager=applier`, { body: applied, contentType: 'application/apply-patch+yaml' });
    assert.equal(r.status, 201, r.text);
    assert.equal('annotations' in r.json!.metadata, false);
    const entry = r.json!.metadata.managedFields.find((m: { manager: string }) => m.manager === 'applier');
    assert.deepEqual(entry.fieldsV1['f:metadata'], { 'f:annotations': {} });
  });
});

describe('subresources', () => {
  const pods = '/api/v1/namespaces/subresources/pods';
  const deploys = '/apis/apps/v1/namespaces/subresources/deployments';

  it('binds a pod to a node once', async () => {
    await api.raw('POST', pods, { body: pod('bound') });
    const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bound' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-1' } };
    const r = await api.raw('POST', `${pods}/bound/binding`, { body: binding });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json?.status, 'Success');
    const got = await api.raw('GET', `${pods}/bound`);
    assert.equal(got.json?.spec.nodeName, 'node-1');
    assert.ok(got.json?.status.conditions.some((c: { type: string; status: string }) => c.type === 'PodScheduled' && c.status === 'True'));
    const again = assertStatus(await api.raw('POST', `${pods}/bound/binding`, { body: { ...binding, target: { kind: 'Node', name: 'node-2' } } }), 409, 'Conflict');
    assert.match(again.message, /already assigned to node "node-1"/);
  });

  it('deletes a pod on a node gracefully', async () => {
    await api.raw('POST', pods, { body: pod('graceful', { nodeName: 'node-1' }) });
    const del = await api.raw('DELETE', `${pods}/graceful`);
    assert.equal(del.status, 200, del.text);
    assert.equal(del.json?.metadata.deletionGracePeriodSeconds, 30);
    assert.equal((await api.raw('GET', `${pods}/graceful`)).status, 200, 'the pod stays until its node confirms or the grace is cut');
    const now = await api.raw('DELETE', `${pods}/graceful?gracePeriodSeconds=0`);
    assert.equal(now.status, 200, now.text);
    assert.equal(now.json?.kind, 'Pod', 'a pod\'s delete answers with the pod, as kube-apiserver\'s pod registry does');
    assert.ok(Number(now.json?.metadata.resourceVersion) > Number(del.json?.metadata.resourceVersion), 'with the resourceVersion of the deletion');
    assertStatus(await api.raw('GET', `${pods}/graceful`), 404, 'NotFound');
  });

  it('indents JSON for ?pretty=true and for curl, as kube-apiserver does, and not otherwise', async () => {
    const cms = '/api/v1/namespaces/subresources/configmaps';
    assert.equal((await api.raw('POST', cms, { body: cm('shown') })).status, 201);
    const pretty = await api.raw('GET', `${cms}/shown?pretty=true`);
    assert.match(pretty.text, /^\{\n {2}"apiVersion": "v1",\n/);
    assert.ok(pretty.text.endsWith('}\n'));
    assert.match((await api.raw('GET', `${cms}/shown`, { userAgent: 'curl/7.88.1' })).text, /^\{\n {2}"/);
    assert.match((await api.raw('GET', `${cms}?limit=1`, { userAgent: 'curl/7.88.1' })).text, /^\{\n {2}"kind": "ConfigMapList",\n/);
    assert.match((await api.raw('GET', `${cms}/missing`, { userAgent: 'Wget/1.21' })).text, /^\{\n {2}"kind": "Status",\n/);
    assert.match((await api.raw('GET', `${cms}/shown?pretty=false`, { userAgent: 'curl/7.88.1' })).text, /^\{"apiVersion"/);
    assert.match((await api.raw('GET', `${cms}/shown`)).text, /^\{"apiVersion"/);
  });

  it('answers a delete that completes at once with a Success Status for most kinds, and with the object for the kinds kube-apiserver returns', async () => {
    const cms = '/api/v1/namespaces/subresources/configmaps';
    const made = await api.raw('POST', cms, { body: cm('gone') });
    const del = await api.raw('DELETE', `${cms}/gone`);
    assert.equal(del.status, 200, del.text);
    assert.deepEqual(del.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: 'gone', kind: 'configmaps', uid: made.json?.metadata.uid } });
    const deployments = '/apis/apps/v1/namespaces/subresources/deployments';
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'gone' }, spec: { selector: { matchLabels: { app: 'gone' } }, template: { metadata: { labels: { app: 'gone' } }, spec: pod('x').spec } } };
    assert.equal((await api.raw('POST', deployments, { body: deployment })).status, 201);
    const delDeployment = await api.raw('DELETE', `${deployments}/gone`);
    assert.equal(delDeployment.json?.details.group, 'apps');
    assert.equal(delDeployment.json?.details.kind, 'deployments');
    const accounts = '/api/v1/namespaces/subresources/serviceaccounts';
    assert.equal((await api.raw('POST', accounts, { body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'gone' } } })).status, 201);
    const delAccount = await api.raw('DELETE', `${accounts}/gone`);
    assert.equal(delAccount.json?.kind, 'ServiceAccount');
    assert.equal(delAccount.json?.metadata.name, 'gone');
  });

  it('evicts a pod only while its disruption budget allows it', async () => {
    await api.raw('POST', pods, { body: { ...pod('evictee', { nodeName: 'node-1' }), metadata: { name: 'evictee', labels: { app: 'guarded' } } } });
    const pdbs = '/apis/policy/v1/namespaces/subresources/poddisruptionbudgets';
    const pdb = await api.raw('POST', pdbs, { body: { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'guard' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'guarded' } } } } });
    assert.equal(pdb.status, 201, pdb.text);
    const eviction = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'evictee' } };
    const first = await api.raw('POST', `${pods}/evictee/eviction`, { body: eviction });
    const refused = assertStatus(first, 429, 'TooManyRequests');
    assert.equal(refused.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.deepEqual(refused.details, { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget guard is still being processed by the server.' }] });
    assert.equal(first.headers['retry-after'], undefined, 'no retry time is suggested, as kube-apiserver suggests none');
    const counted = await api.raw('PUT', `${pdbs}/guard/status`, { body: { ...pdb.json, status: { observedGeneration: 1, disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 } } });
    assert.equal(counted.status, 200, counted.text);
    const blocked = assertStatus(await api.raw('POST', `${pods}/evictee/eviction`, { body: eviction }), 429, 'TooManyRequests');
    assert.equal(blocked.details.causes[0].message, 'The disruption budget guard needs 1 healthy pods and has 1 currently');
    const status = { observedGeneration: 1, disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 };
    const put = await api.raw('PUT', `${pdbs}/guard/status`, { body: { ...counted.json, status } });
    assert.equal(put.status, 200, put.text);
    const ok = await api.raw('POST', `${pods}/evictee/eviction`, { body: eviction });
    assert.equal(ok.status, 201, ok.text);
    assert.ok((await api.raw('GET', `${pods}/evictee`)).json?.metadata.deletionTimestamp, 'the evicted pod is being deleted');
    assert.equal((await api.raw('GET', `${pdbs}/guard`)).json?.status.disruptionsAllowed, 0);
  });

  it('takes concurrent evictions from the budget one by one', async () => {
    for (const name of ['c-0', 'c-1', 'c-2']) await api.raw('POST', pods, { body: { ...pod(name), metadata: { name, labels: { app: 'concurrent' } } } });
    const pdbs = '/apis/policy/v1/namespaces/subresources/poddisruptionbudgets';
    const pdb = await api.raw('POST', pdbs, { body: { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'concurrent' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'concurrent' } } } } });
    await api.raw('PUT', `${pdbs}/concurrent/status`, { body: { ...pdb.json, status: { observedGeneration: 1, disruptionsAllowed: 2, currentHealthy: 3, desiredHealthy: 1, expectedPods: 3 } } });
    const evict = (name: string) => api.raw('POST', `${pods}/${name}/eviction`, { body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name } } });
    const codes = (await Promise.all(['c-0', 'c-1', 'c-2'].map(evict))).map((r) => r.status).sort();
    assert.deepEqual(codes, [201, 201, 429]);
  });

  it('scales a Deployment through /scale, changing only its spec', async () => {
    const d = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    };
    const created = await api.raw('POST', deploys, { body: d });
    assert.equal(created.status, 201, created.text);
    const scale = await api.raw('GET', `${deploys}/web/scale`);
    assert.equal(scale.json?.kind, 'Scale');
    assert.equal(scale.json?.spec.replicas, 1);
    assert.equal(scale.json?.status.selector, 'app=web');
    const put = await api.raw('PUT', `${deploys}/web/scale`, { body: { ...scale.json, spec: { replicas: 4 } } });
    assert.equal(put.status, 200, put.text);
    const after = await api.raw('GET', `${deploys}/web`);
    assert.equal(after.json?.spec.replicas, 4);
    assert.equal(after.json?.metadata.generation, 2);
    assert.deepEqual(after.json?.status ?? {}, created.json?.status ?? {});
  });

  it('answers a Scale as a Table with Kubernetes\' Scale columns, and records the scale write as the subresource "scale"', async () => {
    const table = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
    const t = await api.raw('GET', `${deploys}/web/scale`, { accept: table });
    assert.equal(t.status, 200, t.text);
    assert.equal(t.json?.kind, 'Table');
    assert.deepEqual(
      t.json?.columnDefinitions.map((c: { name: string; type: string; format: string }) => [c.name, c.type, c.format]),
      [['Name', 'string', ''], ['Desired', 'integer', ''], ['Available', 'integer', ''], ['Age', 'string', '']],
    );
    assert.deepEqual(t.json?.rows[0].cells.slice(0, 3), ['web', 4, 0]);
    assert.equal(t.json?.rows[0].object.kind, 'PartialObjectMetadata');
    const patched = await api.raw('PATCH', `${deploys}/web/scale?fieldManager=scaler`, { body: { spec: { replicas: 5 } }, contentType: 'application/strategic-merge-patch+json' });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.json?.spec.replicas, 5);
    const after = await api.raw('GET', `${deploys}/web`);
    const entry = after.json?.metadata.managedFields.find((m: { manager: string }) => m.manager === 'scaler');
    assert.deepEqual({ subresource: entry?.subresource, fields: entry?.fieldsV1, apiVersion: entry?.apiVersion }, { subresource: 'scale', fields: { 'f:spec': { 'f:replicas': {} } }, apiVersion: 'apps/v1' });
  });

  it('reads and writes a custom resource\'s Scale through the paths its CRD names', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'pools.scale.nami.test' },
      spec: {
        group: 'scale.nami.test',
        scope: 'Namespaced',
        names: { plural: 'pools', singular: 'pool', kind: 'Pool' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            subresources: { status: {}, scale: { specReplicasPath: '.spec.size', statusReplicasPath: '.status.count', labelSelectorPath: '.status.sel' } },
            schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' }, tier: { type: 'string' } } }, status: { type: 'object', properties: { count: { type: 'integer' }, sel: { type: 'string' } } } } } },
          },
        ],
      },
    };
    assert.equal((await api.raw('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: crd })).status, 201);
    const pools = '/apis/scale.nami.test/v1/namespaces/subresources/pools';
    const pool = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'scale.nami.test/v1', kind: 'Pool', metadata: { name }, spec });
    await waitFor('the Pool resource served', async () => ((await api.raw('POST', pools, { body: pool('p1', { size: 3 }) })).status === 201 ? true : undefined));
    const p1 = await api.raw('GET', `${pools}/p1`);
    assert.equal((await api.raw('PUT', `${pools}/p1/status`, { body: { ...p1.json, status: { count: 2, sel: 'app=p1' } } })).status, 200);

    const scale = await api.raw('GET', `${pools}/p1/scale`);
    assert.equal(scale.status, 200, scale.text);
    assert.deepEqual({ spec: scale.json?.spec, status: scale.json?.status }, { spec: { replicas: 3 }, status: { replicas: 2, selector: 'app=p1' } });
    const merged = await api.raw('PATCH', `${pools}/p1/scale`, { body: { spec: { replicas: 5 } }, contentType: 'application/merge-patch+json' });
    assert.equal(merged.status, 200, merged.text);
    assert.equal(merged.json?.spec.replicas, 5);
    const strategic = await api.raw('PATCH', `${pools}/p1/scale`, { body: { spec: { replicas: 6 } }, contentType: 'application/strategic-merge-patch+json' });
    assert.equal(strategic.status, 200, 'a Scale is a built-in type: strategic merge patches apply to it');
    const got = await api.raw('GET', `${pools}/p1`);
    assert.deepEqual(got.json?.spec, { size: 6 }, 'the replicas land at .spec.size and nowhere else');
    assert.equal(got.json?.metadata.generation, 3);

    // A Table of a custom resource's Scale has the custom resource's columns.
    const t = await api.raw('GET', `${pools}/p1/scale`, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    assert.deepEqual(t.json?.columnDefinitions.map((c: { name: string }) => c.name), ['Name', 'Age']);

    // Below zero: the custom resource's own validation refuses it, naming the path.
    const negative = await api.raw('PATCH', `${pools}/p1/scale`, { body: { spec: { replicas: -1 } }, contentType: 'application/merge-patch+json' });
    const status = assertStatus(negative, 422, 'Invalid');
    assert.equal(status.message, 'Pool.scale.nami.test "p1" is invalid: .spec.size: Invalid value: -1: should be a non-negative integer');

    // Without the spec field: a read is a server error, a patch that does not set it a bad request, a PUT sets it.
    await api.raw('POST', pools, { body: pool('empty', { tier: 'a' }) });
    const missing = assertStatus(await api.raw('GET', `${pools}/empty/scale`), 500, 'InternalError');
    assert.match(missing.message, /the spec replicas field "\.spec\.size" does not exist/);
    const unset = assertStatus(await api.raw('PATCH', `${pools}/empty/scale`, { body: { metadata: { labels: { a: 'b' } } }, contentType: 'application/merge-patch+json' }), 400, 'BadRequest');
    assert.equal(unset.message, 'the spec replicas field ".spec.size" cannot be empty');
    const put = await api.raw('PUT', `${pools}/empty/scale`, { body: { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'empty' }, spec: { replicas: 2 } } });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual((await api.raw('GET', `${pools}/empty`)).json?.spec, { tier: 'a', size: 2 });

    // The status replicas are checked too, when status is written.
    const current = await api.raw('GET', `${pools}/p1`);
    const badStatus = assertStatus(await api.raw('PUT', `${pools}/p1/status`, { body: { ...current.json, status: { count: -2, sel: 'app=p1' } } }), 422, 'Invalid');
    assert.match(badStatus.message, /\.status\.count: Invalid value: -2: should be a non-negative integer/);
  });

  it('keeps status and spec apart between the main resource and /status', async () => {
    const before = await api.raw('GET', `${deploys}/web`);
    const main = await api.raw('PUT', `${deploys}/web`, { body: { ...before.json, status: { replicas: 99 } } });
    assert.equal(main.status, 200, main.text);
    assert.notEqual(main.json?.status?.replicas, 99, 'the main resource ignores status');
    const status = await api.raw('PUT', `${deploys}/web/status`, { body: { ...main.json, spec: { ...main.json!.spec, replicas: 9 }, status: { replicas: 3 } } });
    assert.equal(status.status, 200, status.text);
    assert.equal(status.json?.status.replicas, 3);
    assert.equal(status.json?.spec.replicas, main.json?.spec.replicas, '/status ignores spec');
    assert.equal(status.json?.metadata.generation, main.json?.metadata.generation, 'a status write is not a new generation');
  });

  it('adds ephemeral containers through /ephemeralcontainers only, never changing or removing one', async () => {
    await api.raw('POST', pods, { body: { ...pod('debugged', { nodeName: 'node-1' }), status: {} } });
    const smp = 'application/strategic-merge-patch+json';
    const debugger1 = { name: 'debugger-1', image: 'busybox:1.36', targetContainerName: 'main', stdin: true, resources: {} };
    // What kubectl debug sends: a strategic merge patch of the pod through the subresource; labels in it are not taken.
    const added = await api.raw('PATCH', `${pods}/debugged/ephemeralcontainers`, { body: { metadata: { labels: { sneaked: 'in' } }, spec: { ephemeralContainers: [debugger1], activeDeadlineSeconds: 5 } }, contentType: smp });
    assert.equal(added.status, 200, added.text);
    assert.equal(added.json?.kind, 'Pod');
    const ec = added.json?.spec.ephemeralContainers;
    assert.equal(ec.length, 1);
    assert.equal(ec[0].targetContainerName, 'main');
    assert.equal(ec[0].terminationMessagePolicy, 'File', 'defaulted as any container');
    assert.equal(ec[0].imagePullPolicy, 'IfNotPresent');
    assert.equal(added.json?.spec.activeDeadlineSeconds, undefined, 'only spec.ephemeralContainers is taken');
    assert.equal(added.json?.metadata.labels.sneaked, undefined);
    assert.ok(added.json?.metadata.managedFields.some((f: { subresource?: string }) => f.subresource === 'ephemeralcontainers'));
    const got = await api.raw('GET', `${pods}/debugged/ephemeralcontainers`);
    assert.equal(got.json?.kind, 'Pod');
    assert.equal(got.json?.spec.ephemeralContainers[0].name, 'debugger-1');

    const changed = assertStatus(await api.raw('PATCH', `${pods}/debugged/ephemeralcontainers`, { body: { spec: { ephemeralContainers: [{ name: 'debugger-1', image: 'busybox:1.37' }] } }, contentType: smp }), 422, 'Invalid');
    assert.equal(changed.details.causes[0].field, 'spec.ephemeralContainers[debugger-1]');
    assert.match(changed.message, /existing ephemeral containers "debugger-1" may not be changed/);
    const removed = assertStatus(
      await api.raw('PATCH', `${pods}/debugged/ephemeralcontainers`, { body: [{ op: 'remove', path: '/spec/ephemeralContainers/0' }], contentType: 'application/json-patch+json' }),
      422,
      'Invalid',
    );
    assert.match(removed.message, /spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger-1" may not be removed/);
    const bad = assertStatus(
      await api.raw('PATCH', `${pods}/debugged/ephemeralcontainers`, {
        body: { spec: { ephemeralContainers: [{ name: 'main', image: 'busybox', targetContainerName: 'nope', ports: [{ containerPort: 80 }], readinessProbe: { exec: { command: ['true'] } } }] } },
        contentType: smp,
      }),
      422,
      'Invalid',
    );
    // Without $setElementOrder, a strategic merge patch puts the new item first.
    assert.deepEqual(
      bad.details.causes.map((c: { field: string; reason: string }) => `${c.reason} ${c.field}`),
      [
        'FieldValueDuplicate spec.ephemeralContainers[0].name',
        'FieldValueNotFound spec.ephemeralContainers[0].targetContainerName',
        'FieldValueForbidden spec.ephemeralContainers[0].ports',
        'FieldValueForbidden spec.ephemeralContainers[0].readinessProbe',
      ],
    );

    // Through the pod itself, ephemeral containers can be neither set nor changed.
    const viaPod = assertStatus(await api.raw('PATCH', `${pods}/debugged`, { body: { spec: { ephemeralContainers: [{ name: 'debugger-2', image: 'busybox' }] } }, contentType: smp }), 422, 'Invalid');
    assert.match(viaPod.message, /pod updates may not change fields/);
    const onCreate = assertStatus(await api.raw('POST', pods, { body: pod('born-debugged', { ephemeralContainers: [{ name: 'd', image: 'busybox', terminationMessagePolicy: 'File', imagePullPolicy: 'Always' }] }) }), 422, 'Invalid');
    assert.match(onCreate.message, /spec.ephemeralContainers: Forbidden: cannot be set on create/);
    assertStatus(await api.raw('POST', `${pods}/debugged/ephemeralcontainers`, { body: added.json }), 405, 'MethodNotAllowed');
    assertStatus(await api.raw('GET', `${deploys}/web/ephemeralcontainers`), 404, 'NotFound');
  });

  it('selects pods by spec.nodeName and secrets by type', async () => {
    const r = await api.raw('GET', `${pods}?fieldSelector=${encodeURIComponent('spec.nodeName=node-1')}`);
    const names = r.json!.items.map((p: { metadata: { name: string } }) => p.metadata.name).sort();
    assert.ok(names.includes('bound') && !names.includes('never-bound'), JSON.stringify(names));
    await api.raw('POST', '/api/v1/namespaces/subresources/secrets', { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tls' }, type: 'kubernetes.io/tls', data: { 'tls.crt': '', 'tls.key': '' } } });
    await api.raw('POST', '/api/v1/namespaces/subresources/secrets', { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'plain' } } });
    const tls = await api.raw('GET', `/api/v1/namespaces/subresources/secrets?fieldSelector=${encodeURIComponent('type=kubernetes.io/tls')}`);
    assert.deepEqual(tls.json!.items.map((s: { metadata: { name: string } }) => s.metadata.name), ['tls']);
  });
});

describe('versions', () => {
  const v1 = '/apis/autoscaling/v1/namespaces/writes/horizontalpodautoscalers';
  const v2 = '/apis/autoscaling/v2/namespaces/writes/horizontalpodautoscalers';
  const target = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };

  it('serves a HorizontalPodAutoscaler written at autoscaling/v1 at v2, and back', async () => {
    const created = await api.raw('POST', v1, {
      body: { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'cpu' }, spec: { scaleTargetRef: target, maxReplicas: 5, targetCPUUtilizationPercentage: 50 } },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json?.apiVersion, 'autoscaling/v1');
    assert.equal(created.json?.spec.targetCPUUtilizationPercentage, 50);
    assert.equal(created.json?.spec.minReplicas, 1);
    const atV2 = await api.raw('GET', `${v2}/cpu`);
    assert.equal(atV2.json?.apiVersion, 'autoscaling/v2');
    assert.deepEqual(atV2.json?.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
    const list = await api.raw('GET', v1);
    assert.equal(list.json?.apiVersion, 'autoscaling/v1');
    assert.equal(list.json?.items[0].spec.targetCPUUtilizationPercentage, 50);
    assert.equal(list.json?.items[0].metadata.annotations, undefined);
  });

  it('keeps what v1 cannot say in annotations, and a v1 update does not lose it', async () => {
    const memory = { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } };
    const created = await api.raw('POST', v2, {
      body: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'mem' }, spec: { scaleTargetRef: target, maxReplicas: 3, metrics: [memory] } },
    });
    assert.equal(created.status, 201, created.text);
    const atV1 = await api.raw('GET', `${v1}/mem`);
    assert.deepEqual(JSON.parse(atV1.json?.metadata.annotations['autoscaling.alpha.kubernetes.io/metrics']), [memory]);
    const put = await api.raw('PUT', `${v1}/mem`, { body: { ...atV1.json, spec: { ...atV1.json!.spec, maxReplicas: 7 } } });
    assert.equal(put.status, 200, put.text);
    const back = await api.raw('GET', `${v2}/mem`);
    assert.equal(back.json?.spec.maxReplicas, 7);
    assert.deepEqual(back.json?.spec.metrics, [memory]);
    assert.equal(back.json?.metadata.annotations, undefined);
  });

  it('serves every version of a custom resource', async () => {
    const schema = { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } } };
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'gadgets.versions.nami.test' },
      spec: {
        group: 'versions.nami.test',
        scope: 'Namespaced',
        names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
        versions: [
          { name: 'v1', served: true, storage: true, schema },
          { name: 'v2', served: true, storage: false, schema },
        ],
      },
    };
    assert.equal((await api.raw('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: crd })).status, 201);
    const path = (v: string) => `/apis/versions.nami.test/${v}/namespaces/writes/gadgets`;
    const created = await waitFor('the Gadget created at v2', async () => {
      const r = await api.raw('POST', path('v2'), { body: { apiVersion: 'versions.nami.test/v2', kind: 'Gadget', metadata: { name: 'g' }, spec: { size: 2 } } });
      return r.status === 201 ? r : undefined;
    });
    assert.equal(created.json?.apiVersion, 'versions.nami.test/v2');
    const atV1 = await api.raw('GET', `${path('v1')}/g`);
    assert.equal(atV1.json?.apiVersion, 'versions.nami.test/v1');
    assert.equal(atV1.json?.spec.size, 2);
  });
});

describe('the index', () => {
  it('lists at / the paths the server answers, sorted, each of them served', async () => {
    const index = await api.raw('GET', '/');
    assert.equal(index.status, 200, index.text);
    const paths = index.json?.paths as string[];
    assert.deepEqual(paths, [...paths].sort());
    for (const p of ['/api', '/api/v1', '/apis', '/apis/apps', '/apis/apps/v1', '/apis/autoscaling/v1', '/apis/autoscaling/v2', '/healthz', '/healthz/etcd', '/livez/ping', '/readyz/informer-sync', '/openapi/v2', '/version']) {
      assert.ok(paths.includes(p), p);
    }
    for (const p of paths) {
      const r = await api.raw('GET', p, { accept: 'application/json' });
      assert.equal(r.status, 200, `${p}: ${r.status}`);
    }
  });
});

describe('events', () => {
  it('keeps core/v1 and events.k8s.io/v1 Events in one store, each shaped as its version says', async () => {
    const core = await api.raw('POST', '/api/v1/namespaces/writes/events', {
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'pod-a.1' },
        involvedObject: { kind: 'Pod', name: 'pod-a', namespace: 'writes' },
        reason: 'Started',
        message: 'Started container main',
        type: 'Normal',
        count: 2,
        source: { component: 'kubelet' },
      },
    });
    assert.equal(core.status, 201, core.text);
    const asNew = await api.raw('GET', '/apis/events.k8s.io/v1/namespaces/writes/events/pod-a.1');
    assert.equal(asNew.status, 200, asNew.text);
    assert.equal(asNew.json?.apiVersion, 'events.k8s.io/v1');
    assert.equal(asNew.json?.note, 'Started container main');
    assert.deepEqual(asNew.json?.regarding, { kind: 'Pod', name: 'pod-a', namespace: 'writes' });
    assert.equal(asNew.json?.deprecatedCount, 2);
    assert.equal(asNew.json?.message, undefined);

    const created = await api.raw('POST', '/apis/events.k8s.io/v1/namespaces/writes/events', {
      body: {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: 'pod-b.1' },
        eventTime: '2026-01-01T00:00:00.000000Z',
        reportingController: 'example.com/ctl',
        reportingInstance: 'ctl-1',
        action: 'Scaling',
        regarding: { kind: 'Pod', name: 'pod-b', namespace: 'writes' },
        reason: 'Scaled',
        note: 'scaled up',
        type: 'Normal',
      },
    });
    assert.equal(created.status, 201, created.text);
    const list = await api.raw('GET', '/api/v1/namespaces/writes/events');
    const b = list.json!.items.find((e: { metadata: { name: string } }) => e.metadata.name === 'pod-b.1');
    assert.equal(b.apiVersion, 'v1');
    assert.equal(b.message, 'scaled up');
    assert.equal(b.involvedObject.name, 'pod-b');
    assert.equal(b.reportingComponent, 'example.com/ctl');
    const described = await api.raw('GET', `/api/v1/namespaces/writes/events?fieldSelector=${encodeURIComponent('involvedObject.name=pod-b')}`);
    assert.deepEqual(described.json!.items.map((e: { metadata: { name: string } }) => e.metadata.name), ['pod-b.1']);
  });
});

describe('status writes', () => {
  const pods = '/api/v1/namespaces/subresources/pods';

  it('keep a container that ended under restartPolicy Never ended, and let labels through', async () => {
    await api.raw('POST', pods, { body: pod('ended', { restartPolicy: 'Never', nodeName: 'node-1' }) });
    const terminated = { phase: 'Failed', containerStatuses: [{ name: 'main', image: 'busybox:1.36', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, reason: 'Error' } } }] };
    const first = await api.raw('PATCH', `${pods}/ended/status`, { body: { metadata: { labels: { seen: 'yes' } }, status: terminated }, contentType: 'application/merge-patch+json' });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json?.metadata.labels.seen, 'yes', 'labels written through /status are kept');
    const running = { status: { phase: 'Running', containerStatuses: [{ ...terminated.containerStatuses[0], state: { running: { startedAt: '2026-01-01T00:00:00Z' } } }] } };
    const back = assertStatus(await api.raw('PATCH', `${pods}/ended/status`, { body: running, contentType: 'application/merge-patch+json' }), 422, 'Invalid');
    assert.match(back.message, /may not be transitioned to non-terminated state/);
  });

  it('keep podIP and podIPs (hostIP and hostIPs) in step as the v1 conversion does, podIP winning', async () => {
    await api.raw('POST', pods, { body: pod('addressed', { nodeName: 'node-1' }) });
    const patch = (status: object) => api.raw('PATCH', `${pods}/addressed/status`, { body: { status }, contentType: 'application/merge-patch+json' });
    const single = await patch({ podIP: '10.244.0.7', hostIP: '192.0.2.1' });
    assert.equal(single.status, 200, single.text);
    assert.deepEqual([single.json?.status.podIPs, single.json?.status.hostIPs], [[{ ip: '10.244.0.7' }], [{ ip: '192.0.2.1' }]]);
    const differing = await patch({ podIP: '10.244.0.8', podIPs: [{ ip: '10.244.0.9' }, { ip: 'fd00::9' }] });
    assert.deepEqual([differing.json?.status.podIP, differing.json?.status.podIPs], ['10.244.0.8', [{ ip: '10.244.0.8' }]]);
    const listOnly = await patch({ podIP: null, podIPs: [{ ip: '10.244.0.10' }, { ip: 'fd00::a' }] });
    assert.deepEqual([listOnly.json?.status.podIP, listOnly.json?.status.podIPs], ['10.244.0.10', [{ ip: '10.244.0.10' }, { ip: 'fd00::a' }]]);
  });

  it('gives Nodes no generation', async () => {
    const node = await api.raw('POST', '/api/v1/nodes', { body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'gen-node' } } });
    assert.equal(node.status, 201, node.text);
    assert.equal(node.json?.metadata.generation, undefined);
  });
});

describe('priority admission', () => {
  const pods = '/api/v1/namespaces/writes/pods';

  it('fills spec.priority from the PriorityClass, the global default, or the system classes', async () => {
    const pc = await api.raw('POST', '/apis/scheduling.k8s.io/v1/priorityclasses', { body: { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high' }, value: 1000, preemptionPolicy: 'Never' } });
    assert.equal(pc.status, 201, pc.text);
    const high = await api.raw('POST', pods, { body: pod('prio-high', { priorityClassName: 'high' }) });
    assert.equal(high.json?.spec.priority, 1000, high.text);
    assert.equal(high.json?.spec.preemptionPolicy, 'Never');
    const system = await api.raw('POST', pods, { body: pod('prio-system', { priorityClassName: 'system-cluster-critical' }) });
    assert.equal(system.json?.spec.priority, 2000000000, system.text);
    const plain = await api.raw('POST', pods, { body: pod('prio-none') });
    assert.equal(plain.json?.spec.priority, 0);
    const missing = assertStatus(await api.raw('POST', pods, { body: pod('prio-missing', { priorityClassName: 'nope' }) }), 403, 'Forbidden');
    assert.match(missing.message, /no PriorityClass with name nope was found/);
    const forged = assertStatus(await api.raw('POST', pods, { body: pod('prio-forged', { priorityClassName: 'high', priority: 5 }) }), 403, 'Forbidden');
    assert.match(forged.message, /must not be provided in pod spec/);
  });

  it('lets one PriorityClass at a time be the global default, on create and on update', async () => {
    const pcs = '/apis/scheduling.k8s.io/v1/priorityclasses';
    const pc = (name: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value: 100, ...extra });
    assert.equal((await api.raw('POST', pcs, { body: pc('def', { globalDefault: true }) })).status, 201);
    const message = 'priorityclasses.scheduling.k8s.io "second" is forbidden: PriorityClass def is already marked as default. Only one default can exist';
    const created = assertStatus(await api.raw('POST', pcs, { body: pc('second', { globalDefault: true }) }), 403, 'Forbidden');
    assert.equal(created.message, message);
    assert.deepEqual(created.details, { name: 'second', group: 'scheduling.k8s.io', kind: 'priorityclasses' });
    assert.equal((await api.raw('POST', pcs, { body: pc('second') })).status, 201);
    const patch = (name: string, body: Record<string, unknown>) => api.raw('PATCH', `${pcs}/${name}`, { body, contentType: 'application/merge-patch+json' });
    assert.equal(assertStatus(await patch('second', { globalDefault: true }), 403, 'Forbidden').message, message);
    const stays = await patch('def', { globalDefault: true, description: 'the default' });
    assert.equal(stays.status, 200, stays.text);
    // Validation comes first: an invalid second default is Invalid, not Forbidden.
    assertStatus(await api.raw('POST', pcs, { body: pc('system-third', { globalDefault: true }) }), 422, 'Invalid');
    for (const name of ['def', 'second']) assert.equal((await api.raw('DELETE', `${pcs}/${name}`)).status, 200);
    assert.equal((await api.raw('POST', pcs, { body: pc('third', { globalDefault: true }) })).status, 201);
    assert.equal((await api.raw('DELETE', `${pcs}/third`)).status, 200);
  });
});

describe('tables of many objects', () => {
  const table = 'application/json;as=Table;v=v1;g=meta.k8s.io';
  const names = Array.from({ length: 230 }, (_, i) => `cm-${String(i).padStart(3, '0')}`);
  const hpas = Array.from({ length: 120 }, (_, i) => `hpa-${String(i).padStart(3, '0')}`);
  before(async () => {
    for (const name of names) assert.equal((await api.raw('POST', '/api/v1/namespaces/tables/configmaps', { body: cm(name) })).status, 201);
    for (const name of hpas) {
      const body = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 4, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }] } };
      assert.equal((await api.raw('POST', '/apis/autoscaling/v2/namespaces/tables/horizontalpodautoscalers', { body })).status, 201);
    }
  });

  it('prints every object once, in order, with its columns once and the row objects includeObject asks for', async () => {
    const r = await api.raw('GET', '/api/v1/namespaces/tables/configmaps', { accept: table });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json!.kind, 'Table');
    assert.deepEqual(r.json!.columnDefinitions.map((c: { name: string }) => c.name), ['Name', 'Data', 'Age']);
    assert.deepEqual(r.json!.rows.map((row: { cells: string[] }) => row.cells[0]), names);
    assert.deepEqual(r.json!.rows[229].object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: r.json!.rows[229].object.metadata });
    assert.equal(r.json!.rows[229].object.metadata.name, 'cm-229');
    assert.ok(r.json!.metadata.resourceVersion);
    const whole = await api.raw('GET', '/api/v1/namespaces/tables/configmaps?includeObject=Object', { accept: table });
    assert.deepEqual(whole.json!.rows[150].object.data, { a: '1' });
    const none = await api.raw('GET', '/api/v1/namespaces/tables/configmaps?includeObject=None', { accept: table });
    assert.equal(none.json!.rows.length, 230);
    assert.ok(none.json!.rows.every((row: { object?: unknown }) => row.object === undefined));
    const beta = await api.raw('GET', '/api/v1/namespaces/tables/configmaps', { accept: 'application/json;as=Table;v=v1beta1;g=meta.k8s.io' });
    assert.equal(beta.json!.apiVersion, 'meta.k8s.io/v1beta1');
    assert.equal(beta.json!.rows[7].object.apiVersion, 'meta.k8s.io/v1beta1');
    const unknown = await api.raw('GET', '/api/v1/namespaces/tables/configmaps?includeObject=Everything', { accept: table });
    assert.equal(assertStatus(unknown, 400, 'BadRequest').message, 'unrecognized includeObject value: "Everything"');
    assertStatus(await api.raw('GET', '/api/v1/namespaces/tables/configmaps/cm-001?includeObject=Everything', { accept: table }), 400, 'BadRequest');
    assertStatus(await api.raw('GET', '/api/v1/namespaces/tables/configmaps?watch=true&includeObject=Everything', { accept: table }), 400, 'BadRequest');
  });

  it('lists the objects\' metadata alone, in order', async () => {
    const r = await api.raw('GET', '/api/v1/namespaces/tables/configmaps', { accept: 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json!.kind, 'PartialObjectMetadataList');
    assert.deepEqual(r.json!.items.map((i: { metadata: { name: string } }) => i.metadata.name), names);
    assert.deepEqual(Object.keys(r.json!.items[229]), ['kind', 'apiVersion', 'metadata']);
    assert.equal(r.json!.items[229].kind, 'PartialObjectMetadata');
  });

  it('selects by labels and fields without keeping the objects it looked at parsed', async () => {
    for (let i = 0; i < 6; i++) {
      const r = await api.raw('POST', '/api/v1/namespaces/tables/pods', { body: { ...pod(`sel-${i}`), metadata: { name: `sel-${i}`, labels: { tier: i % 2 ? 'odd' : 'even' } } } });
      assert.equal(r.status, 201, r.text);
    }
    const pods = '/api/v1/namespaces/tables/pods';
    const names = (r: { json: Record<string, any> | undefined }) => r.json!.items.map((p: { metadata: { name: string } }) => p.metadata.name);
    assert.deepEqual(names(await api.raw('GET', `${pods}?labelSelector=tier%3Dodd`)), ['sel-1', 'sel-3', 'sel-5']);
    assert.deepEqual(names(await api.raw('GET', `${pods}?labelSelector=tier%3Deven&fieldSelector=${encodeURIComponent('metadata.name!=sel-0,status.phase=Pending')}`)), ['sel-2', 'sel-4']);
    assert.deepEqual(names(await api.raw('GET', `${pods}?labelSelector=tier%3Deven&fieldSelector=${encodeURIComponent('status.phase=Running')}`)), []);
    const store = api.server.api.storeForResource('', 'pods')!;
    const cached = store.cache.list(store.listPrefix('tables'));
    assert.equal(cached.length, 6);
    assert.deepEqual(cached.filter((item) => item.hasObject).map((item) => item.key), []);
  });

  it('pages a table with limit and continue, counting what is left', async () => {
    const seen: string[] = [];
    const left: number[] = [];
    let cont = '';
    do {
      const r = await api.raw('GET', `/api/v1/namespaces/tables/configmaps?limit=100${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`, { accept: table });
      assert.equal(r.status, 200, r.text);
      seen.push(...r.json!.rows.map((row: { cells: string[] }) => row.cells[0]));
      if (r.json!.metadata.remainingItemCount !== undefined) left.push(r.json!.metadata.remainingItemCount);
      cont = r.json!.metadata.continue ?? '';
    } while (cont);
    assert.deepEqual(seen, names);
    assert.deepEqual(left, [130, 30]);
    const selected = await api.raw('GET', `/api/v1/namespaces/tables/configmaps?limit=5&fieldSelector=${encodeURIComponent('metadata.name=cm-200')}`, { accept: table });
    assert.deepEqual(selected.json!.rows.map((row: { cells: string[] }) => row.cells[0]), ['cm-200']);
    assert.equal(selected.json!.metadata.continue, undefined);
  });

  it('prints objects converted to the version asked for', async () => {
    const r = await api.raw('GET', '/apis/autoscaling/v1/namespaces/tables/horizontalpodautoscalers?includeObject=Object', { accept: table });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json!.rows.map((row: { cells: string[] }) => row.cells[0]), hpas);
    assert.equal(r.json!.rows[119].object.apiVersion, 'autoscaling/v1');
    assert.equal(r.json!.rows[119].object.spec.targetCPUUtilizationPercentage, 60);
  });
});
