// Decoding rewrites every resource.Quantity into Kubernetes' wire form, and
// SetDefaults_ResourceList rounds resource lists up to milli precision.

import { Quantity } from '../quantity.js';
import { asObject, type JsonObject } from '../validation/json-values.js';

const MILLI = -3;

/** Rewrites obj[field] to its canonical spelling; throws InvalidQuantityError on a bad quantity. */
export function canonicalizeQuantityField(obj: JsonObject | undefined, field: string): void {
  if (!obj) return;
  const v = obj[field];
  if (typeof v === 'string' || typeof v === 'number') obj[field] = Quantity.parse(v).toString();
}

/** A v1.ResourceList (requests, limits, capacity, hard ...): canonical and rounded up to milli. */
export function canonicalizeResourceList(obj: JsonObject | undefined, field: string): void {
  const list = asObject(obj?.[field]);
  if (!list) return;
  for (const [name, v] of Object.entries(list)) {
    if (typeof v === 'string' || typeof v === 'number') list[name] = Quantity.parse(v).roundUp(MILLI).toString();
  }
}
