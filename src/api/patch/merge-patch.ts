// JSON merge patch (RFC 7386) as kube-apiserver applies it for
// application/merge-patch+json.
import { cloneJson, isPlainObject } from '../object.js';
import { badRequest } from './patch-errors.js';

type JsonMap = Record<string, unknown>;

/** Assigns without invoking the __proto__ setter, so such a key stays plain data. */
export function setOwn(map: JsonMap, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(map, key, { value, writable: true, enumerable: true, configurable: true });
  else map[key] = value;
}

// New values lose their null members, also inside objects nested in arrays
// (the RFC leaves those alone; Kubernetes drops them).
function pruneNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pruneNulls);
  if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (v === null) delete value[k];
      else setOwn(value, k, pruneNulls(v));
    }
  }
  return value;
}

function mergeValue(current: unknown, patch: unknown, shared: boolean): unknown {
  if (!isPlainObject(current)) return pruneNulls(patch);
  if (!isPlainObject(patch)) return patch;
  return mergeObjects(current, patch, shared);
}

/**
 * Merges `patch` (the caller's own) into doc: into doc itself, or when doc is
 * `shared` into a copy of it, made of copies of the objects on the patch's
 * paths that shares every member the patch does not reach.
 */
function mergeObjects(doc: JsonMap, patch: JsonMap, shared: boolean): JsonMap {
  const out = shared ? { ...doc } : doc;
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (!Object.hasOwn(out, k) || out[k] === null) setOwn(out, k, pruneNulls(v));
    else setOwn(out, k, mergeValue(out[k], v, shared));
  }
  return out;
}

/** How a patch may treat the object it patches. */
export interface PatchTarget {
  /** The target is the caller's own copy: it is changed in place instead of copied first. */
  owned?: boolean;
  /**
   * The target is shared and read-only (merge patches only): the result is
   * made of copies of the objects on the patch's paths, and shares every
   * member the patch does not reach with the target.
   */
  shared?: boolean;
}

/**
 * Applies a JSON merge patch without changing the patch (nor the target,
 * unless it is owned). As in Kubernetes, a patch that is null or a bare
 * scalar is a 400 "Invalid JSON Patch", and a patch that is an array (or a
 * target that is not an object) yields the patch itself.
 */
export function applyMergePatch(target: unknown, patch: unknown, opts: PatchTarget = {}): unknown {
  if (Array.isArray(patch)) return pruneNulls(cloneJson(patch));
  if (!isPlainObject(patch)) throw badRequest('Invalid JSON Patch');
  if (!isPlainObject(target)) return pruneNulls(cloneJson(patch));
  if (opts.shared) return mergeObjects(target, cloneJson(patch), true);
  return mergeObjects(opts.owned ? target : cloneJson(target), cloneJson(patch), false);
}
