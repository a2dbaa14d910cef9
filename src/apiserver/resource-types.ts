// The type knowledge of one served resource, from Nami's built-in definitions
// or a CRD's schema: what patch, apply, field validation and the OpenAPI
// documents need. Computed once per ResourceInfo.
import type { ResourceInfo } from '../api/resources.js';
import { crdDefinitionName, definitionNameForKind, definitionsForCRD, loadDefinitions, type Definitions } from '../api/schema/index.js';
import { typeInfoFor, FieldSet, fieldPath, type TypeInfo } from '../api/apply/index.js';
import { SchemaPatchMeta, schemalessPatchMeta, type PatchMeta } from '../api/patch/index.js';

export interface ResourceTypes {
  definitions: Definitions;
  /** The kind's definition name; undefined when there is no schema. */
  definitionName: string | undefined;
  builtIn: boolean;
  typeInfo: TypeInfo;
  patchMeta: PatchMeta;
  /** Fields no manager owns on the main resource (status) and on the status subresource (spec). */
  resetFields(subresource: string): FieldSet | undefined;
}

const memo = new WeakMap<ResourceInfo, Map<string, ResourceTypes>>();

const statusOnly = FieldSet.fromPaths([fieldPath('status')]);
const specOnly = FieldSet.fromPaths([fieldPath('spec')]);

/** Definitions of a custom resource: the built-in ones (ObjectMeta ...) plus the CRD's storage version. */
export function customResourceDefinitions(info: ResourceInfo, version: string, openAPIVersion: 'v2' | 'v3'): Definitions {
  return { ...loadDefinitions(), ...definitionsForCRD(info.crd!, version, { openAPIVersion }) };
}

/** The types of the resource at `version` (by default its storage version). */
export function typesFor(info: ResourceInfo, version: string = info.versions[0]!): ResourceTypes {
  let byVersion = memo.get(info);
  if (!byVersion) {
    byVersion = new Map();
    memo.set(info, byVersion);
  }
  let t = byVersion.get(version);
  if (t) return t;
  const builtIn = info.crd === undefined;
  const definitions = builtIn ? loadDefinitions() : customResourceDefinitions(info, version, 'v3');
  const name = builtIn ? definitionNameForKind({ group: info.group, version, kind: info.kind }, definitions) : crdDefinitionName(info.group, version, info.kind);
  const definitionName = name !== undefined && definitions[name] ? name : undefined;
  const hasStatus = info.subresources.includes('status');
  t = {
    definitions,
    definitionName,
    builtIn,
    typeInfo: typeInfoFor(definitions, definitionName, { builtIn }),
    patchMeta: definitionName ? new SchemaPatchMeta(definitions, definitionName) : schemalessPatchMeta,
    resetFields(subresource) {
      if (!hasStatus) return undefined;
      if (subresource === 'status') return specOnly;
      return subresource === '' ? statusOnly : undefined;
    },
  };
  byVersion.set(version, t);
  return t;
}
