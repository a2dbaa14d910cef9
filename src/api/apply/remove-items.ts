// Removes the fields and items of a set from a value, as structured-merge-diff's
// RemoveItems does: a member goes whole (with everything below it); a path
// with children is walked into. Atomic values are only ever removed whole.
import type { FieldSet } from './field-set.js';
import { isJsonMap } from './json-value.js';
import { listItemElement } from './list-items.js';
import { shapeOf } from './type-info.js';
import type { TypeNode } from './type-info.js';

export function removeItems(value: unknown, toRemove: FieldSet, type: TypeNode): unknown {
  if (toRemove.isEmpty()) return value;
  const shape = shapeOf(type, value);
  if (shape.kind === 'scalar' || shape.relationship === 'atomic') return value;
  if (shape.kind === 'list') {
    if (!Array.isArray(value) || value.length === 0) return value;
    const out: unknown[] = [];
    value.forEach((item, index) => {
      const element = listItemElement(shape, index, item);
      if (typeof element === 'string') {
        out.push(item);
        return;
      }
      if (toRemove.hasMember(element)) return;
      const below = toRemove.withPrefix(element);
      out.push(below.isEmpty() ? item : removeItems(item, below, shape.element));
    });
    return out;
  }
  if (!isJsonMap(value) || Object.keys(value).length === 0) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const element = { field: key };
    if (toRemove.hasMember(element)) continue;
    const below = toRemove.withPrefix(element);
    out[key] = below.isEmpty() ? child : removeItems(child, below, shape.field(key) ?? shape.element ?? { kind: 'deduced' });
  }
  return out;
}
