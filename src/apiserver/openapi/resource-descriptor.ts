// What the OpenAPI documents need to know about one served resource.

export interface ResourceDescriptor {
  /** "" for the core group. */
  group: string;
  version: string;
  kind: string;
  /** "deployments" */
  plural: string;
  namespaced: boolean;
  /** "status", "scale", "binding", "eviction", "log", "exec", ... */
  subresources: string[];
  /** Kubernetes verbs: get, list, watch, create, update, patch, delete, deletecollection. */
  verbs: string[];
}

/** "v1" for the core group, "apps/v1" otherwise, as apiVersion fields spell them. */
export function groupVersionOf(r: { group: string; version: string }): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

/** URL prefix of a group version: "/api/v1" or "/apis/apps/v1". */
export function groupVersionPrefix(r: { group: string; version: string }): string {
  return r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
}

/**
 * The word Kubernetes puts in operation ids for a group version:
 * "CoreV1", "AppsV1", "RbacAuthorizationV1", "NetworkingV1", "StableExampleComV1".
 */
export function operationGroupWord(r: { group: string; version: string }): string {
  const upper = (s: string): string => (s === '' ? s : s[0]!.toUpperCase() + s.slice(1));
  const group = r.group === '' ? 'core' : r.group.replace(/\.k8s\.io$/, '');
  return group.split(/[.-]/).map(upper).join('') + upper(r.version);
}
