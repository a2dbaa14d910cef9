// The shape server-side apply merges by, read from Nami's OpenAPI v2
// definitions the way kube-openapi's schemaconv turns them into
// structured-merge-diff types: list types from x-kubernetes-list-type, or for
// built-in types without one from the strategic-merge-patch markers; map types
// from x-kubernetes-map-type. Without a schema, maps are granular and lists atomic.
import type { Definitions, Schema } from '../schema/types.js';
import { isJsonMap } from './json-value.js';

export type TypeNode = ScalarType | DeducedType | ListType | MapType;

export interface ScalarType {
  readonly kind: 'scalar';
}

/**
 * The value decides: maps are granular with every key deduced, lists atomic,
 * anything else a scalar (structured-merge-diff's "__untyped_deduced_").
 */
export interface DeducedType {
  readonly kind: 'deduced';
}

export interface ListType {
  readonly kind: 'list';
  /** atomic lists are replaced whole; associative ones merged item by item. */
  readonly relationship: 'atomic' | 'associative';
  /** Key fields of a list map; empty for a set of scalars (and for atomic lists). */
  readonly keys: readonly string[];
  readonly element: TypeNode;
  /** The value an item's key field takes when the item omits it. */
  keyDefault(field: string): unknown;
}

export interface MapType {
  readonly kind: 'map';
  readonly relationship: 'atomic' | 'granular';
  /** Type of a declared field (struct property). */
  field(name: string): TypeNode | undefined;
  /** Type of keys that are not declared fields; undefined for a closed struct. */
  readonly element: TypeNode | undefined;
  /** Declared fields that an empty Go struct of this type still carries, with their zero values. */
  zeroFields(): ReadonlyArray<readonly [string, TypeNode, unknown]>;
}

export interface TypeInfoOptions {
  /**
   * Built-in kinds are Go structs in Kubernetes, whose empty object already
   * carries required fields and value structs; that decides which "." entries a
   * create records. Pass false for custom resources, whose empty object is {}.
   * Default: true when a root definition is given.
   */
  builtIn?: boolean;
}

export interface TypeInfo {
  readonly root: TypeNode;
  /** The object an Update-create is compared against (Kubernetes' scheme.New(kind)). */
  emptyObject(): Record<string, unknown>;
}

const deduced: DeducedType = { kind: 'deduced' };
const scalar: ScalarType = { kind: 'scalar' };

/** A map whose keys are all deduced: a schemaless object, a preserve-unknown-fields subtree. */
export const deducedMap: MapType = {
  kind: 'map',
  relationship: 'granular',
  field: () => undefined,
  element: deduced,
  zeroFields: () => [],
};

const deducedList: ListType = { kind: 'list', relationship: 'atomic', keys: [], element: deduced, keyDefault: () => undefined };

/**
 * The concrete shape a value takes under a type: deduced types follow the
 * value; a null is a leaf.
 */
export function shapeOf(t: TypeNode, v: unknown): ScalarType | ListType | MapType {
  if (t.kind !== 'deduced') return t;
  if (isJsonMap(v)) return deducedMap;
  if (Array.isArray(v)) return deducedList;
  return scalar;
}

/**
 * Key fields of built-in list maps that Kubernetes defaults (its published
 * definitions carry them as "default"; ours may not yet). Without the default
 * an applied port without a protocol would never match the stored,
 * defaulted one.
 */
const builtInKeyDefaults: Record<string, Record<string, unknown>> = {
  'io.k8s.api.core.v1.ContainerPort': { protocol: 'TCP' },
  'io.k8s.api.core.v1.ServicePort': { protocol: 'TCP' },
  'io.k8s.api.core.v1.EndpointPort': { protocol: 'TCP' },
};

const schemaless: TypeInfo = { root: deduced, emptyObject: () => ({}) };
const emptyOfSchemaless: Record<string, unknown> = {};
/** The empty object of each TypeInfo made here, uncopied. */
const sharedEmptyObjects = new WeakMap<TypeInfo, () => Record<string, unknown>>([[schemaless, () => emptyOfSchemaless]]);

/** info.emptyObject() without the copy, for callers that only read it. */
export function sharedEmptyObject(info: TypeInfo): Readonly<Record<string, unknown>> {
  return sharedEmptyObjects.get(info)?.() ?? info.emptyObject();
}

const built = new WeakMap<Definitions, { builder: TypeBuilder; infos: Map<string, TypeInfo> }>();

/**
 * Type information for objects of one definition; an undefined or unknown
 * name means no schema. Remembered per definitions object, so calling it on
 * every request is cheap.
 */
export function typeInfoFor(defs: Definitions, rootDefinitionName: string | undefined, options: TypeInfoOptions = {}): TypeInfo {
  if (rootDefinitionName === undefined || !defs[rootDefinitionName]) return schemaless;
  let entry = built.get(defs);
  if (!entry) {
    entry = { builder: new TypeBuilder(defs), infos: new Map() };
    built.set(defs, entry);
  }
  const builtIn = options.builtIn ?? true;
  const cacheKey = `${builtIn ? 'builtIn' : 'custom'}:${rootDefinitionName}`;
  let info = entry.infos.get(cacheKey);
  if (!info) {
    const rootType = entry.builder.build({ $ref: `#/definitions/${rootDefinitionName}` });
    let empty: Record<string, unknown> | undefined;
    const shared = (): Record<string, unknown> => (empty ??= builtIn && rootType.kind === 'map' ? zeroStruct(rootType, 0) : {});
    info = {
      root: rootType,
      emptyObject: () => structuredClone(shared()),
    };
    sharedEmptyObjects.set(info, shared);
    entry.infos.set(cacheKey, info);
  }
  return info;
}

function refName(ref: string): string {
  return ref.replace(/^#\/definitions\//, '').replace(/^#\/components\/schemas\//, '');
}

class TypeBuilder {
  private readonly cache = new WeakMap<Schema, TypeNode>();

  constructor(private readonly defs: Definitions) {}

  build(schema: Schema): TypeNode {
    let t = this.cache.get(schema);
    if (!t) {
      t = this.create(schema);
      this.cache.set(schema, t);
    }
    return t;
  }

  /** The referenced definition with the referring schema's own keywords laid over it. */
  private dereference(schema: Schema): { schema: Schema; definitionName: string | undefined } {
    let current = schema;
    let definitionName: string | undefined;
    const seen = new Set<string>();
    while (current.$ref !== undefined && !seen.has(current.$ref)) {
      seen.add(current.$ref);
      definitionName = refName(current.$ref);
      const target = this.defs[definitionName];
      if (!target) return { schema: { ...current, $ref: undefined }, definitionName };
      const { $ref: _ref, ...own } = current;
      current = { ...target, ...own };
    }
    return { schema: current, definitionName };
  }

  private create(raw: Schema): TypeNode {
    const { schema } = this.dereference(raw);
    if (schema['x-kubernetes-int-or-string']) return scalar;
    if (schema.type === 'array' || (schema.type === undefined && schema.items)) return this.list(schema);
    if (schema.type === 'object' || schema.properties || schema.additionalProperties !== undefined) return this.map(schema);
    if (schema.type !== undefined) return scalar;
    return deduced;
  }

  private list(schema: Schema): ListType {
    const { relationship, keys } = listRelationship(schema);
    const itemSchema = schema.items;
    const builder = this;
    let element: TypeNode | undefined;
    let keyDefaults: Record<string, unknown> | undefined;
    return {
      kind: 'list',
      relationship,
      keys,
      get element() {
        element ??= itemSchema ? builder.build(itemSchema) : deduced;
        return element;
      },
      keyDefault(field) {
        keyDefaults ??= itemSchema ? builder.keyDefaults(itemSchema, keys) : {};
        return keyDefaults[field];
      },
    };
  }

  private keyDefaults(itemSchema: Schema, keys: readonly string[]): Record<string, unknown> {
    const { schema, definitionName } = this.dereference(itemSchema);
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const property = schema.properties?.[key];
      const own = property ? this.dereference(property).schema.default : undefined;
      const known = definitionName ? builtInKeyDefaults[definitionName]?.[key] : undefined;
      if (own !== undefined) out[key] = own;
      else if (known !== undefined) out[key] = known;
    }
    return out;
  }

  private map(schema: Schema): MapType {
    const builder = this;
    const properties = schema.properties ?? {};
    const required = new Set(schema.required ?? []);
    const fields = new Map<string, TypeNode>();
    let element: TypeNode | undefined | null = null;
    let zero: Array<readonly [string, TypeNode, unknown]> | undefined;
    const relationship = schema['x-kubernetes-map-type'] === 'atomic' ? 'atomic' : 'granular';
    const hasProperties = Object.keys(properties).length > 0;
    const node: MapType = {
      kind: 'map',
      relationship,
      field(name) {
        if (!Object.hasOwn(properties, name)) return undefined;
        let t = fields.get(name);
        if (!t) {
          t = builder.build(properties[name] as Schema);
          fields.set(name, t);
        }
        return t;
      },
      get element() {
        if (element === null) {
          const ap = schema.additionalProperties;
          if (typeof ap === 'object') element = builder.build(ap);
          else if (ap === true || schema['x-kubernetes-preserve-unknown-fields'] || !hasProperties) element = deduced;
          else element = undefined;
        }
        return element;
      },
      zeroFields() {
        zero ??= Object.keys(properties).flatMap((name) => {
          const property = builder.dereference(properties[name] as Schema).schema;
          const isValueStruct = isJsonMap(property.default);
          if (!isValueStruct && !required.has(name)) return [];
          const t = node.field(name) ?? deduced;
          return [[name, t, isValueStruct ? property.default : zeroScalar(property)] as const];
        });
        return zero;
      },
    };
    return node;
  }
}

function zeroScalar(schema: Schema): unknown {
  switch (schema.type) {
    case 'string':
      return schema['x-kubernetes-int-or-string'] || schema.format === 'int-or-string' ? null : '';
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return false;
    default:
      return null;
  }
}

/**
 * What Go's encoding of a zero struct holds: value structs as objects of their
 * own zero fields, required pointers, lists and maps as null, required scalars
 * as their zero.
 */
function zeroStruct(t: MapType, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (depth > 16) return out;
  for (const [name, fieldType, zero] of t.zeroFields()) {
    if (isJsonMap(zero)) out[name] = fieldType.kind === 'map' ? { ...zeroStruct(fieldType, depth + 1), ...zero } : zero;
    else out[name] = zero;
  }
  return out;
}

function listRelationship(schema: Schema): { relationship: 'atomic' | 'associative'; keys: readonly string[] } {
  const listType = schema['x-kubernetes-list-type'];
  if (listType !== undefined) {
    if (listType === 'set') return { relationship: 'associative', keys: [] };
    if (listType === 'map') return { relationship: 'associative', keys: schema['x-kubernetes-list-map-keys'] ?? [] };
    return { relationship: 'atomic', keys: [] };
  }
  const strategy = schema['x-kubernetes-patch-strategy'];
  if (strategy !== undefined && strategy.split(',').includes('merge')) {
    const mergeKey = schema['x-kubernetes-patch-merge-key'];
    return { relationship: 'associative', keys: mergeKey !== undefined ? [mergeKey] : [] };
  }
  return { relationship: 'atomic', keys: [] };
}
