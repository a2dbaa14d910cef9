// Strategic merge patch, the default patch type of kubectl (apply, edit,
// patch, scale, rollout ...): a JSON merge patch in which lists of objects
// may be merged element by element on a merge key, driven by the type's
// patch metadata. Follows k8s.io/apimachinery/pkg/util/strategicpatch as the
// API server runs it (StrategicMergeMapPatch: parallel lists merged,
// unmatched nulls ignored), with one deliberate difference: values the
// original object lacks are built by merging the patch into an empty value,
// so directives and nulls never end up stored in the object.
import { BadRequestError } from '../errors.js';
import { cloneJson, isPlainObject } from '../object.js';
import type { PatchTarget } from './merge-patch.js';
import { setOwn } from './merge-patch.js';
import {
  MalformedPatchError,
  PatchRejectedError,
  badArgTypeError,
  badJSONDoc,
  badPatchFormatForPrimitiveList,
  badPatchFormatForRetainKeys,
  badPatchFormatForSetElementOrderList,
  goValue,
  jsonKindName,
  noListOfLists,
  noMergeKeyError,
  unknownPatchTypeError,
} from './patch-errors.js';
import type { FieldPatchMeta, PatchMeta } from './patch-meta.js';

type JsonMap = Record<string, unknown>;
type ElementKind = 'map' | 'scalar';

const directiveMarker = '$patch';
const retainKeysDirective = '$retainKeys';
const deleteFromPrimitiveListPrefix = '$deleteFromPrimitiveList';
const setElementOrderPrefix = '$setElementOrder';

const mapType = 'map[string]interface {}';
const listType = '[]interface {}';

/**
 * Applies a strategic merge patch to `original` (an object) without changing
 * the patch (nor `original`, unless it is owned). A null patch changes
 * nothing. Errors carry the status kube-apiserver answers with: 400 for a
 * patch of the wrong shape, 422 for lists of lists, and 500 without reason
 * for what the merge rejects.
 */
export function applyStrategicMergePatch(original: unknown, patch: unknown, meta: PatchMeta, opts: PatchTarget = {}): unknown {
  if (!isPlainObject(original)) throw new BadRequestError(badJSONDoc);
  const target = opts.owned ? original : cloneJson(original);
  if (patch === null) return target;
  if (!isPlainObject(patch)) throw new BadRequestError(`json: cannot unmarshal ${jsonKindName(patch)} into Go value of type ${mapType}`);
  return mergeMap(target, cloneJson(patch), meta);
}

/** Merges `patch` into `original`, both owned by the caller (they are modified). */
function mergeMap(original: JsonMap, patch: JsonMap, meta: PatchMeta): JsonMap {
  if (Object.hasOwn(patch, directiveMarker)) return applyMapDirective(patch, meta);
  applyRetainKeysDirective(original, patch);
  mergeListsWithElementOrder(original, patch, meta);

  for (const [patchKey, patchValue] of Object.entries(patch)) {
    let key = patchKey;
    let isDeleteList = false;
    if (patchKey.startsWith(deleteFromPrimitiveListPrefix)) {
      key = extractKey(patchKey, deleteFromPrimitiveListPrefix);
      isDeleteList = true;
    }
    if (patchValue === null) {
      delete original[key];
      continue;
    }
    const field = meta.field(key);
    const originalValue = Object.hasOwn(original, key) ? original[key] : undefined;
    if (isDeleteList) {
      // Nothing to delete from when the list is absent (Kubernetes would store the deletion list itself).
      if (Array.isArray(originalValue) && Array.isArray(patchValue)) setOwn(original, key, mergeSlice(originalValue, patchValue, field, true));
      else if (!Array.isArray(patchValue)) throw new BadRequestError(badPatchFormatForPrimitiveList);
      continue;
    }
    if (isPlainObject(originalValue) && isPlainObject(patchValue)) {
      setOwn(original, key, field.strategy === 'replace' ? mergeMap({}, patchValue, field.value) : mergeMap(originalValue, patchValue, field.value));
    } else if (Array.isArray(originalValue) && Array.isArray(patchValue)) {
      setOwn(original, key, field.strategy === 'merge' ? mergeSlice(originalValue, patchValue, field, false) : freshList(patchValue, field));
    } else {
      setOwn(original, key, freshValue(patchValue, field));
    }
  }
  return original;
}

/** `$patch` on a map: replace keeps only the patch's content, delete empties it. */
function applyMapDirective(patch: JsonMap, meta: PatchMeta): JsonMap {
  const directive = patch[directiveMarker];
  if (directive === 'replace') {
    delete patch[directiveMarker];
    return mergeMap({}, patch, meta);
  }
  if (directive === 'delete') return {};
  throw unknownPatchTypeError(directive, patch);
}

/** A value the original lacks (or holds in another shape) is the patch merged into nothing. */
function freshValue(value: unknown, field: FieldPatchMeta): unknown {
  if (isPlainObject(value)) return mergeMap({}, value, field.value);
  if (Array.isArray(value)) return freshList(value, field);
  return value;
}

function freshList(list: unknown[], field: FieldPatchMeta): unknown[] {
  const out: unknown[] = [];
  for (const element of list) {
    if (!isPlainObject(element)) out.push(element);
    else if (!(field.strategy === 'merge' && Object.hasOwn(element, directiveMarker))) out.push(mergeMap({}, element, field.value));
  }
  return out;
}

function extractKey(key: string, prefix: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) {
    throw new BadRequestError(prefix === deleteFromPrimitiveListPrefix ? badPatchFormatForPrimitiveList : badPatchFormatForSetElementOrderList);
  }
  return key.slice(slash + 1);
}

/**
 * `$retainKeys: [a, b]` clears every other key of the original, so a union
 * member (Deployment strategy.rollingUpdate, a volume's source) goes away
 * when its discriminator changes. Every key the patch sets must be listed.
 */
function applyRetainKeysDirective(original: JsonMap, patch: JsonMap): void {
  if (!Object.hasOwn(patch, retainKeysDirective)) return;
  const retained = patch[retainKeysDirective];
  delete patch[retainKeysDirective];
  if (!Array.isArray(retained)) throw new BadRequestError(badPatchFormatForRetainKeys);
  const keep = new Set<unknown>(retained);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || key.startsWith(deleteFromPrimitiveListPrefix) || key.startsWith(setElementOrderPrefix)) continue;
    if (!keep.has(key)) throw new BadRequestError(badPatchFormatForRetainKeys);
  }
  for (const key of Object.keys(original)) {
    if (!keep.has(key)) delete original[key];
  }
}

/**
 * Handles each `$setElementOrder/<list>` with its list: merges the patch list
 * into the original one and orders the result. Order precedence: the
 * directive, then the patch list, then the live list for server-only items.
 */
function mergeListsWithElementOrder(original: JsonMap, patch: JsonMap, meta: PatchMeta): void {
  for (const directiveKey of Object.keys(patch)) {
    if (!directiveKey.startsWith(setElementOrderPrefix)) continue;
    const order = patch[directiveKey];
    delete patch[directiveKey];
    if (!Array.isArray(order)) throw badArgTypeError(listType, order);
    const key = extractKey(directiveKey, setElementOrderPrefix);

    const foundOriginal = Object.hasOwn(original, key);
    const foundPatch = Object.hasOwn(patch, key);
    const originalList = foundOriginal ? original[key] : [];
    const patchList = foundPatch ? patch[key] : [];
    if (!Array.isArray(originalList)) throw badArgTypeError(listType, originalList);
    if (!Array.isArray(patchList)) throw badArgTypeError(listType, patchList);
    const field = meta.field(key);
    const mergeKey = field.mergeKey;
    validatePatchWithSetOrderList(patchList, order, mergeKey);

    let merged: unknown[];
    let liveView = originalList;
    if (foundPatch && field.strategy === 'merge') ({ merged, liveView } = mergeSliceTracked(originalList, patchList, field, false));
    else if (foundPatch) merged = freshList(patchList, field);
    else if (foundOriginal) merged = originalList;
    else continue;
    delete patch[key];
    if (merged.length === 0) {
      setOwn(original, key, merged);
      continue;
    }
    const [patchItems, serverOnlyItems] = mergeKey ? partitionMapsByPresentInList(merged, order, mergeKey) : partitionPrimitivesByPresentInList(merged, order);
    const kind = sliceElementKind([originalList, patchList]);
    setOwn(original, key, normalizeElementOrder(patchItems, serverOnlyItems, order, liveView, mergeKey, kind));
  }
}

/** The patch list's items must appear in the same relative order in $setElementOrder. */
function validatePatchWithSetOrderList(patchList: unknown[], setOrderList: unknown[], mergeKey: string): void {
  if (setOrderList.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey ? splitDeletions(patchList)[0] : patchList;
  let patchIndex = 0;
  let orderIndex = 0;
  while (patchIndex < nonDelete.length && orderIndex < setOrderList.length) {
    const item = nonDelete[patchIndex];
    if (isPlainObject(item) && Object.hasOwn(item, directiveMarker)) {
      patchIndex++;
      continue;
    }
    if (mergeKeyValueEqual(item, setOrderList[orderIndex], mergeKey)) patchIndex++;
    orderIndex++;
  }
  if (patchIndex < nonDelete.length && orderIndex >= setOrderList.length) {
    throw new MalformedPatchError(`The order in patch list:\n${goValue(patchList)}\n doesn't match ${setElementOrderPrefix} list:\n${goValue(setOrderList)}\n`);
  }
}

function mergeKeyValueEqual(left: unknown, right: unknown, mergeKey: string): boolean {
  if (!mergeKey) return left === right;
  if (!isPlainObject(left)) throw badArgTypeError(mapType, left);
  if (!isPlainObject(right)) throw badArgTypeError(mapType, right);
  if (!Object.hasOwn(left, mergeKey)) throw noMergeKeyError(left, mergeKey);
  if (!Object.hasOwn(right, mergeKey)) throw noMergeKeyError(right, mergeKey);
  return left[mergeKey] === right[mergeKey];
}

/** Elements carrying `$patch: delete`, apart from the others. */
function splitDeletions(list: unknown[]): [unknown[], unknown[]] {
  const keep: unknown[] = [];
  const deletions: unknown[] = [];
  for (const item of list) {
    if (!isPlainObject(item)) throw badArgTypeError(mapType, item);
    (item[directiveMarker] === 'delete' ? deletions : keep).push(item);
  }
  return [keep, deletions];
}

/** All elements of the lists share one kind, and none is a list. */
function sliceElementKind(lists: unknown[][]): ElementKind {
  let first: string | undefined;
  for (const list of lists) {
    for (const item of list) {
      const kind = item === null ? 'null' : Array.isArray(item) ? 'list' : typeof item;
      if (first === undefined) {
        if (kind === 'list') throw new PatchRejectedError(noListOfLists);
        first = kind;
      } else if (kind !== first) {
        throw new MalformedPatchError(`list element types are not identical: ${goValue(lists)}`);
      }
    }
  }
  if (first === undefined) throw new MalformedPatchError('no elements in any of the given slices');
  return first === 'object' ? 'map' : 'scalar';
}

function sameMergeKey(item: unknown, mergeKey: string, value: unknown): boolean {
  return isPlainObject(item) && Object.hasOwn(item, mergeKey) && item[mergeKey] === value;
}

/** Merges two lists of a field with strategy merge. `isDeleteList`: the patch is a $deleteFromPrimitiveList. */
function mergeSlice(original: unknown[], patch: unknown[], field: FieldPatchMeta, isDeleteList: boolean): unknown[] {
  return mergeSliceTracked(original, patch, field, isDeleteList).merged;
}

interface TrackedMerge {
  merged: unknown[];
  /**
   * The original list as Kubernetes sees it after the merge. strategicpatch
   * deletes and appends in place, so the caller's view of the live list shows
   * deletions shifted out and the first appended elements in the freed slots.
   * $setElementOrder orders server-only elements against that view, and
   * kubectl users get that order; Nami reproduces it.
   */
  liveView: unknown[];
}

function mergeSliceTracked(original: unknown[], patch: unknown[], field: FieldPatchMeta, isDeleteList: boolean): TrackedMerge {
  if (original.length === 0 && patch.length === 0) return { merged: original, liveView: original };
  const kind = sliceElementKind([original, patch]);
  const mergeKey = field.mergeKey;
  if (kind === 'scalar') {
    if (isDeleteList) {
      const doomed = new Set(patch);
      return { merged: original.filter((v) => !doomed.has(v)), liveView: original };
    }
    const merged = [...new Set([...original, ...patch])];
    const [patchItems, serverOnlyItems] = mergeKey ? partitionMapsByPresentInList(merged, patch, mergeKey) : partitionPrimitivesByPresentInList(merged, patch);
    return { merged: normalizeElementOrder(patchItems, serverOnlyItems, patch, original, mergeKey, kind), liveView: original };
  }
  if (!mergeKey) throw new MalformedPatchError(`cannot merge lists without merge key for ${field.value.name}`);

  const liveView = original.slice();
  const special = applySpecialElements(liveView, patch, field);
  let serverOrder: unknown[];
  let patchItems: unknown[];
  let merged: unknown[];
  if (special.replacement) {
    serverOrder = special.replacement;
    patchItems = [];
    merged = special.replacement;
  } else {
    serverOrder = liveView.slice(0, special.length);
    patchItems = special.rest;
    merged = mergeElements(liveView, special.length, patchItems, field);
  }
  const [present, serverOnlyItems] = partitionMapsByPresentInList(merged, patchItems, mergeKey);
  return { merged: normalizeElementOrder(present, serverOnlyItems, patchItems, serverOrder, mergeKey, kind), liveView };
}

interface SpecialElements {
  /** Length of the list once the `$patch: delete` elements are removed from it. */
  length: number;
  /** The patch elements that are not directives. */
  rest: unknown[];
  /** With `$patch: replace`, the list that replaces the original one. */
  replacement?: unknown[];
}

/**
 * Applies the list elements that are directives: `{name: x, $patch: delete}`
 * removes every element with that key from `live` (in place, shifting the
 * rest down as Go does), `{$patch: replace}` makes the other patch elements
 * the whole list.
 */
function applySpecialElements(live: unknown[], patch: unknown[], field: FieldPatchMeta): SpecialElements {
  const mergeKey = field.mergeKey;
  const rest: unknown[] = [];
  let length = live.length;
  let replace = false;
  for (const item of patch) {
    const element = item as JsonMap;
    if (!Object.hasOwn(element, directiveMarker)) {
      rest.push(element);
      continue;
    }
    const directive = element[directiveMarker];
    if (directive === 'delete') {
      if (!Object.hasOwn(element, mergeKey)) throw noMergeKeyError(element, mergeKey);
      for (;;) {
        const index = live.slice(0, length).findIndex((o) => sameMergeKey(o, mergeKey, element[mergeKey]));
        if (index < 0) break;
        live.copyWithin(index, index + 1, length);
        length--;
      }
    } else if (directive === 'replace') {
      replace = true; // keep going, to drop any other directive element
    } else if (directive === 'merge') {
      throw new MalformedPatchError('merging lists cannot yet be specified in the patch');
    } else {
      throw unknownPatchTypeError(directive, element);
    }
  }
  if (replace) return { length, rest: [], replacement: rest.map((element) => mergeMap({}, element as JsonMap, field.value)) };
  return { length, rest };
}

/**
 * Merges each patch element into the element of live[0, length) with its
 * merge key, appending the new ones; appends land in live's free slots while
 * there are some, as a Go append within capacity does.
 */
function mergeElements(live: unknown[], length: number, patch: unknown[], field: FieldPatchMeta): unknown[] {
  const mergeKey = field.mergeKey;
  const merged = live.slice(0, length);
  for (const item of patch) {
    const element = item as JsonMap;
    if (!Object.hasOwn(element, mergeKey)) throw noMergeKeyError(element, mergeKey);
    const index = merged.findIndex((o) => sameMergeKey(o, mergeKey, element[mergeKey]));
    if (index >= 0) {
      merged[index] = mergeMap(merged[index] as JsonMap, element, field.value);
    } else {
      const added = mergeMap({}, element, field.value);
      if (merged.length < live.length) live[merged.length] = added;
      merged.push(added);
    }
  }
  return merged;
}

function partitionPrimitivesByPresentInList(list: unknown[], partitionBy: unknown[]): [unknown[], unknown[]] {
  const present = new Set(partitionBy);
  return [list.filter((v) => present.has(v)), list.filter((v) => !present.has(v))];
}

function partitionMapsByPresentInList(list: unknown[], partitionBy: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const present: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const item of list) {
    if (!isPlainObject(item)) throw badArgTypeError(mapType, item);
    if (!Object.hasOwn(item, mergeKey)) throw noMergeKeyError(item, mergeKey);
    const found = partitionBy.some((candidate, index) => {
      if (!isPlainObject(candidate)) throw new MalformedPatchError(`value for key ${index} is not a map.`);
      return sameMergeKey(candidate, mergeKey, item[mergeKey]);
    });
    (found ? present : serverOnly).push(item);
  }
  return [present, serverOnly];
}

/** Where `item` sits in `list`, by merge key for maps; -1 when absent. */
function indexOf(list: unknown[], item: unknown, mergeKey: string, kind: ElementKind): number {
  const valueOf = (v: unknown): unknown => (kind === 'map' ? (isPlainObject(v) ? (v[mergeKey] ?? null) : null) : v);
  const wanted = valueOf(item);
  return list.findIndex((v) => valueOf(v) === wanted);
}

/**
 * Orders patch items by `patchOrder` and server-only items by `serverOrder`,
 * then interleaves them keeping both relative orders (kube's
 * normalizeElementOrder and mergeSortedSlice).
 */
function normalizeElementOrder(patchItems: unknown[], serverOnly: unknown[], patchOrder: unknown[], serverOrder: unknown[], mergeKey: string, kind: ElementKind): unknown[] {
  const left = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  const right = normalizeSliceOrder(patchItems, patchOrder, mergeKey, kind);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexOf(serverOrder, left[i], mergeKey, kind);
      const ri = indexOf(serverOrder, right[j], mergeKey, kind);
      // A server-only item goes first only when the live list placed it before the patch item.
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

function normalizeSliceOrder(toSort: unknown[], order: unknown[], mergeKey: string, kind: ElementKind): unknown[] {
  let deletions: unknown[] = [];
  if (kind === 'map') {
    for (const item of [...toSort, ...order]) {
      if (!isPlainObject(item)) throw badArgTypeError(mapType, item);
      if (!Object.hasOwn(item, mergeKey)) throw noMergeKeyError(item, mergeKey);
    }
    [toSort, deletions] = splitDeletions(toSort);
  }
  const positions = new Map<unknown, number>(toSort.map((item) => [item, indexOf(order, item, mergeKey, kind)]));
  // Array.prototype.sort is stable: equal and unplaced items keep their relative order.
  const sorted = toSort.slice().sort((a, b) => {
    const pa = positions.get(a) ?? -1;
    const pb = positions.get(b) ?? -1;
    return pa >= 0 && pb >= 0 ? pa - pb : 0;
  });
  return [...sorted, ...deletions];
}
