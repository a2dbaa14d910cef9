// The catalogue of built-in resources: how each kind is named and served,
// as kube-apiserver advertises them in discovery.
import type { KubeObject } from './object.js';

export interface ResourceInfo {
  /** API group, '' for the core group. */
  group: string;
  /** Versions served, preferred (and storage) version first. */
  versions: string[];
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Subresources beyond the main resource: status, scale, binding, eviction, finalize, log, exec ... */
  subresources: string[];
  verbs: string[];
  /** Custom resources: the CRD's additionalPrinterColumns for kubectl get. */
  printerColumns?: PrinterColumn[];
  /** Custom resources: the CustomResourceDefinition they are served from (schema, selectable fields). */
  crd?: KubeObject;
  /** Kept in another resource's store and converted (events.k8s.io Events live with core Events). */
  storedWith?: { group: string; version: string; plural: string };
  /** Versions in `versions` that are not served: a CRD's storage version may be one (its store still keeps the objects). */
  unserved?: string[];
}

/** The versions a resource is served at (discovery, OpenAPI, routes). */
export function servedVersions(info: ResourceInfo): string[] {
  return info.unserved ? info.versions.filter((v) => !info.unserved!.includes(v)) : info.versions;
}

export interface PrinterColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

interface Spec {
  group?: string;
  versions?: string[];
  kind: string;
  plural?: string;
  namespaced?: boolean;
  shortNames?: string[];
  categories?: string[];
  subresources?: string[];
  verbs?: string[];
  storedWith?: ResourceInfo['storedWith'];
}

function resource(spec: Spec): ResourceInfo {
  const lower = spec.kind.toLowerCase();
  const plural = spec.plural ?? (lower.endsWith('s') ? lower + 'es' : lower.endsWith('y') ? lower.slice(0, -1) + 'ies' : lower + 's');
  return {
    group: spec.group ?? '',
    versions: spec.versions ?? ['v1'],
    kind: spec.kind,
    listKind: spec.kind + 'List',
    plural,
    singular: spec.kind === 'Endpoints' ? 'endpoints' : lower,
    namespaced: spec.namespaced ?? true,
    shortNames: spec.shortNames ?? [],
    categories: spec.categories ?? [],
    subresources: spec.subresources ?? [],
    verbs: spec.verbs ?? allVerbs,
    ...(spec.storedWith ? { storedWith: spec.storedWith } : {}),
  };
}

const all = ['all'];

export const builtinResources: ResourceInfo[] = [
  resource({ kind: 'Namespace', namespaced: false, shortNames: ['ns'], subresources: ['status', 'finalize'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }),
  resource({ kind: 'Pod', shortNames: ['po'], categories: all, subresources: ['status', 'binding', 'eviction', 'log', 'exec', 'attach', 'portforward', 'ephemeralcontainers'] }),
  resource({ kind: 'Service', shortNames: ['svc'], categories: all, subresources: ['status', 'proxy'], verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] }),
  resource({ kind: 'Endpoints', plural: 'endpoints', shortNames: ['ep'] }),
  resource({ kind: 'ConfigMap', shortNames: ['cm'] }),
  resource({ kind: 'Secret' }),
  resource({ kind: 'ServiceAccount', shortNames: ['sa'], subresources: ['token'] }),
  resource({ kind: 'Node', namespaced: false, shortNames: ['no'], subresources: ['status', 'proxy'] }),
  resource({ kind: 'Event', shortNames: ['ev'] }),
  resource({ kind: 'PersistentVolume', namespaced: false, shortNames: ['pv'], subresources: ['status'] }),
  resource({ kind: 'PersistentVolumeClaim', shortNames: ['pvc'], subresources: ['status'] }),
  resource({ kind: 'ReplicationController', shortNames: ['rc'], categories: all, subresources: ['status', 'scale'] }),
  resource({ kind: 'ResourceQuota', shortNames: ['quota'], subresources: ['status'] }),
  resource({ kind: 'LimitRange', shortNames: ['limits'] }),
  resource({ kind: 'PodTemplate' }),
  resource({ group: 'apps', kind: 'Deployment', shortNames: ['deploy'], categories: all, subresources: ['status', 'scale'] }),
  resource({ group: 'apps', kind: 'ReplicaSet', shortNames: ['rs'], categories: all, subresources: ['status', 'scale'] }),
  resource({ group: 'apps', kind: 'StatefulSet', shortNames: ['sts'], categories: all, subresources: ['status', 'scale'] }),
  resource({ group: 'apps', kind: 'DaemonSet', shortNames: ['ds'], categories: all, subresources: ['status'] }),
  resource({ group: 'apps', kind: 'ControllerRevision' }),
  resource({ group: 'batch', kind: 'Job', categories: all, subresources: ['status'] }),
  resource({ group: 'batch', kind: 'CronJob', shortNames: ['cj'], categories: all, subresources: ['status'] }),
  resource({ group: 'autoscaling', versions: ['v2', 'v1'], kind: 'HorizontalPodAutoscaler', shortNames: ['hpa'], categories: all, subresources: ['status'] }),
  resource({ group: 'networking.k8s.io', kind: 'Ingress', shortNames: ['ing'], subresources: ['status'] }),
  resource({ group: 'networking.k8s.io', kind: 'IngressClass', namespaced: false }),
  resource({ group: 'networking.k8s.io', kind: 'NetworkPolicy', shortNames: ['netpol'] }),
  resource({ group: 'coordination.k8s.io', kind: 'Lease' }),
  resource({ group: 'discovery.k8s.io', kind: 'EndpointSlice' }),
  resource({ group: 'rbac.authorization.k8s.io', kind: 'Role' }),
  resource({ group: 'rbac.authorization.k8s.io', kind: 'ClusterRole', namespaced: false }),
  resource({ group: 'rbac.authorization.k8s.io', kind: 'RoleBinding' }),
  resource({ group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding', namespaced: false }),
  resource({ group: 'storage.k8s.io', kind: 'StorageClass', namespaced: false, shortNames: ['sc'] }),
  resource({ group: 'events.k8s.io', kind: 'Event', shortNames: ['ev'], storedWith: { group: '', version: 'v1', plural: 'events' } }),
  resource({ group: 'scheduling.k8s.io', kind: 'PriorityClass', namespaced: false, shortNames: ['pc'] }),
  resource({ group: 'policy', kind: 'PodDisruptionBudget', shortNames: ['pdb'], subresources: ['status'] }),
  resource({ group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition', namespaced: false, shortNames: ['crd', 'crds'], categories: ['api-extensions'], subresources: ['status'] }),
];

/**
 * Resources that are only created, never stored: a request about the caller
 * that the server answers in the created object's status (`kubectl auth
 * can-i`, `kubectl auth whoami`).
 */
export const reviewResources: ResourceInfo[] = [
  resource({ group: 'authorization.k8s.io', kind: 'SelfSubjectAccessReview', namespaced: false, verbs: ['create'] }),
  resource({ group: 'authorization.k8s.io', kind: 'SelfSubjectRulesReview', namespaced: false, verbs: ['create'] }),
  resource({ group: 'authentication.k8s.io', kind: 'SelfSubjectReview', namespaced: false, verbs: ['create'] }),
  resource({ group: 'authentication.k8s.io', kind: 'TokenReview', namespaced: false, verbs: ['create'] }),
];

/**
 * ComponentStatus (deprecated since Kubernetes 1.19, still served): the
 * control plane's health, worked out when asked, never stored.
 */
export const componentStatusResource: ResourceInfo = resource({ kind: 'ComponentStatus', namespaced: false, shortNames: ['cs'], verbs: ['get', 'list'] });

/** The body of a service account's token subresource (serviceaccounts/token), not a resource of its own. */
export const tokenRequestKind: ResourceInfo = resource({ group: 'authentication.k8s.io', kind: 'TokenRequest', verbs: ['create'] });

/** The group and version an apiVersion names ("apps/v1"; "v1" is the core group's). */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash >= 0 ? { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) } : { group: '', version: apiVersion };
}

/** A kind as Go's GroupVersionKind.String() prints it: "apps/v1, Kind=Deployment", "/v1, Kind=Pod". */
export function groupVersionKindString(apiVersion: unknown, kind: unknown): string {
  const { group, version } = splitApiVersion(typeof apiVersion === 'string' ? apiVersion : '');
  return `${group}/${version}, Kind=${typeof kind === 'string' ? kind : ''}`;
}

export function groupVersion(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}
