// Apply conflicts and the 409 kube-apiserver answers them with; kubectl
// prints the message and tells the user about --force-conflicts.
import { ApplyConflictError } from '../errors.js';
import type { StatusCause } from '../errors.js';
import type { FieldPath } from './field-path.js';
import { pathToString } from './field-path.js';
import type { FieldSet } from './field-set.js';
import { compareStrings } from './json-value.js';
import { parseManagerIdentifier } from './managed-fields.js';

export interface Conflict {
  /** Manager identifier, as in Managed.fields. */
  readonly manager: string;
  readonly path: FieldPath;
}

/** One conflict per field, managers in identifier order, fields in managedFields order. */
export function conflictsFromManagers(sets: Map<string, FieldSet>): Conflict[] {
  const out: Conflict[] = [];
  for (const manager of [...sets.keys()].sort(compareStrings)) {
    for (const path of sets.get(manager)?.paths() ?? []) out.push({ manager, path });
  }
  return out;
}

/** '"kubectl-client-side-apply" using apps/v1', '"x" with subresource "status"', as printManager words them. */
export function describeManager(identifier: string): string {
  const id = parseManagerIdentifier(identifier);
  let s = JSON.stringify(id.manager);
  if (id.subresource) s += ` with subresource ${JSON.stringify(id.subresource)}`;
  if (id.operation === 'Update') s += ` using ${id.apiVersion ?? ''}`;
  return s;
}

export function applyConflictError(conflicts: readonly Conflict[]): ApplyConflictError {
  const causes: StatusCause[] = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${describeManager(c.manager)}`, field: pathToString(c.path) }));
  return new ApplyConflictError(conflictMessage(conflicts), causes);
}

function conflictMessage(conflicts: readonly Conflict[]): string {
  const [only] = conflicts;
  if (conflicts.length === 1 && only) return `Apply failed with 1 conflict: conflict with ${describeManager(only.manager)}: ${pathToString(only.path)}`;
  const byManager = new Map<string, FieldPath[]>();
  for (const c of conflicts) byManager.set(c.manager, [...(byManager.get(c.manager) ?? []), c.path]);
  const lines: string[] = [];
  for (const manager of [...byManager.keys()].sort(compareStrings)) {
    lines.push(`conflicts with ${describeManager(manager)}:`);
    for (const path of byManager.get(manager) ?? []) lines.push(`- ${pathToString(path)}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}
