// Pod volume validation: unique DNS-label names, exactly one source each, and
// the checks of the sources people use (configMap, secret, hostPath, PVC,
// emptyDir, downwardAPI, projected, nfs).

import type { FieldError } from '../errors.js';
import { Quantity } from '../quantity.js';
import { child, duplicate, forbidden, index, invalid, notSupported, required } from './field-errors.js';
import { isDNS1123Subdomain } from './identifiers.js';
import { asNumber, asObject, asString, objectsOf, type JsonObject } from './json-values.js';
import { validateDNS1123Label, validateLocalDescendingPath } from './containers.js';
import { validateObjectFieldSelector } from './env.js';

const volumeSources = [
  'emptyDir',
  'hostPath',
  'gitRepo',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'secret',
  'nfs',
  'iscsi',
  'glusterfs',
  'flocker',
  'persistentVolumeClaim',
  'rbd',
  'quobyte',
  'cinder',
  'cephfs',
  'flexVolume',
  'downwardAPI',
  'fc',
  'azureFile',
  'vsphereVolume',
  'azureDisk',
  'configMap',
  'photonPersistentDisk',
  'portworxVolume',
  'projected',
  'scaleIO',
  'storageos',
  'csi',
  'ephemeral',
  'image',
];

const fileModeErrorMsg = 'must be a number between 0 and 0777 (octal), both inclusive';
const hostPathTypes = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'];
const downwardAPIVolumeFieldPaths = ['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid'];

function validateMode(mode: unknown, path: string): FieldError[] {
  const n = asNumber(mode);
  return n !== undefined && (n < 0 || n > 0o777) ? [invalid(path, n, fileModeErrorMsg)] : [];
}

/** ValidateLocalNonReservedPath. */
function validateLocalNonReservedPath(target: string, path: string): FieldError[] {
  const errs = validateLocalDescendingPath(target, path);
  if (target.startsWith('..') && !target.startsWith('../')) errs.push(invalid(path, target, "must not start with '..'"));
  return errs;
}

function validateKeyToPaths(items: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  objectsOf(items).forEach((item, i) => {
    const p = index(path, i);
    if (!asString(item['key'])) errs.push(required(child(p, 'key')));
    const itemPath = asString(item['path']);
    if (!itemPath) errs.push(required(child(p, 'path')));
    errs.push(...validateLocalNonReservedPath(itemPath, child(p, 'path')));
    errs.push(...validateMode(item['mode'], child(p, 'mode')));
  });
  return errs;
}

function validateDownwardAPIItems(items: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  objectsOf(items).forEach((item, i) => {
    const p = index(path, i);
    const itemPath = asString(item['path']);
    if (!itemPath) errs.push(required(child(p, 'path')));
    errs.push(...validateLocalNonReservedPath(itemPath, child(p, 'path')));
    errs.push(...validateMode(item['mode'], child(p, 'mode')));
    const fieldRef = asObject(item['fieldRef']);
    const resourceFieldRef = asObject(item['resourceFieldRef']);
    if (fieldRef) errs.push(...validateObjectFieldSelector(fieldRef, downwardAPIVolumeFieldPaths, child(p, 'fieldRef')));
    if (fieldRef && resourceFieldRef) errs.push(invalid(p, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
    if (!fieldRef && !resourceFieldRef) errs.push(required(p, 'one of fieldRef and resourceFieldRef is required'));
  });
  return errs;
}

function validateSource(kind: string, source: JsonObject, path: string): FieldError[] {
  const errs: FieldError[] = [];
  switch (kind) {
    case 'emptyDir': {
      const size = Quantity.tryParse(source['sizeLimit']);
      if (size && size.sign() < 0) errs.push(forbidden(child(path, 'sizeLimit'), 'SizeLimit field must be a valid resource quantity'));
      const medium = asString(source['medium']);
      if (medium && medium !== 'Memory' && !medium.startsWith('HugePages')) errs.push(notSupported(child(path, 'medium'), medium, ['', 'Memory', 'HugePages']));
      break;
    }
    case 'hostPath': {
      const hostPath = asString(source['path']);
      if (!hostPath) errs.push(required(child(path, 'path')));
      else if (hostPath.split(/[\\/]/).includes('..')) errs.push(invalid(child(path, 'path'), hostPath, "must not contain '..'"));
      const type = source['type'];
      if (type !== undefined && type !== null && !hostPathTypes.includes(asString(type))) errs.push(notSupported(child(path, 'type'), type, hostPathTypes));
      break;
    }
    case 'secret': {
      if (!asString(source['secretName'])) errs.push(required(child(path, 'secretName')));
      errs.push(...validateMode(source['defaultMode'], child(path, 'defaultMode')));
      errs.push(...validateKeyToPaths(source['items'], child(path, 'items')));
      break;
    }
    case 'configMap': {
      const name = asString(source['name']);
      if (!name) errs.push(required(child(path, 'name')));
      else for (const msg of isDNS1123Subdomain(name)) errs.push(invalid(child(path, 'name'), name, msg));
      errs.push(...validateMode(source['defaultMode'], child(path, 'defaultMode')));
      errs.push(...validateKeyToPaths(source['items'], child(path, 'items')));
      break;
    }
    case 'persistentVolumeClaim':
      if (!asString(source['claimName'])) errs.push(required(child(path, 'claimName')));
      break;
    case 'nfs': {
      if (!asString(source['server'])) errs.push(required(child(path, 'server')));
      const nfsPath = asString(source['path']);
      if (!nfsPath) errs.push(required(child(path, 'path')));
      else if (!nfsPath.startsWith('/')) errs.push(invalid(child(path, 'path'), nfsPath, 'must be an absolute path'));
      break;
    }
    case 'downwardAPI':
      errs.push(...validateMode(source['defaultMode'], child(path, 'defaultMode')));
      errs.push(...validateDownwardAPIItems(source['items'], child(path, 'items')));
      break;
    case 'projected': {
      errs.push(...validateMode(source['defaultMode'], child(path, 'defaultMode')));
      objectsOf(source['sources']).forEach((projection, i) => {
        const p = index(child(path, 'sources'), i);
        const kinds = ['secret', 'configMap', 'downwardAPI', 'serviceAccountToken', 'clusterTrustBundle'].filter((k) => asObject(projection[k]));
        for (const extra of kinds.slice(1)) errs.push(forbidden(child(p, extra), 'may not specify more than 1 volume type per source'));
        const token = asObject(projection['serviceAccountToken']);
        if (token) {
          const tokenPath = child(p, 'serviceAccountToken');
          const seconds = asNumber(token['expirationSeconds']) ?? 0;
          if (seconds < 600) errs.push(invalid(child(tokenPath, 'expirationSeconds'), seconds, 'may not specify a duration less than 10 minutes'));
          if (seconds > 2 ** 32) errs.push(invalid(child(tokenPath, 'expirationSeconds'), seconds, 'may not specify a duration larger than 2^32 seconds'));
          if (!asString(token['path'])) errs.push(required(child(tokenPath, 'path')));
        }
        const downward = asObject(projection['downwardAPI']);
        if (downward) errs.push(...validateDownwardAPIItems(downward['items'], child(p, 'downwardAPI', 'items')));
        for (const k of ['secret', 'configMap']) {
          const ref = asObject(projection[k]);
          if (ref) errs.push(...validateKeyToPaths(ref['items'], child(p, k, 'items')));
        }
      });
      break;
    }
    case 'csi':
      if (!asString(source['driver'])) errs.push(required(child(path, 'driver')));
      break;
    case 'image':
      if (!asString(source['reference'])) errs.push(required(child(path, 'reference')));
      break;
  }
  return errs;
}

/** ValidateVolumes: the names of valid volumes (for mount checks) and the errors. */
export function validateVolumes(volumes: unknown, path: string): { names: Set<string>; errors: FieldError[] } {
  const names = new Set<string>();
  const errors: FieldError[] = [];
  objectsOf(volumes).forEach((volume, i) => {
    const p = index(path, i);
    const el: FieldError[] = [];
    let count = 0;
    for (const kind of volumeSources) {
      const source = asObject(volume[kind]);
      if (!source) continue;
      if (count > 0) {
        el.push(forbidden(child(p, kind), 'may not specify more than 1 volume type'));
        continue;
      }
      count++;
      el.push(...validateSource(kind, source, child(p, kind)));
    }
    if (count === 0) el.push(required(p, 'must specify a volume type'));
    const name = asString(volume['name']);
    if (!name) el.push(required(child(p, 'name')));
    else el.push(...validateDNS1123Label(name, child(p, 'name')));
    if (names.has(name)) el.push(duplicate(child(p, 'name'), name));
    if (el.length === 0) names.add(name);
    else errors.push(...el);
  });
  return { names, errors };
}
