// The fields of an object its schema does not declare, for server-side field
// validation (fieldValidation=Strict|Warn): kube-apiserver reports them as
// `unknown field "spec.containers[0].foo"`. The same walk checks, for a
// built-in kind, that each value decodes into its field's Go type
// (go-decode.ts).
import { isPlainObject } from '../object.js';
import { Check, checkOf, goDecodeError, goZero, mismatchOf } from './go-decode.js';
import { dereference } from './index.js';
import type { Definitions, Schema } from './types.js';

/** A field's schema dereferenced, and how its values are checked. */
interface Field {
  schema: Schema;
  check: number;
}

const dereferenced = new WeakMap<Definitions, WeakMap<Schema, Field>>();

/** dereference(), remembered: the same schemas are walked on every write. */
function resolved(schema: Schema, defs: Definitions): Field {
  let memo = dereferenced.get(defs);
  if (!memo) {
    memo = new WeakMap();
    dereferenced.set(defs, memo);
  }
  let field = memo.get(schema);
  if (!field) {
    const s = dereference(schema, defs);
    field = { schema: s, check: checkOf(schema, s) };
    memo.set(schema, field);
  }
  return field;
}

/** A field's path as kube-apiserver prints it, from its member names and item indexes. */
function pathOf(segments: readonly (string | number)[]): string {
  let path = '';
  for (const seg of segments) path = typeof seg === 'number' ? `${path}[${seg}]` : path ? `${path}.${seg}` : seg;
  return path;
}

/** One walk's settings and findings. */
interface Walk {
  defs: Definitions;
  root: string;
  path: (string | number)[];
  out: string[];
  remove: boolean;
  patch: boolean;
  types: boolean;
}

/**
 * The zero value Go's decoder leaves for a null list item or map value
 * whose schema is `schema`, when the walk decodes (checks types and
 * changes the object); undefined to leave the null.
 */
function zeroFor(schema: Schema, w: Walk): unknown {
  return w.types && w.remove ? goZero(resolved(schema, w.defs).check) : undefined;
}

// The path is kept as segments and spelled out only for an unknown field or a type error: most writes have neither.
function walk(value: unknown, schema: Schema, w: Walk): void {
  const field = resolved(schema, w.defs);
  if (w.types && field.check !== Check.any) {
    const mismatch = mismatchOf(value, field.check);
    if (mismatch) throw goDecodeError(w.defs, w.root, w.path, mismatch);
  }
  const s = field.schema;
  if (s['x-kubernetes-preserve-unknown-fields'] || s['x-kubernetes-int-or-string']) {
    if (!s.properties || !isPlainObject(value)) return;
  }
  const path = w.path;
  if (Array.isArray(value)) {
    if (!s.items) return;
    for (let i = 0; i < value.length; i++) {
      // A null item is its type's zero value, as Go decodes it (even in a merge patch, which replaces lists whole).
      if (value[i] === null) {
        const zero = zeroFor(s.items, w);
        if (zero !== undefined) value[i] = zero;
      }
      path.push(i);
      walk(value[i], s.items, w);
      path.pop();
    }
    return;
  }
  if (!isPlainObject(value)) return;
  if (s.properties) {
    for (const k of Object.keys(value)) {
      const child = s.properties[k];
      if (value[k] === null) {
        // In a merge patch a null member deletes; it names no field of the result.
        if (w.patch) continue;
        // Decoded, a null field is left unset (nil, or the zero value that omitempty leaves out).
        if (child && w.types && w.remove) {
          delete value[k];
          continue;
        }
      }
      path.push(k);
      if (child) walk(value[k], child, w);
      else if (!s['x-kubernetes-preserve-unknown-fields'] && !s.additionalProperties) {
        w.out.push(pathOf(path));
        if (w.remove) delete value[k];
      }
      path.pop();
    }
    return;
  }
  if (isPlainObject(s.additionalProperties)) {
    const inner = s.additionalProperties as Schema;
    for (const k of Object.keys(value)) {
      // A null map value is its type's zero value, as Go decodes it; in a merge patch it deletes the key.
      if (value[k] === null && !w.patch) {
        const zero = zeroFor(inner, w);
        if (zero !== undefined) value[k] = zero;
      }
      path.push(k);
      walk(value[k], inner, w);
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
 * With `goTypes` (a built-in kind), a value its field's Go type does not take
 * throws the GoDecodeError that decoding it would give, the first in the
 * object's order as Go's decoder reports the first.
 */
export function unknownFields(defs: Definitions, name: string | undefined, obj: unknown, remove = false, mergePatch = false, goTypes = false): string[] {
  const root = name === undefined ? undefined : defs[name];
  if (!root) return [];
  const w: Walk = { defs, root: name!, path: [], out: [], remove, patch: mergePatch, types: goTypes };
  walk(obj, root, w);
  return w.out;
}

/** Throws the GoDecodeError that decoding `value` as definition `name` (a built-in type) gives, if any. */
export function checkGoTypes(defs: Definitions, name: string, value: unknown): void {
  unknownFields(defs, name, value, false, false, true);
}
