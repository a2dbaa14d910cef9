// Tables of the storage kinds: PersistentVolume, PersistentVolumeClaim,
// StorageClass.
import type { KubeObject } from '../../api/object.js';
import { timestampSince } from './human-duration.js';
import { ageColumn, column, nameColumn, wideColumn, type TablePrinter } from './table.js';

// The class annotation older clients set; Kubernetes still reads it first.
const betaStorageClassAnnotation = 'volume.beta.kubernetes.io/storage-class';
const defaultClassAnnotations = ['storageclass.kubernetes.io/is-default-class', 'storageclass.beta.kubernetes.io/is-default-class'];

/** ACCESS MODES: RWO, ROX, RWX, RWOP in that order, whatever order the object lists them. */
export function accessModesText(modes: string[] | undefined): string {
  const present = new Set(modes ?? []);
  const short: [string, string][] = [
    ['ReadWriteOnce', 'RWO'],
    ['ReadOnlyMany', 'ROX'],
    ['ReadWriteMany', 'RWX'],
    ['ReadWriteOncePod', 'RWOP'],
  ];
  return short.filter(([mode]) => present.has(mode)).map(([, text]) => text).join(',');
}

function storageQuantity(resources: Record<string, unknown> | undefined): string {
  const value = resources?.['storage'];
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  // A missing resource.Quantity prints as its zero value.
  return '0';
}

interface VolumeMeta {
  name?: string;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
}

function classOf(meta: VolumeMeta, storageClassName: string | null | undefined): string {
  const annotated = meta.annotations?.[betaStorageClassAnnotation];
  if (annotated !== undefined) return annotated;
  return storageClassName ?? '';
}

export const persistentVolumePrinter: TablePrinter = {
  columnDefinitions: [
    nameColumn,
    column('Capacity', { doc: 'PersistentVolumeSpec.capacity' }),
    column('Access Modes', { doc: 'PersistentVolumeSpec.accessModes' }),
    column('Reclaim Policy', { doc: 'PersistentVolumeSpec.persistentVolumeReclaimPolicy' }),
    column('Status', { doc: 'PersistentVolumeStatus.phase' }),
    column('Claim', { doc: 'PersistentVolumeSpec.claimRef' }),
    column('StorageClass', { description: 'StorageClass of the pv' }),
    column('VolumeAttributesClass', { description: 'VolumeAttributesClass of the pv' }),
    column('Reason', { doc: 'PersistentVolumeStatus.reason' }),
    ageColumn,
    wideColumn('VolumeMode', { doc: 'PersistentVolumeSpec.volumeMode' }),
  ],
  printRow(object: KubeObject, now: Date) {
    const pv = object as {
      metadata: VolumeMeta;
      spec?: {
        capacity?: Record<string, unknown>;
        accessModes?: string[];
        persistentVolumeReclaimPolicy?: string;
        claimRef?: { namespace?: string; name?: string } | null;
        storageClassName?: string;
        volumeAttributesClassName?: string | null;
        volumeMode?: string | null;
      };
      status?: { phase?: string; reason?: string };
    };
    const spec = pv.spec ?? {};
    const claim = spec.claimRef ? `${spec.claimRef.namespace ?? ''}/${spec.claimRef.name ?? ''}` : '';
    return {
      cells: [
        pv.metadata.name ?? '',
        storageQuantity(spec.capacity),
        accessModesText(spec.accessModes),
        spec.persistentVolumeReclaimPolicy ?? '',
        pv.metadata.deletionTimestamp ? 'Terminating' : (pv.status?.phase ?? ''),
        claim,
        classOf(pv.metadata, spec.storageClassName),
        typeof spec.volumeAttributesClassName === 'string' ? spec.volumeAttributesClassName : '<unset>',
        pv.status?.reason ?? '',
        timestampSince(object.metadata.creationTimestamp, now),
        typeof spec.volumeMode === 'string' ? spec.volumeMode : '<unset>',
      ],
    };
  },
};

export const persistentVolumeClaimPrinter: TablePrinter = {
  columnDefinitions: [
    nameColumn,
    column('Status', { doc: 'PersistentVolumeClaimStatus.phase' }),
    column('Volume', { doc: 'PersistentVolumeClaimSpec.volumeName' }),
    column('Capacity', { doc: 'PersistentVolumeClaimStatus.capacity' }),
    column('Access Modes', { doc: 'PersistentVolumeClaimStatus.accessModes' }),
    column('StorageClass', { description: 'StorageClass of the pvc' }),
    column('VolumeAttributesClass', { description: 'VolumeAttributesClass of the pvc' }),
    ageColumn,
    wideColumn('VolumeMode', { doc: 'PersistentVolumeClaimSpec.volumeMode' }),
  ],
  printRow(object: KubeObject, now: Date) {
    const pvc = object as {
      metadata: VolumeMeta;
      spec?: {
        volumeName?: string;
        storageClassName?: string | null;
        volumeAttributesClassName?: string | null;
        volumeMode?: string | null;
      };
      status?: { phase?: string; capacity?: Record<string, unknown>; accessModes?: string[] };
    };
    const spec = pvc.spec ?? {};
    // Capacity and modes describe the bound volume, so they stay empty until binding.
    const bound = Boolean(spec.volumeName);
    return {
      cells: [
        pvc.metadata.name ?? '',
        pvc.metadata.deletionTimestamp ? 'Terminating' : (pvc.status?.phase ?? ''),
        spec.volumeName ?? '',
        bound ? storageQuantity(pvc.status?.capacity) : '',
        bound ? accessModesText(pvc.status?.accessModes) : '',
        classOf(pvc.metadata, spec.storageClassName),
        typeof spec.volumeAttributesClassName === 'string' ? spec.volumeAttributesClassName : '<unset>',
        timestampSince(object.metadata.creationTimestamp, now),
        typeof spec.volumeMode === 'string' ? spec.volumeMode : '<unset>',
      ],
    };
  },
};

export const storageClassPrinter: TablePrinter = {
  columnDefinitions: [
    nameColumn,
    column('Provisioner', { doc: 'StorageClass.provisioner' }),
    column('ReclaimPolicy', { doc: 'StorageClass.reclaimPolicy' }),
    column('VolumeBindingMode', { doc: 'StorageClass.volumeBindingMode' }),
    column('AllowVolumeExpansion', { doc: 'StorageClass.allowVolumeExpansion' }),
    ageColumn,
  ],
  printRow(object: KubeObject, now: Date) {
    const sc = object as {
      provisioner?: string;
      reclaimPolicy?: string | null;
      volumeBindingMode?: string | null;
      allowVolumeExpansion?: boolean | null;
    };
    const annotations = object.metadata.annotations ?? {};
    const isDefault = defaultClassAnnotations.some((a) => annotations[a] === 'true');
    return {
      cells: [
        `${object.metadata.name ?? ''}${isDefault ? ' (default)' : ''}`,
        sc.provisioner ?? '',
        sc.reclaimPolicy ?? 'Delete',
        sc.volumeBindingMode ?? 'Immediate',
        sc.allowVolumeExpansion ?? false,
        timestampSince(object.metadata.creationTimestamp, now),
      ],
    };
  },
};
