// The JSON text of an object to store, exactly as JSON.stringify writes it,
// made with the text of the parts it shares with the object it replaces
// where that text is known already. An update mostly changes metadata: it
// shares spec and status, and the managedFields entries' fieldsV1 it does
// not touch, with the watch cache's object, which never changes; so does a
// create with the frozen fieldsV1 objects created alike share.
import { remembered, rememberedFor } from '../../api/remembered.js';
import { isPlainObject, type KubeObject } from '../../api/object.js';

/** The text of parts that never change (the cache's objects, frozen ones), made once each. */
const texts = new WeakMap<object, string>();

function textOnce(value: object): string {
  return rememberedFor(texts, value, JSON.stringify);
}

const keyTexts = new Map<string, string>();

function keyText(key: string): string {
  return remembered(keyTexts, key, 1024, JSON.stringify);
}

function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null;
}

/**
 * JSON.stringify of a plain object, member by member, into `parts`: a
 * member's text is valueText's (undefined: left out, as JSON.stringify leaves
 * out undefined), or valueText writes the member's value into parts itself
 * and returns true.
 */
function objectParts(parts: string[], obj: Record<string, unknown>, valueText: (key: string, value: unknown, parts: string[]) => string | true | undefined): void {
  let first = true;
  parts.push('{');
  for (const key of Object.keys(obj)) {
    const at = parts.length;
    parts.push(first ? keyText(key) : ',' + keyText(key), ':');
    const text = valueText(key, obj[key], parts);
    if (text === undefined) {
      parts.length = at;
      continue;
    }
    if (text !== true) parts.push(text);
    first = false;
  }
  parts.push('}');
}

/** A member's text: the known one when the value is the current object's own. */
function memberText(value: unknown, currentValue: unknown): string | undefined {
  return isObject(value) && value === currentValue ? textOnce(value) : JSON.stringify(value);
}

function managedFieldsParts(parts: string[], entries: unknown[], current: unknown): string | true {
  if (!entries.every(isPlainObject)) return JSON.stringify(entries);
  const known = Array.isArray(current) ? current.map((e: unknown) => (isPlainObject(e) ? e.fieldsV1 : undefined)) : [];
  const fieldsV1Text = (v: unknown): string | undefined => (isObject(v) && (Object.isFrozen(v) || known.includes(v)) ? textOnce(v) : JSON.stringify(v));
  parts.push('[');
  for (let i = 0; i < entries.length; i++) {
    if (i > 0) parts.push(',');
    objectParts(parts, entries[i]!, (key, value) => (key === 'fieldsV1' ? fieldsV1Text(value) : JSON.stringify(value)));
  }
  parts.push(']');
  return true;
}

/**
 * JSON.stringify(obj), for an object about to be stored in place of
 * `current` (the stored object it replaces, or undefined for a create),
 * which neither may change afterwards. The text is joined from its parts
 * in one step: a flat string, which the copy to the writer thread and the
 * search for metadata read without flattening a tree of concatenations first.
 */
export function storedJson(obj: KubeObject, current: KubeObject | undefined): string {
  const currentMeta: Record<string, unknown> | undefined = current?.metadata;
  const parts: string[] = [];
  objectParts(parts, obj, (key, value, out) => {
    if (key !== 'metadata' || !isPlainObject(value)) return memberText(value, current?.[key]);
    objectParts(out, value, (k, v, o) => (k === 'managedFields' && Array.isArray(v) ? managedFieldsParts(o, v, currentMeta?.managedFields) : memberText(v, currentMeta?.[k])));
    return true;
  });
  return parts.join('');
}
