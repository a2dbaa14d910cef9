// Fields of a decoded JSON object named by a dotted path, read and written as
// Kubernetes' unstructured helpers do (NestedInt64, NestedString,
// SetNestedField), with their errors. A custom resource's scale subresource
// names its replicas and selector fields this way (".spec.replicas").
import { goTypeName, goValue } from './patch/patch-errors.js';
import { isPlainObject } from './object.js';

/** A path as a CRD writes it (".spec.replicas", the leading period optional), split into field names. */
export function splitFieldPath(path: string): string[] {
  return (path.startsWith('.') ? path.slice(1) : path).split('.');
}

function jsonPath(fields: readonly string[]): string {
  return `.${fields.join('.')}`;
}

/** A value the path does not lead to, as NestedFieldNoCopy words it. */
export class NestedFieldError extends Error {
  override name = 'NestedFieldError';
}

/** The value at the path, found or not (a null on the way is not found); an error when a field on the way is not an object. */
function nestedField(obj: Record<string, unknown>, fields: readonly string[]): { found: boolean; value?: unknown } {
  let value: unknown = obj;
  for (let i = 0; i < fields.length; i++) {
    if (value === null) return { found: false };
    if (!isPlainObject(value)) {
      throw new NestedFieldError(`${jsonPath(fields.slice(0, i + 1))} accessor error: ${goValue(value)} is of the type ${goTypeName(value)}, expected map[string]interface{}`);
    }
    if (!Object.prototype.hasOwnProperty.call(value, fields[i]!)) return { found: false };
    value = value[fields[i]!];
  }
  return { found: true, value };
}

/** The integer at the path (0 when absent); an error for another type. */
export function nestedInt64(obj: Record<string, unknown>, fields: readonly string[]): { value: number; found: boolean } {
  const { found, value } = nestedField(obj, fields);
  if (!found) return { value: 0, found: false };
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new NestedFieldError(`${jsonPath(fields)} accessor error: ${goValue(value)} is of the type ${goTypeName(value)}, expected int64`);
  }
  return { value, found: true };
}

/** The string at the path ('' when absent); an error for another type. */
export function nestedString(obj: Record<string, unknown>, fields: readonly string[]): { value: string; found: boolean } {
  const { found, value } = nestedField(obj, fields);
  if (!found) return { value: '', found: false };
  if (typeof value !== 'string') {
    throw new NestedFieldError(`${jsonPath(fields)} accessor error: ${goValue(value)} is of the type ${goTypeName(value)}, expected string`);
  }
  return { value, found: true };
}

/** Sets the value at the path, making the objects on the way; an error when a field on the way holds something else. */
export function setNestedField(obj: Record<string, unknown>, value: unknown, fields: readonly string[]): void {
  let m = obj;
  for (let i = 0; i < fields.length - 1; i++) {
    const field = fields[i]!;
    const next = m[field];
    if (next === undefined) {
      const made: Record<string, unknown> = {};
      m[field] = made;
      m = made;
    } else if (isPlainObject(next)) {
      m = next;
    } else {
      throw new NestedFieldError(`value cannot be set because ${jsonPath(fields.slice(0, i + 1))} is not a map[string]interface{}`);
    }
  }
  m[fields[fields.length - 1]!] = value;
}
