// The local-path provisioner's volumes and the default StorageClass that
// uses it (in the manner of k3s' local-path-provisioner). A claim of the
// class gets a PersistentVolume named pvc-<claim uid> whose directory is
// <base dir>/<namespace>_<claim name>_<volume name> on one node:
//   - with a selected node (WaitForFirstConsumer: the scheduler annotated the
//     claim with volume.kubernetes.io/selected-node) it is a `local` volume
//     with node affinity to that node;
//   - without one (Immediate binding) it is a `hostPath` volume
//     (DirectoryOrCreate) without node affinity, usable on whichever node
//     runs the pod.
// This controller only writes API objects. Creating the directory, and
// removing it once the volume object is deleted, is the node agent's work:
// it creates the directory when it sets up a pod that mounts the volume.
import type { KubeObject } from '../../api/object.js';
import { annProvisionedBy, claimRefTo, claimRequest, type PersistentVolume, type PersistentVolumeClaim } from './matching.js';

export const localPathProvisioner = 'nami.dev/local-path';
export const localPathClassName = 'local-path';
export const defaultLocalPathBaseDir = '/var/lib/nami/local-path';
export const defaultClassAnnotation = 'storageclass.kubernetes.io/is-default-class';
export const betaDefaultClassAnnotation = 'storageclass.beta.kubernetes.io/is-default-class';
export const hostnameLabel = 'kubernetes.io/hostname';

export type StorageClass = KubeObject & {
  provisioner?: string;
  reclaimPolicy?: string;
  volumeBindingMode?: string;
  mountOptions?: string[];
  parameters?: Record<string, string>;
};

export function isDefaultClass(sc: StorageClass): boolean {
  const a = sc.metadata.annotations ?? {};
  return a[defaultClassAnnotation] === 'true' || a[betaDefaultClassAnnotation] === 'true';
}

/** GetDefaultClass: of several default classes, the newest (then the first by name). */
export function defaultClass(classes: StorageClass[]): StorageClass | undefined {
  const defaults = classes.filter(isDefaultClass);
  defaults.sort((a, b) => {
    const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
    const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
    if (ta !== tb) return tb - ta;
    return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
  });
  return defaults[0];
}

/** The StorageClass created when the cluster has no default one. */
export function localPathStorageClass(): StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: localPathClassName, annotations: { [defaultClassAnnotation]: 'true' } },
    provisioner: localPathProvisioner,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  };
}

/** GetProvisionedVolumeNameForClaim. */
export function provisionedVolumeName(claim: PersistentVolumeClaim): string {
  return `pvc-${claim.metadata.uid}`;
}

export function localPathDirectory(baseDir: string, claim: PersistentVolumeClaim, volumeName: string): string {
  return `${baseDir.replace(/\/+$/, '')}/${claim.metadata.namespace}_${claim.metadata.name}_${volumeName}`;
}

/** The volume the provisioner creates for a claim; `node` is the selected node, if any. */
export function provisionedVolume(claim: PersistentVolumeClaim, sc: StorageClass, baseDir: string, node?: { name: string; hostname: string }): PersistentVolume {
  const name = provisionedVolumeName(claim);
  const path = localPathDirectory(baseDir, claim, name);
  const spec: Record<string, unknown> = {
    capacity: { storage: claimRequest(claim).toString() },
    accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
    persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
    storageClassName: sc.metadata.name,
    volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
    claimRef: claimRefTo(claim),
  };
  if (sc.mountOptions && sc.mountOptions.length > 0) spec.mountOptions = sc.mountOptions;
  if (node) {
    spec.local = { path };
    spec.nodeAffinity = { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: hostnameLabel, operator: 'In', values: [node.hostname] }] }] } };
  } else {
    spec.hostPath = { path, type: 'DirectoryOrCreate' };
  }
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, annotations: { [annProvisionedBy]: sc.provisioner ?? localPathProvisioner } },
    spec: spec as PersistentVolume['spec'],
  };
}
