// Which fields an update added, modified or removed, as structured-merge-diff's
// TypedValue.Compare reports them. Leaves (scalars, atomic values, empty maps
// and lists) are compared by value; a map, list or item that appears or
// disappears is reported itself too, which is where "." entries come from.
import { deepFreeze } from '../object.js';
import { comparePathElements, fieldKey } from './field-path.js';
import type { PathElement } from './field-path.js';
import { FieldSet } from './field-set.js';
import { compareStrings, hasNoKeys, isJsonMap, jsonEqual } from './json-value.js';
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

/** What an Update needs of a comparison: added and modified together, and removed. */
export interface UpdateComparison {
  /** compareValues' added and modified, less the ignored fields. */
  readonly changed: FieldSet;
  /** compareValues' removed, less the ignored fields; empty unless asked for. */
  readonly removed: FieldSet;
}

interface Diff {
  changed: FieldSet | undefined;
  removed: FieldSet | undefined;
}

const deducedType: TypeNode = { kind: 'deduced' };

/**
 * filterComparison(compareValues(lhs, rhs, type), ignored) with added and
 * modified in one set, computed in one walk: ignored subtrees are not
 * visited, equal subtrees not descended into, and sets only made for
 * nodes that change. Without withRemoved, what was removed is not collected.
 */
export function compareForUpdate(lhs: unknown, rhs: unknown, type: TypeNode, ignored: FieldSet | undefined, withRemoved: boolean): UpdateComparison {
  const d: Diff = { changed: undefined, removed: undefined };
  diffWalk(lhs, rhs, type, d, ignored && !ignored.isEmpty() ? ignored : undefined, withRemoved);
  return { changed: d.changed ?? new FieldSet(), removed: d.removed ?? new FieldSet() };
}

/** walk, into a Diff. */
function diffWalk(lhs: unknown, rhs: unknown, type: TypeNode, below: Diff, ignored: FieldSet | undefined, withRemoved: boolean): Change {
  if (lhs === undefined && rhs === undefined) return undefined;
  const lShape = lhs === undefined ? undefined : shapeOf(type, lhs);
  const rShape = rhs === undefined ? undefined : shapeOf(type, rhs);
  if (lShape && rShape && lShape.kind !== rShape.kind) {
    if (lShape.kind !== 'scalar' && withRemoved) diffDescend(lhs, undefined, lShape, below, ignored, withRemoved);
    if (rShape.kind !== 'scalar') diffDescend(undefined, rhs, rShape, below, ignored, withRemoved);
    return 'modified';
  }
  const shape = (rShape ?? lShape)!;
  if (shape.kind === 'scalar' || !diffDescend(lhs, rhs, shape, below, ignored, withRemoved)) return leaf(lhs, rhs);
  return lhs === undefined ? 'added' : rhs === undefined ? 'removed' : undefined;
}

/** child, into a Diff; key is serializePathElement(element). */
function diffChild(below: Diff, key: string, element: PathElement, lhs: unknown, rhs: unknown, type: TypeNode, ignored: FieldSet | undefined, withRemoved: boolean): void {
  let ignoredBelow: FieldSet | undefined;
  if (ignored) {
    // filterComparison drops an ignored member with everything below it.
    if (ignored.hasMemberKey(key)) return;
    ignoredBelow = ignored.childAt(key);
  }
  // Only removals below (and of) a value that is gone.
  if (rhs === undefined && !withRemoved) return;
  // Nothing changes at or below equal values.
  if (lhs !== undefined && rhs !== undefined && jsonEqual(lhs, rhs)) return;
  const inner: Diff = { changed: undefined, removed: undefined };
  const change = diffWalk(lhs, rhs, type, inner, ignoredBelow, withRemoved);
  if (inner.changed) (below.changed ??= new FieldSet()).attachAt(key, element, inner.changed);
  if (inner.removed) (below.removed ??= new FieldSet()).attachAt(key, element, inner.removed);
  if (change === 'added' || change === 'modified') (below.changed ??= new FieldSet()).addMemberAt(key, element);
  else if (change === 'removed') (below.removed ??= new FieldSet()).addMemberAt(key, element);
}

/** descend, into a Diff. */
function diffDescend(lhs: unknown, rhs: unknown, shape: ListType | MapType, below: Diff, ignored: FieldSet | undefined, withRemoved: boolean): boolean {
  if (shape.kind === 'list') {
    const l = Array.isArray(lhs) ? lhs : [];
    const r = Array.isArray(rhs) ? rhs : [];
    if (shape.relationship === 'atomic' || (l.length === 0 && r.length === 0)) return false;
    const li = indexList(shape, l);
    const ri = indexList(shape, r);
    for (const item of ri.items) diffChild(below, item.id, item.element, li.byId.get(item.id)?.item, item.item, shape.element, ignored, withRemoved);
    if (withRemoved) for (const item of li.items) if (!ri.byId.has(item.id)) diffChild(below, item.id, item.element, item.item, undefined, shape.element, ignored, withRemoved);
    return true;
  }
  const l = isJsonMap(lhs) ? lhs : {};
  const r = isJsonMap(rhs) ? rhs : {};
  if (shape.relationship === 'atomic') return false;
  const rKeys = Object.keys(r);
  const lKeys = Object.keys(l);
  if (lKeys.length === 0 && rKeys.length === 0) return false;
  for (const key of rKeys) diffField(below, shape, key, l[key], r[key], ignored, withRemoved);
  for (const key of lKeys) {
    if (Object.hasOwn(r, key)) continue;
    diffField(below, shape, key, l[key], r[key], ignored, withRemoved);
  }
  return true;
}

/** diffChild for a map's member, which makes its path element and finds its type only when the values differ. */
function diffField(below: Diff, shape: MapType, name: string, lhs: unknown, rhs: unknown, ignored: FieldSet | undefined, withRemoved: boolean): void {
  if (lhs === rhs || (rhs === undefined && !withRemoved)) return;
  diffChild(below, fieldKey(name), { field: name }, lhs, rhs, shape.field(name) ?? shape.element ?? deducedType, ignored, withRemoved);
}

/** Thrown where a key would read something off Object.prototype, which compareValues then compares against. */
const inheritedKey: unique symbol = Symbol('inheritedKey');
const noKeys: Record<string, unknown> = {};

/**
 * The FieldsV1 (as FieldSet.toFieldsV1 writes it) of what a create from
 * nothing changes: compareForUpdate({}, rhs, type, ignored, false).changed
 * less the members of `unmanaged`, built directly, without sets: everything
 * in a value that is added is itself added. Undefined for the rare object
 * this does not apply to (a key named like a property of Object.prototype).
 */
export function addedFieldsV1(rhs: unknown, type: TypeNode, ignored: FieldSet | undefined, unmanaged: FieldSet | undefined): Record<string, unknown> | undefined {
  const skipped = ignored && !ignored.isEmpty() ? ignored : undefined;
  // Objects created from one template (a workload's pods, a client's
  // repeated creates) own the same fields: the last answer is given again
  // (shared, as fieldsV1 read from storage are) when it fits.
  const last = lastAdded.get(type);
  if (last && last.ignored === skipped && last.unmanaged === unmanaged && matchesAdded(rhs, type, skipped, unmanaged, false, last.fieldsV1, true)) return last.fieldsV1;
  try {
    // Frozen: what several objects share, none may change.
    const fieldsV1 = deepFreeze(addedNode(rhs, type, skipped, unmanaged, false) ?? {});
    lastAdded.set(type, { ignored: skipped, unmanaged, fieldsV1 });
    return fieldsV1;
  } catch (err) {
    if (err === inheritedKey) return undefined;
    throw err;
  }
}

/** addedFieldsV1's last answer for each type. */
const lastAdded = new WeakMap<TypeNode, { ignored: FieldSet | undefined; unmanaged: FieldSet | undefined; fieldsV1: Record<string, unknown> }>();

function isEmptyNode(node: unknown): boolean {
  return isJsonMap(node) && hasNoKeys(node);
}

/**
 * Whether addedNode(value, type, ignored, unmanaged, self) would give a
 * node equal to `node` (undefined: would give undefined), found without
 * building it. False too for what addedNode throws on.
 */
function matchesAdded(value: unknown, type: TypeNode, ignored: FieldSet | undefined, unmanaged: FieldSet | undefined, self: boolean, node: Record<string, unknown> | undefined, top = false): boolean {
  const shape = shapeOf(type, value);
  if (shape.kind === 'scalar' || shape.relationship === 'atomic') return node === undefined;
  let count = 0;
  if (shape.kind === 'list') {
    if (!Array.isArray(value) || value.length === 0) return node === undefined;
    for (const item of indexList(shape, value).items) {
      const entry = matchesAddedChild(node, item.id, item.item, shape.element, ignored, unmanaged);
      if (entry === undefined) return false;
      if (entry) count++;
    }
  } else {
    if (!isJsonMap(value)) return node === undefined;
    for (const key of Object.keys(value)) {
      const child = value[key];
      if (child === undefined) continue;
      if (noKeys[key] !== undefined) return false;
      const entry = matchesAddedChild(node, fieldKey(key), child, shape.field(key) ?? shape.element ?? deducedType, ignored, unmanaged);
      if (entry === undefined) return false;
      if (entry) count++;
    }
  }
  // addedFieldsV1 gives {} for nothing at all.
  if (count === 0) return node === undefined || (top && isEmptyNode(node));
  if (node === undefined) return false;
  // Every entry found is in node (and keys are distinct): the same number means the same keys.
  let keys = 0;
  for (const _ in node) keys++;
  return keys === count + (self ? 1 : 0) && (!self || isEmptyNode(node['.']));
}

/** Whether addedChild would write an entry for the child (undefined: not the one in node). */
function matchesAddedChild(node: Record<string, unknown> | undefined, key: string, value: unknown, type: TypeNode, ignored: FieldSet | undefined, unmanaged: FieldSet | undefined): boolean | undefined {
  if (ignored?.hasMemberKey(key)) return false;
  const member = !unmanaged?.hasMemberKey(key);
  const entry = node !== undefined && Object.hasOwn(node, key) ? node[key] : undefined;
  const ignoredBelow = ignored?.childAt(key);
  const unmanagedBelow = unmanaged?.childAt(key);
  if (entry === undefined) return !member && matchesAdded(value, type, ignoredBelow, unmanagedBelow, member, undefined) ? false : undefined;
  if (!isJsonMap(entry)) return undefined;
  // An entry of {} is a member with nothing below it.
  if (isEmptyNode(entry)) return member && matchesAdded(value, type, ignoredBelow, unmanagedBelow, member, undefined) ? true : undefined;
  return matchesAdded(value, type, ignoredBelow, unmanagedBelow, member, entry) ? true : undefined;
}

/** Whether keys are sorted already (as objects written back from their fieldsV1 mostly are). */
function inOrder(keys: string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (compareStrings(keys[i - 1]!, keys[i]!) > 0) return false;
  return true;
}

/** The encoded node below an added value, "." first when self; undefined when nothing is below it. */
function addedNode(value: unknown, type: TypeNode, ignored: FieldSet | undefined, unmanaged: FieldSet | undefined, self: boolean): Record<string, unknown> | undefined {
  const shape = shapeOf(type, value);
  if (shape.kind === 'scalar' || shape.relationship === 'atomic') return undefined;
  const out: Record<string, unknown> = self ? { '.': {} } : {};
  let count = 0;
  if (shape.kind === 'list') {
    if (!Array.isArray(value) || value.length === 0) return undefined;
    const items = indexList(shape, value).items;
    if (items.length > 1) items.sort((a, b) => comparePathElements(a.element, b.element));
    for (const item of items) if (addedChild(out, item.id, item.item, shape.element, ignored, unmanaged)) count++;
  } else {
    if (!isJsonMap(value)) return undefined;
    const keys = Object.keys(value);
    if (!inOrder(keys)) keys.sort(compareStrings);
    for (const key of keys) {
      const child = value[key];
      if (child === undefined) continue;
      if (noKeys[key] !== undefined) throw inheritedKey;
      if (addedChild(out, fieldKey(key), child, shape.field(key) ?? shape.element ?? deducedType, ignored, unmanaged)) count++;
    }
  }
  return count > 0 ? out : undefined;
}

/** Writes an added child's entry into out; false when it has none (ignored, or unmanaged and nothing below). */
function addedChild(out: Record<string, unknown>, key: string, value: unknown, type: TypeNode, ignored: FieldSet | undefined, unmanaged: FieldSet | undefined): boolean {
  if (ignored?.hasMemberKey(key)) return false;
  const member = !unmanaged?.hasMemberKey(key);
  const below = addedNode(value, type, ignored?.childAt(key), unmanaged?.childAt(key), member);
  if (below) out[key] = below;
  else if (member) out[key] = {};
  else return false;
  return true;
}
