// PodTopologySpread: maxSkew, minDomains, node inclusion policies, which
// pods count, and ScheduleAnyway scoring.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TopologySpreadConstraint } from '../../src/api/scheduling/index.js';
import { CycleState } from '../../src/scheduler/framework.js';
import { PodTopologySpread } from '../../src/scheduler/plugins/pod-topology-spread.js';
import type { NodeInfo } from '../../src/scheduler/node-info.js';
import type { PodInfo } from '../../src/scheduler/pod-info.js';
import { filterAll, handleFor, node, nodeInfo, pod, podInfo, type TestPod } from './fixtures.js';

const api = (n: number, o: TestPod = {}) => Array.from({ length: n }, (_, i) => pod(`api-${i}-${Math.random()}`, { labels: { app: 'api' }, ...o }));

function spread(c: Partial<TopologySpreadConstraint> = {}): TopologySpreadConstraint {
  return { maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'api' } }, ...c };
}

const incoming = (c: Partial<TopologySpreadConstraint> = {}, o: TestPod = {}) => podInfo('new', { labels: { app: 'api' }, ...o, spec: { topologySpreadConstraints: [spread(c)], ...(o.spec ?? {}) } });

function run(p: PodInfo, nodes: NodeInfo[]) {
  return filterAll(new PodTopologySpread(handleFor(nodes)), p, nodes);
}

const skewed = "Unschedulable: node(s) didn't match pod topology spread constraints";
const missing = "UnschedulableAndUnresolvable: node(s) didn't match pod topology spread constraints (missing required label)";

test('a node fits while its domain stays within maxSkew of the emptiest domain', () => {
  const nodes = [nodeInfo(node('a1', { labels: { zone: 'a' } }), api(2)), nodeInfo(node('b1', { labels: { zone: 'b' } }), api(1)), nodeInfo(node('c1', { labels: { zone: 'c' } }), api(1))];
  assert.deepEqual(run(incoming(), nodes), { a1: skewed, b1: '', c1: '' });
  assert.deepEqual(run(incoming({ maxSkew: 2 }), nodes), { a1: '', b1: '', c1: '' });
});

test('nodes without the topology key are rejected as unresolvable', () => {
  const nodes = [nodeInfo(node('a1', { labels: { zone: 'a' } })), nodeInfo(node('bare'))];
  assert.deepEqual(run(incoming(), nodes), { a1: '', bare: missing });
});

test('a pod that does not match its own selector adds nothing to the skew', () => {
  const nodes = [nodeInfo(node('a1', { labels: { zone: 'a' } }), api(1)), nodeInfo(node('b1', { labels: { zone: 'b' } }))];
  assert.deepEqual(run(incoming({}, { labels: { app: 'other' } }), nodes), { a1: '', b1: '' });
  assert.deepEqual(run(incoming(), nodes), { a1: skewed, b1: '' });
});

test('terminating pods and pods of other namespaces are not counted', () => {
  const nodes = [
    nodeInfo(node('a1', { labels: { zone: 'a' } }), [...api(2, { terminating: true }), ...api(2, { namespace: 'other' })]),
    nodeInfo(node('b1', { labels: { zone: 'b' } })),
  ];
  assert.deepEqual(run(incoming(), nodes), { a1: '', b1: '' });
});

test('with fewer eligible domains than minDomains the global minimum is 0', () => {
  const nodes = [nodeInfo(node('a1', { labels: { zone: 'a' } }), api(1)), nodeInfo(node('b1', { labels: { zone: 'b' } }), api(1))];
  assert.deepEqual(run(incoming(), nodes), { a1: '', b1: '' });
  assert.deepEqual(run(incoming({ minDomains: 3 }), nodes), { a1: skewed, b1: skewed });
});

test('nodeAffinityPolicy Honor counts only domains of nodes the pod may use; Ignore counts all', () => {
  const nodes = [
    nodeInfo(node('a1', { labels: { zone: 'a', disk: 'ssd' } }), api(1)),
    nodeInfo(node('b1', { labels: { zone: 'b', disk: 'ssd' } }), api(1)),
    nodeInfo(node('c1', { labels: { zone: 'c', disk: 'hdd' } })),
  ];
  const onSsd = { spec: { nodeSelector: { disk: 'ssd' } } };
  assert.deepEqual(run(incoming({}, onSsd), nodes), { a1: '', b1: '', c1: '' }, 'zone c does not count: minimum 1');
  assert.deepEqual(run(incoming({ nodeAffinityPolicy: 'Ignore' }, onSsd), nodes), { a1: skewed, b1: skewed, c1: '' }, 'zone c counts: minimum 0');
});

test('nodeTaintsPolicy Honor leaves out domains of nodes whose taints the pod does not tolerate', () => {
  const nodes = [
    nodeInfo(node('a1', { labels: { zone: 'a' } }), api(1)),
    nodeInfo(node('b1', { labels: { zone: 'b' }, taints: [{ key: 'x', effect: 'NoSchedule' }] })),
  ];
  assert.deepEqual(run(incoming(), nodes), { a1: skewed, b1: '' });
  assert.deepEqual(run(incoming({ nodeTaintsPolicy: 'Honor' }), nodes), { a1: '', b1: '' });
});

test('matchLabelKeys narrows the selector to pods with the same label values', () => {
  const nodes = [
    nodeInfo(node('a1', { labels: { zone: 'a' } }), api(2, { labels: { app: 'api', rev: 'old' } })),
    nodeInfo(node('b1', { labels: { zone: 'b' } })),
  ];
  const p = (keys: string[]) => incoming({ matchLabelKeys: keys }, { labels: { app: 'api', rev: 'new' } });
  assert.deepEqual(run(p([]), nodes), { a1: skewed, b1: '' });
  assert.deepEqual(run(p(['rev']), nodes), { a1: '', b1: '' });
});

test('ScheduleAnyway constraints score emptier domains higher and ignore nodes without the key', () => {
  const nodes = [
    nodeInfo(node('a1', { labels: { zone: 'a' } }), api(3)),
    nodeInfo(node('b1', { labels: { zone: 'b' } }), api(1)),
    nodeInfo(node('c1', { labels: { zone: 'c' } })),
    nodeInfo(node('bare')),
  ];
  const pts = new PodTopologySpread(handleFor(nodes));
  const p = incoming({ whenUnsatisfiable: 'ScheduleAnyway' });
  const state = new CycleState();
  assert.equal(pts.preFilter(state, p, nodes).code, 'Skip', 'no DoNotSchedule constraint: nothing to filter');
  assert.ok(pts.preScore(state, p, nodes).isSuccess());
  const scores = nodes.map((n) => pts.score(state, p, n));
  pts.normalizeScore(state, p, nodes, scores);
  assert.ok(scores[2]! > scores[1]! && scores[1]! > scores[0]!, `scores ${scores}`);
  assert.equal(scores[2], 100);
  assert.equal(scores[3], 0);
});

test('hostname spreading counts pods per node', () => {
  const nodes = [nodeInfo(node('n1'), api(2)), nodeInfo(node('n2'), api(1)), nodeInfo(node('n3'))];
  const p = incoming({ topologyKey: 'kubernetes.io/hostname' });
  assert.deepEqual(run(p, nodes), { n1: skewed, n2: skewed, n3: '' });
});
