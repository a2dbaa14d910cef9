// Which table each built-in kind gets, keyed by API group and kind as
// Kubernetes registers its printers (the same printer serves every version).
import type { KubeObject } from '../../api/object.js';
import {
  componentStatusPrinter,
  configMapPrinter,
  eventPrinter,
  leasePrinter,
  namespacePrinter,
  nodePrinter,
  secretPrinter,
  serviceAccountPrinter,
} from './core-printers.js';
import { defaultPrinter } from './default-table.js';
import {
  endpointSlicePrinter,
  endpointsPrinter,
  ingressClassPrinter,
  ingressPrinter,
  networkPolicyPrinter,
  servicePrinter,
} from './network-printers.js';
import { podPrinter } from './pod-printer.js';
import {
  horizontalPodAutoscalerPrinter,
  podDisruptionBudgetPrinter,
  priorityClassPrinter,
  resourceQuotaPrinter,
} from './policy-printers.js';
import { clusterRoleBindingPrinter, roleBindingPrinter } from './rbac-printers.js';
import { persistentVolumeClaimPrinter, persistentVolumePrinter, storageClassPrinter } from './storage-printers.js';
import { tableOf, type Table, type TablePrinter } from './table.js';
import {
  controllerRevisionPrinter,
  cronJobPrinter,
  daemonSetPrinter,
  deploymentPrinter,
  jobPrinter,
  podTemplatePrinter,
  replicaSetPrinter,
  replicationControllerPrinter,
  scalePrinter,
  statefulSetPrinter,
} from './workload-printers.js';

export interface GroupKind {
  /** "" for the core group. */
  group: string;
  kind: string;
}

const printers = new Map<string, TablePrinter>();

function register(group: string, kinds: Record<string, TablePrinter>): void {
  for (const [kind, printer] of Object.entries(kinds)) printers.set(`${kind}.${group}`, printer);
}

register('', {
  Pod: podPrinter,
  PodTemplate: podTemplatePrinter,
  ReplicationController: replicationControllerPrinter,
  Service: servicePrinter,
  Endpoints: endpointsPrinter,
  Namespace: namespacePrinter,
  Node: nodePrinter,
  Event: eventPrinter,
  Secret: secretPrinter,
  ConfigMap: configMapPrinter,
  ServiceAccount: serviceAccountPrinter,
  PersistentVolume: persistentVolumePrinter,
  PersistentVolumeClaim: persistentVolumeClaimPrinter,
  ResourceQuota: resourceQuotaPrinter,
  ComponentStatus: componentStatusPrinter,
});
register('apps', {
  ReplicaSet: replicaSetPrinter,
  Deployment: deploymentPrinter,
  StatefulSet: statefulSetPrinter,
  DaemonSet: daemonSetPrinter,
  ControllerRevision: controllerRevisionPrinter,
});
// Kinds still reachable through the retired extensions group share the printers.
register('extensions', {
  ReplicaSet: replicaSetPrinter,
  Deployment: deploymentPrinter,
  DaemonSet: daemonSetPrinter,
  Ingress: ingressPrinter,
  NetworkPolicy: networkPolicyPrinter,
});
register('batch', { Job: jobPrinter, CronJob: cronJobPrinter });
register('autoscaling', { HorizontalPodAutoscaler: horizontalPodAutoscalerPrinter, Scale: scalePrinter });
register('policy', { PodDisruptionBudget: podDisruptionBudgetPrinter });
register('networking.k8s.io', { Ingress: ingressPrinter, IngressClass: ingressClassPrinter, NetworkPolicy: networkPolicyPrinter });
register('discovery.k8s.io', { EndpointSlice: endpointSlicePrinter });
register('events.k8s.io', { Event: eventPrinter });
register('storage.k8s.io', { StorageClass: storageClassPrinter });
register('coordination.k8s.io', { Lease: leasePrinter });
register('scheduling.k8s.io', { PriorityClass: priorityClassPrinter });
register('rbac.authorization.k8s.io', { RoleBinding: roleBindingPrinter, ClusterRoleBinding: clusterRoleBindingPrinter });

/** The printer Kubernetes uses for a built-in kind, or undefined when it has none. */
export function printerFor(kind: GroupKind): TablePrinter | undefined {
  return printers.get(`${kind.kind}.${kind.group}`);
}

/**
 * The meta.k8s.io/v1 Table of built-in objects, with every column including
 * the -o wide ones (priority 1), as kube-apiserver always prints wide. Kinds
 * without a printer get the default NAME / CREATED AT table.
 */
export function tableFor(kind: GroupKind, objects: readonly KubeObject[], now: Date): Table {
  return tableOf(printerFor(kind) ?? defaultPrinter, objects, now);
}
