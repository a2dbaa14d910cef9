// Defaulting of built-in kinds, applied when an object is decoded (create,
// update, patch) so it is stored and read back exactly as a Kubernetes
// cluster shows it.

import { BadRequestError } from '../errors.js';
import type { KubeObject } from '../object.js';
import { InvalidQuantityError } from '../quantity.js';
import type { JsonObject } from '../validation/json-values.js';
import { defaultCustomResourceDefinition, defaultPriorityClass, defaultRoleBinding, defaultWebhookConfiguration } from './access.js';
import { defaultHorizontalPodAutoscaler } from './autoscaling.js';
import { defaultCronJob, defaultJob } from './batch.js';
import {
  defaultEndpoints,
  defaultEvent,
  defaultLimitRange,
  defaultNamespace,
  defaultNode,
  defaultPersistentVolume,
  defaultPersistentVolumeClaim,
  defaultPodTemplateKind,
  defaultResourceQuota,
  defaultSecret,
} from './core.js';
import { defaultEndpointSlice, defaultIngressClass, defaultNetworkPolicy } from './networking.js';
import { defaultPod } from './pod.js';
import { defaultService } from './service.js';
import { defaultCSIDriver, defaultStorageClass } from './storage.js';
import { defaultDaemonSet, defaultDeployment, defaultReplicaSet, defaultReplicationController, defaultStatefulSet } from './workloads.js';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** current: the object an update replaces, whose parts the updated object may share (those are defaulted already). */
type Defaulter = (obj: JsonObject, version: string, current?: JsonObject) => void;

const defaulters: Record<string, Defaulter> = {
  '/Pod': defaultPod,
  '/PodTemplate': defaultPodTemplateKind,
  '/ReplicationController': defaultReplicationController,
  '/Service': defaultService,
  '/Secret': defaultSecret,
  '/Namespace': defaultNamespace,
  '/PersistentVolumeClaim': defaultPersistentVolumeClaim,
  '/PersistentVolume': defaultPersistentVolume,
  '/Endpoints': defaultEndpoints,
  '/Node': defaultNode,
  '/LimitRange': defaultLimitRange,
  '/ResourceQuota': defaultResourceQuota,
  '/Event': defaultEvent,
  'apps/Deployment': defaultDeployment,
  'apps/ReplicaSet': defaultReplicaSet,
  'apps/StatefulSet': defaultStatefulSet,
  'apps/DaemonSet': defaultDaemonSet,
  'batch/Job': defaultJob,
  'batch/CronJob': defaultCronJob,
  'autoscaling/HorizontalPodAutoscaler': defaultHorizontalPodAutoscaler,
  'networking.k8s.io/NetworkPolicy': defaultNetworkPolicy,
  'networking.k8s.io/IngressClass': defaultIngressClass,
  'discovery.k8s.io/EndpointSlice': defaultEndpointSlice,
  'storage.k8s.io/StorageClass': defaultStorageClass,
  'storage.k8s.io/CSIDriver': defaultCSIDriver,
  'scheduling.k8s.io/PriorityClass': defaultPriorityClass,
  'rbac.authorization.k8s.io/RoleBinding': defaultRoleBinding,
  'rbac.authorization.k8s.io/ClusterRoleBinding': defaultRoleBinding,
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration': (obj) => defaultWebhookConfiguration(obj, false),
  'admissionregistration.k8s.io/MutatingWebhookConfiguration': (obj) => defaultWebhookConfiguration(obj, true),
  'apiextensions.k8s.io/CustomResourceDefinition': defaultCustomResourceDefinition,
};

/** Whether applyDefaults changes anything for this kind. */
export function hasDefaults(gvk: GroupVersionKind): boolean {
  return `${gvk.group}/${gvk.kind}` in defaulters;
}

/**
 * Mutates `obj` as Kubernetes' SetDefaults_* functions (and the decoding of
 * quantities) do. A malformed quantity is a 400, worded as kube-apiserver's
 * decoder words it: `Pod in version "v1" cannot be handled as a Pod: quantities must match ...`.
 */
export function applyDefaults(gvk: GroupVersionKind, obj: KubeObject, current?: KubeObject): void {
  const defaulter = defaulters[`${gvk.group}/${gvk.kind}`];
  if (!defaulter) return;
  try {
    defaulter(obj as unknown as JsonObject, gvk.version, current as unknown as JsonObject | undefined);
  } catch (e) {
    if (e instanceof InvalidQuantityError) {
      throw new BadRequestError(`${gvk.kind} in version ${JSON.stringify(gvk.version)} cannot be handled as a ${gvk.kind}: ${e.message}`);
    }
    throw e;
  }
}

export { prepareNamespaceForCreate, namespaceNameLabel } from './core.js';
export { imageTag, defaultPodSpec, defaultPodTemplate } from './pod.js';
