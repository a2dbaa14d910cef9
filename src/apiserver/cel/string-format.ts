// <string>.format(<list>) from cel-go's ext.Strings (version 1 and up), with
// the en_US locale Kubernetes leaves it at: %s %d %f %e %b %x %X %o and %%,
// an optional precision (%.2f), and cel-go's error messages.

import { Optional } from '@marcbachmann/cel-js';
import { Duration, UnsignedInt } from '@marcbachmann/cel-js/evaluator';
import { celError, compareStrings, goQuote, listItems, mapEntries } from './values.js';

/** The CEL type name cel-go prints for a value. */
export function celTypeName(v: unknown): string {
  switch (typeof v) {
    case 'bigint': return 'int';
    case 'number': return 'double';
    case 'string': return 'string';
    case 'boolean': return 'bool';
  }
  if (v === null || v === undefined) return 'null_type';
  if (v instanceof UnsignedInt) return 'uint';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof Date) return 'google.protobuf.Timestamp';
  if (v instanceof Duration) return 'google.protobuf.Duration';
  if (v instanceof Optional) return 'optional_type';
  if (Array.isArray(v) || v instanceof Set) return 'list';
  if (typeNameOfType(v) !== undefined) return 'type';
  const named = (v as { constructor?: { celTypeName?: unknown } }).constructor?.celTypeName;
  if (typeof named === 'string') return named;
  return 'map';
}

/** A cel-js type value (what type(x) returns) prints as "Type<name>" and has a name. */
function typeNameOfType(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || !Object.prototype.toString.call(v).startsWith('[object Type<')) return undefined;
  return (v as { name: string }).name;
}

interface Digits {
  negative: boolean;
  digits: string;
  /** Position of the decimal point relative to the start of digits. */
  point: number;
}

/** The shortest decimal digits that read back as x (what Go's strconv uses for precision -1). */
function shortestDigits(x: number): Digits {
  const [mantissa, exponent] = Math.abs(x).toExponential().split('e') as [string, string];
  return { negative: x < 0 || Object.is(x, -0), digits: mantissa.replace('.', ''), point: Number(exponent) + 1 };
}

function fixedFromDigits({ negative, digits, point }: Digits): string {
  let s: string;
  if (point <= 0) s = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) s = digits + '0'.repeat(point - digits.length);
  else s = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return negative ? `-${s}` : s;
}

/** strconv.FormatFloat(x, 'g', -1, 64), which is how cel-go turns a double into a string. */
export function goFormatG(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const d = shortestDigits(x);
  const exp = d.point - 1;
  // Shortest %g switches to an exponent outside [1e-4, 1e6), whatever the digits.
  if (exp < -4 || exp >= 6) {
    const rest = d.digits.slice(1);
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${d.negative ? '-' : ''}${d.digits[0]}${rest ? `.${rest}` : ''}e${exp < 0 ? '-' : '+'}${e}`;
  }
  return fixedFromDigits(d);
}

/** strconv.FormatFloat(x, 'f', -1, 64). */
function goFormatShortestFixed(x: number): string {
  return x === 0 ? '0' : fixedFromDigits(shortestDigits(x));
}

/** fmt's %.<prec>f. */
function goFixed(x: number, prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  if (Math.abs(x) < 1e21) return x.toFixed(prec);
  return `${x < 0 ? '-' : ''}${BigInt(Math.abs(x))}${prec > 0 ? `.${'0'.repeat(prec)}` : ''}`;
}

/** The en_US printer of golang.org/x/text groups the integer digits of %f. */
function groupThousands(fixed: string): string {
  const m = /^(-?)(\d+)(.*)$/.exec(fixed);
  if (!m) return fixed;
  return `${m[1]}${(m[2] as string).replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${m[3]}`;
}

const superscripts = '⁰¹²³⁴⁵⁶⁷⁸⁹';

/** %e through the en_US printer of golang.org/x/text: "2.718280 × 10⁰⁰". */
function scientific(x: number, prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '-∞';
  const [mantissa, exponent] = x.toExponential(prec).split('e') as [string, string];
  const e = Number(exponent);
  const digits = [...Math.abs(e).toString().padStart(2, '0')].map((c) => superscripts[Number(c)]).join('');
  return `${mantissa}\u202f×\u202f10${e < 0 ? '⁻' : ''}${digits}`;
}

function timestampString(d: Date): string {
  // RFC3339Nano: fraction without trailing zeros.
  return d.toISOString().replace(/\.?0+Z$/, 'Z').replace(/\.Z$/, 'Z');
}

function durationString(d: Duration): string {
  return `${goFormatShortestFixed(Number(d.seconds) + d.nanos / 1e9)}s`;
}

function bytesToString(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}

function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function stringClauseError(v: unknown): Error {
  return new Error(`string clause can only be used on strings, bools, bytes, ints, doubles, maps, lists, types, durations, and timestamps, was given ${celTypeName(v)}`);
}

/** %s: FormatString. */
function formatAsString(v: unknown): string {
  if (Array.isArray(v) || v instanceof Set) return formatList(v);
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string': return v;
    case 'bigint': return v.toString();
    case 'boolean': return String(v);
    case 'number': return goFormatG(v);
  }
  if (v instanceof UnsignedInt) return v.toString();
  if (v instanceof Uint8Array) return bytesToString(v);
  if (v instanceof Date) return timestampString(v);
  if (v instanceof Duration) return durationString(v);
  const typeName = typeNameOfType(v);
  if (typeName !== undefined) return typeName;
  if (celTypeName(v) === 'map') return formatMap(v);
  throw stringClauseError(v);
}

function formatDecimal(v: unknown): string {
  if (typeof v === 'bigint' || v instanceof UnsignedInt) return v.toString();
  throw new Error(`decimal clause can only be used on integers, was given ${celTypeName(v)}`);
}

/** A member of a list or map printed by %s: quoted where it would be a CEL literal. */
function formatMember(v: unknown): string {
  if (typeof v === 'bigint' || v instanceof UnsignedInt) return v.toString();
  if (typeof v === 'string') return goQuote(v);
  if (v instanceof Uint8Array) return `b${goQuote(bytesToString(v))}`;
  if (typeof v === 'boolean' || v === null || typeNameOfType(v) !== undefined) return formatAsString(v);
  if (v instanceof Date) return `timestamp(${goQuote(timestampString(v))})`;
  if (v instanceof Duration) return `duration(${goQuote(durationString(v))})`;
  if (typeof v === 'number') {
    const s = goFixed(v, 6);
    return Number.isFinite(v) ? s : goQuote(s);
  }
  if (Array.isArray(v) || v instanceof Set) return formatList(v);
  if (celTypeName(v) === 'map') return formatMap(v);
  throw new Error(`no formatting function for ${celTypeName(v)}`);
}

function formatList(list: unknown): string {
  return `[${listItems(list).map(formatMember).join(', ')}]`;
}

function formatMap(map: unknown): string {
  const pairs = mapEntries(map).map(([k, v]): [string, string] => {
    let key: string;
    if (typeof k === 'string') key = goQuote(k);
    else if (typeof k === 'boolean') key = String(k);
    else if (typeof k === 'bigint' || k instanceof UnsignedInt) key = k.toString();
    else throw new Error(`no formatting function for map key of type ${celTypeName(k)}`);
    return [key, formatMember(v)];
  });
  pairs.sort((a, b) => compareStrings(a[0], b[0]));
  return `{${pairs.map(([k, v]) => `${k}:${v}`).join(', ')}}`;
}

function fixedOrScientificArg(v: unknown, clause: string): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
  throw new Error(`${clause} clause can only be used on doubles, was given ${celTypeName(v)}`);
}

function formatClause(verb: string, precision: number | undefined, v: unknown): string {
  switch (verb) {
    case 's':
      return formatAsString(v);
    case 'd':
      return formatDecimal(v);
    case 'f': {
      const x = fixedOrScientificArg(v, 'fixed-point');
      if (Number.isNaN(x)) return 'NaN';
      if (!Number.isFinite(x)) return x > 0 ? '∞' : '-∞';
      return groupThousands(goFixed(x, precision ?? 6));
    }
    case 'e':
      return scientific(fixedOrScientificArg(v, 'scientific'), precision ?? 6);
    case 'b':
      if (typeof v === 'boolean') return v ? '1' : '0';
      if (typeof v === 'bigint' || v instanceof UnsignedInt) return v.valueOf().toString(2);
      throw new Error(`only integers and bools can be formatted as binary, was given ${celTypeName(v)}`);
    case 'x':
    case 'X': {
      let hex: string;
      if (typeof v === 'string') hex = toHex(new TextEncoder().encode(v));
      else if (v instanceof Uint8Array) hex = toHex(v);
      else if (typeof v === 'bigint' || v instanceof UnsignedInt) hex = v.valueOf().toString(16);
      else throw new Error(`only integers, byte buffers, and strings can be formatted as hex, was given ${celTypeName(v)}`);
      return verb === 'X' ? hex.toUpperCase() : hex;
    }
    case 'o':
      if (typeof v === 'bigint' || v instanceof UnsignedInt) return v.valueOf().toString(8);
      throw new Error(`octal clause can only be used on integers, was given ${celTypeName(v)}`);
    default:
      throw new Error(`unrecognized formatting clause "${verb}"`);
  }
}

export function formatString(format: string, argList: unknown): string {
  const args = listItems(argList);
  let out = '';
  let argIndex = 0;
  for (let i = 0; i < format.length; ) {
    if (format[i] !== '%') {
      out += format[i];
      i++;
      continue;
    }
    if (format[i + 1] === '%') {
      out += '%';
      i += 2;
      continue;
    }
    if (argIndex >= args.length) throw celError(`index ${argIndex} out of range`);
    if (i + 1 >= format.length) throw celError('unexpected end of string');
    let j = i + 1;
    let precision: number | undefined;
    if (format[j] === '.') {
      j++;
      let digits = '';
      while (j < format.length && format[j]! >= '0' && format[j]! <= '9') digits += format[j++];
      if (j >= format.length) throw celError('could not parse formatting clause: error while parsing precision: could not find end of precision specifier');
      precision = digits === '' ? Number.NaN : Number(digits);
      if (Number.isNaN(precision)) throw celError(`could not parse formatting clause: error while parsing precision: error while converting precision to integer: strconv.Atoi: parsing "": invalid syntax`);
    }
    const verb = format[j] as string;
    if (!'sdfebxXo'.includes(verb)) throw celError(`could not parse formatting clause: unrecognized formatting clause "${verb}"`);
    try {
      out += formatClause(verb, precision, args[argIndex]);
    } catch (err) {
      throw celError(`error during formatting: ${(err as Error).message}`);
    }
    argIndex++;
    i = j + 1;
  }
  return out;
}
