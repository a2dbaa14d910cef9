// Type definitions of every built-in kind as Kubernetes 1.33 publishes them
// (OpenAPI v2 "definitions" with x-kubernetes-* extensions), and the lookups that
// patch, apply, validation and the OpenAPI documents share.
import { readFileSync } from 'node:fs';
import type { Definitions, GroupVersionKind, Schema } from './types.js';

export type { Definitions, GroupVersionKind, Schema } from './types.js';
export { definitionsForCRD, crdDefinitionName } from './crd-definitions.js';
export type { CRDDefinitionOptions } from './crd-definitions.js';

let cached: Definitions | undefined;

/** The built-in definitions, read once from definitions.json beside this module. */
export function loadDefinitions(): Definitions {
  cached ??= JSON.parse(readFileSync(new URL('./definitions.json', import.meta.url), 'utf8')) as Definitions;
  return cached;
}

const gvkIndexes = new WeakMap<Definitions, Map<string, string>>();

function gvkKey(gvk: GroupVersionKind): string {
  return `${gvk.group}/${gvk.version}/${gvk.kind}`;
}

function gvkIndex(defs: Definitions): Map<string, string> {
  let index = gvkIndexes.get(defs);
  if (!index) {
    index = new Map();
    for (const [name, schema] of Object.entries(defs)) {
      for (const gvk of schema['x-kubernetes-group-version-kind'] ?? []) {
        // DeleteOptions and WatchEvent carry every group version; a kind's own
        // definition must win over them for a kind that happens to share the name.
        if (!index.has(gvkKey(gvk))) index.set(gvkKey(gvk), name);
      }
    }
    gvkIndexes.set(defs, index);
  }
  return index;
}

/** "io.k8s.api.apps.v1.Deployment" for apps/v1 Deployment; undefined for an unknown kind. */
export function definitionNameForKind(gvk: GroupVersionKind, defs: Definitions = loadDefinitions()): string | undefined {
  return gvkIndex(defs).get(gvkKey(gvk));
}

/**
 * The schema a reference points at. Accepts "#/definitions/NAME" (OpenAPI v2),
 * "#/components/schemas/NAME" (OpenAPI v3) or a bare definition name.
 */
export function resolveRef(ref: string, defs: Definitions = loadDefinitions()): Schema | undefined {
  const name = ref.replace(/^#\/definitions\//, '').replace(/^#\/components\/schemas\//, '');
  return defs[name];
}

/**
 * A reference's target with the referring schema's own keywords laid over it, so
 * a property keeps its description and x-kubernetes-* extensions (for example
 * Deployment spec.strategy's patch strategy "retainKeys") while gaining the
 * target's properties.
 */
export function dereference(schema: Schema, defs: Definitions = loadDefinitions()): Schema {
  let current = schema;
  const seen = new Set<string>();
  while (current.$ref !== undefined) {
    if (seen.has(current.$ref)) break;
    seen.add(current.$ref);
    const target = resolveRef(current.$ref, defs);
    if (!target) break;
    const { $ref: _ref, ...own } = current;
    current = { ...target, ...own };
  }
  return current;
}

/**
 * The schema at a path below a definition, following properties, list items and
 * map values, with references dereferenced. Path segments name properties; on a
 * list any segment (an index, "*" or "[]") steps into the items; on a map any
 * segment steps into the values. Undefined when the path leaves the schema.
 *
 *   schemaAt('io.k8s.api.apps.v1.Deployment', ['spec', 'template', 'spec', 'containers'])
 *   schemaAt('io.k8s.api.core.v1.PodSpec', ['containers', '0', 'ports'])
 */
export function schemaAt(definitionName: string, path: string[], defs: Definitions = loadDefinitions()): Schema | undefined {
  const root = defs[definitionName];
  if (!root) return undefined;
  let current = dereference(root, defs);
  for (const segment of path) {
    const property = current.properties?.[segment];
    let next: Schema | undefined;
    if (property) next = property;
    else if (current.type === 'array' && current.items) next = current.items;
    else if (typeof current.additionalProperties === 'object') next = current.additionalProperties;
    if (!next) return undefined;
    current = dereference(next, defs);
  }
  return current;
}
