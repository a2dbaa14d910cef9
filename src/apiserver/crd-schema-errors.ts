// A custom resource's schema violations in kube-apiserver's words: the JSON
// Schema validator's errors turned into the field errors Kubernetes'
// ValidateCustomResource makes of kube-openapi's ("spec.size: Invalid
// value: "string": spec.size in body must be of type integer: "string"").
import type { ErrorObject } from 'ajv';
import type { FieldError } from '../api/errors.js';
import { isPlainObject } from '../api/object.js';
import { jsonPointerTokens } from '../api/patch/json-patch.js';
import { goValue } from '../api/patch/patch-errors.js';
import { notSupported, required, tooLong, tooMany } from '../api/validation/field-errors.js';

/** kube-openapi's path of a value: properties joined by dots, array items as [i]. */
function pathOf(body: unknown, pointer: string): string {
  let path = '';
  let cur = body;
  for (const step of jsonPointerTokens(pointer)) {
    if (Array.isArray(cur)) {
      path += `[${step}]`;
      cur = cur[Number(step)];
    } else {
      path += path ? `.${step}` : step;
      cur = isPlainObject(cur) ? cur[step] : undefined;
    }
  }
  return path;
}

function valueAt(body: unknown, pointer: string): unknown {
  let cur = body;
  for (const step of jsonPointerTokens(pointer)) cur = Array.isArray(cur) ? cur[Number(step)] : isPlainObject(cur) ? cur[step] : undefined;
  return cur;
}

/** The JSON type kube-openapi names a value by when it is of the wrong type. */
function jsonTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

/** A bound as Go's %v prints it: an integer value is checked against the bound as int64, so printed as one. */
function boundText(bound: number, value: unknown): string {
  return goValue(typeof value === 'number' && Number.isInteger(value) ? Math.trunc(bound) : bound);
}

const comparisons: Record<string, string> = {
  '>=': 'should be greater than or equal to',
  '>': 'should be greater than',
  '<=': 'should be less than or equal to',
  '<': 'should be less than',
};

function invalid(field: string, value: unknown, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, value: value === undefined || value === null ? '' : value, detail };
}

/** One validator error as Kubernetes reports it, or undefined for one it has no counterpart of (its parts are reported). */
function fieldErrorOf(e: ErrorObject, body: unknown): FieldError | undefined {
  const name = pathOf(body, e.instancePath);
  const value = valueAt(body, e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required': {
      const missing = String(params.missingProperty);
      return required(name ? `${name}.${missing}` : missing);
    }
    case 'type': {
      const actual = jsonTypeName(value);
      const expected = Array.isArray(params.type) ? params.type.join(',') : String(params.type);
      return { type: 'FieldValueTypeInvalid', field: name, value: actual, detail: `${name} in body must be of type ${expected}: ${JSON.stringify(actual)}` };
    }
    case 'format':
      // kube-openapi words a value not of its format as of the wrong type.
      return { type: 'FieldValueTypeInvalid', field: name, value: jsonTypeName(value), detail: `${name} in body must be of type ${String(params.format)}: ${JSON.stringify(value)}` };
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
      return notSupported(name, value, allowed);
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return invalid(name, value, `${name} in body ${comparisons[String(params.comparison)] ?? 'should be within its bounds'} ${boundText(Number(params.limit), value)}`);
    case 'multipleOf':
      return invalid(name, value, `${name} in body should be a multiple of ${boundText(Number(params.multipleOf), value)}`);
    case 'pattern':
      return invalid(name, value, `${name} in body should match '${String(params.pattern)}'`);
    case 'minLength':
      return invalid(name, value, `${name} in body should be at least ${String(params.limit)} chars long`);
    case 'maxLength':
      return tooLong(name, Number(params.limit));
    case 'minItems':
      return invalid(name, Array.isArray(value) ? value.length : '', `${name} in body should have at least ${String(params.limit)} items`);
    case 'maxItems':
      return tooMany(name, Array.isArray(value) ? value.length : -1, Number(params.limit));
    case 'uniqueItems':
      return invalid(name, '', `${name} in body shouldn't contain duplicates`);
    case 'minProperties':
      return invalid(name, Number(params.limit), `${name} in body should have at least ${String(params.limit)} properties`);
    case 'maxProperties':
      return { type: 'FieldValueTooMany', field: name, value: Number(params.limit), detail: 'has too many items' };
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      return invalid(name, key, `${name}.${key} in body is a forbidden property`);
    }
    case 'anyOf':
      return invalid('', '', `${JSON.stringify(name)} must validate at least one schema (anyOf)`);
    case 'oneOf': {
      const passing = params.passingSchemas;
      const found = Array.isArray(passing) ? `Found ${passing.length} valid alternatives` : 'Found none valid';
      return invalid('', '', `${JSON.stringify(name)} must validate one and only one schema (oneOf). ${found}`);
    }
    case 'not':
      return invalid('', '', `${JSON.stringify(name)} must not validate the schema (not)`);
    case 'if':
      return undefined;
    default:
      return invalid(name, value, `${name} in body ${e.message ?? 'is invalid'}`);
  }
}

/** The validator's errors as Kubernetes' field errors, each once. */
export function kubeSchemaErrors(errors: readonly ErrorObject[], body: unknown): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    const f = fieldErrorOf(e, body);
    if (f) out.push(f);
  }
  return out;
}
