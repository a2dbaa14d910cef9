// What server-side apply cannot type: fields an applied configuration sets
// that its type does not declare. structured-merge-diff refuses such a
// configuration whatever the request's fieldValidation ("failed to create
// typed patch object (...): .foo: field not declared in schema"); the paths
// are spelled as its errors spell them.
import { fieldElement, keyElement, pathToString, type FieldPath, type PathElement } from './field-path.js';
import { isJsonMap } from './json-value.js';
import { shapeOf, type TypeNode } from './type-info.js';

/** The paths (".spec.foo", '.spec.containers[name="x"].bar') of the fields the type does not declare. */
export function undeclaredFieldPaths(type: TypeNode, value: unknown): string[] {
  const out: string[] = [];
  visit(type, value, [], out);
  return out;
}

function visit(type: TypeNode, value: unknown, path: FieldPath, out: string[]): void {
  if (value === null || value === undefined) return;
  const shape = shapeOf(type, value);
  if (shape.kind === 'map') {
    if (!isJsonMap(value)) return;
    for (const [k, v] of Object.entries(value)) {
      const at = [...path, fieldElement(k)];
      const field = shape.field(k) ?? shape.element;
      if (field === undefined) out.push(pathToString(at));
      else visit(field, v, at, out);
    }
  } else if (shape.kind === 'list') {
    if (!Array.isArray(value)) return;
    value.forEach((item, index) => visit(shape.element, item, [...path, itemElement(shape.relationship, shape.keys, item, index)], out));
  }
}

/** How structured-merge-diff names a list item: by its key fields, by its value in a set, else by its index. */
function itemElement(relationship: 'atomic' | 'associative', keys: readonly string[], item: unknown, index: number): PathElement {
  if (relationship === 'associative' && keys.length > 0 && isJsonMap(item) && keys.every((k) => item[k] !== undefined)) {
    return keyElement(Object.fromEntries(keys.map((k) => [k, item[k]])));
  }
  if (relationship === 'associative' && keys.length === 0 && !isJsonMap(item) && !Array.isArray(item)) return { value: item };
  return { index };
}
