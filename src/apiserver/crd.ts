// Custom resources: a CustomResourceDefinition, once stored, becomes a served
// resource with its own generic store, schema validation, defaulting and
// pruning from its structural schema, and its printer columns.
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';
import type { FieldError } from '../api/errors.js';
import { isPlainObject, type KubeObject } from '../api/object.js';
import type { PrinterColumn, ResourceInfo } from '../api/resources.js';
import type { Schema } from '../api/schema/types.js';

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
    ...(storage?.additionalPrinterColumns?.length ? { printerColumns: storage.additionalPrinterColumns } : {}),
  };
}

/** The scale paths of a CRD's version (its storage version's when the version names none). */
export function crdScalePaths(spec: CrdSpec, version?: string): CrdScalePaths | undefined {
  const storage = spec.versions.find((v) => v.storage) ?? spec.versions[0];
  const asked = spec.versions.find((v) => v.name === version);
  return asked?.subresources?.scale ?? storage?.subresources?.scale;
}

/** Sets status the way the apiextensions controllers do once names are accepted. */
export function establishedStatus(crd: KubeObject, now: string): Record<string, unknown> {
  const spec = crdSpec(crd);
  const names = spec?.names ?? {};
  const cond = (type: string, reason: string, message: string) => ({ type, status: 'True', lastTransitionTime: now, reason, message });
  return {
    conditions: [cond('NamesAccepted', 'NoConflicts', 'no conflicts found'), cond('Established', 'InitialNamesAccepted', 'the initial names have been accepted')],
    acceptedNames: { ...names, listKind: spec ? crdResourceInfo(spec).listKind : undefined, singular: spec ? crdResourceInfo(spec).singular : undefined },
    storedVersions: spec ? [crdResourceInfo(spec).versions[0]] : [],
  };
}

const require = createRequire(import.meta.url);
/** ajv, loaded when the first schema is compiled: a server without custom resources does not load it at startup (about 30 ms of a cold start). */
let ajvModule: typeof import('ajv') | undefined;

/** Validates, defaults and prunes custom resources of one version by its structural schema. */
export class CustomResourceSchema {
  private readonly validateFn: ValidateFunction | undefined;

  constructor(private readonly schema: Schema | undefined) {
    if (!schema) return;
    ajvModule ??= require('ajv') as typeof import('ajv');
    const ajv = new ajvModule.Ajv({ strict: false, useDefaults: true, allErrors: true, validateFormats: false });
    this.validateFn = ajv.compile(stripForAjv(schema));
  }

  /** Drops fields the schema does not declare (unless it preserves unknown fields), as Kubernetes prunes. */
  prune(obj: KubeObject): void {
    if (!this.schema) return;
    const rest: Record<string, unknown> = { ...obj };
    delete rest.apiVersion;
    delete rest.kind;
    delete rest.metadata;
    pruneValue(rest, this.schema, true);
    for (const k of Object.keys(obj)) if (k !== 'apiVersion' && k !== 'kind' && k !== 'metadata' && !(k in rest)) delete obj[k];
  }

  /** Fills defaults and returns violations, with Kubernetes' field paths. */
  validate(obj: KubeObject): FieldError[] {
    if (!this.validateFn) return [];
    const body: Record<string, unknown> = { ...obj };
    delete body.metadata;
    delete body.apiVersion;
    delete body.kind;
    const ok = this.validateFn(body);
    for (const k of Object.keys(body)) obj[k] = body[k];
    if (ok) return [];
    return (this.validateFn.errors ?? []).map((e) => {
      const field = e.instancePath.split('/').filter(Boolean).map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : (i ? '.' : '') + p)).join('');
      const params = e.params as Record<string, unknown>;
      if (e.keyword === 'required') return { type: 'FieldValueRequired', field: [field, String(params.missingProperty)].filter(Boolean).join('.'), detail: '' } as FieldError;
      if (e.keyword === 'enum') {
        const allowed = (params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ');
        return { type: 'FieldValueNotSupported', field, value: valueAt(body, e.instancePath), detail: `supported values: ${allowed}` } as FieldError;
      }
      if (e.keyword === 'type') return { type: 'FieldValueTypeInvalid', field, value: valueAt(body, e.instancePath), detail: `must be of type ${String(params.type)}` } as FieldError;
      return { type: 'FieldValueInvalid', field, value: valueAt(body, e.instancePath), detail: e.message ?? 'invalid' } as FieldError;
    });
  }
}

function valueAt(root: unknown, pointer: string): unknown {
  let cur = root;
  for (const p of pointer.split('/').filter(Boolean)) cur = isPlainObject(cur) ? cur[p] : Array.isArray(cur) ? cur[Number(p)] : undefined;
  return cur;
}

/** x-kubernetes-int-or-string means "integer or string" to a JSON Schema validator. */
function stripForAjv(schema: Schema): object {
  const walk = (s: Schema): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s)) {
      if (k.startsWith('x-kubernetes-') || k === 'description') continue;
      if (k === 'properties' && isPlainObject(v)) out.properties = Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, walk(pv as Schema)]));
      else if ((k === 'items' || k === 'additionalProperties') && isPlainObject(v)) out[k] = walk(v as Schema);
      else if ((k === 'allOf' || k === 'anyOf' || k === 'oneOf') && Array.isArray(v)) out[k] = v.map((x) => walk(x as Schema));
      else if (k === 'not' && isPlainObject(v)) out.not = walk(v as Schema);
      else out[k] = v;
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

function pruneValue(value: unknown, schema: Schema, isRoot = false): void {
  if (schema['x-kubernetes-preserve-unknown-fields'] && !schema.properties) return;
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) pruneValue(item, schema.items);
    return;
  }
  if (!isPlainObject(value)) return;
  if (schema.properties) {
    for (const k of Object.keys(value)) {
      const sub = schema.properties[k];
      if (sub) pruneValue(value[k], sub);
      else if (!schema['x-kubernetes-preserve-unknown-fields']) delete value[k];
    }
  } else if (isPlainObject(schema.additionalProperties)) {
    for (const k of Object.keys(value)) pruneValue(value[k], schema.additionalProperties as Schema);
  } else if (!isRoot && schema.type === 'object' && !schema.additionalProperties && !schema['x-kubernetes-embedded-resource']) {
    for (const k of Object.keys(value)) delete value[k];
  }
}

/** A CRD's own rules beyond its schema: the name ties plural and group together. */
export function validateCrd(crd: KubeObject): FieldError[] {
  const spec = crdSpec(crd);
  if (!spec) return [{ type: 'FieldValueRequired', field: 'spec', detail: 'group, names, scope and versions are required' }];
  const errors: FieldError[] = [];
  if (!spec.group) errors.push({ type: 'FieldValueRequired', field: 'spec.group', detail: '' });
  if (!spec.names.plural) errors.push({ type: 'FieldValueRequired', field: 'spec.names.plural', detail: '' });
  if (!spec.names.kind) errors.push({ type: 'FieldValueRequired', field: 'spec.names.kind', detail: '' });
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') errors.push({ type: 'FieldValueNotSupported', field: 'spec.scope', value: spec.scope, detail: 'supported values: "Cluster", "Namespaced"' });
  if (spec.group && spec.names.plural && crd.metadata.name !== `${spec.names.plural}.${spec.group}`) {
    errors.push({ type: 'FieldValueInvalid', field: 'metadata.name', value: crd.metadata.name, detail: 'must be spec.names.plural+"."+spec.group' });
  }
  const storage = spec.versions.filter((v) => v.storage);
  if (storage.length !== 1) errors.push({ type: 'FieldValueInvalid', field: 'spec.versions', value: spec.versions.map((v) => v.name), detail: 'must have exactly one version marked as storage version' });
  return errors;
}
