import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, BadRequestError } from '../../src/api/errors.js';
import { PatchRejectedError, applyJsonPatch, maxJsonPatchOperations } from '../../src/api/patch/index.js';

const deployment = {
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: { replicas: 1, template: { spec: { containers: [{ name: 'web', image: 'web-server:1.25', args: ['--port=80'] }] } } },
};

function rejection(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ApiError, String(e));
    return e;
  }
  assert.fail('expected the patch to be rejected');
}

test('operations apply in order: add, replace, remove, copy, move, test', () => {
  const result = applyJsonPatch(deployment, [
    { op: 'test', path: '/spec/replicas', value: 1 },
    { op: 'replace', path: '/spec/replicas', value: 3 },
    { op: 'add', path: '/metadata/labels/tier', value: 'front' },
    { op: 'add', path: '/spec/template/spec/containers/0/args/-', value: '--verbose' },
    { op: 'copy', from: '/metadata/labels/app', path: '/metadata/labels/copy' },
    { op: 'move', from: '/metadata/labels/copy', path: '/metadata/labels/moved' },
    { op: 'remove', path: '/metadata/labels/app' },
    { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'web-server:1.27' },
  ]);
  assert.deepStrictEqual(result, {
    metadata: { name: 'web', labels: { tier: 'front', moved: 'web' } },
    spec: { replicas: 3, template: { spec: { containers: [{ name: 'web', image: 'web-server:1.27', args: ['--port=80', '--verbose'] }] } } },
  });
});

test('the target and the operations are left untouched', () => {
  const target = structuredClone(deployment);
  const ops = [{ op: 'add', path: '/metadata/annotations', value: { a: 'b' } }];
  const result = applyJsonPatch(target, ops) as { metadata: { annotations: Record<string, string> } };
  result.metadata.annotations.a = 'changed';
  assert.deepStrictEqual(target, deployment);
  assert.deepStrictEqual(ops, [{ op: 'add', path: '/metadata/annotations', value: { a: 'b' } }]);
});

test('a failing test operation is 422 Invalid with kube-apiserver message, and nothing applies', () => {
  const err = rejection(() => applyJsonPatch(deployment, [{ op: 'replace', path: '/spec/replicas', value: 5 }, { op: 'test', path: '/spec/replicas', value: 2 }]));
  assert.ok(err instanceof PatchRejectedError);
  assert.deepStrictEqual(err.toStatus(), {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'the server rejected our request due to an error in our request',
    reason: 'Invalid',
    details: {},
    code: 422,
  });
  assert.equal(deployment.spec.replicas, 1);
});

test('paths that do not exist are rejected with 422', () => {
  for (const op of [
    { op: 'replace', path: '/spec/paused', value: true },
    { op: 'remove', path: '/metadata/annotations' },
    { op: 'add', path: '/spec/strategy/type', value: 'Recreate' },
    { op: 'add', path: '/spec/template/spec/containers/5', value: {} },
    { op: 'move', from: '/nope', path: '/spec/x' },
  ]) {
    assert.equal(rejection(() => applyJsonPatch(deployment, [op])).code, 422, JSON.stringify(op));
  }
});

test('malformed operations are rejected with 422', () => {
  for (const op of [null, {}, { op: 'frobnicate', path: '/a' }, { op: 'toString', path: '/a' }, { op: 'add', path: '/a' }, { op: 'copy', path: '/a' }, { op: 'add', path: 'a', value: 1 }]) {
    assert.equal(rejection(() => applyJsonPatch(deployment, [op])).code, 422, JSON.stringify(op));
  }
});

test('a test for null on an absent key passes, as in Kubernetes', () => {
  assert.deepStrictEqual(applyJsonPatch({ metadata: {} }, [{ op: 'test', path: '/metadata/annotations', value: null }, { op: 'add', path: '/metadata/annotations', value: {} }]), { metadata: { annotations: {} } });
  assert.equal(rejection(() => applyJsonPatch({ metadata: {} }, [{ op: 'test', path: '/spec/replicas', value: null }])).code, 422);
});

test('a patch that is not a list of objects is a BadRequest worded as Go decoding words it', () => {
  const err = rejection(() => applyJsonPatch(deployment, { op: 'add', path: '/a', value: 1 }));
  assert.ok(err instanceof BadRequestError);
  assert.equal(err.message, 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  assert.equal(rejection(() => applyJsonPatch(deployment, ['add'])).message, 'json: cannot unmarshal string into Go value of type jsonpatch.Operation');
});

test('a null patch changes nothing', () => {
  assert.deepStrictEqual(applyJsonPatch(deployment, null), deployment);
});

test('more than 10000 operations is 413 RequestEntityTooLarge', () => {
  const ops = Array.from({ length: maxJsonPatchOperations + 1 }, () => ({ op: 'test', path: '/spec/replicas', value: 1 }));
  const err = rejection(() => applyJsonPatch(deployment, ops));
  assert.equal(err.code, 413);
  assert.equal(err.message, 'Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001');
});

test('__proto__ paths are refused', () => {
  assert.equal(rejection(() => applyJsonPatch({ a: {} }, [{ op: 'add', path: '/a/__proto__/polluted', value: true }])).code, 422);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('~1 and ~0 escape / and ~ in keys', () => {
  const result = applyJsonPatch({ metadata: { annotations: {} } }, [{ op: 'add', path: '/metadata/annotations/example.com~1a~0b', value: 'x' }]);
  assert.deepStrictEqual(result, { metadata: { annotations: { 'example.com/a~b': 'x' } } });
});
