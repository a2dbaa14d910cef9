// The StatefulSet controller's ordering decisions, without an API server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOrdinal, planStatefulSet, type OrderingInput } from '../../src/controllers/statefulset/ordering.js';
import type { Pod } from '../../src/controllers/workload-common/pods.js';

const now = Date.parse('2024-05-01T12:00:00Z');

function pod(ordinal: number, state: 'pending' | 'ready' | 'running' | 'failed' | 'terminating', revision = 'rev-1', set = 'web'): Pod {
  const name = `${set}-${ordinal}`;
  const p: Pod = {
    metadata: {
      name,
      uid: `uid-${name}`,
      labels: { 'statefulset.kubernetes.io/pod-name': name, 'apps.kubernetes.io/pod-index': String(ordinal), 'controller-revision-hash': revision },
    },
    status: { phase: 'Pending' },
  };
  if (state === 'ready' || state === 'terminating') p.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2024-05-01T11:00:00Z' }] };
  if (state === 'running') p.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] };
  if (state === 'failed') p.status = { phase: 'Failed' };
  if (state === 'terminating') p.metadata.deletionTimestamp = '2024-05-01T11:59:00Z';
  return p;
}

function input(over: Partial<OrderingInput>): OrderingInput {
  return {
    setName: 'web',
    replicas: 3,
    startOrdinal: 0,
    monotonic: true,
    updateStrategy: 'RollingUpdate',
    partition: 0,
    minReadySeconds: 0,
    nowMs: now,
    currentRevision: 'rev-1',
    updateRevision: 'rev-1',
    statusCurrentReplicas: 0,
    pods: [],
    ...over,
  };
}

function summary(plan: ReturnType<typeof planStatefulSet>): string[] {
  return plan.actions.map((a) => (a.kind === 'create' ? `create ${a.ordinal} ${a.revision}` : a.kind === 'delete' ? `delete ${a.pod.metadata.name} ${a.why}` : `${a.kind} ${a.pod.metadata.name}`));
}

test('pod ordinals come from "<set>-<n>" names of the set only', () => {
  assert.equal(parseOrdinal('web', 'web-0'), 0);
  assert.equal(parseOrdinal('web', 'web-12'), 12);
  assert.equal(parseOrdinal('web', 'web-x'), -1);
  assert.equal(parseOrdinal('web', 'webby-1'), -1);
  assert.equal(parseOrdinal('my-web', 'my-web-3'), 3);
});

test('OrderedReady creates only the first missing pod, and the next one only after the previous is Running and Ready', () => {
  assert.deepEqual(summary(planStatefulSet(input({}))), ['create 0 update']);
  const pending = planStatefulSet(input({ pods: [pod(0, 'pending')] }));
  assert.deepEqual(summary(pending), ['create-claims web-0']);
  assert.match(pending.waitingFor ?? '', /web-0 to be Running and Ready/);
  assert.deepEqual(summary(planStatefulSet(input({ pods: [pod(0, 'running')] }))), []);
  assert.deepEqual(summary(planStatefulSet(input({ pods: [pod(0, 'ready')] }))), ['create 1 update']);
  assert.deepEqual(summary(planStatefulSet(input({ pods: [pod(0, 'ready'), pod(1, 'ready')] }))), ['create 2 update']);
});

test('Parallel creates every missing pod at once', () => {
  assert.deepEqual(summary(planStatefulSet(input({ monotonic: false }))), ['create 0 update', 'create 1 update', 'create 2 update']);
});

test('minReadySeconds holds the next pod until the previous one has been Ready long enough', () => {
  const plan = planStatefulSet(input({ minReadySeconds: 7200, pods: [pod(0, 'ready')] }));
  assert.deepEqual(summary(plan), []);
  assert.match(plan.waitingFor ?? '', /available/);
});

test('a failed pod is deleted to be made again; OrderedReady waits for that before going on', () => {
  assert.deepEqual(summary(planStatefulSet(input({ pods: [pod(0, 'failed'), pod(1, 'ready')] }))), ['delete web-0 finished']);
});

test('scale-down removes the highest ordinal first and one at a time in OrderedReady, all at once in Parallel', () => {
  const pods = [pod(0, 'ready'), pod(1, 'ready'), pod(2, 'ready'), pod(3, 'ready')];
  assert.deepEqual(summary(planStatefulSet(input({ replicas: 1, pods }))), ['delete web-3 scale-down']);
  assert.deepEqual(summary(planStatefulSet(input({ replicas: 1, pods: [pod(0, 'ready'), pod(1, 'ready'), pod(2, 'ready'), pod(3, 'terminating')] }))), []);
  assert.deepEqual(summary(planStatefulSet(input({ replicas: 1, monotonic: false, pods }))), ['delete web-3 scale-down', 'delete web-2 scale-down', 'delete web-1 scale-down']);
});

test('OrderedReady does not scale down past an unhealthy pod unless it is the first unhealthy one', () => {
  // web-2 is the highest condemned pod and it is the first unhealthy one: it may go.
  assert.deepEqual(summary(planStatefulSet(input({ replicas: 1, pods: [pod(0, 'ready'), pod(1, 'ready'), pod(2, 'running')] }))), ['delete web-2 scale-down']);
  // web-2 is unhealthy but web-1 below it is the first unhealthy one: wait.
  assert.deepEqual(summary(planStatefulSet(input({ replicas: 1, pods: [pod(0, 'ready'), pod(1, 'running'), pod(2, 'running')] }))), []);
});

test('a rolling update deletes the highest-ordinal pod not at the update revision, one at a time, down to the partition', () => {
  const old = [pod(0, 'ready'), pod(1, 'ready'), pod(2, 'ready')];
  const base = { currentRevision: 'rev-1', updateRevision: 'rev-2' };
  const first = planStatefulSet(input({ ...base, pods: old }));
  assert.deepEqual(summary(first), ['delete web-2 update']);
  assert.equal(first.counts.currentReplicas, 2);
  // web-2 came back at rev-2 but is not ready yet: wait.
  assert.deepEqual(summary(planStatefulSet(input({ ...base, pods: [pod(0, 'ready'), pod(1, 'ready'), pod(2, 'running', 'rev-2')] }))), []);
  assert.deepEqual(summary(planStatefulSet(input({ ...base, pods: [pod(0, 'ready'), pod(1, 'ready'), pod(2, 'ready', 'rev-2')] }))), ['delete web-1 update']);
  // Partition 2: ordinals below 2 keep the current revision.
  assert.deepEqual(summary(planStatefulSet(input({ ...base, partition: 2, pods: [pod(0, 'ready'), pod(1, 'ready'), pod(2, 'ready', 'rev-2')] }))), []);
  // OnDelete never deletes for an update.
  assert.deepEqual(summary(planStatefulSet(input({ ...base, updateStrategy: 'OnDelete', partition: undefined, pods: old }))), []);
});

test('new pods below the partition get the current revision, the others the update revision', () => {
  const plan = planStatefulSet(input({ monotonic: false, partition: 2, currentRevision: 'rev-1', updateRevision: 'rev-2' }));
  assert.deepEqual(summary(plan), ['create 0 current', 'create 1 current', 'create 2 update']);
  assert.deepEqual(summary(planStatefulSet(input({ monotonic: false, updateStrategy: 'OnDelete', partition: undefined, currentRevision: 'rev-1', updateRevision: 'rev-2' }))), [
    'create 0 update',
    'create 1 update',
    'create 2 update',
  ]);
});

test('status counts ready, available, current and updated replicas; terminating pods are neither current nor updated', () => {
  const plan = planStatefulSet(input({ currentRevision: 'rev-1', updateRevision: 'rev-2', pods: [pod(0, 'ready'), pod(1, 'ready', 'rev-2'), pod(2, 'terminating')] }));
  assert.deepEqual(plan.counts, { replicas: 3, readyReplicas: 3, availableReplicas: 3, currentReplicas: 1, updatedReplicas: 1 });
});

test('spec.ordinals.start shifts the ordinals', () => {
  assert.deepEqual(summary(planStatefulSet(input({ startOrdinal: 5, replicas: 2, monotonic: false }))), ['create 5 update', 'create 6 update']);
  assert.deepEqual(summary(planStatefulSet(input({ startOrdinal: 1, replicas: 1, pods: [pod(0, 'ready'), pod(1, 'ready')] }))), ['delete web-0 scale-down']);
});
