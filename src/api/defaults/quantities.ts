// Decoding rewrites every resource.Quantity into Kubernetes' wire form, and
// SetDefaults_ResourceList rounds resource lists up to milli precision.

import { Quantity } from '../quantity.js';
import { asObject, type JsonObject } from '../validation/json-values.js';

const MILLI = -3;

/** Spellings worked out lately, by input: the same few amounts ("100m", "128Mi") recur in every object. */
const canonical = new Map<string | number, string>();
const roundedToMilli = new Map<string | number, string>();

function remembered(memo: Map<string | number, string>, v: string | number, work: (v: string | number) => string): string {
  let out = memo.get(v);
  if (out === undefined) {
    out = work(v);
    if (memo.size >= 1024) memo.clear();
    memo.set(v, out);
  }
  return out;
}

// Both write only a spelling that differs: an update's unchanged parts may be shared with the cached object, which never changes.

/** Rewrites obj[field] to its canonical spelling; throws InvalidQuantityError on a bad quantity. */
export function canonicalizeQuantityField(obj: JsonObject | undefined, field: string): void {
  if (!obj) return;
  const v = obj[field];
  if (typeof v !== 'string' && typeof v !== 'number') return;
  const spelled = remembered(canonical, v, (q) => Quantity.parse(q).toString());
  if (spelled !== v) obj[field] = spelled;
}

/** A v1.ResourceList (requests, limits, capacity, hard ...): canonical and rounded up to milli. */
export function canonicalizeResourceList(obj: JsonObject | undefined, field: string): void {
  const list = asObject(obj?.[field]);
  if (!list) return;
  for (const name of Object.keys(list)) {
    const v = list[name];
    if (typeof v !== 'string' && typeof v !== 'number') continue;
    const spelled = remembered(roundedToMilli, v, (q) => Quantity.parse(q).roundUp(MILLI).toString());
    if (spelled !== v) list[name] = spelled;
  }
}
