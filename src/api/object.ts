// Object shapes shared by every kind. Built-in kinds are handled as plain JSON
// objects; these types name the parts every layer relies on.

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: 'Apply' | 'Update';
  apiVersion?: string;
  time?: string;
  fieldsType?: 'FieldsV1';
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
  [extra: string]: unknown;
}

export interface ListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
  selfLink?: string;
}

/** Any Kubernetes object. Kind-specific fields stay untyped JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface KubeList {
  apiVersion: string;
  kind: string;
  metadata: ListMeta;
  items: KubeObject[];
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * A copy of metadata without resourceVersion, so that a write is not pinned
 * to a version. Made by copying: a \`delete\` of a member other than the last
 * turns an object into a slow dictionary, and the store keeps what it writes.
 */
export function withoutResourceVersion(meta: ObjectMeta): ObjectMeta {
  const { resourceVersion: _resourceVersion, ...rest } = meta;
  return rest;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Freezes a JSON value and everything in it (parts already frozen are taken as frozen through). */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}

/**
 * A deep copy of a JSON value, as JSON.parse(JSON.stringify(v)) makes it
 * (undefined members dropped, undefined array items as null), several times faster.
 */
export function cloneJson<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) {
      const item: unknown = v[i];
      out[i] = item === undefined ? null : cloneJson(item);
    }
    return out as T;
  }
  const out: Record<string, unknown> = {};
  // for-in over own members: no array of keys per object copied (JSON data has no inherited enumerable members).
  for (const key in v) {
    if (!Object.hasOwn(v, key)) continue;
    const value = (v as Record<string, unknown>)[key];
    if (value === undefined || typeof value === 'function') continue;
    // A "__proto__" member is data, as JSON.parse makes it, never the prototype.
    if (key === '__proto__') Object.defineProperty(out, key, { value: cloneJson(value), enumerable: true, writable: true, configurable: true });
    else out[key] = cloneJson(value);
  }
  return out as T;
}
