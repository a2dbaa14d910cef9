// Objects a CRD's schema marks x-kubernetes-embedded-resource (a Pod
// template in a custom resource, say) are Kubernetes objects themselves:
// they need an apiVersion and a kind, and their metadata is checked as any
// object's metadata is, as Kubernetes' schema/objectmeta validation does.
import type { FieldError } from '../api/errors.js';
import { isPlainObject, type ObjectMeta } from '../api/object.js';
import type { Schema } from '../api/schema/types.js';
import { child, invalid, required } from '../api/validation/field-errors.js';
import { isDNS1035Label } from '../api/validation/identifiers.js';
import { nameIsPathSegment, validateObjectMeta } from '../api/validation/metadata.js';


/** The embedded resources' errors in a custom resource's body (without its own apiVersion, kind and metadata). */
export function embeddedResourceErrors(schema: Schema, value: unknown, path = ''): FieldError[] {
  const errors: FieldError[] = [];
  visit(schema, value, path, errors);
  return errors;
}

function visit(schema: Schema | undefined, value: unknown, path: string, errors: FieldError[]): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => visit(schema.items, item, `${path}[${i}]`, errors));
    return;
  }
  if (!isPlainObject(value)) return;
  if (schema['x-kubernetes-embedded-resource']) errors.push(...embeddedErrors(value, path));
  for (const [k, v] of Object.entries(value)) {
    const prop = schema.properties?.[k];
    if (prop) visit(prop, v, child(path, k), errors);
    else if (isPlainObject(schema.additionalProperties)) visit(schema.additionalProperties as Schema, v, `${path}[${k}]`, errors);
  }
}

function embeddedErrors(x: Record<string, unknown>, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const apiVersionPath = child(path, 'apiVersion');
  const kindPath = child(path, 'kind');
  if (!('apiVersion' in x)) errors.push(required(apiVersionPath, ''));
  if (!('kind' in x)) errors.push(required(kindPath, ''));
  for (const [k, v] of Object.entries(x)) {
    if (k === 'apiVersion') {
      if (typeof v !== 'string') errors.push(invalid(apiVersionPath, v, 'must be a string'));
      else if (!v) errors.push(required(apiVersionPath, ''));
      else if (v.split('/').length > 2) errors.push(invalid(apiVersionPath, v, `unexpected GroupVersion string: ${v}`));
    } else if (k === 'kind') {
      if (typeof v !== 'string') errors.push(invalid(kindPath, v, 'must be a string'));
      else if (!v) errors.push(required(kindPath, ''));
      else {
        const problems = isDNS1035Label(v.toLowerCase());
        if (problems.length) errors.push(invalid(kindPath, v, `may have mixed case, but should otherwise match: ${problems.join(',')}`));
      }
    } else if (k === 'metadata') {
      const metaPath = child(path, 'metadata');
      if (!isPlainObject(v)) {
        errors.push(invalid(metaPath, v, `json: cannot unmarshal ${goJsonType(v)} into Go value of type v1.ObjectMeta`));
        continue;
      }
      const meta = v as ObjectMeta;
      // Kubernetes validates a nameless embedded object as if it had a name.
      const named = typeof meta.name === 'string' && meta.name ? meta : { ...meta, name: 'fakename' };
      errors.push(...validateObjectMeta(named, { namespaced: typeof meta.namespace === 'string' && meta.namespace ? true : undefined, nameRule: nameIsPathSegment }, metaPath));
    }
  }
  return errors;
}

function goJsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'boolean' ? 'bool' : typeof v;
}
