// What every write checks of its request before the store sees it: the
// options (dryRun, fieldManager), that the body is an object of the kind and
// version of its endpoint, and the fields it sets (fieldValidation, and Go's
// types for a built-in kind, and the keys the body repeats).
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
import { bodyDuplicates, repeatsAny, type BodyDuplicates } from '../http/duplicate-fields.js';

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

/** fieldValidation=Strict's refusal of unknown and repeated fields. */
export class StrictDecodingError extends BadRequestError {
  /**
   * `fields`: `unknown field "spec.foo"`, `duplicate field "spec.paused"` ...;
   * `yamlLines`: a YAML body's repeated keys (`line 14: key "paused" already
   * set in map`), which Go's YAML decoder reports first, as one error.
   */
  constructor(readonly fieldErrors: string[], yamlLines: string[] = []) {
    const yaml = yamlLines.length > 0 ? `yaml: unmarshal errors:\n  ${yamlLines.join('\n  ')}` : '';
    super(`strict decoding error: ${[...(yaml ? [yaml] : []), ...fieldErrors].join(', ')}`);
  }
}

/** What fieldValidation reports, in the order kube-apiserver reports it. */
interface FieldProblems {
  fields: string[];
  yamlLines: string[];
}

/**
 * The unknown fields of a body and the keys it repeats, as kube-apiserver
 * lists them. A built-in kind's JSON create or update (`inDocumentOrder`)
 * is decoded straight into its Go type: its problems come in the text's
 * order, and a repeat of an unknown field (or of anything inside one) is not
 * reported, the decoder having skipped it. Otherwise the repeats come first
 * (a YAML body's as one YAML error), found as the body is read, and the
 * unknown fields after, found in JSON whose maps' keys Go has sorted (a
 * patch's result, a custom resource, YAML turned into JSON). `before`: what
 * the request's own form has wrong (a JSON patch's ops).
 */
function fieldProblems(unknown: string[], repeats: BodyDuplicates | undefined, inDocumentOrder: boolean, before: string[]): FieldProblems {
  if (inDocumentOrder && repeats?.kind === 'json') {
    const inside = (path: string, field: string) => path === field || path.startsWith(`${field}.`) || path.startsWith(`${field}[`);
    const found = [
      ...unknown.map((f) => ({ at: repeats.firstAt.get(f) ?? Infinity, text: `unknown field "${f}"` })),
      ...repeats.fields.filter((d) => !unknown.some((f) => inside(d.path, f))).map((d) => ({ at: d.at, text: `duplicate field "${d.path}"` })),
    ];
    found.sort((a, b) => a.at - b.at);
    return { fields: [...before, ...found.map((p) => p.text)], yamlLines: [] };
  }
  const ordered = inDocumentOrder && !repeats ? unknown : [...unknown].sort(compareFieldPaths);
  const unknownFields = ordered.map((f) => `unknown field "${f}"`);
  if (repeats?.kind === 'yaml') return { fields: [...before, ...unknownFields], yamlLines: repeats.lines };
  const duplicates = repeats ? repeats.fields.map((d) => `duplicate field "${d.path}"`) : [];
  return { fields: [...before, ...duplicates, ...unknownFields], yamlLines: [] };
}

/** A field path's members and list indexes: "spec.containers[0].name" is spec, containers, 0, name. */
function pathSegments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of path.split('.')) {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    if (m[1]) out.push(m[1]);
    for (const index of m[2]!.matchAll(/\[(\d+)\]/g)) out.push(Number(index[1]));
  }
  return out;
}

/** The order of a walk over a document whose maps' keys are sorted: member by member, names as strings, indexes as numbers. */
function compareFieldPaths(a: string, b: string): number {
  const x = pathSegments(a);
  const y = pathSegments(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i]!;
    const q = y[i]!;
    if (p === q) continue;
    if (typeof p === 'number' && typeof q === 'number') return p - q;
    return String(p) < String(q) ? -1 : 1;
  }
  return x.length - y.length;
}

/** What one body checked by fieldValidation is, beyond its fields. */
export interface SentBody {
  /** The body as the client sent it, whose repeated keys are reported: by default the object checked. */
  body?: unknown;
  /** Problems of the request's own form, reported before the fields' (a JSON patch's ops). */
  before?: string[];
  /** The object checked is a patch's result. */
  patched?: boolean;
}

/** Server-side field validation (fieldValidation=Strict|Warn|Ignore), returning warnings to send. */
export function fieldValidation(r: BodyContext, obj: KubeObject, form: BodyForm = 'object', sent: SentBody = {}): string[] {
  const mode = r.query.get('fieldValidation') ?? 'Warn';
  if (mode !== 'Strict' && mode !== 'Warn' && mode !== 'Ignore') {
    throw new BadRequestError(`fieldValidation parameter unsupported: ${mode}; supported values are Ignore, Warn, Strict`);
  }
  const unknown = r.semantics.dropUnknownFields(r.versions.info, r.versions.version, obj, form);
  if (mode === 'Ignore') return [];
  const body = sent.body ?? obj;
  // An applied configuration's repeats are reported before anything else is checked (appliedDuplicates).
  const repeats = form === 'applied' ? undefined : bodyDuplicates(body);
  const before = sent.before ?? [];
  if (unknown.length === 0 && before.length === 0 && !repeatsAny(repeats)) return [];
  const problems = fieldProblems(unknown, repeats, form === 'object' && !sent.patched && !r.versions.info.crd && repeats?.kind !== 'yaml', before);
  if (mode === 'Strict') throw new StrictDecodingError(problems.fields, problems.yamlLines);
  return [...problems.yamlLines, ...problems.fields];
}

/**
 * A JSON patch's ops' own problems, as kube-apiserver reports them: a
 * member an op does not have (`json patch unknown field "[0].foo"`), and one
 * an op repeats (`json patch duplicate field "[1].path"`), in the text's
 * order.
 */
export function jsonPatchProblems(patch: unknown): string[] {
  if (!Array.isArray(patch)) return [];
  const repeats = bodyDuplicates(patch);
  const found: { at: number; text: string }[] = [];
  patch.forEach((op, i) => {
    if (!isPlainObject(op)) return;
    for (const k of Object.keys(op)) {
      if (jsonPatchMembers.has(k)) continue;
      const path = `[${i}].${k}`;
      found.push({ at: repeats?.kind === 'json' ? (repeats.firstAt.get(path) ?? Infinity) : Infinity, text: `json patch unknown field "${path}"` });
    }
  });
  if (repeats?.kind === 'json') {
    for (const d of repeats.fields) if (/^\[\d+\]\.[^.[]*$/.test(d.path)) found.push({ at: d.at, text: `json patch duplicate field "${d.path}"` });
  }
  found.sort((a, b) => a.at - b.at);
  return found.map((p) => p.text);
}

const jsonPatchMembers = new Set(['op', 'path', 'value', 'from']);

/**
 * An applied configuration's repeated keys under fieldValidation: refused
 * under Strict before anything else is checked, as server-side apply decodes
 * the YAML strictly first; otherwise returned as warnings.
 */
export function appliedDuplicates(r: BodyContext, applied: unknown): string[] {
  const mode = r.query.get('fieldValidation') ?? 'Warn';
  const repeats = mode === 'Ignore' ? undefined : bodyDuplicates(applied);
  if (!repeatsAny(repeats)) return [];
  const lines = repeats.kind === 'yaml' ? repeats.lines : repeats.fields.map((d) => `duplicate field "${d.path}"`);
  if (mode === 'Strict') throw new BadRequestError(`error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  ${lines.join('\n  ')}`);
  return lines;
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
