// The steps every write passes through besides the kind's strategy:
// defaulting, validation, admission (namespace lifecycle, limit ranges,
// service accounts, priority, default tolerations and storage class; then, on
// the valid object, limit ranges again, one default PriorityClass and
// resource quotas) and field ownership (managedFields).
import { NotFoundError } from '../api/errors.js';
import { applyDefaults } from '../api/defaults/index.js';
import { updatedManagedFields } from '../api/apply/index.js';
import { isPlainObject, type KubeObject } from '../api/object.js';
import { validateObject, validatePodEphemeralContainersUpdate, validatePodStatusUpdate } from '../api/validation/index.js';
import type { WritePipeline } from './registry/store.js';
import { typesFor } from './resource-types.js';
import { admitPodPriority, validatePriorityClassAdmission } from './priority-admission.js';
import { admissionForbidden, admitServiceAccount } from './service-account-admission.js';
import { admitQuota, quotaWeighsUpdate, type QuotaAccess } from './quota-admission.js';
import { defaultPodResources, limitRangeViolation } from './limit-ranger.js';

export { systemPriorityClasses } from './priority-admission.js';

/** What admission reads of other objects, as the API server has them. */
export interface ClusterReader {
  get(group: string, plural: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined>;
  list(group: string, plural: string): Promise<KubeObject[]>;
  /** The objects of a namespace as the API server's cache holds them now, without waiting (as admission plugins read their listers). */
  listIn(group: string, plural: string, namespace: string): KubeObject[];
  /** Writes a ResourceQuota's status.used unless the quota changed since it was read (false then); without it, quotas are not enforced. */
  chargeQuota?(quota: KubeObject, used: Record<string, string>): Promise<boolean>;
}

interface Toleration {
  key?: string;
  operator?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/** DefaultTolerationSeconds: pods ride out 5 minutes of a not-ready or unreachable node unless they say otherwise. */
function admitDefaultTolerations(pod: KubeObject): void {
  const spec = pod.spec as { tolerations?: Toleration[] } | undefined;
  if (!spec) return;
  const tolerations = spec.tolerations ?? [];
  const tolerates = (key: string) => tolerations.some((t) => (t.operator === 'Exists' && !t.key) || (t.key === key && (!t.effect || t.effect === 'NoExecute')));
  const added: Toleration[] = [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tolerates(key)) added.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
  }
  if (added.length > 0) spec.tolerations = [...tolerations, ...added];
}

/** DefaultStorageClass: a claim that names no class gets the cluster's default one. */
async function admitDefaultStorageClass(pvc: KubeObject, reader: ClusterReader): Promise<void> {
  const spec = pvc.spec as { storageClassName?: string | null } | undefined;
  if (!spec || (spec.storageClassName !== undefined && spec.storageClassName !== null)) return;
  const defaults = (await reader.list('storage.k8s.io', 'storageclasses')).filter((sc) => sc.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true');
  // The newest default wins when there are several, as in Kubernetes.
  defaults.sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  if (defaults[0]) spec.storageClassName = defaults[0].metadata.name;
}

/** Admission plugins that can be switched off, as kube-apiserver's --disable-admission-plugins does. */
export type OptionalAdmissionPlugin = 'ServiceAccount';
export const optionalAdmissionPlugins: readonly OptionalAdmissionPlugin[] = ['ServiceAccount'];

export function createWritePipeline(reader: ClusterReader, disabled: readonly OptionalAdmissionPlugin[] = []): WritePipeline {
  const serviceAccounts = !disabled.includes('ServiceAccount');
  const readServiceAccount = (namespace: string, name: string) => reader.get('', 'serviceaccounts', namespace, name);
  const limitRangesOf = (namespace: string) => reader.listIn('', 'limitranges', namespace);
  const charge = reader.chargeQuota?.bind(reader);
  const quota: QuotaAccess | undefined = charge && {
    quotas: (namespace) => reader.listIn('', 'resourcequotas', namespace),
    freshQuotas: async (namespace) => (await reader.list('', 'resourcequotas')).filter((q) => q.metadata.namespace === namespace),
    charge,
  };
  return {
    applyDefaults(info, obj, current) {
      if (info.crd) return;
      applyDefaults({ group: info.group, version: info.versions[0]!, kind: info.kind }, obj, current);
    },
    validate(info, obj, old, subresource) {
      // A binding only sets spec.nodeName, which pod updates may not change; its handler checks it.
      if (subresource === 'binding') return [];
      if (old && info.group === '' && info.kind === 'Pod') {
        if (subresource === 'status') return validatePodStatusUpdate(obj, old);
        if (subresource === 'ephemeralcontainers') return validatePodEphemeralContainersUpdate(obj, old);
      }
      return validateObject({ group: info.group, version: info.versions[0]!, kind: info.kind }, obj, old, { namespaced: info.namespaced });
    },
    async admit(info, operation, obj) {
      if (operation !== 'CREATE') return;
      if (!info.namespaced) return;
      // NamespaceLifecycle: nothing new in a namespace that is missing or being deleted.
      const name = obj.metadata.namespace ?? '';
      const ns = await reader.get('', 'namespaces', undefined, name);
      if (!ns) throw new NotFoundError({ group: '', resource: 'namespaces', name });
      const phase = isPlainObject(ns.status) ? ns.status.phase : undefined;
      if (phase === 'Terminating' || ns.metadata.deletionTimestamp) {
        const err = admissionForbidden(info, obj, `unable to create new content in namespace ${name} because it is being terminated`);
        err.details!.causes = [{ reason: 'NamespaceTerminating', message: `namespace ${name} is being terminated`, field: 'metadata.namespace' }];
        throw err;
      }
      if (info.group === '' && info.kind === 'Pod') {
        defaultPodResources(obj, limitRangesOf(name));
        if (serviceAccounts) await admitServiceAccount(obj, name, readServiceAccount);
        await admitPodPriority(obj, reader);
        admitDefaultTolerations(obj);
      }
      if (info.group === '' && info.kind === 'PersistentVolumeClaim') await admitDefaultStorageClass(obj, reader);
    },
    admitValidated(info, operation, obj, old, dryRun, subresource) {
      if (info.group === 'scheduling.k8s.io' && info.kind === 'PriorityClass') return validatePriorityClassAdmission(operation, obj, reader);
      if (!info.namespaced) return;
      const namespace = obj.metadata.namespace ?? '';
      if (operation === 'UPDATE') {
        // LimitRanger weighs a claim's updates too (a grown request against the namespace's max), never a subresource's.
        if (!subresource && info.group === '' && info.kind === 'PersistentVolumeClaim') {
          const violation = limitRangeViolation('PersistentVolumeClaim', obj, limitRangesOf(namespace));
          if (violation) throw admissionForbidden(info, obj, violation);
        }
        if (quota && quotaWeighsUpdate(info) && quota.quotas(namespace).length > 0) return admitQuota(info, obj, old, quota, dryRun);
        return;
      }
      if (info.group === '' && (info.kind === 'Pod' || info.kind === 'PersistentVolumeClaim')) {
        const violation = limitRangeViolation(info.kind, obj, limitRangesOf(namespace));
        if (violation) throw admissionForbidden(info, obj, violation);
      }
      // Most namespaces have no quota: nothing to wait for then.
      if (quota && quota.quotas(namespace).length > 0) return admitQuota(info, obj, undefined, quota, dryRun);
    },
    trackManagedFields(info, old, obj, manager, subresource) {
      const types = typesFor(info);
      const entries = updatedManagedFields(old, obj, manager, 'Update', types.typeInfo, new Date(), subresource || undefined, { ignoredFields: types.resetFields(subresource) });
      if (entries === undefined) delete obj.metadata.managedFields;
      else obj.metadata.managedFields = entries;
    },
  };
}
