// The DaemonSet controller's per-node decisions, without an API server:
// eligibility with the automatic tolerations, the pod-to-node pinning, the
// decisions per node, rolling-update budgets and status counting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/object.js';
import { affinityForNode, nodeShouldRunDaemonPod, targetNodeName, withDaemonTolerations } from '../../src/controllers/daemonset/eligibility.js';
import { daemonSetCounts, planRollingUpdate, podsShouldBeOnNode, scaledValue } from '../../src/controllers/daemonset/placement.js';
import type { Pod } from '../../src/controllers/workload-common/pods.js';

function node(name: string, labels: Record<string, string> = {}, taints: { key: string; value?: string; effect: string }[] = []): KubeObject {
  return { metadata: { name, labels }, spec: { taints } };
}

const template = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'x' }] } };

test('every daemon pod tolerates not-ready and unreachable (NoExecute) and the pressure and unschedulable taints (NoSchedule)', () => {
  const spec = withDaemonTolerations({ tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }, { key: 'mine', operator: 'Exists' }] });
  const tolerations = spec.tolerations as { key: string; effect?: string; tolerationSeconds?: number }[];
  assert.deepEqual(
    tolerations.map((t) => `${t.key}:${t.effect ?? ''}`),
    [
      'node.kubernetes.io/not-ready:NoExecute',
      'mine:',
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/disk-pressure:NoSchedule',
      'node.kubernetes.io/memory-pressure:NoSchedule',
      'node.kubernetes.io/pid-pressure:NoSchedule',
      'node.kubernetes.io/unschedulable:NoSchedule',
    ],
  );
  assert.equal(tolerations[0]!.tolerationSeconds, undefined, 'the automatic toleration replaces a timed one');
  const host = withDaemonTolerations({ hostNetwork: true }).tolerations as { key: string }[];
  assert.ok(host.some((t) => t.key === 'node.kubernetes.io/network-unavailable'));
});

test('node eligibility: selector and affinity must match; untolerated NoSchedule keeps running pods, NoExecute evicts them', () => {
  assert.deepEqual(nodeShouldRunDaemonPod(node('n'), template), { shouldRun: true, shouldContinueRunning: true });
  assert.deepEqual(nodeShouldRunDaemonPod(node('n', {}, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }]), template), { shouldRun: true, shouldContinueRunning: true });
  assert.deepEqual(nodeShouldRunDaemonPod(node('n', {}, [{ key: 'gpu', effect: 'NoSchedule' }]), template), { shouldRun: false, shouldContinueRunning: true });
  assert.deepEqual(nodeShouldRunDaemonPod(node('n', {}, [{ key: 'gpu', effect: 'NoExecute' }]), template), { shouldRun: false, shouldContinueRunning: false });
  assert.deepEqual(nodeShouldRunDaemonPod(node('n', {}, [{ key: 'gpu', effect: 'PreferNoSchedule' }]), template), { shouldRun: true, shouldContinueRunning: true });
  const tolerant = { ...template, spec: { ...template.spec, tolerations: [{ key: 'gpu', operator: 'Exists' }] } };
  assert.deepEqual(nodeShouldRunDaemonPod(node('n', {}, [{ key: 'gpu', effect: 'NoExecute' }]), tolerant), { shouldRun: true, shouldContinueRunning: true });
  const selecting = { ...template, spec: { ...template.spec, nodeSelector: { disk: 'ssd' } } };
  assert.equal(nodeShouldRunDaemonPod(node('n', { disk: 'ssd' }), selecting).shouldRun, true);
  assert.deepEqual(nodeShouldRunDaemonPod(node('n', { disk: 'hdd' }), selecting), { shouldRun: false, shouldContinueRunning: false });
  const affine = {
    ...template,
    spec: { ...template.spec, affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }] } } } },
  };
  assert.equal(nodeShouldRunDaemonPod(node('n', { zone: 'b' }), affine).shouldRun, true);
  assert.equal(nodeShouldRunDaemonPod(node('n', { zone: 'c' }), affine).shouldRun, false);
  assert.equal(nodeShouldRunDaemonPod(node('n'), { ...template, spec: { ...template.spec, nodeName: 'other' } }).shouldRun, false);
});

test('daemon pods are pinned to their node by a required metadata.name affinity that replaces the template\'s terms', () => {
  const affinity = affinityForNode({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } }, podAffinity: {} }, 'n7');
  assert.deepEqual(affinity, { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n7'] }] }] } }, podAffinity: {} });
  assert.equal(targetNodeName({ metadata: {}, spec: { affinity } }), 'n7');
  assert.equal(targetNodeName({ metadata: {}, spec: { nodeName: 'bound', affinity } }), 'bound');
});

function pod(name: string, opts: { hash?: string; ready?: boolean; phase?: string; created?: string; bound?: boolean; deleting?: boolean } = {}): Pod {
  return {
    metadata: { name, labels: { 'controller-revision-hash': opts.hash ?? 'new' }, creationTimestamp: opts.created ?? '2024-01-01T00:00:00Z', ...(opts.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
    spec: opts.bound ? { nodeName: 'n' } : {},
    status: { phase: opts.phase ?? 'Running', conditions: opts.ready === false ? [] : [{ type: 'Ready', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z' }] },
  };
}

const now = Date.parse('2024-01-01T01:00:00Z');
const runHere = { shouldRun: true, shouldContinueRunning: true };

function decide(pods: Pod[] | undefined, placement = runHere, allowsSurge = false, mayDeleteFailed = true) {
  const d = podsShouldBeOnNode({ placement, pods, allowsSurge, hash: 'new', generation: undefined, minReadySeconds: 0, nowMs: now, mayDeleteFailed: () => mayDeleteFailed });
  return { create: d.create, delete: d.delete.map((p) => p.metadata.name), waiting: d.failedInBackoff.map((p) => p.metadata.name) };
}

test('per node: create when missing, delete failed (after backoff) and surplus pods, delete everything where the pod may not run', () => {
  assert.deepEqual(decide(undefined), { create: true, delete: [], waiting: [] });
  assert.deepEqual(decide([pod('a')]), { create: false, delete: [], waiting: [] });
  assert.deepEqual(decide([pod('a', { phase: 'Failed' })]), { create: false, delete: ['a'], waiting: [] });
  assert.deepEqual(decide([pod('a', { phase: 'Failed' })], runHere, false, false), { create: false, delete: [], waiting: ['a'] });
  assert.deepEqual(decide([pod('young', { created: '2024-01-01T00:30:00Z' }), pod('old')]), { create: false, delete: ['young'], waiting: [] });
  assert.deepEqual(decide([pod('a'), pod('b', { deleting: true })], { shouldRun: false, shouldContinueRunning: false }), { create: false, delete: ['a'], waiting: [] });
  assert.deepEqual(decide([pod('a')], { shouldRun: false, shouldContinueRunning: true }), { create: false, delete: [], waiting: [] });
});

test('with surge, an old pod stays beside its replacement until the new one is available', () => {
  assert.deepEqual(decide([pod('old', { hash: 'old' }), pod('new', { ready: false, created: '2024-01-01T00:30:00Z' })], runHere, true), { create: false, delete: [], waiting: [] });
  assert.deepEqual(decide([pod('old', { hash: 'old' }), pod('new', { created: '2024-01-01T00:30:00Z' })], runHere, true), { create: false, delete: ['old'], waiting: [] });
  assert.deepEqual(decide([], runHere, true), { create: true, delete: [], waiting: [] });
});

test('rolling update without surge deletes old pods up to maxUnavailable, unavailable old pods at once', () => {
  const nodeToPods = new Map<string, Pod[]>([
    ['n1', [pod('p1', { hash: 'old' })]],
    ['n2', [pod('p2', { hash: 'old' })]],
    ['n3', [pod('p3', { hash: 'old', ready: false })]],
    ['n4', [pod('p4')]],
  ]);
  const plan = planRollingUpdate({ nodeToPods, hash: 'new', generation: undefined, maxSurge: 0, maxUnavailable: 1, minReadySeconds: 0, nowMs: now, shouldRun: () => true });
  assert.deepEqual(
    plan.deletes.map((p) => p.metadata.name),
    ['p3', 'p1'],
  );
  // A node whose new pod is not available yet uses up the budget.
  nodeToPods.set('n4', [pod('p4', { ready: false })]);
  const held = planRollingUpdate({ nodeToPods, hash: 'new', generation: undefined, maxSurge: 0, maxUnavailable: 1, minReadySeconds: 0, nowMs: now, shouldRun: () => true });
  assert.deepEqual(
    held.deletes.map((p) => p.metadata.name),
    ['p3'],
  );
});

test('rolling update with surge creates new pods beside old ones up to maxSurge and deletes the old ones once replaced', () => {
  const nodeToPods = new Map<string, Pod[]>([
    ['n1', [pod('p1', { hash: 'old' })]],
    ['n2', [pod('p2', { hash: 'old' })]],
    ['n3', [pod('p3', { hash: 'old' }), pod('p3b')]],
  ]);
  const plan = planRollingUpdate({ nodeToPods, hash: 'new', generation: undefined, maxSurge: 1, maxUnavailable: 0, minReadySeconds: 0, nowMs: now, shouldRun: () => true });
  assert.deepEqual(plan.createOn, ['n1']);
  assert.deepEqual(
    plan.deletes.map((p) => p.metadata.name),
    ['p3'],
  );
});

test('maxUnavailable and maxSurge percentages round up', () => {
  assert.equal(scaledValue('25%', 10, true), 3);
  assert.equal(scaledValue('25%', 10, false), 2);
  assert.equal(scaledValue(2, 10, true), 2);
  assert.equal(scaledValue(undefined, 10, true), 0);
});

test('status: desired, current, misscheduled, ready, available and updated counts over the nodes', () => {
  const c = daemonSetCounts(
    [
      { placement: runHere, pods: [pod('a')] },
      { placement: runHere, pods: [pod('b', { hash: 'old', ready: false })] },
      { placement: runHere, pods: undefined },
      { placement: { shouldRun: false, shouldContinueRunning: true }, pods: [pod('d')] },
    ],
    'new',
    undefined,
    0,
    now,
  );
  assert.deepEqual(c, { desiredNumberScheduled: 3, currentNumberScheduled: 2, numberMisscheduled: 1, numberReady: 1, numberAvailable: 1, updatedNumberScheduled: 1, numberUnavailable: 2 });
});
