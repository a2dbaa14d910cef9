// The steps every write passes through besides the kind's strategy:
// defaulting, validation, admission (namespace lifecycle) and field
// ownership (managedFields).
import { ForbiddenError, NotFoundError } from '../api/errors.js';
import { applyDefaults } from '../api/defaults/index.js';
import { updateManagedFields } from '../api/apply/index.js';
import { isPlainObject, type KubeObject } from '../api/object.js';
import { validateObject, validatePodStatusUpdate } from '../api/validation/index.js';
import type { WritePipeline } from './registry/store.js';
import { typesFor } from './resource-types.js';

/** Reads a namespace as the API server has it (undefined when absent). */
export type NamespaceLookup = (name: string) => Promise<KubeObject | undefined>;

export function createWritePipeline(namespaceOf: NamespaceLookup): WritePipeline {
  return {
    applyDefaults(info, obj) {
      if (info.crd) return;
      applyDefaults({ group: info.group, version: info.versions[0]!, kind: info.kind }, obj);
    },
    validate(info, obj, old, subresource) {
      // A binding only sets spec.nodeName, which pod updates may not change; its handler checks it.
      if (subresource === 'binding') return [];
      if (subresource === 'status' && old && info.group === '' && info.kind === 'Pod') return validatePodStatusUpdate(obj, old);
      return validateObject({ group: info.group, version: info.versions[0]!, kind: info.kind }, obj, old, { namespaced: info.namespaced });
    },
    // NamespaceLifecycle: nothing new in a namespace that is missing or being deleted.
    async admit(info, operation, obj) {
      if (operation !== 'CREATE' || !info.namespaced) return;
      const name = obj.metadata.namespace ?? '';
      const ns = await namespaceOf(name);
      if (!ns) throw new NotFoundError({ group: '', resource: 'namespaces', name });
      const phase = isPlainObject(ns.status) ? ns.status.phase : undefined;
      if (phase === 'Terminating' || ns.metadata.deletionTimestamp) {
        const err = new ForbiddenError(
          { group: info.group, resource: info.plural, name: obj.metadata.name },
          `${info.plural}${info.group ? '.' + info.group : ''} "${obj.metadata.name ?? ''}" is forbidden: unable to create new content in namespace ${name} because it is being terminated`,
        );
        err.details!.causes = [{ reason: 'NamespaceTerminating', message: `namespace ${name} is being terminated`, field: 'metadata.namespace' }];
        throw err;
      }
    },
    trackManagedFields(info, old, obj, manager, subresource) {
      const types = typesFor(info);
      const result = updateManagedFields(old, obj, manager, 'Update', types.typeInfo, new Date(), subresource || undefined, { ignoredFields: types.resetFields(subresource) });
      if (result.metadata.managedFields === undefined) delete obj.metadata.managedFields;
      else obj.metadata.managedFields = result.metadata.managedFields;
    },
  };
}
