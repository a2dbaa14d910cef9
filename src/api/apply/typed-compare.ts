// Which fields an update added, modified or removed, as structured-merge-diff's
// TypedValue.Compare reports them. Leaves (scalars, atomic values, empty maps
// and lists) are compared by value; a map, list or item that appears or
// disappears is reported itself too, which is where "." entries come from.
import type { PathElement } from './field-path.js';
import { FieldSet } from './field-set.js';
import { isJsonMap, jsonEqual } from './json-value.js';
import { indexList } from './list-items.js';
import { shapeOf } from './type-info.js';
import type { ListType, MapType, TypeNode } from './type-info.js';

export interface Comparison {
  readonly added: FieldSet;
  readonly modified: FieldSet;
  readonly removed: FieldSet;
}

export function compareValues(lhs: unknown, rhs: unknown, type: TypeNode): Comparison {
  const c: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  walk(lhs, rhs, type, c);
  return c;
}

/** The comparison without the given fields and anything below them. */
export function filterComparison(c: Comparison, ignored: FieldSet | undefined): Comparison {
  if (!ignored || ignored.isEmpty()) return c;
  return { added: c.added.recursiveDifference(ignored), modified: c.modified.recursiveDifference(ignored), removed: c.removed.recursiveDifference(ignored) };
}

type Change = 'added' | 'modified' | 'removed' | undefined;

function leaf(lhs: unknown, rhs: unknown): Change {
  if (lhs === undefined) return 'added';
  if (rhs === undefined) return 'removed';
  return jsonEqual(lhs, rhs) ? undefined : 'modified';
}

/** Records the changes below a value in `below`; answers how the value itself changed. */
function walk(lhs: unknown, rhs: unknown, type: TypeNode, below: Comparison): Change {
  if (lhs === undefined && rhs === undefined) return undefined;
  const lShape = lhs === undefined ? undefined : shapeOf(type, lhs);
  const rShape = rhs === undefined ? undefined : shapeOf(type, rhs);
  if (lShape && rShape && lShape.kind !== rShape.kind) {
    // A deduced value changed shape: what was inside the old one is gone,
    // what is inside the new one is new, and the value itself changed.
    if (lShape.kind !== 'scalar') descend(lhs, undefined, lShape, below);
    if (rShape.kind !== 'scalar') descend(undefined, rhs, rShape, below);
    return 'modified';
  }
  const shape = (rShape ?? lShape)!;
  if (shape.kind === 'scalar' || !descend(lhs, rhs, shape, below)) return leaf(lhs, rhs);
  // A map, list or item that appears or disappears is reported itself too.
  return lhs === undefined ? 'added' : rhs === undefined ? 'removed' : undefined;
}

function child(below: Comparison, element: PathElement, lhs: unknown, rhs: unknown, type: TypeNode): void {
  const inner: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  const change = walk(lhs, rhs, type, inner);
  below.added.attach(element, inner.added);
  below.modified.attach(element, inner.modified);
  below.removed.attach(element, inner.removed);
  if (change) below[change].addMember(element);
}

/** Compares children; false when the value is compared as a leaf instead. */
function descend(lhs: unknown, rhs: unknown, shape: ListType | MapType, below: Comparison): boolean {
  if (shape.kind === 'list') {
    const l = Array.isArray(lhs) ? lhs : [];
    const r = Array.isArray(rhs) ? rhs : [];
    if (shape.relationship === 'atomic' || (l.length === 0 && r.length === 0)) return false;
    const li = indexList(shape, l);
    const ri = indexList(shape, r);
    for (const item of ri.items) child(below, item.element, li.byId.get(item.id)?.item, item.item, shape.element);
    for (const item of li.items) if (!ri.byId.has(item.id)) child(below, item.element, item.item, undefined, shape.element);
    return true;
  }
  const l = isJsonMap(lhs) ? lhs : {};
  const r = isJsonMap(rhs) ? rhs : {};
  if (shape.relationship === 'atomic' || (Object.keys(l).length === 0 && Object.keys(r).length === 0)) return false;
  const keys = new Set([...Object.keys(l), ...Object.keys(r)]);
  for (const key of keys) child(below, { field: key }, l[key], r[key], shape.field(key) ?? shape.element ?? { kind: 'deduced' });
  return true;
}
