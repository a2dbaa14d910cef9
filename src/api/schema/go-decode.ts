// What decoding a built-in kind into its Go type refuses, worded as
// kube-apiserver's JSON decoder (Go's encoding/json) words it: a value of the
// wrong JSON type for its field, an integer its field cannot hold, a []byte
// that is not base64. Nami keeps objects as JSON; without this check a Pod
// whose env value was `true`, or whose labels were a string, was stored as
// sent, and broke every client that decodes Pods into types.
import { isPlainObject } from '../object.js';
import { quantityFormatMessage } from '../quantity.js';
import { dereference } from './index.js';
import type { Definitions, Schema } from './types.js';

/** A value Go's decoder does not take into its field; the message is the decoder's. */
export class GoDecodeError extends Error {
  override readonly name = 'GoDecodeError';
}

/** How a value is checked against its field. */
export const Check = {
  /** Anything (RawExtension, FieldsV1, apiextensions JSON, a field without a type). */
  any: 0,
  string: 1,
  /** []byte: a base64 string. */
  bytes: 2,
  int32: 3,
  int64: 4,
  float: 5,
  bool: 6,
  array: 7,
  object: 8,
  /** resource.Quantity: a string or a number. */
  quantity: 9,
  /** intstr.IntOrString: a string or an int32. */
  intOrString: 10,
} as const;

/** How a schema names a definition it refers to: `#/definitions/<name>`. */
export const definitionPrefix = '#/definitions/';
const quantityDefinition = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

/** Types that decode any JSON value (their own UnmarshalJSON takes the raw bytes). */
const anyJson = new Set([
  'io.k8s.apimachinery.pkg.runtime.RawExtension',
  'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1',
  'io.k8s.apimachinery.pkg.apis.meta.v1.Patch',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray',
]);

/** The definition a schema refers to, if it is a reference. */
export function refName(schema: Schema): string | undefined {
  return schema.$ref?.startsWith(definitionPrefix) ? schema.$ref.slice(definitionPrefix.length) : undefined;
}

/** The check for a field whose schema is `raw` (as written, with its $ref) and `resolved` (dereferenced). */
export function checkOf(raw: Schema, resolved: Schema): number {
  const ref = refName(raw);
  if (ref !== undefined && anyJson.has(ref)) return Check.any;
  if (ref === quantityDefinition) return Check.quantity;
  if (resolved['x-kubernetes-int-or-string'] || resolved.format === 'int-or-string') return Check.intOrString;
  if (resolved['x-kubernetes-preserve-unknown-fields']) return Check.any;
  switch (resolved.type) {
    case 'string':
      return resolved.format === 'byte' ? Check.bytes : Check.string;
    case 'integer':
      return resolved.format === 'int32' ? Check.int32 : Check.int64;
    case 'number':
      return Check.float;
    case 'boolean':
      return Check.bool;
    case 'array':
      return Check.array;
    case 'object':
      return Check.object;
    default:
      return Check.any;
  }
}

/**
 * What Go's decoder leaves where a list item or a map value is null: the
 * item type's zero value (a struct's is an empty object, a Quantity's 0).
 * Undefined for types that keep null as it is.
 */
export function goZero(check: number): unknown {
  switch (check) {
    case Check.string:
    case Check.bytes:
      return '';
    case Check.int32:
    case Check.int64:
    case Check.float:
    case Check.intOrString:
      return 0;
    case Check.bool:
      return false;
    case Check.array:
      return [];
    case Check.object:
      return {};
    case Check.quantity:
      return '0';
    default:
      return undefined;
  }
}

/** A JSON value's type as Go's decoder names it. */
function jsonKind(value: unknown): string {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'bool';
  return Array.isArray(value) ? 'array' : 'object';
}

const int32Range = 2 ** 31;
const int64Range = 2 ** 63;

/** What Go's decoder says of a number in an integer field: undefined when it fits. */
function integerMismatch(value: number, range: number): string | undefined {
  return Number.isInteger(value) && value >= -range && value < range ? undefined : `number ${value}`;
}

/**
 * Why `value` does not decode into a field checked by `check`: the JSON
 * type the decoder reports with the field's Go type (an UnmarshalTypeError,
 * which the decoder words with the field's context), or a whole message
 * (the errors of types that decode themselves). Undefined when it decodes.
 * null decodes into every field (it leaves the field unset).
 */
export function mismatchOf(value: unknown, check: number): { value: string; goType?: string } | { message: string } | undefined {
  if (value === null) return undefined;
  switch (check) {
    case Check.string:
      return typeof value === 'string' ? undefined : { value: jsonKind(value) };
    case Check.bytes: {
      if (typeof value === 'string') {
        const at = base64CorruptAt(value);
        return at < 0 ? undefined : { message: `illegal base64 data at input byte ${at}` };
      }
      // An array decodes element by element into the bytes.
      return Array.isArray(value) ? undefined : { value: jsonKind(value) };
    }
    case Check.int32:
    case Check.int64: {
      const mismatch = typeof value === 'number' ? integerMismatch(value, check === Check.int32 ? int32Range : int64Range) : jsonKind(value);
      return mismatch === undefined ? undefined : { value: mismatch };
    }
    case Check.float:
      return typeof value === 'number' ? undefined : { value: jsonKind(value) };
    case Check.bool:
      return typeof value === 'boolean' ? undefined : { value: jsonKind(value) };
    case Check.array:
      return Array.isArray(value) ? undefined : { value: jsonKind(value) };
    case Check.object:
      return isPlainObject(value) ? undefined : { value: jsonKind(value) };
    case Check.quantity:
      // Quantity's UnmarshalJSON parses anything but a string as a number.
      return typeof value === 'string' || typeof value === 'number' ? undefined : { message: quantityFormatMessage };
    case Check.intOrString: {
      // IntOrString's UnmarshalJSON decodes anything but a string into its int32.
      if (typeof value === 'string') return undefined;
      const mismatch = typeof value === 'number' ? integerMismatch(value, int32Range) : jsonKind(value);
      return mismatch === undefined ? undefined : { value: mismatch, goType: 'int32' };
    }
    default:
      return undefined;
  }
}

/** A definition's Go type as reflect prints it: its package's last element and its name ("v1.Container"). */
function goDefinitionType(definition: string): string {
  const parts = definition.split('.');
  return parts.slice(-2).join('.');
}

/** A definition's Go struct name, without its package ("Container"). */
function goStructName(definition: string): string {
  return definition.slice(definition.lastIndexOf('.') + 1);
}

/** The Go type of a field whose schema is `raw`, as the decoder's errors name it. */
function goTypeOf(raw: Schema): string {
  const ref = refName(raw);
  if (ref !== undefined) return goDefinitionType(ref);
  switch (raw.type) {
    case 'string':
      return raw.format === 'byte' ? '[]uint8' : 'string';
    case 'integer':
      return raw.format === 'int32' ? 'int32' : 'int64';
    case 'number':
      return 'float64';
    case 'boolean':
      return 'bool';
    case 'array':
      return `[]${goTypeOf(raw.items ?? {})}`;
    case 'object': {
      if (!isPlainObject(raw.additionalProperties)) return 'map[string]interface {}';
      const element = goTypeOf(raw.additionalProperties as Schema);
      // core/v1's map of quantities is a named type.
      return element === 'resource.Quantity' ? 'v1.ResourceList' : `map[string]${element}`;
    }
    default:
      return 'interface {}';
  }
}

/**
 * The decoder's context for the value at `path` (member names, item indexes
 * and map keys) below definition `root`: the innermost struct that has a
 * field on the path, and the JSON names of the struct fields from the root
 * (item indexes and map keys are not named), e.g. EnvVar and
 * "spec.template.spec.containers.env.value"; with the raw schema of the
 * value's field, for its Go type.
 */
function contextOf(defs: Definitions, root: string, path: readonly (string | number)[]): { struct: string; fields: string[]; raw: Schema } {
  let raw: Schema = { $ref: definitionPrefix + root };
  let current = goStructName(root);
  let struct = current;
  const fields: string[] = [];
  for (const segment of path) {
    const resolved = dereference(raw, defs);
    if (typeof segment === 'number') {
      raw = resolved.items ?? {};
    } else if (resolved.properties?.[segment]) {
      struct = current;
      fields.push(segment);
      raw = resolved.properties[segment]!;
    } else if (isPlainObject(resolved.additionalProperties)) {
      raw = resolved.additionalProperties as Schema;
    } else {
      break;
    }
    const ref = refName(raw);
    if (ref !== undefined) current = goStructName(ref);
  }
  return { struct, fields, raw };
}

/** The decoder's error for a value at `path` below definition `root` that mismatchOf refused. */
export function goDecodeError(defs: Definitions, root: string, path: readonly (string | number)[], mismatch: { value: string; goType?: string } | { message: string }): GoDecodeError {
  if ('message' in mismatch) return new GoDecodeError(mismatch.message);
  const { struct, fields, raw } = contextOf(defs, root, path);
  const goType = mismatch.goType ?? goTypeOf(raw);
  return new GoDecodeError(
    fields.length === 0
      ? `json: cannot unmarshal ${mismatch.value} into Go value of type ${goType}`
      : `json: cannot unmarshal ${mismatch.value} into Go struct field ${struct}.${fields.join('.')} of type ${goType}`,
  );
}

const base64Values = (() => {
  const table = new Int8Array(256).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
})();

const isNewline = (b: number | undefined) => b === 0x0a || b === 0x0d;

/**
 * Where Go's base64.StdEncoding.Decode finds `text` corrupt (the offset of
 * its CorruptInputError, in UTF-8 bytes), or -1 when it decodes: padding is
 * required, and line breaks anywhere are skipped, as in Go.
 */
export function base64CorruptAt(text: string): number {
  const src = Buffer.from(text, 'utf8');
  let si = 0;
  while (si < src.length) {
    // One quantum of four characters, as Go's decodeQuantum reads it.
    for (let j = 0; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return -1;
        return si - j;
      }
      const c = src[si++]!;
      if (base64Values[c]! >= 0) continue;
      if (isNewline(c)) {
        j--;
        continue;
      }
      if (c !== 0x3d) return si - 1;
      // Padding ends the input.
      if (j < 2) return si - 1;
      if (j === 2) {
        while (si < src.length && isNewline(src[si])) si++;
        if (si === src.length) return src.length;
        if (src[si] !== 0x3d) return si - 1;
        si++;
      }
      while (si < src.length && isNewline(src[si])) si++;
      return si < src.length ? si : -1;
    }
  }
  return -1;
}

