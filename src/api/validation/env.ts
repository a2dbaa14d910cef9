// Environment variables of a container: names, and values taken from the
// downward API, resources, config maps or secrets.

import type { FieldError } from '../errors.js';
import { child, index, invalid, notSupported, required } from './field-errors.js';
import { isConfigMapKey, isDNS1123Subdomain, isQualifiedName, isRelaxedEnvVarName } from './identifiers.js';
import { asObject, asString, objectsOf, type JsonObject } from './json-values.js';

const downwardAPILabels = new Set([
  'metadata.annotations',
  'metadata.labels',
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.restartPolicy',
  'spec.serviceAccountName',
  'spec.schedulerName',
  'status.phase',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
]);

export const envFieldPathExpressions = [
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
];

/** validateObjectFieldSelector for the downward API (env and volumes). */
export function validateObjectFieldSelector(ref: JsonObject, expressions: readonly string[], path: string): FieldError[] {
  const apiVersion = asString(ref['apiVersion']);
  if (!apiVersion) return [required(child(path, 'apiVersion'))];
  const fieldPath = asString(ref['fieldPath']);
  if (!fieldPath) return [required(child(path, 'fieldPath'))];
  const subscripted = /^(.+)\['(.*)'\]$/.exec(fieldPath);
  let conversionError: string | undefined;
  if (apiVersion !== 'v1') conversionError = `unsupported pod version: ${apiVersion}`;
  else if (subscripted && subscripted[1] !== 'metadata.annotations' && subscripted[1] !== 'metadata.labels') conversionError = `field label does not support subscript: ${fieldPath}`;
  else if (!subscripted && !downwardAPILabels.has(fieldPath) && fieldPath !== 'spec.host') conversionError = `field label not supported: ${fieldPath}`;
  if (conversionError) return [invalid(child(path, 'fieldPath'), fieldPath, `error converting fieldPath: ${conversionError}`)];
  const internal = fieldPath === 'spec.host' ? 'spec.nodeName' : fieldPath;
  if (subscripted) {
    const subscript = subscripted[2] as string;
    const name = subscripted[1] === 'metadata.annotations' ? subscript.toLowerCase() : subscript;
    return isQualifiedName(name).map((msg) => invalid(path, name, msg));
  }
  if (!expressions.includes(internal)) return [notSupported(child(path, 'fieldPath'), internal, [...expressions].sort())];
  return [];
}

const containerResourceFields = ['limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage'];

function validateResourceFieldRef(ref: JsonObject, path: string): FieldError[] {
  const resource = asString(ref['resource']);
  if (!resource) return [required(child(path, 'resource'))];
  if (!containerResourceFields.includes(resource) && !/^(limits|requests)\.hugepages-/.test(resource)) {
    return [notSupported(child(path, 'resource'), resource, containerResourceFields)];
  }
  return [];
}

function validateKeySelector(ref: JsonObject, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = asString(ref['name']);
  if (name) for (const msg of isDNS1123Subdomain(name)) errs.push(invalid(child(path, 'name'), name, msg));
  const k = asString(ref['key']);
  if (!k) errs.push(required(child(path, 'key')));
  else for (const msg of isConfigMapKey(k)) errs.push(invalid(child(path, 'key'), k, msg));
  return errs;
}

export function validateEnv(env: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  objectsOf(env).forEach((ev, i) => {
    const p = index(path, i);
    const name = asString(ev['name']);
    if (!name) errs.push(required(child(p, 'name')));
    for (const msg of isRelaxedEnvVarName(name)) errs.push(invalid(child(p, 'name'), name, msg));
    const valueFrom = asObject(ev['valueFrom']);
    if (!valueFrom) return;
    const fromPath = child(p, 'valueFrom');
    let sources = 0;
    const fieldRef = asObject(valueFrom['fieldRef']);
    if (fieldRef) {
      sources++;
      errs.push(...validateObjectFieldSelector(fieldRef, envFieldPathExpressions, child(fromPath, 'fieldRef')));
    }
    const resourceFieldRef = asObject(valueFrom['resourceFieldRef']);
    if (resourceFieldRef) {
      sources++;
      errs.push(...validateResourceFieldRef(resourceFieldRef, child(fromPath, 'resourceFieldRef')));
    }
    for (const kind of ['configMapKeyRef', 'secretKeyRef']) {
      const ref = asObject(valueFrom[kind]);
      if (!ref) continue;
      sources++;
      errs.push(...validateKeySelector(ref, child(fromPath, kind)));
    }
    if (sources === 0) errs.push(invalid(fromPath, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    else if (asString(ev['value'])) errs.push(invalid(fromPath, '', 'may not be specified when `value` is not empty'));
    else if (sources > 1) errs.push(invalid(fromPath, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

export function validateEnvFrom(envFrom: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  objectsOf(envFrom).forEach((source, i) => {
    const p = index(path, i);
    const prefix = asString(source['prefix']);
    if (prefix) for (const msg of isRelaxedEnvVarName(prefix)) errs.push(invalid(child(p, 'prefix'), prefix, msg));
    let sources = 0;
    for (const kind of ['configMapRef', 'secretRef']) {
      const ref = asObject(source[kind]);
      if (!ref) continue;
      sources++;
      const name = asString(ref['name']);
      if (!name) errs.push(required(child(p, kind, 'name')));
      else for (const msg of isDNS1123Subdomain(name)) errs.push(invalid(child(p, kind, 'name'), name, msg));
    }
    if (sources === 0) errs.push(invalid(p, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (sources > 1) errs.push(invalid(p, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}
