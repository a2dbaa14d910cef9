// DefaultPreemption: which victims, which node, what it tells the pod, and
// what it asks the cluster to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/object.js';
import { CycleState } from '../../src/scheduler/framework.js';
import type { NodeInfo } from '../../src/scheduler/node-info.js';
import type { PodInfo } from '../../src/scheduler/pod-info.js';
import { DefaultPreemption, filterPodsWithPDBViolation, pickOneNodeForPreemption, type Candidate, type PreemptionActions } from '../../src/scheduler/plugins/default-preemption.js';
import { InterPodAffinity } from '../../src/scheduler/plugins/inter-pod-affinity.js';
import { NodeResourcesFit } from '../../src/scheduler/plugins/node-resources-fit.js';
import { TaintToleration } from '../../src/scheduler/plugins/taint-toleration.js';
import { PodScheduler } from '../../src/scheduler/schedule-pod.js';
import { FitError } from '../../src/scheduler/fit-error.js';
import { frameworkFor, node, nodeInfo, pod, podInfo, type TestHandleOptions } from './fixtures.js';

class RecordingActions implements PreemptionActions {
  readonly preempted: string[] = [];
  readonly cleared: string[] = [];
  constructor(private readonly pdbs: KubeObject[] = []) {}
  async preemptVictim(victim: PodInfo, preemptor: PodInfo, nodeName: string): Promise<void> {
    this.preempted.push(`${victim.name}@${nodeName} for ${preemptor.name}`);
  }
  async clearNominatedNodeName(pods: readonly PodInfo[]): Promise<void> {
    this.cleared.push(...pods.map((p) => p.name));
  }
  podDisruptionBudgets(): readonly KubeObject[] {
    return this.pdbs;
  }
}

function setup(nodes: NodeInfo[], actions = new RecordingActions(), o: TestHandleOptions = {}) {
  let preemption: DefaultPreemption | undefined;
  const fw = frameworkFor(
    nodes,
    (h, getFw) => {
      preemption = new DefaultPreemption(h, getFw, actions, { random: () => 0 });
      return [new TaintToleration(), new NodeResourcesFit(), new InterPodAffinity(h), preemption];
    },
    o,
  );
  return { fw, preemption: preemption!, actions };
}

/** Runs the filters, then PostFilter, as the scheduler does for a pod that fits nowhere. */
async function attempt(nodes: NodeInfo[], p: PodInfo, actions = new RecordingActions(), o: TestHandleOptions = {}) {
  const { fw } = setup(nodes, actions, o);
  const state = new CycleState();
  const result = new PodScheduler(fw, fw.handle.nodes).schedulePod(state, p);
  assert.ok(result instanceof FitError, 'the pod should not fit before preemption');
  const post = await fw.runPostFilterPlugins(state, p, result.diagnosis.nodeToStatus);
  result.diagnosis.postFilterMessage = post.status.message();
  return { post, message: result.message, actions };
}

test('victims are the fewest lower-priority pods whose removal lets the pod fit, most important kept', async () => {
  const nodes = [
    nodeInfo(node('n1', { cpu: '4' }), [
      pod('p1', { cpu: '1', priority: 1 }),
      pod('p2', { cpu: '1', priority: 2 }),
      pod('p3', { cpu: '1', priority: 3 }),
      pod('vip', { cpu: '1', priority: 100 }),
    ]),
  ];
  const { post, actions } = await attempt(nodes, podInfo('new', { cpu: '2', priority: 10 }));
  assert.equal(post.status.code, 'Success');
  assert.equal(post.result?.nominatedNodeName, 'n1');
  assert.deepEqual(actions.preempted.sort(), ['p1@n1 for new', 'p2@n1 for new']);
});

test('the node with the lowest-priority victims is chosen', async () => {
  const nodes = [
    nodeInfo(node('n1', { cpu: '2' }), [pod('mid', { cpu: '2', priority: 5 })]),
    nodeInfo(node('n2', { cpu: '2' }), [pod('low', { cpu: '2', priority: 1 })]),
    nodeInfo(node('n3', { cpu: '2' }), [pod('high', { cpu: '2', priority: 50 })]),
  ];
  const { post, actions } = await attempt(nodes, podInfo('new', { cpu: '2', priority: 10 }));
  assert.equal(post.result?.nominatedNodeName, 'n2');
  assert.deepEqual(actions.preempted, ['low@n2 for new']);
});

test('pickOneNodeForPreemption: fewer PDB violations, then lower top priority, lower sum, fewer victims, later start', () => {
  const v = (name: string, priority: number, startTime?: string) => podInfo(name, { priority, startTime });
  const c = (nodeName: string, victims: PodInfo[], numPDBViolations = 0): Candidate => ({ nodeName, victims, numPDBViolations });
  assert.equal(pickOneNodeForPreemption([c('a', [v('x', 1)], 1), c('b', [v('y', 5)], 0)])?.nodeName, 'b');
  assert.equal(pickOneNodeForPreemption([c('a', [v('x', 5)]), c('b', [v('y', 3), v('z', 3)])])?.nodeName, 'b');
  assert.equal(pickOneNodeForPreemption([c('a', [v('x', 3), v('y', 3)]), c('b', [v('z', 3), v('w', 1)])])?.nodeName, 'b');
  assert.equal(pickOneNodeForPreemption([c('a', [v('x', 3), v('y', 0), v('q', 0)]), c('b', [v('z', 3), v('w', 1)])])?.nodeName, 'b', 'sum of priorities first, then count');
  assert.equal(
    pickOneNodeForPreemption([c('a', [v('x', 3, '2024-01-01T00:00:00Z')]), c('b', [v('y', 3, '2024-06-01T00:00:00Z')])])?.nodeName,
    'b',
    'the victims that started most recently lose least work',
  );
  assert.equal(pickOneNodeForPreemption([]), undefined);
});

test('pods covered by an exhausted PodDisruptionBudget are reprieved first', async () => {
  const pdb: KubeObject = {
    metadata: { name: 'keep-db', namespace: 'default' },
    spec: { selector: { matchLabels: { app: 'db' } } },
    status: { disruptionsAllowed: 0 },
  };
  const [violating, nonViolating] = filterPodsWithPDBViolation([podInfo('db', { labels: { app: 'db' } }), podInfo('web', { labels: { app: 'web' } })], [pdb]);
  assert.deepEqual(violating.map((p) => p.name), ['db']);
  assert.deepEqual(nonViolating.map((p) => p.name), ['web']);
  const nodes = [nodeInfo(node('n1', { cpu: '2' }), [pod('db', { cpu: '1', priority: 1, labels: { app: 'db' } }), pod('web', { cpu: '1', priority: 1, labels: { app: 'web' } })])];
  const { actions } = await attempt(nodes, podInfo('new', { cpu: '1', priority: 10 }), new RecordingActions([pdb]));
  assert.deepEqual(actions.preempted, ['web@n1 for new']);
});

test('no lower-priority pods anywhere: "No preemption victims found for incoming pod"', async () => {
  const nodes = [nodeInfo(node('n1', { cpu: '1' }), [pod('a', { cpu: '1', priority: 10 })]), nodeInfo(node('n2', { cpu: '1' }), [pod('b', { cpu: '1', priority: 10 })])];
  const { post, message, actions } = await attempt(nodes, podInfo('new', { cpu: '1', priority: 10 }));
  assert.equal(post.status.code, 'Unschedulable');
  assert.equal(message, '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.');
  assert.deepEqual(actions.preempted, []);
});

test('nodes rejected as unresolvable are "not helpful"; a pod too big even for an empty node reports the filter reason', async () => {
  const nodes = [
    nodeInfo(node('tainted', { taints: [{ key: 'x', effect: 'NoSchedule' }] })),
    nodeInfo(node('small', { cpu: '1' }), [pod('low', { cpu: '1', priority: 0 })]),
  ];
  const { message } = await attempt(nodes, podInfo('new', { cpu: '2', priority: 10 }));
  assert.equal(
    message,
    '0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint(s). preemption: 0/2 nodes are available: 1 Insufficient cpu, 1 Preemption is not helpful for scheduling.',
  );
});

test('preemptionPolicy Never, and a lower-priority pod still terminating on the nominated node, stop preemption', async () => {
  const nodes = () => [nodeInfo(node('n1', { cpu: '1' }), [pod('low', { cpu: '1', priority: 0 })])];
  const never = await attempt(nodes(), podInfo('new', { cpu: '1', priority: 10, spec: { preemptionPolicy: 'Never' } }));
  assert.equal(never.message, '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.');
  const terminating = [nodeInfo(node('n1', { cpu: '1' }), [pod('low', { cpu: '1', priority: 0, terminating: true })])];
  const nominated = podInfo('new', { cpu: '1', priority: 10 });
  nominated.pod.status = { nominatedNodeName: 'n1' };
  const waiting = await attempt(terminating, nominated);
  assert.equal(waiting.message, '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to a terminating pod on the nominated node.');
  assert.deepEqual(waiting.actions.preempted, []);
});

test('lower-priority pods nominated to the chosen node lose their nomination', async () => {
  const nodes = [nodeInfo(node('n1', { cpu: '1' }), [pod('low', { cpu: '1', priority: 0 })])];
  const other = podInfo('other-nominee', { cpu: '100m', priority: 5 });
  const { actions, post } = await attempt(nodes, podInfo('new', { cpu: '1', priority: 10 }), new RecordingActions(), { nominated: { n1: [other] } });
  assert.equal(post.result?.nominatedNodeName, 'n1');
  assert.deepEqual(actions.cleared, ['other-nominee']);
});

test('pods nominated with higher priority keep their room: filtering counts them', () => {
  const nodes = [nodeInfo(node('n1', { cpu: '2' }), [pod('a', { cpu: '1' })])];
  const vip = podInfo('vip', { cpu: '1', priority: 100 });
  const { fw } = setup(nodes, new RecordingActions(), { nominated: { n1: [vip] } });
  const state = new CycleState();
  const low = podInfo('low', { cpu: '1', priority: 1 });
  fw.runPreFilterPlugins(state, low, nodes);
  assert.deepEqual(fw.runFilterPluginsWithNominatedPods(state, low, nodes[0]!).reasons, ['Insufficient cpu']);
  const higher = podInfo('higher', { cpu: '1', priority: 1000 });
  assert.ok(fw.runFilterPluginsWithNominatedPods(state, higher, nodes[0]!).isSuccess(), 'a pod more important than the nominee may take the room');
});
