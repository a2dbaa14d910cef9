// metadata.managedFields in and out: entries are keyed by a manager
// identifier (manager, operation, subresource and, for updaters, apiVersion),
// the way kube-apiserver tells managers apart, and written back sorted as it sorts them.
import { remembered } from '../remembered.js';
import type { ManagedFieldsEntry } from '../object.js';
import { FieldSet } from './field-set.js';
import { compareStrings, hasNoKeys, isJsonMap } from './json-value.js';

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
  const { manager, operation, apiVersion, subresource } = id;
  if (!isStringOrFalsy(manager) || typeof operation !== 'string' || !isStringOrFalsy(apiVersion) || !isStringOrFalsy(subresource)) return identifierOfObject(id);
  // What JSON.stringify makes of the object identifierOfObject builds, spelled out.
  let s = '{';
  if (id.manager) s += '"manager":' + JSON.stringify(id.manager) + ',';
  s += '"operation":' + JSON.stringify(id.operation);
  if (id.operation === 'Update' && id.apiVersion) s += ',"apiVersion":' + JSON.stringify(id.apiVersion);
  if (id.subresource) s += ',"subresource":' + JSON.stringify(id.subresource);
  return s + '}';
}

function isStringOrFalsy(v: unknown): boolean {
  return typeof v === 'string' || !v;
}

function identifierOfObject(id: ManagerIdentity): string {
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
  return decode(entries, false);
}

/**
 * An entry read for a write whose fieldsV1 is exactly how
 * encodeManagedFields writes its set: the set is decoded only when asked
 * for, and as long as it is not, the entry is written back with the very
 * fieldsV1 read. fieldsV1 objects are never changed once written, so the
 * new object may share them with the old one (the test runs freeze cached
 * objects to hold to that).
 */
export class EncodedFieldSet implements VersionedFieldSet {
  private decoded: FieldSet | undefined;

  constructor(
    /** The fieldsV1 read, canonical. */
    readonly fieldsV1: Record<string, unknown>,
    readonly apiVersion: string,
    readonly applied: boolean,
  ) {}

  get set(): FieldSet {
    return (this.decoded ??= FieldSet.fromFieldsV1(this.fieldsV1));
  }

  isEmpty(): boolean {
    return hasNoKeys(this.fieldsV1);
  }

  /** The fieldsV1 to write: the one read. */
  encode(): Record<string, unknown> {
    return this.fieldsV1;
  }
}

/**
 * decodeManagedFields for a write that encodes the result with
 * encodeManagedFields before the entries it read can change: entries read
 * in canonical form are EncodedFieldSets.
 */
export function decodeManagedFieldsForWrite(entries: unknown): Managed {
  return decode(entries, true);
}

function decode(entries: unknown, forWrite: boolean): Managed {
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
    const applied = entry.operation === 'Apply';
    let vs: VersionedFieldSet;
    try {
      const fields = entry.fieldsV1;
      if (forWrite && FieldSet.isCanonical(fields)) vs = new EncodedFieldSet(fields, entry.apiVersion, applied);
      else vs = { set: fields === undefined || fields === null ? new FieldSet() : FieldSet.fromFieldsV1(fields), apiVersion: entry.apiVersion, applied };
    } catch (err) {
      throw new ManagedFieldsDecodeError(`error decoding versioned set: ${(err as Error).message}`);
    }
    managed.fields.set(id, vs);
    managed.times.set(id, typeof entry.time === 'string' ? entry.time : undefined);
  });
  return managed;
}

/** parseManagerIdentifier of the identifiers encodeManagedFields sees again and again (read only). */
const parsedIdentifiers = new Map<string, Readonly<ManagerIdentity>>();

function parsedIdentifier(id: string): Readonly<ManagerIdentity> {
  return remembered(parsedIdentifiers, id, 1024, parseManagerIdentifier);
}

/** Seconds of the times seen lately (an object's entries share a few). */
const secondsOfTime = new Map<string, number>();

function unixSeconds(time: string | undefined): number {
  if (time === undefined) return 0;
  return remembered(secondsOfTime, time, 1024, (t) => {
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
  });
}

/** The entries to store, sorted as kube-apiserver sorts them: Apply first, then by time, manager, version, subresource. */
export function encodeManagedFields(managed: Managed): ManagedFieldsEntry[] {
  const entries: ManagedFieldsEntry[] = [];
  for (const [id, vs] of managed.fields) {
    const identity = parsedIdentifier(id);
    const entry: ManagedFieldsEntry = {};
    if (identity.manager) entry.manager = identity.manager;
    entry.operation = vs.applied ? 'Apply' : identity.operation;
    entry.apiVersion = vs.apiVersion;
    const time = managed.times.get(id);
    if (time !== undefined) entry.time = time;
    entry.fieldsType = 'FieldsV1';
    entry.fieldsV1 = vs instanceof EncodedFieldSet ? vs.encode() : vs.set.toFieldsV1();
    if (identity.subresource) entry.subresource = identity.subresource;
    entries.push(entry);
  }
  // Entries mostly come in order already (as read, a new manager last): sorting then would only allocate.
  for (let i = 1; i < entries.length; i++) if (compareEntries(entries[i - 1]!, entries[i]!) > 0) return entries.sort(compareEntries);
  return entries;
}

function compareEntries(p: ManagedFieldsEntry, q: ManagedFieldsEntry): number {
  return (
    compareStrings(p.operation ?? '', q.operation ?? '') ||
    unixSeconds(p.time) - unixSeconds(q.time) ||
    compareStrings(p.manager ?? '', q.manager ?? '') ||
    compareStrings(p.apiVersion ?? '', q.apiVersion ?? '') ||
    compareStrings(p.subresource ?? '', q.subresource ?? '')
  );
}

let lastSecond = NaN;
let lastFormatted = '';

/** metav1.Time's wire form: RFC 3339 in UTC, whole seconds. */
export function formatTime(now: Date): string {
  const second = Math.floor(now.getTime() / 1000);
  if (second === lastSecond) return lastFormatted;
  const formatted = now.toISOString().replace(/\.\d+Z$/, 'Z');
  lastSecond = second;
  lastFormatted = formatted;
  return formatted;
}
