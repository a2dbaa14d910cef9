// Equality, ordering and encoding of JSON values the way structured-merge-diff
// does them, because field paths built from values (list keys, set items) must
// sort and serialize exactly as kube-apiserver writes them in managedFields.
import { isPlainObject } from '../object.js';

export type JsonMap = Record<string, unknown>;

export function isJsonMap(v: unknown): v is JsonMap {
  return isPlainObject(v);
}

/** Whether a map has no members (an encoded fieldsV1 leaf: {}). */
export function hasNoKeys(o: JsonMap): boolean {
  for (const _ in o) return false;
  return true;
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const am = a as JsonMap;
  const bm = b as JsonMap;
  // Keys holding undefined do not count, as if absent.
  let aCount = 0;
  for (const k of Object.keys(am)) {
    const v = am[k];
    if (v === undefined) continue;
    aCount++;
    if (!Object.hasOwn(bm, k) || !jsonEqual(v, bm[k])) return false;
  }
  let bCount = 0;
  for (const k of Object.keys(bm)) if (bm[k] !== undefined) bCount++;
  return aCount === bCount;
}

/** Byte order of the UTF-8 encodings, as Go's strings.Compare orders them. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Below the surrogates UTF-16 code units order as code points do (and so as UTF-8 bytes do).
    if (x < 0xd800 && y < 0xd800) return x < y ? -1 : 1;
    return compareCodePoints(a, b);
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) ?? 0;
    const y = b.codePointAt(i) ?? 0;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

function typeRank(v: unknown): number {
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 2;
  if (Array.isArray(v)) return 3;
  if (isJsonMap(v)) return 4;
  return 5;
}

/** structured-merge-diff's total order of values: numbers, strings, booleans, lists, maps, null. */
export function compareJson(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compareJson(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length < 0 ? -1 : a.length > b.length ? 1 : 0;
  }
  if (isJsonMap(a) && isJsonMap(b)) {
    const ak = Object.keys(a).sort(compareStrings);
    const bk = Object.keys(b).sort(compareStrings);
    for (let i = 0; i < Math.min(ak.length, bk.length); i++) {
      const kc = compareStrings(ak[i] ?? '', bk[i] ?? '');
      if (kc !== 0) return kc;
      const vc = compareJson(a[ak[i] ?? ''], b[bk[i] ?? '']);
      if (vc !== 0) return vc;
    }
    return ak.length < bk.length ? -1 : ak.length > bk.length ? 1 : 0;
  }
  return 0;
}

const plainString = /^[\x20-\x7e]*$/;
const needsEscape = /["\\<>&]/;

function goString(s: string): string {
  if (plainString.test(s) && !needsEscape.test(s)) return `"${s}"`;
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/**
 * JSON as Go's encoding/json writes it: map keys sorted, "<", ">" and "&"
 * escaped. Used for list keys in managedFields and for the last-applied
 * annotation, which clients compare byte for byte.
 */
export function goJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goString(v);
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return '[' + v.map(goJson).join(',') + ']';
  if (isJsonMap(v)) {
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort(compareStrings);
    return '{' + keys.map((k) => goString(k) + ':' + goJson(v[k])).join(',') + '}';
  }
  return 'null';
}

/** value.ToString of structured-merge-diff, used in field paths printed in conflicts. */
export function valueToString(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return '[' + v.map(valueToString).join(',') + ']';
  if (isJsonMap(v)) {
    return Object.keys(v)
      .sort(compareStrings)
      .map((k) => `${k}=${valueToString(v[k])}`)
      .join('');
  }
  return '{{undefined}}';
}
