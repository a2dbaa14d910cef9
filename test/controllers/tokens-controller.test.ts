// The tokens controller against a real API server: a token Secret is filled
// with a token that authenticates as its ServiceAccount (TokenReview), the
// cluster CA and its namespace; it is deleted with its account, or at once
// when it names no account; the API server stops taking a token its Secret
// no longer holds, or whose Secret is marked invalid, and marks on a
// Secret the day its token was last used.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TokensController } from '../../src/controllers/serviceaccount/index.js';
import { parseJwt } from '../../src/api/serviceaccount/jwt.js';
import { core, createNamespace, getOrUndefined, startControllerEnv, testLog, waitFor, type ControllerEnv } from './core-controllers-env.js';

type Secret = { metadata: { name: string; uid: string; annotations?: Record<string, string>; labels?: Record<string, string> }; type: string; data?: Record<string, string> };
type Review = { status: { authenticated?: boolean; error?: string; user?: { username: string; uid: string; groups: string[] } } };

const ns = 'legacy-tokens';
let env: ControllerEnv;
let controller: TokensController;
let caPem: string;

before(async () => {
  env = await startControllerEnv();
  const pki = join(env.api.server.kubeconfigPath, '..', 'pki');
  caPem = readFileSync(join(pki, 'ca.crt'), 'utf8');
  controller = new TokensController(env.factory, { serviceAccountKeyPem: readFileSync(join(pki, 'sa.key'), 'utf8'), rootCaPem: caPem, log: testLog });
  await env.factory.start();
  await controller.start();
  await createNamespace(env.client, ns);
});

after(async () => {
  controller?.stop();
  await env?.close();
});

const secret = (name: string) => getOrUndefined<Secret>(env.client, core('secrets', ns, name));
const decoded = (s: Secret, key: string) => Buffer.from(s.data?.[key] ?? '', 'base64').toString('utf8');

async function createAccount(name: string): Promise<{ metadata: { uid: string } }> {
  return env.client.create(core('serviceaccounts', ns), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } }) as Promise<{ metadata: { uid: string } }>;
}

async function createTokenSecret(name: string, account: string): Promise<Secret> {
  const body = { apiVersion: 'v1', kind: 'Secret', metadata: { name, annotations: { 'kubernetes.io/service-account.name': account } }, type: 'kubernetes.io/service-account-token' };
  return env.client.create(core('secrets', ns), body) as Promise<Secret>;
}

/** The Secret once the controller has filled it. */
const filled = (name: string) => waitFor(`a token in ${name}`, async () => ((await secret(name))?.data?.token ? secret(name) : undefined));

async function review(token: string): Promise<Review['status']> {
  const r = await env.client.create<Review>({ group: 'authentication.k8s.io', version: 'v1', plural: 'tokenreviews' }, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } });
  return r.status;
}

describe('legacy service account token Secrets', () => {
  it('are filled with a token for the account, the cluster CA and the namespace', async () => {
    const sa = await createAccount('builder');
    await createTokenSecret('builder-token', 'builder');
    const s = await filled('builder-token');
    assert.equal(decoded(s, 'ca.crt'), caPem);
    assert.equal(decoded(s, 'namespace'), ns);
    assert.equal(s.metadata.annotations?.['kubernetes.io/service-account.uid'], sa.metadata.uid);
    const token = decoded(s, 'token');
    assert.deepEqual(parseJwt(token)?.claims, {
      iss: 'kubernetes/serviceaccount',
      'kubernetes.io/serviceaccount/namespace': ns,
      'kubernetes.io/serviceaccount/secret.name': 'builder-token',
      'kubernetes.io/serviceaccount/service-account.name': 'builder',
      'kubernetes.io/serviceaccount/service-account.uid': sa.metadata.uid,
      sub: `system:serviceaccount:${ns}:builder`,
    });
    assert.equal(s.metadata.labels?.['kubernetes.io/legacy-token-last-used'], undefined, 'not used yet');
    const status = await review(token);
    assert.equal(status.authenticated, true, status.error);
    assert.deepEqual(status.user, {
      username: `system:serviceaccount:${ns}:builder`,
      uid: sa.metadata.uid,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
    });
    // Its use is tracked on the Secret, by the day.
    const today = new Date().toISOString().slice(0, 10);
    const used = await waitFor('the last-used label', async () => ((await secret('builder-token'))?.metadata.labels?.['kubernetes.io/legacy-token-last-used'] ? secret('builder-token') : undefined));
    assert.ok([today, new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)].includes(used.metadata.labels!['kubernetes.io/legacy-token-last-used']!));
    assert.equal(used.data?.token, s.data?.token, 'the token stays');
  });

  it('keep a token that is there, and make a new one when it is taken out; the old one then fails', async () => {
    await createAccount('rotated');
    await createTokenSecret('rotated-token', 'rotated');
    const first = await filled('rotated-token');
    const oldToken = decoded(first, 'token');
    await env.client.patch(core('secrets', ns, 'rotated-token'), { metadata: { labels: { touched: 'yes' } } }, 'merge');
    assert.equal(decoded((await secret('rotated-token'))!, 'token'), oldToken);
    await env.client.patch(core('secrets', ns, 'rotated-token'), [{ op: 'remove', path: '/data/token' }], 'json');
    const second = await waitFor('a new token', async () => {
      const s = await secret('rotated-token');
      return s?.data?.token && decoded(s, 'token') !== oldToken ? s : undefined;
    });
    assert.equal((await review(decoded(second, 'token'))).authenticated, true);
    const old = await review(oldToken);
    assert.equal(old.authenticated, undefined);
    assert.match(old.error ?? '', /token does not match server's copy/);
  });

  it('are refused while marked invalid', async () => {
    await createAccount('retired');
    await createTokenSecret('retired-token', 'retired');
    const token = decoded(await filled('retired-token'), 'token');
    await env.client.patch(core('secrets', ns, 'retired-token'), { metadata: { labels: { 'kubernetes.io/legacy-token-invalid-since': '2026-12-01' } } }, 'merge');
    assert.match((await review(token)).error ?? '', /has been marked invalid/);
    await env.client.patch(core('secrets', ns, 'retired-token'), { metadata: { labels: { 'kubernetes.io/legacy-token-invalid-since': null } } }, 'merge');
    assert.equal((await review(token)).authenticated, true);
  });

  it('are deleted with their account, and their token stops working', async () => {
    await createAccount('short-lived');
    const made = await createTokenSecret('short-lived-token', 'short-lived');
    const token = decoded(await filled('short-lived-token'), 'token');
    await env.client.delete(core('serviceaccounts', ns, 'short-lived'));
    await waitFor('the token Secret deleted', async () => (await secret('short-lived-token')) === undefined || (await secret('short-lived-token'))!.metadata.uid !== made.metadata.uid);
    assert.match((await review(token)).error ?? '', /token has been invalidated/);
  });

  it('naming no account that exists are deleted, and so are those of an account made again', async () => {
    const orphan = await createTokenSecret('orphan-token', 'nobody');
    await waitFor('the orphan deleted', async () => (await secret('orphan-token'))?.metadata.uid !== orphan.metadata.uid);
    await createAccount('again');
    await createTokenSecret('again-token', 'again');
    const token = decoded(await filled('again-token'), 'token');
    // The account deleted and made again at once: a new UID, which the Secret's annotation and the token do not name.
    await env.client.delete(core('serviceaccounts', ns, 'again'));
    await createAccount('again');
    await waitFor('the old account\'s Secret deleted', async () => (await secret('again-token')) === undefined);
    assert.equal((await review(token)).authenticated, undefined);
  });
});
