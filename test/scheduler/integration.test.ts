// The scheduler against the in-process API server: placement by resources,
// selectors, affinity, taints and topology spread; the unschedulable
// condition and events; requeueing; preemption; schedulerName.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../apiserver/harness.js';
import { nodesPath as nodes, podScheduledCondition, podsIn, startCluster } from './cluster.js';

const nodesPath = (name: string) => ({ ...nodes, name });
import type { Pod } from '../../src/api/scheduling/index.js';
import { defaultPlugins, type BindPlugin } from '../../src/scheduler/index.js';

const ns = 'default';

test('pods go to nodes with room, through pods/binding, with a Scheduled event', async () => {
  const c = await startCluster();
  try {
    for (const n of ['n1', 'n2', 'n3']) await c.addNode(n, { cpu: '1' });
    for (const p of ['a', 'b', 'c']) await c.addPod(ns, p, { cpu: '800m' });
    const placed = new Set<string>();
    for (const p of ['a', 'b', 'c']) placed.add(await c.nodeOf(ns, p));
    assert.deepEqual([...placed].sort(), ['n1', 'n2', 'n3']);
    const a = await c.getPod(ns, 'a');
    assert.equal(a.status?.conditions?.find((x) => x.type === 'PodScheduled')?.status, 'True');
    const events = await waitFor('Scheduled event', async () => {
      const evs = await c.events(ns, 'a');
      return evs.length ? evs : undefined;
    });
    assert.equal(events[0]!.reason, 'Scheduled');
    assert.equal(events[0]!.type, 'Normal');
    assert.equal(events[0]!.message, `Successfully assigned default/a to ${a.spec!.nodeName}`);
    assert.equal((events[0]!.source as { component?: string }).component, 'default-scheduler');
    assert.equal(c.scheduler.stats.scheduled, 3);
  } finally {
    await c.close();
  }
});

test('a pod that fits nowhere gets PodScheduled=False with the reasons counted, a FailedScheduling event, and is placed when a node with room appears', async () => {
  const c = await startCluster();
  try {
    for (const n of ['n1', 'n2', 'n3']) await c.addNode(n, { cpu: '1' });
    await c.addPod(ns, 'big', { cpu: '2' });
    const expected = '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.';
    const cond = await podScheduledCondition(c, ns, 'big', 'False');
    assert.equal(cond.reason, 'Unschedulable');
    assert.equal(cond.message, expected);
    const ev = await waitFor('FailedScheduling event', async () => (await c.events(ns, 'big')).find((e) => e.reason === 'FailedScheduling'));
    assert.equal(ev.type, 'Warning');
    assert.equal(ev.message, expected);
    // The pod waits in the unschedulable set until a node that can hold it is added.
    await waitFor('pod in the unschedulable set', () => c.scheduler.stats.pending.unschedulable === 1);
    await c.addNode('n4', { cpu: '4' });
    assert.equal(await c.nodeOf(ns, 'big'), 'n4');
    await podScheduledCondition(c, ns, 'big', 'True');
  } finally {
    await c.close();
  }
});

test('a pod created before any node exists waits, and is placed when the first node registers; removing a taint requeues too', async () => {
  const c = await startCluster();
  try {
    await c.addPod(ns, 'early');
    const cond = await podScheduledCondition(c, ns, 'early', 'False');
    assert.equal(cond.message, 'no nodes available to schedule pods');
    await c.addNode('first', { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }] });
    await podScheduledCondition(c, ns, 'early', 'False', 'untolerated taint');
    // What the node lifecycle controller does once the node is ready.
    const node = await c.api.client.get(nodesPath('first'));
    await c.api.client.update(nodesPath('first'), { ...node, spec: {} });
    assert.equal(await c.nodeOf(ns, 'early'), 'first');
  } finally {
    await c.close();
  }
});

test('reasons from several plugins are sorted and counted per node', async () => {
  const c = await startCluster();
  try {
    await c.addNode('tainted', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
    await c.addNode('small', { memory: '1Gi' });
    await c.addNode('cordoned', { unschedulable: true });
    await c.addPod(ns, 'p', { memory: '2Gi' });
    const cond = await podScheduledCondition(c, ns, 'p', 'False');
    assert.equal(
      cond.message,
      "0/3 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint(s), 1 node(s) were unschedulable. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
    );
  } finally {
    await c.close();
  }
});

test('extended resources, ephemeral storage and pod count are enforced', async () => {
  const c = await startCluster();
  try {
    await c.addNode('cpu-only');
    await c.addNode('gpu', { extra: { 'nvidia.com/gpu': '2' } });
    await c.addNode('tiny', { pods: '1', extra: { 'nvidia.com/gpu': '8' } });
    await c.addPod(ns, 'filler', { spec: { nodeName: 'tiny' } });
    await c.addPod(ns, 'trainer', { extraRequests: { 'nvidia.com/gpu': '2' } });
    assert.equal(await c.nodeOf(ns, 'trainer'), 'gpu');
    await c.addPod(ns, 'trainer2', { extraRequests: { 'nvidia.com/gpu': '1' } });
    const cond = await podScheduledCondition(c, ns, 'trainer2', 'False');
    assert.match(cond.message!, /^0\/3 nodes are available: 1 Too many pods, 2 Insufficient nvidia\.com\/gpu\./);
  } finally {
    await c.close();
  }
});

test('nodeSelector and required node affinity restrict placement; preferred affinity picks among the rest', async () => {
  const c = await startCluster();
  try {
    await c.addNode('ssd-a', { labels: { disk: 'ssd', zone: 'a' } });
    await c.addNode('ssd-b', { labels: { disk: 'ssd', zone: 'b' } });
    await c.addNode('hdd-a', { labels: { disk: 'hdd', zone: 'a' } });
    await c.addPod(ns, 'selector', { spec: { nodeSelector: { disk: 'hdd' } } });
    assert.equal(await c.nodeOf(ns, 'selector'), 'hdd-a');
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] }] },
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] } }],
      },
    };
    for (let i = 0; i < 3; i++) {
      await c.addPod(ns, `pref-${i}`, { spec: { affinity } });
      assert.equal(await c.nodeOf(ns, `pref-${i}`), 'ssd-b');
    }
    await c.addPod(ns, 'nowhere', { spec: { nodeSelector: { disk: 'nvme' } } });
    const cond = await podScheduledCondition(c, ns, 'nowhere', 'False');
    assert.equal(
      cond.message,
      "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
  } finally {
    await c.close();
  }
});

test('taints keep pods without tolerations away; tolerations let them in; PreferNoSchedule is avoided', async () => {
  const c = await startCluster();
  try {
    await c.addNode('gpu', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
    await c.addNode('draining', { taints: [{ key: 'maintenance', effect: 'NoExecute' }] });
    await c.addNode('soft', { taints: [{ key: 'spot', value: 'true', effect: 'PreferNoSchedule' }] });
    await c.addNode('plain');
    for (let i = 0; i < 3; i++) {
      await c.addPod(ns, `web-${i}`);
      assert.equal(await c.nodeOf(ns, `web-${i}`), 'plain');
    }
    await c.addPod(ns, 'ml', {
      spec: {
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }],
        nodeSelector: { 'kubernetes.io/hostname': 'gpu' },
      },
    });
    assert.equal(await c.nodeOf(ns, 'ml'), 'gpu');
    await c.addPod(ns, 'stubborn', { spec: { nodeSelector: { 'kubernetes.io/hostname': 'draining' } } });
    const cond = await podScheduledCondition(c, ns, 'stubborn', 'False');
    assert.equal(
      cond.message,
      "0/4 nodes are available: 2 node(s) didn't match Pod's node affinity/selector, 2 node(s) had untolerated taint(s). preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.",
    );
  } finally {
    await c.close();
  }
});

test('required anti-affinity spreads replicas one per host and leaves the extra one pending; pod affinity follows its peer', async () => {
  const c = await startCluster();
  try {
    await c.addNode('n1', { labels: { zone: 'a' } });
    await c.addNode('n2', { labels: { zone: 'a' } });
    await c.addNode('n3', { labels: { zone: 'b' } });
    const anti = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }],
      },
    };
    const hosts = new Set<string>();
    for (let i = 0; i < 3; i++) {
      await c.addPod(ns, `web-${i}`, { labels: { app: 'web' }, spec: { affinity: anti } });
      hosts.add(await c.nodeOf(ns, `web-${i}`));
    }
    assert.equal(hosts.size, 3);
    await c.addPod(ns, 'web-3', { labels: { app: 'web' }, spec: { affinity: anti } });
    const cond = await podScheduledCondition(c, ns, 'web-3', 'False');
    assert.equal(
      cond.message,
      "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
    );

    // An existing pod's anti-affinity keeps matching pods out of its zone.
    await c.addPod(ns, 'loner', {
      labels: { app: 'loner' },
      spec: {
        nodeSelector: { zone: 'b' },
        affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { team: 'noisy' } }, topologyKey: 'zone' }] } },
      },
    });
    assert.equal(await c.nodeOf(ns, 'loner'), 'n3');
    for (let i = 0; i < 3; i++) {
      await c.addPod(ns, `noisy-${i}`, { labels: { team: 'noisy' } });
      assert.notEqual(await c.nodeOf(ns, `noisy-${i}`), 'n3');
    }

    // Required pod affinity: the cache pod goes to the zone of its database.
    await c.addPod(ns, 'db', { labels: { app: 'db' }, spec: { nodeSelector: { zone: 'b' } } });
    assert.equal(await c.nodeOf(ns, 'db'), 'n3');
    await c.addPod(ns, 'cache', {
      spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'zone' }] } } },
    });
    assert.equal(await c.nodeOf(ns, 'cache'), 'n3');
  } finally {
    await c.close();
  }
});

test('topology spread with DoNotSchedule keeps zones within maxSkew', async () => {
  const c = await startCluster();
  try {
    await c.addNode('a1', { labels: { zone: 'a' } });
    await c.addNode('a2', { labels: { zone: 'a' } });
    await c.addNode('a3', { labels: { zone: 'a' } });
    await c.addNode('b1', { labels: { zone: 'b' } });
    const spread = [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'api' } } }];
    const zones: Record<string, number> = { a: 0, b: 0 };
    for (let i = 0; i < 6; i++) {
      await c.addPod(ns, `api-${i}`, { labels: { app: 'api' }, spec: { topologySpreadConstraints: spread } });
      const node = await c.nodeOf(ns, `api-${i}`);
      zones[node.startsWith('a') ? 'a' : 'b']!++;
      assert.ok(Math.abs(zones.a! - zones.b!) <= 1, `skew after ${i + 1} pods: ${JSON.stringify(zones)}`);
    }
    assert.deepEqual(zones, { a: 3, b: 3 });
    // With nodeAffinityPolicy Ignore, zone a still counts for a pod that may only go to zone b.
    const ignoring = [{ ...spread[0], nodeAffinityPolicy: 'Ignore' }];
    await c.addPod(ns, 'pinned', { labels: { app: 'api' }, spec: { topologySpreadConstraints: ignoring, nodeSelector: { zone: 'b' } } });
    await c.addPod(ns, 'pinned2', { labels: { app: 'api' }, spec: { topologySpreadConstraints: ignoring, nodeSelector: { zone: 'b' } } });
    await c.nodeOf(ns, 'pinned');
    const cond = await podScheduledCondition(c, ns, 'pinned2', 'False');
    assert.match(cond.message!, /^0\/4 nodes are available: 1 node\(s\) didn't match pod topology spread constraints, 3 node\(s\) didn't match Pod's node affinity\/selector\./);
  } finally {
    await c.close();
  }
});

test('preemption evicts a lower-priority pod with its grace period, nominates the node, and the pod lands there', async () => {
  // A short flush interval lets the nominated pod be retried while its victim terminates.
  const c = await startCluster({ podInitialBackoffMs: 50, podMaxBackoffMs: 200, unschedulableFlushMs: 300 });
  try {
    await c.api.client.create(
      { group: 'scheduling.k8s.io', version: 'v1', plural: 'priorityclasses' },
      { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high' }, value: 1000 },
    );
    await c.addNode('only', { cpu: '1' });
    // A victim that takes 30 s to stop stays Terminating until the test deletes it for good.
    await c.addPod(ns, 'low', { cpu: '800m', spec: { terminationGracePeriodSeconds: 30 } });
    assert.equal(await c.nodeOf(ns, 'low'), 'only');
    await c.addPod(ns, 'important', { cpu: '800m', spec: { priorityClassName: 'high' } });

    const preemptor = await waitFor('nominatedNodeName', async () => {
      const p = await c.getPod(ns, 'important');
      return p.status?.nominatedNodeName === 'only' ? p : undefined;
    });
    assert.equal(preemptor.spec?.nodeName, undefined);
    const victim = await waitFor('victim terminating', async () => {
      const p = await c.getPod(ns, 'low');
      return p.metadata.deletionTimestamp ? p : undefined;
    });
    const disruption = victim.status?.conditions?.find((x) => x.type === 'DisruptionTarget');
    assert.equal(disruption?.status, 'True');
    assert.equal(disruption?.reason, 'PreemptionByScheduler');
    assert.equal(disruption?.message, 'default-scheduler: preempting to accommodate a higher priority pod');
    const preempted = await waitFor('Preempted event', async () => (await c.events(ns, 'low')).find((e) => e.reason === 'Preempted'));
    assert.equal(preempted.message, `Preempted by pod ${preemptor.metadata.uid} on node only`);

    // While the victim terminates the preemptor waits (its space is reserved on the nominated node).
    await c.addPod(ns, 'sneaky', { cpu: '800m' });
    const cond = await podScheduledCondition(c, ns, 'important', 'False', 'not eligible due to a terminating pod on the nominated node.');
    assert.equal(cond.message, '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to a terminating pod on the nominated node.');

    // The kubelet would finish the deletion; here the test does.
    await c.api.client.delete({ ...podsIn(ns), name: 'low' }, { gracePeriodSeconds: 0 });
    assert.equal(await c.nodeOf(ns, 'important'), 'only');
    const sneaky = await podScheduledCondition(c, ns, 'sneaky', 'False');
    assert.match(sneaky.message!, /^0\/1 nodes are available: 1 Insufficient cpu\./);
    assert.equal(c.scheduler.stats.preemptionVictims, 1);
  } finally {
    await c.close();
  }
});

test('a victim with no grace period goes at once and the preemptor is bound; preemptionPolicy Never does not preempt', async () => {
  const c = await startCluster({ podInitialBackoffMs: 50, podMaxBackoffMs: 200 });
  try {
    const classes = { group: 'scheduling.k8s.io', version: 'v1', plural: 'priorityclasses' };
    const priorityClass = (name: string, value: number, extra: Record<string, unknown> = {}) =>
      c.api.client.create(classes, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, ...extra });
    await priorityClass('low', 1);
    await priorityClass('polite', 100, { preemptionPolicy: 'Never' });
    await priorityClass('high', 1000);
    await c.addNode('only', { cpu: '1' });
    await c.addPod(ns, 'low', { cpu: '600m', spec: { priorityClassName: 'low', terminationGracePeriodSeconds: 0 } });
    assert.equal(await c.nodeOf(ns, 'low'), 'only');
    await c.addPod(ns, 'polite', { cpu: '600m', spec: { priorityClassName: 'polite' } });
    const cond = await podScheduledCondition(c, ns, 'polite', 'False');
    assert.equal(cond.message, '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.');
    await c.addPod(ns, 'high', { cpu: '600m', spec: { priorityClassName: 'high' } });
    assert.equal(await c.nodeOf(ns, 'high'), 'only');
    await waitFor('victim gone', async () => {
      try {
        await c.getPod(ns, 'low');
        return false;
      } catch {
        return true;
      }
    });
    // The polite pod is still waiting: the room went to the pod that asked for it.
    assert.equal((await c.getPod(ns, 'polite')).spec?.nodeName, undefined);
  } finally {
    await c.close();
  }
});

test('a binding that fails is taken back from the node, reported as SchedulerError, and retried', async () => {
  let failures = 1;
  const c = await startCluster({
    podInitialBackoffMs: 20,
    podMaxBackoffMs: 50,
    plugins: (deps) => {
      const plugins = defaultPlugins(deps);
      const binder = plugins.find((p) => p.name === 'DefaultBinder') as BindPlugin;
      const flaky: BindPlugin = {
        name: 'DefaultBinder',
        bind: (state, pod, node) => (failures-- > 0 ? Promise.reject(new Error('connection reset')) : binder.bind(state, pod, node)),
      };
      return plugins.map((p) => (p === binder ? flaky : p));
    },
  });
  try {
    await c.addNode('n1', { cpu: '1' });
    await c.addPod(ns, 'p', { cpu: '800m' });
    assert.equal(await c.nodeOf(ns, 'p'), 'n1');
    const failed = await waitFor('FailedScheduling event', async () => (await c.events(ns, 'p')).find((e) => e.reason === 'FailedScheduling'));
    assert.equal(failed.message, 'running Bind plugin "DefaultBinder": connection reset');
    assert.equal(c.scheduler.stats.errors, 1);
    assert.equal(c.scheduler.stats.scheduled, 1);
  } finally {
    await c.close();
  }
});

test('pods naming another scheduler, and pods already bound, are left alone', async () => {
  const c = await startCluster();
  try {
    await c.addNode('n1');
    await c.addPod(ns, 'other', { spec: { schedulerName: 'my-scheduler' } });
    await c.addPod(ns, 'prebound', { spec: { nodeName: 'n1' } });
    await c.addPod(ns, 'mine');
    assert.equal(await c.nodeOf(ns, 'mine'), 'n1');
    // By now the other scheduler's pod has been seen and skipped.
    await new Promise((r) => setTimeout(r, 200));
    const other = await c.getPod(ns, 'other');
    assert.equal(other.spec?.nodeName, undefined);
    assert.equal(other.status?.conditions?.find((x) => x.type === 'PodScheduled'), undefined);
    const prebound = await c.getPod(ns, 'prebound');
    assert.equal(prebound.spec?.nodeName, 'n1');
    assert.deepEqual((await c.events(ns, 'prebound')).map((e) => e.reason), []);
    assert.equal(c.scheduler.stats.scheduled, 1);
  } finally {
    await c.close();
  }
});

test('a second scheduler schedules only the pods that name it', async () => {
  const c = await startCluster({ schedulerName: 'my-scheduler' });
  try {
    await c.addNode('n1');
    await c.addPod(ns, 'for-default');
    await c.addPod(ns, 'for-me', { spec: { schedulerName: 'my-scheduler' } });
    assert.equal(await c.nodeOf(ns, 'for-me'), 'n1');
    const ev = await waitFor('Scheduled event', async () => (await c.events(ns, 'for-me')).find((e) => e.reason === 'Scheduled'));
    assert.equal((ev.source as { component?: string }).component, 'my-scheduler');
    const other: Pod = await c.getPod(ns, 'for-default');
    assert.equal(other.spec?.nodeName, undefined);
  } finally {
    await c.close();
  }
});

test('a claim whose class waits for its first consumer is told the node the pod goes to', async () => {
  const c = await startCluster();
  try {
    await c.addNode('n1', { cpu: '1' });
    await c.api.client.create({ group: 'storage.k8s.io', version: 'v1', plural: 'storageclasses' }, { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'wait' }, provisioner: 'nami.dev/local-path', volumeBindingMode: 'WaitForFirstConsumer' });
    const claims = { group: '', version: 'v1', plural: 'persistentvolumeclaims', namespace: ns };
    await c.api.client.create(claims, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' }, spec: { storageClassName: 'wait', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
    await c.api.client.create(podsIn(ns), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'db' },
      spec: { containers: [{ name: 'db', image: 'busybox' }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }] },
    });
    assert.equal(await c.nodeOf(ns, 'db'), 'n1');
    const claim = await c.api.client.get<{ metadata: { annotations?: Record<string, string> } }>({ ...claims, name: 'data' });
    assert.equal(claim.metadata.annotations?.['volume.kubernetes.io/selected-node'], 'n1');
  } finally {
    await c.close();
  }
});
