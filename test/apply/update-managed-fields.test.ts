import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, ManagedFieldsEntry } from '../../src/api/object.js';
import { FieldSet, fieldManagerFromUserAgent, managedFieldsChangedBy, typeInfoFor, updateManagedFields } from '../../src/api/apply/index.js';
import { definitions, deploymentType } from './definitions-fixture.js';

const t0 = new Date('2024-05-01T10:00:00Z');
const t1 = new Date('2024-05-01T10:05:00Z');
const t2 = new Date('2024-05-01T10:10:00Z');
const statusResets = { ignoredFields: FieldSet.ofFields(['status']) };

/** A Deployment as kube-apiserver stores it after `kubectl apply` (client-side) and defaulting. */
function defaultedNginx(): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'nginx-deployment',
      namespace: 'default',
      labels: { app: 'nginx' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"apps/v1","kind":"Deployment"}\n' },
    },
    spec: {
      progressDeadlineSeconds: 600,
      replicas: 3,
      revisionHistoryLimit: 10,
      selector: { matchLabels: { app: 'nginx' } },
      strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' }, type: 'RollingUpdate' },
      template: {
        metadata: { labels: { app: 'nginx' } },
        spec: {
          containers: [
            {
              image: 'nginx:1.14.2',
              imagePullPolicy: 'IfNotPresent',
              name: 'nginx',
              ports: [{ containerPort: 80, protocol: 'TCP' }],
              resources: {},
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
            },
          ],
          dnsPolicy: 'ClusterFirst',
          restartPolicy: 'Always',
          schedulerName: 'default-scheduler',
          securityContext: {},
          terminationGracePeriodSeconds: 30,
        },
      },
    },
    status: {},
  };
}

function entries(obj: KubeObject): ManagedFieldsEntry[] {
  return obj.metadata.managedFields ?? [];
}

function entry(obj: KubeObject, manager: string): ManagedFieldsEntry | undefined {
  return entries(obj).find((e) => e.manager === manager);
}

function spec(obj: KubeObject): Record<string, unknown> {
  return obj.spec as Record<string, unknown>;
}

test('a create records what a cluster records for kubectl client-side apply of a Deployment', () => {
  const stored = updateManagedFields(undefined, defaultedNginx(), 'kubectl-client-side-apply', 'Update', deploymentType, t0, undefined, statusResets);
  assert.deepEqual(entries(stored), [
    {
      manager: 'kubectl-client-side-apply',
      operation: 'Update',
      apiVersion: 'apps/v1',
      time: '2024-05-01T10:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': {
          'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} },
          'f:labels': { '.': {}, 'f:app': {} },
        },
        'f:spec': {
          'f:progressDeadlineSeconds': {},
          'f:replicas': {},
          'f:revisionHistoryLimit': {},
          'f:selector': {},
          'f:strategy': { 'f:rollingUpdate': { '.': {}, 'f:maxSurge': {}, 'f:maxUnavailable': {} }, 'f:type': {} },
          'f:template': {
            'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
            'f:spec': {
              'f:containers': {
                'k:{"name":"nginx"}': {
                  '.': {},
                  'f:image': {},
                  'f:imagePullPolicy': {},
                  'f:name': {},
                  'f:ports': { '.': {}, 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} } },
                  'f:resources': {},
                  'f:terminationMessagePath': {},
                  'f:terminationMessagePolicy': {},
                },
              },
              'f:dnsPolicy': {},
              'f:restartPolicy': {},
              'f:schedulerName': {},
              'f:securityContext': {},
              'f:terminationGracePeriodSeconds': {},
            },
          },
        },
      },
    },
  ]);
});

test('a custom resource created by update owns its maps themselves', () => {
  const schemaless = typeInfoFor(definitions, undefined);
  const cr: KubeObject = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 2 } };
  const stored = updateManagedFields(undefined, cr, 'kubectl-create', 'Update', schemaless, t0);
  assert.deepEqual(entry(stored, 'kubectl-create')?.fieldsV1, { 'f:spec': { '.': {}, 'f:size': {} } });
});

test('an update gives the writer the fields it changed and takes them from the previous owner', () => {
  const created = updateManagedFields(undefined, defaultedNginx(), 'kubectl-client-side-apply', 'Update', deploymentType, t0, undefined, statusResets);
  const scaled = structuredClone(created);
  spec(scaled).replicas = 5;
  const stored = updateManagedFields(created, scaled, 'kubectl-scale', 'Update', deploymentType, t1, undefined, statusResets);
  assert.deepEqual(entry(stored, 'kubectl-scale'), {
    manager: 'kubectl-scale',
    operation: 'Update',
    apiVersion: 'apps/v1',
    time: '2024-05-01T10:05:00Z',
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:spec': { 'f:replicas': {} } },
  });
  const csa = entry(stored, 'kubectl-client-side-apply');
  assert.equal((csa?.fieldsV1 as Record<string, Record<string, unknown>>)['f:spec']?.['f:replicas'], undefined);
  assert.equal(csa?.time, '2024-05-01T10:00:00Z', 'losing a field does not touch the loser\'s time');
  assert.deepEqual(
    entries(stored).map((e) => e.manager),
    ['kubectl-client-side-apply', 'kubectl-scale'],
  );
});

test('removing a field takes it from its owner, and an owner left with nothing is dropped', () => {
  const created = updateManagedFields(undefined, defaultedNginx(), 'creator', 'Update', deploymentType, t0);
  const labelled = structuredClone(created);
  labelled.metadata.labels = { app: 'nginx', team: 'web' };
  const withLabel = updateManagedFields(created, labelled, 'labeller', 'Update', deploymentType, t1);
  assert.deepEqual(entry(withLabel, 'labeller')?.fieldsV1, { 'f:metadata': { 'f:labels': { 'f:team': {} } } });

  const unlabelled = structuredClone(withLabel);
  unlabelled.metadata.labels = { app: 'nginx' };
  const stored = updateManagedFields(withLabel, unlabelled, 'creator', 'Update', deploymentType, t2);
  assert.equal(entry(stored, 'labeller'), undefined);
});

test('an update that changes nothing keeps every entry as it was', () => {
  const created = updateManagedFields(undefined, defaultedNginx(), 'creator', 'Update', deploymentType, t0);
  const stored = updateManagedFields(created, structuredClone(created), 'someone-else', 'Update', deploymentType, t1);
  assert.deepEqual(entries(stored), entries(created));
});

test('an object stored before managedFields existed is not tracked by later updates', () => {
  const legacy = defaultedNginx();
  const scaled = structuredClone(legacy);
  spec(scaled).replicas = 4;
  const stored = updateManagedFields(legacy, scaled, 'kubectl-scale', 'Update', deploymentType, t1);
  assert.equal(stored.metadata.managedFields, undefined);
  assert.equal(spec(stored).replicas, 4);
});

test('managedFields a client leaves out are kept, and ones it sends replace the stored ones', () => {
  const created = updateManagedFields(undefined, defaultedNginx(), 'creator', 'Update', deploymentType, t0);
  const withoutFields = structuredClone(created);
  delete withoutFields.metadata.managedFields;
  spec(withoutFields).paused = true;
  const kept = updateManagedFields(created, withoutFields, 'pauser', 'Update', deploymentType, t1);
  assert.ok(entry(kept, 'creator'));
  assert.ok(entry(kept, 'pauser'));

  const replaced = structuredClone(kept);
  replaced.metadata.managedFields = [{ manager: 'someone', operation: 'Update', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:paused': {} } } }];
  const stored = updateManagedFields(kept, replaced, 'pauser', 'Update', deploymentType, t2);
  assert.deepEqual(
    entries(stored).map((e) => e.manager),
    ['someone'],
  );
});

test('sending managedFields as [] or [{}] clears them, and the object stays untracked', () => {
  const created = updateManagedFields(undefined, defaultedNginx(), 'creator', 'Update', deploymentType, t0);
  for (const reset of [[], [{}]]) {
    const cleared = structuredClone(created);
    cleared.metadata.managedFields = reset;
    const stored = updateManagedFields(created, cleared, 'editor', 'Update', deploymentType, t1);
    assert.equal(stored.metadata.managedFields, undefined, JSON.stringify(reset));
    const scaled = structuredClone(stored);
    spec(scaled).replicas = 9;
    assert.equal(updateManagedFields(stored, scaled, 'kubectl-scale', 'Update', deploymentType, t2).metadata.managedFields, undefined);
  }
});

test('a status update starts from the stored managedFields whatever the request carries', () => {
  const created = updateManagedFields(undefined, defaultedNginx(), 'creator', 'Update', deploymentType, t0);
  const withStatus = structuredClone(created);
  withStatus.metadata.managedFields = [];
  withStatus.status = { replicas: 3 };
  const stored = updateManagedFields(created, withStatus, 'controller', 'Update', deploymentType, t1, 'status');
  assert.deepEqual(
    entries(stored).map((e) => [e.manager, e.subresource]),
    [
      ['creator', undefined],
      ['controller', 'status'],
    ],
  );
});

test('status updates are recorded apart from the same manager\'s main-resource updates', () => {
  const created = updateManagedFields(undefined, defaultedNginx(), 'controller', 'Update', deploymentType, t0, undefined, statusResets);
  const withStatus = structuredClone(created);
  withStatus.status = { replicas: 3, readyReplicas: 3 };
  const stored = updateManagedFields(created, withStatus, 'controller', 'Update', deploymentType, t1, 'status', { ignoredFields: FieldSet.ofFields(['spec'], ['metadata', 'labels']) });
  const statusEntry = entries(stored).find((e) => e.subresource === 'status');
  assert.deepEqual(statusEntry, {
    manager: 'controller',
    operation: 'Update',
    apiVersion: 'apps/v1',
    time: '2024-05-01T10:05:00Z',
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:status': { 'f:readyReplicas': {}, 'f:replicas': {} } },
    subresource: 'status',
  });
  assert.equal(entries(stored).length, 2);
});

test('updates through different API versions are separate entries', () => {
  const created = updateManagedFields(undefined, defaultedNginx(), 'tool', 'Update', deploymentType, t0);
  const older = { ...structuredClone(created), apiVersion: 'apps/v1beta2' };
  spec(older).paused = true;
  const stored = updateManagedFields(created, older, 'tool', 'Update', deploymentType, t1);
  assert.deepEqual(
    entries(stored).map((e) => [e.manager, e.apiVersion]),
    [
      ['tool', 'apps/v1'],
      ['tool', 'apps/v1beta2'],
    ],
  );
});

test('beyond ten updaters the oldest are merged into "ancient-changes"', () => {
  let obj = updateManagedFields(undefined, defaultedNginx(), 'creator', 'Update', deploymentType, new Date('2024-05-01T00:00:00Z'));
  for (let i = 1; i <= 11; i++) {
    const next = structuredClone(obj);
    next.metadata.labels = { ...next.metadata.labels, [`l${i}`]: 'x' };
    obj = updateManagedFields(obj, next, `writer-${i}`, 'Update', deploymentType, new Date(Date.UTC(2024, 4, 1, 0, i)));
  }
  const managers = entries(obj).map((e) => e.manager);
  assert.equal(managers.length, 10);
  assert.ok(managers.includes('ancient-changes'));
  assert.ok(!managers.includes('creator') && !managers.includes('writer-1') && !managers.includes('writer-2'));
  const ancient = entry(obj, 'ancient-changes')?.fieldsV1 as Record<string, Record<string, Record<string, unknown>>>;
  assert.ok(ancient['f:metadata']?.['f:labels']?.['f:l1'] && ancient['f:metadata']?.['f:labels']?.['f:l2']);
  assert.ok(ancient['f:spec']?.['f:replicas'], 'the creator\'s fields are kept in the bucket');
});

test('updates never fail: unreadable managedFields leave the object untracked', () => {
  const created = updateManagedFields(undefined, defaultedNginx(), 'creator', 'Update', deploymentType, t0);
  const broken = structuredClone(created);
  broken.metadata.managedFields = [{ manager: 'x', operation: 'Delete' as 'Update', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: {} }];
  const stillBroken = { ...structuredClone(broken) };
  const stored = updateManagedFields(broken, stillBroken, 'writer', 'Update', deploymentType, t1);
  assert.equal(stored.metadata.managedFields, undefined);
  // The object passed in is not modified.
  assert.equal(broken.metadata.managedFields?.length, 1);

  // Should ownership not be computable (here: no apiVersion), the stored entries are kept.
  const versionless = structuredClone(created);
  delete versionless.apiVersion;
  delete versionless.metadata.managedFields;
  spec(versionless).replicas = 1;
  assert.deepEqual(updateManagedFields({ ...created, apiVersion: undefined }, versionless, 'writer', 'Update', deploymentType, t1).metadata.managedFields, created.metadata.managedFields);
});

test('a request without fieldManager is managed under its user agent\'s name', () => {
  assert.equal(fieldManagerFromUserAgent('kubectl/v1.33.0 (linux/amd64) kubernetes/abcdef'), 'kubectl');
  assert.equal(fieldManagerFromUserAgent('kube-controller-manager/v1.33.0 (linux/amd64) kubernetes/abcdef/deployment-controller'), 'kube-controller-manager');
  assert.equal(fieldManagerFromUserAgent('a\u0000b'), 'ab');
  assert.equal(fieldManagerFromUserAgent('x'.repeat(200)).length, 128);
});

test('a write that changes only the ownership records counts as a change; one that only moves their times does not', () => {
  const stored: ManagedFieldsEntry[] = [
    { manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'apps/v1', time: '2024-05-01T10:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } },
    { manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1', time: '2024-05-01T10:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:paused': {} } } },
  ];
  // What kubectl apply --server-side sends to take over client-side apply's fields.
  const moved: ManagedFieldsEntry[] = [{ ...stored[1]!, fieldsV1: { 'f:spec': { 'f:paused': {}, 'f:replicas': {} } } }];
  assert.equal(managedFieldsChangedBy(moved, stored), true);
  assert.equal(managedFieldsChangedBy(stored.map((e) => ({ ...e, time: '2024-05-01T11:00:00Z' })), stored), false);
  assert.equal(managedFieldsChangedBy(undefined, stored), false, 'left out: the stored ones are kept');
  assert.equal(managedFieldsChangedBy([{}], stored), true, 'a reset of stored records');
  assert.equal(managedFieldsChangedBy([], undefined), false, 'a reset of none');
});
