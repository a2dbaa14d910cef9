import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/object.js';
import { crdDefinitionName, definitionNameForKind, definitionsForCRD, loadDefinitions, schemaAt } from '../../src/api/schema/index.js';

function crd(openAPIV3Schema: unknown): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'crontabs.stable.example.com' },
    spec: {
      group: 'stable.example.com',
      scope: 'Namespaced',
      names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList' },
      versions: [
        { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema } },
        { name: 'v2', served: true, storage: false },
      ],
    },
  };
}

const SCHEMA = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['cronSpec', 'note'],
      properties: {
        cronSpec: { type: 'string', description: 'When to run.' },
        note: { type: 'string', nullable: true },
        size: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'string' } } },
      },
    },
  },
};

describe('definitionsForCRD', () => {
  it('names definitions by reversed group, version and kind, with their group-version-kind', () => {
    const defs = definitionsForCRD(crd(SCHEMA), 'v1');
    assert.deepEqual(Object.keys(defs).sort(), ['com.example.stable.v1.CronTab', 'com.example.stable.v1.CronTabList']);
    assert.equal(crdDefinitionName('stable.example.com', 'v1', 'CronTab'), 'com.example.stable.v1.CronTab');
    assert.deepEqual(defs['com.example.stable.v1.CronTab']?.['x-kubernetes-group-version-kind'], [{ group: 'stable.example.com', kind: 'CronTab', version: 'v1' }]);
    assert.deepEqual(defs['com.example.stable.v1.CronTabList']?.['x-kubernetes-group-version-kind'], [{ group: 'stable.example.com', kind: 'CronTabList', version: 'v1' }]);
    assert.equal(defs['com.example.stable.v1.CronTabList']?.properties?.items?.items?.$ref, '#/definitions/com.example.stable.v1.CronTab');
  });

  it('adds apiVersion, kind and standard object metadata', () => {
    const def = definitionsForCRD(crd(SCHEMA), 'v1')['com.example.stable.v1.CronTab'];
    assert.equal(def?.properties?.metadata?.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    assert.equal(def?.properties?.apiVersion?.type, 'string');
    assert.equal(def?.properties?.kind?.type, 'string');
  });

  it('makes custom resources findable and walkable beside the built-in definitions', () => {
    const all = { ...loadDefinitions(), ...definitionsForCRD(crd(SCHEMA), 'v1') };
    const name = definitionNameForKind({ group: 'stable.example.com', version: 'v1', kind: 'CronTab' }, all);
    assert.equal(name, 'com.example.stable.v1.CronTab');
    assert.equal(schemaAt(name!, ['spec', 'cronSpec'], all)?.description, 'When to run.');
    assert.equal(schemaAt(name!, ['metadata', 'name'], all)?.type, 'string');
  });

  it('applies kube-apiserver\'s OpenAPI v2 changes so kubectl does not reject allowed fields', () => {
    const spec = definitionsForCRD(crd(SCHEMA), 'v1')['com.example.stable.v1.CronTab']?.properties?.spec as Record<string, any>;
    // nullable fields lose their type and are no longer required; junctors are dropped.
    assert.equal(spec.properties.note.type, undefined);
    assert.deepEqual(spec.required, ['cronSpec']);
    assert.equal(spec.properties.size.anyOf, undefined);
    assert.equal(spec.properties.size['x-kubernetes-int-or-string'], true);
    // preserved unknown fields: no properties, no object type.
    assert.equal(spec.properties.extra.properties, undefined);
    assert.equal(spec.properties.extra.type, undefined);
  });

  it('keeps the schema as written for OpenAPI v3', () => {
    const spec = definitionsForCRD(crd(SCHEMA), 'v1', { openAPIVersion: 'v3' })['com.example.stable.v1.CronTab']?.properties?.spec as Record<string, any>;
    assert.equal(spec.properties.note.nullable, true);
    assert.deepEqual(spec.required, ['cronSpec', 'note']);
    assert.equal(spec.properties.extra.properties.known.type, 'string');
  });

  it('describes a version without a schema as preserving unknown fields', () => {
    const def = definitionsForCRD(crd(SCHEMA), 'v2')['com.example.stable.v2.CronTab'];
    assert.ok(def);
    assert.equal(def.type, 'object');
    assert.equal(def.properties?.metadata?.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    assert.equal(def.properties?.spec, undefined);
  });

  it('returns nothing for a version the CRD does not define', () => {
    assert.deepEqual(definitionsForCRD(crd(SCHEMA), 'v9'), {});
  });
});
