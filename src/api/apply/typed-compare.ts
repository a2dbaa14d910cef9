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
  // repeated creates) own the same fields, or nearly (each pod's own token
  // volume): what matches the last answer is taken from it (shared, as
  // fieldsV1 read from storage are), all of it when everything matches.
  const last = lastAdded.get(type);
  const prev = last && last.ignored === skipped && last.unmanaged === unmanaged ? last.fieldsV1 : undefined;
  try {
    const node = addedNode(rhs, type, skipped, unmanaged, false, prev) ?? (prev && isEmptyNode(prev) ? prev : {});
    if (node === prev) return prev;
    // Frozen: what several objects share, none may change.
    const fieldsV1 = deepFreeze(node);
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

/** Whether keys are sorted already (as objects written back from their fieldsV1 mostly are). */
function inOrder(keys: string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (compareStrings(keys[i - 1]!, keys[i]!) > 0) return false;
  return true;
}

/**
 * The encoded node below an added value, "." first when self; undefined
 * when nothing is below it. `prev` is an earlier answer to share from: what
 * comes out the same is prev's own entry, and prev itself when all of it is.
 */
function addedNode(value: unknown, type: TypeNode, ignored: FieldSet | undefined, unmanaged: FieldSet | undefined, self: boolean, prev?: Record<string, unknown>): Record<string, unknown> | undefined {
  const shape = shapeOf(type, value);
  if (shape.kind === 'scalar' || shape.relationship === 'atomic') return undefined;
  const shared = prev && !isEmptyNode(prev) ? prev : undefined;
  if (shape.kind === 'list') {
    if (!Array.isArray(value) || value.length === 0) return undefined;
    const node = new AddedNode(self, shared);
    const items = indexList(shape, value).items;
    if (items.length > 1) items.sort((a, b) => comparePathElements(a.element, b.element));
    for (const item of items) node.child(item.id, item.item, shape.element, ignored, unmanaged);
    return node.done();
  }
  if (!isJsonMap(value)) return undefined;
  const node = new AddedNode(self, shared);
  const keys = Object.keys(value);
  if (!inOrder(keys)) keys.sort(compareStrings);
  for (const key of keys) {
    const child = value[key];
    if (child === undefined) continue;
    if (noKeys[key] !== undefined) throw inheritedKey;
    node.child(fieldKey(key), child, shape.field(key) ?? shape.element ?? deducedType, ignored, unmanaged);
  }
  return node.done();
}

/** One node as addedNode writes it, made only once it differs from the earlier answer it may share. */
class AddedNode {
  private out: Record<string, unknown> | undefined;
  /** Keys whose entries are prev's own, while out is not made. */
  private readonly shared: string[] = [];
  private count = 0;

  constructor(
    private readonly self: boolean,
    private readonly prev: Record<string, unknown> | undefined,
  ) {
    if (!prev || (self && !isEmptyNode(prev['.'])) || (!self && Object.hasOwn(prev, '.'))) this.make();
  }

  /** The entry of an added child; none when it is ignored, or unmanaged with nothing below. */
  child(key: string, value: unknown, type: TypeNode, ignored: FieldSet | undefined, unmanaged: FieldSet | undefined): void {
    if (ignored?.hasMemberKey(key)) return;
    const member = !unmanaged?.hasMemberKey(key);
    const before = this.prev && Object.hasOwn(this.prev, key) ? this.prev[key] : undefined;
    const below = addedNode(value, type, ignored?.childAt(key), unmanaged?.childAt(key), member, isJsonMap(before) ? before : undefined);
    let entry: unknown = below;
    if (!entry) {
      if (!member) return;
      entry = isEmptyNode(before) ? before : {};
    }
    this.count++;
    if (!this.out && entry === before) this.shared.push(key);
    else (this.out ?? this.make())[key] = entry;
  }

  done(): Record<string, unknown> | undefined {
    if (this.count === 0) return undefined;
    if (!this.out) {
      let keys = 0;
      for (const _ in this.prev) keys++;
      if (keys === this.count + (this.self ? 1 : 0)) return this.prev;
    }
    return this.out ?? this.make();
  }

  private make(): Record<string, unknown> {
    const out: Record<string, unknown> = this.self ? { '.': this.prev && isEmptyNode(this.prev['.']) ? this.prev['.'] : {} } : {};
    for (const key of this.shared) out[key] = this.prev![key];
    this.shared.length = 0;
    this.out = out;
    return out;
  }
}
