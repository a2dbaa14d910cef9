// apiequality.Semantic.DeepEqual for JSON: Go compares decoded structs, where
// an absent field, null, "", 0, false and an empty list or map are the same
// zero value. Immutability checks must not fire on such spelling differences.

import { asObject } from './json-values.js';

export function isZeroValue(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  const o = asObject(v);
  return o !== undefined && Object.values(o).every(isZeroValue);
}

export function semanticEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const oa = asObject(a);
  const ob = asObject(b);
  if (oa && ob) {
    // Member by member, a member one side lacks compared with undefined: two
    // zero-valued objects come out equal as well, so no zero test first.
    for (const k of Object.keys(oa)) if (!semanticEqual(oa[k], ob[k])) return false;
    for (const k of Object.keys(ob)) if (!Object.prototype.hasOwnProperty.call(oa, k) && !semanticEqual(undefined, ob[k])) return false;
    return true;
  }
  if (isZeroValue(a) && isZeroValue(b)) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!semanticEqual(a[i], b[i])) return false;
    return true;
  }
  return false;
}

/**
 * A short account of what differs, in the spirit of the go-cmp diff Kubernetes
 * appends to "may not change" errors: one "-" and one "+" line per changed path.
 */
export function describeDifferences(typeName: string, before: unknown, after: unknown): string {
  const lines: string[] = [];
  const walk = (path: string, x: unknown, y: unknown): void => {
    if (semanticEqual(x, y)) return;
    const ox = asObject(x);
    const oy = asObject(y);
    if (ox && oy) {
      for (const k of new Set([...Object.keys(ox), ...Object.keys(oy)])) walk(path ? `${path}.${k}` : k, ox[k], oy[k]);
      return;
    }
    if (Array.isArray(x) && Array.isArray(y) && x.length === y.length) {
      x.forEach((item, i) => walk(`${path}[${i}]`, item, y[i]));
      return;
    }
    lines.push(`- \t${path}: ${JSON.stringify(x ?? null)}`, `+ \t${path}: ${JSON.stringify(y ?? null)}`);
  };
  walk('', before, after);
  return [`  ${typeName}{`, ...lines, '  }'].join('\n');
}
