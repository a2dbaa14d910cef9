// PersistentVolumeClaim, PersistentVolume and StorageClass validation.

import type { FieldError } from '../errors.js';
import type { KubeObject } from '../object.js';
import { Quantity } from '../quantity.js';
import { child, forbidden, invalid, isNotPositiveErrorMsg, key, notSupported, required } from './field-errors.js';
import { isDNS1123Subdomain, isQualifiedName } from './identifiers.js';
import { asArray, asObject, asString, type JsonObject } from './json-values.js';
import { validateLabelSelector } from './label-selector.js';
import { nameIsDNSSubdomain, validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import { validateResourceQuantity } from './resources.js';
import { describeDifferences, semanticEqual } from './semantic-equal.js';

const accessModes = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const volumeModes = ['Block', 'Filesystem'];
const reclaimPolicies = ['Delete', 'Recycle', 'Retain'];

function validateAccessModes(modes: unknown, path: string): FieldError[] {
  const list = asArray(modes).map(asString);
  const errs: FieldError[] = [];
  if (list.length === 0) errs.push(required(path, 'at least 1 access mode is required'));
  for (const mode of list) if (!accessModes.includes(mode)) errs.push(notSupported(path, mode, accessModes));
  if (list.includes('ReadWriteOncePod') && list.some((m) => m !== 'ReadWriteOncePod')) errs.push(forbidden(path, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

function validateStorageRequest(raw: unknown, path: string): FieldError[] {
  if (raw === undefined || raw === null) return [required(path)];
  const quantity = Quantity.tryParse(raw);
  if (!quantity || quantity.sign() <= 0) return [invalid(path, quantity?.toString() ?? raw, isNotPositiveErrorMsg)];
  return validateResourceQuantity('storage', raw, path).errors;
}

/** ValidatePersistentVolumeClaimSpec. */
export function validateClaimSpec(spec: JsonObject, path: string): FieldError[] {
  const errs = validateAccessModes(spec['accessModes'], child(path, 'accessModes'));
  if (spec['selector'] !== undefined && spec['selector'] !== null) errs.push(...validateLabelSelector(spec['selector'], child(path, 'selector')));
  errs.push(...validateStorageRequest(asObject(asObject(spec['resources'])?.['requests'])?.['storage'], key(child(path, 'resources'), 'storage')));
  const className = spec['storageClassName'];
  if (typeof className === 'string' && className) for (const msg of isDNS1123Subdomain(className)) errs.push(invalid(child(path, 'storageClassName'), className, msg));
  const mode = spec['volumeMode'];
  if (mode !== undefined && mode !== null && !volumeModes.includes(asString(mode))) errs.push(notSupported(child(path, 'volumeMode'), mode, volumeModes));
  return errs;
}

export function validatePersistentVolumeClaim(pvc: KubeObject, old?: KubeObject): FieldError[] {
  const spec = asObject(pvc['spec']) ?? {};
  if (!old) return [...validateObjectMeta(pvc.metadata, { namespaced: true, nameRule: nameIsDNSSubdomain }), ...validateClaimSpec(spec, 'spec')];
  const oldSpec = asObject(old['spec']) ?? {};
  const errs = validateObjectMetaUpdate(pvc.metadata, old.metadata);
  errs.push(...validateClaimSpec(spec, 'spec'));
  const requests = (s: JsonObject): JsonObject => asObject(asObject(s['resources'])?.['requests']) ?? {};
  const bound = asObject(pvc['status'])?.['phase'] === 'Bound';
  const comparable = (s: JsonObject): JsonObject => {
    const copy: JsonObject = { ...s, volumeAttributesClassName: undefined };
    // Binding fills volumeName; a bound claim may grow its storage request.
    if (!asString(oldSpec['volumeName'])) copy['volumeName'] = undefined;
    // A claim without a class may be given one (the default class, set later: Kubernetes 1.28+).
    if (oldSpec['storageClassName'] === undefined || oldSpec['storageClassName'] === null) copy['storageClassName'] = undefined;
    if (bound) copy['resources'] = { ...(asObject(s['resources']) ?? {}), requests: undefined };
    return copy;
  };
  if (!semanticEqual(comparable(spec), comparable(oldSpec))) {
    errs.push(
      forbidden(
        'spec',
        `spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n${describeDifferences('core.PersistentVolumeClaimSpec', comparable(oldSpec), comparable(spec))}`,
      ),
    );
  }
  const next = Quantity.tryParse(requests(spec)['storage']);
  const prev = Quantity.tryParse(requests(oldSpec)['storage']);
  if (next && prev && next.cmp(prev) < 0) errs.push(forbidden('spec.resources.requests.storage', 'field can not be less than previous value'));
  return errs;
}

const pvSources = ['hostPath', 'local', 'nfs', 'csi', 'iscsi', 'fc', 'rbd', 'cephfs', 'cinder', 'glusterfs', 'gcePersistentDisk', 'awsElasticBlockStore', 'azureDisk', 'azureFile', 'vsphereVolume', 'flexVolume', 'flocker', 'quobyte', 'photonPersistentDisk', 'portworxVolume', 'scaleIO', 'storageos'];

export function validatePersistentVolume(pv: KubeObject, old?: KubeObject): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(pv.metadata, old.metadata) : validateObjectMeta(pv.metadata, { namespaced: false, nameRule: nameIsDNSSubdomain });
  const spec = asObject(pv['spec']) ?? {};
  errs.push(...validateAccessModes(spec['accessModes'], 'spec.accessModes'));
  const capacity = asObject(spec['capacity']) ?? {};
  if (Object.keys(capacity).length === 0) errs.push(required('spec.capacity'));
  else if (capacity['storage'] === undefined || Object.keys(capacity).length > 1) errs.push(notSupported('spec.capacity', Object.keys(capacity), ['storage']));
  for (const [name, raw] of Object.entries(capacity)) errs.push(...validateResourceQuantity(name, raw, key('spec.capacity', name)).errors);
  const policy = asString(spec['persistentVolumeReclaimPolicy']);
  if (policy && !reclaimPolicies.includes(policy)) errs.push(notSupported('spec.persistentVolumeReclaimPolicy', policy, reclaimPolicies));
  const sources = pvSources.filter((s) => asObject(spec[s]));
  if (sources.length === 0) errs.push(required('spec', 'must specify a volume type'));
  for (const extra of sources.slice(1)) errs.push(forbidden(`spec.${extra}`, 'may not specify more than 1 volume type'));
  const hostPath = asObject(spec['hostPath']);
  if (hostPath && !asString(hostPath['path'])) errs.push(required('spec.hostPath.path'));
  const local = asObject(spec['local']);
  if (local && !asString(local['path'])) errs.push(required('spec.local.path'));
  const className = asString(spec['storageClassName']);
  if (className) for (const msg of isDNS1123Subdomain(className)) errs.push(invalid('spec.storageClassName', className, msg));
  const mode = spec['volumeMode'];
  if (mode !== undefined && mode !== null && !volumeModes.includes(asString(mode))) errs.push(notSupported('spec.volumeMode', mode, volumeModes));
  if (old) {
    const oldMode = asObject(old['spec'])?.['volumeMode'];
    if (!semanticEqual(mode, oldMode)) errs.push(invalid('spec.volumeMode', mode, 'field is immutable'));
  }
  return errs;
}

export function validateStorageClass(sc: KubeObject, old?: KubeObject): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(sc.metadata, old.metadata) : validateObjectMeta(sc.metadata, { namespaced: false, nameRule: nameIsDNSSubdomain });
  const provisioner = asString(sc['provisioner']);
  if (!provisioner) errs.push(required('provisioner'));
  else for (const msg of isQualifiedName(provisioner.toLowerCase())) errs.push(invalid('provisioner', provisioner, msg));
  const policy = asString(sc['reclaimPolicy']);
  if (policy && policy !== 'Delete' && policy !== 'Retain') errs.push(notSupported('reclaimPolicy', policy, ['Delete', 'Retain']));
  const binding = asString(sc['volumeBindingMode']);
  if (binding && binding !== 'Immediate' && binding !== 'WaitForFirstConsumer') errs.push(notSupported('volumeBindingMode', binding, ['Immediate', 'WaitForFirstConsumer']));
  if (old) {
    if (!semanticEqual(sc['parameters'], old['parameters'])) errs.push(forbidden('parameters', 'updates to parameters are forbidden.'));
    if (sc['provisioner'] !== old['provisioner']) errs.push(forbidden('provisioner', 'updates to provisioner are forbidden.'));
    if (!semanticEqual(sc['reclaimPolicy'], old['reclaimPolicy'])) errs.push(forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
    if (!semanticEqual(sc['volumeBindingMode'], old['volumeBindingMode'])) errs.push(forbidden('volumeBindingMode', 'field is immutable'));
  }
  return errs;
}
