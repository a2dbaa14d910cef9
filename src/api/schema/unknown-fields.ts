// The fields of an object its schema does not declare, for server-side field
// validation (fieldValidation=Strict|Warn): kube-apiserver reports them as
// `unknown field "spec.containers[0].foo"`. The same walk checks, for a
// built-in kind, that each value decodes into its field's Go type
// (go-decode.ts), and drops the members Go's encoding/json writes nothing
// for when empty (go-omitempty.ts).
import { isPlainObject } from '../object.js';
import { Check, checkOf, definitionPrefix, goDecodeError, goZero, mismatchOf, refName } from './go-decode.js';
import { isGoEmpty, omitEmptyFields } from './go-omitempty.js';
import { dereference } from './index.js';
import type { Definitions, Schema } from './types.js';

/** A field's schema dereferenced, and how its values are checked. */
interface Field {
  schema: Schema;
  check: number;
  /** The members of a Go struct that encoding/json leaves out when empty (see omitEmptyFields). */
  omit: ReadonlyMap<string, number> | undefined;
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
    const ref = refName(schema);
    field = { schema: s, check: checkOf(schema, s), omit: ref === undefined ? undefined : omitEmptyFields(ref) };
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
  /** Members Go writes nothing for when empty are deleted. */
  empties: boolean;
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
      if (child) {
        walk(value[k], child, w);
        if (w.empties) dropIfEmpty(value, k, field);
      } else if (!s['x-kubernetes-preserve-unknown-fields'] && !s.additionalProperties) {
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

/** Deletes member `k` of a struct when Go's encoding/json leaves it out: omitempty, and empty. */
function dropIfEmpty(obj: Record<string, unknown>, k: string, struct: Field): void {
  const empty = struct.omit?.get(k);
  if (empty !== undefined && isGoEmpty(obj[k], empty)) delete obj[k];
}

/** How unknownFields walks an object. */
export interface FieldWalkOptions {
  /**
   * Delete the unknown fields, as decoding into Kubernetes' Go types drops
   * them, and the members Go writes nothing for when empty (unless
   * `keepEmpty`), as encoding the decoded value leaves them out.
   */
  remove?: boolean;
  /** obj is a JSON merge patch, whose null members delete: its empty members are left for the patch's result. */
  mergePatch?: boolean;
  /**
   * A built-in kind: a value its field's Go type does not take throws the
   * GoDecodeError that decoding it would give, the first in the object's
   * order as Go's decoder reports the first.
   */
  goTypes?: boolean;
  /** With remove: keep empty members (an applied configuration's, which are fields its manager sets). */
  keepEmpty?: boolean;
}

/** The root of a walk of definition `name`: a reference to it, so that its struct's rules are found as a member's are. */
const rootRefs = new WeakMap<Definitions, Map<string, Schema>>();

function rootRef(defs: Definitions, name: string): Schema {
  let refs = rootRefs.get(defs);
  if (!refs) {
    refs = new Map();
    rootRefs.set(defs, refs);
  }
  let ref = refs.get(name);
  if (!ref) {
    ref = { $ref: `${definitionPrefix}${name}` };
    refs.set(name, ref);
  }
  return ref;
}

/**
 * Paths of the fields in `obj` that definition `name` does not know, in the
 * object's order. Schemaless parts (preserve-unknown-fields, free-form maps)
 * accept anything; an unknown definition accepts everything.
 */
export function unknownFields(defs: Definitions, name: string | undefined, obj: unknown, opts: FieldWalkOptions = {}): string[] {
  if (name === undefined || !defs[name]) return [];
  const remove = opts.remove ?? false;
  const patch = opts.mergePatch ?? false;
  const w: Walk = { defs, root: name, path: [], out: [], remove, patch, types: opts.goTypes ?? false, empties: remove && !patch && !opts.keepEmpty };
  walk(obj, rootRef(defs, name), w);
  return w.out;
}

/** Throws the GoDecodeError that decoding `value` as definition `name` (a built-in type) gives, if any. */
export function checkGoTypes(defs: Definitions, name: string, value: unknown): void {
  unknownFields(defs, name, value, { goTypes: true });
}

/**
 * Drops, from the result of a JSON merge patch, the members Go writes
 * nothing for when empty, where the patch reached: the rest of `result` is
 * the patched object's, already without them, and may be shared with it.
 * Along the patch's paths the result is its own (merge patches copy those
 * objects), so they are changed in place.
 */
export function dropEmptiesAlong(defs: Definitions, name: string, result: unknown, patch: unknown): void {
  if (!defs[name]) return;
  along(result, rootRef(defs, name), patch, { defs, root: name, path: [], out: [], remove: true, patch: false, types: false, empties: true });
}

function along(value: unknown, schema: Schema, patch: unknown, w: Walk): void {
  // A member the patch set to a value of its own (not merged into an object) is new: all of it is walked.
  if (!isPlainObject(value) || !isPlainObject(patch)) {
    walk(value, schema, w);
    return;
  }
  const field = resolved(schema, w.defs);
  const s = field.schema;
  const inner = s.properties ? undefined : isPlainObject(s.additionalProperties) ? (s.additionalProperties as Schema) : undefined;
  if (!s.properties && !inner) return;
  for (const k of Object.keys(patch)) {
    if (!Object.hasOwn(value, k)) continue;
    const child = s.properties ? s.properties[k] : inner;
    if (!child) continue;
    along(value[k], child, patch[k], w);
    if (s.properties) dropIfEmpty(value, k, field);
  }
}
