// A set of field paths stored as a trie, with the FieldsV1 encoding of
// metadata.managedFields. Like structured-merge-diff's fieldpath.Set, a node
// records which child elements are members of the set (the path itself is
// owned) apart from which have children; "." in FieldsV1 marks a node that is both.
import { remembered } from '../remembered.js';
import { comparePathElements, parsePathElement, serializePathElement } from './field-path.js';
import type { FieldPath, PathElement } from './field-path.js';
import { compareStrings, hasNoKeys, isJsonMap } from './json-value.js';

interface ChildNode {
  readonly element: PathElement;
  readonly set: FieldSet;
}

export class FieldsV1DecodeError extends Error {
  override name = 'FieldsV1DecodeError';
}

const noMembers: ReadonlyMap<string, PathElement> = new Map();
const noChildren: ReadonlyMap<string, ChildNode> = new Map();

export class FieldSet {
  // Allocated on first write: walks over large objects create many sets that stay empty.
  private ownMembers: Map<string, PathElement> | undefined;
  private ownChildren: Map<string, ChildNode> | undefined;

  private get members(): ReadonlyMap<string, PathElement> {
    return this.ownMembers ?? noMembers;
  }

  private get children(): ReadonlyMap<string, ChildNode> {
    return this.ownChildren ?? noChildren;
  }

  private writableMembers(): Map<string, PathElement> {
    return (this.ownMembers ??= new Map());
  }

  private writableChildren(): Map<string, ChildNode> {
    return (this.ownChildren ??= new Map());
  }

  static fromPaths(paths: Iterable<FieldPath>): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  /** Paths made of field names only: FieldSet.ofFields(['status'], ['metadata', 'labels']). */
  static ofFields(...paths: string[][]): FieldSet {
    return FieldSet.fromPaths(paths.map((names) => names.map((field) => ({ field }))));
  }

  /** Decodes a managedFields entry's fieldsV1. Unknown element prefixes are skipped. */
  static fromFieldsV1(fields: unknown): FieldSet {
    if (!isJsonMap(fields)) throw new FieldsV1DecodeError('fieldsV1 must be an object');
    const state = { isMember: false };
    return FieldSet.decodeNode(fields, state) ?? new FieldSet();
  }

  /**
   * Whether fieldsV1 is exactly what toFieldsV1 writes for the set it
   * decodes to (the same keys in the same order, nothing skipped): such an
   * entry is written back as it is, without encoding its set again.
   */
  static isCanonical(fields: unknown): fields is Record<string, unknown> {
    if (!isJsonMap(fields)) return false;
    if (knownCanonical.has(fields)) return true;
    if (!canonicalNode(fields, true)) return false;
    knownCanonical.add(fields);
    return true;
  }

  isEmpty(): boolean {
    return this.members.size === 0 && this.children.size === 0;
  }

  /** Adds a path; the empty path (the object itself) is never a member. */
  insert(path: FieldPath): this {
    if (path.length === 0) return this;
    let node: FieldSet = this;
    for (let i = 0; i < path.length - 1; i++) node = node.descend(path[i] as PathElement);
    const last = path[path.length - 1] as PathElement;
    node.writableMembers().set(serializePathElement(last), last);
    return this;
  }

  has(path: FieldPath): boolean {
    if (path.length === 0) return false;
    let node: FieldSet | undefined = this;
    for (let i = 0; i < path.length - 1 && node; i++) node = node.children.get(serializePathElement(path[i] as PathElement))?.set;
    return node?.members.has(serializePathElement(path[path.length - 1] as PathElement)) ?? false;
  }

  hasMember(pe: PathElement): boolean {
    return this.members.has(serializePathElement(pe));
  }

  /** hasMember for an element already serialized (serializePathElement). */
  hasMemberKey(key: string): boolean {
    return this.ownMembers !== undefined && this.ownMembers.has(key);
  }

  /** The node below a serialized element, undefined when there is none. Not to be modified. */
  childAt(key: string): FieldSet | undefined {
    return this.ownChildren?.get(key)?.set;
  }

  /** Whether the two sets have a path in common (the intersection is not empty), without building it. */
  overlaps(other: FieldSet): boolean {
    const m = this.ownMembers;
    const om = other.ownMembers;
    if (m && om) {
      const [small, large] = m.size <= om.size ? [m, om] : [om, m];
      for (const k of small.keys()) if (large.has(k)) return true;
    }
    const c = this.ownChildren;
    const oc = other.ownChildren;
    if (c && oc) {
      const [small, large] = c.size <= oc.size ? [c, oc] : [oc, c];
      for (const [k, node] of small) {
        const o = large.get(k);
        if (o && node.set.overlaps(o.set)) return true;
      }
    }
    return false;
  }

  /** Whether every path of this set is in the other. */
  isSubsetOf(other: FieldSet): boolean {
    if (this.ownMembers) for (const k of this.ownMembers.keys()) if (!other.hasMemberKey(k)) return false;
    if (this.ownChildren) {
      for (const [k, node] of this.ownChildren) {
        const o = other.childAt(k);
        if (o ? !node.set.isSubsetOf(o) : !node.set.isEmpty()) return false;
      }
    }
    return true;
  }

  /** overlaps with the set a canonical fieldsV1 (see isCanonical) encodes, without decoding it. */
  overlapsFieldsV1(fields: Record<string, unknown>): boolean {
    if (this.ownMembers) for (const k of this.ownMembers.keys()) if (isEncodedMember(fields, k)) return true;
    if (this.ownChildren) {
      for (const [k, node] of this.ownChildren) {
        const below = encodedChild(fields, k);
        if (below && node.set.overlapsFieldsV1(below)) return true;
      }
    }
    return false;
  }

  /** isSubsetOf the set a canonical fieldsV1 (see isCanonical) encodes, without decoding it. */
  isSubsetOfFieldsV1(fields: Record<string, unknown>): boolean {
    if (this.ownMembers) for (const k of this.ownMembers.keys()) if (!isEncodedMember(fields, k)) return false;
    if (this.ownChildren) {
      for (const [k, node] of this.ownChildren) {
        const below = encodedChild(fields, k);
        if (below ? !node.set.isSubsetOfFieldsV1(below) : !node.set.isEmpty()) return false;
      }
    }
    return true;
  }

  /**
   * difference, sharing with this set the parts the other does not reach
   * instead of copying them (this set itself when they have nothing in
   * common): for sets that are no longer modified.
   */
  differenceSharing(other: FieldSet): FieldSet {
    if (!this.overlaps(other)) return this;
    const out = new FieldSet();
    if (this.ownMembers) for (const [k, pe] of this.ownMembers) if (!other.hasMemberKey(k)) out.writableMembers().set(k, pe);
    if (this.ownChildren) {
      for (const [k, node] of this.ownChildren) {
        const o = other.childAt(k);
        const rest = o ? node.set.differenceSharing(o) : node.set;
        if (rest === node.set) out.writableChildren().set(k, node);
        else if (!rest.isEmpty()) out.writableChildren().set(k, { element: node.element, set: rest });
      }
    }
    return out;
  }

  /** The paths below an element, relative to it (empty when there are none). */
  withPrefix(pe: PathElement): FieldSet {
    return this.children.get(serializePathElement(pe))?.set ?? new FieldSet();
  }

  /** The elements that are members, and those that have children, sorted. */
  memberElements(): PathElement[] {
    return [...this.members.values()].sort(comparePathElements);
  }

  childElements(): Array<{ element: PathElement; set: FieldSet }> {
    return [...this.children.values()].sort((a, b) => comparePathElements(a.element, b.element));
  }

  union(other: FieldSet): FieldSet {
    const out = this.clone();
    out.addAll(other);
    return out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (other.members.has(k)) out.writableMembers().set(k, pe);
    for (const [k, node] of this.children) {
      const o = other.children.get(k);
      if (!o) continue;
      const both = node.set.intersection(o.set);
      if (!both.isEmpty()) out.writableChildren().set(k, { element: node.element, set: both });
    }
    return out;
  }

  /** Paths of this set that are not in the other; children of removed members stay. */
  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (!other.members.has(k)) out.writableMembers().set(k, pe);
    for (const [k, node] of this.children) {
      const o = other.children.get(k);
      const rest = o ? node.set.difference(o.set) : node.set.clone();
      if (!rest.isEmpty()) out.writableChildren().set(k, { element: node.element, set: rest });
    }
    return out;
  }

  /** Like difference, but a member of the other set also removes everything below it. */
  recursiveDifference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (!other.members.has(k)) out.writableMembers().set(k, pe);
    for (const [k, node] of this.children) {
      if (other.members.has(k)) continue;
      const o = other.children.get(k);
      const rest = o ? node.set.recursiveDifference(o.set) : node.set.clone();
      if (!rest.isEmpty()) out.writableChildren().set(k, { element: node.element, set: rest });
    }
    return out;
  }

  equals(other: FieldSet): boolean {
    if (this.members.size !== other.members.size || this.children.size !== other.children.size) return false;
    for (const k of this.members.keys()) if (!other.members.has(k)) return false;
    for (const [k, node] of this.children) {
      const o = other.children.get(k);
      if (!o || !node.set.equals(o.set)) return false;
    }
    return true;
  }

  /** Every member path, in managedFields order: a node's members first, then its children. */
  paths(): FieldPath[] {
    const out: FieldPath[] = [];
    this.collect([], out);
    return out;
  }

  size(): number {
    let n = this.members.size;
    for (const node of this.children.values()) n += node.set.size();
    return n;
  }

  /** The FieldsV1 form kube-apiserver writes: sorted, "." where a member also has children. */
  toFieldsV1(): Record<string, unknown> {
    return this.encode(false);
  }

  /**
   * union(FieldSet.fromFieldsV1(fields)).toFieldsV1() for a canonical
   * fieldsV1 (see isCanonical), without decoding it: the nodes this set
   * reaches are copied with its paths added, every other part of fields is
   * shared (fieldsV1 objects are never changed once written). Undefined for
   * a set with an empty node (which encodes as a member), left to union.
   */
  unionIntoFieldsV1(fields: Record<string, unknown>): Record<string, unknown> | undefined {
    if (this.hasEmptyNode()) return undefined;
    return mergeEncoded(fields, this) ?? fields;
  }

  private hasEmptyNode(): boolean {
    for (const node of this.children.values()) if (node.set.isEmpty() || node.set.hasEmptyNode()) return true;
    return false;
  }

  /** The element a key of this node names, if the node has it. */
  elementAt(key: string): PathElement | undefined {
    return this.children.get(key)?.element ?? this.members.get(key);
  }

  /** Keys of this node's members and children, each once. */
  nodeKeys(): string[] {
    const keys = [...this.members.keys()];
    for (const k of this.children.keys()) if (!this.members.has(k)) keys.push(k);
    return keys;
  }

  clone(): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) out.writableMembers().set(k, pe);
    for (const [k, node] of this.children) out.writableChildren().set(k, { element: node.element, set: node.set.clone() });
    return out;
  }

  /** The child node for an element, created when missing. Only for building sets. */
  descend(pe: PathElement): FieldSet {
    const k = serializePathElement(pe);
    let node = this.children.get(k);
    if (!node) {
      node = { element: pe, set: new FieldSet() };
      this.writableChildren().set(k, node);
    }
    return node.set;
  }

  /** Only for building sets: adds an element as a member of this node. */
  addMember(pe: PathElement): void {
    this.writableMembers().set(serializePathElement(pe), pe);
  }

  /** Only for building sets: puts a (non-empty) set below an element; the set is taken, not copied. */
  attach(pe: PathElement, child: FieldSet): void {
    this.attachAt(serializePathElement(pe), pe, child);
  }

  /** addMember for an element already serialized: key must be serializePathElement(pe). */
  addMemberAt(key: string, pe: PathElement): void {
    this.writableMembers().set(key, pe);
  }

  /** attach for an element already serialized: key must be serializePathElement(pe). */
  attachAt(key: string, pe: PathElement, child: FieldSet): void {
    if (child.isEmpty()) return;
    const mine = this.children.get(key);
    if (mine) mine.set.addAll(child);
    else this.writableChildren().set(key, { element: pe, set: child });
  }

  private addAll(other: FieldSet): void {
    for (const [k, pe] of other.members) this.writableMembers().set(k, pe);
    for (const [k, node] of other.children) {
      const mine = this.children.get(k);
      if (mine) mine.set.addAll(node.set);
      else this.writableChildren().set(k, { element: node.element, set: node.set.clone() });
    }
  }

  private collect(prefix: PathElement[], out: FieldPath[]): void {
    for (const pe of this.memberElements()) out.push([...prefix, pe]);
    for (const { element, set } of this.childElements()) set.collect([...prefix, element], out);
  }

  private encode(includeSelf: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const members = this.ownMembers;
    const children = this.ownChildren;
    if (includeSelf && !this.isEmpty()) out['.'] = emptyNode;
    const keys: string[] = [];
    // Field names ("f:...") sort among themselves by name, which their spellings share a prefix before.
    let onlyFields = true;
    if (members) {
      for (const k of members.keys()) {
        keys.push(k);
        if (k.charCodeAt(0) !== fieldPrefixCode) onlyFields = false;
      }
    }
    if (children) {
      for (const k of children.keys()) {
        if (members?.has(k)) continue;
        keys.push(k);
        if (k.charCodeAt(0) !== fieldPrefixCode) onlyFields = false;
      }
    }
    if (onlyFields) keys.sort(compareStrings);
    else {
      const element = (k: string): PathElement => (children?.get(k)?.element ?? members?.get(k)) as PathElement;
      keys.sort((a, b) => comparePathElements(element(a), element(b)));
    }
    for (const k of keys) {
      const node = children?.get(k);
      out[k] = node ? node.set.encode(members !== undefined && members.has(k)) : emptyNode;
    }
    return out;
  }

  /** The set a FieldsV1 node holds (undefined for none) and, in state, whether the node itself is a member. */
  private static decodeNode(fields: Record<string, unknown>, state: { isMember: boolean }): FieldSet | undefined {
    let set: FieldSet | undefined;
    let isMember = false;
    for (const k of Object.keys(fields)) {
      if (k === '.') {
        isMember = true;
        continue;
      }
      let pe: PathElement | undefined;
      let key = k;
      // A field's spelling is "f:" and its name: no need to spell it again.
      if (isFieldKey(k)) pe = { field: k.slice(2) };
      else {
        pe = parsePathElement(k);
        if (!pe) continue;
        key = serializePathElement(pe);
      }
      const v = fields[k];
      if (!isJsonMap(v)) throw new FieldsV1DecodeError(`value of ${JSON.stringify(k)} must be an object`);
      const childSet = FieldSet.decodeNode(v, state);
      if (state.isMember) (set ??= new FieldSet()).writableMembers().set(key, pe);
      if (childSet) {
        set ??= new FieldSet();
        set.writableChildren().set(key, { element: pe, set: childSet });
      }
    }
    state.isMember = isMember || !set;
    return set;
  }
}

/**
 * The {} of every leaf of an encoded fieldsV1, one frozen object for all:
 * leaves are most of a managedFields entry's objects, and every cached
 * object keeps its entries. fieldsV1 is only ever read once encoded.
 */
const emptyNode: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/**
 * fieldsV1 objects found canonical. Once written, a fieldsV1 is never changed
 * (see emptyNode), and every update of an object reads the same entries again.
 */
const knownCanonical = new WeakSet<object>();

const fieldPrefixCode = 'f'.charCodeAt(0);
const colonCode = ':'.charCodeAt(0);

function isFieldKey(k: string): boolean {
  return k.charCodeAt(0) === fieldPrefixCode && k.charCodeAt(1) === colonCode;
}

/** In canonical FieldsV1, whether a key of a node is a member: its value is {} or starts with ".". */
function isEncodedMember(fields: Record<string, unknown>, key: string): boolean {
  if (!Object.hasOwn(fields, key)) return false;
  const v = fields[key] as Record<string, unknown>;
  return Object.hasOwn(v, '.') || hasNoKeys(v);
}

/** In canonical FieldsV1, the node below a key, if the key has children. */
function encodedChild(fields: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  if (!Object.hasOwn(fields, key)) return undefined;
  return fields[key] as Record<string, unknown>;
}

/** Keys other than fields seen in FieldsV1 (list items, mostly the same few), with their element when canonical. */
const canonicalElements = new Map<string, PathElement | null>();

/** The element a non-field key names when the key is its canonical spelling; throws as parsePathElement does. */
function canonicalElement(k: string): PathElement | undefined {
  const pe = remembered(canonicalElements, k, 4096, (key) => {
    const parsed = parsePathElement(key);
    return parsed && serializePathElement(parsed) === key ? parsed : null;
  });
  return pe ?? undefined;
}

/**
 * Whether a FieldsV1 node is what encoding what it decodes to would give
 * back: "." only first, as {}, and not alone nor at the top; every other key
 * a known element spelled as serializePathElement spells it, in
 * comparePathElements order; every value an object, itself canonical.
 */
function canonicalNode(fields: Record<string, unknown>, top: boolean): boolean {
  let first = true;
  let self = false;
  let elements = 0;
  let previousField: string | undefined;
  let previousOther: PathElement | undefined;
  for (const k of Object.keys(fields)) {
    const v = fields[k];
    if (!isJsonMap(v)) return false;
    if (k === '.') {
      if (top || !first || !hasNoKeys(v)) return false;
      first = false;
      self = true;
      continue;
    }
    first = false;
    if (isFieldKey(k)) {
      // Fields come first, sorted by name (their spellings share the prefix).
      if (previousOther !== undefined || (previousField !== undefined && compareStrings(previousField, k) >= 0)) return false;
      previousField = k;
    } else {
      const pe = canonicalElement(k);
      if (!pe) return false;
      if (previousOther !== undefined && comparePathElements(previousOther, pe) >= 0) return false;
      previousOther = pe;
    }
    if (!canonicalNode(v, false)) return false;
    elements++;
  }
  // A lone "." decodes to a member without children, written {}.
  return !(self && elements === 0);
}

/**
 * The children of an encoded node (no ".") with a set's paths added, keys in
 * encode's order; undefined when that changes nothing.
 */
function mergeEncoded(node: Record<string, unknown>, set: FieldSet): Record<string, unknown> | undefined {
  let changed: Map<string, Record<string, unknown>> | undefined;
  let added = false;
  for (const k of set.nodeKeys()) {
    const existing = Object.hasOwn(node, k) ? (node[k] as Record<string, unknown>) : undefined;
    const value = unionEncoded(existing, set.hasMemberKey(k), set.childAt(k));
    if (value === existing) continue;
    (changed ??= new Map()).set(k, value);
    if (existing === undefined) added = true;
  }
  if (changed === undefined) return undefined;
  const keys = Object.keys(node).filter((k) => k !== '.');
  if (added) {
    for (const k of changed.keys()) if (!Object.hasOwn(node, k)) keys.push(k);
    keys.sort((a, b) => (isFieldKey(a) && isFieldKey(b) ? compareStrings(a, b) : comparePathElements(elementOf(a, set), elementOf(b, set))));
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = changed.get(k) ?? node[k];
  return out;
}

function elementOf(key: string, set: FieldSet): PathElement {
  return (set.elementAt(key) ?? canonicalElement(key)) as PathElement;
}

/** The encoded value of a key that was `existing` (undefined: absent), made a member too when `member`, with `child`'s paths below it. */
function unionEncoded(existing: Record<string, unknown> | undefined, member: boolean, child: FieldSet | undefined): Record<string, unknown> {
  const wasMember = existing !== undefined && (Object.hasOwn(existing, '.') || hasNoKeys(existing));
  const isMember = wasMember || member;
  if (child === undefined || child.isEmpty()) {
    if (existing === undefined) return emptyNode;
    if (isMember === wasMember) return existing;
    // Children only until now, a member from now on: "." first.
    return { '.': emptyNode, ...existing };
  }
  const below = existing === undefined ? emptyNode : existing;
  const merged = mergeEncoded(below, child);
  if (merged === undefined && isMember === wasMember && existing !== undefined) return existing;
  // Unchanged below a node that becomes a member: it had no ".", its children stay as they are.
  const children = merged ?? below;
  return isMember ? { '.': emptyNode, ...children } : children;
}
