// Converts between a decoded protobuf message and the JSON that Go's
// encoding/json writes for the same Kubernetes object, so an object reads the
// same whichever content type the client sent it in.
//
// Go's protobuf marshaller writes every non-pointer field, zero or not, while
// encoding/json drops zero values of `omitempty` fields; the per-field rules in
// the descriptor (JSON name, omitempty, pointer, inline) say which zeros to keep.
// Nested structs are always written by both, so a message that is present
// becomes an object even when empty (a Deployment's `strategy: {}`).
import protobuf from 'protobufjs';
import { BadRequestError } from '../errors.js';
import { isPlainObject, type JsonValue } from '../object.js';
import { kubeProtobufSchema, type GoJsonRule } from './descriptor.js';
import { formatGoDuration, parseGoDuration } from './go-duration.js';

/** A decoded message: its own properties are exactly the fields present on the wire. */
export type Message = Record<string, unknown>;
type JsonObject = { [key: string]: JsonValue };

interface Long {
  toNumber(): number;
  toString(): string;
}

function isLong(v: unknown): v is Long {
  return typeof v === 'object' && v !== null && typeof (v as Partial<Long>).toNumber === 'function';
}

function numberOf(v: unknown): number {
  if (typeof v === 'number') return v;
  if (isLong(v)) return v.toNumber();
  return Number(v);
}

function bigintOf(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  return BigInt(String(v));
}

function present(message: Message, field: string): boolean {
  return Object.hasOwn(message, field);
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

function malformed(path: string, why: string): BadRequestError {
  return new BadRequestError(`${path || 'object'}: ${why}`);
}

// ------------------------------------------------------------ special forms
// Types whose Go JSON form is not their message structure.

interface SpecialForm {
  toJson(message: Message, path: string): JsonValue;
  /** undefined: leave the field out. */
  fromJson(value: JsonValue, path: string): Message | undefined;
}

function formatTime(message: Message, micro: boolean, path: string): JsonValue {
  // Go writes a zero Time as an empty message, and encoding/json as null.
  if (!present(message, 'seconds') && !present(message, 'nanos')) return null;
  const nanos = numberOf(message['nanos'] ?? 0);
  const seconds = numberOf(message['seconds'] ?? 0) + Math.floor(nanos / 1e9);
  const date = new Date(seconds * 1000);
  const year = Number.isNaN(date.getTime()) ? NaN : date.getUTCFullYear();
  if (!(year >= 0 && year <= 9999)) throw malformed(path, `time ${seconds}s is outside the years 0 to 9999`);
  const base = date.toISOString().slice(0, 19);
  if (!micro) return `${base}Z`;
  const micros = Math.floor((((nanos % 1e9) + 1e9) % 1e9) / 1000);
  return `${base}.${String(micros).padStart(6, '0')}Z`;
}

const rfc3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

function parseTime(value: JsonValue, path: string): Message | undefined {
  if (value === null) return undefined;
  const m = typeof value === 'string' ? rfc3339.exec(value) : null;
  if (!m) throw malformed(path, `${JSON.stringify(value)} is not an RFC 3339 time`);
  const [, year, month, day, hour, minute, second, fraction = '', sign, offsetHours, offsetMinutes] = m;
  const date = new Date(0);
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  date.setUTCHours(Number(hour), Number(minute), Number(second));
  const offset = sign ? (sign === '-' ? -1 : 1) * (Number(offsetHours) * 3600 + Number(offsetMinutes) * 60) : 0;
  return { seconds: date.getTime() / 1000 - offset, nanos: Number(fraction.padEnd(9, '0')) };
}

function parseRawJson(raw: unknown, path: string): JsonValue {
  if (!(raw instanceof Uint8Array) || raw.length === 0) return null;
  try {
    return JSON.parse(Buffer.from(raw).toString('utf8')) as JsonValue;
  } catch (err) {
    throw malformed(path, `embedded JSON is malformed: ${(err as Error).message}`);
  }
}

function rawJson(value: JsonValue): Uint8Array {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Named []string types, which go-to-protobuf wraps as `{ repeated string items }`. */
const stringList: SpecialForm = {
  toJson: (m) => ((m['items'] as string[] | undefined) ?? []),
  fromJson(value, path) {
    if (value === null) return undefined;
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw malformed(path, 'expected an array of strings');
    return { items: value };
  },
};

const specialForms: Record<string, SpecialForm> = {
  '.k8s.io.apimachinery.pkg.apis.meta.v1.Time': {
    toJson: (m, path) => formatTime(m, false, path),
    fromJson: parseTime,
  },
  '.k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime': {
    toJson: (m, path) => formatTime(m, true, path),
    fromJson: parseTime,
  },
  '.k8s.io.apimachinery.pkg.apis.meta.v1.Duration': {
    toJson: (m) => formatGoDuration(bigintOf(m['duration'] ?? 0)),
    fromJson(value, path) {
      if (value === null) return undefined;
      const nanos = typeof value === 'string' ? parseGoDuration(value) : undefined;
      if (nanos === undefined) throw malformed(path, `${JSON.stringify(value)} is not a duration`);
      return { duration: nanos.toString() };
    },
  },
  '.k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1': {
    toJson: (m, path) => parseRawJson(m['Raw'], path),
    fromJson: (value) => (value === null ? undefined : { Raw: rawJson(value) }),
  },
  '.k8s.io.apimachinery.pkg.runtime.RawExtension': {
    toJson: (m, path) => parseRawJson(m['raw'], path),
    fromJson: (value) => (value === null ? undefined : { raw: rawJson(value) }),
  },
  '.k8s.io.apimachinery.pkg.api.resource.Quantity': {
    // The Go marshaller writes the canonical form; a zero Quantity is "0".
    toJson: (m) => (typeof m['string'] === 'string' && m['string'] !== '' ? m['string'] : '0'),
    fromJson(value, path) {
      if (value === null) return undefined;
      if (typeof value === 'string' || typeof value === 'number') return { string: String(value) };
      throw malformed(path, 'a quantity must be a string or a number');
    },
  },
  '.k8s.io.apimachinery.pkg.util.intstr.IntOrString': {
    toJson: (m) => (numberOf(m['type'] ?? 0) === 1 ? ((m['strVal'] as string | undefined) ?? '') : numberOf(m['intVal'] ?? 0)),
    fromJson(value, path) {
      if (value === null) return undefined;
      if (typeof value === 'number' && Number.isInteger(value)) return { type: 0, intVal: value, strVal: '' };
      if (typeof value === 'string') return { type: 1, intVal: 0, strVal: value };
      throw malformed(path, 'expected an integer or a string');
    },
  },
  '.k8s.io.apimachinery.pkg.apis.meta.v1.Verbs': stringList,
  '.k8s.io.api.authentication.v1.ExtraValue': stringList,
  '.k8s.io.api.authorization.v1.ExtraValue': stringList,
};

function rulesOf(type: protobuf.Type): Record<string, GoJsonRule> {
  return kubeProtobufSchema().goJson[type.fullName.slice(1)] ?? {};
}

const int64Types = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const int32Types = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);

// ------------------------------------------------------------ protobuf -> JSON

/** The JSON form of a decoded message of this type. */
export function messageToJson(type: protobuf.Type, message: Message, path = ''): JsonValue {
  const special = specialForms[type.fullName];
  if (special) return special.toJson(message, path);
  const rules = rulesOf(type);
  const out: JsonObject = {};
  for (const field of type.fieldsArray) {
    if (!present(message, field.name)) continue;
    const rule = rules[field.name] ?? {};
    if (rule.skip) continue;
    const name = rule.json ?? field.name;
    const value = fieldToJson(field, message[field.name], rule, rule.inline ? path : join(path, name));
    if (value === undefined) continue;
    if (rule.inline && isPlainObject(value)) Object.assign(out, value);
    else out[name] = value;
  }
  return out;
}

function fieldToJson(field: protobuf.Field, value: unknown, rule: GoJsonRule, path: string): JsonValue | undefined {
  if (field.map) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return undefined;
    const out: JsonObject = {};
    for (const [key, v] of entries) out[key] = valueToJson(field, v, `${path}[${key}]`);
    return out;
  }
  if (field.repeated) {
    const items = value as unknown[];
    if (items.length === 0) return undefined;
    return items.map((v, i) => valueToJson(field, v, `${path}[${i}]`));
  }
  const json = valueToJson(field, value, path);
  if (field.resolvedType instanceof protobuf.Type) return json;
  if (!rule.pointer && !rule.keepEmpty && (json === '' || json === 0 || json === false)) return undefined;
  return json;
}

function valueToJson(field: protobuf.Field, value: unknown, path: string): JsonValue {
  const type = field.resolvedType;
  if (type instanceof protobuf.Type) return messageToJson(type, value as Message, path);
  if (type instanceof protobuf.Enum) return numberOf(value);
  if (field.type === 'bytes') return Buffer.from(value as Uint8Array).toString('base64');
  if (int64Types.has(field.type)) return numberOf(value);
  if ((field.type === 'double' || field.type === 'float') && !Number.isFinite(value)) {
    throw malformed(path, `${String(value)} has no JSON form`);
  }
  return value as JsonValue;
}

// ------------------------------------------------------------ JSON -> protobuf

interface JsonIndex {
  byName: Map<string, protobuf.Field>;
  inline: protobuf.Field[];
}

const indexes = new WeakMap<protobuf.Type, JsonIndex>();

function jsonIndex(type: protobuf.Type): JsonIndex {
  let index = indexes.get(type);
  if (!index) {
    const rules = rulesOf(type);
    index = { byName: new Map(), inline: [] };
    for (const field of type.fieldsArray) {
      const rule = rules[field.name] ?? {};
      if (rule.skip) continue;
      if (rule.inline) index.inline.push(field);
      else index.byName.set(rule.json ?? field.name, field);
    }
    indexes.set(type, index);
  }
  return index;
}

/**
 * The message for an object in its JSON form. Keys the message does not define
 * (apiVersion and kind of the top object among them) are left out.
 */
export function jsonToMessage(type: protobuf.Type, json: JsonValue, path = ''): Message | undefined {
  const special = specialForms[type.fullName];
  if (special) return special.fromJson(json, path);
  if (json === null) return undefined;
  if (!isPlainObject(json)) throw malformed(path, 'expected an object');
  const { byName, inline } = jsonIndex(type);
  const out: Message = {};
  const rules = rulesOf(type);
  for (const [key, value] of Object.entries(json)) {
    const field = byName.get(key);
    if (!field || value === undefined) continue;
    if (value === null) {
      // Go reads null into a struct field as its zero value, which its
      // marshaller then writes as an empty message (a null creationTimestamp).
      const struct = field.resolvedType instanceof protobuf.Type && !field.map && !field.repeated;
      if (struct && !rules[field.name]?.pointer) out[field.name] = {};
      continue;
    }
    const converted = fieldFromJson(field, value, join(path, key));
    if (converted !== undefined) out[field.name] = converted;
  }
  // An inline struct's fields sit beside the parent's; Go always writes it.
  for (const field of inline) {
    out[field.name] = jsonToMessage(field.resolvedType as protobuf.Type, json, path) ?? {};
  }
  return out;
}

function fieldFromJson(field: protobuf.Field, value: JsonValue, path: string): unknown {
  if (field.map) {
    if (!isPlainObject(value)) throw malformed(path, 'expected an object');
    // No prototype, so a key named __proto__ stays an ordinary entry.
    const out = Object.create(null) as Record<string, unknown>;
    for (const [key, v] of Object.entries(value)) {
      if (v === null || v === undefined) continue;
      const converted = valueFromJson(field, v, `${path}[${key}]`);
      if (converted !== undefined) out[key] = converted;
    }
    return out;
  }
  if (field.repeated) {
    if (!Array.isArray(value)) throw malformed(path, 'expected an array');
    // Go decodes a null element as the element type's zero value.
    return value.map((v, i) => (v === null ? zeroOf(field) : (valueFromJson(field, v, `${path}[${i}]`) ?? zeroOf(field))));
  }
  return valueFromJson(field, value, path);
}

function zeroOf(field: protobuf.Field): unknown {
  if (field.resolvedType) return field.resolvedType instanceof protobuf.Type ? {} : 0;
  if (field.type === 'string') return '';
  if (field.type === 'bool') return false;
  if (field.type === 'bytes') return Buffer.alloc(0);
  return 0;
}

function valueFromJson(field: protobuf.Field, value: JsonValue, path: string): unknown {
  const type = field.resolvedType;
  if (type instanceof protobuf.Type) return jsonToMessage(type, value, path);
  const expect = (what: string): never => {
    throw malformed(path, `expected ${what}, got ${JSON.stringify(value)}`);
  };
  switch (field.type) {
    case 'string':
      return typeof value === 'string' ? value : expect('a string');
    case 'bool':
      return typeof value === 'boolean' ? value : expect('a boolean');
    case 'bytes':
      if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) return expect('base64 data');
      return Buffer.from(value, 'base64');
    case 'double':
    case 'float':
      return typeof value === 'number' ? value : expect('a number');
    default:
      if (typeof value !== 'number' || !Number.isInteger(value)) return expect('an integer');
      if (int32Types.has(field.type)) return value;
      // Past 2^53 a JSON number has already lost digits; the string keeps what is left exactly.
      return Number.isSafeInteger(value) ? value : BigInt(value).toString();
  }
}
