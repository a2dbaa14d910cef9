// What every write checks of its request before the store sees it: the
// options (dryRun, fieldManager), that the body is an object of the kind and
// version of its endpoint, and the fields it sets (fieldValidation, and Go's
// types for a built-in kind).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequestError, InvalidError, type FieldError } from '../../api/errors.js';
import { isPlainObject, type KubeObject } from '../../api/object.js';
import { fieldManagerFromUserAgent } from '../../api/apply/index.js';
import { remembered } from '../../api/remembered.js';
import type { ResourceInfo } from '../../api/resources.js';
import { GoDecodeError } from '../../api/schema/go-decode.js';
import { tooLong } from '../../api/validation/field-errors.js';
import type { WriteOptions } from '../registry/store.js';
import type { BodyForm, Semantics } from './semantics.js';

/** What checking a body's fields needs: the request's query (fieldValidation) and the kind at the request's version. */
export interface BodyContext {
  query: URLSearchParams;
  semantics: Semantics;
  versions: { readonly info: ResourceInfo; readonly version: string };
}

/** The options of a write: kube-apiserver checks them as CreateOptions, UpdateOptions or PatchOptions, which its errors name. */
type OptionsKind = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions';

export function writeOptions(q: URLSearchParams, subresource: string, defaultManager: string, kind: OptionsKind): WriteOptions {
  const dryRun = q.getAll('dryRun');
  for (const d of dryRun) if (d !== 'All') throw new BadRequestError(`Invalid dry run value: ${d}; the only supported value is All`);
  const manager = q.get('fieldManager');
  // Clients send the same few managers again and again: each is checked once.
  if (manager !== null) remembered(checkedManagers, manager, 256, () => checkFieldManager(manager, kind));
  return { dryRun: dryRun.length > 0, fieldManager: manager ?? defaultManager, subresource };
}

/** Field managers seen lately and found valid. */
const checkedManagers = new Map<string, true>();

/** kube-apiserver's limit on a field manager's name, in bytes. */
const fieldManagerMaxBytes = 128;

/** What ValidateFieldManager refuses: a name over 128 bytes, or with a character that does not print; 422 on the options. */
function checkFieldManager(manager: string, kind: OptionsKind): true {
  const errors: FieldError[] = [];
  if (Buffer.byteLength(manager) > fieldManagerMaxBytes) errors.push(tooLong('fieldManager', fieldManagerMaxBytes));
  let at = 0;
  for (const char of manager) {
    // Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
    if (!/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(char)) {
      const code = `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
      errors.push({ type: 'FieldValueInvalid', field: 'fieldManager', value: manager, detail: `invalid character ${code} (at position ${at})` });
    }
    at += Buffer.byteLength(char);
  }
  if (errors.length > 0) throw new InvalidError(kind, 'meta.k8s.io', '', errors);
  return true;
}

/** Managers derived from user agents, which few clients vary. */
const managersByUserAgent = new Map<string, string>();

/** kubectl's user agent "kubectl/v1.33.0 (linux/amd64) kubernetes/abcdef" gives the default manager "kubectl", as Kubernetes derives it. */
export function managerFromUserAgent(req: IncomingMessage): string {
  return remembered(managersByUserAgent, req.headers['user-agent'] ?? '', 256, (agent) => fieldManagerFromUserAgent(agent) || 'unknown');
}

export function requireObject(body: unknown): KubeObject {
  if (!isPlainObject(body)) throw new BadRequestError('the body of the request must be a JSON or YAML object');
  const meta = body.metadata;
  if (meta === undefined) body.metadata = {};
  else if (!isPlainObject(meta)) throw new BadRequestError('metadata must be an object');
  return body as KubeObject;
}

/** Checks apiVersion and kind of a body against the endpoint it was sent to. */
export function checkTypeMeta(obj: KubeObject, expectedApiVersion: string, expectedKind: string): void {
  if (obj.kind !== undefined && obj.kind !== expectedKind) {
    throw new BadRequestError(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${expectedApiVersion})` + (obj.kind !== expectedKind ? `; kind ${String(obj.kind)} is not ${expectedKind}` : ''));
  }
  if (obj.apiVersion !== undefined && obj.apiVersion !== expectedApiVersion) {
    throw new BadRequestError(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${expectedApiVersion})`);
  }
}

/** fieldValidation=Strict's refusal of unknown fields. */
export class StrictDecodingError extends BadRequestError {
  constructor(readonly fieldErrors: string[]) {
    super(`strict decoding error: ${fieldErrors.join(', ')}`);
  }
}

/** Server-side field validation (fieldValidation=Strict|Warn|Ignore), returning warnings to send. */
export function fieldValidation(r: BodyContext, obj: KubeObject, form: BodyForm = 'object'): string[] {
  const mode = r.query.get('fieldValidation') ?? 'Warn';
  if (mode !== 'Strict' && mode !== 'Warn' && mode !== 'Ignore') {
    throw new BadRequestError(`fieldValidation parameter unsupported: ${mode}; supported values are Ignore, Warn, Strict`);
  }
  const unknown = r.semantics.dropUnknownFields(r.versions.info, r.versions.version, obj, form);
  if (mode === 'Ignore' || unknown.length === 0) return [];
  if (mode === 'Strict') throw new StrictDecodingError(unknown.map((f) => `unknown field "${f}"`));
  return unknown.map((f) => `unknown field "${f}"`);
}

/**
 * fieldValidation of a body to decode (a create's, an update's, an apply's):
 * a value its field's Go type does not take is a 400, worded as
 * kube-apiserver's decoder words it (`Pod in version "v1" cannot be handled
 * as a Pod: json: cannot unmarshal ...`).
 */
export function bodyFieldValidation(r: BodyContext, obj: KubeObject, opts: { decoded: boolean } = { decoded: true }): string[] {
  try {
    return fieldValidation(r, obj, opts.decoded ? 'object' : 'applied');
  } catch (err) {
    // A create's or update's body is decoded, and its strict errors come out of the decoder as its type errors do; an apply's are the field manager's.
    const decoding = err instanceof GoDecodeError || (err instanceof StrictDecodingError && opts.decoded);
    if (!decoding) throw err;
    const kind = r.versions.info.kind;
    throw new BadRequestError(`${kind} in version ${JSON.stringify(r.versions.version)} cannot be handled as a ${kind}: ${(err as Error).message}`);
  }
}

/** Warnings for the client (fieldValidation=Warn's unknown fields), as kube-apiserver sends them. */
export function setWarnings(res: ServerResponse, warnings: string[]): void {
  if (!warnings.length) return;
  // Added to those the response has already (a deprecated version's, say).
  const existing = res.getHeader('Warning');
  const prior = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  res.setHeader('Warning', [...prior, ...warnings.map((w) => `299 - ${JSON.stringify(w)}`)]);
}
