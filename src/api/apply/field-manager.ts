// The field manager kube-apiserver runs on every write, after
// k8s.io/apiserver's fieldmanager: ordinary writes record who changed what in
// metadata.managedFields, and server-side apply merges a configuration into
// the live object by ownership.
import { BadRequestError } from '../errors.js';
import { cloneJson, isPlainObject } from '../object.js';
import type { KubeObject, ManagedFieldsEntry } from '../object.js';
import { groupVersionKindString } from '../resources.js';
import type { GroupVersionKind } from '../schema/types.js';
import { applyConflictError } from './conflicts.js';
import { fieldPath } from './field-path.js';
import { FieldSet } from './field-set.js';
import { LAST_APPLIED_ANNOTATION, SERVER_SIDE_KUBECTL, fieldsStillAsLastApplied, followLastApplied } from './last-applied.js';
import { compareStrings } from './json-value.js';
import { EncodedFieldSet, decodeManagedFields, decodeManagedFieldsForWrite, emptyManaged, encodeManagedFields, formatTime, managerIdentifier } from './managed-fields.js';
import type { Managed, VersionedFieldSet } from './managed-fields.js';
import { sharedEmptyObject } from './type-info.js';
import type { TypeInfo } from './type-info.js';
import { addedFieldsV1, compareForUpdate } from './typed-compare.js';
import { ApplyConflicts, InvalidAppliedConfigError, applyOwnership, updateOwnership } from './updater.js';
import type { UpdaterContext } from './updater.js';

export { LAST_APPLIED_ANNOTATION };

export interface FieldManagerOptions {
  /**
   * Fields the strategy resets and no manager may own, with everything below
   * them: status on the main resource, the rest on a status subresource
   * (Kubernetes' GetResetFields).
   */
  ignoredFields?: FieldSet;
}

export interface ApplyOptions extends FieldManagerOptions {
  /** "status" for an apply to the status subresource. */
  subresource?: string;
  /** The endpoint's group, version and kind: a configuration of another kind or version is rejected. */
  expectedKind?: GroupVersionKind;
}

export interface ApplyResult {
  /** The live object with the configuration merged in and metadata.managedFields set. */
  object: KubeObject;
  managedFields: ManagedFieldsEntry[];
}

/** Kubernetes keeps at most this many Update entries; older ones merge into "ancient-changes". */
const maxUpdateManagers = 10;
const ancientChangesManager = 'ancient-changes';
const currentOperation = 'current-operation';
const beforeFirstApply = 'before-first-apply';

/** Fields every object has whose ownership is never recorded. */
const unmanagedMetadata = FieldSet.fromPaths([
  fieldPath('apiVersion'),
  fieldPath('kind'),
  fieldPath('metadata'),
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map((f) => fieldPath('metadata', f)),
]);

/** A shallow copy without metadata.managedFields; nothing here mutates the values it reads. */
function withoutManagedFields(obj: unknown): Record<string, unknown> {
  if (!isPlainObject(obj)) return {};
  if (!isPlainObject(obj.metadata) || !('managedFields' in obj.metadata)) return obj;
  const { managedFields: _managedFields, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

function setManagedFields(obj: Record<string, unknown>, entries: ManagedFieldsEntry[]): void {
  if (!isPlainObject(obj.metadata)) {
    if (entries.length === 0) return;
    obj.metadata = {};
  }
  const metadata = obj.metadata as Record<string, unknown>;
  if (entries.length === 0) delete metadata.managedFields;
  else metadata.managedFields = entries;
}

/** The manager name for a request without fieldManager: the user agent up to its first "/". */
export function fieldManagerFromUserAgent(userAgent: string): string {
  let out = '';
  for (const ch of userAgent.split('/')[0] ?? '') {
    if (!/\P{C}/u.test(ch)) continue;
    if (Buffer.byteLength(out + ch) > 128) break;
    out += ch;
  }
  return out;
}

function stripUnmanaged(managed: Managed, manager: string): void {
  const vs = managed.fields.get(manager);
  if (!vs) return;
  const set = vs.set.difference(unmanagedMetadata);
  if (set.isEmpty()) managed.fields.delete(manager);
  else managed.fields.set(manager, { ...vs, set });
}

/** Merges the oldest Update entries of each version into one "ancient-changes" entry once there are too many. */
function capUpdateManagers(managed: Managed): void {
  if (managed.fields.size <= maxUpdateManagers) return;
  const updaters = [...managed.fields.entries()].filter(([, vs]) => !vs.applied).map(([id]) => id);
  if (updaters.length <= maxUpdateManagers) return;
  const seconds = (id: string): number => {
    const t = managed.times.get(id);
    const ms = t === undefined ? NaN : Date.parse(t);
    return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
  };
  updaters.sort((a, b) => seconds(a) - seconds(b) || compareStrings(a, b));
  const firstOfVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > maxUpdateManagers; i++) {
    const id = updaters[i] as string;
    const vs = managed.fields.get(id);
    if (!vs) continue;
    const bucket = managerIdentifier({ manager: ancientChangesManager, operation: 'Update', apiVersion: vs.apiVersion });
    const first = firstOfVersion.get(vs.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(vs.apiVersion, id);
      continue;
    }
    if (!managed.fields.has(bucket)) {
      const firstSet = managed.fields.get(first);
      managed.fields.delete(first);
      if (firstSet) managed.fields.set(bucket, firstSet);
    }
    const bucketSet = managed.fields.get(bucket);
    managed.fields.set(bucket, { set: vs.set.union(bucketSet?.set ?? new FieldSet()), apiVersion: vs.apiVersion, applied: false });
    managed.fields.delete(id);
    managed.times.set(bucket, managed.times.get(id));
    length--;
  }
}

/** An Update through the whole chain: ownership, metadata stripped, merged into the manager's entry, capped. */
function recordUpdate(oldValue: unknown, newValue: unknown, managedIn: Managed, managerId: string, ctx: UpdaterContext, now: Date): Managed {
  const managed = updateOwnership(oldValue, newValue, managedIn, currentOperation, ctx);
  stripUnmanaged(managed, currentOperation);
  const changed = managed.fields.get(currentOperation);
  if (changed) {
    managed.fields.delete(currentOperation);
    const previous = managed.fields.get(managerId);
    managed.fields.set(managerId, { set: previous ? changed.set.union(previous.set) : changed.set, apiVersion: changed.apiVersion, applied: false });
    managed.times.set(managerId, formatTime(now));
  }
  capUpdateManagers(managed);
  return managed;
}

/** Whether a manager's set has a path in common with another set; an entry read as it is written is not decoded for it. */
function entryOverlaps(vs: VersionedFieldSet, other: FieldSet): boolean {
  if (other.isEmpty()) return false;
  return vs instanceof EncodedFieldSet ? other.overlapsFieldsV1(vs.fieldsV1) : vs.set.overlaps(other);
}

function entryContains(vs: VersionedFieldSet, other: FieldSet): boolean {
  return vs instanceof EncodedFieldSet ? other.isSubsetOfFieldsV1(vs.fieldsV1) : other.isSubsetOf(vs.set);
}

function entryIsEmpty(vs: VersionedFieldSet): boolean {
  return vs instanceof EncodedFieldSet ? vs.isEmpty() : vs.set.isEmpty();
}

/**
 * recordUpdate in one pass, for managed fields decoded for this write only
 * (updated in place): one comparison that skips the ignored fields and
 * equal values; a manager's set is recomputed only when the write touches
 * it, so that the others are written back as they were read; without other
 * managers (a create), nothing to take away and no removals to collect.
 */
function recordUpdateFast(oldValue: unknown, newValue: unknown, managed: Managed, managerId: string, ctx: UpdaterContext, now: Date): Managed {
  const { changed, removed } = compareForUpdate(oldValue, newValue, ctx.type, ctx.ignored, managed.fields.size > 0);
  // The current operation owns what changed (ignored fields already left out), bar unmanaged metadata.
  const own = changed.differenceSharing(unmanagedMetadata);
  // recordUpdate takes what changed from the manager's own entry too, then
  // gives it back with what it owns now: that leaves the entry as it was when
  // the entry has all of it, loses nothing removed, and has none of the
  // unmanaged fields that changed.
  const previous = own.isEmpty() ? undefined : managed.fields.get(managerId);
  const keepsPrevious =
    previous !== undefined &&
    entryContains(previous, own) &&
    !entryOverlaps(previous, removed) &&
    (!unmanagedMetadata.overlaps(changed) || !entryOverlaps(previous, unmanagedMetadata.intersection(changed)));
  // What takeFromOthers does, everyone being someone else to the current operation.
  for (const [id, vs] of managed.fields) {
    if (keepsPrevious && id === managerId) continue;
    const loses = entryOverlaps(vs, changed);
    const drops = entryOverlaps(vs, removed);
    if (!loses && !drops) {
      if (entryIsEmpty(vs)) managed.fields.delete(id);
      continue;
    }
    let set = vs.set;
    if (loses) set = set.difference(changed);
    if (drops) set = set.difference(removed);
    if (set.isEmpty()) managed.fields.delete(id);
    else managed.fields.set(id, { set, apiVersion: vs.apiVersion, applied: vs.applied });
  }
  if (!own.isEmpty()) {
    if (!keepsPrevious) {
      const left = managed.fields.get(managerId);
      // The manager's entry as read, with what it owns now added to it without decoding it.
      const encoded = left instanceof EncodedFieldSet ? own.unionIntoFieldsV1(left.fieldsV1) : undefined;
      if (encoded) managed.fields.set(managerId, new EncodedFieldSet(encoded, ctx.apiVersion, false));
      else managed.fields.set(managerId, { set: left ? own.union(left.set) : own, apiVersion: ctx.apiVersion, applied: false });
    }
    managed.times.set(managerId, formatTime(now));
  }
  capUpdateManagers(managed);
  return managed;
}

/** `managedFields: []` or `[{}]` in a request: the client asks to drop all ownership records. */
function isManagedFieldsReset(entries: unknown): boolean {
  if (!Array.isArray(entries)) return false;
  if (entries.length === 0) return true;
  const [only] = entries as unknown[];
  return entries.length === 1 && isPlainObject(only) && Object.values(only).every((v) => v === undefined || v === null || v === '');
}

/**
 * Whether a write's managedFields change the stored ones themselves (kubectl
 * apply --server-side moving client-side apply's fields to its own entry
 * does only that): sent, and other than the stored records beyond their
 * times. Such a write is stored even when nothing else changed, as
 * kube-apiserver stores any write whose encoding differs.
 */
export function managedFieldsChangedBy(sent: unknown, stored: unknown): boolean {
  if (!Array.isArray(sent)) return false;
  const storedEntries = Array.isArray(stored) ? stored : [];
  if (isManagedFieldsReset(sent)) return storedEntries.length > 0;
  if (sent.length !== storedEntries.length) return true;
  return sent.some((entry, i) => JSON.stringify(withoutTime(entry)) !== JSON.stringify(withoutTime(storedEntries[i])));
}

function withoutTime(entry: unknown): unknown {
  if (!isPlainObject(entry)) return entry;
  const { time: _time, ...rest } = entry;
  return rest;
}

type Decoder = (entries: unknown) => Managed;

function decodeOrEmpty(entries: unknown, decode: Decoder = decodeManagedFields): Managed {
  try {
    return decode(entries);
  } catch {
    return emptyManaged();
  }
}

/**
 * The ownership records an update starts from: the stored ones for a
 * subresource; otherwise the ones the client sent (so clients can edit or
 * reset them), or the stored ones when it sent none or unreadable ones.
 */
function startingManaged(oldObj: KubeObject | undefined, newObj: KubeObject, subresource: string | undefined, decode: Decoder): Managed {
  const stored = oldObj?.metadata?.managedFields;
  if (subresource) return decodeOrEmpty(stored, decode);
  const sent = newObj.metadata?.managedFields;
  if (isManagedFieldsReset(sent)) return emptyManaged();
  const managed = decodeOrEmpty(sent, decode);
  return managed.fields.size > 0 ? managed : decodeOrEmpty(stored, decode);
}

/** What an ordinary write's field tracking takes: the objects before and after, who wrote it, how and when. */
type UpdateArgs = [
  oldObj: KubeObject | undefined,
  newObj: KubeObject,
  manager: string,
  operation: 'Update',
  typeInfo: TypeInfo,
  now: Date,
  subresource?: string,
  options?: FieldManagerOptions,
];

/**
 * Records an ordinary write (create, update, patch other than apply) in
 * metadata.managedFields and returns the object to store, which shares all
 * but its metadata with newObj. `manager` owns what it changed; other
 * managers lose the fields changed away from their values. An existing
 * object without managedFields stays untracked until its first apply, which
 * is also how a client clears them (sending managedFields: [{}]). Never
 * throws: should ownership not be computable, the stored managedFields are kept.
 */
export function updateManagedFields(...args: UpdateArgs): KubeObject {
  return trackUpdate(true, ...args);
}

/**
 * updateManagedFields the straightforward way, step by step as
 * structured-merge-diff takes them, each on fresh sets, every entry encoded
 * anew. Not for use: the reference updateManagedFields is tested against.
 * @internal
 */
export function updateManagedFieldsGeneral(...args: UpdateArgs): KubeObject {
  return trackUpdate(false, ...args);
}

/**
 * The metadata.managedFields updateManagedFields gives its result (undefined:
 * none), without the result: for a caller that sets them on newObj itself.
 */
export function updatedManagedFields(...args: UpdateArgs): ManagedFieldsEntry[] | undefined {
  const entries = trackedEntries(true, ...args);
  return entries === undefined || entries.length === 0 ? undefined : entries;
}

function trackUpdate(fast: boolean, ...args: UpdateArgs): KubeObject {
  const newObj = args[1];
  // A copy of the metadata without managedFields (set again last, as before: the key order is kept).
  const { managedFields: _sent, ...metadata } = newObj.metadata ?? {};
  const result: KubeObject = { ...newObj, metadata };
  const entries = trackedEntries(fast, ...args);
  if (entries !== undefined) setManagedFields(result, entries);
  return result;
}

/** The entries to set, or undefined for none (an existing object without them stays untracked). */
function trackedEntries(fast: boolean, ...args: UpdateArgs): ManagedFieldsEntry[] | undefined {
  const [oldObj, newObj, manager, operation, typeInfo, now, subresource, options = {}] = args;
  try {
    let managed = startingManaged(oldObj, newObj, subresource, fast ? decodeManagedFieldsForWrite : decodeManagedFields);
    if (managed.fields.size === 0 && oldObj !== undefined) return undefined;
    const apiVersion = newObj.apiVersion ?? oldObj?.apiVersion ?? '';
    if (apiVersion === '') throw new Error('object has no apiVersion');
    const ctx: UpdaterContext = { type: typeInfo.root, apiVersion, ignored: options.ignoredFields };
    const id = managerIdentifier({ manager: manager || 'unknown', operation, apiVersion, subresource });
    const newValue = withoutManagedFields(newObj);
    if (!fast) managed = recordUpdate(withoutManagedFields(oldObj ?? typeInfo.emptyObject()), newValue, managed, id, ctx, now);
    else if (oldObj === undefined && managed.fields.size === 0 && createFromNothing(newValue, typeInfo, managed, id, ctx, now)) {
      // Recorded.
    } else managed = recordUpdateFast(withoutManagedFields(oldObj ?? sharedEmptyObject(typeInfo)), newValue, managed, id, ctx, now);
    return encodeManagedFields(managed);
  } catch {
    // Ownership not computable: the stored records are kept as they are.
    return oldObj?.metadata?.managedFields;
  }
}

/**
 * A create with no ownership records to start from, of a kind whose empty
 * object is {}: the manager owns everything the object sets (bar ignored and
 * unmanaged fields), encoded as it is found. False when that does not apply.
 */
function createFromNothing(newValue: Record<string, unknown>, typeInfo: TypeInfo, managed: Managed, managerId: string, ctx: UpdaterContext, now: Date): boolean {
  for (const _ in sharedEmptyObject(typeInfo)) return false;
  const fields = addedFieldsV1(newValue, ctx.type, ctx.ignored, unmanagedMetadata);
  if (fields === undefined) return false;
  for (const _ in fields) {
    managed.fields.set(managerId, new EncodedFieldSet(fields, ctx.apiVersion, false));
    managed.times.set(managerId, formatTime(now));
    break;
  }
  return true;
}

function apiVersionOf(gvk: GroupVersionKind): string {
  return gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
}

/**
 * Server-side apply (PATCH with application/apply-patch+yaml): merges the
 * applied configuration into the live object (undefined to create), removes
 * what `manager` applied before and no longer applies unless someone else
 * owns it, and records `manager`'s Apply entry. Throws ApplyConflictError when
 * the apply changes fields other managers own and force is false, and
 * BadRequestError for a configuration the merge cannot use. The result is not
 * yet defaulted or validated.
 */
export function serverSideApply(
  liveObj: KubeObject | undefined,
  appliedConfig: Record<string, unknown>,
  manager: string,
  force: boolean,
  typeInfo: TypeInfo,
  now: Date,
  options: ApplyOptions = {},
): ApplyResult {
  if (!isPlainObject(appliedConfig)) throw new BadRequestError('apply patch must be an object');
  const configMetadata = appliedConfig.metadata;
  if (isPlainObject(configMetadata) && configMetadata.managedFields !== undefined && configMetadata.managedFields !== null) {
    throw new BadRequestError('metadata.managedFields must be nil');
  }
  const expected = options.expectedKind;
  if (expected && (appliedConfig.apiVersion !== apiVersionOf(expected) || appliedConfig.kind !== expected.kind)) {
    throw new BadRequestError(`invalid object type: ${groupVersionKindString(appliedConfig.apiVersion, appliedConfig.kind)}`);
  }
  const apiVersion = typeof appliedConfig.apiVersion === 'string' && appliedConfig.apiVersion !== '' ? appliedConfig.apiVersion : (liveObj?.apiVersion ?? '');
  const ctx: UpdaterContext = { type: typeInfo.root, apiVersion, ignored: options.ignoredFields };
  let managed: Managed;
  try {
    managed = decodeManagedFields(liveObj?.metadata?.managedFields);
  } catch {
    managed = emptyManaged();
  }
  const live = withoutManagedFields(liveObj ?? {});
  const config = appliedConfig;
  const id = managerIdentifier({ manager: manager || 'unknown', operation: 'Apply', subresource: options.subresource });

  const attempt = (forced: boolean): { object: Record<string, unknown>; managed: Managed } => {
    let current = managed;
    // Objects written before managedFields existed: whoever wrote them owns everything, for the applier to conflict with.
    if (current.fields.size === 0 && liveObj !== undefined) {
      const firstId = managerIdentifier({ manager: beforeFirstApply, operation: 'Update', apiVersion, subresource: options.subresource });
      current = recordUpdate(withoutManagedFields(typeInfo.emptyObject()), live, current, firstId, ctx, now);
    }
    const outcome = applyOwnership(live, config, current, id, forced, ctx);
    stripUnmanaged(outcome.managed, id);
    if (outcome.object !== undefined) outcome.managed.times.set(id, formatTime(now));
    capUpdateManagers(outcome.managed);
    // A copy: the merge shares values with the live object, which callers may cache.
    const object = cloneJson(outcome.object === undefined ? live : (outcome.object as Record<string, unknown>));
    return { object, managed: outcome.managed };
  };

  let outcome: { object: Record<string, unknown>; managed: Managed };
  try {
    outcome = attempt(force);
  } catch (err) {
    if (err instanceof InvalidAppliedConfigError) {
      const meta = isPlainObject(configMetadata) ? configMetadata : {};
      const nn = `${typeof meta.namespace === 'string' ? meta.namespace : ''}/${typeof meta.name === 'string' ? meta.name : ''}`;
      throw new BadRequestError(`failed to create typed patch object (${nn}; ${groupVersionKindString(appliedConfig.apiVersion, appliedConfig.kind)}): ${err.message}`);
    }
    if (!(err instanceof ApplyConflicts)) throw err;
    const allowed = manager === SERVER_SIDE_KUBECTL ? fieldsStillAsLastApplied(live, typeInfo.root) : undefined;
    if (!allowed) throw applyConflictError(err.conflicts);
    const remaining = err.conflicts.filter((c) => !allowed.has(c.path));
    if (remaining.length > 0) throw applyConflictError(remaining);
    outcome = attempt(true);
  }

  if (manager === SERVER_SIDE_KUBECTL) followLastApplied(outcome.object, appliedConfig);
  const managedFields = encodeManagedFields(outcome.managed);
  setManagedFields(outcome.object, managedFields);
  return { object: outcome.object as KubeObject, managedFields: cloneJson(managedFields) };
}
