// The node agent's token manager: a pod's token is requested bound to the
// pod, kept, renewed after 80% of its lifetime, and kept while still good
// when renewal fails.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenManager, type IssuedToken } from '../../src/agent/service-account-tokens.js';

function clockAndServer() {
  let now = Date.parse('2026-12-01T00:00:00Z');
  let issued = 0;
  let failing = false;
  const requests: { namespace: string; account: string; body: Record<string, any> }[] = [];
  const manager = new TokenManager(
    async (namespace, account, body): Promise<IssuedToken> => {
      requests.push({ namespace, account, body });
      if (failing) throw new Error('the API server is away');
      issued++;
      return { token: `token-${issued}`, expirationTimestamp: new Date(now + (body.spec as { expirationSeconds: number }).expirationSeconds * 1000).toISOString() };
    },
    () => now,
  );
  return {
    manager,
    requests,
    advance: (seconds: number) => (now += seconds * 1000),
    fail: (f: boolean) => (failing = f),
  };
}

const spec = { expirationSeconds: 3600, pod: { name: 'web-1', uid: 'uid-1' } };

describe('TokenManager', () => {
  it('asks for a token bound to the pod, for the API server\'s audience unless one is named', async () => {
    const s = clockAndServer();
    assert.equal(await s.manager.token('shop', 'builder', spec), 'token-1');
    assert.deepEqual(s.requests[0], {
      namespace: 'shop',
      account: 'builder',
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: 3600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'web-1', uid: 'uid-1' } } },
    });
    await s.manager.token('shop', 'builder', { ...spec, audience: 'vault' });
    assert.deepEqual(s.requests[1]!.body.spec.audiences, ['vault'], 'another audience is another token');
  });

  it('keeps a token until 80% of its lifetime has passed, then asks again', async () => {
    const s = clockAndServer();
    assert.equal(await s.manager.token('shop', 'builder', spec), 'token-1');
    s.advance(2879);
    assert.equal(await s.manager.token('shop', 'builder', spec), 'token-1');
    assert.equal(s.requests.length, 1);
    s.advance(2);
    assert.equal(await s.manager.token('shop', 'builder', spec), 'token-2');
    assert.equal(await s.manager.token('shop', 'builder', { ...spec, pod: { name: 'web-2', uid: 'uid-2' } }), 'token-3', 'each pod has its own');
  });

  it('renews a long-lived token after a day', async () => {
    const s = clockAndServer();
    const week = { ...spec, expirationSeconds: 7 * 24 * 3600 };
    await s.manager.token('shop', 'builder', week);
    s.advance(24 * 3600 - 1);
    assert.equal(await s.manager.token('shop', 'builder', week), 'token-1');
    s.advance(2);
    assert.equal(await s.manager.token('shop', 'builder', week), 'token-2');
  });

  it('keeps using a token it cannot renew while it is good, and fails once it has expired', async () => {
    const s = clockAndServer();
    await s.manager.token('shop', 'builder', spec);
    s.fail(true);
    s.advance(3000);
    assert.equal(await s.manager.token('shop', 'builder', spec), 'token-1');
    s.advance(600);
    await assert.rejects(s.manager.token('shop', 'builder', spec), /the API server is away/);
  });
});
