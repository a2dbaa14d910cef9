import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/object.js';
import { tableFor } from '../../src/apiserver/printers/index.js';
import { ago, hour, minute, now, object, second } from './fixtures.js';

function cells(group: string, kind: string, obj: KubeObject): unknown[] {
  return tableFor({ group, kind }, [obj], now).rows[0]?.cells ?? [];
}

function node(labels: Record<string, string>, status: Record<string, unknown>, spec: Record<string, unknown> = {}): KubeObject {
  return object('Node', 'node-1', { spec, status }, { labels });
}

const ready = { conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }] };

test('a node shows Ready, NotReady or Unknown and SchedulingDisabled when cordoned', () => {
  assert.equal(cells('', 'Node', node({}, ready))[1], 'Ready');
  assert.equal(cells('', 'Node', node({}, { conditions: [{ type: 'Ready', status: 'Unknown' }] }))[1], 'NotReady');
  assert.equal(cells('', 'Node', node({}, { conditions: [{ type: 'Ready', status: 'False' }] }))[1], 'NotReady');
  assert.equal(cells('', 'Node', node({}, {}))[1], 'Unknown');
  assert.equal(cells('', 'Node', node({}, ready, { unschedulable: true }))[1], 'Ready,SchedulingDisabled');
  assert.equal(cells('', 'Node', node({}, {}, { unschedulable: true }))[1], 'Unknown,SchedulingDisabled');
});

test('node roles come from node-role.kubernetes.io labels and kubernetes.io/role, sorted', () => {
  assert.equal(cells('', 'Node', node({ foo: 'bar' }, ready))[2], '<none>');
  assert.equal(cells('', 'Node', node({ 'node-role.kubernetes.io/fed': '', 'node-role.kubernetes.io/control-plane': '' }, ready))[2], 'control-plane,fed');
  assert.equal(cells('', 'Node', node({ 'kubernetes.io/role': 'node', 'node-role.kubernetes.io/node': '' }, ready))[2], 'node');
  assert.equal(cells('', 'Node', node({ 'node-role.kubernetes.io/': '', 'kubernetes.io/role': '' }, ready))[2], '<none>');
});

test('a node shows its kubelet version and, wide, addresses and system info', () => {
  const n = node({ 'node-role.kubernetes.io/control-plane': '' }, {
    ...ready,
    addresses: [{ type: 'Hostname', address: 'node-1' }, { type: 'InternalIP', address: '10.0.0.5' }],
    nodeInfo: { kubeletVersion: 'v1.33.0', osImage: 'Linux 6.1 (test image)', kernelVersion: '6.1.0', containerRuntimeVersion: 'nami://0.1.0' },
  });
  assert.deepEqual(cells('', 'Node', n), [
    'node-1', 'Ready', 'control-plane', '10m', 'v1.33.0', '10.0.0.5', '<none>', 'Linux 6.1 (test image)', '6.1.0', 'nami://0.1.0',
  ]);
  assert.deepEqual(cells('', 'Node', node({}, ready)).slice(4), ['', '<none>', '<none>', '<unknown>', '<unknown>', '<unknown>']);
});

test('namespaces show their phase', () => {
  assert.deepEqual(cells('', 'Namespace', object('Namespace', 'default', { status: { phase: 'Active' } })), ['default', 'Active', '10m']);
  assert.deepEqual(cells('', 'Namespace', object('Namespace', 'old', { status: { phase: 'Terminating' } }))[1], 'Terminating');
});

test('the event table starts LAST SEEN TYPE REASON OBJECT MESSAGE, the rest only wide', () => {
  const defs = tableFor({ group: '', kind: 'Event' }, [], now).columnDefinitions;
  assert.deepEqual(defs.filter((c) => c.priority === 0).map((c) => c.name), ['Last Seen', 'Type', 'Reason', 'Object', 'Message']);
  assert.deepEqual(defs.filter((c) => c.priority === 1).map((c) => c.name), ['Subobject', 'Source', 'First Seen', 'Count', 'Name']);
});

test('a core event shows when it was last seen, its object as kind/name and its source', () => {
  const e = object('Event', 'web-1.17a', {
    involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default', fieldPath: 'spec.containers{web}' },
    reason: 'Pulled',
    message: 'Successfully pulled image "web"\n',
    source: { component: 'kubelet', host: 'node-1' },
    firstTimestamp: ago(hour),
    lastTimestamp: ago(5 * minute),
    count: 4,
    type: 'Normal',
  });
  assert.deepEqual(cells('', 'Event', e), [
    '5m', 'Normal', 'Pulled', 'pod/web-1', 'spec.containers{web}', 'kubelet, node-1', 'Successfully pulled image "web"', '60m', 4, 'web-1.17a',
  ]);
});

test('an event without timestamps falls back to its event time, and a series to its last observation', () => {
  const e = object('Event', 'sched.1', {
    involvedObject: { kind: 'Pod', name: 'web-2' },
    reason: 'FailedScheduling',
    message: '0/1 nodes are available',
    type: 'Warning',
    eventTime: '2024-05-01T11:00:00.000000Z',
    series: { count: 7, lastObservedTime: ago(30 * second) },
    reportingComponent: 'default-scheduler',
    reportingInstance: 'default-scheduler-node-1',
  });
  assert.deepEqual(cells('', 'Event', e), [
    '30s', 'Warning', 'FailedScheduling', 'pod/web-2', '', 'default-scheduler, default-scheduler-node-1', '0/1 nodes are available', '60m', 7, 'sched.1',
  ]);
});

test('an events.k8s.io event prints like the core event it stands for', () => {
  const e: KubeObject = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: 'node-1.abc', creationTimestamp: ago(2 * minute) },
    regarding: { kind: 'Node', name: 'node-1' },
    note: 'Node node-1 status is now: NodeReady',
    reason: 'NodeReady',
    type: 'Normal',
    eventTime: ago(2 * minute),
    reportingController: 'kubelet',
    reportingInstance: 'node-1',
  };
  const table = tableFor({ group: 'events.k8s.io', kind: 'Event' }, [e], now);
  assert.deepEqual(table.rows[0]?.cells, [
    '2m', 'Normal', 'NodeReady', 'node/node-1', '', 'kubelet, node-1', 'Node node-1 status is now: NodeReady', '2m', 1, 'node-1.abc',
  ]);
});

test('an event about a kind without a name shows only the kind', () => {
  const e = object('Event', 'x', { involvedObject: { kind: 'Cluster' }, firstTimestamp: ago(minute), count: 1 });
  assert.equal(cells('', 'Event', e)[3], 'cluster');
});

test('secrets show their type and number of keys; config maps count data and binary data', () => {
  const secret = object('Secret', 'tls', { type: 'kubernetes.io/tls', data: { 'tls.crt': 'Yg==', 'tls.key': 'Yg==' } });
  assert.deepEqual(cells('', 'Secret', secret), ['tls', 'kubernetes.io/tls', 2, '10m']);
  const cm = object('ConfigMap', 'cfg', { data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } });
  assert.deepEqual(cells('', 'ConfigMap', cm), ['cfg', 3, '10m']);
  assert.deepEqual(cells('', 'ConfigMap', object('ConfigMap', 'empty')), ['empty', 0, '10m']);
});

test('service accounts count their listed secrets', () => {
  assert.deepEqual(cells('', 'ServiceAccount', object('ServiceAccount', 'default')), ['default', 0, '10m']);
  assert.deepEqual(cells('', 'ServiceAccount', object('ServiceAccount', 'ci', { secrets: [{ name: 'ci-token' }] })), ['ci', 1, '10m']);
});

test('leases show their holder', () => {
  const lease = object('Lease', 'node-1', { spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40 } });
  assert.deepEqual(cells('coordination.k8s.io', 'Lease', lease), ['node-1', 'node-1', '10m']);
  assert.deepEqual(cells('coordination.k8s.io', 'Lease', object('Lease', 'free', { spec: {} })), ['free', '', '10m']);
});
