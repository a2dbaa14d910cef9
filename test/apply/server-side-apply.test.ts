import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, ApplyConflictError, BadRequestError } from '../../src/api/errors.js';
import type { KubeObject, ManagedFieldsEntry } from '../../src/api/object.js';
import { FieldSet, LAST_APPLIED_ANNOTATION, serverSideApply, updateManagedFields } from '../../src/api/apply/index.js';
import { configMapType, deploymentType } from './definitions-fixture.js';

const t0 = new Date('2024-05-01T10:00:00.250Z');
const t1 = new Date('2024-05-01T10:05:00Z');
const t2 = new Date('2024-05-01T10:10:00Z');

interface ContainerSpec {
  name: string;
  image?: string;
  args?: string[];
  ports?: Array<Record<string, unknown>>;
  env?: Array<Record<string, unknown>>;
}

function nginxDeployment(spec: { replicas?: number; containers?: ContainerSpec[]; labels?: Record<string, string> } = {}): KubeObject {
  const obj: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'nginx-deployment', ...(spec.labels ? { labels: spec.labels } : {}) },
    spec: {
      selector: { matchLabels: { app: 'nginx' } },
      ...(spec.replicas !== undefined ? { replicas: spec.replicas } : {}),
      template: {
        metadata: { labels: { app: 'nginx' } },
        spec: { containers: spec.containers ?? [{ name: 'nginx', image: 'nginx:1.14.2', ports: [{ containerPort: 80 }] }] },
      },
    },
  };
  return obj;
}

function entry(obj: KubeObject, manager: string): ManagedFieldsEntry | undefined {
  return obj.metadata.managedFields?.find((e) => e.manager === manager);
}

function spec(obj: KubeObject): Record<string, unknown> {
  return obj.spec as Record<string, unknown>;
}

function containers(obj: KubeObject): Array<Record<string, unknown>> {
  const template = spec(obj).template as { spec: { containers: Array<Record<string, unknown>> } };
  return template.spec.containers;
}

function conflictOf(fn: () => unknown): ApplyConflictError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ApplyConflictError, `expected an apply conflict, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an apply conflict');
}

test('creating by apply records exactly the fields a cluster records for kubectl apply --server-side', () => {
  const { object, managedFields } = serverSideApply(undefined, nginxDeployment({ replicas: 2 }), 'kubectl', false, deploymentType, t0);
  assert.deepEqual(managedFields, [
    {
      manager: 'kubectl',
      operation: 'Apply',
      apiVersion: 'apps/v1',
      time: '2024-05-01T10:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:spec': {
          'f:replicas': {},
          'f:selector': {},
          'f:template': {
            'f:metadata': { 'f:labels': { 'f:app': {} } },
            'f:spec': {
              'f:containers': {
                'k:{"name":"nginx"}': {
                  '.': {},
                  'f:image': {},
                  'f:name': {},
                  'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
                },
              },
            },
          },
        },
      },
    },
  ]);
  assert.deepEqual(Object.keys(managedFields[0] ?? {}), ['manager', 'operation', 'apiVersion', 'time', 'fieldsType', 'fieldsV1']);
  assert.deepEqual(object.metadata.managedFields, managedFields);
  assert.equal(spec(object).replicas, 2);
  assert.equal(object.metadata.name, 'nginx-deployment');
});

test('the ConfigMap of the server-side apply documentation gets the managedFields shown there', () => {
  const config = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'test-cm', namespace: 'default', labels: { 'test-label': 'test' } }, data: { key: 'some value' } };
  const { managedFields } = serverSideApply(undefined, config, 'kubectl', false, configMapType, new Date('2010-10-10T00:00:00Z'));
  assert.deepEqual(managedFields, [
    {
      manager: 'kubectl',
      operation: 'Apply',
      apiVersion: 'v1',
      time: '2010-10-10T00:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:metadata': { 'f:labels': { 'f:test-label': {} } }, 'f:data': { 'f:key': {} } },
    },
  ]);
});

test('re-applying without a field removes it from the object and from the manager', () => {
  const created = serverSideApply(undefined, nginxDeployment({ replicas: 2, labels: { team: 'web' } }), 'kubectl', false, deploymentType, t0).object;
  const { object } = serverSideApply(created, nginxDeployment({ containers: [{ name: 'nginx', image: 'nginx:1.14.2' }] }), 'kubectl', false, deploymentType, t1);
  assert.equal(spec(object).replicas, undefined);
  assert.equal(object.metadata.labels, undefined);
  assert.deepEqual(containers(object), [{ name: 'nginx', image: 'nginx:1.14.2' }]);
  const fields = entry(object, 'kubectl')?.fieldsV1 as Record<string, Record<string, unknown>>;
  assert.equal(fields['f:spec']?.['f:replicas'], undefined);
  assert.equal(fields['f:metadata'], undefined);
  assert.equal(entry(object, 'kubectl')?.time, '2024-05-01T10:05:00Z');
});

test('re-applying without a container removes the container', () => {
  const two = nginxDeployment({ containers: [{ name: 'nginx', image: 'nginx:1' }, { name: 'sidecar', image: 'sidecar:1' }] });
  const created = serverSideApply(undefined, two, 'kubectl', false, deploymentType, t0).object;
  const { object } = serverSideApply(created, nginxDeployment({ containers: [{ name: 'nginx', image: 'nginx:1' }] }), 'kubectl', false, deploymentType, t1);
  assert.deepEqual(
    containers(object).map((c) => c.name),
    ['nginx'],
  );
});

test('two appliers own different fields and keep each other\'s values', () => {
  const created = serverSideApply(undefined, nginxDeployment({ replicas: 2 }), 'deployer', false, deploymentType, t0).object;
  const labelled = serverSideApply(created, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nginx-deployment', labels: { team: 'web' } } }, 'labeller', false, deploymentType, t1).object;
  assert.deepEqual(labelled.metadata.labels, { team: 'web' });
  assert.deepEqual(entry(labelled, 'labeller')?.fieldsV1, { 'f:metadata': { 'f:labels': { 'f:team': {} } } });
  assert.ok((entry(labelled, 'deployer')?.fieldsV1 as Record<string, Record<string, unknown>>)['f:spec']?.['f:replicas']);

  // The deployer re-applies its own configuration: the label it never applied stays.
  const { object } = serverSideApply(labelled, nginxDeployment({ replicas: 3 }), 'deployer', false, deploymentType, t2);
  assert.deepEqual(object.metadata.labels, { team: 'web' });
  assert.equal(spec(object).replicas, 3);
  assert.deepEqual(
    object.metadata.managedFields?.map((e) => e.manager),
    ['labeller', 'deployer'],
  );
});

test('changing a field another manager owns is a conflict with the message kubectl shows', () => {
  const created = updateManagedFields(undefined, nginxDeployment({ replicas: 3 }), 'kubectl-client-side-apply', 'Update', deploymentType, t0);
  const err = conflictOf(() => serverSideApply(created, nginxDeployment({ replicas: 5 }), 'kubectl', false, deploymentType, t1));
  assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
  assert.deepEqual(err.toStatus(), {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
    reason: 'Conflict',
    details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' }] },
    code: 409,
  });
});

test('several conflicts are listed by manager, then field', () => {
  let obj = updateManagedFields(undefined, nginxDeployment({ replicas: 3 }), 'kubectl-create', 'Update', deploymentType, t0);
  const scaled = structuredClone(obj);
  spec(scaled).replicas = 4;
  containers(scaled)[0]!.image = 'nginx:1.15';
  obj = updateManagedFields(obj, scaled, 'kubectl-edit', 'Update', deploymentType, t1);
  const config = nginxDeployment({ replicas: 5, containers: [{ name: 'nginx', image: 'nginx:1.16', args: ['-g', 'daemon off;'] }] });
  spec(config).paused = false;
  const err = conflictOf(() => serverSideApply(obj, config, 'deployer', false, deploymentType, t2));
  assert.equal(err.message, 'Apply failed with 2 conflicts: conflicts with "kubectl-edit" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image');
  assert.deepEqual(
    err.details?.causes?.map((c) => c.field),
    ['.spec.replicas', '.spec.template.spec.containers[name="nginx"].image'],
  );
});

test('force takes ownership of the conflicting fields from the other manager', () => {
  const created = updateManagedFields(undefined, nginxDeployment({ replicas: 3 }), 'kubectl-client-side-apply', 'Update', deploymentType, t0);
  const { object } = serverSideApply(created, nginxDeployment({ replicas: 5 }), 'kubectl', true, deploymentType, t1);
  assert.equal(spec(object).replicas, 5);
  const csa = entry(object, 'kubectl-client-side-apply')?.fieldsV1 as Record<string, Record<string, unknown>>;
  assert.equal(csa['f:spec']?.['f:replicas'], undefined);
  assert.ok(csa['f:spec']?.['f:template'], 'the other manager keeps the fields it was not forced off');
  assert.ok((entry(object, 'kubectl')?.fieldsV1 as Record<string, Record<string, unknown>>)['f:spec']?.['f:replicas']);
  // Once owned, applying again needs no force.
  assert.doesNotThrow(() => serverSideApply(object, nginxDeployment({ replicas: 6 }), 'kubectl', false, deploymentType, t2));
});

test('an update by another manager takes the field, and the next apply conflicts with it', () => {
  const applied = serverSideApply(undefined, nginxDeployment({ replicas: 3 }), 'deployer', false, deploymentType, t0).object;
  const edited = structuredClone(applied);
  spec(edited).replicas = 4;
  const afterEdit = updateManagedFields(applied, edited, 'kubectl-edit', 'Update', deploymentType, t1);
  assert.deepEqual(entry(afterEdit, 'kubectl-edit')?.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
  assert.equal((entry(afterEdit, 'deployer')?.fieldsV1 as Record<string, Record<string, unknown>>)['f:spec']?.['f:replicas'], undefined);

  const err = conflictOf(() => serverSideApply(afterEdit, nginxDeployment({ replicas: 3 }), 'deployer', false, deploymentType, t2));
  assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas');
});

test('applying the value another manager set shares the field instead of conflicting', () => {
  const created = updateManagedFields(undefined, nginxDeployment({ replicas: 3 }), 'kubectl-create', 'Update', deploymentType, t0);
  const { object } = serverSideApply(created, nginxDeployment({ replicas: 3 }), 'deployer', false, deploymentType, t1);
  for (const manager of ['kubectl-create', 'deployer']) {
    assert.ok((entry(object, manager)?.fieldsV1 as Record<string, Record<string, unknown>>)['f:spec']?.['f:replicas'], manager);
  }
  // And a field still owned by someone else survives the applier dropping it.
  const { object: after } = serverSideApply(object, nginxDeployment(), 'deployer', false, deploymentType, t2);
  assert.equal(spec(after).replicas, 3);
});

test('an apply that changes nothing keeps the object and the entry time', () => {
  const created = serverSideApply(undefined, nginxDeployment({ replicas: 2 }), 'kubectl', false, deploymentType, t0);
  const again = serverSideApply(created.object, nginxDeployment({ replicas: 2 }), 'kubectl', false, deploymentType, t1);
  assert.deepEqual(again.object, created.object);
  assert.equal(entry(again.object, 'kubectl')?.time, '2024-05-01T10:00:00Z');
});

test('associative lists merge item by item and atomic lists are replaced', () => {
  const created = serverSideApply(
    undefined,
    nginxDeployment({ containers: [{ name: 'nginx', image: 'nginx:1', args: ['a', 'b'], env: [{ name: 'A', value: '1' }] }] }),
    'deployer',
    false,
    deploymentType,
    t0,
  ).object;
  const sidecar = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nginx-deployment' }, spec: { template: { spec: { containers: [{ name: 'nginx', env: [{ name: 'B', value: '2' }] }, { name: 'proxy', image: 'proxy:1' }] } } } };
  const { object } = serverSideApply(created, sidecar, 'injector', false, deploymentType, t1);
  assert.deepEqual(containers(object), [
    { name: 'nginx', image: 'nginx:1', args: ['a', 'b'], env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] },
    { name: 'proxy', image: 'proxy:1' },
  ]);
  const replaced = serverSideApply(object, nginxDeployment({ containers: [{ name: 'nginx', image: 'nginx:1', args: ['c'], env: [{ name: 'A', value: '1' }] }] }), 'deployer', false, deploymentType, t2).object;
  assert.deepEqual(containers(replaced)[0]?.args, ['c']);
});

test('finalizers merge as a set: each applier owns its own entries', () => {
  const base = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', finalizers: ['example.com/a'] } };
  const first = serverSideApply(undefined, base, 'one', false, configMapType, t0).object;
  const second = serverSideApply(first, { ...base, metadata: { name: 'cm', finalizers: ['example.com/b'] } }, 'two', false, configMapType, t1).object;
  assert.deepEqual(second.metadata.finalizers, ['example.com/a', 'example.com/b']);
  const dropped = serverSideApply(second, { ...base, metadata: { name: 'cm' } }, 'one', false, configMapType, t2).object;
  assert.deepEqual(dropped.metadata.finalizers, ['example.com/b']);
});

test('an object written before managedFields existed is owned by "before-first-apply"', () => {
  const legacy = nginxDeployment({ replicas: 3 });
  const err = conflictOf(() => serverSideApply(legacy, nginxDeployment({ replicas: 4 }), 'deployer', false, deploymentType, t0));
  assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas');
  const { object } = serverSideApply(legacy, nginxDeployment({ replicas: 3 }), 'deployer', false, deploymentType, t0);
  assert.deepEqual(
    object.metadata.managedFields?.map((e) => [e.manager, e.operation]),
    [
      ['deployer', 'Apply'],
      ['before-first-apply', 'Update'],
    ],
  );
});

test('kubectl taking over from client-side apply is not a conflict on fields still as last applied', () => {
  const lastApplied = nginxDeployment({ replicas: 3 });
  const live = nginxDeployment({ replicas: 3 });
  live.metadata.annotations = { [LAST_APPLIED_ANNOTATION]: JSON.stringify(lastApplied) };
  const created = updateManagedFields(undefined, live, 'kubectl-client-side-apply', 'Update', deploymentType, t0);

  const { object } = serverSideApply(created, nginxDeployment({ replicas: 5 }), 'kubectl', false, deploymentType, t1);
  assert.equal(spec(object).replicas, 5);
  const annotation = JSON.parse(object.metadata.annotations?.[LAST_APPLIED_ANNOTATION] ?? '{}') as KubeObject;
  assert.equal(spec(annotation).replicas, 5, 'the last-applied annotation follows what kubectl applies');

  // Another manager gets no such pass.
  assert.throws(() => serverSideApply(created, nginxDeployment({ replicas: 5 }), 'deployer', false, deploymentType, t1), ApplyConflictError);
});

test('a field changed since client-side apply still conflicts for kubectl', () => {
  const live = nginxDeployment({ replicas: 7 });
  live.metadata.annotations = { [LAST_APPLIED_ANNOTATION]: JSON.stringify(nginxDeployment({ replicas: 3 })) };
  const created = updateManagedFields(undefined, live, 'kubectl-client-side-apply', 'Update', deploymentType, t0);
  const err = conflictOf(() => serverSideApply(created, nginxDeployment({ replicas: 5 }), 'kubectl', false, deploymentType, t1));
  assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
});

test('configurations the merge cannot use are rejected as bad requests', () => {
  const withManagedFields = nginxDeployment();
  withManagedFields.metadata.managedFields = [];
  assert.throws(() => serverSideApply(undefined, withManagedFields, 'kubectl', false, deploymentType, t0), { name: 'BadRequestError', message: 'metadata.managedFields must be nil' });

  const duplicated = nginxDeployment({ containers: [{ name: 'nginx' }, { name: 'nginx' }] });
  assert.throws(() => serverSideApply(undefined, duplicated, 'kubectl', false, deploymentType, t0), (err: unknown) => {
    assert.ok(err instanceof BadRequestError);
    assert.equal(err.message, 'failed to create typed patch object (/nginx-deployment; apps/v1, Kind=Deployment): .spec.template.spec.containers: duplicate entries for key [name="nginx"]');
    return true;
  });

  const notAMap = nginxDeployment({ containers: ['nginx' as unknown as ContainerSpec] });
  assert.throws(() => serverSideApply(undefined, notAMap, 'kubectl', false, deploymentType, t0), /containers: element 0: associative list with keys may not have non-map elements$/);

  const wrongKind = { ...nginxDeployment(), kind: 'StatefulSet' };
  assert.throws(() => serverSideApply(undefined, wrongKind, 'kubectl', false, deploymentType, t0, { expectedKind: { group: 'apps', version: 'v1', kind: 'Deployment' } }), {
    message: 'invalid object type: apps/v1, Kind=StatefulSet',
  });
});

test('status is not owned when the strategy resets it', () => {
  const config = { ...nginxDeployment({ replicas: 1 }), status: { replicas: 9 } };
  const { managedFields } = serverSideApply(undefined, config, 'kubectl', false, deploymentType, t0, { ignoredFields: FieldSet.ofFields(['status']) });
  assert.equal((managedFields[0]?.fieldsV1 as Record<string, unknown>)['f:status'], undefined);
});

test('applies to the status subresource are recorded with their subresource', () => {
  const created = serverSideApply(undefined, nginxDeployment(), 'kubectl', false, deploymentType, t0).object;
  const { managedFields } = serverSideApply(created, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nginx-deployment' }, status: { readyReplicas: 1 } }, 'controller', false, deploymentType, t1, { subresource: 'status' });
  assert.deepEqual(managedFields.find((e) => e.manager === 'controller'), {
    manager: 'controller',
    operation: 'Apply',
    apiVersion: 'apps/v1',
    time: '2024-05-01T10:05:00Z',
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:status': { 'f:readyReplicas': {} } },
    subresource: 'status',
  });
});

test('the conflict error is an API error kubectl understands', () => {
  const created = updateManagedFields(undefined, nginxDeployment({ replicas: 3 }), 'a', 'Update', deploymentType, t0);
  const err = conflictOf(() => serverSideApply(created, nginxDeployment({ replicas: 4 }), 'b', false, deploymentType, t1));
  assert.ok(err instanceof ApiError);
  assert.equal(err.code, 409);
});
