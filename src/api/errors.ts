// Errors that reach API clients. Each is rendered as a Kubernetes
// metav1.Status with the HTTP code, reason and details kubectl expects.

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout';

export type CauseType =
  | 'FieldValueNotFound'
  | 'FieldValueRequired'
  | 'FieldValueDuplicate'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'InternalError'
  | 'FieldValueTypeInvalid'
  | 'UnexpectedServerResponse'
  | 'FieldManagerConflict'
  | 'ResourceVersionTooLarge';

export interface StatusCause {
  reason?: CauseType | string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason | string;
  details?: StatusDetails;
  code: number;
}

export interface ResourceRef {
  /** API group ('' for core). */
  group: string;
  /** Plural resource name, as Kubernetes writes it in messages ("pods", "deployments.apps"). */
  resource: string;
  name?: string;
}

function qualified(ref: ResourceRef): string {
  return ref.group ? `${ref.resource}.${ref.group}` : ref.resource;
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toStatus(): Status {
    const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code };
    if (this.details) s.details = this.details;
    return s;
  }
}

export class BadRequestError extends ApiError {
  override name = 'BadRequestError';
  constructor(message: string, details?: StatusDetails) {
    super(400, 'BadRequest', message, details);
  }
}

export class UnauthorizedError extends ApiError {
  override name = 'UnauthorizedError';
  constructor(message = 'Unauthorized') {
    super(401, 'Unauthorized', message);
  }
}

export class ForbiddenError extends ApiError {
  override name = 'ForbiddenError';
  constructor(ref: ResourceRef, message: string) {
    super(403, 'Forbidden', message, { name: ref.name, group: ref.group, kind: ref.resource });
  }
}

export class NotFoundError extends ApiError {
  override name = 'NotFoundError';
  constructor(ref: ResourceRef, message?: string) {
    super(404, 'NotFound', message ?? `${qualified(ref)} "${ref.name ?? ''}" not found`, { name: ref.name, group: ref.group, kind: ref.resource });
  }
}

export class AlreadyExistsError extends ApiError {
  override name = 'AlreadyExistsError';
  constructor(ref: ResourceRef) {
    super(409, 'AlreadyExists', `${qualified(ref)} "${ref.name ?? ''}" already exists`, { name: ref.name, group: ref.group, kind: ref.resource });
  }
}

export class ConflictError extends ApiError {
  override name = 'ConflictError';
  constructor(ref: ResourceRef, why: string, causes?: StatusCause[]) {
    super(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(ref)} "${ref.name ?? ''}": ${why}`, {
      name: ref.name,
      group: ref.group,
      kind: ref.resource,
      ...(causes ? { causes } : {}),
    });
  }
}

/** Apply conflicts have their own message form; kubectl prints the causes. */
export class ApplyConflictError extends ApiError {
  override name = 'ApplyConflictError';
  constructor(message: string, causes: StatusCause[]) {
    super(409, 'Conflict', message, { causes });
  }
}

export interface FieldError {
  type: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueDuplicate' | 'FieldValueNotSupported' | 'FieldValueForbidden' | 'FieldValueTooLong' | 'FieldValueTooMany' | 'FieldValueNotFound' | 'FieldValueTypeInvalid';
  field: string;
  /** The offending value, printed as Kubernetes does. */
  value?: unknown;
  detail?: string;
}

const fieldErrorText: Record<FieldError['type'], string> = {
  FieldValueRequired: 'Required value',
  FieldValueInvalid: 'Invalid value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  FieldValueNotFound: 'Not found',
  FieldValueTypeInvalid: 'Invalid value',
};

/** A value Kubernetes prints with Go's %#v (a struct): shown as its text, unquoted. */
export class GoSyntaxValue {
  constructor(readonly text: string) {}
  toJSON(): string {
    return this.text;
  }
}

function formatValue(v: unknown): string {
  if (v instanceof GoSyntaxValue) return v.text;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** "spec.replicas: Invalid value: -1: must be greater than or equal to 0", as field.Error.Error() prints. */
export function formatFieldError(e: FieldError): string {
  let s = `${e.field}: ${fieldErrorText[e.type]}`;
  const showsValue = e.type !== 'FieldValueRequired' && e.type !== 'FieldValueForbidden' && e.type !== 'FieldValueTooLong' && e.value !== undefined;
  if (showsValue) s += `: ${formatValue(e.value)}`;
  if (e.detail) s += `: ${e.detail}`;
  return s;
}

export class InvalidError extends ApiError {
  override name = 'InvalidError';
  constructor(
    kind: string,
    group: string,
    objectName: string,
    readonly fieldErrors: FieldError[],
  ) {
    // The message names each error once, as Kubernetes' aggregate error does (the causes keep them all).
    const parts = [...new Set(fieldErrors.map(formatFieldError))];
    const joined = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
    super(422, 'Invalid', `${kind}${group ? '.' + group : ''} "${objectName}" is invalid: ${joined}`, {
      name: objectName,
      group,
      kind,
      causes: fieldErrors.map((e) => ({ reason: e.type, message: formatFieldError(e).slice(e.field.length + 2), field: e.field })),
    });
  }
}

export class GoneError extends ApiError {
  override name = 'GoneError';
  constructor(message: string) {
    super(410, 'Expired', message);
  }
}

/**
 * A method the resource's path has no route for, as kube-apiserver's router
 * answers it (every 405 there: routes are only made for what a resource's
 * storage can do).
 */
export class MethodNotAllowedError extends ApiError {
  override name = 'MethodNotAllowedError';
  constructor(ref: ResourceRef) {
    super(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', { group: ref.group, kind: ref.resource, ...(ref.name !== undefined ? { name: ref.name } : {}) });
  }
}

export class NotAcceptableError extends ApiError {
  override name = 'NotAcceptableError';
  constructor(accepted: string[]) {
    super(406, 'NotAcceptable', `only the following media types are accepted: ${accepted.join(', ')}`);
  }
}

export class UnsupportedMediaTypeError extends ApiError {
  override name = 'UnsupportedMediaTypeError';
  constructor(contentType: string, supported: string[]) {
    super(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${supported.join(', ')} (got ${JSON.stringify(contentType)})`);
  }
}

export class RequestEntityTooLargeError extends ApiError {
  override name = 'RequestEntityTooLargeError';
  constructor(limitBytes: number) {
    super(413, 'RequestEntityTooLarge', `the request is too large: limit is ${limitBytes} bytes`);
  }
}

export class TooManyRequestsError extends ApiError {
  override name = 'TooManyRequestsError';
  /** A retry time of 0 suggests none: no retryAfterSeconds, no Retry-After header. */
  constructor(message: string, retryAfterSeconds = 1) {
    super(429, 'TooManyRequests', message, retryAfterSeconds > 0 ? { retryAfterSeconds } : {});
  }
}

export class InternalError extends ApiError {
  override name = 'InternalError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] }, options);
  }
}

export class ServiceUnavailableError extends ApiError {
  override name = 'ServiceUnavailableError';
  constructor(message: string) {
    super(503, 'ServiceUnavailable', message);
  }
}

export class TimeoutError extends ApiError {
  override name = 'TimeoutError';
  constructor(message: string) {
    super(504, 'Timeout', message);
  }
}
