// The framework runtime, one scheduling decision end to end without a
// server, the FitError message, and the cache's assume/confirm/forget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActionType, CycleState, type FilterPlugin, type PermitPlugin, type Plugin, type PreFilterPlugin, type ScorePlugin } from '../../src/scheduler/framework.js';
import { SchedulerCache } from '../../src/scheduler/cache.js';
import { FitError, fitErrorMessage } from '../../src/scheduler/fit-error.js';
import { NodeInfo } from '../../src/scheduler/node-info.js';
import { PodInfo } from '../../src/scheduler/pod-info.js';
import { PodScheduler, numFeasibleNodesToFind } from '../../src/scheduler/schedule-pod.js';
import { Status } from '../../src/scheduler/status.js';
import { NodeResourcesFit } from '../../src/scheduler/plugins/node-resources-fit.js';
import { TaintToleration } from '../../src/scheduler/plugins/taint-toleration.js';
import { defaultPlugins, defaultScoreWeights } from '../../src/scheduler/plugins/registry.js';
import { Framework } from '../../src/scheduler/runtime.js';
import { nodeUpdateActions } from '../../src/scheduler/scheduler.js';
import { frameworkFor, handleFor, node, nodeInfo, pod, podInfo } from './fixtures.js';
import type { PreemptionActions } from '../../src/scheduler/plugins/default-preemption.js';
import type { RestClient } from '../../src/client/rest.js';

test('numFeasibleNodesToFind: all of a small cluster, an adaptive share of a large one, never under 100', () => {
  assert.equal(numFeasibleNodesToFind(50), 50);
  assert.equal(numFeasibleNodesToFind(150), 100);
  assert.equal(numFeasibleNodesToFind(1000), 420, '50% - 1000/125 = 42%');
  assert.equal(numFeasibleNodesToFind(5000), 500, '50% - 40 = 10%');
  assert.equal(numFeasibleNodesToFind(10_000), 500, 'the adaptive share bottoms out at 5%');
  assert.equal(numFeasibleNodesToFind(1000, 100), 1000);
  assert.equal(numFeasibleNodesToFind(1000, 20), 200);
});

test('the FitError message counts each reason over nodes, sorted, with the PreFilter and PostFilter messages', () => {
  const statuses = new Map([
    ['a', Status.unschedulable('Insufficient cpu', 'Insufficient memory')],
    ['b', Status.unschedulable('Insufficient cpu')],
    ['c', Status.unresolvable("node(s) didn't match Pod's node affinity/selector")],
  ]);
  assert.equal(fitErrorMessage(3, statuses), "0/3 nodes are available: 1 Insufficient memory, 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu.");
  assert.equal(fitErrorMessage(3, statuses, 'pod has unbound claims'), '0/3 nodes are available: pod has unbound claims.');
  assert.equal(fitErrorMessage(0, new Map(), undefined, 'preemption: nothing.'), '0/0 nodes are available: preemption: nothing.');
});

test('filtering stops once enough feasible nodes are found and the next pod starts where it stopped', () => {
  const nodes = Array.from({ length: 300 }, (_, i) => nodeInfo(node(`n${i}`)));
  const seen: string[] = [];
  const spy: FilterPlugin = {
    name: 'Spy',
    filter(_s, _p, n) {
      seen.push(n.name);
      return Status.success();
    },
  };
  const fw = frameworkFor(nodes, () => [spy]);
  const algo = new PodScheduler(fw, fw.handle.nodes);
  algo.schedulePod(new CycleState(), podInfo('a'));
  // 300 nodes: 50% - 300/125 = 48%, 144 nodes.
  assert.equal(seen.length, 144);
  assert.equal(seen[0], 'n0');
  seen.length = 0;
  algo.schedulePod(new CycleState(), podInfo('b'));
  assert.equal(seen[0], 'n144');
});

test('the highest total of weighted scores wins; equal scores are broken at random', () => {
  const nodes = [nodeInfo(node('a')), nodeInfo(node('b')), nodeInfo(node('c'))];
  const byName = (weights: Record<string, number>): ScorePlugin => ({ name: 'ByName', score: (_s, _p, n) => weights[n.name] ?? 0 });
  const fw = frameworkFor(nodes, () => [byName({ a: 10, b: 30, c: 20 })], { weights: { ByName: 2 } });
  assert.deepEqual(fw.runScorePlugins(new CycleState(), podInfo('p'), nodes), [20, 60, 40]);
  const r = new PodScheduler(fw, fw.handle.nodes).schedulePod(new CycleState(), podInfo('p'));
  assert.ok(!(r instanceof FitError) && r.suggestedHost === 'b');
  const tie = frameworkFor(nodes, () => [byName({ a: 5, b: 5, c: 5 })]);
  const picks = new Set<string>();
  let k = 0;
  const seq = [0.9, 0.1, 0.9, 0.9, 0.1, 0.1];
  const algo = new PodScheduler(tie, tie.handle.nodes, { random: () => seq[k++ % seq.length]! });
  for (let i = 0; i < 6; i++) {
    const res = algo.schedulePod(new CycleState(), podInfo(`p${i}`));
    if (!(res instanceof FitError)) picks.add(res.suggestedHost);
  }
  assert.ok(picks.size > 1, `ties should spread: ${[...picks]}`);
});

test('a PreFilter rejection applies to every node and is reported once', () => {
  const nodes = [nodeInfo(node('a')), nodeInfo(node('b'))];
  const gate: PreFilterPlugin & FilterPlugin = {
    name: 'Gate',
    preFilter: () => Status.unresolvable('pod has unbound immediate PersistentVolumeClaims'),
    filter: () => Status.success(),
  };
  const fw = frameworkFor(nodes, () => [gate]);
  const r = new PodScheduler(fw, fw.handle.nodes).schedulePod(new CycleState(), podInfo('p'));
  assert.ok(r instanceof FitError);
  assert.equal(r.message, '0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims.');
  assert.deepEqual([...r.diagnosis.unschedulablePlugins], ['Gate']);
});

test('the first failing Filter plugin decides for a node, and the plugin is recorded', () => {
  const nodes = [nodeInfo(node('tainted', { cpu: '1', taints: [{ key: 'x', effect: 'NoSchedule' }] })), nodeInfo(node('small', { cpu: '1' }))];
  const fw = frameworkFor(nodes, () => [new TaintToleration(), new NodeResourcesFit()]);
  const r = new PodScheduler(fw, fw.handle.nodes).schedulePod(new CycleState(), podInfo('p', { cpu: '2' }));
  assert.ok(r instanceof FitError);
  assert.equal(r.message, '0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint(s).');
  assert.deepEqual([...r.diagnosis.unschedulablePlugins].sort(), ['NodeResourcesFit', 'TaintToleration']);
  assert.equal(r.diagnosis.nodeToStatus.get('tainted')?.plugin, 'TaintToleration');
});

test('a pod with a nominated node is tried there first', () => {
  const nodes = Array.from({ length: 5 }, (_, i) => nodeInfo(node(`n${i}`)));
  const fw = frameworkFor(nodes, () => [new NodeResourcesFit()]);
  const p = podInfo('p');
  p.pod.status = { nominatedNodeName: 'n3' };
  const r = new PodScheduler(fw, fw.handle.nodes).schedulePod(new CycleState(), p);
  assert.ok(!(r instanceof FitError));
  assert.equal(r.suggestedHost, 'n3');
  assert.equal(r.evaluatedNodes, 1);
});

test('permit plugins can hold a pod until they allow it, or reject it when time runs out', async () => {
  const nodes = [nodeInfo(node('a'))];
  const holder = (timeoutMs: number): PermitPlugin => ({ name: 'Holder', permit: () => ({ status: new Status('Wait'), timeoutMs }) });
  const fw = frameworkFor(nodes, () => [holder(60_000)]);
  const p = podInfo('p');
  assert.equal(fw.runPermitPlugins(new CycleState(), p, 'a').code, 'Wait');
  const result = fw.waitOnPermit(p);
  fw.getWaitingPod(p.uid)!.allow('Holder');
  assert.ok((await result).isSuccess());
  const quick = frameworkFor(nodes, () => [holder(10)]);
  const q = podInfo('q');
  quick.runPermitPlugins(new CycleState(), q, 'a');
  const rejected = await quick.waitOnPermit(q);
  assert.equal(rejected.code, 'Unschedulable');
  assert.equal(rejected.message(), 'rejected due to timeout after waiting 10ms at plugin Holder');
});

test('the default profile has kube-scheduler’s plugins at each extension point, in its order', () => {
  const handle = handleFor([]);
  let fw: Framework | undefined;
  const plugins: Plugin[] = defaultPlugins({ handle, client: {} as RestClient, framework: () => fw!, preemption: {} as PreemptionActions });
  fw = new Framework(handle, plugins, { scoreWeights: defaultScoreWeights });
  assert.equal(fw.queueSort?.name, 'PrioritySort');
  assert.deepEqual(fw.preEnqueuePlugins.map((p) => p.name), ['SchedulingGates']);
  assert.deepEqual(fw.filterPlugins.map((p) => p.name), [
    'NodeUnschedulable',
    'NodeName',
    'TaintToleration',
    'NodeAffinity',
    'NodePorts',
    'NodeResourcesFit',
    'PodTopologySpread',
    'InterPodAffinity',
  ]);
  assert.deepEqual(fw.postFilterPlugins.map((p) => p.name), ['DefaultPreemption']);
  assert.deepEqual(
    fw.scorePlugins.map((s) => `${s.plugin.name}:${s.weight}`),
    ['TaintToleration:3', 'NodeAffinity:2', 'NodeResourcesFit:1', 'PodTopologySpread:2', 'InterPodAffinity:2', 'NodeResourcesBalancedAllocation:1'],
  );
  assert.deepEqual(fw.bindPlugins.map((p) => p.name), ['DefaultBinder']);
});

test('the cache counts an assumed pod at once, confirms it when the watch reports the binding, and forgets it when binding fails', () => {
  const cache = new SchedulerCache();
  cache.addNode(node('n1', { cpu: '2' }));
  const p = new PodInfo(pod('p', { cpu: '1' }));
  cache.assumePod(p.assumedOn('n1'));
  assert.equal(cache.get('n1')!.requested.milliCPU, 1000);
  assert.equal(cache.isAssumed('default/p'), true);
  cache.forgetPod('default/p');
  assert.equal(cache.get('n1')!.requested.milliCPU, 0);

  cache.assumePod(p.assumedOn('n1'));
  const bound = pod('p', { cpu: '1', nodeName: 'n1' });
  bound.metadata.uid = p.uid;
  cache.addPod(new PodInfo(bound));
  assert.equal(cache.isAssumed('default/p'), false);
  assert.equal(cache.get('n1')!.requested.milliCPU, 1000, 'confirmed, not counted twice');
  assert.equal(cache.get('n1')!.pods.length, 1);
  cache.removePod('default/p');
  assert.equal(cache.get('n1')!.pods.length, 0);
});

test('pods on a node the cache has not seen yet are kept, and count once the node arrives', () => {
  const cache = new SchedulerCache();
  cache.addPod(new PodInfo(pod('early', { cpu: '1', nodeName: 'late-node' })));
  assert.equal(cache.list().length, 0);
  cache.addNode(node('late-node', { cpu: '2' }));
  assert.equal(cache.get('late-node')!.requested.milliCPU, 1000);
  cache.removeNode('late-node');
  assert.equal(cache.get('late-node'), undefined);
  assert.equal(cache.list().length, 0);
});

test('the cache lists nodes with (anti-)affinity pods as pods come and go', () => {
  const cache = new SchedulerCache();
  cache.addNode(node('n1'));
  cache.addNode(node('n2'));
  const anti = new PodInfo(
    pod('anti', {
      nodeName: 'n2',
      spec: { nodeName: 'n2', affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: {}, topologyKey: 'zone' }] } } },
    }),
  );
  cache.addPod(anti);
  assert.deepEqual(cache.havePodsWithRequiredAntiAffinity().map((n) => n.name), ['n2']);
  assert.deepEqual(cache.havePodsWithAffinity().map((n) => n.name), ['n2']);
  cache.removePod('default/anti');
  assert.deepEqual(cache.havePodsWithRequiredAntiAffinity(), []);
  assert.deepEqual(cache.havePodsWithAffinity(), []);
});

test('NodeInfo sums requests incrementally and clones independently', () => {
  const info = new NodeInfo('n', node('n'));
  info.addPod(podInfo('a', { cpu: '1', memory: '1Gi' }));
  info.addPod(podInfo('b', { cpu: '500m' }));
  assert.equal(info.requested.milliCPU, 1500);
  assert.equal(info.nonZeroMemory, 1024 ** 3 + 200 * 1024 ** 2);
  const copy = info.clone();
  copy.removePod('default/a');
  assert.equal(copy.requested.milliCPU, 500);
  assert.equal(info.requested.milliCPU, 1500);
  assert.equal(info.pods.length, 2);
});

test('node updates are classified so only plugins that care requeue pods', () => {
  const before = node('n', { cpu: '4', labels: { zone: 'a' } });
  const same = nodeUpdateActions(before, { ...before, status: { ...before.status, conditions: [] } });
  assert.equal(same, 0);
  const relabelled = node('n', { cpu: '4', labels: { zone: 'b' } });
  assert.equal(nodeUpdateActions(before, relabelled), ActionType.UpdateNodeLabel);
  const bigger = node('n', { cpu: '8', labels: { zone: 'a' } });
  assert.equal(nodeUpdateActions(before, bigger), ActionType.UpdateNodeAllocatable);
  const cordoned = node('n', { cpu: '4', labels: { zone: 'a' }, unschedulable: true });
  assert.equal(nodeUpdateActions(before, cordoned), ActionType.UpdateNodeTaint);
  const notReady = { ...before, status: { ...before.status, conditions: [{ type: 'Ready', status: 'False' }] } };
  assert.equal(nodeUpdateActions(before, notReady), ActionType.UpdateNodeCondition);
});
