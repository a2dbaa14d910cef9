// Replays what client-side `kubectl apply` sends: the strategic merge patch of
// strategicpatch.CreateThreeWayMergePatch(lastApplied, manifest, live) with
// overwrite on, and the manifest recorded in the last-applied annotation.
// Covers maps, merge lists of maps and of primitives, $setElementOrder,
// $deleteFromPrimitiveList and $retainKeys; conflict detection is left out.
import { isPlainObject } from '../../src/api/object.js';
import type { FieldPatchMeta, PatchMeta } from '../../src/api/patch/index.js';

type JsonMap = Record<string, unknown>;

export const lastAppliedAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';

interface DiffOptions {
  setElementOrder: boolean;
  ignoreChangesAndAdditions: boolean;
  ignoreDeletions: boolean;
  buildRetainKeys: boolean;
}

// kubectl orders scalars and merge keys by their %v text.
function text(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function byText(a: unknown, b: unknown): number {
  const ta = text(a);
  const tb = text(b);
  return ta < tb ? -1 : ta > tb ? 1 : 0;
}

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'list' : typeof v;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isPlainObject(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}

function diffMaps(original: JsonMap, modified: JsonMap, meta: PatchMeta, options: DiffOptions): JsonMap {
  const patch: JsonMap = {};
  const retainKeys: string[] = [];
  for (const [key, modifiedValue] of Object.entries(modified)) {
    if (options.buildRetainKeys && modifiedValue !== null) retainKeys.push(key);
    if (!Object.hasOwn(original, key)) {
      if (!options.ignoreChangesAndAdditions) patch[key] = modifiedValue;
      continue;
    }
    const originalValue = original[key];
    if (kindOf(originalValue) !== kindOf(modifiedValue)) {
      if (!options.ignoreChangesAndAdditions) patch[key] = modifiedValue;
      continue;
    }
    const field = meta.field(key);
    if (isPlainObject(originalValue) && isPlainObject(modifiedValue)) {
      if (field.strategy === 'replace') {
        if (!options.ignoreChangesAndAdditions) patch[key] = modifiedValue;
      } else {
        const nested = diffMaps(originalValue, modifiedValue, field.value, { ...options, buildRetainKeys: field.retainKeys });
        if (Object.keys(nested).length > 0) patch[key] = nested;
      }
    } else if (Array.isArray(originalValue) && Array.isArray(modifiedValue) && field.strategy === 'merge') {
      const [additions, deletions, order] = diffLists(originalValue, modifiedValue, field, { ...options, buildRetainKeys: field.retainKeys });
      if (additions.length > 0) patch[key] = additions;
      if (deletions.length > 0) patch[`$deleteFromPrimitiveList/${key}`] = deletions;
      if (order.length > 0) patch[`$setElementOrder/${key}`] = order;
    } else if (!options.ignoreChangesAndAdditions && !deepEqual(originalValue, modifiedValue)) {
      patch[key] = modifiedValue;
    }
  }
  if (!options.ignoreDeletions) {
    for (const key of Object.keys(original)) if (!Object.hasOwn(modified, key)) patch[key] = null;
  }
  const clearsFields = Object.entries(original).some(([k, v]) => v !== null && !Object.hasOwn(modified, k));
  if (retainKeys.length > 0 && (Object.keys(patch).length > 0 || clearsFields)) patch.$retainKeys = retainKeys.sort(byText);
  return patch;
}

/** [patch list, $deleteFromPrimitiveList, $setElementOrder] for a list with strategy merge. */
function diffLists(original: unknown[], modified: unknown[], field: FieldPatchMeta, options: DiffOptions): [unknown[], unknown[], unknown[]] {
  if (original.length === 0) return [modified.length === 0 || options.ignoreChangesAndAdditions ? [] : modified, [], []];
  const mergeKey = field.mergeKey;
  if ([...original, ...modified].every(isPlainObject)) {
    const keyOf = (v: unknown): unknown => (v as JsonMap)[mergeKey];
    const originalSorted = [...original].sort((a, b) => byText(keyOf(a), keyOf(b))) as JsonMap[];
    const modifiedSorted = [...modified].sort((a, b) => byText(keyOf(a), keyOf(b))) as JsonMap[];
    const changes: unknown[] = [];
    const deletions: unknown[] = [];
    let i = 0;
    let j = 0;
    while (i < originalSorted.length || j < modifiedSorted.length) {
      const o = originalSorted[i];
      const m = modifiedSorted[j];
      const order = o && m ? byText(keyOf(o), keyOf(m)) : o ? -1 : 1;
      if (o && m && order === 0) {
        const nested = diffMaps(o, m, field.value, options);
        if (Object.keys(nested).length > 0) changes.push({ ...nested, [mergeKey]: keyOf(m) });
        i++;
        j++;
      } else if (m && order > 0) {
        if (!options.ignoreChangesAndAdditions) changes.push(m);
        j++;
      } else if (o) {
        if (!options.ignoreDeletions) deletions.push({ [mergeKey]: keyOf(o), $patch: 'delete' });
        i++;
      }
    }
    const position = (v: unknown): number => modified.findIndex((x) => keyOf(x) === keyOf(v));
    const patchList = [...changes.sort((a, b) => position(a) - position(b)), ...deletions];
    const orderSame = original.length === modified.length && original.every((o, k) => keyOf(o) === keyOf(modified[k]));
    const wantsOrder = (!options.ignoreChangesAndAdditions && (patchList.length > 0 || !orderSame)) || (!options.ignoreDeletions && patchList.length > 0);
    return [patchList, [], options.setElementOrder && wantsOrder ? modified.map((m) => ({ [mergeKey]: keyOf(m) })) : []];
  }
  const originalSet = new Set(original);
  const modifiedSet = new Set(modified);
  const additions = options.ignoreChangesAndAdditions ? [] : [...new Set(modified.filter((v) => !originalSet.has(v)))];
  const deletions = options.ignoreDeletions ? [] : [...new Set(original.filter((v) => !modifiedSet.has(v)))].sort(byText);
  const wantsOrder = (!options.ignoreDeletions && deletions.length > 0) || (!options.ignoreChangesAndAdditions && !deepEqual(original, modified));
  return [additions, deletions, options.setElementOrder && wantsOrder ? modified : []];
}

/** Combines the deletions patch with the additions-and-changes patch, as kubectl's mergeMap without parallel lists does. */
function combinePatches(deletions: JsonMap, delta: JsonMap, meta: PatchMeta): JsonMap {
  const combined: JsonMap = { ...deletions };
  for (const [key, value] of Object.entries(delta)) {
    const existing = combined[key];
    if (!Object.hasOwn(combined, key) || key.startsWith('$')) {
      combined[key] = value;
      continue;
    }
    const field = meta.field(key);
    if (isPlainObject(existing) && isPlainObject(value) && field.strategy !== 'replace') {
      combined[key] = combinePatches(existing, value, field.value);
    } else if (Array.isArray(existing) && Array.isArray(value) && field.strategy === 'merge' && field.mergeKey) {
      const mergeKey = field.mergeKey;
      const items = existing.map((item) => ({ ...(item as JsonMap) }));
      for (const element of value as JsonMap[]) {
        const index = items.findIndex((item) => item[mergeKey] === element[mergeKey] && item.$patch !== 'delete');
        if (index >= 0) items[index] = combinePatches(items[index] ?? {}, element, field.value);
        else items.push(element);
      }
      const order = (combined[`$setElementOrder/${key}`] ?? []) as JsonMap[];
      const position = (item: JsonMap): number => (item.$patch === 'delete' ? Infinity : order.findIndex((o) => o[mergeKey] === item[mergeKey]));
      combined[key] = items.sort((a, b) => position(a) - position(b));
    } else if (Array.isArray(existing) && Array.isArray(value) && field.strategy === 'merge') {
      combined[key] = [...new Set([...existing, ...value])];
    } else {
      combined[key] = value;
    }
  }
  return combined;
}

/** The three-way patch kubectl apply computes, before the annotation is added. */
export function threeWayMergePatch(lastApplied: JsonMap, modified: JsonMap, live: JsonMap, meta: PatchMeta): JsonMap {
  const delta = diffMaps(live, modified, meta, { setElementOrder: true, ignoreChangesAndAdditions: false, ignoreDeletions: true, buildRetainKeys: false });
  const deletions = diffMaps(lastApplied, modified, meta, { setElementOrder: true, ignoreChangesAndAdditions: true, ignoreDeletions: false, buildRetainKeys: false });
  return combinePatches(deletions, delta, meta);
}

/** The two-way patch from `original` to `modified` (kubectl's CreateTwoWayMergePatch). */
export function twoWayMergePatch(original: JsonMap, modified: JsonMap, meta: PatchMeta): JsonMap {
  return diffMaps(original, modified, meta, { setElementOrder: true, ignoreChangesAndAdditions: false, ignoreDeletions: false, buildRetainKeys: false });
}

function withLastApplied(manifest: JsonMap): JsonMap {
  const metadata = isPlainObject(manifest.metadata) ? manifest.metadata : {};
  const annotations = isPlainObject(metadata.annotations) ? { ...metadata.annotations } : {};
  delete annotations[lastAppliedAnnotation];
  const recorded = { ...manifest, metadata: { ...metadata, annotations } };
  if (Object.keys(annotations).length === 0) delete (recorded.metadata as JsonMap).annotations;
  annotations[lastAppliedAnnotation] = `${JSON.stringify(sortKeys(recorded))}\n`;
  return { ...manifest, metadata: { ...metadata, annotations } };
}

/** The PATCH body `kubectl apply -f manifest` sends for the live object. */
export function kubectlApplyPatch(live: JsonMap, manifest: JsonMap, meta: PatchMeta): JsonMap {
  const annotations = isPlainObject(live.metadata) && isPlainObject(live.metadata.annotations) ? live.metadata.annotations : {};
  const recorded = annotations[lastAppliedAnnotation];
  const lastApplied = typeof recorded === 'string' ? (JSON.parse(recorded) as JsonMap) : {};
  return threeWayMergePatch(lastApplied, withLastApplied(manifest), live, meta);
}
