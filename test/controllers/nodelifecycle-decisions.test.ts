// The node lifecycle controller's decisions: toleration matching, the taints
// a node's conditions call for, node health from heartbeats, and when a pod
// on a NoExecute-tainted node is evicted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evictionDecision, type TimedTaint } from '../../src/controllers/nodelifecycle/eviction.js';
import { NodeHealthTracker, unknownConditions } from '../../src/controllers/nodelifecycle/health.js';
import { desiredControllerTaints, matchingTolerations, reconcileTaints, toleratesTaint } from '../../src/controllers/nodelifecycle/taints.js';

const unreachable = (since: number): TimedTaint => ({ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', since });
const notReady = (since: number): TimedTaint => ({ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', since });
const t0 = Date.parse('2024-05-01T10:00:00Z');

describe('tolerations', () => {
  it('match taints as v1.Toleration.ToleratesTaint does', () => {
    const taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
    assert.equal(toleratesTaint({ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }, taint), true);
    assert.equal(toleratesTaint({ key: 'dedicated', value: 'gpu' }, taint), true, 'empty operator is Equal, empty effect any');
    assert.equal(toleratesTaint({ key: 'dedicated', value: 'cpu' }, taint), false);
    assert.equal(toleratesTaint({ key: 'dedicated', operator: 'Exists' }, taint), true);
    assert.equal(toleratesTaint({ operator: 'Exists' }, taint), true, 'empty key with Exists tolerates everything');
    assert.equal(toleratesTaint({ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, taint), false);
    assert.equal(toleratesTaint({ key: 'other', operator: 'Exists' }, taint), false);
    assert.equal(toleratesTaint({ key: 'dedicated', operator: 'Lt', value: 'gpu' }, taint), false);
  });

  it('use the first toleration that matches each taint', () => {
    const used = matchingTolerations([unreachable(0)], [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', tolerationSeconds: 10 }, { operator: 'Exists' }]);
    assert.deepEqual(used, [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', tolerationSeconds: 10 }]);
    assert.equal(matchingTolerations([unreachable(0), notReady(0)], [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists' }]), undefined);
  });
});

describe('taints from node conditions', () => {
  it('put not-ready on a node whose Ready is False and unreachable on one whose Ready is Unknown, both effects', () => {
    assert.deepEqual(desiredControllerTaints([{ type: 'Ready', status: 'False' }], false), [
      { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' },
    ]);
    assert.deepEqual(desiredControllerTaints([{ type: 'Ready', status: 'Unknown' }], false), [
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
    ]);
    assert.deepEqual(desiredControllerTaints([{ type: 'Ready', status: 'True' }], false), []);
    assert.deepEqual(desiredControllerTaints([], false), [], 'a node that has posted no status yet is left alone');
  });

  it('mirror pressure conditions and spec.unschedulable as NoSchedule taints', () => {
    const conditions = [
      { type: 'Ready', status: 'True' },
      { type: 'MemoryPressure', status: 'True' },
      { type: 'DiskPressure', status: 'False' },
      { type: 'PIDPressure', status: 'True' },
      { type: 'NetworkUnavailable', status: 'True' },
    ];
    assert.deepEqual(
      desiredControllerTaints(conditions, true).map((t) => `${t.key}:${t.effect}`),
      ['node.kubernetes.io/memory-pressure:NoSchedule', 'node.kubernetes.io/pid-pressure:NoSchedule', 'node.kubernetes.io/network-unavailable:NoSchedule', 'node.kubernetes.io/unschedulable:NoSchedule'],
    );
  });

  it('are reconciled without touching other taints, keeping the time a staying taint was added', () => {
    const user = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
    const oldUnreachable = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2024-05-01T09:00:00Z' };
    const userNoExecute = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2024-05-01T09:00:00Z' };
    const current = [user, oldUnreachable, { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }];
    // Ready went from Unknown to False: unreachable goes, not-ready comes.
    assert.deepEqual(reconcileTaints(current, desiredControllerTaints([{ type: 'Ready', status: 'False' }], false), '2024-05-01T10:00:00Z'), [
      user,
      { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule', timeAdded: '2024-05-01T10:00:00Z' },
      { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', timeAdded: '2024-05-01T10:00:00Z' },
    ]);
    assert.equal(reconcileTaints([user, userNoExecute, { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }], desiredControllerTaints([{ type: 'Ready', status: 'Unknown' }], false), 'now'), undefined);
    assert.deepEqual(reconcileTaints([user, oldUnreachable], [], 'now'), [user]);
  });
});

describe('taint-based eviction', () => {
  it('evicts at once a pod that does not tolerate a NoExecute taint', () => {
    assert.deepEqual(evictionDecision([unreachable(t0)], [], t0 - 60_000, t0), { action: 'evict' });
    assert.deepEqual(evictionDecision([unreachable(t0)], [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }], t0 - 60_000, t0), { action: 'evict' });
  });

  it('keeps pods on nodes without NoExecute taints, and pods tolerating them forever', () => {
    assert.deepEqual(evictionDecision([], [], t0, t0), { action: 'keep' });
    assert.deepEqual(evictionDecision([{ key: 'x', effect: 'NoSchedule', since: t0 }], [], t0, t0), { action: 'keep' });
    assert.deepEqual(evictionDecision([unreachable(t0)], [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }], t0, t0 + 3_600_000), { action: 'keep' });
  });

  it('evicts a tolerating pod tolerationSeconds after the taint was added', () => {
    const tolerations = [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ];
    assert.deepEqual(evictionDecision([unreachable(t0)], tolerations, t0 - 3_600_000, t0 + 1000), { action: 'evictAt', at: t0 + 300_000 });
    assert.deepEqual(evictionDecision([unreachable(t0)], tolerations, t0 - 3_600_000, t0 + 299_999), { action: 'evictAt', at: t0 + 300_000 });
    assert.deepEqual(evictionDecision([unreachable(t0)], tolerations, t0 - 3_600_000, t0 + 300_000), { action: 'evict' });
  });

  it('gives a pod placed on an already tainted node its whole toleration period', () => {
    const tolerations = [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }];
    assert.deepEqual(evictionDecision([unreachable(t0)], tolerations, t0 + 30_000, t0 + 31_000), { action: 'evictAt', at: t0 + 90_000 });
  });

  it('takes the smallest toleration period over all taints, and evicts at once for zero or less', () => {
    const tolerations = [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 },
      { key: 'custom', operator: 'Exists', effect: 'NoExecute' },
    ];
    const custom: TimedTaint = { key: 'custom', effect: 'NoExecute', since: t0 };
    assert.deepEqual(evictionDecision([notReady(t0), unreachable(t0 + 5000), custom], tolerations, 0, t0), { action: 'evictAt', at: t0 + 15_000 });
    assert.deepEqual(evictionDecision([unreachable(t0)], [{ operator: 'Exists', tolerationSeconds: 0 }], 0, t0), { action: 'evict' });
    assert.deepEqual(evictionDecision([unreachable(t0)], [{ operator: 'Exists', tolerationSeconds: -5 }], 0, t0), { action: 'evict' });
  });
});

describe('node health', () => {
  const ready = (heartbeat: string) => [{ type: 'Ready', status: 'True', lastHeartbeatTime: heartbeat }];

  it('marks a node silent once neither its Lease nor its Ready heartbeat moved for the grace period', () => {
    const h = new NodeHealthTracker(40_000, 60_000);
    const node = { name: 'n1', creationTimestamp: '2024-05-01T09:00:00Z', conditions: ready('2024-05-01T09:59:00Z') };
    assert.equal(h.observe(node, '2024-05-01T10:00:00.000000Z', t0).expired, false);
    assert.equal(h.observe(node, '2024-05-01T10:00:00.000000Z', t0 + 40_000).expired, false);
    assert.equal(h.observe(node, '2024-05-01T10:00:30.000000Z', t0 + 40_001).expired, false, 'a renewed lease is a sign of life');
    assert.equal(h.observe(node, '2024-05-01T10:00:30.000000Z', t0 + 80_000).expired, false);
    assert.equal(h.observe(node, '2024-05-01T10:00:30.000000Z', t0 + 80_002).expired, true);
    const beat = { ...node, conditions: ready('2024-05-01T10:01:30Z') };
    assert.equal(h.observe(beat, '2024-05-01T10:00:30.000000Z', t0 + 90_000).expired, false, 'a new status heartbeat is a sign of life too');
    assert.equal(h.observe(beat, '2024-05-01T10:00:30.000000Z', t0 + 130_001).expired, true);
  });

  it('gives a node that never posted status the startup grace period from its creation', () => {
    const h = new NodeHealthTracker(40_000, 60_000);
    const node = { name: 'n2', creationTimestamp: '2024-05-01T10:00:00Z' };
    const first = h.observe(node, undefined, t0 + 10_000);
    assert.equal(first.first, true);
    assert.equal(first.deadline, t0 + 60_000);
    assert.equal(h.observe(node, undefined, t0 + 60_001).expired, true);
    const unknown = unknownConditions(node, '2024-05-01T10:01:00Z')!;
    assert.equal(unknown.length, 4);
    assert.deepEqual(unknown[0], {
      type: 'Ready',
      status: 'Unknown',
      reason: 'NodeStatusNeverUpdated',
      message: 'Kubelet never posted node status.',
      lastHeartbeatTime: '2024-05-01T10:00:00Z',
      lastTransitionTime: '2024-05-01T10:01:00Z',
    });
    // The controller's own Unknown condition is no heartbeat.
    assert.equal(h.observe({ ...node, conditions: unknown }, undefined, t0 + 70_000).expired, true);
  });

  it('sets the kubelet conditions Unknown with NodeStatusUnknown, once', () => {
    const conditions = [
      { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: '2024-05-01T09:59:00Z', lastTransitionTime: '2024-05-01T09:00:00Z' },
      { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', lastHeartbeatTime: '2024-05-01T09:59:00Z', lastTransitionTime: '2024-05-01T09:00:00Z' },
      { type: 'NetworkUnavailable', status: 'False', reason: 'RouteCreated' },
    ];
    const out = unknownConditions({ name: 'n', conditions }, '2024-05-01T10:01:00Z')!;
    assert.deepEqual(out[0], {
      type: 'Ready',
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
      message: 'Kubelet stopped posting node status.',
      lastHeartbeatTime: '2024-05-01T09:59:00Z',
      lastTransitionTime: '2024-05-01T10:01:00Z',
    });
    assert.equal(out[1]!.status, 'Unknown');
    assert.equal(out[2]!.status, 'False', 'NetworkUnavailable is not the kubelet’s');
    assert.deepEqual(
      out.slice(3).map((c) => [c.type, c.reason]),
      [
        ['DiskPressure', 'NodeStatusNeverUpdated'],
        ['PIDPressure', 'NodeStatusNeverUpdated'],
      ],
    );
    assert.equal(unknownConditions({ name: 'n', conditions: out }, 'later'), undefined);
  });
});
