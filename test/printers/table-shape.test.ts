import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/object.js';
import { defaultTable, printerFor, tableFor } from '../../src/apiserver/printers/index.js';
import { now, object } from './fixtures.js';

const builtIns: [string, string][] = [
  ['', 'Pod'], ['', 'PodTemplate'], ['', 'ReplicationController'], ['', 'Service'], ['', 'Endpoints'], ['', 'Namespace'],
  ['', 'Node'], ['', 'Event'], ['', 'Secret'], ['', 'ConfigMap'], ['', 'ServiceAccount'], ['', 'PersistentVolume'],
  ['', 'PersistentVolumeClaim'], ['', 'ResourceQuota'], ['apps', 'ReplicaSet'], ['apps', 'Deployment'], ['apps', 'StatefulSet'],
  ['apps', 'DaemonSet'], ['apps', 'ControllerRevision'], ['batch', 'Job'], ['batch', 'CronJob'],
  ['autoscaling', 'HorizontalPodAutoscaler'], ['policy', 'PodDisruptionBudget'], ['networking.k8s.io', 'Ingress'],
  ['networking.k8s.io', 'IngressClass'], ['networking.k8s.io', 'NetworkPolicy'], ['discovery.k8s.io', 'EndpointSlice'],
  ['events.k8s.io', 'Event'], ['storage.k8s.io', 'StorageClass'], ['coordination.k8s.io', 'Lease'],
  ['scheduling.k8s.io', 'PriorityClass'], ['rbac.authorization.k8s.io', 'RoleBinding'], ['rbac.authorization.k8s.io', 'ClusterRoleBinding'],
];

test('every built-in table fills one cell per column, even for a bare object', () => {
  for (const [group, kind] of builtIns) {
    assert.ok(printerFor({ group, kind }), `${kind}.${group} has a printer`);
    const bare: KubeObject = { kind, metadata: { name: 'x' } };
    const table = tableFor({ group, kind }, [bare], now);
    assert.equal(table.rows[0]?.cells.length, table.columnDefinitions.length, `${kind}.${group}`);
  }
});

test('column definitions carry name, type, format, description and priority like Kubernetes', () => {
  for (const [group, kind] of builtIns) {
    for (const c of tableFor({ group, kind }, [], now).columnDefinitions) {
      assert.deepEqual(Object.keys(c).sort(), ['description', 'format', 'name', 'priority', 'type'], `${kind} ${c.name}`);
      assert.ok(c.description.length > 0, `${kind} ${c.name} is described`);
      assert.ok(c.priority === 0 || c.priority === 1);
    }
  }
});

test('kinds without a printer get NAME and CREATED AT as an RFC 3339 time', () => {
  for (const [group, kind] of [['rbac.authorization.k8s.io', 'Role'], ['rbac.authorization.k8s.io', 'ClusterRole'], ['', 'LimitRange'], ['apiextensions.k8s.io', 'CustomResourceDefinition']] as const) {
    assert.equal(printerFor({ group, kind }), undefined);
    const table = tableFor({ group, kind }, [object(kind, 'admin', {}, { creationTimestamp: '2024-04-30T08:15:00Z' })], now);
    assert.deepEqual(table.columnDefinitions.map((c) => [c.name, c.type, c.format]), [['Name', 'string', 'name'], ['Created At', 'date', '']]);
    assert.deepEqual(table.rows[0]?.cells, ['admin', '2024-04-30T08:15:00Z']);
  }
});

test('the default table writes times in UTC without fractions, and Go zero time when missing', () => {
  const table = defaultTable([
    object('Role', 'a', {}, { creationTimestamp: '2024-04-30T10:15:00.5+02:00' }),
    { kind: 'Role', metadata: { name: 'b' } },
  ], now);
  assert.deepEqual(table.rows.map((r) => r.cells), [['a', '2024-04-30T08:15:00Z'], ['b', '0001-01-01T00:00:00Z']]);
});

test('rows keep the object they were printed from and their order', () => {
  const a = object('ConfigMap', 'a');
  const b = object('ConfigMap', 'b');
  const table = tableFor({ group: '', kind: 'ConfigMap' }, [a, b], now);
  assert.equal(table.rows[0]?.object, a);
  assert.equal(table.rows[1]?.object, b);
  assert.equal('conditions' in (table.rows[0] ?? {}), false);
});

test('tables do not share column definitions between calls', () => {
  const first = tableFor({ group: '', kind: 'Pod' }, [], now);
  const firstColumn = first.columnDefinitions[0];
  assert.ok(firstColumn);
  firstColumn.name = 'Changed';
  assert.equal(tableFor({ group: '', kind: 'Pod' }, [], now).columnDefinitions[0]?.name, 'Name');
});
