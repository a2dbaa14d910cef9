// The fields of an object its schema does not declare, for server-side field
// validation (fieldValidation=Strict|Warn): kube-apiserver reports them as
// `unknown field "spec.containers[0].foo"`.
import { isPlainObject } from '../object.js';
import { dereference } from './index.js';
import type { Definitions, Schema } from './types.js';

const dereferenced = new WeakMap<Definitions, WeakMap<Schema, Schema>>();

/** dereference(), remembered: the same schemas are walked on every write. */
function resolved(schema: Schema, defs: Definitions): Schema {
  let memo = dereferenced.get(defs);
  if (!memo) {
    memo = new WeakMap();
    dereferenced.set(defs, memo);
  }
  let s = memo.get(schema);
  if (!s) {
    s = dereference(schema, defs);
    memo.set(schema, s);
  }
  return s;
}

/** A field's path as kube-apiserver prints it, from its member names and item indexes. */
function pathOf(segments: readonly (string | number)[]): string {
  let path = '';
  for (const seg of segments) path = typeof seg === 'number' ? `${path}[${seg}]` : path ? `${path}.${seg}` : seg;
  return path;
}

// The path is kept as segments and spelled out only for an unknown field: most writes have none.
function walk(value: unknown, schema: Schema, defs: Definitions, path: (string | number)[], out: string[], remove: boolean, patch: boolean): void {
  const s = resolved(schema, defs);
  if (s['x-kubernetes-preserve-unknown-fields'] || s['x-kubernetes-int-or-string']) {
    if (!s.properties || !isPlainObject(value)) return;
  }
  if (Array.isArray(value)) {
    if (!s.items) return;
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      walk(value[i], s.items, defs, path, out, remove, patch);
      path.pop();
    }
    return;
  }
  if (!isPlainObject(value)) return;
  if (s.properties) {
    for (const k of Object.keys(value)) {
      const child = s.properties[k];
      // In a merge patch a null member deletes; it names no field of the result.
      if (patch && value[k] === null) continue;
      path.push(k);
      if (child) walk(value[k], child, defs, path, out, remove, patch);
      else if (!s['x-kubernetes-preserve-unknown-fields'] && !s.additionalProperties) {
        out.push(pathOf(path));
        if (remove) delete value[k];
      }
      path.pop();
    }
    return;
  }
  if (isPlainObject(s.additionalProperties)) {
    const inner = s.additionalProperties as Schema;
    for (const k of Object.keys(value)) {
      path.push(k);
      walk(value[k], inner, defs, path, out, remove, patch);
      path.pop();
    }
  }
}

/**
 * Paths of the fields in `obj` that definition `name` does not know, in the
 * object's order. Schemaless parts (preserve-unknown-fields, free-form maps)
 * accept anything; an unknown definition accepts everything. With `remove`
 * the fields are also deleted, as decoding into Kubernetes' Go types drops them.
 * With `mergePatch`, obj is a JSON merge patch whose null members delete.
 */
export function unknownFields(defs: Definitions, name: string | undefined, obj: unknown, remove = false, mergePatch = false): string[] {
  const root = name === undefined ? undefined : defs[name];
  if (!root) return [];
  const out: string[] = [];
  walk(obj, root, defs, [], out, remove, mergePatch);
  return out;
}
