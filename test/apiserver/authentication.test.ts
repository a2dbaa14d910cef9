// Who a request is from: client certificates and bearer tokens, in
// kube-apiserver's order, with the groups Kubernetes gives the user.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { authenticateRequest, bearerToken, parseTokenFile, withAuthenticatedGroup, type User } from '../../src/apiserver/authn/index.js';
import { UnauthorizedError } from '../../src/api/errors.js';
import { startTestApiServer, type TestApiServer } from './harness.js';

const { tokens } = parseTokenFile('alice-token,alice,1001,"dev,ops"\nbob-token,bob,1002\n', 'tokens.csv');

describe('bearer tokens over HTTPS', () => {
  let api: TestApiServer;
  before(async () => {
    api = await startTestApiServer('memory', { tokens });
  });
  after(async () => {
    await api?.close();
  });
  const cms = '/api/v1/namespaces/default/configmaps';

  it('a known token without a client certificate creates and reads a ConfigMap', async () => {
    const created = await api.raw('POST', cms, { anonymous: true, bearer: 'alice-token', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-token' }, data: { a: '1' } } });
    assert.equal(created.status, 201, created.text);
    const got = await api.raw('GET', `${cms}/from-token`, { anonymous: true, bearer: 'bob-token' });
    assert.equal(got.status, 200, got.text);
    assert.deepEqual(got.json?.data, { a: '1' });
  });

  it('an unknown token gets 401 Unauthorized as a Status', async () => {
    const r = await api.raw('GET', cms, { anonymous: true, bearer: 'not-a-token' });
    assert.equal(r.status, 401, r.text);
    assert.deepEqual(r.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
  });

  it('a verified client certificate is used before a bearer token, as kube-apiserver does', async () => {
    const r = await api.raw('GET', cms, { bearer: 'not-a-token' });
    assert.equal(r.status, 200, r.text);
  });
});

/** A request as the authenticator sees it: headers and a socket without a client certificate. */
function plainRequest(authorization?: string): IncomingMessage {
  return { headers: authorization === undefined ? {} : { authorization }, socket: {} } as unknown as IncomingMessage;
}

describe('authenticateRequest', () => {
  it('gives a token user its name, uid and groups, with system:authenticated added', () => {
    assert.deepEqual(authenticateRequest(plainRequest('Bearer alice-token'), { tokens }), { name: 'alice', uid: '1001', groups: ['dev', 'ops', 'system:authenticated'] });
    assert.deepEqual((authenticateRequest(plainRequest('Bearer bob-token'), { tokens }) as User).groups, ['system:authenticated']);
  });

  it('refuses an unknown token even where anonymous requests pass', () => {
    assert.throws(() => authenticateRequest(plainRequest('Bearer nope'), { tokens, anonymousAs: { name: 'system:anonymous', groups: [] } }), UnauthorizedError);
  });

  it('refuses a request with neither certificate nor token', () => {
    assert.throws(() => authenticateRequest(plainRequest(), { tokens }), UnauthorizedError);
    assert.throws(() => authenticateRequest(plainRequest('Basic YWxpY2U6cHc='), { tokens }), UnauthorizedError);
  });

  it('reads the Authorization header as Kubernetes does', () => {
    assert.equal(bearerToken('Bearer abc'), 'abc');
    assert.equal(bearerToken('  bearer abc  '), 'abc');
    assert.equal(bearerToken('BEARER abc'), 'abc');
    assert.equal(bearerToken('Bearer  abc'), undefined);
    assert.equal(bearerToken('Bearer'), undefined);
    assert.equal(bearerToken('Basic abc'), undefined);
    assert.equal(bearerToken(undefined), undefined);
  });

  it('adds system:authenticated once, and not to the anonymous user', () => {
    assert.deepEqual(withAuthenticatedGroup({ name: 'u', groups: ['system:authenticated', 'x'] }).groups, ['system:authenticated', 'x']);
    assert.deepEqual(withAuthenticatedGroup({ name: 'system:anonymous', groups: ['system:unauthenticated'] }).groups, ['system:unauthenticated']);
  });
});
