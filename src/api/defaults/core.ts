// Defaults of the core/v1 kinds besides pods, workloads and services.

import { asObject, asString, ensureObject, objectsOf, type JsonObject } from '../validation/json-values.js';
import { canonicalizeResourceList } from './quantities.js';
import { defaultClaimSpec, defaultPodTemplate, defaultVolumeSource } from './pod.js';

export const namespaceNameLabel = 'kubernetes.io/metadata.name';

/** SetDefaults_Namespace: the immutable name label (the Namespace strategy sets it too). */
export function defaultNamespace(obj: JsonObject): void {
  const metadata = ensureObject(obj, 'metadata');
  const name = asString(metadata['name']);
  if (name) ensureObject(metadata, 'labels')[namespaceNameLabel] = name;
  const status = asObject(obj['status']);
  if (status && !status['phase']) status['phase'] = 'Active';
}

/**
 * What the Namespace strategy adds on create: the "kubernetes" finalizer, phase
 * Active and the name label. Idempotent.
 */
export function prepareNamespaceForCreate(obj: JsonObject): void {
  const spec = ensureObject(obj, 'spec');
  const finalizers = Array.isArray(spec['finalizers']) ? (spec['finalizers'] as unknown[]) : [];
  if (!finalizers.includes('kubernetes')) spec['finalizers'] = [...finalizers, 'kubernetes'];
  obj['status'] = { phase: 'Active' };
  defaultNamespace(obj);
}

/** SetDefaults_Secret plus the v1 conversion that folds stringData into data. */
export function defaultSecret(obj: JsonObject): void {
  const stringData = asObject(obj['stringData']);
  if (stringData) {
    const data = ensureObject(obj, 'data');
    for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(asString(v), 'utf8').toString('base64');
    delete obj['stringData'];
  }
  if (!obj['type']) obj['type'] = 'Opaque';
}

export function defaultPersistentVolumeClaim(obj: JsonObject): void {
  defaultClaimSpec(ensureObject(obj, 'spec'));
  const status = ensureObject(obj, 'status');
  if (!status['phase']) status['phase'] = 'Pending';
  canonicalizeResourceList(status, 'capacity');
  canonicalizeResourceList(status, 'allocatedResources');
}

export function defaultPersistentVolume(obj: JsonObject): void {
  const spec = ensureObject(obj, 'spec');
  if (!spec['persistentVolumeReclaimPolicy']) spec['persistentVolumeReclaimPolicy'] = 'Retain';
  if (!spec['volumeMode']) spec['volumeMode'] = 'Filesystem';
  defaultVolumeSource(spec);
  canonicalizeResourceList(spec, 'capacity');
  const status = ensureObject(obj, 'status');
  if (!status['phase']) status['phase'] = 'Pending';
}

export function defaultEndpoints(obj: JsonObject): void {
  for (const subset of objectsOf(obj['subsets'])) {
    for (const port of objectsOf(subset['ports'])) if (!port['protocol']) port['protocol'] = 'TCP';
  }
}

/** SetDefaults_NodeStatus: allocatable defaults to capacity. */
export function defaultNode(obj: JsonObject): void {
  const status = asObject(obj['status']);
  if (!status) return;
  canonicalizeResourceList(status, 'capacity');
  canonicalizeResourceList(status, 'allocatable');
  const capacity = asObject(status['capacity']);
  if (capacity && status['allocatable'] === undefined) status['allocatable'] = { ...capacity };
}

/** SetDefaults_LimitRangeItem: container defaults fall back to max, default requests to defaults, then min. */
export function defaultLimitRange(obj: JsonObject): void {
  for (const item of objectsOf(asObject(obj['spec'])?.['limits'])) {
    for (const field of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) canonicalizeResourceList(item, field);
    if (item['type'] !== 'Container') continue;
    const fill = (target: string, source: string): void => {
      const from = asObject(item[source]);
      if (!from) return;
      const to = ensureObject(item, target);
      for (const [k, v] of Object.entries(from)) if (to[k] === undefined) to[k] = v;
    };
    fill('default', 'max');
    fill('defaultRequest', 'default');
    fill('defaultRequest', 'min');
  }
}

export function defaultResourceQuota(obj: JsonObject): void {
  canonicalizeResourceList(asObject(obj['spec']), 'hard');
  const status = asObject(obj['status']);
  canonicalizeResourceList(status, 'hard');
  canonicalizeResourceList(status, 'used');
}

/** Non-omitempty Event fields print as empty strings and null times. */
export function defaultEvent(obj: JsonObject): void {
  for (const field of ['eventTime', 'firstTimestamp', 'lastTimestamp']) if (obj[field] === undefined) obj[field] = null;
  for (const field of ['reportingComponent', 'reportingInstance']) if (obj[field] === undefined) obj[field] = '';
  ensureObject(obj, 'involvedObject');
  ensureObject(obj, 'source');
}

export function defaultPodTemplateKind(obj: JsonObject): void {
  defaultPodTemplate(ensureObject(obj, 'template'));
}
