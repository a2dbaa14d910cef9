// Nami's Semantics: selectors, tables, patches, apply and field validation,
// wired to the api/ modules and the resource's type knowledge.
import { UnsupportedMediaTypeError } from '../api/errors.js';
import type { KubeObject } from '../api/object.js';
import { cloneJson, isPlainObject } from '../api/object.js';
import type { ResourceInfo } from '../api/resources.js';
import { parseLabelSelector } from '../api/labels/index.js';
import { convertFieldSelector, fieldsOf, parseFieldSelector, type SelectableFieldOptions } from '../api/fields/index.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from '../api/patch/index.js';
import { serverSideApply } from '../api/apply/index.js';
import { undeclaredFieldPaths } from '../api/apply/undeclared-fields.js';
import { dropEmptiesAlong, unknownFields } from '../api/schema/unknown-fields.js';
import type { Semantics } from './handlers/semantics.js';
import type { Table } from './printers/table.js';
import type { ObjectFilter, SelectionAttributes } from './registry/store.js';
import { crdTable, tableFor } from './printers/index.js';
import { crdSpec } from './crd.js';
import { typesFor } from './resource-types.js';

const attributeReaders = new WeakMap<ResourceInfo, (o: KubeObject) => SelectionAttributes>();

/** The one function that reads a resource's objects' labels and selectable fields (the watch cache keeps what it made per object). */
function attributesOf(info: ResourceInfo): (o: KubeObject) => SelectionAttributes {
  let read = attributeReaders.get(info);
  if (!read) {
    const options = selectableFieldOptions(info);
    read = (o) => ({ labels: o.metadata.labels ?? {}, fields: fieldsOf(info.group, info.kind, o, options) });
    attributeReaders.set(info, read);
  }
  return read;
}

/** A CRD's selectableFields of its storage version. */
function selectableFieldOptions(info: ResourceInfo): SelectableFieldOptions {
  const opts: SelectableFieldOptions = { namespaced: info.namespaced };
  const spec = info.crd && isPlainObject(info.crd.spec) ? info.crd.spec : undefined;
  const versions = spec && Array.isArray(spec.versions) ? spec.versions.filter(isPlainObject) : [];
  const entry = versions.find((v) => v.name === info.versions[0]);
  if (entry && Array.isArray(entry.selectableFields)) {
    opts.selectableFields = entry.selectableFields.filter(isPlainObject).map((f) => String(f.jsonPath ?? ''));
  }
  return opts;
}

/** Semantics.patch gets the caller's own copy of the object, or one shared with the watch cache. */
const owned = { owned: true };
const sharedTarget = { shared: true };

const patchContentTypes = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];

export const namiSemantics: Semantics = {
  listFilter(info, labelSelector, fieldSelector): ObjectFilter | undefined {
    const labels = labelSelector ? parseLabelSelector(labelSelector) : undefined;
    const fields = fieldSelector ? convertFieldSelector(info.group, info.kind, parseFieldSelector(fieldSelector), selectableFieldOptions(info)) : undefined;
    const byLabels = labels && !labels.empty() ? labels : undefined;
    const byFields = fields && !fields.empty() ? fields : undefined;
    if (!byLabels && !byFields) return undefined;
    return { attributes: attributesOf(info), matches: (a) => (!byLabels || byLabels.matches(a.labels)) && (!byFields || byFields.matches(a.fields)) };
  },
  table(info, objects, now, version): Table {
    if (info.crd) {
      // Each version of a CRD has printer columns of its own (the storage version's are the resource's).
      const atVersion = version === undefined ? undefined : crdSpec(info.crd)?.versions.find((v) => v.name === version);
      return crdTable(atVersion ? (atVersion.additionalPrinterColumns ?? []) : (info.printerColumns ?? []), objects, now);
    }
    return tableFor({ group: info.group, kind: info.kind }, objects, now);
  },
  patch(info, version, current, type, patch, shared) {
    const target = shared ? sharedTarget : owned;
    switch (type) {
      case 'json':
        return applyJsonPatch(current, patch, target) as KubeObject;
      case 'merge': {
        const result = applyMergePatch(current, patch, target) as KubeObject;
        const types = typesFor(info, version);
        if (types.definitionName !== undefined) dropEmptiesAlong(types.definitions, types.definitionName, result, patch);
        return result;
      }
      case 'strategic': {
        const types = typesFor(info, version);
        // As Kubernetes: custom resources have no Go types to carry patch strategies.
        if (!types.builtIn) throw new UnsupportedMediaTypeError('application/strategic-merge-patch+json', patchContentTypes);
        return applyStrategicMergePatch(current, patch, types.patchMeta, target) as KubeObject;
      }
    }
  },
  apply(info, version, live, applied, manager, force, subresource) {
    const types = typesFor(info, version);
    const { object } = serverSideApply(live, applied, manager, force, types.typeInfo, new Date(), {
      ignoredFields: types.resetFields(subresource),
      subresource: subresource || undefined,
      expectedKind: { group: info.group, version, kind: info.kind },
    });
    // The merge may share parts of the applied configuration, which a retry uses again.
    const own = cloneJson(object);
    unknownFields(types.definitions, types.definitionName, own, { remove: true });
    return own;
  },
  undeclaredApplyFields(info, version, applied) {
    return undeclaredFieldPaths(typesFor(info, version).typeInfo.root, applied);
  },
  dropUnknownFields(info, version, obj, form = 'object') {
    const types = typesFor(info, version);
    // A built-in kind's values must also decode into its Go types, as kube-apiserver decodes them; a custom resource's are checked by its schema's validation.
    return unknownFields(types.definitions, types.definitionName, obj, { remove: true, mergePatch: form === 'mergePatch', keepEmpty: form === 'applied', goTypes: types.builtIn });
  },
};
