// The service account controller against a real API server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../src/api/object.js';
import { ServiceAccountController } from '../../src/controllers/serviceaccount/index.js';
import { namespaceIsActive } from '../../src/controllers/serviceaccount/controller.js';
import { core, createNamespace, getOrUndefined, startControllerEnv, testLog, waitFor, type ControllerEnv } from './core-controllers-env.js';

let env: ControllerEnv;
let controller: ServiceAccountController;

before(async () => {
  env = await startControllerEnv();
  controller = new ServiceAccountController(env.factory, { log: testLog });
  await env.factory.start();
  await controller.start();
});

after(async () => {
  controller?.stop();
  await env?.close();
});

const defaultAccount = (ns: string) => getOrUndefined(env.client, core('serviceaccounts', ns, 'default'));

describe('default service accounts', () => {
  it('exist in the namespaces the cluster starts with and in new ones', async () => {
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) await waitFor(`default account in ${ns}`, () => defaultAccount(ns));
    await createNamespace(env.client, 'team-a');
    await waitFor('default account in team-a', () => defaultAccount('team-a'));
  });

  it('come back when deleted', async () => {
    const before = (await defaultAccount('team-a'))!;
    await env.client.delete(core('serviceaccounts', 'team-a', 'default'));
    const after = await waitFor('a new default account in team-a', async () => {
      const sa = await defaultAccount('team-a');
      return sa && sa.metadata.uid !== before.metadata.uid ? sa : undefined;
    });
    assert.equal(after.metadata.name, 'default');
  });

  it('are not made in a terminating namespace', async () => {
    assert.equal(namespaceIsActive({ metadata: { name: 'x', deletionTimestamp: '2024-01-01T00:00:00Z' } }), false);
    assert.equal(namespaceIsActive({ metadata: { name: 'x' }, status: { phase: 'Terminating' } } as KubeObject), false);
    assert.equal(namespaceIsActive({ metadata: { name: 'x' }, status: { phase: 'Active' } } as KubeObject), true);
    await createNamespace(env.client, 'team-b');
    await waitFor('default account in team-b', () => defaultAccount('team-b'));
    // No namespace controller runs here, so the namespace stays Terminating with its content.
    await env.client.delete(core('namespaces', undefined, 'team-b'));
    await waitFor('team-b terminating', async () => ((await env.client.get(core('namespaces', undefined, 'team-b'))).status as { phase?: string }).phase === 'Terminating');
    await env.client.delete(core('serviceaccounts', 'team-b', 'default'));
    // The deletion is seen (the account goes from the informer); a sync then finds the namespace terminating.
    await waitFor('the default account deleted', async () => (await defaultAccount('team-b')) === undefined);
    await controller.sync('team-b');
    assert.equal(await defaultAccount('team-b'), undefined);
  });
});
