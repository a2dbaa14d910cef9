import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BadRequestError } from '../../src/api/errors.js';
import { applyMergePatch } from '../../src/api/patch/index.js';
import { deepFreeze } from '../../src/api/object.js';

// Examples of RFC 7386, appendix A.
const rfcExamples: Array<[unknown, unknown, unknown]> = [
  [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
  [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
  [{ a: 'b' }, { a: null }, {}],
  [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
  [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
  [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
  [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
  [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [[1, 2], { a: 'b', c: null }, { a: 'b' }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

test('the RFC 7386 examples give the RFC results', () => {
  for (const [target, patch, result] of rfcExamples) assert.deepStrictEqual(applyMergePatch(target, patch), result, JSON.stringify(patch));
});

test('lists are replaced whole, as kubectl patch --type=merge users expect', () => {
  const pod = { spec: { containers: [{ name: 'a', image: 'a:1' }, { name: 'b', image: 'b:1' }] } };
  assert.deepStrictEqual(applyMergePatch(pod, { spec: { containers: [{ name: 'a', image: 'a:2' }] } }), { spec: { containers: [{ name: 'a', image: 'a:2' }] } });
});

test('labels set to null are removed and others kept', () => {
  const obj = { metadata: { name: 'web', labels: { app: 'web', tier: 'front' } } };
  assert.deepStrictEqual(applyMergePatch(obj, { metadata: { labels: { tier: null, env: 'prod' } } }), { metadata: { name: 'web', labels: { app: 'web', env: 'prod' } } });
});

test('nulls inside new objects, also inside lists, are dropped as Kubernetes drops them', () => {
  assert.deepStrictEqual(applyMergePatch({}, { list: [{ a: 1, b: null }, null] }), { list: [{ a: 1 }, null] });
});

test('neither the target nor the patch is changed', () => {
  const target = { a: { b: 1 } };
  const patch = { a: { c: { d: null, e: 2 } } };
  applyMergePatch(target, patch);
  assert.deepStrictEqual(target, { a: { b: 1 } });
  assert.deepStrictEqual(patch, { a: { c: { d: null, e: 2 } } });
});

test('a null or scalar patch is a BadRequest "Invalid JSON Patch"', () => {
  for (const patch of [null, 'x', 3, true]) {
    assert.throws(() => applyMergePatch({ a: 1 }, patch), (e: unknown) => e instanceof BadRequestError && e.message === 'Invalid JSON Patch');
  }
});

test('a list patch is the result, as in Kubernetes', () => {
  assert.deepStrictEqual(applyMergePatch({ a: 1 }, [{ b: null }]), [{}]);
});

test('on a shared target the result equals the copying one, leaves the (frozen) target alone and shares what the patch does not reach', () => {
  for (const [target, patch, result] of rfcExamples) {
    assert.deepStrictEqual(applyMergePatch(deepFreeze(structuredClone(target)), patch, { shared: true }), result, JSON.stringify(patch));
  }
  const pod = deepFreeze({
    metadata: { name: 'web', labels: { app: 'web', tier: 'front' }, annotations: { note: 'x' } },
    spec: { containers: [{ name: 'a', image: 'a:1' }] },
    status: { phase: 'Running' },
  });
  const patched = applyMergePatch(pod, { metadata: { labels: { tier: null, env: 'prod' } }, status: { phase: null } }, { shared: true }) as typeof pod;
  assert.deepStrictEqual(patched, {
    metadata: { name: 'web', labels: { app: 'web', env: 'prod' }, annotations: { note: 'x' } },
    spec: { containers: [{ name: 'a', image: 'a:1' }] },
    status: {},
  });
  assert.equal(patched.spec, pod.spec, 'a member the patch does not reach is the target\'s own');
  assert.equal(patched.metadata.annotations, pod.metadata.annotations);
  assert.notEqual(patched.metadata, pod.metadata, 'objects on the patch\'s paths are copies');
  assert.deepStrictEqual(pod.metadata.labels, { app: 'web', tier: 'front' });
});
