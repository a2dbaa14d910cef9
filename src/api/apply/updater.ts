// Ownership bookkeeping for one write, after structured-merge-diff's
// merge.Updater: an update takes the fields it changed from everyone else; an
// apply owns exactly what it applied, removes what it applied before and no
// one owns any more, and conflicts with managers whose fields it changes.
import { appliedConfigErrors } from './applied-config.js';
import { applyConflictError, conflictsFromManagers } from './conflicts.js';
import type { Conflict } from './conflicts.js';
import { FieldSet } from './field-set.js';
import { jsonEqual } from './json-value.js';
import type { Managed, VersionedFieldSet } from './managed-fields.js';
import { cloneManaged } from './managed-fields.js';
import { ensureNamedFieldsAreMembers, fieldSetOfValue } from './object-field-set.js';
import { removeItems } from './remove-items.js';
import { compareValues, filterComparison } from './typed-compare.js';
import type { Comparison } from './typed-compare.js';
import { mergeValues } from './typed-merge.js';
import type { TypeNode } from './type-info.js';

export class ApplyConflicts extends Error {
  override name = 'ApplyConflicts';
  constructor(readonly conflicts: Conflict[]) {
    super(applyConflictError(conflicts).message);
  }
}

export class InvalidAppliedConfigError extends Error {
  override name = 'InvalidAppliedConfigError';
}

export interface UpdaterContext {
  readonly type: TypeNode;
  readonly apiVersion: string;
  /** Fields no manager may own (reset by the strategy, like status on the main resource). */
  readonly ignored: FieldSet | undefined;
}

function filterIgnored(set: FieldSet, ignored: FieldSet | undefined): FieldSet {
  return ignored && !ignored.isEmpty() ? set.recursiveDifference(ignored) : set;
}

/**
 * Other managers give up the fields the write changed or removed; with
 * force=false a changed field that someone else owns is a conflict instead.
 */
function takeFromOthers(oldValue: unknown, newValue: unknown, managed: Managed, self: string, force: boolean, ctx: UpdaterContext): Comparison {
  const compare = filterComparison(compareValues(oldValue, newValue, ctx.type), ctx.ignored);
  const changed = compare.modified.union(compare.added);
  const conflicts = new Map<string, FieldSet>();
  for (const [manager, vs] of managed.fields) {
    if (manager === self) continue;
    const lost = vs.set.intersection(changed);
    if (!lost.isEmpty()) conflicts.set(manager, lost);
  }
  if (!force && conflicts.size > 0) throw new ApplyConflicts(conflictsFromManagers(conflicts));
  for (const [manager, vs] of managed.fields) {
    if (manager === self) continue;
    let set = vs.set;
    const lost = conflicts.get(manager);
    if (lost) set = set.difference(lost);
    if (!compare.removed.isEmpty()) set = set.difference(compare.removed);
    if (set.isEmpty()) managed.fields.delete(manager);
    else if (set !== vs.set) managed.fields.set(manager, { ...vs, set });
  }
  return compare;
}

/** An ordinary write by `manager`: it owns what it owned, less what it removed, plus what it changed. */
export function updateOwnership(oldValue: unknown, newValue: unknown, managedIn: Managed, manager: string, ctx: UpdaterContext): Managed {
  const managed = cloneManaged(managedIn);
  const compare = takeFromOthers(oldValue, newValue, managed, manager, true, ctx);
  const previous = managed.fields.get(manager)?.set ?? new FieldSet();
  const set = filterIgnored(previous.difference(compare.removed).union(compare.modified).union(compare.added), ctx.ignored);
  if (set.isEmpty()) managed.fields.delete(manager);
  else managed.fields.set(manager, { set, apiVersion: ctx.apiVersion, applied: false });
  return managed;
}

export interface ApplyOutcome {
  /** undefined when the apply changed nothing in the object. */
  readonly object: unknown;
  readonly managed: Managed;
}

/** Merges the configuration in, prunes what the applier dropped, and settles ownership. */
export function applyOwnership(live: unknown, config: unknown, managedIn: Managed, manager: string, force: boolean, ctx: UpdaterContext): ApplyOutcome {
  const errors = appliedConfigErrors(config, ctx.type);
  if (errors.length === 1) throw new InvalidAppliedConfigError(errors[0]);
  if (errors.length > 1) throw new InvalidAppliedConfigError(['errors:', ...errors.map((e) => '  ' + e)].join('\n'));
  const managed = cloneManaged(managedIn);
  const merged = mergeValues(live, config, ctx.type);
  const lastSet = managed.fields.get(manager);
  const set = filterIgnored(fieldSetOfValue(config, ctx.type), ctx.ignored);
  managed.fields.set(manager, { set, apiVersion: ctx.apiVersion, applied: true });
  const pruned = prune(merged, managed, lastSet, ctx.type, set);
  takeFromOthers(live, pruned, managed, manager, force, ctx);
  return { object: jsonEqual(live, pruned) ? undefined : pruned, managed };
}

/**
 * Removes what the applier applied last time and not this time, unless
 * someone (the applier's new configuration included) still owns it.
 */
function prune(merged: unknown, managed: Managed, lastSet: VersionedFieldSet | undefined, type: TypeNode, applied: FieldSet): unknown {
  // Still applying everything it applied before: nothing of the applier's can go.
  if (!lastSet || lastSet.set.difference(applied).isEmpty()) return merged;
  const named = (s: FieldSet): FieldSet => ensureNamedFieldsAreMembers(s, type);
  const last = named(lastSet.set);
  let pruned = removeItems(merged, last, type);

  let owned = new FieldSet();
  for (const vs of managed.fields.values()) owned = owned.union(vs.set);
  const mergedSet = named(fieldSetOfValue(merged, type));
  const prunedSet = named(fieldSetOfValue(pruned, type));
  pruned = removeItems(merged, mergedSet.difference(prunedSet.union(named(owned))), type);

  // The pass above may reach paths the applier never owned; of everything
  // gone, only what it owned last time is removed.
  const stillThere = named(fieldSetOfValue(pruned, type));
  return removeItems(merged, mergedSet.difference(stillThere).intersection(last), type);
}
