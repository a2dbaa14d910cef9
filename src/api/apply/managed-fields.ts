// metadata.managedFields in and out: entries are keyed by a manager
// identifier (manager, operation, subresource and, for updaters, apiVersion),
// the way kube-apiserver tells managers apart, and written back sorted as it sorts them.
import type { ManagedFieldsEntry } from '../object.js';
import { FieldSet } from './field-set.js';
import { compareStrings, isJsonMap } from './json-value.js';

export interface VersionedFieldSet {
  readonly set: FieldSet;
  readonly apiVersion: string;
  /** Owned by an Apply rather than an Update. */
  readonly applied: boolean;
}

/** Field sets and timestamps by manager identifier. */
export interface Managed {
  readonly fields: Map<string, VersionedFieldSet>;
  readonly times: Map<string, string | undefined>;
}

export interface ManagerIdentity {
  manager: string;
  operation: 'Apply' | 'Update';
  /** Only part of an updater's identity: an applier is one manager whatever version it applies. */
  apiVersion?: string;
  subresource?: string;
}

export class ManagedFieldsDecodeError extends Error {
  override name = 'ManagedFieldsDecodeError';
}

export function emptyManaged(): Managed {
  return { fields: new Map(), times: new Map() };
}

export function cloneManaged(m: Managed): Managed {
  return { fields: new Map(m.fields), times: new Map(m.times) };
}

/** The identifier kube-apiserver builds: the entry's JSON without fields, time, and an applier's apiVersion. */
export function managerIdentifier(id: ManagerIdentity): string {
  const o: Record<string, string> = {};
  if (id.manager) o.manager = id.manager;
  o.operation = id.operation;
  if (id.operation === 'Update' && id.apiVersion) o.apiVersion = id.apiVersion;
  if (id.subresource) o.subresource = id.subresource;
  return JSON.stringify(o);
}

export function parseManagerIdentifier(identifier: string): ManagerIdentity {
  let parsed: unknown;
  try {
    parsed = JSON.parse(identifier);
  } catch {
    return { manager: identifier, operation: 'Update' };
  }
  if (!isJsonMap(parsed)) return { manager: identifier, operation: 'Update' };
  const out: ManagerIdentity = {
    manager: typeof parsed.manager === 'string' ? parsed.manager : '',
    operation: parsed.operation === 'Apply' ? 'Apply' : 'Update',
  };
  if (typeof parsed.apiVersion === 'string') out.apiVersion = parsed.apiVersion;
  if (typeof parsed.subresource === 'string') out.subresource = parsed.subresource;
  return out;
}

/** Reads managedFields; throws with kube-apiserver's words when an entry is malformed. */
export function decodeManagedFields(entries: unknown): Managed {
  const managed = emptyManaged();
  if (entries === undefined || entries === null) return managed;
  if (!Array.isArray(entries)) throw new ManagedFieldsDecodeError('managedFields must be a list');
  entries.forEach((raw, i) => {
    if (!isJsonMap(raw)) throw new ManagedFieldsDecodeError(`managed fields entry ${i} must be an object`);
    const entry = raw as ManagedFieldsEntry;
    if (entry.operation !== 'Apply' && entry.operation !== 'Update') throw new ManagedFieldsDecodeError('operation must be `Apply` or `Update`');
    if (typeof entry.apiVersion !== 'string' || entry.apiVersion.length === 0) throw new ManagedFieldsDecodeError('apiVersion must not be empty');
    if (entry.fieldsType === undefined || (entry.fieldsType as string) === '') throw new ManagedFieldsDecodeError(`missing fieldsType in managed fields entry ${i}`);
    if (entry.fieldsType !== 'FieldsV1') throw new ManagedFieldsDecodeError(`invalid fieldsType ${JSON.stringify(entry.fieldsType)} in managed fields entry ${i}`);
    const id = managerIdentifier({ manager: entry.manager ?? '', operation: entry.operation, apiVersion: entry.apiVersion, subresource: entry.subresource });
    let set: FieldSet;
    try {
      set = entry.fieldsV1 === undefined || entry.fieldsV1 === null ? new FieldSet() : FieldSet.fromFieldsV1(entry.fieldsV1);
    } catch (err) {
      throw new ManagedFieldsDecodeError(`error decoding versioned set: ${(err as Error).message}`);
    }
    managed.fields.set(id, { set, apiVersion: entry.apiVersion, applied: entry.operation === 'Apply' });
    managed.times.set(id, typeof entry.time === 'string' ? entry.time : undefined);
  });
  return managed;
}

function unixSeconds(time: string | undefined): number {
  if (time === undefined) return 0;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

/** The entries to store, sorted as kube-apiserver sorts them: Apply first, then by time, manager, version, subresource. */
export function encodeManagedFields(managed: Managed): ManagedFieldsEntry[] {
  const entries: ManagedFieldsEntry[] = [];
  for (const [id, vs] of managed.fields) {
    const identity = parseManagerIdentifier(id);
    const entry: ManagedFieldsEntry = {};
    if (identity.manager) entry.manager = identity.manager;
    entry.operation = vs.applied ? 'Apply' : identity.operation;
    entry.apiVersion = vs.apiVersion;
    const time = managed.times.get(id);
    if (time !== undefined) entry.time = time;
    entry.fieldsType = 'FieldsV1';
    entry.fieldsV1 = vs.set.toFieldsV1();
    if (identity.subresource) entry.subresource = identity.subresource;
    entries.push(entry);
  }
  return entries.sort(
    (p, q) =>
      compareStrings(p.operation ?? '', q.operation ?? '') ||
      unixSeconds(p.time) - unixSeconds(q.time) ||
      compareStrings(p.manager ?? '', q.manager ?? '') ||
      compareStrings(p.apiVersion ?? '', q.apiVersion ?? '') ||
      compareStrings(p.subresource ?? '', q.subresource ?? ''),
  );
}

/** metav1.Time's wire form: RFC 3339 in UTC, whole seconds. */
export function formatTime(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z');
}
