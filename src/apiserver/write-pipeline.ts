// The steps every write passes through besides the kind's strategy:
// defaulting, validation and field ownership (managedFields).
import { applyDefaults } from '../api/defaults/index.js';
import { updateManagedFields } from '../api/apply/index.js';
import { validateObject } from '../api/validation/index.js';
import type { WritePipeline } from './registry/store.js';
import { typesFor } from './resource-types.js';

export const namiWritePipeline: WritePipeline = {
  applyDefaults(info, obj) {
    if (info.crd) return;
    applyDefaults({ group: info.group, version: info.versions[0]!, kind: info.kind }, obj);
  },
  validate(info, obj, old) {
    return validateObject({ group: info.group, version: info.versions[0]!, kind: info.kind }, obj, old, { namespaced: info.namespaced });
  },
  trackManagedFields(info, old, obj, manager, subresource) {
    const types = typesFor(info);
    const result = updateManagedFields(old, obj, manager, 'Update', types.typeInfo, new Date(), subresource || undefined, { ignoredFields: types.resetFields(subresource) });
    if (result.metadata.managedFields === undefined) delete obj.metadata.managedFields;
    else obj.metadata.managedFields = result.metadata.managedFields;
  },
};
