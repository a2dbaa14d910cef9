import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/object.js';
import { tableFor } from '../../src/apiserver/printers/index.js';
import { ago, day, minute, now, second } from './fixtures.js';

function pod(name: string, spec: Record<string, unknown>, status: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, ...metadata }, spec, status };
}

function containers(n: number): { name: string; image: string }[] {
  return Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: 'tools' }));
}

/** NAME READY STATUS RESTARTS AGE of one pod. */
function summary(p: KubeObject): unknown[] {
  const table = tableFor({ group: '', kind: 'Pod' }, [p], now);
  return table.rows[0]?.cells.slice(0, 5) ?? [];
}

const running = { running: { startedAt: ago(day) } };
const restartedAgo = (ms: number) => ({ terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(ms) } });

// Cases of Kubernetes' TestPrintPod, with the same expectations.
test('restarts add up over containers and only ready running containers count as ready', () => {
  const p = pod('test1', { containers: containers(2) }, {
    phase: 'podPhase',
    containerStatuses: [{ ready: true, restartCount: 3, state: running }, { restartCount: 3 }],
  });
  assert.deepEqual(summary(p), ['test1', '1/2', 'podPhase', '6', '<unknown>']);
});

test('a waiting container reason replaces the pod phase', () => {
  const p = pod('test2', { containers: containers(2) }, {
    phase: 'podPhase',
    containerStatuses: [
      { ready: true, restartCount: 3, state: running },
      { state: { waiting: { reason: 'ContainerWaitingReason' } }, restartCount: 3 },
    ],
  });
  assert.deepEqual(summary(p), ['test2', '1/2', 'ContainerWaitingReason', '6', '<unknown>']);
});

test('the first container reason wins over later ones', () => {
  const p = pod('test3', { containers: containers(2) }, {
    phase: 'podPhase',
    containerStatuses: [
      { state: { waiting: { reason: 'ContainerWaitingReason' } }, restartCount: 3 },
      { state: { terminated: { reason: 'ContainerTerminatedReason' } }, restartCount: 3 },
    ],
  });
  assert.deepEqual(summary(p), ['test3', '0/2', 'ContainerWaitingReason', '6', '<unknown>']);
});

test('a pod status reason replaces the phase', () => {
  const p = pod('test5', { containers: containers(2) }, {
    reason: 'podReason',
    phase: 'podPhase',
    containerStatuses: [{ ready: true, restartCount: 3, state: running }, { ready: true, restartCount: 3 }],
  });
  assert.deepEqual(summary(p), ['test5', '1/2', 'podReason', '6', '<unknown>']);
});

test('a completed container beside a running one shows NotReady, or Running once the pod is Ready', () => {
  const statuses = [
    { ready: true, restartCount: 3, state: { terminated: { reason: 'Completed', exitCode: 0 } } },
    { ready: true, restartCount: 3, state: running },
  ];
  const notReady = pod('test6', { containers: containers(2) }, { phase: 'Running', containerStatuses: statuses });
  assert.deepEqual(summary(notReady), ['test6', '1/2', 'NotReady', '6', '<unknown>']);
  const ready = pod('test6', { containers: containers(2) }, {
    phase: 'Running',
    containerStatuses: statuses,
    conditions: [{ type: 'Ready', status: 'True' }],
  });
  assert.deepEqual(summary(ready), ['test6', '1/2', 'Running', '6', '<unknown>']);
});

test('init containers show Init:done/total and their restarts with the last restart age', () => {
  const first = pod('test7', { initContainers: containers(1), containers: containers(1) }, {
    phase: 'podPhase',
    initContainerStatuses: [{ ready: false, restartCount: 3, state: running, lastState: restartedAgo(10 * second) }],
    containerStatuses: [{ ready: false, restartCount: 0, state: { waiting: {} } }],
  });
  assert.deepEqual(summary(first), ['test7', '0/1', 'Init:0/1', '3 (10s ago)', '<unknown>']);

  const second_ = pod('test10', { initContainers: containers(2), containers: containers(1) }, {
    phase: 'podPhase',
    initContainerStatuses: [
      { ready: false, restartCount: 2, state: { terminated: {} }, lastState: restartedAgo(2 * minute) },
      { ready: false, restartCount: 3, state: running, lastState: restartedAgo(10 * second) },
    ],
    containerStatuses: [{ ready: false, state: { waiting: {} } }],
  });
  assert.deepEqual(summary(second_), ['test10', '0/1', 'Init:1/2', '5 (10s ago)', '<unknown>']);
});

test('once init containers finish only the app containers restarts count', () => {
  const p = pod('test11', { initContainers: containers(1), containers: containers(1) }, {
    phase: 'Running',
    initContainerStatuses: [{ ready: false, restartCount: 2, state: { terminated: {} }, lastState: restartedAgo(2 * minute) }],
    containerStatuses: [{ ready: false, restartCount: 4, state: running, lastState: restartedAgo(20 * second) }],
  });
  assert.deepEqual(summary(p), ['test11', '0/1', 'Running', '4 (20s ago)', '<unknown>']);
});

test('the restart age is that of the most recent restart of any container', () => {
  const p = pod('test14', { containers: containers(2) }, {
    phase: 'Running',
    containerStatuses: [
      { ready: true, restartCount: 6, state: running, lastState: restartedAgo(5 * day) },
      { ready: true, restartCount: 3, state: running, lastState: restartedAgo(20 * day) },
    ],
  });
  assert.deepEqual(summary(p), ['test14', '2/2', 'Running', '9 (5d ago)', '<unknown>']);
});

test('a pod held by a scheduling gate shows SchedulingGated', () => {
  const p = pod('test15', { containers: containers(2) }, {
    phase: 'podPhase',
    conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }],
  });
  assert.deepEqual(summary(p), ['test15', '0/2', 'SchedulingGated', '0', '<unknown>']);
});

test('finished pods show Completed or the error and carry a Completed row condition', () => {
  const succeeded = pod('test16', { containers: containers(1) }, {
    phase: 'Succeeded',
    containerStatuses: [{ ready: false, restartCount: 0, state: { terminated: { reason: 'Completed', exitCode: 0 } } }],
  });
  const failed = pod('test17', { containers: containers(1) }, {
    phase: 'Failed',
    containerStatuses: [{ ready: false, restartCount: 0, state: { terminated: { reason: 'Error', exitCode: 1 } } }],
  });
  const table = tableFor({ group: '', kind: 'Pod' }, [succeeded, failed], now);
  assert.deepEqual(table.rows[0]?.cells.slice(0, 5), ['test16', '0/1', 'Completed', '0', '<unknown>']);
  assert.deepEqual(table.rows[0]?.conditions, [
    { type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' },
  ]);
  assert.deepEqual(table.rows[1]?.cells.slice(0, 5), ['test17', '0/1', 'Error', '0', '<unknown>']);
  assert.deepEqual(table.rows[1]?.conditions, [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }]);
});

test('a deleted pod shows Terminating unless it already finished', () => {
  const deleting = { deletionTimestamp: ago(10 * second) };
  const done = pod('test18', { containers: containers(1) }, {
    phase: 'Succeeded',
    containerStatuses: [{ state: { terminated: { reason: 'Completed', exitCode: 0 } } }],
  }, deleting);
  const runningPod = pod('test19', { containers: containers(1) }, { phase: 'Running', containerStatuses: [{ state: running }] }, deleting);
  const pending = pod('test20', { containers: containers(1) }, { phase: 'Pending' }, deleting);
  assert.equal(summary(done)[2], 'Completed');
  assert.equal(summary(runningPod)[2], 'Terminating');
  assert.equal(summary(pending)[2], 'Terminating');
});

test('a deleted pod on an unreachable node shows Unknown', () => {
  const p = pod('lost', { containers: containers(1) }, { phase: 'Running', reason: 'NodeLost' }, { deletionTimestamp: ago(minute) });
  assert.equal(summary(p)[2], 'Unknown');
});

test('a crash-looping container shows CrashLoopBackOff with its restarts', () => {
  const p = pod('web', { containers: containers(1) }, {
    phase: 'Running',
    containerStatuses: [
      { ready: false, restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: restartedAgo(5 * minute) },
    ],
  });
  assert.deepEqual(summary(p), ['web', '0/1', 'CrashLoopBackOff', '5 (5m ago)', '<unknown>']);
});

test('failing init containers show Init: with the reason, signal or exit code', () => {
  const initPod = (state: Record<string, unknown>) =>
    pod('p', { initContainers: containers(2), containers: containers(1) }, {
      phase: 'Pending',
      initContainerStatuses: [{ state }, { state: { waiting: { reason: 'PodInitializing' } } }],
    });
  assert.equal(summary(initPod({ terminated: { exitCode: 1, reason: 'Error' } }))[2], 'Init:Error');
  assert.equal(summary(initPod({ terminated: { exitCode: 137, signal: 9 } }))[2], 'Init:Signal:9');
  assert.equal(summary(initPod({ terminated: { exitCode: 2 } }))[2], 'Init:ExitCode:2');
  assert.equal(summary(initPod({ waiting: { reason: 'CrashLoopBackOff' } }))[2], 'Init:CrashLoopBackOff');
  assert.equal(summary(initPod({ waiting: { reason: 'PodInitializing' } }))[2], 'Init:0/2');
});

test('a container that exited without a reason shows its signal or exit code', () => {
  const exited = (terminated: Record<string, unknown>) =>
    pod('p', { containers: containers(1) }, { phase: 'Running', containerStatuses: [{ state: { terminated } }] });
  assert.equal(summary(exited({ exitCode: 3 }))[2], 'ExitCode:3');
  assert.equal(summary(exited({ exitCode: 143, signal: 15 }))[2], 'Signal:15');
});

// Cases of Kubernetes' TestPrintPodWithRestartableInitContainer.
test('sidecar init containers count toward READY and keep their restarts once started', () => {
  const sidecars = { initContainers: [
    { name: 'restartable-init-1', restartPolicy: 'Always' },
    { name: 'restartable-init-2', restartPolicy: 'Always' },
  ], containers: containers(1) };
  const starting = pod('test1', sidecars, {
    phase: 'Pending',
    initContainerStatuses: [
      { name: 'restartable-init-1', restartCount: 3, state: running, started: true, lastState: restartedAgo(10 * second) },
      { name: 'restartable-init-2', state: running, started: false },
    ],
    containerStatuses: [{ restartCount: 0, state: { waiting: {} } }],
    conditions: [{ type: 'Initialized', status: 'False' }],
  });
  assert.deepEqual(summary(starting), ['test1', '0/3', 'Init:1/2', '3 (10s ago)', '<unknown>']);

  const started = pod('test2', sidecars, {
    phase: 'Running',
    initContainerStatuses: [
      { name: 'restartable-init-1', restartCount: 3, state: running, started: true, lastState: restartedAgo(10 * second) },
      { name: 'restartable-init-2', state: running, started: true },
    ],
    containerStatuses: [{ ready: true, restartCount: 4, state: running, lastState: restartedAgo(20 * second) }],
    conditions: [{ type: 'Initialized', status: 'True' }],
  });
  assert.deepEqual(summary(started), ['test2', '1/3', 'Running', '7 (10s ago)', '<unknown>']);
});

test('statuses of containers missing from the spec do not count as sidecars', () => {
  const p = pod('test4', {
    initContainers: [{ name: 'init1', image: 'initimage' }, { name: 'sidecar1', image: 'sidecarimage', restartPolicy: 'Always' }],
    containers: [{ name: 'container1', image: 'containerimage' }],
  }, {
    phase: 'Running',
    initContainerStatuses: [{ name: 'initinvalid' }, { name: 'init1' }, { name: 'sidecar1' }],
    containerStatuses: [{ name: 'containerinvalid' }, { name: 'container1' }],
  });
  assert.deepEqual(summary(p), ['test4', '0/2', 'Init:0/2', '0', '<unknown>']);
});

test('wide columns show the pod IP, node, nominated node and readiness gates', () => {
  const p = pod('test1', {
    nodeName: 'test1',
    containers: containers(2),
    readinessGates: [{ conditionType: 'condition1' }, { conditionType: 'condition2' }],
  }, {
    phase: 'podPhase',
    podIPs: [{ ip: '1.1.1.1' }, { ip: '2001:db8::' }],
    nominatedNodeName: 'node1',
    conditions: [{ type: 'condition1', status: 'True' }, { type: 'condition2', status: 'False' }],
    containerStatuses: [{ ready: true, restartCount: 3, state: running }, { restartCount: 3 }],
  }, { creationTimestamp: ago(3 * minute + 5 * second) });
  const table = tableFor({ group: '', kind: 'Pod' }, [p], now);
  assert.deepEqual(table.rows[0]?.cells, ['test1', '1/2', 'podPhase', '6', '3m5s', '1.1.1.1', 'test1', 'node1', '1/2']);

  const bare = pod('test2', { containers: containers(1) }, { phase: 'Pending' });
  assert.deepEqual(tableFor({ group: '', kind: 'Pod' }, [bare], now).rows[0]?.cells.slice(5), ['<none>', '<none>', '<none>', '<none>']);
});

test('the pod table has the columns kubectl shows, the last four only with -o wide', () => {
  const table = tableFor({ group: '', kind: 'Pod' }, [], now);
  assert.deepEqual(
    table.columnDefinitions.map((c) => [c.name, c.type, c.format, c.priority]),
    [
      ['Name', 'string', 'name', 0],
      ['Ready', 'string', '', 0],
      ['Status', 'string', '', 0],
      ['Restarts', 'string', '', 0],
      ['Age', 'string', '', 0],
      ['IP', 'string', '', 1],
      ['Node', 'string', '', 1],
      ['Nominated Node', 'string', '', 1],
      ['Readiness Gates', 'string', '', 1],
    ],
  );
  assert.equal(table.columnDefinitions[1]?.description, 'The aggregate readiness state of this pod for accepting traffic.');
  assert.match(table.columnDefinitions[0]?.description ?? '', /^Name must be unique within a namespace/);
});
