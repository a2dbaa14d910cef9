// Definitions for custom resources, built from a CustomResourceDefinition
// version's openAPIV3Schema the way kube-apiserver publishes them, so custom
// resources appear in /openapi/v2, /openapi/v3 and `kubectl explain`.
import type { KubeObject } from '../object.js';
import { isPlainObject } from '../object.js';
import type { Definitions, Schema } from './types.js';

const API_VERSION_DESCRIPTION =
  'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources';
const KIND_DESCRIPTION =
  'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';
const OBJECT_META_DESCRIPTION =
  "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const LIST_META_DESCRIPTION =
  'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

/** "com.example.stable.v1.CronTab" for group stable.example.com, version v1, kind CronTab. */
export function crdDefinitionName(group: string, version: string, kind: string): string {
  return [...group.split('.').reverse(), version, kind].join('.');
}

export interface CRDDefinitionOptions {
  /**
   * "v2" applies the changes kube-apiserver makes for its OpenAPI v2 document
   * (junctors and nullable dropped; properties and items dropped where unknown
   * fields are preserved) because kubectl's v2 validation would otherwise reject
   * fields those schemas allow. "v3" keeps the schema as written.
   */
  openAPIVersion?: 'v2' | 'v3';
}

/**
 * The definition of a CRD version's kind and of its list kind, keyed by
 * definition name. References use "#/definitions/..." (v2 form).
 */
export function definitionsForCRD(crd: KubeObject, version: string, options: CRDDefinitionOptions = {}): Definitions {
  const spec = isPlainObject(crd.spec) ? crd.spec : {};
  const group = typeof spec.group === 'string' ? spec.group : '';
  const names = isPlainObject(spec.names) ? spec.names : {};
  const kind = typeof names.kind === 'string' ? names.kind : '';
  const listKind = typeof names.listKind === 'string' && names.listKind !== '' ? names.listKind : `${kind}List`;
  const versions = Array.isArray(spec.versions) ? spec.versions.filter(isPlainObject) : [];
  const entry = versions.find((v) => v.name === version);
  if (!entry || kind === '' || group === '') return {};
  const schemaHolder = isPlainObject(entry.schema) ? entry.schema : undefined;
  const written = schemaHolder && isPlainObject(schemaHolder.openAPIV3Schema) ? (schemaHolder.openAPIV3Schema as Schema) : undefined;

  let schema: Schema = written ? structuredClone(written) : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  if (options.openAPIVersion !== 'v3') schema = toOpenAPIV2(schema);
  const properties = { ...(schema.properties ?? {}) };
  properties.apiVersion = { type: 'string', description: API_VERSION_DESCRIPTION };
  properties.kind = { type: 'string', description: KIND_DESCRIPTION };
  properties.metadata = { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', description: OBJECT_META_DESCRIPTION };
  const name = crdDefinitionName(group, version, kind);
  const definition: Schema = {
    ...schema,
    type: 'object',
    properties,
    'x-kubernetes-group-version-kind': [{ group, kind, version }],
  };
  const list: Schema = {
    description: `${listKind} is a list of ${kind}`,
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: { type: 'string', description: API_VERSION_DESCRIPTION },
      items: {
        type: 'array',
        description: `List of ${names.plural ?? kind.toLowerCase()}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`,
        items: { $ref: `#/definitions/${name}` },
      },
      kind: { type: 'string', description: KIND_DESCRIPTION },
      metadata: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta', description: LIST_META_DESCRIPTION },
    },
    'x-kubernetes-group-version-kind': [{ group, kind: listKind, version }],
  };
  return { [name]: definition, [crdDefinitionName(group, version, listKind)]: list };
}

type LooseSchema = Schema & Record<string, unknown>;

function toOpenAPIV2(input: Schema): Schema {
  const s = { ...input } as LooseSchema;
  delete s.allOf;
  delete s.oneOf;
  delete s.anyOf;
  delete s.not;
  if (s.nullable === true) {
    delete s.type;
    delete s.nullable;
    delete s.items;
    delete s.properties;
  }
  if (s['x-kubernetes-preserve-unknown-fields'] === true) {
    delete s.items;
    delete s.properties;
    if (s.type === 'object') delete s.type;
  }
  if (s.type === 'array' && s.items === undefined) delete s.type;
  if (s.properties) {
    const nullable = Object.entries(s.properties).filter(([, p]) => (p as LooseSchema).nullable === true).map(([k]) => k);
    if (s.required && nullable.length > 0) {
      s.required = s.required.filter((r) => !nullable.includes(r));
      if (s.required.length === 0) delete s.required;
    }
    s.properties = Object.fromEntries(Object.entries(s.properties).map(([k, p]) => [k, toOpenAPIV2(p)]));
  }
  if (s.items && isPlainObject(s.items)) s.items = toOpenAPIV2(s.items);
  if (isPlainObject(s.additionalProperties)) {
    const additional = s.additionalProperties as LooseSchema;
    if (additional.nullable === true) delete s.required;
    s.additionalProperties = toOpenAPIV2(additional);
  }
  return s;
}
