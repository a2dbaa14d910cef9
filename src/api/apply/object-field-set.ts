// The fields an object sets, as structured-merge-diff's ToFieldSet computes
// them: every scalar and atomic value, every list item, every map key that is
// not a declared struct field, and struct fields set to null or {}.
import type { PathElement } from './field-path.js';
import { FieldSet } from './field-set.js';
import { isJsonMap } from './json-value.js';
import { indexList } from './list-items.js';
import { shapeOf } from './type-info.js';
import type { TypeInfo, TypeNode } from './type-info.js';

/** The set of leaf and item fields an object sets. Items that cannot be named are skipped. */
export function computeFieldSet(obj: unknown, typeInfo: TypeInfo): FieldSet {
  return fieldSetOfValue(obj, typeInfo.root);
}

export function fieldSetOfValue(value: unknown, type: TypeNode): FieldSet {
  const set = new FieldSet();
  collect(value, type, set);
  return set;
}

/** Fills `node` with the fields below the value; true when the value itself is a field. */
function collect(value: unknown, type: TypeNode, node: FieldSet): boolean {
  const shape = shapeOf(type, value);
  if (shape.kind === 'scalar' || shape.relationship === 'atomic') return true;
  if (shape.kind === 'list') {
    if (!Array.isArray(value)) return false;
    for (const { element, item } of indexList(shape, value).items) {
      const below = new FieldSet();
      collect(item, shape.element, below);
      node.attach(element, below);
      node.addMember(element);
    }
    return false;
  }
  if (!isJsonMap(value)) return false;
  for (const [key, child] of Object.entries(value)) {
    if (child === undefined) continue;
    const declared = shape.field(key);
    const element: PathElement = { field: key };
    const below = new FieldSet();
    const isLeaf = collect(child, declared ?? shape.element ?? { kind: 'deduced' }, below);
    node.attach(element, below);
    if (isLeaf || child === null || (isJsonMap(child) && Object.keys(child).length === 0) || !declared) node.addMember(element);
  }
  return false;
}

/**
 * The set plus every declared struct field on the way to its members, so
 * that pruning a struct the applier no longer mentions removes it whole.
 */
export function ensureNamedFieldsAreMembers(set: FieldSet, type: TypeNode): FieldSet {
  const out = new FieldSet();
  for (const pe of set.memberElements()) out.addMember(pe);
  for (const { element, set: child } of set.childElements()) {
    let childType: TypeNode = { kind: 'deduced' };
    if ('field' in element && type.kind === 'map') {
      const declared = type.field(element.field);
      if (declared) out.addMember(element);
      childType = declared ?? type.element ?? childType;
    } else if ('field' in element && type.kind === 'deduced') {
      childType = type;
    } else if ('key' in element && type.kind === 'list') {
      childType = type.element;
    }
    out.attach(element, ensureNamedFieldsAreMembers(child, childType));
  }
  return out;
}
