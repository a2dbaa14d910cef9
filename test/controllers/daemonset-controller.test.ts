// The DaemonSet controller against an in-process API server, with Node
// objects made by the test (no scheduler runs: pods stay pinned by affinity).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeList, KubeObject } from '../../src/api/object.js';
import { DaemonSetController } from '../../src/controllers/daemonset/controller.js';
import { bindPod, container, createNamespace, finishDeletions, listPods, markRunningReady, nodesPath, startEnv, waitFor } from './workloads-harness.js';

const daemonSets = { group: 'apps', version: 'v1', plural: 'daemonsets' };
const revisions = { group: 'apps', version: 'v1', plural: 'controllerrevisions' };

function node(name: string, labels: Record<string, string> = {}, taints: Record<string, unknown>[] = []): KubeObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } }, spec: taints.length > 0 ? { taints } : {} };
}

function daemonSet(name: string, extra: Record<string, unknown> = {}, podSpec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [container()], ...podSpec } },
      ...extra,
    },
  };
}

interface DsStatus {
  desiredNumberScheduled?: number;
  currentNumberScheduled?: number;
  numberReady?: number;
  numberAvailable?: number;
  updatedNumberScheduled?: number;
  numberMisscheduled?: number;
  observedGeneration?: number;
}

/** node name -> the DaemonSet's live pods pinned to it */
function podsByNode(pods: KubeObject[]): Map<string, KubeObject[]> {
  const out = new Map<string, KubeObject[]>();
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const terms = (pod.spec as { affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: { matchFields?: { values?: string[] }[] }[] } } } }).affinity?.nodeAffinity
      ?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    const target = terms?.[0]?.matchFields?.[0]?.values?.[0] ?? '?';
    out.set(target, [...(out.get(target) ?? []), pod]);
  }
  return out;
}

test('a DaemonSet runs one pod per eligible node, adds one for a new node, none on a node tainted against it, and removes the pod of a node that goes', async () => {
  const env = await startEnv();
  const ctrl = new DaemonSetController(env.factory, { log: env.log });
  try {
    await ctrl.start();
    const ns = 'ds-basic';
    await createNamespace(env.client, ns);
    await env.client.create(nodesPath, node('n1'));
    await env.client.create(nodesPath, node('n2'));
    await env.client.create(nodesPath, node('n3', {}, [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]));
    // Tolerated automatically: a daemon pod still goes to an unschedulable, memory-pressured node.
    await env.client.create(nodesPath, node('n4', {}, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' }]));
    await env.client.create({ ...daemonSets, namespace: ns }, daemonSet('agent'));

    const pods = await waitFor('pods on n1, n2, n4', async () => {
      const list = await listPods(env.client, ns);
      const byNode = podsByNode(list);
      return byNode.size === 3 && byNode.has('n1') && byNode.has('n2') && byNode.has('n4') ? list : undefined;
    });
    assert.equal(pods.length, 3, 'exactly one pod per node');
    const pod = pods[0]!;
    assert.match(pod.metadata.name ?? '', /^agent-[a-z0-9]{5}$/);
    assert.equal(pod.metadata.ownerReferences?.[0]?.kind, 'DaemonSet');
    assert.ok(pod.metadata.labels?.['controller-revision-hash']);
    const spec = pod.spec as { nodeName?: string; tolerations?: { key: string; operator: string; effect: string }[]; affinity?: unknown };
    assert.equal(spec.nodeName, undefined, 'the scheduler binds daemon pods');
    const terms = (spec.affinity as { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: unknown[] } } }).nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    assert.equal(terms.length, 1);
    assert.deepEqual((terms[0] as { matchFields: unknown[] }).matchFields[0], { key: 'metadata.name', operator: 'In', values: [podsByNode([pod]).keys().next().value] });
    assert.deepEqual(
      spec.tolerations?.map((t) => `${t.key}:${t.effect}:${t.operator}`),
      [
        'node.kubernetes.io/not-ready:NoExecute:Exists',
        'node.kubernetes.io/unreachable:NoExecute:Exists',
        'node.kubernetes.io/disk-pressure:NoSchedule:Exists',
        'node.kubernetes.io/memory-pressure:NoSchedule:Exists',
        'node.kubernetes.io/pid-pressure:NoSchedule:Exists',
        'node.kubernetes.io/unschedulable:NoSchedule:Exists',
      ],
    );
    const hash = pod.metadata.labels?.['controller-revision-hash'];
    const history = (await env.client.list<KubeList>({ ...revisions, namespace: ns })).items;
    assert.equal(history.length, 1);
    assert.equal(history[0]!.metadata.labels?.['controller-revision-hash'], hash);

    const status = await waitFor('status', async () => {
      const s = ((await env.client.get({ ...daemonSets, namespace: ns, name: 'agent' })).status ?? {}) as DsStatus;
      return s.desiredNumberScheduled === 3 && s.currentNumberScheduled === 3 ? s : undefined;
    });
    assert.equal(status.numberMisscheduled, 0);
    assert.equal(status.updatedNumberScheduled, 3);
    assert.equal(status.numberReady, 0);
    assert.equal(status.observedGeneration, 1);

    // The nodes bind and run the pods.
    for (const p of pods) {
      await bindPod(env.client, p, podsByNode([p]).keys().next().value!);
      await markRunningReady(env.client, p);
    }
    await waitFor('3 ready', async () => (((await env.client.get({ ...daemonSets, namespace: ns, name: 'agent' })).status ?? {}) as DsStatus).numberAvailable === 3);

    // A new node gets a pod.
    await env.client.create(nodesPath, node('n5'));
    await waitFor('pod on n5', async () => podsByNode(await listPods(env.client, ns)).has('n5'));

    // A node that goes away loses its pod.
    await env.client.delete({ ...nodesPath, name: 'n2' });
    await waitFor('n2 pod gone', async () => !podsByNode(await listPods(env.client, ns)).has('n2'));
    await waitFor('status after node changes', async () => {
      const s = ((await env.client.get({ ...daemonSets, namespace: ns, name: 'agent' })).status ?? {}) as DsStatus;
      return s.desiredNumberScheduled === 3 && s.currentNumberScheduled === 3;
    });
    assert.equal(podsByNode(await listPods(env.client, ns)).has('n3'), false, 'no pod on the tainted node');
  } finally {
    ctrl.stop();
    await env.close();
  }
});

test('a node that stops matching the nodeSelector loses its daemon pod; a NoExecute taint evicts it, a NoSchedule taint does not', async () => {
  const env = await startEnv();
  const ctrl = new DaemonSetController(env.factory, { log: env.log });
  try {
    await ctrl.start();
    const ns = 'ds-select';
    await createNamespace(env.client, ns);
    for (const name of ['a', 'b', 'c']) await env.client.create(nodesPath, node(name, { disk: 'ssd' }));
    await env.client.create(nodesPath, node('d', { disk: 'hdd' }));
    await env.client.create({ ...daemonSets, namespace: ns }, daemonSet('ssd', {}, { nodeSelector: { disk: 'ssd' } }));
    await waitFor('pods on a, b, c', async () => [...podsByNode(await listPods(env.client, ns)).keys()].sort().join() === 'a,b,c');

    await env.client.patch({ ...nodesPath, name: 'a' }, { metadata: { labels: { disk: 'hdd' } } }, 'merge');
    await waitFor('pod on a removed', async () => [...podsByNode(await listPods(env.client, ns)).keys()].sort().join() === 'b,c');

    await env.client.patch({ ...nodesPath, name: 'b' }, { spec: { taints: [{ key: 'maintenance', effect: 'NoSchedule' }] } }, 'merge');
    await env.client.patch({ ...nodesPath, name: 'c' }, { spec: { taints: [{ key: 'maintenance', effect: 'NoExecute' }] } }, 'merge');
    await waitFor('pod on c evicted', async () => [...podsByNode(await listPods(env.client, ns)).keys()].sort().join() === 'b');
    const s = await waitFor('status', async () => {
      const st = ((await env.client.get({ ...daemonSets, namespace: ns, name: 'ssd' })).status ?? {}) as DsStatus;
      return st.desiredNumberScheduled === 0 && st.numberMisscheduled === 1 ? st : undefined;
    });
    assert.equal(s.currentNumberScheduled, 0);
  } finally {
    ctrl.stop();
    await env.close();
  }
});

test('a RollingUpdate replaces daemon pods no more than maxUnavailable at a time', async () => {
  const env = await startEnv();
  const ctrl = new DaemonSetController(env.factory, { log: env.log });
  try {
    await ctrl.start();
    const ns = 'ds-update';
    await createNamespace(env.client, ns);
    for (const name of ['u1', 'u2', 'u3']) await env.client.create(nodesPath, node(name));
    await env.client.create({ ...daemonSets, namespace: ns }, daemonSet('roll', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } } }));
    const handled = new Set<string>();
    let maxUnavailable = 0;
    const nodeLoop = async () => {
      await finishDeletions(env.client, ns);
      const live = (await listPods(env.client, ns)).filter((p) => !p.metadata.deletionTimestamp);
      const readyCount = live.filter((p) => handled.has(p.metadata.uid ?? '')).length;
      maxUnavailable = Math.max(maxUnavailable, 3 - readyCount);
      for (const p of live) {
        if (handled.has(p.metadata.uid ?? '')) continue;
        await bindPod(env.client, p, podsByNode([p]).keys().next().value!);
        await markRunningReady(env.client, p);
        handled.add(p.metadata.uid ?? '');
      }
    };
    await waitFor('3 available', async () => {
      await nodeLoop();
      return (((await env.client.get({ ...daemonSets, namespace: ns, name: 'roll' })).status ?? {}) as DsStatus).numberAvailable === 3;
    });
    const oldHash = (await listPods(env.client, ns))[0]!.metadata.labels?.['controller-revision-hash'];
    maxUnavailable = 0;
    await env.client.patch({ ...daemonSets, namespace: ns, name: 'roll' }, { spec: { template: { metadata: { labels: { app: 'roll', v: '2' } } } } }, 'merge');
    const final = await waitFor('all updated', async () => {
      await nodeLoop();
      const s = ((await env.client.get({ ...daemonSets, namespace: ns, name: 'roll' })).status ?? {}) as DsStatus;
      return s.updatedNumberScheduled === 3 && s.numberAvailable === 3 && s.observedGeneration === 2 ? s : undefined;
    });
    assert.equal(final.desiredNumberScheduled, 3);
    const pods = (await listPods(env.client, ns)).filter((p) => !p.metadata.deletionTimestamp);
    assert.equal(pods.length, 3);
    for (const p of pods) assert.notEqual(p.metadata.labels?.['controller-revision-hash'], oldHash);
    assert.ok(maxUnavailable <= 1, `at most one node without a ready pod at a time (saw ${maxUnavailable})`);
    assert.equal((await env.client.list<KubeList>({ ...revisions, namespace: ns })).items.length, 2);
  } finally {
    ctrl.stop();
    await env.close();
  }
});
