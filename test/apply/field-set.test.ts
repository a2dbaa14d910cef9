import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FieldSet, fieldPath, keyElement, pathToString, serializePathElement, parsePathElement } from '../../src/api/apply/index.js';
import type { FieldPath } from '../../src/api/apply/index.js';

const container = keyElement({ name: 'nginx' });
const port = keyElement({ protocol: 'TCP', containerPort: 80 });
const containersPath = fieldPath('spec', 'template', 'spec', 'containers');

function paths(set: FieldSet): string[] {
  return set.paths().map(pathToString);
}

test('path elements are spelled as in managedFields, list keys sorted by name', () => {
  assert.equal(serializePathElement({ field: 'replicas' }), 'f:replicas');
  assert.equal(serializePathElement(port), 'k:{"containerPort":80,"protocol":"TCP"}');
  assert.equal(serializePathElement({ value: 'example.com/cleanup' }), 'v:"example.com/cleanup"');
  assert.equal(serializePathElement({ index: 3 }), 'i:3');
  assert.equal(serializePathElement(keyElement({ name: 'a<b>&c' })), 'k:{"name":"a\\u003cb\\u003e\\u0026c"}');
});

test('path elements read back from their managedFields spelling, whatever the key order', () => {
  assert.deepEqual(parsePathElement('k:{"protocol":"TCP","containerPort":80}'), port);
  assert.deepEqual(parsePathElement('v:{"b":1,"a":2}'), { value: { b: 1, a: 2 } });
  assert.deepEqual(parsePathElement('i:7'), { index: 7 });
  assert.equal(parsePathElement('x:unknown'), undefined);
  assert.throws(() => parsePathElement('k:{not json'));
});

test('conflict paths print as kube-apiserver prints them', () => {
  assert.equal(pathToString([...containersPath, container, { field: 'image' }]), '.spec.template.spec.containers[name="nginx"].image');
  assert.equal(pathToString([...containersPath, container, { field: 'ports' }, port]), '.spec.template.spec.containers[name="nginx"].ports[containerPort=80,protocol="TCP"]');
  assert.equal(pathToString([{ field: 'metadata' }, { field: 'finalizers' }, { value: 'a' }]), '.metadata.finalizers[="a"]');
  assert.equal(pathToString([{ field: 'spec' }, { field: 'args' }, { index: 2 }]), '.spec.args[2]');
});

test('a set encodes to FieldsV1 with "." where an item is owned and has owned fields', () => {
  const set = FieldSet.fromPaths([
    fieldPath('spec', 'replicas'),
    [...containersPath, container],
    [...containersPath, container, { field: 'image' }],
    [...containersPath, container, { field: 'name' }],
    fieldPath('metadata', 'labels', 'app'),
  ]);
  assert.deepEqual(set.toFieldsV1(), {
    'f:metadata': { 'f:labels': { 'f:app': {} } },
    'f:spec': {
      'f:replicas': {},
      'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } },
    },
  });
});

test('FieldsV1 keys come out in the order kube-apiserver writes them', () => {
  const set = FieldSet.fromPaths([
    fieldPath('spec', 'zeta'),
    [{ field: 'spec' }, { field: 'list' }, { index: 1 }],
    [{ field: 'spec' }, { field: 'list' }, { value: 'b' }],
    [{ field: 'spec' }, { field: 'list' }, keyElement({ name: 'a' })],
    [{ field: 'spec' }, { field: 'list' }, { value: 10 }],
    fieldPath('spec', 'alpha'),
    fieldPath('data', 'key'),
  ]);
  const encoded = set.toFieldsV1();
  assert.deepEqual(Object.keys(encoded), ['f:data', 'f:spec']);
  const spec = encoded['f:spec'] as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.keys(spec), ['f:alpha', 'f:list', 'f:zeta']);
  // Keys, then values (numbers before strings), then indexes.
  assert.deepEqual(Object.keys(spec['f:list'] ?? {}), ['k:{"name":"a"}', 'v:10', 'v:"b"', 'i:1']);
});

test('FieldsV1 decodes to the same set it was encoded from', () => {
  const fieldsV1 = {
    'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} }, 'f:finalizers': { 'v:"example.com/cleanup"': {} } },
    'f:spec': {
      'f:replicas': {},
      'f:template': {
        'f:spec': {
          'f:containers': {
            'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } } },
          },
        },
      },
    },
  };
  const set = FieldSet.fromFieldsV1(fieldsV1);
  assert.ok(set.has(fieldPath('metadata', 'labels')));
  assert.ok(set.has(fieldPath('metadata', 'labels', 'app')));
  assert.ok(!set.has(fieldPath('metadata')));
  assert.ok(set.has([...containersPath, container, { field: 'ports' }, port, { field: 'containerPort' }]));
  assert.deepEqual(set.toFieldsV1(), fieldsV1);
});

test('FieldsV1 entries of a kind this version does not know are skipped, not fatal', () => {
  const set = FieldSet.fromFieldsV1({ 'f:spec': { 'f:replicas': {}, 'z:future': {} } });
  assert.deepEqual(paths(set), ['.spec.replicas']);
  assert.throws(() => FieldSet.fromFieldsV1({ 'f:spec': 'not an object' }));
});

test('union, intersection and difference work path by path', () => {
  const a = FieldSet.fromPaths([fieldPath('spec', 'replicas'), fieldPath('spec', 'paused'), fieldPath('metadata', 'labels', 'app')]);
  const b = FieldSet.fromPaths([fieldPath('spec', 'replicas'), fieldPath('spec', 'minReadySeconds')]);
  assert.deepEqual(paths(a.union(b)), ['.metadata.labels.app', '.spec.minReadySeconds', '.spec.paused', '.spec.replicas']);
  assert.deepEqual(paths(a.intersection(b)), ['.spec.replicas']);
  assert.deepEqual(paths(a.difference(b)), ['.metadata.labels.app', '.spec.paused']);
  assert.deepEqual(paths(b.difference(a)), ['.spec.minReadySeconds']);
  assert.ok(a.difference(a).isEmpty());
  // Operands are left alone.
  assert.equal(a.size(), 3);
});

test('difference removes only members, recursiveDifference also everything below them', () => {
  const owned = FieldSet.fromPaths([fieldPath('status'), fieldPath('status', 'replicas'), fieldPath('spec', 'replicas')]);
  const status = FieldSet.fromPaths([fieldPath('status')]);
  assert.deepEqual(paths(owned.difference(status)), ['.spec.replicas', '.status.replicas']);
  assert.deepEqual(paths(owned.recursiveDifference(status)), ['.spec.replicas']);
});

test('the object itself is never a member of a set', () => {
  const set = new FieldSet();
  set.insert([] as FieldPath);
  assert.ok(set.isEmpty());
  assert.deepEqual(set.toFieldsV1(), {});
});
