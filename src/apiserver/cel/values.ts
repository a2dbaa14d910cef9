// CEL values as the cel-js evaluator hands them to library functions (ints as
// bigint, doubles as number, uint as UnsignedInt, lists as arrays or sets, maps
// as objects or Map, timestamps as Date) and the equality and ordering that
// Kubernetes' CEL libraries (cel-go underneath) apply to them.

import { EvaluationError, Optional } from '@marcbachmann/cel-js';
import { Duration, UnsignedInt } from '@marcbachmann/cel-js/evaluator';

/** An evaluation error carrying the message Kubernetes' library returns. */
export function celError(message: string, code = 'kubernetes_library_error'): EvaluationError {
  return new EvaluationError({ code, message });
}

/** cel-go's error for a value of the wrong type reaching a function. */
export function noSuchOverload(): EvaluationError {
  return celError('no such overload', 'no_such_overload');
}

/** A value type of a library (quantity, IP, ...) that knows its own CEL equality. */
export interface LibraryValue {
  equals(other: unknown): boolean;
}

function isLibraryValue(v: object): v is LibraryValue {
  return typeof (v as Partial<LibraryValue>).equals === 'function';
}

export function listItems(list: unknown): readonly unknown[] {
  if (Array.isArray(list)) return list;
  if (list instanceof Set) return [...list];
  throw noSuchOverload();
}

/** The entries of a CEL map: a Map (including cel-js's typed wrappers) or a plain object. */
export function mapEntries(map: unknown): [unknown, unknown][] {
  // Spread, not entries(): cel-js's typed wrappers fill themselves in through their iterator.
  if (map instanceof Map) return [...(map as Map<unknown, unknown>)];
  if (typeof map === 'object' && map !== null && !Array.isArray(map)) return Object.entries(map);
  throw noSuchOverload();
}

function isNumeric(v: unknown): v is bigint | number | UnsignedInt {
  return typeof v === 'bigint' || typeof v === 'number' || v instanceof UnsignedInt;
}

function numericValue(v: bigint | number | UnsignedInt): bigint | number {
  return v instanceof UnsignedInt ? v.valueOf() : v;
}

/** CEL's heterogeneous equality: 1 == 1.0 == 1u at runtime, lists and maps element-wise. */
export function celEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isNumeric(a) && isNumeric(b)) {
    // bigint and number compare exactly with ==; NaN equals nothing.
    // eslint-disable-next-line eqeqeq
    return numericValue(a) == numericValue(b);
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Uint8Array) return b instanceof Uint8Array && compareBytes(a, b) === 0;
  if (a instanceof Date) return b instanceof Date && a.getTime() === b.getTime();
  if (a instanceof Duration) return b instanceof Duration && a.seconds === b.seconds && a.nanos === b.nanos;
  if (a instanceof Optional) {
    if (!(b instanceof Optional) || a.hasValue() !== b.hasValue()) return false;
    return !a.hasValue() || celEquals(a.value(), b.value());
  }
  if (Array.isArray(a) || a instanceof Set) {
    if (!(Array.isArray(b) || b instanceof Set)) return false;
    const [x, y] = [listItems(a), listItems(b)];
    return x.length === y.length && x.every((item, i) => celEquals(item, y[i]));
  }
  if (isLibraryValue(a)) return a.constructor === b.constructor && a.equals(b);
  if (isMapLike(a) && isMapLike(b)) {
    const x = mapEntries(a);
    const y = mapEntries(b);
    if (x.length !== y.length) return false;
    return x.every(([k, v]) => y.some(([k2, v2]) => celEquals(k, k2) && celEquals(v, v2)));
  }
  // Objects of a CRD schema's type (one class per type): equal when they set the same fields to equal values.
  if (a.constructor === b.constructor) {
    const x = Object.entries(a);
    const y = b as Record<string, unknown>;
    return x.length === Object.keys(b).length && x.every(([k, v]) => Object.hasOwn(b, k) && celEquals(v, y[k]));
  }
  return false;
}

function isMapLike(v: object): boolean {
  return v instanceof Map || v.constructor === Object || v.constructor === undefined;
}

function compareBytes(a: Uint8Array, b: Uint8Array): -1 | 0 | 1 {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const [x, y] = [a[i] as number, b[i] as number];
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Go orders strings by their UTF-8 bytes, which is code point order (not UTF-16 unit order). */
export function compareStrings(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(i) as number;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length < b.length ? -1 : 1;
}

function sign(n: bigint | number): -1 | 0 | 1 {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

/** cel-go's Compare for the comparable types (numbers across int/uint/double, strings, bools, bytes, durations, timestamps). */
export function compareValues(a: unknown, b: unknown): -1 | 0 | 1 {
  if (isNumeric(a) && isNumeric(b)) {
    const [x, y] = [numericValue(a), numericValue(b)];
    if (Number.isNaN(x) || Number.isNaN(y)) throw celError('NaN values cannot be ordered');
    // Mixed bigint/number comparisons are exact in JavaScript.
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return compareBytes(a, b);
  if (a instanceof Duration && b instanceof Duration) return sign(a.seconds - b.seconds) || sign(a.nanos - b.nanos);
  if (a instanceof Date && b instanceof Date) return sign(a.getTime() - b.getTime());
  throw noSuchOverload();
}

/** Go's strconv.Quote, as fmt's %q prints strings. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (c === 0x07) out += '\\a';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x0b) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd';
    else if (c >= 0x80 && c < 0xa0) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}
