import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, BadRequestError } from '../../src/api/errors.js';
import { MalformedPatchError, PatchRejectedError, SchemaPatchMeta, applyStrategicMergePatch, schemalessPatchMeta } from '../../src/api/patch/index.js';
import { applyCases, customCases } from './fixtures/kubernetes-cases.js';
import type { PortedCase } from './fixtures/kubernetes-cases.js';
import { mergeItemDefinitions } from './fixtures/merge-item-definitions.js';

const mergeItem = new SchemaPatchMeta(mergeItemDefinitions, 'mergeItem');

function errorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ApiError, `expected an ApiError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the patch to be rejected');
}

function runPortedCase(c: PortedCase): void {
  if (c.twoWay) {
    const original = c.original ?? {};
    if (c.expectedError) {
      const err = errorOf(() => applyStrategicMergePatch(original, c.twoWay, mergeItem));
      assert.ok(err.message.includes(c.expectedError), err.message);
    } else {
      assert.deepStrictEqual(applyStrategicMergePatch(original, c.twoWay, mergeItem), c.twoWayResult ?? c.modified, 'patch applied to the original');
    }
  }
  if (c.threeWay && c.current) {
    assert.deepStrictEqual(applyStrategicMergePatch(c.current, c.threeWay, mergeItem), c.result, 'patch applied to the live object');
  }
}

for (const c of customCases) test(c.description, () => runPortedCase(c));
for (const c of applyCases) test(c.description, () => runPortedCase(c));

test('the original and the patch are left untouched', () => {
  const original = { mergingList: [{ name: 1, value: 'a' }], simpleMap: { k: 'v' } };
  const patch = { '$setElementOrder/mergingList': [{ name: 2 }, { name: 1 }], mergingList: [{ name: 2 }, { name: 1, value: null }], simpleMap: { $patch: 'delete' } };
  const originalCopy = structuredClone(original);
  const patchCopy = structuredClone(patch);
  const result = applyStrategicMergePatch(original, patch, mergeItem);
  assert.deepStrictEqual(result, { mergingList: [{ name: 2 }, { name: 1 }], simpleMap: {} });
  assert.deepStrictEqual(original, originalCopy);
  assert.deepStrictEqual(patch, patchCopy);
});

test('a null patch changes nothing', () => {
  assert.deepStrictEqual(applyStrategicMergePatch({ name: 'a' }, null, mergeItem), { name: 'a' });
});

test('a patch that is not an object is a BadRequest worded as kube-apiserver words it', () => {
  const err = errorOf(() => applyStrategicMergePatch({}, [1], mergeItem));
  assert.ok(err instanceof BadRequestError);
  assert.equal(err.message, 'json: cannot unmarshal array into Go value of type map[string]interface {}');
});

test('a missing merge key is reported with the element as Go prints it, code 500 and no reason', () => {
  const err = errorOf(() => applyStrategicMergePatch({ mergingList: [{ name: 'a' }] }, { mergingList: [{ value: 'x', mergingIntList: [1, 2], simpleMap: { b: true, a: null } }] }, mergeItem));
  assert.ok(err instanceof MalformedPatchError);
  assert.equal(err.message, 'map: map[mergingIntList:[1 2] simpleMap:map[a:<nil> b:true] value:x] does not contain declared merge key: name');
  const status = err.toStatus();
  assert.equal(status.code, 500);
  assert.equal(status.reason, undefined);
});

test('a $patch: delete element without merge key is rejected', () => {
  const err = errorOf(() => applyStrategicMergePatch({ mergingList: [{ name: 'a' }] }, { mergingList: [{ $patch: 'delete' }] }, mergeItem));
  assert.equal(err.message, 'map: map[$patch:delete] does not contain declared merge key: name');
});

test('$patch: merge is rejected on list elements and on maps, as Kubernetes does', () => {
  assert.equal(errorOf(() => applyStrategicMergePatch({ mergingList: [{ name: 'a' }] }, { mergingList: [{ $patch: 'merge' }] }, mergeItem)).message, 'merging lists cannot yet be specified in the patch');
  assert.equal(errorOf(() => applyStrategicMergePatch({ simpleMap: { a: 'b' } }, { simpleMap: { $patch: 'merge', c: 'd' } }, mergeItem)).message, 'unknown patch type: merge in map: map[$patch:merge c:d]');
});

test('an unknown directive is rejected', () => {
  assert.equal(errorOf(() => applyStrategicMergePatch({}, { $patch: 'frobnicate' }, mergeItem)).message, 'unknown patch type: frobnicate in map: map[$patch:frobnicate]');
});

test('a patch setting a field $retainKeys does not list is a BadRequest', () => {
  const err = errorOf(() => applyStrategicMergePatch({ retainKeysMap: { name: 'a' } }, { retainKeysMap: { $retainKeys: ['name'], value: 'b' } }, mergeItem));
  assert.ok(err instanceof BadRequestError);
  assert.equal(err.message, 'invalid patch format of retainKeys');
  assert.equal(errorOf(() => applyStrategicMergePatch({}, { retainKeysMap: { $retainKeys: 'name' } }, mergeItem)).message, 'invalid patch format of retainKeys');
});

test('malformed parallel-list directives are BadRequests', () => {
  assert.equal(errorOf(() => applyStrategicMergePatch({ mergingIntList: [1] }, { $deleteFromPrimitiveList: [1] }, mergeItem)).message, 'invalid patch format of primitive list');
  assert.equal(errorOf(() => applyStrategicMergePatch({ mergingIntList: [1] }, { $setElementOrder: [1] }, mergeItem)).message, 'invalid patch format of setElementOrder list');
});

test('a list of lists is rejected with 422 Invalid', () => {
  const err = errorOf(() => applyStrategicMergePatch({ mergingIntList: [] }, { mergingIntList: [[1]] }, mergeItem));
  assert.ok(err instanceof PatchRejectedError);
  assert.equal(err.code, 422);
  assert.equal(err.detail, 'lists of lists are not supported');
});

test('elements of different types in one merging list are rejected', () => {
  const err = errorOf(() => applyStrategicMergePatch({ mergingIntList: [1] }, { mergingIntList: ['a'] }, mergeItem));
  assert.equal(err.message, 'list element types are not identical: [[1] [a]]');
});

test('a field with strategy replace takes the patch value whole', () => {
  const result = applyStrategicMergePatch({ replacingItem: { a: 1, b: 2 } }, { replacingItem: { c: 3, d: null } }, mergeItem);
  assert.deepStrictEqual(result, { replacingItem: { c: 3 } });
});

test('$deleteFromPrimitiveList on a list the object lacks changes nothing', () => {
  assert.deepStrictEqual(applyStrategicMergePatch({ name: 'a' }, { '$deleteFromPrimitiveList/mergingIntList': [1] }, mergeItem), { name: 'a' });
});

test('directives in values the original lacks are applied, never stored', () => {
  const patch = {
    retainKeysMap: { $retainKeys: ['name'], name: 'x' },
    mergingList: [{ name: 'a', mergingList: [{ name: 'b', $patch: 'delete' }], simpleMap: { k: null } }, { name: 'z', $patch: 'delete' }],
    simpleMap: { $patch: 'replace', k: 'v' },
  };
  assert.deepStrictEqual(applyStrategicMergePatch({}, patch, mergeItem), {
    retainKeysMap: { name: 'x' },
    mergingList: [{ name: 'a', mergingList: [], simpleMap: {} }],
    simpleMap: { k: 'v' },
  });
});

test('without schema, maps merge and lists are replaced', () => {
  const live = { spec: { list: [{ name: 'a', v: 1 }, { name: 'b' }], map: { a: 1, b: 2 } } };
  const result = applyStrategicMergePatch(live, { spec: { list: [{ name: 'a', v: 2 }], map: { b: null, c: 3 } } }, schemalessPatchMeta);
  assert.deepStrictEqual(result, { spec: { list: [{ name: 'a', v: 2 }], map: { a: 1, c: 3 } } });
});

test('a __proto__ key is stored as data, not as a prototype', () => {
  const patch = JSON.parse('{"simpleMap": {"__proto__": {"polluted": true}}}') as unknown;
  const result = applyStrategicMergePatch({ simpleMap: {} }, patch, mergeItem) as { simpleMap: Record<string, unknown> };
  assert.deepStrictEqual(Object.keys(result.simpleMap), ['__proto__']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(result.simpleMap), Object.prototype);
});
