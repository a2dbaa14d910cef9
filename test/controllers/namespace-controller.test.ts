// The namespace controller against a real API server: a terminating
// namespace's content is deleted, its status conditions say what is left and
// which finalizers hold it (as Kubernetes' namespace deleter words them), and
// the namespace goes once its content has.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../src/api/object.js';
import { NamespaceController } from '../../src/controllers/namespace/controller.js';
import { core, createNamespace, getOrUndefined, startControllerEnv, testLog, waitFor, type ControllerEnv } from './core-controllers-env.js';

let env: ControllerEnv;
let controller: NamespaceController;

before(async () => {
  env = await startControllerEnv();
  controller = new NamespaceController(env.factory, { log: testLog });
  await env.factory.start();
  await controller.start();
});

after(async () => {
  controller?.stop();
  await env?.close();
});

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
}

const conditionsOf = (ns: KubeObject | undefined) => ((ns?.status as { conditions?: Condition[] } | undefined)?.conditions ?? []);

describe('a terminating namespace', () => {
  it('says in its conditions which content and finalizers hold it, and goes once they are gone', async () => {
    await createNamespace(env.client, 'held');
    const cm = (name: string, finalizers?: string[]) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, finalizers }, data: { a: 'b' } });
    await env.client.create(core('configmaps', 'held'), cm('kept', ['example.com/hold']));
    await env.client.create(core('configmaps', 'held'), cm('gone'));
    await env.client.delete(core('namespaces', undefined, 'held'));

    const held = await waitFor('the conditions of a namespace held by a finalizer', async () => {
      const ns = await getOrUndefined(env.client, core('namespaces', undefined, 'held'));
      return conditionsOf(ns).some((c) => c.type === 'NamespaceFinalizersRemaining' && c.status === 'True') ? ns : undefined;
    });
    assert.equal((held.status as { phase?: string }).phase, 'Terminating');
    const byType = new Map(conditionsOf(held).map((c) => [c.type, c]));
    assert.deepEqual([...byType.keys()], [
      'NamespaceDeletionDiscoveryFailure',
      'NamespaceDeletionGroupVersionParsingFailure',
      'NamespaceDeletionContentFailure',
      'NamespaceContentRemaining',
      'NamespaceFinalizersRemaining',
    ]);
    assert.deepEqual(
      [...byType.values()].map((c) => [c.status, c.reason, c.message]),
      [
        ['False', 'ResourcesDiscovered', 'All resources successfully discovered'],
        ['False', 'ParsedGroupVersions', 'All legacy kube types successfully parsed'],
        ['False', 'ContentDeleted', 'All content successfully deleted, may be waiting on finalization'],
        ['True', 'SomeResourcesRemain', 'Some resources are remaining: configmaps. has 1 resource instances'],
        ['True', 'SomeFinalizersRemain', 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances'],
      ],
    );
    assert.equal(await getOrUndefined(env.client, core('configmaps', 'held', 'gone')), undefined, 'what nothing holds is deleted meanwhile');

    const kept = await env.client.get<KubeObject>(core('configmaps', 'held', 'kept'));
    await env.client.update(core('configmaps', 'held', 'kept'), { ...kept, metadata: { ...kept.metadata, finalizers: [] } });
    await waitFor('the namespace to go', async () => (await getOrUndefined(env.client, core('namespaces', undefined, 'held'))) === undefined);
  });
});
