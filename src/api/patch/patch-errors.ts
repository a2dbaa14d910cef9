// The three ways kube-apiserver answers a patch it cannot apply, kept apart
// because kubectl prints each differently:
//   400 BadRequest  - the patch is not the shape the patch type requires;
//   422 Invalid     - the patch is well formed but cannot be applied (a JSON
//                     patch `test` fails, a path is missing); Kubernetes
//                     replaces the reason with a fixed sentence;
//   500, no reason  - strategic merge patch errors that kube-apiserver passes
//                     through unconverted ("Error from server: map: ... does
//                     not contain declared merge key: name").
import { ApiError, BadRequestError } from '../errors.js';
import type { Status } from '../errors.js';

/** 422 with the sentence kube-apiserver sends; the underlying reason stays in `detail` and `cause` for logs. */
export class PatchRejectedError extends ApiError {
  override name = 'PatchRejectedError';
  constructor(readonly detail: string) {
    super(422, 'Invalid', 'the server rejected our request due to an error in our request', {}, { cause: new Error(detail) });
  }
}

/**
 * A strategic merge patch that the merge itself rejects. kube-apiserver does
 * not convert these errors, so clients see code 500 with the bare message and
 * no reason; `toStatus` keeps that wire form.
 */
export class MalformedPatchError extends ApiError {
  override name = 'MalformedPatchError';
  constructor(message: string) {
    super(500, 'InternalError', message);
  }

  override toStatus(): Status {
    const status = super.toStatus();
    delete status.reason;
    return status;
  }
}

// Messages of k8s.io/apimachinery/pkg/util/mergepatch, which clients match on.
export const badJSONDoc = 'invalid JSON document';
export const noListOfLists = 'lists of lists are not supported';
export const badPatchFormatForPrimitiveList = 'invalid patch format of primitive list';
export const badPatchFormatForRetainKeys = 'invalid patch format of retainKeys';
export const badPatchFormatForSetElementOrderList = 'invalid patch format of setElementOrder list';

export function badRequest(message: string): BadRequestError {
  return new BadRequestError(message);
}

export function noMergeKeyError(map: Record<string, unknown>, mergeKey: string): MalformedPatchError {
  return new MalformedPatchError(`map: ${goValue(map)} does not contain declared merge key: ${mergeKey}`);
}

/** expected is a Go type name: "map[string]interface {}" or "[]interface {}". */
export function badArgTypeError(expected: string, actual: unknown): MalformedPatchError {
  return new MalformedPatchError(`expected a ${expected}, but received a ${actual === null ? '%!s(<nil>)' : goTypeName(actual)}`);
}

export function unknownPatchTypeError(directive: unknown, map: Record<string, unknown>): MalformedPatchError {
  return new MalformedPatchError(`unknown patch type: ${goString(directive)} in map: ${goValue(map)}`);
}

/** The Go type a JSON value decodes to (reflect.TypeOf), as Go prints it. */
export function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return '[]interface {}';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      // Kubernetes decodes patches preserving integers as int64.
      return Number.isInteger(v) ? 'int64' : 'float64';
    default:
      return 'map[string]interface {}';
  }
}

/** The JSON kind encoding/json names in "cannot unmarshal X into Go value" errors. */
export function jsonKindName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || typeof v === 'string') return typeof v;
  return 'object';
}

function goFloat(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
  const exponent = n === 0 ? 0 : Math.floor(Math.log10(Math.abs(n)));
  // %v is strconv's shortest 'g', which switches to an exponent outside [-4, 6).
  if (exponent < -4 || exponent >= 6) {
    const [mantissa = '', exp = '0'] = n.toExponential().split('e');
    const sign = exp.startsWith('-') ? '-' : '+';
    const digits = exp.replace(/^[-+]/, '');
    return `${mantissa}e${sign}${digits.padStart(2, '0')}`;
  }
  return String(n);
}

/** fmt's %v of a decoded JSON value: map[a:1 b:[x y]], keys sorted, nil as <nil>. */
export function goValue(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  switch (typeof v) {
    case 'string':
      return v;
    case 'boolean':
      return String(v);
    case 'number':
      return Number.isInteger(v) && Math.abs(v) < 1e21 ? String(v) : goFloat(v);
    case 'object': {
      const map = v as Record<string, unknown>;
      const keys = Object.keys(map).sort();
      return `map[${keys.map((k) => `${k}:${goValue(map[k])}`).join(' ')}]`;
    }
    default:
      return String(v);
  }
}

/** fmt's %s of an interface{} value: strings as they are, anything else flagged as Go does. */
export function goString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '%!s(<nil>)';
  return `%!s(${goTypeName(v)}=${goValue(v)})`;
}
