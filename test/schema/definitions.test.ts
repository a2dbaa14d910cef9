import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { definitionNameForKind, loadDefinitions, resolveRef, schemaAt } from '../../src/api/schema/index.js';
import type { Schema } from '../../src/api/schema/index.js';

const defs = loadDefinitions();
const prop = (def: string, name: string): Schema => {
  const s = defs[def]?.properties?.[name];
  assert.ok(s, `${def}.${name} exists`);
  return s;
};

const SERVED_KINDS: Array<[group: string, version: string, kinds: string[]]> = [
  ['', 'v1', ['Namespace', 'Pod', 'Binding', 'Service', 'Endpoints', 'ConfigMap', 'Secret', 'ServiceAccount', 'Node', 'Event', 'PersistentVolume', 'PersistentVolumeClaim', 'ReplicationController', 'ResourceQuota', 'LimitRange', 'PodTemplate', 'Status']],
  ['policy', 'v1', ['Eviction', 'PodDisruptionBudget']],
  ['apps', 'v1', ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'ControllerRevision']],
  ['autoscaling', 'v1', ['Scale', 'HorizontalPodAutoscaler']],
  ['autoscaling', 'v2', ['HorizontalPodAutoscaler']],
  ['batch', 'v1', ['Job', 'CronJob']],
  ['networking.k8s.io', 'v1', ['Ingress', 'IngressClass', 'NetworkPolicy']],
  ['coordination.k8s.io', 'v1', ['Lease']],
  ['discovery.k8s.io', 'v1', ['EndpointSlice']],
  ['rbac.authorization.k8s.io', 'v1', ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']],
  ['storage.k8s.io', 'v1', ['StorageClass']],
  ['events.k8s.io', 'v1', ['Event']],
  ['scheduling.k8s.io', 'v1', ['PriorityClass']],
  ['apiextensions.k8s.io', 'v1', ['CustomResourceDefinition']],
  ['authentication.k8s.io', 'v1', ['TokenRequest', 'TokenReview', 'SelfSubjectReview']],
  ['authorization.k8s.io', 'v1', ['SelfSubjectAccessReview', 'SubjectAccessReview', 'LocalSubjectAccessReview', 'SelfSubjectRulesReview']],
];
// Kinds that are only ever sent or returned one at a time.
const NO_LIST = new Set(['Binding', 'Eviction', 'Scale', 'Status', 'TokenRequest', 'TokenReview', 'SelfSubjectReview', 'SelfSubjectAccessReview', 'SubjectAccessReview', 'LocalSubjectAccessReview', 'SelfSubjectRulesReview']);

describe('built-in definitions', () => {
  it('have a definition for every kind Nami serves, and for its list, found by group, version and kind', () => {
    for (const [group, version, kinds] of SERVED_KINDS) {
      for (const kind of kinds) {
        const name = definitionNameForKind({ group, version, kind });
        assert.ok(name, `${group}/${version} ${kind}`);
        assert.ok(name.endsWith(`.${version}.${kind}`), name);
        if (!NO_LIST.has(kind)) assert.ok(definitionNameForKind({ group, version, kind: `${kind}List` }), `${group}/${version} ${kind}List`);
      }
    }
    assert.equal(definitionNameForKind({ group: 'apps', version: 'v1', kind: 'Nope' }), undefined);
  });

  it('name core and autoscaling kinds the way Kubernetes 1.33 does', () => {
    assert.equal(definitionNameForKind({ group: '', version: 'v1', kind: 'Pod' }), 'io.k8s.api.core.v1.Pod');
    assert.equal(definitionNameForKind({ group: 'events.k8s.io', version: 'v1', kind: 'Event' }), 'io.k8s.api.events.v1.Event');
    assert.equal(definitionNameForKind({ group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler' }), 'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler');
    assert.equal(definitionNameForKind({ group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition' }), 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition');
    assert.equal(definitionNameForKind({ group: 'apps', version: 'v1', kind: 'DeleteOptions' }), 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions');
    assert.equal(definitionNameForKind({ group: '', version: 'v1', kind: 'WatchEvent' }), 'io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent');
  });

  it('have every reference resolve and no beta-era names left', () => {
    for (const [name, schema] of Object.entries(defs)) {
      assert.doesNotMatch(name, /v1beta|v2beta|extensions\.v1beta1|kubernetes\.pkg/, name);
      JSON.stringify(schema, (k, v: unknown) => {
        if (k === '$ref' && typeof v === 'string') assert.ok(resolveRef(v), `${name} -> ${v}`);
        return v;
      });
    }
  });

  it('include the fields Kubernetes added after 1.14', () => {
    for (const [def, field] of [
      ['io.k8s.api.batch.v1.CronJobSpec', 'timeZone'],
      ['io.k8s.api.batch.v1.JobSpec', 'podFailurePolicy'],
      ['io.k8s.api.batch.v1.JobSpec', 'completionMode'],
      ['io.k8s.api.batch.v1.JobSpec', 'suspend'],
      ['io.k8s.api.batch.v1.JobSpec', 'ttlSecondsAfterFinished'],
      ['io.k8s.api.core.v1.Container', 'startupProbe'],
      ['io.k8s.api.core.v1.Container', 'restartPolicy'],
      ['io.k8s.api.core.v1.PodSpec', 'ephemeralContainers'],
      ['io.k8s.api.core.v1.PodSpec', 'topologySpreadConstraints'],
      ['io.k8s.api.core.v1.ServiceSpec', 'ipFamilies'],
      ['io.k8s.api.core.v1.ServiceSpec', 'ipFamilyPolicy'],
      ['io.k8s.api.core.v1.ServiceSpec', 'internalTrafficPolicy'],
      ['io.k8s.api.networking.v1.IngressSpec', 'ingressClassName'],
      ['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'managedFields'],
      ['io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionVersion', 'schema'],
    ] as const) {
      assert.ok(prop(def, field).description, `${def}.${field} has a description`);
    }
    assert.equal(defs['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']?.properties?.clusterName, undefined);
    assert.equal(defs['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']?.properties?.initializers, undefined);
  });

  it('carry the list and map semantics server-side apply uses', () => {
    const containers = prop('io.k8s.api.core.v1.PodSpec', 'containers');
    assert.equal(containers['x-kubernetes-list-type'], 'map');
    assert.deepEqual(containers['x-kubernetes-list-map-keys'], ['name']);
    assert.deepEqual(prop('io.k8s.api.core.v1.Container', 'ports')['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
    assert.deepEqual(prop('io.k8s.api.core.v1.ServiceSpec', 'ports')['x-kubernetes-list-map-keys'], ['port', 'protocol']);
    assert.deepEqual(prop('io.k8s.api.core.v1.PodSpec', 'topologySpreadConstraints')['x-kubernetes-list-map-keys'], ['topologyKey', 'whenUnsatisfiable']);
    assert.equal(prop('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'finalizers')['x-kubernetes-list-type'], 'set');
    assert.equal(prop('io.k8s.api.core.v1.Container', 'args')['x-kubernetes-list-type'], 'atomic');
    // Job conditions merge under strategic merge patch but are atomic for apply.
    const jobConditions = prop('io.k8s.api.batch.v1.JobStatus', 'conditions');
    assert.equal(jobConditions['x-kubernetes-list-type'], 'atomic');
    assert.equal(jobConditions['x-kubernetes-patch-strategy'], 'merge');
    assert.equal(prop('io.k8s.api.core.v1.PodSpec', 'nodeSelector')['x-kubernetes-map-type'], 'atomic');
    assert.equal(defs['io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector']?.['x-kubernetes-map-type'], 'atomic');
    assert.equal(defs['io.k8s.api.core.v1.ObjectReference']?.['x-kubernetes-map-type'], 'atomic');
    assert.equal(prop('io.k8s.api.core.v1.PersistentVolumeSpec', 'claimRef')['x-kubernetes-map-type'], 'granular');
  });

  it('carry the patch metadata strategic merge patch uses', () => {
    const volumes = prop('io.k8s.api.core.v1.PodSpec', 'volumes');
    assert.equal(volumes['x-kubernetes-patch-strategy'], 'merge,retainKeys');
    assert.equal(volumes['x-kubernetes-patch-merge-key'], 'name');
    assert.equal(prop('io.k8s.api.apps.v1.DeploymentSpec', 'strategy')['x-kubernetes-patch-strategy'], 'retainKeys');
    assert.equal(prop('io.k8s.api.core.v1.Container', 'env')['x-kubernetes-patch-merge-key'], 'name');
    assert.equal(prop('io.k8s.api.core.v1.PodSpec', 'ephemeralContainers')['x-kubernetes-patch-merge-key'], 'name');
    assert.equal(prop('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'ownerReferences')['x-kubernetes-patch-merge-key'], 'uid');
  });

  it('mark int-or-string and quantity fields by reference', () => {
    assert.equal(prop('io.k8s.api.apps.v1.RollingUpdateDeployment', 'maxSurge').$ref, '#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString');
    assert.equal(defs['io.k8s.apimachinery.pkg.util.intstr.IntOrString']?.format, 'int-or-string');
    assert.equal(prop('io.k8s.api.core.v1.ResourceRequirements', 'limits').additionalProperties && (prop('io.k8s.api.core.v1.ResourceRequirements', 'limits').additionalProperties as Schema).$ref, '#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity');
    assert.equal(prop('io.k8s.api.coordination.v1.LeaseSpec', 'renewTime').$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime');
  });

  it('describe a field of a shared type (int-or-string, micro time) by its own meaning, as Kubernetes does', () => {
    // kubectl explain prints the field's description and then the type's: a field that only repeats its type's says nothing.
    const typeOnly = ['io.k8s.apimachinery.pkg.util.intstr.IntOrString', 'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime'].map((n) => defs[n]?.description);
    const repeating: string[] = [];
    for (const [name, def] of Object.entries(defs)) {
      for (const [field, schema] of Object.entries(def.properties ?? {})) {
        if (schema.description !== undefined && typeOnly.includes(schema.description)) repeating.push(`${name}.${field}`);
      }
    }
    assert.deepEqual(repeating, []);
    assert.match(prop('io.k8s.api.core.v1.ServicePort', 'targetPort').description ?? '', /^Number or name of the port to access on the pods targeted by the service\./);
  });
});

describe('schemaAt', () => {
  it('walks properties, list items and map values through references', () => {
    const ports = schemaAt('io.k8s.api.apps.v1.Deployment', ['spec', 'template', 'spec', 'containers', '0', 'ports']);
    assert.equal(ports?.type, 'array');
    assert.deepEqual(ports?.['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
    assert.equal(schemaAt('io.k8s.api.apps.v1.Deployment', ['spec', 'template', 'spec', 'containers', '*', 'ports', '0', 'containerPort'])?.type, 'integer');
    assert.deepEqual(schemaAt('io.k8s.api.apps.v1.Deployment', ['metadata', 'labels', 'app']), { type: 'string' });
  });

  it('keeps the referring property\'s extensions over the referenced definition', () => {
    const strategy = schemaAt('io.k8s.api.apps.v1.Deployment', ['spec', 'strategy']);
    assert.equal(strategy?.['x-kubernetes-patch-strategy'], 'retainKeys');
    assert.ok(strategy?.properties?.rollingUpdate);
    assert.match(strategy?.description ?? '', /The deployment strategy to use/);
  });

  it('is undefined for a path outside the schema', () => {
    assert.equal(schemaAt('io.k8s.api.apps.v1.Deployment', ['spec', 'nope']), undefined);
    assert.equal(schemaAt('no.such.Definition', []), undefined);
  });

  it('resolves v2 and v3 reference forms and bare names', () => {
    const pod = defs['io.k8s.api.core.v1.Pod'];
    assert.equal(resolveRef('#/definitions/io.k8s.api.core.v1.Pod'), pod);
    assert.equal(resolveRef('#/components/schemas/io.k8s.api.core.v1.Pod'), pod);
    assert.equal(resolveRef('io.k8s.api.core.v1.Pod'), pod);
  });
});

describe('definitions.json', () => {
  const base = process.env.NAMI_KUBE_OPENAPI_1_14;
  it('is what scripts/gen-definitions.mjs builds from the 1.14 document and the additions', {
    skip: base && existsSync(base) ? false : 'set NAMI_KUBE_OPENAPI_1_14 to the Kubernetes 1.14 openapi.json (Debian golang-k8s-kube-openapi-dev) to check',
  }, async () => {
    const scriptUrl = new URL('../../../scripts/gen-definitions.mjs', import.meta.url).href;
    const { buildDefinitions } = (await import(scriptUrl)) as { buildDefinitions: (b: unknown, a: unknown) => unknown };
    const additions = JSON.parse(readFileSync(new URL('../../src/api/schema/additions-since-1.14.json', import.meta.url), 'utf8')) as unknown;
    const built = buildDefinitions(JSON.parse(readFileSync(base!, 'utf8')), additions);
    assert.deepEqual(built, defs);
  });
});
