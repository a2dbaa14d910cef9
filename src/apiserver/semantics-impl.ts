// Nami's Semantics: selectors, tables, patches, apply and field validation,
// wired to the api/ modules and the resource's type knowledge.
import { UnsupportedMediaTypeError } from '../api/errors.js';
import type { KubeObject } from '../api/object.js';
import { isPlainObject } from '../api/object.js';
import type { ResourceInfo } from '../api/resources.js';
import { parseLabelSelector } from '../api/labels/index.js';
import { convertFieldSelector, fieldsOf, parseFieldSelector, type SelectableFieldOptions } from '../api/fields/index.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from '../api/patch/index.js';
import { serverSideApply } from '../api/apply/index.js';
import { unknownFields } from '../api/schema/unknown-fields.js';
import type { Semantics } from './handlers/semantics.js';
import type { Table } from './printers/table.js';
import type { ObjectFilter } from './registry/store.js';
import { crdTable, tableFor } from './printers/index.js';
import { typesFor } from './resource-types.js';

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
    const filters: ObjectFilter[] = [];
    if (labelSelector) {
      const selector = parseLabelSelector(labelSelector);
      if (!selector.empty()) filters.push((o) => selector.matches(o.metadata.labels ?? {}));
    }
    if (fieldSelector) {
      const options = selectableFieldOptions(info);
      const selector = convertFieldSelector(info.group, info.kind, parseFieldSelector(fieldSelector), options);
      if (!selector.empty()) filters.push((o) => selector.matches(fieldsOf(info.group, info.kind, o, options)));
    }
    if (filters.length === 0) return undefined;
    if (filters.length === 1) return filters[0];
    return (o) => filters.every((f) => f(o));
  },
  table(info, objects, now): Table {
    if (info.crd) return crdTable(info.printerColumns ?? [], objects, now);
    return tableFor({ group: info.group, kind: info.kind }, objects, now);
  },
  patch(info, version, current, type, patch, shared) {
    const target = shared ? sharedTarget : owned;
    switch (type) {
      case 'json':
        return applyJsonPatch(current, patch, target) as KubeObject;
      case 'merge':
        return applyMergePatch(current, patch, target) as KubeObject;
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
    return object;
  },
  dropUnknownFields(info, version, obj, mergePatch) {
    const types = typesFor(info, version);
    return unknownFields(types.definitions, types.definitionName, obj, true, mergePatch);
  },
};
