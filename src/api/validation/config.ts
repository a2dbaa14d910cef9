// ConfigMap and Secret validation: key names, the 1 MiB size limit, type
// specific keys, and immutability.

import { goJsonSyntaxError } from '../go-json-syntax.js';
import { jsonKindName } from '../patch/patch-errors.js';
import type { FieldError } from '../errors.js';
import type { KubeObject } from '../object.js';
import { forbidden, invalid, key, required, tooLong } from './field-errors.js';
import { isConfigMapKey } from './identifiers.js';
import { asObject, asString } from './json-values.js';
import { nameIsDNSSubdomain, validateImmutableField, validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import { semanticEqual } from './semantic-equal.js';

export const maxSecretSize = 1024 * 1024;
const immutableMessage = 'field is immutable when `immutable` is set';
const redacted = '<secret contents redacted>';

function decodedLength(base64: unknown): number {
  return Buffer.from(asString(base64), 'base64').length;
}

function decodedText(base64: unknown): string {
  return Buffer.from(asString(base64), 'base64').toString('utf8');
}

function validateImmutableData(obj: KubeObject, old: KubeObject, fields: readonly string[]): FieldError[] {
  if (old['immutable'] !== true) return [];
  const errs: FieldError[] = [];
  if (obj['immutable'] !== true) errs.push(forbidden('immutable', immutableMessage));
  for (const field of fields) if (!semanticEqual(obj[field], old[field])) errs.push(forbidden(field, immutableMessage));
  return errs;
}

export function validateConfigMap(cm: KubeObject, old?: KubeObject): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(cm.metadata, old.metadata) : [];
  if (old) errs.push(...validateImmutableData(cm, old, ['data', 'binaryData']));
  errs.push(...validateObjectMeta(cm.metadata, { namespaced: true, nameRule: nameIsDNSSubdomain }));
  const data = asObject(cm['data']) ?? {};
  const binaryData = asObject(cm['binaryData']) ?? {};
  let total = 0;
  for (const [k, v] of Object.entries(data)) {
    for (const msg of isConfigMapKey(k)) errs.push(invalid(key('data', k), k, msg));
    if (k in binaryData) errs.push(invalid(key('data', k), k, 'duplicate of key present in binaryData'));
    total += Buffer.byteLength(asString(v));
  }
  for (const [k, v] of Object.entries(binaryData)) {
    for (const msg of isConfigMapKey(k)) errs.push(invalid(key('binaryData', k), k, msg));
    total += decodedLength(v);
  }
  // An empty field path is printed as "[]": the error is about the whole object.
  if (total > maxSecretSize) errs.push(tooLong('[]', maxSecretSize));
  return errs;
}

/** What json.Unmarshal into a map[string]interface{} says of the text (Go's words: nothing of the text itself is quoted), or undefined. */
function isJSONObject(text: string): string | undefined {
  const syntax = goJsonSyntaxError(text);
  if (syntax) return syntax;
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || (typeof parsed === 'object' && !Array.isArray(parsed))) return undefined;
  return `json: cannot unmarshal ${jsonKindName(parsed)} into Go value of type map[string]interface {}`;
}

export function validateSecret(secret: KubeObject, old?: KubeObject): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(secret.metadata, old.metadata) : [];
  if (old) {
    errs.push(...validateImmutableField(secret['type'], old['type'], 'type'));
    errs.push(...validateImmutableData(secret, old, ['data']));
  }
  errs.push(...validateObjectMeta(secret.metadata, { namespaced: true, nameRule: nameIsDNSSubdomain }));
  const data = asObject(secret['data']) ?? {};
  let total = 0;
  for (const [k, v] of Object.entries(data)) {
    for (const msg of isConfigMapKey(k)) errs.push(invalid(key('data', k), k, msg));
    total += decodedLength(v);
  }
  if (total > maxSecretSize) errs.push(tooLong('data', maxSecretSize));
  const has = (k: string): boolean => k in data;
  switch (asString(secret['type'])) {
    case 'kubernetes.io/service-account-token':
      if (!asString(secret.metadata?.annotations?.['kubernetes.io/service-account.name'])) {
        errs.push(required('metadata.annotations[kubernetes.io/service-account.name]'));
      }
      break;
    case 'kubernetes.io/dockercfg':
    case 'kubernetes.io/dockerconfigjson': {
      const k = secret['type'] === 'kubernetes.io/dockercfg' ? '.dockercfg' : '.dockerconfigjson';
      if (!has(k)) {
        errs.push(required(key('data', k)));
        break;
      }
      const problem = isJSONObject(decodedText(data[k]));
      if (problem) errs.push(invalid(key('data', k), redacted, problem));
      break;
    }
    case 'kubernetes.io/basic-auth':
      if (!has('username') && !has('password')) errs.push(required('data[username]'), required('data[password]'));
      break;
    case 'kubernetes.io/ssh-auth':
      if (decodedLength(data['ssh-privatekey']) === 0) errs.push(required('data[ssh-privatekey]'));
      break;
    case 'kubernetes.io/tls':
      if (!has('tls.crt')) errs.push(required('data[tls.crt]'));
      if (!has('tls.key')) errs.push(required('data[tls.key]'));
      break;
  }
  return errs;
}
