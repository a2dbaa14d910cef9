// Read access to untyped JSON objects: built-in kinds are plain JSON, and a
// field of the wrong type reads as its Go zero value, as after decoding.

export type JsonObject = Record<string, unknown>;

export function asObject(v: unknown): JsonObject | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : undefined;
}

export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function asString(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export function asNumber(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** A map[string]string such as labels or a selector's matchLabels. */
export function asStringMap(v: unknown): Record<string, string> {
  const o = asObject(v);
  if (!o) return {};
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(o)) out[k] = typeof val === 'string' ? val : String(val);
  return out;
}

/** Sets obj[key] to an empty object unless it already holds one, and returns it. */
export function ensureObject(obj: JsonObject, key: string): JsonObject {
  const existing = asObject(obj[key]);
  if (existing) return existing;
  const created: JsonObject = {};
  obj[key] = created;
  return created;
}

/** The objects of an array field, skipping anything that is not an object (the array itself when it holds only objects: only to read). */
export function objectsOf(v: unknown): JsonObject[] {
  if (!Array.isArray(v)) return [];
  let i = 0;
  while (i < v.length && asObject(v[i]) !== undefined) i++;
  if (i === v.length) return v as JsonObject[];
  const out = v.slice(0, i) as JsonObject[];
  for (; i < v.length; i++) if (asObject(v[i]) !== undefined) out.push(v[i] as JsonObject);
  return out;
}
