// Custom resources: a CustomResourceDefinition, once stored, becomes a served
// resource with its own generic store, schema validation, defaulting and
// pruning from its structural schema, and its printer columns.
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';
import { formatFieldError, type FieldError } from '../api/errors.js';
import { isPlainObject, type KubeObject } from '../api/object.js';
import type { PrinterColumn, ResourceInfo } from '../api/resources.js';
import type { Schema } from '../api/schema/types.js';
import { semanticEqual } from '../api/validation/semantic-equal.js';
import { ValidationRules } from './cel/validation-rules.js';
import { embeddedResourceErrors } from './crd-embedded.js';
import { crdStringFormats } from './crd-formats.js';
import { goRegExp } from './go-regexp.js';
import { unratchetedErrors } from './crd-ratcheting.js';
import { kubeSchemaErrors } from './crd-schema-errors.js';

/** Where a custom resource keeps what its scale subresource shows (paths such as ".spec.replicas"). */
export interface CrdScalePaths {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
  schema?: { openAPIV3Schema?: Schema };
  subresources?: { status?: object; scale?: CrdScalePaths };
  additionalPrinterColumns?: PrinterColumn[];
}

export interface CrdSpec {
  group: string;
  names: { plural: string; singular?: string; kind: string; listKind?: string; shortNames?: string[]; categories?: string[] };
  scope: 'Namespaced' | 'Cluster';
  versions: CrdVersion[];
}

export function crdSpec(crd: KubeObject): CrdSpec | undefined {
  const spec = crd.spec;
  if (!isPlainObject(spec) || !isPlainObject(spec.names) || !Array.isArray(spec.versions)) return undefined;
  return spec as unknown as CrdSpec;
}

/** The storage version first, then the other served versions. */
export function crdResourceInfo(spec: CrdSpec): ResourceInfo {
  const served = spec.versions.filter((v) => v.served);
  const storage = spec.versions.find((v) => v.storage) ?? served[0];
  const ordered = [storage, ...served.filter((v) => v !== storage)].filter((v): v is CrdVersion => v !== undefined);
  const subresources: string[] = [];
  if (storage?.subresources?.status) subresources.push('status');
  if (storage?.subresources?.scale) subresources.push('scale');
  return {
    group: spec.group,
    versions: ordered.map((v) => v.name),
    kind: spec.names.kind,
    listKind: spec.names.listKind ?? `${spec.names.kind}List`,
    plural: spec.names.plural,
    singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
    namespaced: spec.scope !== 'Cluster',
    shortNames: spec.names.shortNames ?? [],
    categories: spec.names.categories ?? [],
    subresources,
    verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'],
    ...(storage && !storage.served ? { unserved: [storage.name] } : {}),
    ...(storage?.additionalPrinterColumns?.length ? { printerColumns: storage.additionalPrinterColumns } : {}),
  };
}

/** The warning every request to a deprecated version of a CRD gets: its own, or "group/version Kind is deprecated". */
export function crdDeprecationWarning(spec: CrdSpec, version: string): string | undefined {
  const v = spec.versions.find((x) => x.name === version);
  if (!v?.deprecated) return undefined;
  return typeof v.deprecationWarning === 'string' ? v.deprecationWarning : `${spec.group}/${v.name} ${spec.names.kind} is deprecated`;
}

/** The version a CRD stores its objects at (its first, when none is marked). */
export function crdStorageVersion(spec: CrdSpec): CrdVersion | undefined {
  return spec.versions.find((v) => v.storage) ?? spec.versions[0];
}

/** The scale paths of a CRD's version (its storage version's when the version names none). */
export function crdScalePaths(spec: CrdSpec, version?: string): CrdScalePaths | undefined {
  const asked = spec.versions.find((v) => v.name === version);
  return asked?.subresources?.scale ?? crdStorageVersion(spec)?.subresources?.scale;
}

/** The finalizer that holds a CRD until its custom resources are gone (Kubernetes' customresourcecleanup). */
export const crdCleanupFinalizer = 'customresourcecleanup.apiextensions.k8s.io';

interface CrdCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

/**
 * Sets status the way the apiextensions controllers do once names are
 * accepted: the conditions (a condition that keeps its status keeps its
 * lastTransitionTime), the accepted names, and the stored versions, which
 * gain the storage version and lose none (a storage migration removes one
 * through /status).
 */
export function establishedStatus(crd: KubeObject, now: string, old?: KubeObject, others: Iterable<KubeObject> = []): Record<string, unknown> {
  const spec = crdSpec(crd);
  const names = spec?.names ?? {};
  const oldStatus = (isPlainObject(old?.status) ? old.status : {}) as { conditions?: CrdCondition[]; storedVersions?: unknown; acceptedNames?: Record<string, unknown> };
  const cond = (type: string, status: string, reason: string, message: string): CrdCondition => {
    const before = oldStatus.conditions?.find((c) => c.type === type && c.status === status);
    return { type, status, lastTransitionTime: before?.lastTransitionTime ?? now, reason, message };
  };
  const stored = Array.isArray(oldStatus.storedVersions) ? oldStatus.storedVersions.filter((v): v is string => typeof v === 'string') : [];
  const info = spec ? crdResourceInfo(spec) : undefined;
  const storage = info?.versions[0];
  const requested = { ...names, listKind: info?.listKind, singular: info?.singular };
  const conflict = spec && info ? nameConflict(crd, spec, info, others, (oldStatus.acceptedNames ?? {}) as AcceptedNames) : undefined;
  const wasEstablished = oldStatus.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
  // Conditions these do not make (Terminating, while the CRD's custom resources are deleted) stay as they were.
  const kept = (oldStatus.conditions ?? []).filter((c) => c.type !== 'NamesAccepted' && c.type !== 'Established');
  const namesAccepted = conflict ? cond('NamesAccepted', 'False', conflict.reason, conflict.message) : cond('NamesAccepted', 'True', 'NoConflicts', 'no conflicts found');
  const established = conflict && !wasEstablished ? cond('Established', 'False', 'NotAccepted', 'not all names are accepted') : cond('Established', 'True', 'InitialNamesAccepted', 'the initial names have been accepted');
  return {
    conditions: [namesAccepted, established, ...kept],
    // Names in conflict are not accepted: the ones accepted before stay.
    acceptedNames: conflict ? (oldStatus.acceptedNames ?? {}) : requested,
    storedVersions: storage === undefined || stored.includes(storage) ? stored : [...stored, storage],
  };
}

/**
 * A CRD's names another CRD of its group has accepted already (Kubernetes'
 * naming controller: plural, singular and short names against all the
 * group's resource names, kind and list kind against its kinds; a name the
 * CRD holds already stays its own), with the condition's reason and message
 * (the last conflict found, as the controller leaves it).
 */
function nameConflict(crd: KubeObject, spec: CrdSpec, info: ResourceInfo, others: Iterable<KubeObject>, accepted: AcceptedNames): { reason: string; message: string } | undefined {
  const resources = new Set<string>();
  const kinds = new Set<string>();
  for (const other of others) {
    if (other.metadata.name === crd.metadata.name) continue;
    if (crdSpec(other)?.group !== spec.group) continue;
    const theirs = ((other.status as { acceptedNames?: Record<string, unknown> } | undefined)?.acceptedNames ?? {}) as AcceptedNames;
    for (const n of [theirs.plural, theirs.singular, ...(theirs.shortNames ?? [])]) if (n) resources.add(n);
    for (const n of [theirs.kind, theirs.listKind]) if (n) kinds.add(n);
  }
  let conflict: { reason: string; message: string } | undefined;
  const check = (reason: string, requested: string, held: string | string[] | undefined, taken: Set<string>) => {
    const own = Array.isArray(held) ? held.includes(requested) : held === requested;
    if (!own && taken.has(requested)) conflict = { reason, message: `${JSON.stringify(requested)} is already in use` };
  };
  check('PluralConflict', info.plural, accepted.plural, resources);
  check('SingularConflict', info.singular, accepted.singular, resources);
  for (const n of info.shortNames) check('ShortNamesConflict', n, accepted.shortNames, resources);
  check('KindConflict', info.kind, accepted.kind, kinds);
  check('ListKindConflict', info.listKind, accepted.listKind, kinds);
  return conflict;
}

interface AcceptedNames {
  plural?: string;
  singular?: string;
  shortNames?: string[];
  kind?: string;
  listKind?: string;
}

/** Whether a CRD's names were accepted: only then are its custom resources served. */
export function crdNamesAccepted(crd: KubeObject): boolean {
  const conditions = (crd.status as { conditions?: CrdCondition[] } | undefined)?.conditions ?? [];
  return !conditions.some((c) => c.type === 'NamesAccepted' && c.status === 'False');
}

/**
 * status.storedVersions as Kubernetes checks it: not empty, holding the
 * storage version, and every stored version still in spec.versions (data
 * may remain in it until a storage migration removes it from the list).
 */
export function storedVersionErrors(crd: KubeObject): FieldError[] {
  const spec = crdSpec(crd);
  const status = (isPlainObject(crd.status) ? crd.status : {}) as { storedVersions?: unknown };
  if (!spec || !Array.isArray(status.storedVersions)) return [];
  const stored = status.storedVersions as unknown[];
  if (stored.length === 0) return [{ type: 'FieldValueInvalid', field: 'status.storedVersions', value: stored, detail: 'must have at least one stored version' }];
  const errors: FieldError[] = [];
  const served = new Set(spec.versions.map((v) => v.name));
  stored.forEach((v, i) => {
    if (typeof v === 'string' && !served.has(v)) {
      errors.push({
        type: 'FieldValueInvalid',
        field: `status.storedVersions[${i}]`,
        value: v,
        detail: `missing from spec.versions; ${v} was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in ${v} and removes ${v} from status.storedVersions`,
      });
    }
  });
  const storage = spec.versions.find((v) => v.storage)?.name;
  if (storage !== undefined && !stored.includes(storage)) errors.push({ type: 'FieldValueInvalid', field: 'status.storedVersions', value: stored, detail: `must have the storage version ${storage}` });
  return errors;
}

const require = createRequire(import.meta.url);
const ajvFormats = Object.fromEntries(Object.entries(crdStringFormats).map(([name, validate]) => [name, { type: 'string' as const, validate }]));
/** ajv, loaded when the first schema is compiled: a server without custom resources does not load it at startup (about 30 ms of a cold start). */
let ajvModule: typeof import('ajv') | undefined;

/** Validates, defaults and prunes custom resources of one version by its structural schema. */
export class CustomResourceSchema {
  private readonly validateFn: ValidateFunction | undefined;
  /** Why the schema could not be compiled: every object is then refused with it, rather than taken unchecked. */
  readonly compileError: string | undefined;
  /** The schema's x-kubernetes-validations, compiled when first needed (never for a schema that only checks a default). */
  private compiledRules: ValidationRules | undefined | null = null;

  /** root: the schema of whole custom resources (not of a value within one, as a default's). */
  constructor(
    private readonly schema: Schema | undefined,
    root = true,
  ) {
    if (!schema) return;
    ajvModule ??= require('ajv') as typeof import('ajv');
    // Patterns are Go regular expressions (translated); the formats Kubernetes checks are checked, others ignored (no warning logged).
    const ajv = new ajvModule.Ajv({ strict: false, useDefaults: true, allErrors: true, validateFormats: true, formats: ajvFormats, logger: false, code: { regExp: goRegExp } });
    try {
      const compiled = toAjvSchema(schema) as Record<string, unknown>;
      // apiVersion, kind and metadata are taken out of the body validated (checked apart): a root that requires them has them.
      if (root && Array.isArray(compiled.required)) compiled.required = compiled.required.filter((k) => !isTypeOrObjectMeta(String(k)));
      this.validateFn = ajv.compile(compiled);
    } catch (err) {
      this.compileError = err instanceof Error ? err.message : String(err);
    }
  }

  private get rules(): ValidationRules | undefined {
    if (this.compiledRules === null) this.compiledRules = ValidationRules.compile(this.schema as Record<string, unknown> | undefined);
    return this.compiledRules;
  }

  /** Drops fields the schema does not declare (unless it preserves unknown fields), as Kubernetes prunes. */
  prune(obj: KubeObject): void {
    if (!this.schema) return;
    const body = bodyOf(obj);
    pruneValue(body, this.schema, true);
    for (const k of Object.keys(obj)) if (!isTypeOrObjectMeta(k) && !(k in body)) delete obj[k];
  }

  /**
   * Runs the schema on obj's body, filling its defaults into obj: the body
   * and whether it is valid (the violations are left in validateFn.errors).
   */
  private checkBody(obj: KubeObject, validate: ValidateFunction): { body: Record<string, unknown>; ok: boolean } {
    const body = bodyOf(obj);
    const ok = validate(body);
    for (const k of Object.keys(body)) obj[k] = body[k];
    return { body, ok };
  }

  /**
   * What Kubernetes does to a custom resource read from storage: fields the
   * schema no longer declares dropped, defaults it has gained since filled
   * in (not written back until the object is next updated).
   */
  applyOnRead(obj: KubeObject): void {
    if (!this.validateFn) return;
    this.prune(obj);
    this.checkBody(obj, this.validateFn);
  }

  /** Violations of a value the schema describes (a default), paths relative to it; the value is not changed. */
  validateValue(value: unknown): FieldError[] {
    if (this.compileError) return [{ type: 'FieldValueInvalid', field: '', value: '', detail: this.compileError }];
    if (!this.validateFn) return [];
    const copy = structuredClone(value);
    if (this.validateFn(copy)) return [];
    return kubeSchemaErrors(this.validateFn.errors ?? [], copy);
  }

  /** Fills defaults and returns violations, with Kubernetes' field paths; old is the stored object on update (for transition rules). */
  validate(obj: KubeObject, old?: KubeObject, warn?: (message: string) => void): FieldError[] {
    if (this.compileError) return [{ type: 'FieldValueInvalid', field: '', value: '', detail: `the CustomResourceDefinition's schema cannot be used: ${this.compileError}` }];
    if (!this.validateFn) return [];
    const { body, ok } = this.checkBody(obj, this.validateFn);
    // An update answers only for the values it changes (validation ratcheting).
    const schemaErrors = ok ? [] : unratchetedErrors(this.validateFn.errors ?? [], this.schema as Record<string, unknown>, body, old);
    const errors = [...kubeSchemaErrors(schemaErrors, body), ...embeddedResourceErrors(this.schema!, body), ...listTypeErrors(this.schema!, body, '')];
    if (!this.rules) return errors;
    // Rules are typed by the schema: on a value of the wrong type or outside its enum they would only fail confusingly.
    if (errors.some((e) => e.type === 'FieldValueTypeInvalid' || e.type === 'FieldValueNotSupported')) {
      return [...errors, { type: 'FieldValueInvalid', field: '<nil>', value: 'null', detail: 'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation' }];
    }
    return [...errors, ...this.rules.validate(obj, old, warn)];
  }
}

function isTypeOrObjectMeta(key: string): boolean {
  return key === 'apiVersion' || key === 'kind' || key === 'metadata';
}

/** A custom resource's body: what its schema validates, all but apiVersion, kind and metadata (checked apart). */
function bodyOf(obj: KubeObject): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (!isTypeOrObjectMeta(k)) body[k] = v;
  return body;
}

/**
 * Lists the schema makes sets or maps hold each item (each key) once, as
 * Kubernetes' listtype validation checks them: a duplicate is named at its
 * index, a map item needs its keys.
 */
function listTypeErrors(schema: Schema, value: unknown, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const s = schema as Record<string, unknown>;
  if (Array.isArray(value)) {
    const listType = s['x-kubernetes-list-type'];
    const seen = new Set<string>();
    value.forEach((item, i) => {
      const at = `${path}[${i}]`;
      if (listType === 'set') {
        const key = JSON.stringify(item);
        if (seen.has(key)) errors.push({ type: 'FieldValueDuplicate', field: at, value: item, detail: '' });
        seen.add(key);
      } else if (listType === 'map' && Array.isArray(s['x-kubernetes-list-map-keys'])) {
        if (!isPlainObject(item)) {
          errors.push({ type: 'FieldValueInvalid', field: at, value: item, detail: 'must be an object for an array of list-type map' });
          return;
        }
        const keys = s['x-kubernetes-list-map-keys'] as string[];
        const missing = keys.filter((k) => item[k] === undefined);
        for (const k of missing) errors.push({ type: 'FieldValueRequired', field: `${at}.${k}`, detail: '' });
        if (missing.length > 0) return;
        const keyMap = Object.fromEntries(keys.map((k) => [k, item[k]]));
        const key = JSON.stringify(keys.map((k) => item[k]));
        if (seen.has(key)) errors.push({ type: 'FieldValueDuplicate', field: at, value: keyMap, detail: '' });
        seen.add(key);
      }
      if (isPlainObject(s.items)) errors.push(...listTypeErrors(s.items as Schema, item, at));
    });
  } else if (isPlainObject(value)) {
    const properties = isPlainObject(s.properties) ? (s.properties as Record<string, Schema>) : undefined;
    for (const [k, v] of Object.entries(value)) {
      const sub = properties?.[k] ?? (isPlainObject(s.additionalProperties) ? (s.additionalProperties as Schema) : undefined);
      if (sub) errors.push(...listTypeErrors(sub, v, path ? `${path}.${k}` : k));
    }
  }
  return errors;
}

/**
 * A CRD's schema (OpenAPI v3.0, as Kubernetes' JSONSchemaProps) as the JSON
 * Schema ajv compiles: exclusiveMinimum and exclusiveMaximum are flags on
 * minimum and maximum there, numbers here; x-kubernetes-int-or-string means
 * "integer or string"; what only documents ($schema, id, description,
 * example, externalDocs) or is Kubernetes' own (x-kubernetes-*) is left out.
 */
function toAjvSchema(schema: Schema): object {
  const walk = (s: Schema): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s)) {
      if (k.startsWith('x-kubernetes-') || ignoredSchemaKeys.has(k)) continue;
      if (k === 'properties' && isPlainObject(v)) out.properties = Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, walk(pv as Schema)]));
      else if ((k === 'items' || k === 'additionalProperties' || k === 'additionalItems') && isPlainObject(v)) out[k] = walk(v as Schema);
      else if (k === 'items' && Array.isArray(v)) out.items = v.map((x) => walk(x as Schema));
      else if ((k === 'allOf' || k === 'anyOf' || k === 'oneOf') && Array.isArray(v)) out[k] = v.map((x) => walk(x as Schema));
      else if (k === 'not' && isPlainObject(v)) out.not = walk(v as Schema);
      else out[k] = v;
    }
    for (const [flag, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
      if (typeof out[flag] !== 'boolean') continue;
      if (out[flag] === true && typeof out[bound] === 'number') {
        out[flag] = out[bound];
        delete out[bound];
      } else {
        delete out[flag];
      }
    }
    if (s['x-kubernetes-int-or-string']) {
      delete out.type;
      out.anyOf = [{ type: 'integer' }, { type: 'string' }];
    }
    if (s.type === 'object' && s['x-kubernetes-preserve-unknown-fields'] && !s.properties) delete out.additionalProperties;
    return out;
  };
  return walk(schema);
}

const ignoredSchemaKeys = new Set(['description', '$schema', 'id', 'example', 'externalDocs']);

function pruneValue(value: unknown, schema: Schema, isRoot = false): void {
  if (schema['x-kubernetes-preserve-unknown-fields'] && !schema.properties) return;
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) pruneValue(item, schema.items);
    return;
  }
  if (!isPlainObject(value)) return;
  if (schema.properties) {
    // An embedded resource keeps its apiVersion, kind and metadata whether or not the schema lists them.
    const embedded = schema['x-kubernetes-embedded-resource'] === true;
    for (const k of Object.keys(value)) {
      if (embedded && (k === 'apiVersion' || k === 'kind' || k === 'metadata') && !schema.properties[k]) continue;
      const sub = schema.properties[k];
      // A null where the schema does not allow one is dropped (and defaulted, when it has a default), as Kubernetes does before defaulting.
      if (sub && value[k] === null && !(sub as { nullable?: boolean }).nullable) delete value[k];
      else if (sub) pruneValue(value[k], sub);
      else if (!schema['x-kubernetes-preserve-unknown-fields']) delete value[k];
    }
  } else if (isPlainObject(schema.additionalProperties)) {
    for (const k of Object.keys(value)) pruneValue(value[k], schema.additionalProperties as Schema);
  } else if (!isRoot && schema.type === 'object' && !schema.additionalProperties && !schema['x-kubernetes-embedded-resource']) {
    for (const k of Object.keys(value)) delete value[k];
  }
}

type Level = 'root' | 'item' | 'field';

/**
 * Visits a schema and the schemas inside it, depth first: properties[name],
 * items and additionalProperties (and, with `junctors`, not, allOf[i],
 * anyOf[i], oneOf[i]), each with its path as Kubernetes prints it and its
 * level. A visit that returns false leaves that schema's insides out.
 */
function visitSchema(raw: unknown, path: string, visit: (s: Record<string, unknown>, path: string, level: Level) => boolean | void, junctors = false, level: Level = 'root'): void {
  if (!isPlainObject(raw)) return;
  const s = raw as Record<string, unknown>;
  if (visit(s, path, level) === false) return;
  if (isPlainObject(s.properties)) for (const [k, v] of Object.entries(s.properties)) visitSchema(v, `${path}.properties[${k}]`, visit, junctors, 'field');
  visitSchema(s.items, `${path}.items`, visit, junctors, 'item');
  visitSchema(s.additionalProperties, `${path}.additionalProperties`, visit, junctors, 'field');
  if (!junctors) return;
  visitSchema(s.not, `${path}.not`, visit, junctors, level);
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = s[key];
    if (Array.isArray(list)) list.forEach((x, i) => visitSchema(x, `${path}.${key}[${i}]`, visit, junctors, level));
  }
}

const emptyType: Record<Level, string> = {
  root: 'must not be empty at the root',
  item: 'must not be empty for specified array items',
  field: 'must not be empty for specified object fields',
};

/**
 * A schema must be structural, as Kubernetes requires of apiextensions.k8s.io/v1
 * CRDs (its ValidateStructural, and the API checks beside it): every field
 * typed (unless int-or-string or preserving unknown fields), arrays with
 * items, an object at the root, metadata restricted to name and
 * generateName, no additionalProperties beside properties or at the root,
 * no uniqueItems, no $ref. The errors sorted, as Kubernetes sorts them.
 */
export function structuralErrors(schema: Schema, path: string): FieldError[] {
  const errors: FieldError[] = [];
  visitSchema(schema, path, (s, at, level) => {
    // Metadata at the root is checked as a whole, below, and not walked into.
    if (at === `${path}.properties[metadata]`) return false;
    const type = typeof s.type === 'string' ? s.type : '';
    const intOrString = s['x-kubernetes-int-or-string'] === true;
    const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
    if ('$ref' in s) errors.push({ type: 'FieldValueForbidden', field: `${at}.$ref`, detail: '$ref is not supported' });
    if (s.uniqueItems === true) errors.push({ type: 'FieldValueForbidden', field: `${at}.uniqueItems`, detail: 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic' });
    if (type === 'array' && s.items === undefined) errors.push({ type: 'FieldValueRequired', field: `${at}.items`, detail: 'must be specified' });
    if (isPlainObject(s.properties) && s.additionalProperties !== undefined && s.additionalProperties !== true) {
      errors.push({ type: 'FieldValueForbidden', field: `${at}.additionalProperties`, detail: 'additionalProperties and properties are mutual exclusive' });
    }
    if (level === 'root' && s.additionalProperties !== undefined) errors.push({ type: 'FieldValueForbidden', field: `${at}.additionalProperties`, detail: 'must not be used at the root' });
    if (!type && !intOrString && !preserve) errors.push({ type: 'FieldValueRequired', field: `${at}.type`, detail: emptyType[level] });
    if (level === 'root' && type && type !== 'object') errors.push({ type: 'FieldValueInvalid', field: `${at}.type`, value: type, detail: 'must be object at the root' });
    if (intOrString && preserve) errors.push({ type: 'FieldValueInvalid', field: `${at}.x-kubernetes-preserve-unknown-fields`, value: true, detail: 'must be false if x-kubernetes-int-or-string is true' });
    const metadata = level === 'root' && isPlainObject(s.properties) ? (s.properties as Record<string, unknown>).metadata : undefined;
    if (isPlainObject(metadata)) {
      const metaProps = Object.keys(isPlainObject(metadata.properties) ? metadata.properties : {});
      const rest = Object.keys(metadata).filter((k) => k !== 'type' && k !== 'properties' && k !== 'default');
      if (metaProps.some((k) => k !== 'name' && k !== 'generateName') || rest.length > 0) {
        errors.push({ type: 'FieldValueForbidden', field: `${at}.properties[metadata]`, detail: 'must not specify anything other than name and generateName, but metadata is implicitly specified' });
      }
    }
  });
  return errors.sort((a, b) => formatFieldError(a).localeCompare(formatFieldError(b)));
}

/**
 * A CRD's rules beyond what its kind's validation (validateCustomResourceDefinition:
 * its name, names and scope) checks: a group, one storage version, and sound
 * schemas with sound validation rules.
 */
export function validateCrd(crd: KubeObject, old?: KubeObject): FieldError[] {
  const spec = crdSpec(crd);
  if (!spec) return [{ type: 'FieldValueRequired', field: 'spec', detail: 'group, names, scope and versions are required' }];
  const errors: FieldError[] = [];
  if (!spec.group) errors.push({ type: 'FieldValueRequired', field: 'spec.group', detail: '' });
  const storage = spec.versions.filter((v) => v.storage);
  if (storage.length !== 1) errors.push({ type: 'FieldValueInvalid', field: 'spec.versions', value: spec.versions.map((v) => v.name), detail: 'must have exactly one version marked as storage version' });
  // Kubernetes checks a schema every version shares once, as spec.validation (its internal form hoists it there).
  const shared = hasIdenticalSchemas(spec);
  // Versions of a CRD repeat most of their schemas: each distinct schema holding a default is compiled once.
  const defaultCheckers = new Map<string, CustomResourceSchema>();
  spec.versions.forEach((version, i) => {
    const schema = version.schema?.openAPIV3Schema;
    if (!isPlainObject(schema) || (shared && i > 0)) return;
    const path = shared ? 'spec.validation.openAPIV3Schema' : `spec.versions[${i}].schema.openAPIV3Schema`;
    const before = errors.length;
    // A schema an update leaves as it was is not checked again (CRDs stored before these checks keep working).
    const oldSchema = old ? crdSpec(old)?.versions.find((v) => v.name === version.name)?.schema?.openAPIV3Schema : undefined;
    const changed = oldSchema === undefined || JSON.stringify(oldSchema) !== JSON.stringify(schema);
    if (changed) errors.push(...structuralErrors(schema, path));
    if (errors.length > before) return;
    patternErrors(schema, path, errors);
    if (errors.length > before) return;
    if (changed) defaultErrors(schema, path, errors, defaultCheckers);
    if (errors.length > before) return;
    if (!changed) return;
    // Whatever else keeps the schema from compiling is refused here, never met when a custom resource is written.
    const compiled = new CustomResourceSchema(schema);
    if (compiled.compileError) errors.push({ type: 'FieldValueInvalid', field: path, value: '', detail: `must be a valid schema, but isn't: ${compiled.compileError}` });
    // Validation rules are checked only once the schema is sound, as Kubernetes does: a broken schema gives rules no types.
    if (errors.length === before) ValidationRules.compile(schema, path, errors);
  });
  return errors;
}

function hasIdenticalSchemas(spec: CrdSpec): boolean {
  const first = spec.versions[0]?.schema;
  return first !== undefined && spec.versions.every((v) => v.schema !== undefined && semanticEqual(v.schema, first));
}

/** Every default must be valid by the schema it stands in (else every object left without the field would be refused). */
function defaultErrors(schema: Schema, path: string, errors: FieldError[], compiled: Map<string, CustomResourceSchema>): void {
  visitSchema(schema, path, (s, at) => {
    if (s.default === undefined) return;
    const key = JSON.stringify(s);
    let checker = compiled.get(key);
    if (!checker) compiled.set(key, (checker = new CustomResourceSchema(s as Schema, false)));
    for (const e of checker.validateValue(s.default)) {
      errors.push({ ...e, field: e.field ? `${at}.default.${e.field}` : `${at}.default` });
    }
  });
}

/** Every pattern in a schema must compile, as Kubernetes checks a CRD's patterns (its paths name properties as properties[name]). */
function patternErrors(schema: Schema, path: string, errors: FieldError[]): void {
  visitSchema(
    schema,
    path,
    (s, at) => {
      if (typeof s.pattern !== 'string') return;
      try {
        goRegExp(s.pattern);
      } catch (err) {
        errors.push({ type: 'FieldValueInvalid', field: `${at}.pattern`, value: s.pattern, detail: `must be a valid regular expression, but isn't: ${(err as Error).message}` });
      }
    },
    true,
  );
}
