// Which fields of a built-in kind Go's encoding/json leaves out when empty.
// kube-apiserver decodes a built-in kind's body into its Go type and stores
// (and returns) that value encoded again, and encoding/json drops an
// `omitempty` field whose value is "", 0, false, or an empty map or slice:
// never a struct however empty, nor a pointer that is set. So a Pod created
// with `annotations: {}`, `hostname: ""` or `args: []` comes back without
// them, a ConfigMap patched to no annotations has no `annotations: {}`, and
// no field manager owns such a field. Nami keeps objects as JSON; these
// rules, from the Go types' JSON tags in the protobuf descriptor, say which
// members to drop.
import type { INamespace } from 'protobufjs';
import { isPlainObject } from '../object.js';
import { descriptorFile } from '../protobuf/descriptor-file.js';

/** The form a field's empty value takes in JSON. */
export const Empty = {
  map: 1,
  slice: 2,
  string: 3,
  number: 4,
  bool: 5,
  /** []byte: "" (or an empty array, which decodes to the same). */
  bytes: 6,
} as const;

/** Is `value` what Go writes nothing for, in a field whose empty form is `empty`? */
export function isGoEmpty(value: unknown, empty: number): boolean {
  switch (empty) {
    case Empty.map:
      return isPlainObject(value) && isEmptyObject(value);
    case Empty.slice:
      return Array.isArray(value) && value.length === 0;
    case Empty.string:
      return value === '';
    case Empty.number:
      return value === 0;
    case Empty.bool:
      return value === false;
    case Empty.bytes:
      return value === '' || (Array.isArray(value) && value.length === 0);
    default:
      return false;
  }
}

function isEmptyObject(value: Record<string, unknown>): boolean {
  for (const _ in value) return false;
  return true;
}

const numberTypes = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64', 'double', 'float']);

interface ProtoField {
  type: string;
  rule?: string;
  keyType?: string;
}

/** A message of the descriptor by its full name ("k8s.io.api.core.v1.PodSpec"), undefined when it has none. */
function messageFields(name: string): Record<string, ProtoField> | undefined {
  let node: INamespace | undefined = descriptorFile().protobuf;
  for (const part of name.split('.')) {
    node = node?.nested?.[part] as INamespace | undefined;
    if (!node) return undefined;
  }
  return (node as { fields?: Record<string, ProtoField> }).fields;
}

/** The empty form of a field Go writes with omitempty; undefined for a struct, which omitempty never leaves out. */
function emptyForm(field: ProtoField): number | undefined {
  if (field.keyType !== undefined) return Empty.map;
  if (field.rule === 'repeated') return Empty.slice;
  if (field.type === 'string') return Empty.string;
  if (field.type === 'bytes') return Empty.bytes;
  if (field.type === 'bool') return Empty.bool;
  if (numberTypes.has(field.type)) return Empty.number;
  return undefined;
}

/** Adds the omitempty fields of message `name` (and of the messages it inlines) to `out`. */
function collect(name: string, out: Map<string, number>): boolean {
  const fields = messageFields(name);
  if (!fields) return false;
  const rules = descriptorFile().goJson[name] ?? {};
  for (const [field, proto] of Object.entries(fields)) {
    const rule = rules[field] ?? {};
    if (rule.skip) continue;
    if (rule.inline) {
      collect(proto.type.replace(/^\./, ''), out);
      continue;
    }
    if (rule.keepEmpty || rule.pointer) continue;
    const empty = emptyForm(proto);
    if (empty !== undefined) out.set(rule.json ?? field, empty);
  }
  return true;
}

const byDefinition = new Map<string, ReadonlyMap<string, number> | undefined>();

/**
 * The fields of the Go type whose OpenAPI definition is `definition`
 * ("io.k8s.api.core.v1.PodSpec") that encoding/json leaves out when empty,
 * by JSON name, with the form of their empty value. Undefined for a type
 * without a Go form here (custom resources keep what they are sent).
 */
export function omitEmptyFields(definition: string): ReadonlyMap<string, number> | undefined {
  if (byDefinition.has(definition)) return byDefinition.get(definition);
  let fields: Map<string, number> | undefined;
  if (definition.startsWith('io.k8s.')) {
    fields = new Map();
    if (!collect(`k8s.io.${definition.slice('io.k8s.'.length)}`, fields) || fields.size === 0) fields = undefined;
  }
  byDefinition.set(definition, fields);
  return fields;
}
