// Decoding rewrites every resource.Quantity into Kubernetes' wire form, and
// SetDefaults_ResourceList rounds resource lists up to milli precision.

import { Quantity } from '../quantity.js';
import { remembered } from '../remembered.js';
import { asObject, type JsonObject } from '../validation/json-values.js';

const MILLI = -3;

/** Spellings worked out lately, by input: the same few amounts ("100m", "128Mi") recur in every object. */
const canonical = new Map<string | number, string>();
const roundedToMilli = new Map<string | number, string>();

// Both write only a spelling that differs: an update's unchanged parts may be shared with the cached object, which never changes.

/** Rewrites obj[field] to its canonical spelling; throws InvalidQuantityError on a bad quantity. */
export function canonicalizeQuantityField(obj: JsonObject | undefined, field: string): void {
  if (!obj) return;
  const v = obj[field];
  if (typeof v !== 'string' && typeof v !== 'number') return;
  const spelled = remembered(canonical, v, 1024, (q) => Quantity.parse(q).toString());
  if (spelled !== v) obj[field] = spelled;
}

/** A v1.ResourceList (requests, limits, capacity, hard ...): canonical and rounded up to milli. */
export function canonicalizeResourceList(obj: JsonObject | undefined, field: string): void {
  const list = asObject(obj?.[field]);
  if (!list) return;
  for (const name of Object.keys(list)) {
    const v = list[name];
    if (typeof v !== 'string' && typeof v !== 'number') continue;
    const spelled = remembered(roundedToMilli, v, 1024, (q) => Quantity.parse(q).roundUp(MILLI).toString());
    if (spelled !== v) list[name] = spelled;
  }
}
