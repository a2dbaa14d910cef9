// What strategic merge patch needs to know about a type: for each field, its
// patch strategy and merge key, and the same knowledge for the field's value.
// Kubernetes reads it from Go struct tags; Nami reads it from its type
// definitions (x-kubernetes-patch-strategy, x-kubernetes-patch-merge-key).
import type { Definitions, Schema } from '../schema/types.js';
import { MalformedPatchError, goValue } from './patch-errors.js';

/** '' is the default: maps are merged key by key and lists are replaced. */
export type PatchStrategy = '' | 'merge' | 'replace';

export interface FieldPatchMeta {
  strategy: PatchStrategy;
  /** The field also has strategy retainKeys (Deployment spec.strategy, PodSpec volumes). */
  retainKeys: boolean;
  /** The key identifying list elements ("name" for containers); '' when there is none. */
  mergeKey: string;
  /** The field's value: for a map its own fields, for a list its elements. */
  value: PatchMeta;
}

export interface PatchMeta {
  /** Describes the field `name` of the object this meta stands for. Unknown fields get default semantics. */
  field(name: string): FieldPatchMeta;
  /** The type's name, for error messages. */
  readonly name: string;
}

/**
 * Types without a schema (custom resources without one, embedded raw objects)
 * patch as Kubernetes patches them: maps merge, lists are replaced.
 */
export const schemalessPatchMeta: PatchMeta = {
  name: 'unknown',
  field(): FieldPatchMeta {
    return { strategy: '', retainKeys: false, mergeKey: '', value: schemalessPatchMeta };
  },
};

/** The meta of the field at `path` (field names; list elements need no step of their own). */
export function fieldPatchMetaAt(meta: PatchMeta, path: readonly string[]): FieldPatchMeta | undefined {
  let current = meta;
  let field: FieldPatchMeta | undefined;
  for (const name of path) {
    field = current.field(name);
    current = field.value;
  }
  return field;
}

/** Splits "merge,retainKeys" as strategicpatch's extractRetainKeysPatchStrategy does. */
export function parsePatchStrategy(text: string | undefined): { strategy: PatchStrategy; retainKeys: boolean } {
  const parts = text ? text.split(',') : [];
  const unexpected = (): MalformedPatchError => new MalformedPatchError(`unexpected patch strategy: ${goValue(parts)}`);
  const known = (s: string): PatchStrategy => {
    if (s === 'merge' || s === 'replace') return s;
    throw unexpected();
  };
  if (parts.length === 0) return { strategy: '', retainKeys: false };
  if (parts.length === 1) return parts[0] === 'retainKeys' ? { strategy: '', retainKeys: true } : { strategy: known(parts[0] ?? ''), retainKeys: false };
  if (parts.length === 2) {
    if (parts[0] === 'retainKeys') return { strategy: known(parts[1] ?? ''), retainKeys: true };
    if (parts[1] === 'retainKeys') return { strategy: known(parts[0] ?? ''), retainKeys: true };
  }
  throw unexpected();
}

function refName(ref: string): string {
  return ref.replace(/^#\/definitions\//, '').replace(/^#\/components\/schemas\//, '');
}

/** Follows $ref chains, the referring schema's own keywords winning over the target's. */
function dereference(schema: Schema, defs: Definitions): Schema {
  let current = schema;
  const seen = new Set<string>();
  while (current.$ref !== undefined && !seen.has(current.$ref)) {
    seen.add(current.$ref);
    const target = defs[refName(current.$ref)];
    if (!target) break;
    const { $ref: _followed, ...own } = current;
    current = { ...target, ...own };
  }
  return current;
}

/**
 * Patch metadata read from OpenAPI v2 definitions. Walks $ref, properties,
 * items and additionalProperties; fields the schema does not describe get
 * default semantics, as for a type without schema.
 */
export class SchemaPatchMeta implements PatchMeta {
  readonly name: string;
  private readonly schema: Schema;
  private readonly fields = new Map<string, FieldPatchMeta>();

  /** `root` is a definition name ("io.k8s.api.apps.v1.Deployment") or a schema. */
  constructor(
    private readonly defs: Definitions,
    root: string | Schema,
  ) {
    if (typeof root === 'string') {
      this.name = root;
      this.schema = defs[root] ? dereference(defs[root], defs) : {};
    } else {
      this.name = root.$ref !== undefined ? refName(root.$ref) : (root.type ?? 'object');
      this.schema = dereference(root, defs);
    }
  }

  field(name: string): FieldPatchMeta {
    let meta = this.fields.get(name);
    if (!meta) {
      meta = this.lookup(name);
      this.fields.set(name, meta);
    }
    return meta;
  }

  private lookup(name: string): FieldPatchMeta {
    const property = this.schema.properties && Object.hasOwn(this.schema.properties, name) ? this.schema.properties[name] : undefined;
    const declared = property ?? (typeof this.schema.additionalProperties === 'object' ? this.schema.additionalProperties : undefined);
    if (!declared) return schemalessPatchMeta.field(name);
    const resolved = dereference(declared, this.defs);
    const { strategy, retainKeys } = parsePatchStrategy(resolved['x-kubernetes-patch-strategy']);
    return {
      strategy,
      retainKeys,
      mergeKey: resolved['x-kubernetes-patch-merge-key'] ?? '',
      value: valueMeta(this.defs, declared, resolved),
    };
  }
}

// Types are recursive (JSONSchemaProps, the strategic patch tests' mergeItem) and
// shared by many fields, so each declared schema gets one meta, built lazily.
const valueMetas = new WeakMap<Definitions, WeakMap<Schema, PatchMeta>>();

function valueMeta(defs: Definitions, declared: Schema, resolved: Schema): PatchMeta {
  let cache = valueMetas.get(defs);
  if (!cache) {
    cache = new WeakMap();
    valueMetas.set(defs, cache);
  }
  let meta = cache.get(declared);
  if (!meta) {
    const value = resolved.type === 'array' || resolved.items ? (resolved.items ?? {}) : declared;
    const target = dereference(value, defs);
    meta = target['x-kubernetes-preserve-unknown-fields'] && !target.properties ? schemalessPatchMeta : new SchemaPatchMeta(defs, value);
    cache.set(declared, meta);
  }
  return meta;
}
