// Checks an applied configuration has the shape its type needs before it is
// merged: list-map items carry their keys, no key appears twice, maps and
// lists are where the schema puts them. Scalar types are left to validation,
// which knows quantities and int-or-string values.
import { pathToString } from './field-path.js';
import type { PathElement } from './field-path.js';
import { isJsonMap } from './json-value.js';
import { indexList } from './list-items.js';
import { shapeOf } from './type-info.js';
import type { TypeNode } from './type-info.js';

export function appliedConfigErrors(value: unknown, type: TypeNode): string[] {
  const errors: string[] = [];
  check(value, type, [], errors);
  return errors;
}

function describe(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

function report(errors: string[], path: readonly PathElement[], message: string): void {
  errors.push(path.length === 0 ? message : `${pathToString(path)}: ${message}`);
}

function check(value: unknown, type: TypeNode, path: PathElement[], errors: string[]): void {
  if (value === null) return;
  const shape = shapeOf(type, value);
  if (shape.kind === 'scalar') {
    if (typeof value === 'object') report(errors, path, `expected scalar, got ${describe(value)}`);
    return;
  }
  if (shape.kind === 'list') {
    if (!Array.isArray(value)) {
      report(errors, path, `expected list, got ${describe(value)}`);
      return;
    }
    if (shape.relationship === 'atomic') return;
    const indexed = indexList(shape, value);
    for (const e of indexed.errors) report(errors, path, `element ${e.index}: ${e.message}`);
    for (const d of indexed.duplicates) report(errors, path, `duplicate entries for key ${pathToString([d.element])}`);
    for (const { element, item } of indexed.items) check(item, shape.element, [...path, element], errors);
    return;
  }
  if (!isJsonMap(value)) {
    report(errors, path, `expected map, got ${describe(value)}`);
    return;
  }
  if (shape.relationship === 'atomic') return;
  for (const [key, child] of Object.entries(value)) {
    if (child === undefined) continue;
    check(child, shape.field(key) ?? shape.element ?? { kind: 'deduced' }, [...path, { field: key }], errors);
  }
}
