// The scheduling queue, driven by a fake clock: order, backoff, the
// unschedulable set, cluster events with hints, flushes, gates, in-flight pods.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActionType, type ClusterEvent, type ClusterEventWithHint } from '../../src/scheduler/framework.js';
import { PrioritySort } from '../../src/scheduler/plugins/queue-sort.js';
import { SchedulingQueue, isPodUpdated } from '../../src/scheduler/queue.js';
import type { PodInfo } from '../../src/scheduler/pod-info.js';
import { Heap } from '../../src/scheduler/heap.js';
import { podInfo } from './fixtures.js';

function newQueue(o: { events?: Map<string, ClusterEventWithHint[]>; flushMs?: number; gated?: (p: PodInfo) => boolean } = {}) {
  const clock = { t: 1_000_000 };
  const sort = new PrioritySort();
  const q = new SchedulingQueue({
    less: (a, b) => sort.less(a, b),
    podInitialBackoffMs: 1000,
    podMaxBackoffMs: 10_000,
    unschedulableFlushMs: o.flushMs ?? 60_000,
    pluginEvents: o.events,
    preEnqueue: o.gated ? (p) => !o.gated!(p) : undefined,
    now: () => clock.t,
    timers: false,
  });
  return { q, clock };
}

const nodeAdd: ClusterEvent = { resource: 'Node', actionType: ActionType.Add, label: 'NodeAdd' };
const podDelete: ClusterEvent = { resource: 'Pod', actionType: ActionType.Delete, label: 'AssignedPodDelete' };

test('the heap pops in order and updates or deletes by key', () => {
  const h = new Heap<{ k: string; v: number }>((x) => x.k, (a, b) => a.v < b.v);
  for (const [k, v] of [['a', 5], ['b', 1], ['c', 3], ['d', 4]] as const) h.addOrUpdate({ k, v });
  h.addOrUpdate({ k: 'a', v: 0 });
  h.delete('c');
  const out: string[] = [];
  for (let x = h.pop(); x; x = h.pop()) out.push(x.k);
  assert.deepEqual(out, ['a', 'b', 'd']);
});

test('pods pop by priority, then by the time they were queued', async () => {
  const { q, clock } = newQueue();
  q.add(podInfo('low-early', { priority: 1 }));
  clock.t++;
  q.add(podInfo('high', { priority: 10 }));
  clock.t++;
  q.add(podInfo('low-late', { priority: 1 }));
  const order: string[] = [];
  for (let i = 0; i < 3; i++) order.push((await q.pop())!.podInfo.name);
  assert.deepEqual(order, ['high', 'low-early', 'low-late']);
});

test('pop waits for a pod and returns undefined once the queue is closed', async () => {
  const { q } = newQueue();
  const waiting = q.pop();
  q.add(podInfo('late'));
  assert.equal((await waiting)?.podInfo.name, 'late');
  const never = q.pop();
  q.close();
  assert.equal(await never, undefined);
});

test('backoff starts at the initial duration and doubles per attempt up to the maximum', () => {
  const { q } = newQueue();
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((n) => q.backoffDuration(n)), [0, 1000, 2000, 4000, 8000, 10_000, 10_000]);
});

test('a pod that failed with an error backs off, then returns to the active queue', () => {
  const { q, clock } = newQueue();
  q.add(podInfo('p'));
  const qp = q.tryPop()!;
  q.addUnschedulableIfNotPresent(qp); // no rejecting plugins: an error
  assert.equal(q.whereIs('default/p'), 'backoff');
  clock.t += 999;
  q.flushBackoffCompleted();
  assert.equal(q.whereIs('default/p'), 'backoff');
  clock.t += 1;
  q.flushBackoffCompleted();
  assert.equal(q.whereIs('default/p'), 'active');
  assert.equal(q.tryPop()!.attempts, 2);
});

test('an unschedulable pod waits for an event one of its rejecting plugins registered, and its hint accepts', () => {
  const events = new Map<string, ClusterEventWithHint[]>([
    ['NodeResourcesFit', [{ event: { resource: 'Node', actionType: ActionType.Add }, hint: (_pod, _old, n) => (n as { big?: boolean }).big === true }]],
    ['NodeAffinity', [{ event: { resource: 'Node', actionType: ActionType.UpdateNodeLabel } }]],
  ]);
  const { q, clock } = newQueue({ events });
  q.add(podInfo('p'));
  const qp = q.tryPop()!;
  qp.unschedulablePlugins = new Set(['NodeResourcesFit']);
  q.addUnschedulableIfNotPresent(qp);
  assert.equal(q.whereIs('default/p'), 'unschedulable');
  q.moveAllToActiveOrBackoffQueue(podDelete);
  assert.equal(q.whereIs('default/p'), 'unschedulable', 'NodeResourcesFit did not register pod deletes here');
  q.moveAllToActiveOrBackoffQueue({ resource: 'Node', actionType: ActionType.UpdateNodeLabel, label: 'NodeUpdate' });
  assert.equal(q.whereIs('default/p'), 'unschedulable', 'another plugin’s event');
  q.moveAllToActiveOrBackoffQueue(nodeAdd, undefined, { big: false });
  assert.equal(q.whereIs('default/p'), 'unschedulable', 'the hint said no');
  q.moveAllToActiveOrBackoffQueue(nodeAdd, undefined, { big: true });
  assert.equal(q.whereIs('default/p'), 'backoff', 'still within its backoff');
  clock.t += 5000;
  q.flushBackoffCompleted();
  assert.equal(q.whereIs('default/p'), 'active');
});

test('a pod whose backoff is over goes straight to the active queue on an event', () => {
  const { q, clock } = newQueue();
  q.add(podInfo('p'));
  const qp = q.tryPop()!;
  qp.unschedulablePlugins = new Set(['SomePlugin']);
  q.addUnschedulableIfNotPresent(qp);
  clock.t += 2000;
  q.moveAllToActiveOrBackoffQueue(nodeAdd);
  assert.equal(q.whereIs('default/p'), 'active', 'a plugin that registered nothing is helped by any event');
});

test('unschedulable pods are retried after the flush interval even without events', () => {
  const { q, clock } = newQueue({ flushMs: 60_000, events: new Map([['X', []]]) });
  q.add(podInfo('p'));
  const qp = q.tryPop()!;
  qp.unschedulablePlugins = new Set(['X']);
  q.addUnschedulableIfNotPresent(qp);
  clock.t += 59_999;
  q.flushUnschedulableLeftover();
  assert.equal(q.whereIs('default/p'), 'unschedulable');
  clock.t += 1;
  q.flushUnschedulableLeftover();
  assert.equal(q.whereIs('default/p'), 'active');
});

test('an event that arrives while the pod is being scheduled sends it to backoff instead of the unschedulable set', () => {
  const events = new Map<string, ClusterEventWithHint[]>([['NodeResourcesFit', [{ event: { resource: 'Node', actionType: ActionType.Add } }]]]);
  const { q } = newQueue({ events });
  q.add(podInfo('p'));
  q.add(podInfo('q'));
  const p = q.tryPop()!;
  q.moveAllToActiveOrBackoffQueue(nodeAdd);
  p.unschedulablePlugins = new Set(['NodeResourcesFit']);
  q.addUnschedulableIfNotPresent(p);
  assert.equal(q.whereIs('default/p'), 'backoff');
  const other = q.tryPop()!;
  other.unschedulablePlugins = new Set(['NodeResourcesFit']);
  q.addUnschedulableIfNotPresent(other);
  assert.equal(q.whereIs('default/q'), 'unschedulable', 'no event since it was popped');
});

test('updates: a changed spec moves an unschedulable pod; a status-only change does not; deletes remove it anywhere', () => {
  const { q, clock } = newQueue({ events: new Map([['X', []]]) });
  const p = podInfo('p', { labels: { v: '1' } });
  q.add(p);
  const qp = q.tryPop()!;
  qp.unschedulablePlugins = new Set(['X']);
  q.addUnschedulableIfNotPresent(qp);
  const statusOnly = podInfo('p');
  statusOnly.pod.metadata = { ...p.pod.metadata, resourceVersion: '99' };
  statusOnly.pod.spec = p.pod.spec;
  statusOnly.pod.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False' }] };
  assert.equal(isPodUpdated(p, statusOnly), false);
  q.update(p, statusOnly);
  assert.equal(q.whereIs('default/p'), 'unschedulable');
  const relabelled = podInfo('p', { labels: { v: '2' } });
  assert.equal(isPodUpdated(p, relabelled), true);
  clock.t += 5000;
  q.update(statusOnly, relabelled);
  assert.equal(q.whereIs('default/p'), 'active');
  q.delete('default/p');
  assert.equal(q.whereIs('default/p'), undefined);
});

test('a pod deleted while being scheduled is not put back', () => {
  const { q } = newQueue();
  q.add(podInfo('p'));
  const qp = q.tryPop()!;
  q.delete('default/p');
  qp.unschedulablePlugins = new Set(['X']);
  q.addUnschedulableIfNotPresent(qp);
  assert.equal(q.whereIs('default/p'), undefined);
  assert.deepEqual(q.counts(), { active: 0, backoff: 0, unschedulable: 0, inFlight: 0 });
});

test('gated pods wait in the unschedulable set, untouched by events and flushes, until their gates go', () => {
  const gated = (p: PodInfo) => (p.pod.spec?.schedulingGates ?? []).length > 0;
  const { q, clock } = newQueue({ gated });
  const p = podInfo('p', { spec: { schedulingGates: [{ name: 'quota' }] } });
  q.add(p);
  assert.equal(q.whereIs('default/p'), 'unschedulable');
  q.moveAllToActiveOrBackoffQueue(nodeAdd);
  clock.t += 120_000;
  q.flushUnschedulableLeftover();
  assert.equal(q.whereIs('default/p'), 'unschedulable');
  q.update(p, podInfo('p'));
  assert.equal(q.whereIs('default/p'), 'active');
});

test('the nominator remembers nominations until the pod is deleted', () => {
  const { q } = newQueue();
  const p = podInfo('p', { priority: 5 });
  q.add(p);
  q.nominator.add(p, 'n1');
  assert.deepEqual(q.nominator.forNode('n1').map((x) => x.name), ['p']);
  // A status update that has not caught up keeps the scheduler's nomination.
  q.update(p, podInfo('p', { priority: 5 }));
  assert.equal(q.nominator.nodeOfPod('default/p'), 'n1');
  q.delete('default/p');
  assert.deepEqual(q.nominator.forNode('n1'), []);
});
