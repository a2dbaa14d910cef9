// What cel-go's ext.Strings (version 2, as Kubernetes configures it) and
// Kubernetes' regex library add beyond cel-js's own string functions:
// charAt, replace, format, strings.quote, find, findAll and the global
// matches(string, string), with Go's RE2 syntax and Go's error wording.

import type { Environment } from '@marcbachmann/cel-js';
import { goRegExp } from '../go-regexp.js';
import { celError } from './values.js';
import { formatString } from './string-format.js';

function charAt(s: string, index: bigint): string {
  const runes = [...s];
  if (index < 0n || index > BigInt(runes.length)) throw celError(`index out of range: ${index}`, 'index_out_of_range');
  return runes[Number(index)] ?? '';
}

/** Go's strings.Replace: n < 0 replaces all; an empty `old` matches before every rune and at the end. */
export function goReplace(s: string, old: string, replacement: string, n: number): string {
  if (old === replacement || n === 0) return s;
  if (old === '') {
    const runes = [...s];
    const count = n < 0 ? runes.length + 1 : Math.min(n, runes.length + 1);
    let out = replacement;
    for (let k = 1; k < count; k++) out += (runes[k - 1] as string) + replacement;
    return out + runes.slice(count - 1).join('');
  }
  let out = '';
  let start = 0;
  for (let done = 0; n < 0 || done < n; done++) {
    const at = s.indexOf(old, start);
    if (at < 0) break;
    out += s.slice(start, at) + replacement;
    start = at + old.length;
  }
  return out + s.slice(start);
}

/** strings.quote: a double-quoted CEL string literal, invalid UTF-16 (lone surrogates) replaced. */
function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    switch (ch) {
      case '\x07': out += '\\a'; break;
      case '\b': out += '\\b'; break;
      case '\f': out += '\\f'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\t': out += '\\t'; break;
      case '\v': out += '\\v'; break;
      case '\\': out += '\\\\'; break;
      case '"': out += '\\"'; break;
      default: {
        const c = ch.codePointAt(0) as number;
        out += c >= 0xd800 && c <= 0xdfff ? '\ufffd' : ch;
      }
    }
  }
  return `${out}"`;
}

/** Compiled patterns by source: rules run the same few literals over and over. */
const compiled = new Map<string, RegExp>();

/** A Go (RE2) pattern as a global JavaScript RegExp, or Kubernetes' "Illegal regex" error. */
function regex(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (re === undefined) {
    try {
      const translated = goRegExp(pattern);
      re = new RegExp(translated.source, `${translated.flags}g`);
    } catch (err) {
      throw celError(`Illegal regex: ${(err as Error).message}`, 'invalid_regular_expression');
    }
    if (compiled.size >= 512) compiled.clear();
    compiled.set(pattern, re);
  }
  re.lastIndex = 0;
  return re;
}

function matches(s: string, pattern: string): boolean {
  return regex(pattern).exec(s) !== null;
}

function find(s: string, pattern: string): string {
  return regex(pattern).exec(s)?.[0] ?? '';
}

/** Go's Regexp.FindAllString: successive non-overlapping matches, an empty match right after a match skipped. */
function findAll(s: string, pattern: string, n: bigint): string[] {
  const re = regex(pattern);
  const out: string[] = [];
  let pos = 0;
  let prevEnd = -1;
  while ((n < 0n || BigInt(out.length) < n) && pos <= s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (m === null) break;
    const end = m.index + m[0].length;
    let accept = true;
    if (end === pos) {
      if (m.index === prevEnd) accept = false;
      pos += pos < s.length ? ((s.codePointAt(pos) as number) > 0xffff ? 2 : 1) : 1;
    } else {
      pos = end;
    }
    prevEnd = end;
    if (accept) out.push(m[0]);
  }
  return out;
}

/** The receiver of strings.quote. */
class StringsNamespace {}

export function registerStringsLibrary(env: Environment): void {
  env.registerFunction('string.charAt(int): string', charAt);
  env.registerFunction('string.replace(string, string): string', (s: string, old: string, r: string) => goReplace(s, old, r, -1));
  env.registerFunction('string.replace(string, string, int): string', (s: string, old: string, r: string, n: bigint) =>
    goReplace(s, old, r, n < -1n ? -1 : n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n)),
  );
  env.registerFunction('string.format(list): string', formatString);
  env.registerType('StringsNamespace', StringsNamespace);
  env.registerConstant('strings', 'StringsNamespace', new StringsNamespace());
  env.registerFunction('StringsNamespace.quote(string): string', (_: StringsNamespace, s: string) => quote(s));
}

export function registerRegexLibrary(env: Environment): void {
  env.registerFunction('matches(string, string): bool', matches);
  env.registerFunction('string.find(string): string', find);
  env.registerFunction('string.findAll(string): list<string>', (s: string, p: string) => findAll(s, p, -1n));
  env.registerFunction('string.findAll(string, int): list<string>', findAll);
}
