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

function walk(value: unknown, schema: Schema, defs: Definitions, path: string, out: string[], remove: boolean): void {
  const s = resolved(schema, defs);
  if (s['x-kubernetes-preserve-unknown-fields'] || s['x-kubernetes-int-or-string']) {
    if (!s.properties || !isPlainObject(value)) return;
  }
  if (Array.isArray(value)) {
    if (s.items) value.forEach((v, i) => walk(v, s.items!, defs, `${path}[${i}]`, out, remove));
    return;
  }
  if (!isPlainObject(value)) return;
  if (s.properties) {
    for (const [k, v] of Object.entries(value)) {
      const child = s.properties[k];
      const p = path ? `${path}.${k}` : k;
      if (child) walk(v, child, defs, p, out, remove);
      else if (!s['x-kubernetes-preserve-unknown-fields'] && !s.additionalProperties) {
        out.push(p);
        if (remove) delete value[k];
      }
    }
    return;
  }
  if (isPlainObject(s.additionalProperties)) {
    const inner = s.additionalProperties as Schema;
    for (const [k, v] of Object.entries(value)) walk(v, inner, defs, path ? `${path}.${k}` : k, out, remove);
  }
}

/**
 * Paths of the fields in `obj` that definition `name` does not know, in the
 * object's order. Schemaless parts (preserve-unknown-fields, free-form maps)
 * accept anything; an unknown definition accepts everything. With `remove`
 * the fields are also deleted, as decoding into Kubernetes' Go types drops them.
 */
export function unknownFields(defs: Definitions, name: string | undefined, obj: unknown, remove = false): string[] {
  const root = name === undefined ? undefined : defs[name];
  if (!root) return [];
  const out: string[] = [];
  walk(obj, root, defs, '', out, remove);
  return out;
}
