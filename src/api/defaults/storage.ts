// storage.k8s.io defaults.

import type { JsonObject } from '../validation/json-values.js';

export function defaultStorageClass(obj: JsonObject): void {
  if (!obj['reclaimPolicy']) obj['reclaimPolicy'] = 'Delete';
  if (!obj['volumeBindingMode']) obj['volumeBindingMode'] = 'Immediate';
}

export function defaultCSIDriver(obj: JsonObject): void {
  const spec = (obj['spec'] ??= {}) as JsonObject;
  const defaults: Record<string, unknown> = {
    attachRequired: true,
    podInfoOnMount: false,
    storageCapacity: false,
    requiresRepublish: false,
    fsGroupPolicy: 'ReadWriteOnceWithFSType',
  };
  for (const [k, v] of Object.entries(defaults)) if (spec[k] === undefined || spec[k] === null) spec[k] = v;
  if (!Array.isArray(spec['volumeLifecycleModes']) || spec['volumeLifecycleModes'].length === 0) spec['volumeLifecycleModes'] = ['Persistent'];
}
