// The ServiceAccount admission plugin (plugin/pkg/admission/serviceaccount):
// a new pod runs as its namespace's "default" account unless it names one,
// the account must exist, every container gets the account's token volume
// (kube-api-access-xxxxx: a projected token, the cluster CA and the
// namespace, at /var/run/secrets/kubernetes.io/serviceaccount) unless the
// pod or the account says automountServiceAccountToken: false, and a pod
// that names no imagePullSecrets takes the account's. Mirror pods are left
// as they are.
import { ForbiddenError } from '../api/errors.js';
import { isPlainObject, type KubeObject } from '../api/object.js';
import { isTokenVolumeName, serviceAccountTokenMountPath, tokenVolume, tokenVolumePrefix } from '../api/service-account-token-volume.js';
import { randomSuffix } from './registry/store.js';

/** What the plugin reads: the pod's service account as the API server has it. */
export type ServiceAccountReader = (namespace: string, name: string) => Promise<KubeObject | undefined>;

const mirrorPodAnnotation = 'kubernetes.io/config.mirror';
/** The default account is made by a controller just after its namespace: it is looked for again for a while. */
const defaultAccountAttempts = 10;

type Json = Record<string, unknown>;

/**
 * The name admission errors give an object: its generateName when its name
 * is still to be made from it (kube-apiserver's extractResourceName).
 */
export function admissionName(obj: KubeObject): string {
  return obj.metadata.name || obj.metadata.generateName || 'Unknown';
}

/** An object refused by admission, named as admissionName names it (admission.NewForbidden: `pods "web" is forbidden: ...`). */
export function admissionForbidden(resource: { group: string; plural: string }, obj: KubeObject, message: string): ForbiddenError {
  const name = admissionName(obj);
  const qualified = resource.group ? `${resource.plural}.${resource.group}` : resource.plural;
  return new ForbiddenError({ group: resource.group, resource: resource.plural, name }, `${qualified} "${name}" is forbidden: ${message}`);
}

/** A pod refused by admission. */
export function podForbidden(pod: KubeObject, message: string): ForbiddenError {
  return admissionForbidden({ group: '', plural: 'pods' }, pod, message);
}

/** Defaults the pod's service account, checks it exists, mounts its token and takes its imagePullSecrets. */
export async function admitServiceAccount(pod: KubeObject, namespace: string, read: ServiceAccountReader): Promise<void> {
  if (pod.metadata.annotations?.[mirrorPodAnnotation] !== undefined) return;
  if (!isPlainObject(pod.spec)) return;
  const spec = pod.spec as Json;
  if (typeof spec.serviceAccountName !== 'string' || spec.serviceAccountName === '') {
    spec.serviceAccountName = 'default';
    spec.serviceAccount = 'default';
  }
  const name = spec.serviceAccountName as string;
  const account = await findAccount(namespace, name, read);
  if (!account) throw podForbidden(pod, `error looking up service account ${namespace}/${name}: serviceaccount "${name}" not found`);
  if (automounts(account, spec)) mountToken(spec);
  const pullSecrets = Array.isArray(account.imagePullSecrets) ? account.imagePullSecrets : [];
  if ((!Array.isArray(spec.imagePullSecrets) || spec.imagePullSecrets.length === 0) && pullSecrets.length > 0) {
    spec.imagePullSecrets = pullSecrets.filter(isPlainObject).map((s) => ({ name: s.name }));
  }
}

async function findAccount(namespace: string, name: string, read: ServiceAccountReader): Promise<KubeObject | undefined> {
  const attempts = name === 'default' ? defaultAccountAttempts : 1;
  const pause = 100 + Math.floor(Math.random() * 100);
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, pause));
    const account = await read(namespace, name);
    if (account) return account;
  }
  return undefined;
}

/** The pod's automountServiceAccountToken, else the account's, else true. */
function automounts(account: KubeObject, spec: Json): boolean {
  if (typeof spec.automountServiceAccountToken === 'boolean') return spec.automountServiceAccountToken;
  if (typeof account.automountServiceAccountToken === 'boolean') return account.automountServiceAccountToken;
  return true;
}

/** mountServiceAccountToken: the token volume (found again, or new) mounted in every container that has nothing at its path. */
function mountToken(spec: Json): void {
  const volumes = Array.isArray(spec.volumes) ? (spec.volumes as Json[]) : [];
  const existing = volumes.find((v) => isPlainObject(v) && typeof v.name === 'string' && isTokenVolumeName(v.name));
  const volumeName = existing ? (existing.name as string) : `${tokenVolumePrefix}${randomSuffix()}`;
  let needed = false;
  for (const list of [spec.initContainers, spec.containers]) {
    if (!Array.isArray(list)) continue;
    for (const container of list) {
      if (!isPlainObject(container)) continue;
      const mounts = Array.isArray(container.volumeMounts) ? (container.volumeMounts as Json[]) : [];
      if (mounts.some((m) => isPlainObject(m) && m.mountPath === serviceAccountTokenMountPath)) continue;
      container.volumeMounts = [...mounts, { name: volumeName, readOnly: true, mountPath: serviceAccountTokenMountPath }];
      needed = true;
    }
  }
  if (needed && !existing) spec.volumes = [...volumes, tokenVolume(volumeName)];
}
