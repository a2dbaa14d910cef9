// Merges an applied configuration into the live object by the schema, as
// structured-merge-diff's TypedValue.Merge does: the configuration's scalars
// and atomic values win, granular maps are merged key by key, associative
// lists item by item (keeping the live order where the configuration does not
// reorder), and nothing is removed.
import { isJsonMap } from './json-value.js';
import { indexList } from './list-items.js';
import type { IndexedList } from './list-items.js';
import { shapeOf } from './type-info.js';
import type { ListType, MapType, TypeNode } from './type-info.js';

/** undefined stands for "absent", as opposed to null. */
export function mergeValues(lhs: unknown, rhs: unknown, type: TypeNode): unknown {
  if (rhs === undefined) return lhs;
  if (lhs === undefined || (rhs === null && type.kind === 'deduced')) return rhs;
  const rShape = shapeOf(type, rhs);
  const lShape = shapeOf(type, lhs);
  if (rShape.kind !== lShape.kind && rhs !== null) return rhs;
  const shape = rhs === null ? lShape : rShape;
  if (shape.kind === 'scalar') return rhs;
  if (shape.kind === 'list') return mergeLists(lhs, rhs, shape);
  return mergeMaps(lhs, rhs, shape);
}

function isEmptyList(v: unknown): boolean {
  return !Array.isArray(v) || v.length === 0;
}

function isEmptyMap(v: unknown): boolean {
  return !isJsonMap(v) || Object.keys(v).length === 0;
}

function mergeMaps(lhs: unknown, rhs: unknown, t: MapType): unknown {
  // Both empty or null: keep the configuration's choice between the two.
  if (t.relationship === 'atomic' || (isEmptyMap(lhs) && isEmptyMap(rhs))) return rhs;
  const l = isJsonMap(lhs) ? lhs : {};
  const r = isJsonMap(rhs) ? rhs : {};
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(l)) {
    const merged = mergeValues(l[key], r[key], t.field(key) ?? t.element ?? { kind: 'deduced' });
    if (merged !== undefined) out[key] = merged;
  }
  for (const key of Object.keys(r)) {
    if (Object.hasOwn(l, key) || r[key] === undefined) continue;
    out[key] = r[key];
  }
  return out;
}

function mergeLists(lhs: unknown, rhs: unknown, t: ListType): unknown {
  if (t.relationship === 'atomic' || (isEmptyList(lhs) && isEmptyList(rhs))) return rhs;
  const l = indexList(t, Array.isArray(lhs) ? lhs : []);
  const r = indexList(t, Array.isArray(rhs) ? rhs : []);
  const out = mergeOrder(l, r).map(({ lItem, rItem }) => mergeValues(lItem, rItem, t.element));
  return keepUnnamedLiveItems(out, l, r, Array.isArray(lhs) ? lhs : []);
}

interface MergePair {
  lItem: unknown;
  rItem: unknown;
}

/**
 * structured-merge-diff's list order: live items keep their place unless the
 * configuration mentions them, in which case they follow the configuration's
 * order; new items go where the configuration puts them.
 */
function mergeOrder(l: IndexedList, r: IndexedList): MergePair[] {
  const out: MergePair[] = [];
  const shared = r.items.filter((it) => l.byId.has(it.id)).map((it) => it.id);
  let sharedAt = 0;
  let nextShared = shared[sharedAt];
  const advanceShared = (): void => {
    sharedAt++;
    nextShared = shared[sharedAt];
  };
  const takenFromRight = new Set<string>();
  let lI = 0;
  let rI = 0;
  const lLen = l.items.length;
  const rLen = r.items.length;
  while (lI < lLen || rI < rLen) {
    if (lI < lLen && rI < rLen) {
      const lEntry = l.items[lI]!;
      const rEntry = r.items[rI]!;
      if (lEntry.id === rEntry.id) {
        out.push({ lItem: lEntry.item, rItem: rEntry.item });
        takenFromRight.add(rEntry.id);
        lI++;
        rI++;
        advanceShared();
        continue;
      }
      if (r.byId.has(lEntry.id) && nextShared !== undefined && nextShared !== lEntry.id) {
        lI++;
        continue;
      }
    }
    if (lI < lLen) {
      const lEntry = l.items[lI]!;
      if (!r.byId.has(lEntry.id)) {
        out.push({ lItem: lEntry.item, rItem: undefined });
        lI++;
        continue;
      } else if (takenFromRight.has(lEntry.id)) {
        lI++;
      }
    }
    if (rI < rLen) {
      const rEntry = r.items[rI]!;
      out.push({ lItem: l.byId.get(rEntry.id)?.item, rItem: rEntry.item });
      takenFromRight.add(rEntry.id);
      rI++;
      if (nextShared === rEntry.id) advanceShared();
    }
  }
  return out;
}

/**
 * Live items without a usable name (stored before their list had a schema,
 * or duplicates of a key) are kept where they were, unless the configuration
 * names a duplicated key, which then replaces every copy.
 */
function keepUnnamedLiveItems(merged: unknown[], l: IndexedList, r: IndexedList, lhs: readonly unknown[]): unknown[] {
  const extras = [...l.unnamed, ...l.duplicates.filter((d) => !r.byId.has(d.id)).map((d) => ({ index: d.index, item: lhs[d.index] }))];
  if (extras.length === 0) return merged;
  const out = [...merged];
  for (const { index, item } of extras.sort((a, b) => a.index - b.index)) out.splice(Math.min(index, out.length), 0, item);
  return out;
}
