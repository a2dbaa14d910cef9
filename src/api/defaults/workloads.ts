// apps/v1 and core ReplicationController defaults (SetDefaults_Deployment,
// _ReplicaSet, _StatefulSet, _DaemonSet, _ReplicationController).

import { asObject, ensureObject, objectsOf, type JsonObject } from '../validation/json-values.js';
import { defaultClaimSpec, defaultEmbeddedMetadata, defaultPodTemplate } from './pod.js';

function isUnset(v: unknown): boolean {
  return v === undefined || v === null;
}

/** Status fields without omitempty print as zero before any controller writes them. */
export function defaultStatusZeros(obj: JsonObject, zeros: readonly string[]): void {
  const status = ensureObject(obj, 'status');
  for (const field of zeros) if (isUnset(status[field])) status[field] = 0;
}

export function defaultDeployment(obj: JsonObject): void {
  const spec = ensureObject(obj, 'spec');
  if (isUnset(spec['replicas'])) spec['replicas'] = 1;
  const strategy = ensureObject(spec, 'strategy');
  if (!strategy['type']) strategy['type'] = 'RollingUpdate';
  if (strategy['type'] === 'RollingUpdate') {
    const rollingUpdate = ensureObject(strategy, 'rollingUpdate');
    if (isUnset(rollingUpdate['maxUnavailable'])) rollingUpdate['maxUnavailable'] = '25%';
    if (isUnset(rollingUpdate['maxSurge'])) rollingUpdate['maxSurge'] = '25%';
  }
  if (isUnset(spec['revisionHistoryLimit'])) spec['revisionHistoryLimit'] = 10;
  if (isUnset(spec['progressDeadlineSeconds'])) spec['progressDeadlineSeconds'] = 600;
  defaultPodTemplate(ensureObject(spec, 'template'));
  ensureObject(obj, 'status');
}

export function defaultReplicaSet(obj: JsonObject): void {
  const spec = ensureObject(obj, 'spec');
  if (isUnset(spec['replicas'])) spec['replicas'] = 1;
  defaultPodTemplate(ensureObject(spec, 'template'));
  defaultStatusZeros(obj, ['replicas']);
}

export function defaultStatefulSet(obj: JsonObject): void {
  const spec = ensureObject(obj, 'spec');
  if (!spec['podManagementPolicy']) spec['podManagementPolicy'] = 'OrderedReady';
  const updateStrategy = ensureObject(spec, 'updateStrategy');
  if (!updateStrategy['type']) {
    updateStrategy['type'] = 'RollingUpdate';
    ensureObject(updateStrategy, 'rollingUpdate');
  }
  const rollingUpdate = asObject(updateStrategy['rollingUpdate']);
  if (updateStrategy['type'] === 'RollingUpdate' && rollingUpdate && isUnset(rollingUpdate['partition'])) rollingUpdate['partition'] = 0;
  const retention = ensureObject(spec, 'persistentVolumeClaimRetentionPolicy');
  if (!retention['whenDeleted']) retention['whenDeleted'] = 'Retain';
  if (!retention['whenScaled']) retention['whenScaled'] = 'Retain';
  if (isUnset(spec['replicas'])) spec['replicas'] = 1;
  if (isUnset(spec['revisionHistoryLimit'])) spec['revisionHistoryLimit'] = 10;
  defaultPodTemplate(ensureObject(spec, 'template'));
  for (const claim of objectsOf(spec['volumeClaimTemplates'])) {
    if (!claim['apiVersion']) claim['apiVersion'] = 'v1';
    if (!claim['kind']) claim['kind'] = 'PersistentVolumeClaim';
    defaultEmbeddedMetadata(claim);
    defaultClaimSpec(ensureObject(claim, 'spec'));
    const status = ensureObject(claim, 'status');
    if (!status['phase']) status['phase'] = 'Pending';
  }
  defaultStatusZeros(obj, ['replicas', 'availableReplicas']);
}

export function defaultDaemonSet(obj: JsonObject): void {
  const spec = ensureObject(obj, 'spec');
  const updateStrategy = ensureObject(spec, 'updateStrategy');
  if (!updateStrategy['type']) updateStrategy['type'] = 'RollingUpdate';
  if (updateStrategy['type'] === 'RollingUpdate') {
    const rollingUpdate = ensureObject(updateStrategy, 'rollingUpdate');
    if (isUnset(rollingUpdate['maxUnavailable'])) rollingUpdate['maxUnavailable'] = 1;
    if (isUnset(rollingUpdate['maxSurge'])) rollingUpdate['maxSurge'] = 0;
  }
  if (isUnset(spec['revisionHistoryLimit'])) spec['revisionHistoryLimit'] = 10;
  defaultPodTemplate(ensureObject(spec, 'template'));
  defaultStatusZeros(obj, ['currentNumberScheduled', 'desiredNumberScheduled', 'numberMisscheduled', 'numberReady']);
}

export function defaultReplicationController(obj: JsonObject): void {
  const spec = ensureObject(obj, 'spec');
  const template = asObject(spec['template']);
  const templateLabels = asObject(asObject(template?.['metadata'])?.['labels']);
  if (templateLabels) {
    if (Object.keys(asObject(spec['selector']) ?? {}).length === 0) spec['selector'] = { ...templateLabels };
    const metadata = ensureObject(obj, 'metadata');
    if (Object.keys(asObject(metadata['labels']) ?? {}).length === 0) metadata['labels'] = { ...templateLabels };
  }
  if (isUnset(spec['replicas'])) spec['replicas'] = 1;
  defaultPodTemplate(template);
  defaultStatusZeros(obj, ['replicas']);
}
