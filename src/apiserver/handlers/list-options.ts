// List and watch query parameters, refused as kube-apiserver refuses them:
// numbers that do not convert (400, in the words of Go's strconv), and
// combinations ValidateListOptions forbids (422 on ListOptions).
import { BadRequestError, InvalidError, type FieldError } from '../../api/errors.js';
import { forbidden, notSupported } from '../../api/validation/field-errors.js';

const int64Max = 2n ** 63n - 1n;

/**
 * An int64 query parameter (limit, timeoutSeconds) as kube-apiserver
 * converts it with strconv.ParseInt: undefined when absent; a 400 with
 * strconv's error when it is not a base-10 integer or out of range.
 */
export function int64Param(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name);
  if (text === null) return undefined;
  if (!/^[+-]?[0-9]+$/.test(text)) throw new BadRequestError(`strconv.ParseInt: parsing ${JSON.stringify(text)}: invalid syntax`);
  const value = BigInt(text);
  if (value > int64Max || value < -int64Max - 1n) throw new BadRequestError(`strconv.ParseInt: parsing ${JSON.stringify(text)}: value out of range`);
  return Number(value);
}

function listOptionsInvalid(errors: FieldError[]): InvalidError {
  return new InvalidError('ListOptions', 'meta.k8s.io', '', errors);
}

/** What kube-apiserver's ValidateListOptions refuses in a list (not a watch); 422 on ListOptions. */
export function validateListOptions(query: URLSearchParams): void {
  // Every list decodes the whole of ListOptions: a timeoutSeconds that is no int64 is a 400 though only a watch uses it.
  int64Param(query, 'timeoutSeconds');
  const errors: FieldError[] = [];
  const match = query.get('resourceVersionMatch');
  if (match) {
    const rv = query.get('resourceVersion') ?? '';
    if (rv === '') errors.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided'));
    if (query.get('continue')) errors.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
    if (match !== 'Exact' && match !== 'NotOlderThan') errors.push(notSupported('resourceVersionMatch', match, ['Exact', 'NotOlderThan', '']));
    if (match === 'Exact' && rv === '0') errors.push(forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'));
  }
  if (query.get('sendInitialEvents') !== null) errors.push(forbidden('sendInitialEvents', 'sendInitialEvents is forbidden for list'));
  if (errors.length > 0) throw listOptionsInvalid(errors);
}

/** What kube-apiserver refuses of resourceVersionMatch in a watch: it goes with sendInitialEvents, as NotOlderThan; 422 on ListOptions. */
export function validateWatchOptions(query: URLSearchParams): void {
  const sendInitial = query.get('sendInitialEvents');
  const match = query.get('resourceVersionMatch');
  if (sendInitial !== null && match !== 'NotOlderThan') {
    throw listOptionsInvalid([forbidden('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan')]);
  }
  if (match !== null && sendInitial === null) {
    throw listOptionsInvalid([forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided')]);
  }
}
