// Per-kind strategies for the built-in resources.
import type { KubeObject } from '../../api/object.js';
import { isPlainObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/resources.js';
import { plainStrategy, specStatusStrategy, type Strategy } from './strategy.js';
import { crdCleanupFinalizer, establishedStatus, storedVersionErrors, validateCrd } from '../crd.js';
import { nowSeconds } from './store.js';
import { dropTypeDependentFields, ServiceAllocator } from './service-allocation.js';
import { controllerUidLabel, jobNameLabel, legacyControllerUidLabel, legacyJobNameLabel } from '../../api/validation/index.js';

const specStatus: Strategy = { ...specStatusStrategy, allowUnconditionalUpdate: true };

/** Each Service store allocates cluster IPs and node ports of its own. */
function serviceStrategy(): Strategy {
  const allocator = new ServiceAllocator();
  return {
    ...specStatus,
    readsExisting: true,
    finishWrite: (uid) => allocator.finish(uid),
    prepareForCreate(svc, ctx) {
      specStatus.prepareForCreate?.(svc, ctx);
      svc.status = { loadBalancer: {} };
      allocator.allocate(svc, ctx.existing());
    },
    prepareForUpdate(svc, old, ctx) {
      specStatus.prepareForUpdate?.(svc, old, ctx);
      dropTypeDependentFields(svc, old);
      allocator.carryOver(svc, old, ctx.existing());
    },
  };
}

/** Jobs without manualSelector get the selector and template labels Kubernetes generates from their uid. */
const jobStrategy: Strategy = {
  ...specStatus,
  prepareForCreate(job, ctx) {
    specStatus.prepareForCreate?.(job, ctx);
    job.status = {};
    const spec = isPlainObject(job.spec) ? job.spec : {};
    if (spec.manualSelector === true) return;
    const uid = job.metadata.uid ?? '';
    const name = job.metadata.name ?? '';
    const template = isPlainObject(spec.template) ? spec.template : {};
    const meta = isPlainObject(template.metadata) ? template.metadata : {};
    const labels = isPlainObject(meta.labels) ? (meta.labels as Record<string, string>) : {};
    meta.labels = { [jobNameLabel]: name, [legacyJobNameLabel]: name, ...labels, [controllerUidLabel]: uid, [legacyControllerUidLabel]: uid };
    template.metadata = meta;
    spec.template = template;
    // A selector the user gave keeps its terms; a wrong controller-uid then fails validation, as in Kubernetes.
    const selector = isPlainObject(spec.selector) ? spec.selector : {};
    const matchLabels = isPlainObject(selector.matchLabels) ? selector.matchLabels : {};
    spec.selector = { ...selector, matchLabels: { [controllerUidLabel]: uid, ...matchLabels } };
    job.spec = spec;
  },
};

function qosClass(pod: KubeObject): string {
  const spec = isPlainObject(pod.spec) ? pod.spec : {};
  const containers = [...((spec.containers as unknown[]) ?? []), ...((spec.initContainers as unknown[]) ?? [])].filter(isPlainObject);
  let anySet = false;
  let guaranteed = true;
  for (const c of containers) {
    const res = isPlainObject(c.resources) ? c.resources : {};
    const requests = (isPlainObject(res.requests) ? res.requests : {}) as Record<string, unknown>;
    const limits = (isPlainObject(res.limits) ? res.limits : {}) as Record<string, unknown>;
    for (const r of ['cpu', 'memory']) {
      if (requests[r] !== undefined || limits[r] !== undefined) anySet = true;
      const req = requests[r] ?? limits[r];
      if (limits[r] === undefined || String(req) !== String(limits[r])) guaranteed = false;
    }
  }
  if (!anySet) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

const podStrategy: Strategy = {
  prepareForCreate(pod) {
    pod.status = { phase: 'Pending', qosClass: qosClass(pod) };
  },
  prepareForUpdate(pod, old) {
    pod.status = old.status;
  },
  gracePeriodSeconds(pod, requested) {
    const spec = isPlainObject(pod.spec) ? pod.spec : {};
    const status = isPlainObject(pod.status) ? pod.status : {};
    // A pod no node runs, or one that has finished, has nothing to stop.
    if (!spec.nodeName || status.phase === 'Succeeded' || status.phase === 'Failed') return 0;
    if (requested !== undefined) return requested;
    return typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : 30;
  },
};

const namespaceStrategy: Strategy = {
  prepareForCreate(ns) {
    ns.spec = { finalizers: ['kubernetes'] };
    ns.status = { phase: 'Active' };
    ns.metadata.labels = { ...(ns.metadata.labels ?? {}), 'kubernetes.io/metadata.name': ns.metadata.name ?? '' };
  },
  prepareForUpdate(ns, old) {
    ns.spec = old.spec;
    ns.status = old.status;
    ns.metadata.labels = { ...(ns.metadata.labels ?? {}), 'kubernetes.io/metadata.name': old.metadata.name ?? '' };
  },
  allowUnconditionalUpdate: true,
  holdsDeletion(ns) {
    const spec = isPlainObject(ns.spec) ? ns.spec : {};
    return Array.isArray(spec.finalizers) && spec.finalizers.length > 0;
  },
  prepareForDeletion(ns) {
    ns.status = { ...(isPlainObject(ns.status) ? ns.status : {}), phase: 'Terminating' };
  },
};

const statusless = new Set([
  'ConfigMap',
  'Secret',
  'ServiceAccount',
  'Endpoints',
  'Event',
  'LimitRange',
  'PodTemplate',
  'ControllerRevision',
  'IngressClass',
  'NetworkPolicy',
  'Lease',
  'EndpointSlice',
  'Role',
  'ClusterRole',
  'RoleBinding',
  'ClusterRoleBinding',
  'StorageClass',
  'PriorityClass',
]);

const crdStrategy: Strategy = {
  prepareForCreate(crd, ctx) {
    crd.metadata.generation = 1;
    const finalizers = crd.metadata.finalizers ?? [];
    if (!finalizers.includes(crdCleanupFinalizer)) crd.metadata.finalizers = [...finalizers, crdCleanupFinalizer];
    crd.status = establishedStatus(crd, nowSeconds(), undefined, ctx.existing());
  },
  prepareForUpdate(crd, old, ctx) {
    specStatusStrategy.prepareForUpdate?.(crd, old, ctx);
    crd.status = establishedStatus(crd, nowSeconds(), old, ctx.existing());
  },
  validate: validateCrd,
  validateUpdate: (crd, old) => [...validateCrd(crd, old), ...storedVersionErrors(crd)],
  allowUnconditionalUpdate: true,
};

/** Volumes and claims start Pending, whatever status the client sent. */
const volumeStrategy: Strategy = {
  ...specStatus,
  prepareForCreate(obj, ctx) {
    specStatus.prepareForCreate?.(obj, ctx);
    obj.status = { phase: 'Pending' };
  },
};

/** Nodes keep status apart like other kinds, but have no metadata.generation. */
const nodeStrategy: Strategy = {
  allowUnconditionalUpdate: true,
  prepareForUpdate(node, old) {
    if (old.status === undefined) delete node.status;
    else node.status = old.status;
  },
};

/** The kinds whose registry in kube-apiserver has ReturnDeletedObject set, by group. */
const returnDeletedObject: Record<string, ReadonlySet<string>> = {
  '': new Set(['Pod', 'Namespace', 'Service', 'PersistentVolume', 'PersistentVolumeClaim', 'ServiceAccount', 'ResourceQuota', 'PodTemplate']),
  'storage.k8s.io': new Set(['StorageClass', 'CSIDriver', 'CSINode', 'VolumeAttachment', 'VolumeAttributesClass']),
};

export function strategyFor(info: ResourceInfo): Strategy {
  const strategy = kindStrategy(info);
  return returnDeletedObject[info.group]?.has(info.kind) ? { ...strategy, returnDeletedObject: true } : strategy;
}

function kindStrategy(info: ResourceInfo): Strategy {
  if (info.group === 'apiextensions.k8s.io' && info.kind === 'CustomResourceDefinition') return crdStrategy;
  if (info.group === '' && info.kind === 'Pod') return podStrategy;
  if (info.group === '' && info.kind === 'Namespace') return namespaceStrategy;
  if (info.group === '' && info.kind === 'Service') return serviceStrategy();
  if (info.group === '' && info.kind === 'Node') return nodeStrategy;
  if (info.group === '' && (info.kind === 'PersistentVolume' || info.kind === 'PersistentVolumeClaim')) return volumeStrategy;
  // core/v1 ReplicationControllers orphan their pods unless told otherwise, as in Kubernetes.
  if (info.group === '' && info.kind === 'ReplicationController') return { ...specStatus, defaultGarbageCollectionPolicy: 'Orphan' };
  if (info.group === 'batch' && info.kind === 'Job') return jobStrategy;
  if (statusless.has(info.kind) || !info.subresources.includes('status')) return plainStrategy;
  return specStatus;
}
