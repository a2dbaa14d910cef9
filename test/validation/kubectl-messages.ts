// Runs an object through defaulting and validation as the API server does and
// returns the message kubectl would print after "Error from server (Invalid): ".

import { applyDefaults, type GroupVersionKind } from '../../src/api/defaults/index.js';
import { InvalidError } from '../../src/api/errors.js';
import type { KubeObject } from '../../src/api/object.js';
import { validateObject } from '../../src/api/validation/index.js';

export function invalidMessage(gvk: GroupVersionKind, obj: KubeObject, old?: KubeObject): string | undefined {
  applyDefaults(gvk, obj);
  const errs = validateObject(gvk, obj, old);
  if (errs.length === 0) return undefined;
  return new InvalidError(gvk.kind, gvk.group, obj.metadata.name ?? '', errs).message;
}

export const gvks = {
  pod: { group: '', version: 'v1', kind: 'Pod' },
  service: { group: '', version: 'v1', kind: 'Service' },
  configMap: { group: '', version: 'v1', kind: 'ConfigMap' },
  secret: { group: '', version: 'v1', kind: 'Secret' },
  namespace: { group: '', version: 'v1', kind: 'Namespace' },
  pvc: { group: '', version: 'v1', kind: 'PersistentVolumeClaim' },
  deployment: { group: 'apps', version: 'v1', kind: 'Deployment' },
  replicaSet: { group: 'apps', version: 'v1', kind: 'ReplicaSet' },
  statefulSet: { group: 'apps', version: 'v1', kind: 'StatefulSet' },
  daemonSet: { group: 'apps', version: 'v1', kind: 'DaemonSet' },
  job: { group: 'batch', version: 'v1', kind: 'Job' },
  cronJob: { group: 'batch', version: 'v1', kind: 'CronJob' },
};

export function pod(spec: Record<string, unknown>, name = 'web'): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec };
}

export function container(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'web', image: 'nginx:1.27', ...extra };
}
