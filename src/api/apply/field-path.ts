// Field paths as structured-merge-diff names them: a field of a map, a list
// item picked by its key fields, a set item picked by its value, or a list
// item picked by its index. The FieldsV1 spelling of each element ("f:spec",
// 'k:{"name":"nginx"}', 'v:"a"', "i:3") is the canonical identity of an element.
import { remembered } from '../remembered.js';
import { compareJson, compareStrings, goJson, isJsonMap, valueToString } from './json-value.js';

export type PathElement =
  | { readonly field: string }
  /** Key fields of an associative list item, sorted by name. */
  | { readonly key: ReadonlyArray<readonly [string, unknown]> }
  | { readonly value: unknown }
  | { readonly index: number };

export type FieldPath = readonly PathElement[];

export function fieldElement(name: string): PathElement {
  return { field: name };
}

export function keyElement(fields: Record<string, unknown>): PathElement {
  return { key: Object.keys(fields).sort(compareStrings).map((k) => [k, fields[k]] as const) };
}

/** A path made only of field names: fieldPath('spec', 'replicas'). */
export function fieldPath(...names: string[]): FieldPath {
  return names.map(fieldElement);
}

const spellings = new WeakMap<PathElement, string>();

const fieldKeys = new Map<string, string>();

/** The FieldsV1 key of a field, "f:" and its name: one string per name (the same names come back on every write). */
export function fieldKey(name: string): string {
  return remembered(fieldKeys, name, 4096, (n) => 'f:' + n);
}

/** The FieldsV1 key of an element: "f:spec", 'k:{"name":"nginx"}', 'v:"a"', "i:3". */
export function serializePathElement(pe: PathElement): string {
  if ('field' in pe) return fieldKey(pe.field);
  let s = spellings.get(pe);
  if (s === undefined) {
    if ('key' in pe) s = 'k:{' + pe.key.map(([name, v]) => goJson(name) + ':' + goJson(v)).join(',') + '}';
    else if ('value' in pe) s = 'v:' + goJson(pe.value);
    else s = 'i:' + String(pe.index);
    spellings.set(pe, s);
  }
  return s;
}

export class PathElementSyntaxError extends Error {
  override name = 'PathElementSyntaxError';
}

/**
 * The element a FieldsV1 key names; undefined for a prefix this version does
 * not know, which structured-merge-diff skips so that newer servers' entries survive.
 */
export function parsePathElement(s: string): PathElement | undefined {
  const prefix = s.slice(0, 2);
  const rest = s.slice(2);
  switch (prefix) {
    case 'f:':
      return { field: rest };
    case 'k:': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(rest);
      } catch {
        throw new PathElementSyntaxError(`invalid key in path element ${JSON.stringify(s)}`);
      }
      if (!isJsonMap(parsed)) throw new PathElementSyntaxError(`key of path element ${JSON.stringify(s)} is not a map`);
      return keyElement(parsed);
    }
    case 'v:':
      try {
        return { value: JSON.parse(rest) as unknown };
      } catch {
        throw new PathElementSyntaxError(`invalid value in path element ${JSON.stringify(s)}`);
      }
    case 'i:': {
      if (!/^-?\d+$/.test(rest)) throw new PathElementSyntaxError(`invalid index in path element ${JSON.stringify(s)}`);
      return { index: Number(rest) };
    }
    default:
      return undefined;
  }
}

function elementRank(pe: PathElement): number {
  if ('field' in pe) return 0;
  if ('key' in pe) return 1;
  if ('value' in pe) return 2;
  return 3;
}

/** The order managedFields lists elements in: fields, then keys, values, indexes. */
export function comparePathElements(a: PathElement, b: PathElement): number {
  const ra = elementRank(a);
  const rb = elementRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if ('field' in a && 'field' in b) return compareStrings(a.field, b.field);
  if ('key' in a && 'key' in b) {
    for (let i = 0; ; i++) {
      const x = a.key[i];
      const y = b.key[i];
      if (!x && !y) return 0;
      if (!x) return -1;
      if (!y) return 1;
      const nc = compareStrings(x[0], y[0]);
      if (nc !== 0) return nc;
      const vc = compareJson(x[1], y[1]);
      if (vc !== 0) return vc;
    }
  }
  if ('value' in a && 'value' in b) return compareJson(a.value, b.value);
  if ('index' in a && 'index' in b) return a.index < b.index ? -1 : a.index > b.index ? 1 : 0;
  return 0;
}

/** ".spec.replicas", '[name="nginx"]', '[="a"]', "[3]", as conflicts print them. */
export function pathElementToString(pe: PathElement): string {
  if ('field' in pe) return '.' + pe.field;
  if ('key' in pe) return '[' + pe.key.map(([name, v]) => `${name}=${valueToString(v)}`).join(',') + ']';
  if ('value' in pe) return `[=${valueToString(pe.value)}]`;
  return `[${pe.index}]`;
}

export function pathToString(path: FieldPath): string {
  return path.map(pathElementToString).join('');
}
