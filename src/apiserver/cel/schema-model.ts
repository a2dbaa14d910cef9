// How a CRD's structural schema looks to CEL, as Kubernetes' SchemaDeclType
// declares it: objects with properties are object types whose fields are the
// properties (names escaped), objects with additionalProperties maps of
// string, arrays lists, int-or-string dyn, strings of format byte, duration
// and date(-time) bytes, durations and timestamps. What the schema does not
// type (a field that only preserves unknown fields) is not visible at all.
import type { Environment } from '@marcbachmann/cel-js';
import { isPlainObject } from '../../api/object.js';
import { celEquals } from './values.js';

export type ScalarType = 'int' | 'double' | 'string' | 'bool' | 'bytes' | 'google.protobuf.Duration' | 'google.protobuf.Timestamp';

export interface ObjectField {
  /** The field's name in CEL (escaped). */
  readonly name: string;
  readonly model: CelModel;
}

/**
 * minSize is the fewest bytes a value takes in JSON, and maxElements how many
 * items or entries a list or map can hold in one request (its maxItems or
 * maxProperties, else as many of the smallest as 3 MiB fits), as Kubernetes
 * estimates them to bound what a rule may cost.
 */
export type CelModel = { readonly minSize: number } & (
  | { readonly kind: 'object'; readonly typeName: string; readonly ctor: new () => object; readonly fields: ReadonlyMap<string, ObjectField> }
  | { readonly kind: 'map'; readonly typeName: string; readonly values: CelModel; readonly maxElements: number }
  | {
      readonly kind: 'list';
      readonly typeName: string;
      readonly items: CelModel;
      readonly maxElements: number;
      /** A set of scalars (x-kubernetes-list-type: set): compared without regard to order, as Kubernetes compares it. */
      readonly unordered: boolean;
    }
  | { readonly kind: 'scalar'; readonly typeName: ScalarType }
  | { readonly kind: 'dyn'; readonly typeName: 'dyn' }
);

/** The largest request body Kubernetes takes (3 MiB), the bound of every estimate. */
const maxRequestSizeBytes = 3 * 1024 * 1024;

type RawSchema = Record<string, unknown>;

const reservedWords = new Set(['true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while']);
const escapable = /^[a-zA-Z_.\-/][a-zA-Z0-9_.\-/]*$/;

/**
 * A property's name as a CEL field name, as Kubernetes escapes it ("x-prop"
 * is x__dash__prop, "namespace" __namespace__), or undefined when no CEL
 * name can stand for it (the property is then not visible to rules).
 */
export function escapeFieldName(name: string): string | undefined {
  if (reservedWords.has(name)) return `__${name}__`;
  if (!escapable.test(name)) return undefined;
  return name.replace(/__|[.\-/]/g, (m) => (m === '__' ? '__underscores__' : m === '.' ? '__dot__' : m === '-' ? '__dash__' : '__slash__'));
}

const stringType = { type: 'string' };

/** The schema with apiVersion, kind and metadata.name/generateName, which rules at a resource's root always see. */
export function withTypeAndObjectMeta(schema: RawSchema): RawSchema {
  const properties = isPlainObject(schema.properties) ? (schema.properties as Record<string, RawSchema>) : {};
  return {
    ...schema,
    type: 'object',
    properties: { ...properties, kind: stringType, apiVersion: stringType, metadata: { type: 'object', properties: { name: stringType, generateName: stringType } } },
  };
}

/**
 * Declares the CEL types of a schema on the environment (object types under
 * names that start with typeName, a list's items under "<name>.__items__"
 * and a map's values under "<name>.__values__", which no escaped property
 * name can be) and returns how its values map to CEL, or
 * undefined when rules cannot see the value.
 */
export function declareSchema(env: Environment, schema: RawSchema, typeName: string, isResourceRoot: boolean): CelModel | undefined {
  if (schema['x-kubernetes-int-or-string'] === true) return { kind: 'dyn', typeName: 'dyn', minSize: 1 };
  const s = isResourceRoot ? withTypeAndObjectMeta(schema) : schema;
  switch (s.type) {
    case 'array': {
      if (!isPlainObject(s.items)) return undefined;
      const items = declareSchema(env, s.items as RawSchema, `${typeName}.__items__`, (s.items as RawSchema)['x-kubernetes-embedded-resource'] === true);
      if (!items) return undefined;
      const maxElements = typeof s.maxItems === 'number' ? Math.max(0, s.maxItems) : Math.floor((maxRequestSizeBytes - 2) / (items.minSize + 1));
      const unordered = s['x-kubernetes-list-type'] === 'set' && (items.kind === 'scalar' || items.kind === 'dyn');
      return { kind: 'list', typeName: `list<${items.typeName}>`, items, maxElements, minSize: 2, unordered };
    }
    case 'object': {
      if (isPlainObject(s.additionalProperties)) {
        const extra = s.additionalProperties as RawSchema;
        const values = declareSchema(env, extra, `${typeName}.__values__`, extra['x-kubernetes-embedded-resource'] === true);
        if (!values) return undefined;
        const maxElements = typeof s.maxProperties === 'number' ? Math.max(0, s.maxProperties) : Math.floor((maxRequestSizeBytes - 2) / (values.minSize + 6));
        return { kind: 'map', typeName: `map<string, ${values.typeName}>`, values, maxElements, minSize: 2 };
      }
      const fields = new Map<string, ObjectField>();
      const properties = isPlainObject(s.properties) ? (s.properties as Record<string, RawSchema>) : {};
      const required = new Set(Array.isArray(s.required) ? s.required : []);
      let minSize = 2;
      for (const [key, prop] of Object.entries(properties)) {
        if (!isPlainObject(prop)) continue;
        const name = escapeFieldName(key);
        if (name === undefined) continue;
        const model = declareSchema(env, prop, `${typeName}.${name}`, prop['x-kubernetes-embedded-resource'] === true);
        if (!model) continue;
        fields.set(key, { name, model });
        if (required.has(key) && prop.default === undefined) minSize += key.length + model.minSize + 4;
      }
      // One class per object type: cel-js finds a value's type by its constructor.
      const ctor = { [typeName]: class {} }[typeName]!;
      env.registerType(typeName, { ctor, fields: Object.fromEntries([...fields.values()].map((f) => [f.name, f.model.typeName])) });
      // cel-js has no equality of its own for declared types: self == oldSelf (Kubernetes' immutability rule) compares their fields (!= comes with it).
      env.registerOperator(`${typeName} == ${typeName}`, (a: unknown, b: unknown) => celEquals(a, b));
      return { kind: 'object', typeName, ctor, fields, minSize };
    }
    case 'string':
      switch (s.format) {
        case 'byte':
          return { kind: 'scalar', typeName: 'bytes', minSize: 2 };
        case 'duration':
          return { kind: 'scalar', typeName: 'google.protobuf.Duration', minSize: 4 };
        case 'date':
        case 'date-time':
          return { kind: 'scalar', typeName: 'google.protobuf.Timestamp', minSize: 12 };
        default:
          return { kind: 'scalar', typeName: 'string', minSize: 2 };
      }
    case 'boolean':
      return { kind: 'scalar', typeName: 'bool', minSize: 4 };
    case 'number':
      return { kind: 'scalar', typeName: 'double', minSize: 1 };
    case 'integer':
      return { kind: 'scalar', typeName: 'int', minSize: 1 };
    default:
      return undefined;
  }
}
