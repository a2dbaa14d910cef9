// The per-node plugins: NodeName, NodeUnschedulable, TaintToleration,
// NodeAffinity, NodePorts, and the queue sort.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState, type QueuedPodInfo } from '../../src/scheduler/framework.js';
import { NodeAffinity } from '../../src/scheduler/plugins/node-affinity.js';
import { NodeName } from '../../src/scheduler/plugins/node-name.js';
import { NodePorts } from '../../src/scheduler/plugins/node-ports.js';
import { NodeUnschedulable } from '../../src/scheduler/plugins/node-unschedulable.js';
import { PrioritySort } from '../../src/scheduler/plugins/queue-sort.js';
import { TaintToleration } from '../../src/scheduler/plugins/taint-toleration.js';
import { SchedulingGates } from '../../src/scheduler/plugins/scheduling-gates.js';
import { filterAll, node, nodeInfo, pod, podInfo } from './fixtures.js';
import type { PodInfo } from '../../src/scheduler/pod-info.js';

test('NodeName: a pod that names a node fits only that node', () => {
  const nodes = [nodeInfo(node('a')), nodeInfo(node('b'))];
  assert.deepEqual(filterAll(new NodeName(), podInfo('p', { spec: { nodeName: 'b' } }), nodes), {
    a: "UnschedulableAndUnresolvable: node(s) didn't match the requested node name",
    b: '',
  });
  assert.deepEqual(filterAll(new NodeName(), podInfo('p'), nodes), { a: '', b: '' });
});

test('NodeUnschedulable: a cordoned node takes only pods tolerating node.kubernetes.io/unschedulable', () => {
  const nodes = [nodeInfo(node('cordoned', { unschedulable: true })), nodeInfo(node('open'))];
  assert.deepEqual(filterAll(new NodeUnschedulable(), podInfo('p'), nodes), { cordoned: 'UnschedulableAndUnresolvable: node(s) were unschedulable', open: '' });
  const tolerant = podInfo('p', { spec: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] } });
  assert.deepEqual(filterAll(new NodeUnschedulable(), tolerant, nodes), { cordoned: '', open: '' });
});

test('TaintToleration filters NoSchedule and NoExecute taints, never PreferNoSchedule', () => {
  const nodes = [
    nodeInfo(node('hard', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] })),
    nodeInfo(node('evict', { taints: [{ key: 'broken', effect: 'NoExecute' }] })),
    nodeInfo(node('soft', { taints: [{ key: 'spot', effect: 'PreferNoSchedule' }] })),
  ];
  const untolerated = 'UnschedulableAndUnresolvable: node(s) had untolerated taint(s)';
  assert.deepEqual(filterAll(new TaintToleration(), podInfo('p'), nodes), { hard: untolerated, evict: untolerated, soft: '' });
  const tolerant = podInfo('p', { spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db' }, { key: 'broken', operator: 'Exists', effect: 'NoExecute' }] } });
  assert.deepEqual(filterAll(new TaintToleration(), tolerant, nodes), { hard: '', evict: '', soft: '' });
});

test('TaintToleration scores fewer untolerated PreferNoSchedule taints higher', () => {
  const tt = new TaintToleration();
  const nodes = [
    nodeInfo(node('clean')),
    nodeInfo(node('one', { taints: [{ key: 'spot', effect: 'PreferNoSchedule' }] })),
    nodeInfo(node('two', { taints: [{ key: 'spot', effect: 'PreferNoSchedule' }, { key: 'old', effect: 'PreferNoSchedule' }] })),
  ];
  const score = (p: PodInfo) => {
    const state = new CycleState();
    tt.preScore(state, p);
    const scores = nodes.map((n) => tt.score(state, p, n));
    tt.normalizeScore(state, p, nodes, scores);
    return scores;
  };
  assert.deepEqual(score(podInfo('p')), [100, 50, 0]);
  assert.deepEqual(score(podInfo('p', { spec: { tolerations: [{ key: 'spot', operator: 'Exists' }] } })), [100, 100, 0]);
  assert.deepEqual(score(podInfo('p', { spec: { tolerations: [{ operator: 'Exists', effect: 'PreferNoSchedule' }] } })), [100, 100, 100]);
});

test('NodeAffinity filters by nodeSelector and required terms, and is skipped for pods with neither', () => {
  const nodes = [nodeInfo(node('a', { labels: { zone: 'a' } })), nodeInfo(node('b', { labels: { zone: 'b' } }))];
  const na = new NodeAffinity();
  assert.equal(na.preFilter(new CycleState(), podInfo('p')).code, 'Skip');
  const mismatch = "UnschedulableAndUnresolvable: node(s) didn't match Pod's node affinity/selector";
  assert.deepEqual(filterAll(na, podInfo('p', { spec: { nodeSelector: { zone: 'b' } } }), nodes), { a: mismatch, b: '' });
  const byName = podInfo('p', {
    spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }] }] } } } },
  });
  assert.deepEqual(filterAll(na, byName, nodes), { a: '', b: mismatch });
});

test('NodeAffinity scores the weights of matching preferred terms, scaled to 100', () => {
  const nodes = [
    nodeInfo(node('a', { labels: { zone: 'a', disk: 'ssd' } })),
    nodeInfo(node('b', { labels: { zone: 'b', disk: 'ssd' } })),
    nodeInfo(node('c', { labels: { zone: 'c' } })),
  ];
  const p = podInfo('p', {
    spec: {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 30, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } },
            { weight: 10, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } },
          ],
        },
      },
    },
  });
  const na = new NodeAffinity();
  const state = new CycleState();
  assert.equal(na.preScore(state, p).code, 'Success');
  const scores = nodes.map((n) => na.score(state, p, n));
  assert.deepEqual(scores, [40, 30, 0]);
  na.normalizeScore(state, p, nodes, scores);
  assert.deepEqual(scores, [100, 75, 0]);
  assert.equal(na.preScore(new CycleState(), podInfo('q')).code, 'Skip');
});

test('NodePorts: a host port is taken by the same port and protocol on the same address or on 0.0.0.0', () => {
  const withPort = (name: string, hostPort: number, protocol = 'TCP', hostIP?: string) =>
    pod(name, { spec: { containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort, protocol, ...(hostIP ? { hostIP } : {}) }] }] } });
  const nodes = [
    nodeInfo(node('any'), [withPort('a', 8080)]),
    nodeInfo(node('udp'), [withPort('b', 8080, 'UDP')]),
    nodeInfo(node('ip'), [withPort('c', 8080, 'TCP', '10.0.0.1')]),
    nodeInfo(node('free')),
  ];
  const busy = "Unschedulable: node(s) didn't have free ports for the requested pod ports";
  const np = new NodePorts();
  assert.deepEqual(filterAll(np, podInfo('p', { spec: withPort('p', 8080).spec }), nodes), { any: busy, udp: '', ip: busy, free: '' });
  assert.deepEqual(filterAll(np, podInfo('p', { spec: withPort('p', 8080, 'TCP', '10.0.0.2').spec }), nodes), { any: busy, udp: '', ip: '', free: '' });
  assert.equal(np.preFilter(new CycleState(), podInfo('p')).code, 'Skip', 'pods without host ports skip the check');
});

test('PrioritySort puts higher priority first, then the pod queued earlier', () => {
  const q = (pi: PodInfo, timestamp: number): QueuedPodInfo => ({ podInfo: pi, timestamp, attempts: 0, initialAttemptTimestamp: timestamp, unschedulablePlugins: new Set(), gated: false });
  const sort = new PrioritySort();
  assert.equal(sort.less(q(podInfo('high', { priority: 10 }), 2), q(podInfo('low', { priority: 1 }), 1)), true);
  assert.equal(sort.less(q(podInfo('early'), 1), q(podInfo('late'), 2)), true);
  assert.equal(sort.less(q(podInfo('late'), 2), q(podInfo('early'), 1)), false);
});

test('SchedulingGates keeps gated pods out of the active queue', () => {
  const gates = new SchedulingGates();
  assert.ok(gates.preEnqueue(podInfo('p')).isSuccess());
  const s = gates.preEnqueue(podInfo('p', { spec: { schedulingGates: [{ name: 'example.com/quota' }] } }));
  assert.equal(s.message(), 'waiting for scheduling gates: [example.com/quota]');
});
