// Dotted field paths into decoded JSON, with the errors Kubernetes'
// unstructured helpers give (a custom resource's scale paths use them).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NestedFieldError, nestedInt64, nestedString, setNestedField, splitFieldPath } from '../../src/api/unstructured.js';

describe('unstructured field paths', () => {
  it('splits a path with or without its leading period', () => {
    assert.deepEqual(splitFieldPath('.spec.replicas'), ['spec', 'replicas']);
    assert.deepEqual(splitFieldPath('spec.replicas'), ['spec', 'replicas']);
  });

  it('reads an integer, found or not; a null on the way is not found', () => {
    assert.deepEqual(nestedInt64({ spec: { n: 3 } }, ['spec', 'n']), { value: 3, found: true });
    assert.deepEqual(nestedInt64({ spec: {} }, ['spec', 'n']), { value: 0, found: false });
    assert.deepEqual(nestedInt64({ spec: null }, ['spec', 'n']), { value: 0, found: false });
  });

  it('names the path and the Go types when a value is of another type', () => {
    assert.throws(() => nestedInt64({ spec: { n: 'three' } }, ['spec', 'n']), new NestedFieldError('.spec.n accessor error: three is of the type string, expected int64'));
    assert.throws(() => nestedInt64({ spec: { n: 1.5 } }, ['spec', 'n']), new NestedFieldError('.spec.n accessor error: 1.5 is of the type float64, expected int64'));
    assert.throws(() => nestedInt64({ spec: [1] }, ['spec', 'n']), new NestedFieldError('.spec.n accessor error: [1] is of the type []interface {}, expected map[string]interface{}'));
    assert.throws(() => nestedString({ status: { sel: 7 } }, ['status', 'sel']), new NestedFieldError('.status.sel accessor error: 7 is of the type int64, expected string'));
    assert.deepEqual(nestedString({ status: { sel: 'a=b' } }, ['status', 'sel']), { value: 'a=b', found: true });
  });

  it('sets a value, making the objects on the way, and refuses to go through anything else', () => {
    const obj: Record<string, unknown> = { spec: { keep: true } };
    setNestedField(obj, 4, ['spec', 'scale', 'size']);
    assert.deepEqual(obj, { spec: { keep: true, scale: { size: 4 } } });
    assert.throws(() => setNestedField({ spec: 'x' }, 4, ['spec', 'size']), new NestedFieldError('value cannot be set because .spec is not a map[string]interface{}'));
    assert.throws(() => setNestedField({ spec: null }, 4, ['spec', 'size']), /\.spec is not a map/);
  });
});
