// The review resources: SelfSubjectAccessReview, SelfSubjectRulesReview and
// SelfSubjectReview are created, answered in their status and never stored;
// bad reviews get kube-apiserver's errors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApiServer, type TestApiServer } from './harness.js';

let api: TestApiServer;
before(async () => {
  api = await startTestApiServer();
});
after(async () => {
  await api?.close();
});

const ssar = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';
const ssrr = '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews';
const ssr = '/apis/authentication.k8s.io/v1/selfsubjectreviews';
const access = (spec: Record<string, unknown>, metadata: Record<string, unknown> = { creationTimestamp: null }) => ({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata, spec });

describe('review resources', () => {
  it('allows an access review and echoes its question with the answer', async () => {
    const spec = { resourceAttributes: { namespace: 'default', verb: 'delete', resource: 'pods' } };
    const r = await api.raw('POST', ssar, { body: access(spec) });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.json, { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: { creationTimestamp: null }, spec, status: { allowed: true } });
    const nonResource = await api.raw('POST', ssar, { body: access({ nonResourceAttributes: { path: '/healthz', verb: 'get' } }) });
    assert.equal(nonResource.status, 201, nonResource.text);
    assert.equal(nonResource.json?.status.allowed, true);
  });

  it('answers a rules review with every rule, and without the namespace it asked about', async () => {
    const r = await api.raw('POST', ssrr, { body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: 'default' } } });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.json?.spec, {});
    assert.deepEqual(r.json?.status, {
      resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
      nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
      incomplete: false,
    });
    const noNamespace = await api.raw('POST', ssrr, { body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: {} } });
    assert.equal(noNamespace.status, 400, noNamespace.text);
    assert.equal(noNamespace.json?.message, 'no namespace on request');
  });

  it('names the caller in a self subject review', async () => {
    const r = await api.raw('POST', ssr, { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.json?.status, { userInfo: { username: 'nami-admin', groups: ['system:masters', 'system:authenticated'] } });
    assert.match(r.json?.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('refuses an access review that asks about both or neither kind of attributes, or sets metadata, with 422', async () => {
    const neither = await api.raw('POST', ssar, { body: access({}) });
    assert.equal(neither.status, 422, neither.text);
    assert.equal(neither.json?.reason, 'Invalid');
    assert.match(neither.json?.message, /^SelfSubjectAccessReview\.authorization\.k8s\.io "" is invalid: spec\.resourceAttributes: Invalid value: .*exactly one of nonResourceAttributes or resourceAttributes must be specified$/);
    const both = await api.raw('POST', ssar, { body: access({ resourceAttributes: { verb: 'get', resource: 'pods' }, nonResourceAttributes: { path: '/', verb: 'get' } }) });
    assert.equal(both.status, 422, both.text);
    assert.deepEqual(both.json?.details.causes.map((c: { field: string }) => c.field), ['spec.nonResourceAttributes']);
    assert.match(both.json?.message, /cannot be specified in combination with resourceAttributes/);
    const named = await api.raw('POST', ssar, { body: access({ resourceAttributes: { verb: 'get', resource: 'pods' } }, { name: 'mine' }) });
    assert.equal(named.status, 422, named.text);
    assert.deepEqual(named.json?.details.causes.map((c: { field: string; message: string }) => [c.field, /must be empty/.test(c.message)]), [['metadata', true]]);
  });

  it('decodes a review as any create: kind, Go types and unknown fields', async () => {
    const wrongKind = await api.raw('POST', ssar, { body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: {} } });
    assert.equal(wrongKind.status, 400, wrongKind.text);
    const wrongType = await api.raw('POST', ssar, { body: access({ resourceAttributes: { verb: 7 } }) });
    assert.equal(wrongType.status, 400, wrongType.text);
    assert.equal(
      wrongType.json?.message,
      'SelfSubjectAccessReview in version "v1" cannot be handled as a SelfSubjectAccessReview: json: cannot unmarshal number into Go struct field ResourceAttributes.spec.resourceAttributes.verb of type string',
    );
    const unknown = await api.raw('POST', `${ssar}?fieldValidation=Strict`, { body: access({ resourceAttributes: { verb: 'get', resource: 'pods', colour: 'red' } }) });
    assert.equal(unknown.status, 400, unknown.text);
    assert.match(unknown.json?.message, /strict decoding error: unknown field "spec\.resourceAttributes\.colour"/);
    const warned = await api.raw('POST', ssar, { body: access({ resourceAttributes: { verb: 'get', resource: 'pods', colour: 'red' } }) });
    assert.equal(warned.status, 201, warned.text);
    assert.match(String(warned.headers.warning), /unknown field \\"spec\.resourceAttributes\.colour\\"/);
    assert.deepEqual(warned.json?.spec, { resourceAttributes: { verb: 'get', resource: 'pods' } });
    const badDryRun = await api.raw('POST', `${ssar}?dryRun=Some`, { body: access({ resourceAttributes: { verb: 'get', resource: 'pods' } }) });
    assert.equal(badDryRun.status, 400, badDryRun.text);
  });

  it('serves only create, and only at the cluster scope', async () => {
    for (const [method, path] of [['GET', ssar], ['GET', `${ssar}/one`], ['DELETE', `${ssar}/one`], ['POST', `${ssar}/one`]] as const) {
      const r = await api.raw(method, path, method === 'POST' ? { body: access({ resourceAttributes: { verb: 'get' } }) } : {});
      assert.equal(r.status, 405, `${method} ${path}: ${r.text}`);
      assert.equal(r.json?.reason, 'MethodNotAllowed');
      assert.equal(r.json?.message, 'the server does not allow this method on the requested resource');
      assert.equal(r.json?.details.kind, 'selfsubjectaccessreviews');
    }
    const namespaced = await api.raw('POST', '/apis/authorization.k8s.io/v1/namespaces/default/selfsubjectaccessreviews', { body: access({ resourceAttributes: { verb: 'get' } }) });
    assert.equal(namespaced.status, 404, namespaced.text);
  });

  it('lists the reviews in discovery with the create verb alone', async () => {
    const authz = await api.raw('GET', '/apis/authorization.k8s.io/v1');
    assert.equal(authz.status, 200, authz.text);
    const names = authz.json?.resources.map((r: { name: string; verbs: string[]; namespaced: boolean }) => [r.name, r.verbs, r.namespaced]);
    assert.deepEqual(names, [
      ['selfsubjectaccessreviews', ['create'], false],
      ['selfsubjectrulesreviews', ['create'], false],
    ]);
    const authn = await api.raw('GET', '/apis/authentication.k8s.io/v1');
    assert.deepEqual(authn.json?.resources.map((r: { name: string }) => r.name), ['selfsubjectreviews', 'tokenreviews']);
    const openapi = await api.raw('GET', '/openapi/v3/apis/authorization.k8s.io/v1');
    assert.equal(openapi.status, 200, openapi.text);
    assert.deepEqual(Object.keys(openapi.json?.paths[ssar] ?? {}).filter((k) => k !== 'parameters'), ['post']);
  });
});
