// A set of field paths stored as a trie, with the FieldsV1 encoding of
// metadata.managedFields. Like structured-merge-diff's fieldpath.Set, a node
// records which child elements are members of the set (the path itself is
// owned) apart from which have children; "." in FieldsV1 marks a node that is both.
import { comparePathElements, parsePathElement, serializePathElement } from './field-path.js';
import type { FieldPath, PathElement } from './field-path.js';
import { isJsonMap } from './json-value.js';

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
    return FieldSet.decodeNode(fields).set ?? new FieldSet();
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
    if (child.isEmpty()) return;
    const k = serializePathElement(pe);
    const mine = this.children.get(k);
    if (mine) mine.set.addAll(child);
    else this.writableChildren().set(k, { element: pe, set: child });
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
    if (includeSelf && !this.isEmpty()) out['.'] = {};
    const keys = new Map<string, PathElement>(this.members);
    for (const [k, node] of this.children) keys.set(k, node.element);
    const sorted = [...keys.entries()].sort((a, b) => comparePathElements(a[1], b[1]));
    for (const [k] of sorted) {
      const node = this.children.get(k);
      out[k] = node ? node.set.encode(this.members.has(k)) : {};
    }
    return out;
  }

  private static decodeNode(fields: Record<string, unknown>): { set: FieldSet | undefined; isMember: boolean } {
    let set: FieldSet | undefined;
    let isMember = false;
    for (const [k, v] of Object.entries(fields)) {
      if (k === '.') {
        isMember = true;
        continue;
      }
      const pe = parsePathElement(k);
      if (!pe) continue;
      if (!isJsonMap(v)) throw new FieldsV1DecodeError(`value of ${JSON.stringify(k)} must be an object`);
      const child = FieldSet.decodeNode(v);
      if (child.isMember) (set ??= new FieldSet()).addMember(pe);
      if (child.set) {
        set ??= new FieldSet();
        set.writableChildren().set(serializePathElement(pe), { element: pe, set: child.set });
      }
    }
    if (!set) isMember = true;
    return { set, isMember };
  }
}
