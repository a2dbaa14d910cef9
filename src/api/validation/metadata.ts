// ObjectMeta validation (apimachinery's api/validation/objectmeta.go): names,
// namespaces, labels, annotations, owner references and finalizers, on create
// and on update.

import type { FieldError } from '../errors.js';
import type { ObjectMeta } from '../object.js';
import { child, fieldImmutableErrorMsg, forbidden, invalid, isNegativeErrorMsg, required, tooLong } from './field-errors.js';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue, isValidPathSegmentName } from './identifiers.js';
import { asArray, asObject, asString } from './json-values.js';
import { semanticEqual } from './semantic-equal.js';

/** A name rule: the messages for `name`, or for a generateName prefix when `prefix` is set. */
export type NameRule = (name: string, prefix: boolean) => string[];

/** generateName may end in '-': validate it as if a suffix followed. */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? `${name.slice(0, -1)}a` : name;
}

export const nameIsDNSSubdomain: NameRule = (name, prefix) => isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);
export const nameIsDNSLabel: NameRule = (name, prefix) => isDNS1123Label(prefix ? maskTrailingDash(name) : name);
export const nameIsDNS1035Label: NameRule = (name, prefix) => isDNS1035Label(prefix ? maskTrailingDash(name) : name);
/** RBAC objects only need names that are one URL path segment. */
export const nameIsPathSegment: NameRule = (name, prefix) => {
  if (!prefix) return isValidPathSegmentName(name);
  return ['/', '%'].filter((c) => name.includes(c)).map((c) => `may not contain '${c}'`);
};

export const totalAnnotationSizeLimitBytes = 256 * 1024;

export function validateLabels(labels: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(asObject(labels) ?? {})) {
    for (const msg of isQualifiedName(k)) errs.push(invalid(path, k, msg));
    const value = typeof v === 'string' ? v : String(v);
    for (const msg of isValidLabelValue(value)) errs.push(invalid(path, value, msg));
  }
  return errs;
}

export function validateAnnotations(annotations: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(asObject(annotations) ?? {})) {
    // Annotation keys are qualified names whose case does not matter.
    for (const msg of isQualifiedName(k.toLowerCase())) errs.push(invalid(path, k, msg));
    total += Buffer.byteLength(k) + Buffer.byteLength(asString(v));
  }
  if (total > totalAnnotationSizeLimitBytes) errs.push(tooLong(path, totalAnnotationSizeLimitBytes));
  return errs;
}

function parseGroupVersion(apiVersion: string): { group: string; version: string } | undefined {
  if (apiVersion === '') return { group: '', version: '' };
  const parts = apiVersion.split('/');
  if (parts.length === 1) return { group: '', version: apiVersion };
  if (parts.length === 2) return { group: parts[0] as string, version: parts[1] as string };
  return undefined;
}

export function validateOwnerReferences(refs: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const list = asArray(refs);
  let firstController = '';
  for (const item of list) {
    const ref = asObject(item) ?? {};
    const apiVersion = asString(ref['apiVersion']);
    const kind = asString(ref['kind']);
    const gv = parseGroupVersion(apiVersion);
    const version = gv?.version ?? '';
    if (!version) errs.push(invalid(child(path, 'apiVersion'), apiVersion, 'version must not be empty'));
    if (!kind) errs.push(invalid(child(path, 'kind'), kind, 'must not be empty'));
    if (!asString(ref['name'])) errs.push(invalid(child(path, 'name'), asString(ref['name']), 'must not be empty'));
    if (!asString(ref['uid'])) errs.push(invalid(child(path, 'uid'), asString(ref['uid']), 'must not be empty'));
    if (gv?.group === '' && version === 'v1' && kind === 'Event') errs.push(invalid(path, ref, '/v1, Kind=Event is disallowed from being an owner'));
    if (ref['controller'] === true) {
      const current = `${kind}/${asString(ref['name'])}`;
      if (firstController) {
        errs.push(invalid(path, list, `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`));
      } else {
        firstController = current;
      }
    }
  }
  return errs;
}

export function validateFinalizers(finalizers: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const list = asArray(finalizers).map(asString);
  for (const f of list) for (const msg of isQualifiedName(f)) errs.push(invalid(path, f, msg));
  if (list.includes('orphan') && list.includes('foregroundDeletion')) {
    errs.push(invalid(path, list, 'finalizer orphan and foregroundDeletion cannot be both set'));
  }
  return errs;
}

export interface ObjectMetaRules {
  /** Whether the kind lives in a namespace; undefined skips the namespace check. */
  namespaced: boolean | undefined;
  nameRule: NameRule;
}

/** ValidateObjectMeta for a create. */
export function validateObjectMeta(meta: ObjectMeta | undefined, rules: ObjectMetaRules, path = 'metadata'): FieldError[] {
  const m = meta ?? {};
  const errs: FieldError[] = [];
  const generateName = asString(m.generateName);
  if (generateName) for (const msg of rules.nameRule(generateName, true)) errs.push(invalid(child(path, 'generateName'), generateName, msg));
  const name = asString(m.name);
  if (!name) errs.push(required(child(path, 'name'), 'name or generateName is required'));
  else for (const msg of rules.nameRule(name, false)) errs.push(invalid(child(path, 'name'), name, msg));
  const namespace = asString(m.namespace);
  if (rules.namespaced === true) {
    if (!namespace) errs.push(required(child(path, 'namespace')));
    else for (const msg of nameIsDNSLabel(namespace, false)) errs.push(invalid(child(path, 'namespace'), namespace, msg));
  } else if (rules.namespaced === false && namespace) {
    errs.push(forbidden(child(path, 'namespace'), 'not allowed on this type'));
  }
  if (typeof m.generation === 'number' && m.generation < 0) errs.push(invalid(child(path, 'generation'), m.generation, isNegativeErrorMsg));
  errs.push(...validateLabels(m.labels, child(path, 'labels')));
  errs.push(...validateAnnotations(m.annotations, child(path, 'annotations')));
  errs.push(...validateOwnerReferences(m.ownerReferences, child(path, 'ownerReferences')));
  errs.push(...validateFinalizers(m.finalizers, child(path, 'finalizers')));
  return errs;
}

export function validateImmutableField(next: unknown, prev: unknown, path: string): FieldError[] {
  return semanticEqual(next, prev) ? [] : [invalid(path, next, fieldImmutableErrorMsg)];
}

/** ValidateObjectMetaUpdate. */
export function validateObjectMetaUpdate(next: ObjectMeta | undefined, prev: ObjectMeta | undefined, path = 'metadata'): FieldError[] {
  const n = next ?? {};
  const p = prev ?? {};
  const errs: FieldError[] = [];
  if (p.deletionTimestamp) {
    const before = new Set(asArray(p.finalizers).map(asString));
    const added = [...new Set(asArray(n.finalizers).map(asString))].filter((f) => !before.has(f)).sort();
    if (added.length > 0) {
      errs.push(
        forbidden(
          child(path, 'finalizers'),
          `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`,
        ),
      );
    }
  }
  if (!asString(n.resourceVersion)) errs.push(invalid(child(path, 'resourceVersion'), asString(n.resourceVersion), 'must be specified for an update'));
  if ((n.generation ?? 0) < (p.generation ?? 0)) errs.push(invalid(child(path, 'generation'), n.generation ?? 0, 'must not be decremented'));
  for (const field of ['name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const) {
    errs.push(...validateImmutableField(n[field], p[field], child(path, field)));
  }
  errs.push(...validateLabels(n.labels, child(path, 'labels')));
  errs.push(...validateAnnotations(n.annotations, child(path, 'annotations')));
  errs.push(...validateOwnerReferences(n.ownerReferences, child(path, 'ownerReferences')));
  return errs;
}
