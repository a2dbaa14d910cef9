// Nami's type definitions use the OpenAPI v2 "definitions" form that
// Kubernetes publishes, with its x-kubernetes-* extensions. The same data
// drives /openapi/v2, /openapi/v3, kubectl explain, strategic merge patch,
// server-side apply and server-side field validation.

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface Schema {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object';
  format?: string;
  /** "#/definitions/io.k8s.api.core.v1.PodSpec" */
  $ref?: string;
  description?: string;
  items?: Schema;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  'x-kubernetes-patch-merge-key'?: string;
  /** "merge", "replace", "retainKeys", "merge,retainKeys" */
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-unions'?: unknown[];
  'x-kubernetes-group-version-kind'?: GroupVersionKind[];
}

/** Definition name -> schema, e.g. "io.k8s.api.apps.v1.Deployment". */
export type Definitions = Record<string, Schema>;
