import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/object.js';
import { tableFor } from '../../src/apiserver/printers/index.js';
import { ago, now, object, second } from './fixtures.js';

function cells(group: string, kind: string, obj: KubeObject): unknown[] {
  return tableFor({ group, kind }, [obj], now).rows[0]?.cells ?? [];
}

test('a persistent volume shows capacity, short access modes, policy, phase, claim and class', () => {
  const pv = object('PersistentVolume', 'pv-1', {
    spec: {
      capacity: { storage: '10Gi' },
      accessModes: ['ReadWriteMany', 'ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Retain',
      claimRef: { namespace: 'default', name: 'data' },
      storageClassName: 'local',
      volumeMode: 'Filesystem',
    },
    status: { phase: 'Bound' },
  });
  assert.deepEqual(cells('', 'PersistentVolume', pv), ['pv-1', '10Gi', 'RWO,RWX', 'Retain', 'Bound', 'default/data', 'local', '<unset>', '', '10m', 'Filesystem']);
  const deleting = object('PersistentVolume', 'pv-2', { spec: {}, status: { phase: 'Released', reason: 'Oops' } }, { deletionTimestamp: ago(second) });
  assert.deepEqual(cells('', 'PersistentVolume', deleting), ['pv-2', '0', '', '', 'Terminating', '', '', '<unset>', 'Oops', '10m', '<unset>']);
});

test('a claim shows capacity and access modes only once bound', () => {
  const pending = object('PersistentVolumeClaim', 'data', {
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard' },
    status: { phase: 'Pending' },
  });
  assert.deepEqual(cells('', 'PersistentVolumeClaim', pending), ['data', 'Pending', '', '', '', 'standard', '<unset>', '10m', '<unset>']);
  const bound = object('PersistentVolumeClaim', 'data', {
    spec: { volumeName: 'pv-1', storageClassName: 'standard', volumeMode: 'Filesystem' },
    status: { phase: 'Bound', capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOncePod'] },
  }, { annotations: { 'volume.beta.kubernetes.io/storage-class': 'legacy' } });
  assert.deepEqual(cells('', 'PersistentVolumeClaim', bound), ['data', 'Bound', 'pv-1', '1Gi', 'RWOP', 'legacy', '<unset>', '10m', 'Filesystem']);
});

test('the default storage class is marked (default) and unset policies show their defaults', () => {
  const sc = object('StorageClass', 'local-path', { provisioner: 'nami.io/local-path' }, {
    annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
  });
  assert.deepEqual(cells('storage.k8s.io', 'StorageClass', sc), ['local-path (default)', 'nami.io/local-path', 'Delete', 'Immediate', false, '10m']);
  const other = object('StorageClass', 'fast', {
    provisioner: 'csi.example.com', reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true,
  });
  assert.deepEqual(cells('storage.k8s.io', 'StorageClass', other), ['fast', 'csi.example.com', 'Retain', 'WaitForFirstConsumer', true, '10m']);
});

function hpa(spec: Record<string, unknown>, status: Record<string, unknown> = {}, apiVersion = 'autoscaling/v2'): KubeObject {
  return { ...object('HorizontalPodAutoscaler', 'web', { spec, status }), apiVersion };
}

const target = { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 10 };

test('an autoscaler shows its reference, targets as current/target, and replica bounds', () => {
  const h = hpa({
    ...target,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
  }, { currentReplicas: 3, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 45, averageValue: '120m' } } }] });
  assert.deepEqual(cells('autoscaling', 'HorizontalPodAutoscaler', h), ['web', 'Deployment/web', 'cpu: 45%/80%', '1', 10, 3, '10m']);
});

test('autoscaler targets without metrics yet show <unknown>, and more than two are summarised', () => {
  const h = hpa({
    ...target,
    minReplicas: null,
    metrics: [
      { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } } },
      { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '1k' } } },
      { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'Value', value: '30' } } },
    ],
  });
  assert.deepEqual(cells('autoscaling', 'HorizontalPodAutoscaler', h).slice(2, 4), [
    'memory: <unknown>/500Mi, <unknown>/1k + 1 more...', '<unset>',
  ]);
});

test('object and external targets show (avg) for average values', () => {
  const h = hpa({
    ...target,
    metrics: [
      { type: 'Object', object: { target: { type: 'AverageValue', averageValue: '10' } } },
      { type: 'External', external: { target: { type: 'Value', value: '30' } } },
    ],
  }, { currentMetrics: [{ type: 'Object', object: { current: { averageValue: '4' } } }, { type: 'External', external: { current: { value: '12' } } }] });
  assert.equal(cells('autoscaling', 'HorizontalPodAutoscaler', h)[2], '4/10 (avg), 12/30');
  assert.equal(cells('autoscaling', 'HorizontalPodAutoscaler', hpa({ ...target, metrics: [] }))[2], '<none>');
});

test('an autoscaling/v1 autoscaler shows its CPU target, 80% when it names none', () => {
  const v1 = hpa({ ...target, targetCPUUtilizationPercentage: 50 }, { currentReplicas: 2, currentCPUUtilizationPercentage: 20 }, 'autoscaling/v1');
  assert.equal(cells('autoscaling', 'HorizontalPodAutoscaler', v1)[2], 'cpu: 20%/50%');
  const bare = hpa({ ...target }, {}, 'autoscaling/v1');
  assert.equal(cells('autoscaling', 'HorizontalPodAutoscaler', bare)[2], 'cpu: <unknown>/80%');
});

test('a disruption budget shows min available or max unavailable and allowed disruptions', () => {
  const pdb = object('PodDisruptionBudget', 'web', { spec: { minAvailable: 2 }, status: { disruptionsAllowed: 1 } });
  assert.deepEqual(cells('policy', 'PodDisruptionBudget', pdb), ['web', '2', 'N/A', 1, '10m']);
  const pct = object('PodDisruptionBudget', 'db', { spec: { maxUnavailable: '25%' }, status: {} });
  assert.deepEqual(cells('policy', 'PodDisruptionBudget', pct), ['db', 'N/A', '25%', 0, '10m']);
});

test('a priority class shows its value, global default and preemption policy', () => {
  const pc = object('PriorityClass', 'system-cluster-critical', { value: 2000000000, globalDefault: false, preemptionPolicy: 'PreemptLowerPriority' });
  assert.deepEqual(cells('scheduling.k8s.io', 'PriorityClass', pc), ['system-cluster-critical', 2000000000, false, '10m', 'PreemptLowerPriority']);
});

test('a resource quota splits used/hard into requests and limits, sorted by resource', () => {
  const quota = object('ResourceQuota', 'compute', {
    status: {
      hard: { 'requests.cpu': '2', pods: '10', 'limits.memory': '4Gi', 'requests.memory': '2Gi', 'limits.cpu': '4' },
      used: { 'requests.cpu': '500m', pods: '3', 'limits.cpu': '1', 'requests.memory': '256Mi' },
    },
  });
  assert.deepEqual(cells('', 'ResourceQuota', quota), [
    'compute', 'pods: 3/10, requests.cpu: 500m/2, requests.memory: 256Mi/2Gi', 'limits.cpu: 1/4, limits.memory: 0/4Gi', '10m',
  ]);
});

test('role bindings show the role and, wide, users, groups and service accounts', () => {
  const rb = object('RoleBinding', 'edit', {
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
    subjects: [
      { kind: 'User', name: 'alice' },
      { kind: 'Group', name: 'devs' },
      { kind: 'ServiceAccount', name: 'ci', namespace: 'tools' },
      { kind: 'User', name: 'bob' },
    ],
  });
  assert.deepEqual(cells('rbac.authorization.k8s.io', 'RoleBinding', rb), ['edit', 'ClusterRole/edit', '10m', 'alice, bob', 'devs', 'tools/ci']);
  const defs = tableFor({ group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding' }, [], now).columnDefinitions;
  assert.deepEqual(defs.map((c) => [c.name, c.priority]), [['Name', 0], ['Role', 0], ['Age', 0], ['Users', 1], ['Groups', 1], ['ServiceAccounts', 1]]);
  assert.equal(defs[3]?.description, 'Users in the clusterRoleBinding');
});
