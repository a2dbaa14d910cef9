import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeFieldSet, pathToString, typeInfoFor } from '../../src/api/apply/index.js';
import { definitions, deploymentType } from './definitions-fixture.js';

function paths(obj: unknown, typeInfo = deploymentType): string[] {
  return computeFieldSet(obj, typeInfo).paths().map(pathToString);
}

test('scalars, atomic values and list items are fields; structs on the way are not', () => {
  const obj = {
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      template: { spec: { containers: [{ name: 'web', image: 'web:1', args: ['--port', '80'] }] } },
    },
  };
  assert.deepEqual(paths(obj), [
    '.spec.replicas',
    '.spec.selector',
    '.spec.template.spec.containers[name="web"]',
    '.spec.template.spec.containers[name="web"].args',
    '.spec.template.spec.containers[name="web"].image',
    '.spec.template.spec.containers[name="web"].name',
  ]);
});

test('containers merge by name although their schema has only the patch merge key', () => {
  const obj = { spec: { template: { spec: { containers: [{ name: 'a' }, { name: 'b' }] } } } };
  assert.deepEqual(paths(obj), [
    '.spec.template.spec.containers[name="a"]',
    '.spec.template.spec.containers[name="b"]',
    '.spec.template.spec.containers[name="a"].name',
    '.spec.template.spec.containers[name="b"].name',
  ]);
});

test('a port without a protocol is keyed by the protocol it defaults to', () => {
  const obj = { spec: { template: { spec: { containers: [{ name: 'web', ports: [{ containerPort: 80 }] }] } } } };
  assert.ok(paths(obj).includes('.spec.template.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"].containerPort'));
});

test('set items are named by value and map entries by key', () => {
  const obj = { metadata: { finalizers: ['example.com/a', 'example.com/b'], labels: { app: 'web', tier: 'front' } } };
  assert.deepEqual(paths(obj), [
    '.metadata.finalizers[="example.com/a"]',
    '.metadata.finalizers[="example.com/b"]',
    '.metadata.labels.app',
    '.metadata.labels.tier',
  ]);
});

test('struct fields set to {} or null are owned themselves', () => {
  const obj = { spec: { strategy: {}, template: { spec: { securityContext: null } } } };
  assert.deepEqual(paths(obj), ['.spec.strategy', '.spec.template.spec.securityContext']);
});

test('without a schema maps are granular and lists atomic', () => {
  const schemaless = typeInfoFor(definitions, undefined);
  const obj = { spec: { size: 'large', servers: [{ host: 'a' }, { host: 'b' }], nested: { deep: true } } };
  assert.deepEqual(paths(obj, schemaless), ['.spec', '.spec.nested', '.spec.servers', '.spec.size', '.spec.nested.deep']);
  assert.deepEqual(typeInfoFor(definitions, 'com.example.v1.Missing').root, schemaless.root);
});
