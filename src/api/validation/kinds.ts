// validateObject: the per-kind validation the generic store runs on create
// (old undefined) and update, with Kubernetes' field paths and messages.

import type { FieldError } from '../errors.js';
import type { KubeObject } from '../object.js';
import { builtinResources } from '../resources.js';
import { validateCronJob, validateJob } from './batch.js';
import {
  validateCustomResourceDefinition,
  validateHorizontalPodAutoscaler,
  validateIngress,
  validateNamespace,
  validateNetworkPolicy,
  validatePriorityClass,
  validateRole,
  validateRoleBinding,
} from './cluster.js';
import { validateConfigMap, validateSecret } from './config.js';
import { nameIsDNSSubdomain, validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import { validatePod, validatePodUpdate } from './pod.js';
import { validatePodDisruptionBudget } from './policy.js';
import { validateResourceQuota } from './resource-quota.js';
import { validateService } from './service.js';
import { validatePersistentVolume, validatePersistentVolumeClaim, validateStorageClass } from './storage.js';
import { validateDaemonSet, validateDeployment, validatePodTemplateKind, validateReplicaSet, validateReplicationController, validateStatefulSet } from './workloads.js';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface ValidationOptions {
  /** Scope of a kind that is not built in (a custom resource); built-in kinds know their own. */
  namespaced?: boolean;
}

type KindValidator = (obj: KubeObject, old: KubeObject | undefined) => FieldError[];

const rbac = 'rbac.authorization.k8s.io';

const validators: Record<string, KindValidator> = {
  '/Pod': (obj, old) => (old ? validatePodUpdate(obj, old) : validatePod(obj)),
  '/PodTemplate': validatePodTemplateKind,
  '/ReplicationController': validateReplicationController,
  '/Service': validateService,
  '/ConfigMap': validateConfigMap,
  '/Secret': validateSecret,
  '/Namespace': validateNamespace,
  '/PersistentVolumeClaim': validatePersistentVolumeClaim,
  '/PersistentVolume': validatePersistentVolume,
  '/ResourceQuota': validateResourceQuota,
  'apps/Deployment': validateDeployment,
  'apps/ReplicaSet': validateReplicaSet,
  'apps/StatefulSet': validateStatefulSet,
  'apps/DaemonSet': validateDaemonSet,
  'batch/Job': validateJob,
  'batch/CronJob': validateCronJob,
  'autoscaling/HorizontalPodAutoscaler': validateHorizontalPodAutoscaler,
  'networking.k8s.io/Ingress': validateIngress,
  'policy/PodDisruptionBudget': validatePodDisruptionBudget,
  'networking.k8s.io/NetworkPolicy': validateNetworkPolicy,
  'storage.k8s.io/StorageClass': validateStorageClass,
  'scheduling.k8s.io/PriorityClass': validatePriorityClass,
  [`${rbac}/Role`]: (obj, old) => validateRole(obj, old, true),
  [`${rbac}/ClusterRole`]: (obj, old) => validateRole(obj, old, false),
  [`${rbac}/RoleBinding`]: (obj, old) => validateRoleBinding(obj, old, true),
  [`${rbac}/ClusterRoleBinding`]: (obj, old) => validateRoleBinding(obj, old, false),
  'apiextensions.k8s.io/CustomResourceDefinition': validateCustomResourceDefinition,
};

function namespacedOf(gvk: GroupVersionKind, options?: ValidationOptions): boolean | undefined {
  return builtinResources.find((r) => r.group === gvk.group && r.kind === gvk.kind)?.namespaced ?? options?.namespaced;
}

/**
 * Field errors for creating `obj` (no `old`) or updating `old` to `obj`.
 * Kinds without their own rules, custom resources included, get the object
 * metadata checks with DNS-subdomain names.
 */
export function validateObject(gvk: GroupVersionKind, obj: KubeObject, old?: KubeObject, options?: ValidationOptions): FieldError[] {
  const validator = validators[`${gvk.group}/${gvk.kind}`];
  if (validator) return validator(obj, old);
  if (old) return validateObjectMetaUpdate(obj.metadata, old.metadata);
  return validateObjectMeta(obj.metadata, { namespaced: namespacedOf(gvk, options), nameRule: nameIsDNSSubdomain });
}
