// Service account tokens, as kube-apiserver issues and checks them: the
// serviceaccounts/token subresource (TokenRequest), the token as a bearer
// credential while the objects it names live, TokenReview, and the OpenID
// discovery documents that let others verify the tokens.
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signingKeyOf, signJwt } from '../../src/api/serviceaccount/jwt.js';
import { startTestApiServer, type TestApiServer } from './harness.js';

const tokens = new Map([['static-token', { name: 'static-user', uid: '42', groups: ['ops'] }]]);
let api: TestApiServer;
before(async () => {
  api = await startTestApiServer('memory', { tokens });
  for (const name of ['robot', 'other']) {
    const r = await api.raw('POST', '/api/v1/namespaces/default/serviceaccounts', { body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } } });
    assert.equal(r.status, 201, r.text);
  }
});
after(async () => {
  await api?.close();
});

const tokenPath = (sa: string) => `/api/v1/namespaces/default/serviceaccounts/${sa}/token`;
const tokenRequest = (spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) => ({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata, spec });

async function requestToken(sa: string, spec: Record<string, unknown> = {}): Promise<string> {
  const r = await api.raw('POST', tokenPath(sa), { body: tokenRequest(spec) });
  assert.equal(r.status, 201, r.text);
  return r.json!.status.token as string;
}

function claimsOf(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, any>;
}

/** Who the server takes a bearer token for (SelfSubjectReview), or the status code when it refuses it. */
async function whoIs(token: string): Promise<Record<string, any> | number> {
  const r = await api.raw('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { anonymous: true, bearer: token, body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
  return r.status === 201 ? (r.json!.status.userInfo as Record<string, any>) : r.status;
}

async function create(path: string, body: Record<string, unknown>): Promise<Record<string, any>> {
  const r = await api.raw('POST', path, { body });
  assert.equal(r.status, 201, r.text);
  return r.json!;
}

async function remove(path: string): Promise<void> {
  const r = await api.raw('DELETE', `${path}?gracePeriodSeconds=0`);
  assert.equal(r.status, 200, r.text);
}

describe('serviceaccounts/token', () => {
  it('answers a TokenRequest with a signed token, an hour for the API server\'s audience by default', async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await api.raw('POST', tokenPath('robot'), { body: tokenRequest() });
    assert.equal(r.status, 201, r.text);
    const answer = r.json!;
    assert.equal(answer.kind, 'TokenRequest');
    assert.equal(answer.apiVersion, 'authentication.k8s.io/v1');
    assert.equal(answer.metadata.name, 'robot');
    assert.equal(answer.metadata.namespace, 'default');
    assert.deepEqual(answer.spec, { audiences: ['https://kubernetes.default.svc.cluster.local'], expirationSeconds: 3600, boundObjectRef: null });
    const expires = Date.parse(answer.status.expirationTimestamp) / 1000;
    assert.ok(expires >= before + 3600 && expires <= before + 3602, answer.status.expirationTimestamp);
    const [header] = (answer.status.token as string).split('.');
    assert.equal(JSON.parse(Buffer.from(header!, 'base64url').toString()).alg, 'ES256');
    const claims = claimsOf(answer.status.token);
    const sa = (await api.raw('GET', '/api/v1/namespaces/default/serviceaccounts/robot')).json!;
    assert.equal(claims.iss, 'https://kubernetes.default.svc.cluster.local');
    assert.equal(claims.sub, 'system:serviceaccount:default:robot');
    assert.deepEqual(claims.aud, ['https://kubernetes.default.svc.cluster.local']);
    assert.equal(claims.exp - claims.iat, 3600);
    assert.deepEqual(claims['kubernetes.io'], { namespace: 'default', serviceaccount: { name: 'robot', uid: sa.metadata.uid } });
  });

  it('is a credential for the account: its user name, UID, groups and credential ID', async () => {
    const token = await requestToken('robot');
    const sa = (await api.raw('GET', '/api/v1/namespaces/default/serviceaccounts/robot')).json!;
    assert.deepEqual(await whoIs(token), {
      username: 'system:serviceaccount:default:robot',
      uid: sa.metadata.uid,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'],
      extra: { 'authentication.kubernetes.io/credential-id': [`JTI=${claimsOf(token).jti}`] },
    });
    const list = await api.raw('GET', '/api/v1/namespaces', { anonymous: true, bearer: token });
    assert.equal(list.status, 200, list.text);
  });

  it('binds a token to a pod running as the account, naming the pod and its node', async () => {
    const node = await create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'token-node' } });
    const pod = await create('/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bound' }, spec: { serviceAccountName: 'robot', nodeName: 'token-node', containers: [{ name: 'c', image: 'busybox' }] } });
    const ref = { kind: 'Pod', apiVersion: 'v1', name: 'bound', uid: pod.metadata.uid };
    const token = await requestToken('robot', { boundObjectRef: ref });
    const claims = claimsOf(token);
    assert.deepEqual(claims['kubernetes.io'].pod, { name: 'bound', uid: pod.metadata.uid });
    assert.deepEqual(claims['kubernetes.io'].node, { name: 'token-node', uid: node.metadata.uid });
    const who = await whoIs(token);
    assert.equal(typeof who, 'object');
    assert.deepEqual((who as Record<string, any>).extra['authentication.kubernetes.io/pod-name'], ['bound']);
    assert.deepEqual((who as Record<string, any>).extra['authentication.kubernetes.io/node-name'], ['token-node']);
    // A projected token's 3607 seconds become a year, with a warning time at the hour.
    const projected = claimsOf(await requestToken('robot', { boundObjectRef: ref, expirationSeconds: 3607 }));
    assert.equal(projected.exp - projected.iat, 365 * 24 * 3600);
    assert.equal(projected['kubernetes.io'].warnafter, projected.iat + 3607);
    await remove('/api/v1/namespaces/default/pods/bound');
    assert.equal(await whoIs(token), 401, 'a token bound to a deleted pod is no credential');
  });

  it('stops being a credential when its account is deleted, also for a new account of the same name', async () => {
    await create('/api/v1/namespaces/default/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'doomed' } });
    const token = await requestToken('doomed');
    assert.equal(typeof (await whoIs(token)), 'object');
    await remove('/api/v1/namespaces/default/serviceaccounts/doomed');
    assert.equal(await whoIs(token), 401);
    await create('/api/v1/namespaces/default/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'doomed' } });
    assert.equal(await whoIs(token), 401, 'the new account has another UID');
  });

  it('refuses a token whose signature, issuer or audience is not the cluster\'s', async () => {
    const token = await requestToken('robot');
    const [h, p, s] = token.split('.');
    const flipped = Buffer.from(s!, 'base64url');
    flipped[5] = flipped[5]! ^ 1;
    assert.equal(await whoIs(`${h}.${p}.${flipped.toString('base64url')}`), 401);
    const otherKey = createPrivateKey(readFileSync(join(api.server.kubeconfigPath, '..', 'pki', 'admin.key')));
    const forged = signJwt({ ...claimsOf(token) }, signingKeyOf(otherKey, createPublicKey(otherKey)));
    assert.equal(await whoIs(forged), 401, 'signed by another key');
    assert.equal(await whoIs(await requestToken('robot', { audiences: ['vault'] })), 401, 'a token for another audience is no credential here');
  });

  it('refuses an expired token', async () => {
    const key = createPrivateKey(readFileSync(join(api.server.kubeconfigPath, '..', 'pki', 'sa.key')));
    const claims = claimsOf(await requestToken('robot'));
    const now = Math.floor(Date.now() / 1000);
    const expired = signJwt({ ...claims, iat: now - 7200, nbf: now - 7200, exp: now - 3600 }, signingKeyOf(key, createPublicKey(key)));
    assert.equal(await whoIs(expired), 401);
    const review = await create('/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: expired } });
    assert.equal(review.status.authenticated, undefined);
    assert.equal(review.status.error, '[invalid bearer token, service account token has expired]');
  });

  it('refuses bad requests as kube-apiserver does', async () => {
    const short = await api.raw('POST', tokenPath('robot'), { body: tokenRequest({ expirationSeconds: 300 }) });
    assert.equal(short.status, 422, short.text);
    assert.equal(short.json!.message, 'TokenRequest.authentication.k8s.io "robot" is invalid: spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes');
    assert.deepEqual(short.json!.details.causes, [{ reason: 'FieldValueInvalid', message: 'Invalid value: 300: may not specify a duration less than 10 minutes', field: 'spec.expirationSeconds' }]);
    const renamed = await api.raw('POST', tokenPath('robot'), { body: tokenRequest({}, { name: 'other' }) });
    assert.equal(renamed.status, 422, renamed.text);
    assert.match(renamed.json!.message, /metadata.name: Invalid value: "other": must match the service account name if specified/);
    const missing = await api.raw('POST', tokenPath('ghost'), { body: tokenRequest() });
    assert.equal(missing.status, 404, missing.text);
    assert.equal(missing.json!.message, 'serviceaccounts "ghost" not found');
    const pod = await create('/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'runs-as-other' }, spec: { serviceAccountName: 'other', containers: [{ name: 'c', image: 'busybox' }] } });
    const wrongAccount = await api.raw('POST', tokenPath('robot'), { body: tokenRequest({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'runs-as-other' } }) });
    assert.equal(wrongAccount.status, 400, wrongAccount.text);
    assert.equal(wrongAccount.json!.message, 'cannot bind token for serviceaccount "robot" to pod running with different serviceaccount name.');
    const wrongUid = await api.raw('POST', tokenPath('other'), { body: tokenRequest({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'runs-as-other', uid: 'not-' + pod.metadata.uid } }) });
    assert.equal(wrongUid.status, 409, wrongUid.text);
    assert.match(wrongUid.json!.message, /^Operation cannot be fulfilled on Pod "runs-as-other": the UID in the bound object reference/);
    const kind = await api.raw('POST', tokenPath('robot'), { body: tokenRequest({ boundObjectRef: { kind: 'Deployment', apiVersion: 'apps/v1', name: 'x' } }) });
    assert.equal(kind.status, 400, kind.text);
    assert.equal(kind.json!.message, 'cannot bind token to object of type apps/v1, Kind=Deployment');
    const noPod = await api.raw('POST', tokenPath('robot'), { body: tokenRequest({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'nowhere' } }) });
    assert.equal(noPod.status, 404, noPod.text);
    const read = await api.raw('GET', tokenPath('robot'));
    assert.equal(read.status, 405, read.text);
    const wrongKind = await api.raw('POST', tokenPath('robot'), { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} } });
    assert.equal(wrongKind.status, 400, wrongKind.text);
  });
});

describe('TokenReview', () => {
  const reviews = '/apis/authentication.k8s.io/v1/tokenreviews';
  const review = (spec: Record<string, unknown>) => ({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec });

  it('names the user of a good token, and the audiences it is good for', async () => {
    const token = await requestToken('robot', { audiences: ['vault', 'https://kubernetes.default.svc.cluster.local'] });
    const answer = await create(reviews, review({ token, audiences: ['vault'] }));
    assert.equal(answer.status.authenticated, true);
    assert.equal(answer.status.user.username, 'system:serviceaccount:default:robot');
    assert.deepEqual(answer.status.audiences, ['vault']);
    assert.equal(answer.spec.token, token);
    const byDefault = await create(reviews, review({ token }));
    assert.deepEqual(byDefault.status.audiences, ['https://kubernetes.default.svc.cluster.local']);
    const elsewhere = await create(reviews, review({ token, audiences: ['other-service'] }));
    assert.equal(elsewhere.status.authenticated, undefined);
    assert.match(elsewhere.status.error, /token audiences \["vault" "https:\/\/kubernetes.default.svc.cluster.local"\] is invalid for the target audiences \["other-service"\]/);
  });

  it('knows the token file\'s tokens, and says so of a token nobody knows', async () => {
    const known = await create(reviews, review({ token: 'static-token', audiences: ['anyone'] }));
    assert.deepEqual(known.status, { authenticated: true, user: { username: 'static-user', uid: '42', groups: ['ops', 'system:authenticated'] }, audiences: ['anyone'] });
    const unknown = await create(reviews, review({ token: 'who-knows' }));
    assert.deepEqual(unknown.status, { user: {}, error: 'invalid bearer token' });
    const empty = await api.raw('POST', reviews, { body: review({}) });
    assert.equal(empty.status, 400, empty.text);
    assert.equal(empty.json!.message, 'token is required for TokenReview in authentication');
  });
});

describe('service account issuer discovery', () => {
  it('serves the issuer\'s configuration and the key set that verifies its tokens', async () => {
    const config = await api.raw('GET', '/.well-known/openid-configuration');
    assert.equal(config.status, 200, config.text);
    assert.equal(config.json!.issuer, 'https://kubernetes.default.svc.cluster.local');
    assert.match(config.json!.jwks_uri, /^https:\/\/127\.0\.0\.1:\d+\/openid\/v1\/jwks$/);
    const jwks = await api.raw('GET', '/openid/v1/jwks', { accept: 'application/jwk-set+json' });
    assert.equal(jwks.status, 200, jwks.text);
    assert.equal(jwks.headers['content-type'], 'application/jwk-set+json');
    const [jwk] = jwks.json!.keys as Record<string, string>[];
    const token = await requestToken('robot');
    const [h, p, s] = token.split('.');
    assert.equal(JSON.parse(Buffer.from(h!, 'base64url').toString()).kid, jwk!.kid);
    const key = createPublicKey({ key: jwk as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
    assert.ok(verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s!, 'base64url')), 'the published key verifies the token');
  });
});
