// InterPodAffinity: required affinity and anti-affinity (the incoming pod's
// and existing pods'), namespaces, and preferred-term scoring.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PodAffinityTerm } from '../../src/api/scheduling/index.js';
import { CycleState } from '../../src/scheduler/framework.js';
import { InterPodAffinity } from '../../src/scheduler/plugins/inter-pod-affinity.js';
import type { NodeInfo } from '../../src/scheduler/node-info.js';
import type { PodInfo } from '../../src/scheduler/pod-info.js';
import { filterAll, handleFor, node, nodeInfo, pod, podInfo, type TestHandleOptions } from './fixtures.js';

const term = (matchLabels: Record<string, string>, topologyKey: string, extra: Partial<PodAffinityTerm> = {}): PodAffinityTerm => ({
  labelSelector: { matchLabels },
  topologyKey,
  ...extra,
});

function cluster(): NodeInfo[] {
  return [
    nodeInfo(node('a1', { labels: { zone: 'a' } }), [pod('db', { labels: { app: 'db' } })]),
    nodeInfo(node('a2', { labels: { zone: 'a' } })),
    nodeInfo(node('b1', { labels: { zone: 'b' } }), [pod('web', { labels: { app: 'web' } })]),
    nodeInfo(node('nozone')),
  ];
}

function run(p: PodInfo, nodes = cluster(), o: TestHandleOptions = {}) {
  return filterAll(new InterPodAffinity(handleFor(nodes, o)), p, nodes);
}

const noAffinity = "UnschedulableAndUnresolvable: node(s) didn't match pod affinity rules";
const noAnti = "Unschedulable: node(s) didn't match pod anti-affinity rules";
const existingAnti = "Unschedulable: node(s) didn't satisfy existing pods anti-affinity rules";

test('required affinity admits only nodes in a domain with a matching pod, and nodes must have the topology key', () => {
  const p = podInfo('cache', { spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, 'zone')] } } } });
  assert.deepEqual(run(p), { a1: '', a2: '', b1: noAffinity, nozone: noAffinity });
});

test('the first pod of a group with affinity to itself may go anywhere that has the topology key', () => {
  const p = podInfo('first', { labels: { app: 'cluster' }, spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'cluster' }, 'zone')] } } } });
  assert.deepEqual(run(p), { a1: '', a2: '', b1: '', nozone: noAffinity });
  const stranger = podInfo('other', { spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'cluster' }, 'zone')] } } } });
  assert.deepEqual(run(stranger), { a1: noAffinity, a2: noAffinity, b1: noAffinity, nozone: noAffinity }, 'a pod that does not match its own terms needs a peer');
});

test('required anti-affinity keeps the pod out of domains with a matching pod', () => {
  const byZone = podInfo('p', { spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, 'zone')] } } } });
  assert.deepEqual(run(byZone), { a1: noAnti, a2: noAnti, b1: '', nozone: '' });
  const byHost = podInfo('p', { spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, 'kubernetes.io/hostname')] } } } });
  assert.deepEqual(run(byHost), { a1: noAnti, a2: '', b1: '', nozone: '' });
});

test("an existing pod's anti-affinity keeps matching pods out of its domain", () => {
  const nodes = cluster();
  nodes[2]!.addPod(
    podInfo('loner', {
      nodeName: 'b1',
      spec: { nodeName: 'b1', affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ team: 'noisy' }, 'zone')] } } },
    }),
  );
  assert.deepEqual(run(podInfo('noisy', { labels: { team: 'noisy' } }), nodes), { a1: '', a2: '', b1: existingAnti, nozone: '' });
  assert.deepEqual(run(podInfo('quiet', { labels: { team: 'quiet' } }), nodes), { a1: '', a2: '', b1: '', nozone: '' });
});

test('terms look in the pod’s own namespace unless namespaces or a namespaceSelector say otherwise', () => {
  const nodes = [
    nodeInfo(node('a', { labels: { zone: 'a' } }), [pod('db', { labels: { app: 'db' }, namespace: 'data' })]),
    nodeInfo(node('b', { labels: { zone: 'b' } })),
  ];
  const namespaces = { default: {}, data: { team: 'storage' } };
  const anti = (extra: Partial<PodAffinityTerm>) =>
    podInfo('p', { spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, 'zone', extra)] } } } });
  assert.deepEqual(run(anti({}), nodes, { namespaces }), { a: '', b: '' }, 'the db pod is in another namespace');
  assert.deepEqual(run(anti({ namespaces: ['data'] }), nodes, { namespaces }), { a: noAnti, b: '' });
  assert.deepEqual(run(anti({ namespaceSelector: { matchLabels: { team: 'storage' } } }), nodes, { namespaces }), { a: noAnti, b: '' });
  assert.deepEqual(run(anti({ namespaceSelector: {} }), nodes, { namespaces }), { a: noAnti, b: '' }, 'an empty namespaceSelector means all namespaces');
});

test('PreFilter is skipped when neither the pod nor any existing pod has required (anti-)affinity', () => {
  const nodes = cluster();
  const ipa = new InterPodAffinity(handleFor(nodes));
  assert.equal(ipa.preFilter(new CycleState(), podInfo('p'), nodes).code, 'Skip');
});

test('AddPod and RemovePod keep the PreFilter counts in step with what-if changes', () => {
  const nodes = cluster();
  const ipa = new InterPodAffinity(handleFor(nodes));
  const p = podInfo('p', { spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, 'zone')] } } } });
  const state = new CycleState();
  assert.ok(ipa.preFilter(state, p, nodes).isSuccess());
  const db = nodes[0]!.pods[0]!;
  assert.equal(ipa.filter(state, p, nodes[1]!).code, 'Unschedulable');
  ipa.preFilterExtensions().removePod(state, p, db, nodes[0]!);
  assert.ok(ipa.filter(state, p, nodes[1]!).isSuccess());
  ipa.preFilterExtensions().addPod(state, p, db, nodes[0]!);
  assert.equal(ipa.filter(state, p, nodes[1]!).code, 'Unschedulable');
  // The clone used by preemption is independent.
  const copy = state.clone();
  ipa.preFilterExtensions().removePod(copy, p, db, nodes[0]!);
  assert.ok(ipa.filter(copy, p, nodes[1]!).isSuccess());
  assert.equal(ipa.filter(state, p, nodes[1]!).code, 'Unschedulable');
});

function scores(p: PodInfo, nodes: NodeInfo[]): number[] {
  const ipa = new InterPodAffinity(handleFor(nodes));
  const state = new CycleState();
  const s = ipa.preScore(state, p, nodes);
  if (s.isSkip()) return nodes.map(() => 0);
  const out = nodes.map((n) => ipa.score(state, p, n));
  ipa.normalizeScore(state, p, nodes, out);
  return out;
}

test('preferred affinity raises, preferred anti-affinity lowers the score of matching domains', () => {
  const nodes = cluster();
  const near = podInfo('p', {
    spec: { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: term({ app: 'db' }, 'zone') }] } } },
  });
  assert.deepEqual(scores(near, nodes), [100, 100, 0, 0]);
  const far = podInfo('p', {
    spec: { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: term({ app: 'web' }, 'zone') }] } } },
  });
  assert.deepEqual(scores(far, nodes), [100, 100, 0, 100]);
});

test("existing pods' terms score too: their required affinity with weight 1, their preferred terms with theirs", () => {
  const nodes = cluster();
  nodes[2]!.addPod(
    podInfo('fan', {
      nodeName: 'b1',
      spec: { nodeName: 'b1', affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term({ app: 'idol' }, 'zone') }] } } },
    }),
  );
  assert.deepEqual(scores(podInfo('idol', { labels: { app: 'idol' } }), nodes), [0, 0, 100, 0]);
  assert.deepEqual(scores(podInfo('nobody'), nodes), [0, 0, 0, 0]);
});
