// Cases ported from sigs.k8s.io/structured-merge-diff (merge/multiple_appliers_test.go,
// merge/set_test.go, typed/merge_test.go), on a schema of the same shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Definitions, Schema } from '../../src/api/schema/types.js';
import type { KubeObject } from '../../src/api/object.js';
import { ApplyConflictError } from '../../src/api/errors.js';
import { FieldSet, pathToString, serverSideApply, typeInfoFor, updateManagedFields } from '../../src/api/apply/index.js';
import { mergeValues } from '../../src/api/apply/typed-merge.js';
import { definitions as kubeDefinitions } from './definitions-fixture.js';

const ref = (name: string): Schema => ({ $ref: `#/definitions/${name}` });
const keyedBy = (items: Schema, ...keys: string[]): Schema => ({ type: 'array', items, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': keys });
const setOfStrings: Schema = { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' };

const definitions: Definitions = {
  ...kubeDefinitions,
  'com.example.v1.Root': {
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'),
      list: keyedBy(ref('com.example.v1.Item'), 'name'),
      listOfLists: keyedBy(ref('com.example.v1.Nested'), 'name'),
      struct: ref('com.example.v1.Struct'),
      tags: setOfStrings,
      atomicList: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'atomic' },
      keyed: keyedBy({ type: 'object', properties: { key: { type: 'string' }, id: { type: 'integer' } } }, 'key', 'id'),
      inner: { type: 'object', properties: { value: { type: 'string' } } },
    },
  },
  'com.example.v1.Item': { type: 'object', properties: { name: { type: 'string' }, value: { type: 'integer' } } },
  'com.example.v1.Nested': { type: 'object', properties: { name: { type: 'string' }, value: setOfStrings } },
  'com.example.v1.Struct': {
    type: 'object',
    properties: { name: { type: 'string' }, scalarField: { type: 'string' }, complexField: ref('com.example.v1.Complex') },
  },
  'com.example.v1.Complex': { type: 'object', properties: { name: { type: 'string' } } },
};

const rootType = typeInfoFor(definitions, 'com.example.v1.Root', { builtIn: false });

type Op = { apply: string; body: Record<string, unknown> } | { update: string; body: Record<string, unknown> };

function wrap(body: Record<string, unknown>): KubeObject {
  return { apiVersion: 'example.com/v1', kind: 'Root', metadata: { name: 'x' }, ...body };
}

/** Runs the operations and answers the object's body and each manager's fields. */
function run(ops: Op[]): { body: Record<string, unknown>; managed: Record<string, string[]> } {
  let live: KubeObject | undefined;
  ops.forEach((op, i) => {
    const now = new Date(Date.UTC(2024, 0, 1, 0, i));
    if ('apply' in op) live = serverSideApply(live, wrap(op.body), op.apply, false, rootType, now).object;
    else live = updateManagedFields(live, wrap(op.body), op.update, 'Update', rootType, now);
  });
  const { apiVersion: _a, kind: _k, metadata, ...body } = live as KubeObject;
  const managed: Record<string, string[]> = {};
  for (const e of metadata.managedFields ?? []) managed[e.manager ?? ''] = FieldSet.fromFieldsV1(e.fieldsV1).paths().map(pathToString);
  return { body, managed };
}

test('multiple appliers: an applier removing an item leaves the other applier\'s items (remove_one)', () => {
  const result = run([
    { apply: 'apply-one', body: { list: [{ name: 'a' }, { name: 'b' }] } },
    { apply: 'apply-two', body: { list: [{ name: 'c' }] } },
    { apply: 'apply-one', body: { list: [{ name: 'a' }] } },
  ]);
  assert.deepEqual(result.body, { list: [{ name: 'a' }, { name: 'c' }] });
  assert.deepEqual(result.managed, {
    'apply-one': ['.list[name="a"]', '.list[name="a"].name'],
    'apply-two': ['.list[name="c"]', '.list[name="c"].name'],
  });
});

test('multiple appliers: applying the same value is shared ownership (same_value_no_conflict)', () => {
  const result = run([
    { apply: 'apply-one', body: { list: [{ name: 'a', value: 0 }] } },
    { apply: 'apply-two', body: { list: [{ name: 'a', value: 0 }] } },
  ]);
  const both = ['.list[name="a"]', '.list[name="a"].name', '.list[name="a"].value'];
  assert.deepEqual(result.managed, { 'apply-one': both, 'apply-two': both });
});

test('multiple appliers: changing another applier\'s value conflicts (change_value_yes_conflict)', () => {
  assert.throws(
    () =>
      run([
        { apply: 'apply-one', body: { list: [{ name: 'a', value: 0 }] } },
        { apply: 'apply-two', body: { list: [{ name: 'a', value: 1 }] } },
      ]),
    (err: unknown) => {
      assert.ok(err instanceof ApplyConflictError);
      assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "apply-one": .list[name="a"].value');
      return true;
    },
  );
});

test('multiple appliers: items another applier owns survive (remove_one_keep_one)', () => {
  const result = run([
    { apply: 'apply-one', body: { list: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] } },
    { apply: 'apply-two', body: { list: [{ name: 'c' }, { name: 'd' }] } },
    { apply: 'apply-one', body: { list: [{ name: 'a' }] } },
  ]);
  assert.deepEqual(result.body, { list: [{ name: 'a' }, { name: 'c' }, { name: 'd' }] });
  assert.deepEqual(result.managed, {
    'apply-one': ['.list[name="a"]', '.list[name="a"].name'],
    'apply-two': ['.list[name="c"]', '.list[name="d"]', '.list[name="c"].name', '.list[name="d"].name'],
  });
});

test('field unsetting: a scalar only the applier owned is removed (unset_scalar_sole_owner)', () => {
  const result = run([
    { apply: 'apply-one', body: { struct: { name: 'a', scalarField: 'a' } } },
    { apply: 'apply-one', body: { struct: { name: 'a' } } },
  ]);
  assert.deepEqual(result.body, { struct: { name: 'a' } });
  assert.deepEqual(result.managed, { 'apply-one': ['.struct.name'] });
});

test('field unsetting: a scalar another applier shares is kept (unset_scalar_shared_with_applier)', () => {
  const result = run([
    { apply: 'apply-one', body: { struct: { name: 'a', scalarField: 'a' } } },
    { apply: 'apply-two', body: { struct: { scalarField: 'a' } } },
    { apply: 'apply-one', body: { struct: { name: 'a' } } },
  ]);
  assert.deepEqual(result.body, { struct: { name: 'a', scalarField: 'a' } });
  assert.deepEqual(result.managed, { 'apply-one': ['.struct.name'], 'apply-two': ['.struct.scalarField'] });
});

test('field unsetting: a scalar an updater shares is kept (unset_scalar_shared_with_updater)', () => {
  const result = run([
    { update: 'updater', body: { struct: { name: 'a', scalarField: 'a' } } },
    { apply: 'applier', body: { struct: { name: 'a', scalarField: 'a' } } },
    { apply: 'applier', body: { struct: { name: 'a' } } },
  ]);
  assert.deepEqual(result.body, { struct: { name: 'a', scalarField: 'a' } });
  assert.deepEqual(result.managed, { applier: ['.struct.name'], updater: ['.struct', '.struct.name', '.struct.scalarField'] });
});

test('an updater changing an applied field takes it over (updater_claims_field)', () => {
  const result = run([
    { apply: 'applier', body: { struct: { name: 'a', scalarField: 'a' } } },
    { update: 'updater', body: { struct: { name: 'a', scalarField: 'b' } } },
  ]);
  assert.deepEqual(result.body, { struct: { name: 'a', scalarField: 'b' } });
  assert.deepEqual(result.managed, { applier: ['.struct.name'], updater: ['.struct.scalarField'] });
});

test('field unsetting: a struct only the applier owned is removed whole (unset_complex_sole_owner)', () => {
  const result = run([
    { apply: 'apply-one', body: { struct: { name: 'a', complexField: { name: 'b' } } } },
    { apply: 'apply-one', body: { struct: { name: 'a' } } },
  ]);
  assert.deepEqual(result.body, { struct: { name: 'a' } });
  assert.deepEqual(result.managed, { 'apply-one': ['.struct.name'] });
});

test('field unsetting: a struct another applier shares is kept (unset_complex_shared_with_applier)', () => {
  const result = run([
    { apply: 'apply-one', body: { struct: { name: 'a', complexField: { name: 'b' } } } },
    { apply: 'apply-two', body: { struct: { complexField: { name: 'b' } } } },
    { apply: 'apply-one', body: { struct: { name: 'a' } } },
  ]);
  assert.deepEqual(result.body, { struct: { name: 'a', complexField: { name: 'b' } } });
  assert.deepEqual(result.managed, { 'apply-one': ['.struct.name'], 'apply-two': ['.struct.complexField.name'] });
});

test('nested lists: only the removed applier\'s sub-items go (remove_one_keep_one_with_two_sub_items)', () => {
  const result = run([
    { apply: 'apply-one', body: { listOfLists: [{ name: 'a' }, { name: 'b', value: ['c'] }] } },
    { apply: 'apply-two', body: { listOfLists: [{ name: 'b', value: ['d'] }] } },
    { apply: 'apply-one', body: { listOfLists: [{ name: 'a' }] } },
  ]);
  assert.deepEqual(result.body, { listOfLists: [{ name: 'a' }, { name: 'b', value: ['d'] }] });
  assert.deepEqual(result.managed, {
    'apply-one': ['.listOfLists[name="a"]', '.listOfLists[name="a"].name'],
    'apply-two': ['.listOfLists[name="b"]', '.listOfLists[name="b"].name', '.listOfLists[name="b"].value[="d"]'],
  });
});

test('nested lists: an updater\'s sub-item in a kept item survives (remove_one_keep_one_with_dangling_subitem)', () => {
  const result = run([
    { apply: 'apply-one', body: { listOfLists: [{ name: 'a' }, { name: 'b', value: ['c'] }] } },
    { apply: 'apply-two', body: { listOfLists: [{ name: 'b', value: ['d'] }] } },
    { update: 'controller', body: { listOfLists: [{ name: 'a' }, { name: 'b', value: ['c', 'd', 'e'] }] } },
    { apply: 'apply-one', body: { listOfLists: [{ name: 'a' }] } },
  ]);
  assert.deepEqual(result.body, { listOfLists: [{ name: 'a' }, { name: 'b', value: ['d', 'e'] }] });
  assert.deepEqual(result.managed, {
    'apply-one': ['.listOfLists[name="a"]', '.listOfLists[name="a"].name'],
    'apply-two': ['.listOfLists[name="b"]', '.listOfLists[name="b"].name', '.listOfLists[name="b"].value[="d"]'],
    controller: ['.listOfLists[name="b"].value[="e"]'],
  });
});

test('nested lists: a removed item goes with an updater\'s sub-items (remove_one_with_managed_subitem_keep_one)', () => {
  const result = run([
    { apply: 'apply-one', body: { listOfLists: [{ name: 'a' }, { name: 'b', value: ['c'] }] } },
    { apply: 'apply-two', body: { listOfLists: [{ name: 'a', value: ['b'] }] } },
    { update: 'controller', body: { listOfLists: [{ name: 'a', value: ['b'] }, { name: 'b', value: ['c', 'd'] }] } },
    { apply: 'apply-one', body: { listOfLists: [{ name: 'a' }] } },
  ]);
  assert.deepEqual(result.body, { listOfLists: [{ name: 'a', value: ['b'] }] });
  assert.deepEqual(result.managed, {
    'apply-one': ['.listOfLists[name="a"]', '.listOfLists[name="a"].name'],
    'apply-two': ['.listOfLists[name="a"]', '.listOfLists[name="a"].name', '.listOfLists[name="a"].value[="b"]'],
  });
});

test('sets: an applier and an updater own their own items (apply_update_apply_no_overlap)', () => {
  const result = run([
    { apply: 'default', body: { tags: ['a', 'c'] } },
    { update: 'controller', body: { tags: ['a', 'b', 'c', 'd'] } },
    { apply: 'default', body: { tags: ['a', 'aprime', 'c', 'cprime'] } },
  ]);
  assert.deepEqual(result.body, { tags: ['a', 'b', 'aprime', 'c', 'd', 'cprime'] });
  assert.deepEqual(result.managed, {
    default: ['.tags[="a"]', '.tags[="aprime"]', '.tags[="c"]', '.tags[="cprime"]'],
    controller: ['.tags[="b"]', '.tags[="d"]'],
  });
});

test('sets: applying an item an updater added shares it (apply_update_apply_with_overlap)', () => {
  const result = run([
    { apply: 'default', body: { tags: ['a', 'c'] } },
    { update: 'controller', body: { tags: ['a', 'b', 'c', 'd'] } },
    { apply: 'default', body: { tags: ['a', 'b', 'c'] } },
  ]);
  assert.deepEqual(result.body, { tags: ['a', 'b', 'c', 'd'] });
  assert.deepEqual(result.managed, { default: ['.tags[="a"]', '.tags[="b"]', '.tags[="c"]'], controller: ['.tags[="b"]', '.tags[="d"]'] });
});

test('sets: reordering in the configuration reorders the live list (apply_twice_reorder)', () => {
  const result = run([
    { apply: 'default', body: { tags: ['a', 'b', 'c', 'd'] } },
    { apply: 'default', body: { tags: ['a', 'd', 'c', 'b'] } },
  ]);
  assert.deepEqual(result.body, { tags: ['a', 'd', 'c', 'b'] });
});

test('merge keeps the configuration\'s choice between null and empty (typed merge null/empty cases)', () => {
  const t = rootType.root;
  const cases: Array<[unknown, unknown, unknown]> = [
    [{}, { inner: {} }, { inner: {} }],
    [{}, { inner: null }, { inner: null }],
    [{ inner: null }, { inner: {} }, { inner: {} }],
    [{ inner: {} }, { inner: null }, { inner: null }],
    [{}, { atomicList: [] }, { atomicList: [] }],
    [{ atomicList: null }, { atomicList: [] }, { atomicList: [] }],
    [{ atomicList: [] }, { atomicList: null }, { atomicList: null }],
  ];
  for (const [lhs, rhs, out] of cases) assert.deepEqual(mergeValues(lhs, rhs, t), out, JSON.stringify([lhs, rhs]));
});

test('merge unions sets and replaces atomic lists (typed merge grab bag)', () => {
  const t = rootType.root;
  const cases: Array<[unknown, unknown, unknown]> = [
    [{ tags: ['a', 'b', 'c'] }, { tags: ['a', 'b'] }, { tags: ['a', 'b', 'c'] }],
    [{ tags: ['a', 'b'] }, { tags: ['a', 'b', 'c'] }, { tags: ['a', 'b', 'c'] }],
    [{ tags: ['a', 'b', 'c'] }, { tags: [] }, { tags: ['a', 'b', 'c'] }],
    [{ tags: [] }, { tags: ['a', 'b', 'c'] }, { tags: ['a', 'b', 'c'] }],
    [{ atomicList: ['a', 'a', 'a'] }, { atomicList: null }, { atomicList: null }],
    [{ atomicList: ['a', 'b', 'c'] }, { atomicList: [] }, { atomicList: [] }],
    [{ atomicList: ['a', 'a', 'a'] }, { atomicList: ['a', 'a'] }, { atomicList: ['a', 'a'] }],
    [{ keyed: [{ key: 'b', id: 2 }] }, { keyed: [{ key: 'a', id: 1 }, { key: 'b', id: 2 }, { key: 'c', id: 3 }] }, { keyed: [{ key: 'a', id: 1 }, { key: 'b', id: 2 }, { key: 'c', id: 3 }] }],
  ];
  for (const [lhs, rhs, out] of cases) assert.deepEqual(mergeValues(lhs, rhs, t), out, JSON.stringify([lhs, rhs]));
});
