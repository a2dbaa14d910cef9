// Validation ratcheting, as Kubernetes does it for custom resources (GA in
// 1.33): an update may keep a value the schema has since come to refuse, as
// long as it leaves that value as it was. A value is compared with the
// stored one at the same place; places are paired through properties, map
// keys, the keys of map lists and the items of sets, never through the
// indexes of an atomic list (whose items cannot be told apart).
import type { ErrorObject } from 'ajv';
import { jsonEqual } from '../api/apply/json-value.js';
import { isPlainObject } from '../api/object.js';
import { jsonPointerTokens } from '../api/patch/json-patch.js';

type RawSchema = Record<string, unknown>;

/**
 * Whether the value at pointer, or the nearest value above it that pairs
 * with a stored one, is as it was: then the update did not touch it, and its
 * errors are let through, as Kubernetes skips validating an unchanged node.
 */
function unchanged(schema: RawSchema | undefined, body: unknown, old: unknown, pointer: string): boolean {
  let s = schema;
  let cur = body;
  let prev = old;
  let same = false;
  for (const step of jsonPointerTokens(pointer)) {
    if (Array.isArray(cur)) {
      const item: unknown = cur[Number(step)];
      const listType = s?.['x-kubernetes-list-type'];
      const keys = s?.['x-kubernetes-list-map-keys'];
      if (!Array.isArray(prev)) return same;
      if (listType === 'set') prev = prev.find((p) => jsonEqual(p, item));
      else if (listType === 'map' && Array.isArray(keys)) prev = storedItemFinder(keys as string[], prev)(item);
      else return same;
      cur = item;
      s = isPlainObject(s?.items) ? (s.items as RawSchema) : undefined;
    } else {
      if (!isPlainObject(cur) || !isPlainObject(prev)) return same;
      cur = cur[step];
      prev = prev[step];
      const properties = isPlainObject(s?.properties) ? (s.properties as Record<string, RawSchema>) : undefined;
      const next: unknown = properties?.[step] ?? s?.additionalProperties;
      s = isPlainObject(next) ? next : undefined;
    }
    if (prev === undefined) return same;
    same = jsonEqual(cur, prev);
    if (same) return true;
  }
  return same;
}

/** The schema errors an update must answer for: those at values it changed (old: the stored object). */
export function unratchetedErrors(errors: readonly ErrorObject[], schema: RawSchema | undefined, body: unknown, old: unknown): ErrorObject[] {
  if (old === undefined) return [...errors];
  return errors.filter((e) => !unchanged(schema, body, old, e.instancePath));
}

/** Finds the stored item of a map list with the same keys as an item. */
export function storedItemFinder(keys: readonly string[], old: unknown[]): (item: unknown) => unknown {
  const keyOf = (item: unknown) => (isPlainObject(item) ? JSON.stringify(keys.map((k) => item[k] ?? null)) : undefined);
  const byKey = new Map<string, unknown>();
  for (const item of old) {
    const k = keyOf(item);
    if (k !== undefined && !byKey.has(k)) byKey.set(k, item);
  }
  return (item) => {
    const k = keyOf(item);
    return k === undefined ? undefined : byKey.get(k);
  };
}
