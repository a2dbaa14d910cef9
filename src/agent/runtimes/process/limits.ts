// What the process runtime cannot do, said before a container starts: a pod asking for it gets
// CreateContainerError with a message naming it, rather than a container that silently differs
// from its spec. See ../../README.md ("The process runtime").
import { isAbsolute } from 'node:path';
import { isTokenVolumeName, serviceAccountTokenMountPath } from '../../../api/service-account-token-volume.js';

type Json = Record<string, unknown>;

/**
 * The pod annotation with which a pod accepts that its volumes are not mounted: with the value
 * "env" each volume a container mounts is given to it as $NAMI_VOLUME_<NAME> (its directory on the
 * node) instead of appearing at its mountPath.
 */
export const volumePathsAnnotation = 'nami.dev/process-volume-paths';

/** NAMI_VOLUME_<NAME>: the volume name upper-cased, anything but letters and digits as "_". */
export function volumeEnvName(volume: string): string {
  return `NAMI_VOLUME_${volume.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

function volumesByName(podSpec: Json): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const v of (Array.isArray(podSpec.volumes) ? podSpec.volumes : []) as Json[]) if (typeof v?.name === 'string') out.set(v.name, v);
  return out;
}

/** The pod's volumes this runtime cannot set up at all (only root mounts a tmpfs). */
export function unsupportedVolumes(podSpec: Json): string[] {
  const out: string[] = [];
  for (const [name, v] of volumesByName(podSpec)) {
    const ed = v.emptyDir as Json | undefined;
    if (ed && ed.medium === 'Memory') out.push(`volume "${name}": emptyDir with medium Memory needs a tmpfs mount (root)`);
  }
  return out;
}

/**
 * Why a container cannot run as the pod says with this runtime, or [] when it can. `uid`/`gid`
 * are the agent's own: processes run as them.
 */
export function unsupportedContainerFeatures(container: Json, podSpec: Json, annotations: Record<string, string>, uid: number, gid: number): string[] {
  const out: string[] = [];
  const volumes = volumesByName(podSpec);
  const asEnv = annotations[volumePathsAnnotation] === 'env';
  for (const m of (Array.isArray(container.volumeMounts) ? container.volumeMounts : []) as Json[]) {
    const name = String(m.name ?? '');
    const mountPath = String(m.mountPath ?? '');
    const vol = volumes.get(name);
    const hostPath = vol?.hostPath as Json | undefined;
    // A hostPath volume mounted where it is on the host is what the process sees anyway.
    if (hostPath && isAbsolute(mountPath) && String(hostPath.path ?? '').replace(/\/+$/, '') === mountPath.replace(/\/+$/, '') && !m.subPath && !m.subPathExpr) continue;
    if (asEnv) continue;
    // The service account token every pod gets by default is left out rather than refuse the pod (see the README).
    if (isTokenVolumeName(name) && mountPath === serviceAccountTokenMountPath) continue;
    out.push(`volume "${name}" cannot be mounted at ${mountPath}: processes see the node's file system (annotate the pod ${volumePathsAnnotation}=env to get the volume's directory in $${volumeEnvName(name)} instead)`);
  }
  const sc = (container.securityContext ?? {}) as Json;
  const psc = (podSpec.securityContext ?? {}) as Json;
  const runAsUser = typeof sc.runAsUser === 'number' ? sc.runAsUser : psc.runAsUser;
  const runAsGroup = typeof sc.runAsGroup === 'number' ? sc.runAsGroup : psc.runAsGroup;
  if (typeof runAsUser === 'number' && runAsUser !== uid) out.push(`runAsUser ${runAsUser}: processes run as the agent's user (uid ${uid})`);
  if (typeof runAsGroup === 'number' && runAsGroup !== gid) out.push(`runAsGroup ${runAsGroup}: processes run as the agent's group (gid ${gid})`);
  return out;
}
