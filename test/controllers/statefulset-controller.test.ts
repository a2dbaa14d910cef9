// The StatefulSet controller against an in-process API server; the test acts
// as the nodes (binds pods, reports them Running and Ready, finishes deletes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeList, KubeObject } from '../../src/api/object.js';
import { StatefulSetController, type StatefulSetStatus } from '../../src/controllers/statefulset/controller.js';
import { bindPod, container, createNamespace, finishDeletions, listPods, markRunningReady, startEnv, waitFor } from './workloads-harness.js';

const statefulSets = { group: 'apps', version: 'v1', plural: 'statefulsets' };
const claims = { group: '', version: 'v1', plural: 'persistentvolumeclaims' };
const revisions = { group: 'apps', version: 'v1', plural: 'controllerrevisions' };

function statefulSet(name: string, replicas: number, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      replicas,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [container()] } },
      ...extra,
    },
  };
}

async function getSet(client: import('../../src/client/rest.js').RestClient, ns: string, name: string): Promise<KubeObject & { status?: StatefulSetStatus; spec?: Record<string, unknown> }> {
  return client.get({ ...statefulSets, namespace: ns, name });
}

test('an OrderedReady StatefulSet creates web-0, web-1, web-2 in order, each once the previous is Ready, with claims from its templates', async () => {
  const env = await startEnv();
  const ctrl = new StatefulSetController(env.factory, { log: env.log });
  try {
    await ctrl.start();
    const ns = 'sts-order';
    await createNamespace(env.client, ns);
    await env.client.create(
      { ...statefulSets, namespace: ns },
      statefulSet('web', 3, {
        volumeClaimTemplates: [{ metadata: { name: 'www', labels: { tier: 'data' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      }),
    );
    for (let i = 0; i < 3; i++) {
      const name = `web-${i}`;
      const pod = await waitFor(name, async () => (await listPods(env.client, ns)).find((p) => p.metadata.name === name));
      // The controller has seen this pod (status counts it) and still made no next one: it waits for Ready.
      await waitFor(`status counting ${name}`, async () => ((await getSet(env.client, ns, 'web')).status?.replicas === i + 1 ? true : undefined));
      assert.deepEqual(
        (await listPods(env.client, ns)).map((p) => p.metadata.name).sort(),
        Array.from({ length: i + 1 }, (_v, j) => `web-${j}`),
      );
      const labels = pod.metadata.labels ?? {};
      assert.equal(labels['statefulset.kubernetes.io/pod-name'], name);
      assert.equal(labels['apps.kubernetes.io/pod-index'], String(i));
      assert.match(labels['controller-revision-hash'] ?? '', /^web-[a-z0-9]+$/);
      const spec = pod.spec as { hostname?: string; subdomain?: string; volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[] };
      assert.equal(spec.hostname, name);
      assert.equal(spec.subdomain, 'web');
      assert.deepEqual(spec.volumes?.[0], { name: 'www', persistentVolumeClaim: { claimName: `www-web-${i}` } });
      const claim = await env.client.get({ ...claims, namespace: ns, name: `www-web-${i}` });
      assert.deepEqual(claim.metadata.labels, { tier: 'data', app: 'web' });
      assert.equal(claim.metadata.ownerReferences, undefined, 'the default retention policy (Retain) leaves claims unowned');
      assert.equal(pod.metadata.ownerReferences?.[0]?.kind, 'StatefulSet');
      await bindPod(env.client, pod, 'node-1');
      await markRunningReady(env.client, pod);
    }
    const status = await waitFor('3 ready replicas', async () => {
      const s = (await getSet(env.client, ns, 'web')).status;
      return s?.readyReplicas === 3 && s.currentReplicas === 3 && s.updatedReplicas === 3 ? s : undefined;
    });
    assert.equal(status.replicas, 3);
    assert.equal(status.availableReplicas, 3);
    assert.equal(status.observedGeneration, 1);
    assert.equal(status.currentRevision, status.updateRevision);
    const history = (await env.client.list<KubeList>({ ...revisions, namespace: ns })).items;
    assert.equal(history.length, 1);
    assert.equal(history[0]!.metadata.name, status.currentRevision);
    assert.equal((history[0] as { revision?: number }).revision, 1);
  } finally {
    ctrl.stop();
    await env.close();
  }
});

test('scaling an OrderedReady StatefulSet down removes the highest ordinal first, one at a time', async () => {
  const env = await startEnv();
  const ctrl = new StatefulSetController(env.factory, { log: env.log });
  try {
    await ctrl.start();
    const ns = 'sts-scale';
    await createNamespace(env.client, ns);
    await env.client.create({ ...statefulSets, namespace: ns }, statefulSet('db', 3));
    const ready = new Set<string>();
    await waitFor('3 ready', async () => {
      for (const pod of await listPods(env.client, ns)) {
        if (ready.has(pod.metadata.uid ?? '')) continue;
        await bindPod(env.client, pod, 'node-1');
        await markRunningReady(env.client, pod);
        ready.add(pod.metadata.uid ?? '');
      }
      return (await getSet(env.client, ns, 'db')).status?.readyReplicas === 3;
    });
    await env.client.patch({ ...statefulSets, namespace: ns, name: 'db' }, { spec: { replicas: 1 } }, 'merge');
    const deletedFirst = await waitFor('a pod being deleted', async () => {
      const names = (await listPods(env.client, ns)).filter((p) => p.metadata.deletionTimestamp).map((p) => p.metadata.name);
      return names.length > 0 ? names : undefined;
    });
    assert.deepEqual(deletedFirst, ['db-2']);
    // db-1 goes only after db-2 has gone (the test, as the node, completes each deletion).
    // Once the controller has seen db-2 terminating (it no longer counts as current), it still leaves db-1 alone.
    await waitFor('db-2 seen terminating', async () => (await getSet(env.client, ns, 'db')).status?.currentReplicas === 2);
    assert.equal((await listPods(env.client, ns)).find((p) => p.metadata.name === 'db-1')?.metadata.deletionTimestamp, undefined);
    await finishDeletions(env.client, ns);
    await waitFor('db-1 deleted', async () => {
      await finishDeletions(env.client, ns);
      const names = (await listPods(env.client, ns)).map((p) => p.metadata.name);
      return names.length === 1 && names[0] === 'db-0';
    });
    await waitFor('status of 1 replica', async () => (await getSet(env.client, ns, 'db')).status?.replicas === 1);
  } finally {
    ctrl.stop();
    await env.close();
  }
});

test('a RollingUpdate with a partition replaces pods from the highest ordinal down to the partition, waiting for each to be Ready', async () => {
  const env = await startEnv();
  const ctrl = new StatefulSetController(env.factory, { log: env.log });
  try {
    await ctrl.start();
    const ns = 'sts-update';
    await createNamespace(env.client, ns);
    await env.client.create({ ...statefulSets, namespace: ns }, statefulSet('app', 3, { podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } }));
    const ready = new Set<string>();
    const node = async () => {
      await finishDeletions(env.client, ns);
      for (const pod of await listPods(env.client, ns)) {
        if (pod.metadata.deletionTimestamp || ready.has(pod.metadata.uid ?? '')) continue;
        if (!(pod.spec as { nodeName?: string }).nodeName) await bindPod(env.client, pod, 'node-1');
        await markRunningReady(env.client, pod);
        ready.add(pod.metadata.uid ?? '');
      }
    };
    const first = await waitFor('3 ready', async () => {
      await node();
      const s = (await getSet(env.client, ns, 'app')).status;
      return s?.readyReplicas === 3 ? s : undefined;
    });
    await env.client.patch({ ...statefulSets, namespace: ns, name: 'app' }, { spec: { template: { metadata: { labels: { app: 'app', version: 'two' } } } } }, 'merge');
    const updated = await waitFor('app-2 and app-1 updated', async () => {
      await node();
      const s = (await getSet(env.client, ns, 'app')).status;
      return s?.updatedReplicas === 2 && s.readyReplicas === 3 ? s : undefined;
    });
    assert.notEqual(updated.updateRevision, first.updateRevision);
    assert.equal(updated.currentRevision, first.currentRevision, 'the partition keeps app-0 at the current revision');
    const byName = new Map((await listPods(env.client, ns)).map((p) => [p.metadata.name, p.metadata.labels?.['controller-revision-hash']]));
    assert.equal(byName.get('app-0'), first.currentRevision);
    assert.equal(byName.get('app-1'), updated.updateRevision);
    assert.equal(byName.get('app-2'), updated.updateRevision);
    // Partition 0 finishes the rollout and the update revision becomes the current one.
    await env.client.patch({ ...statefulSets, namespace: ns, name: 'app' }, { spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } } } }, 'merge');
    const done = await waitFor('rollout complete', async () => {
      await node();
      const s = (await getSet(env.client, ns, 'app')).status;
      return s?.updatedReplicas === 3 && s.readyReplicas === 3 && s.currentRevision === s.updateRevision ? s : undefined;
    });
    assert.equal(done.currentReplicas, 3);
    assert.equal((await env.client.list<KubeList>({ ...revisions, namespace: ns })).items.length, 2);
  } finally {
    ctrl.stop();
    await env.close();
  }
});
