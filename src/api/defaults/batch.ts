// batch/v1 defaults: SetDefaults_Job and SetDefaults_CronJob. The Job's
// selector and generated labels come from the Job strategy, not from here.

import { asObject, ensureObject, objectsOf, type JsonObject } from '../validation/json-values.js';
import { defaultEmbeddedMetadata, defaultPodTemplate } from './pod.js';

const MAX_INT32 = 2147483647;

function isUnset(v: unknown): boolean {
  return v === undefined || v === null;
}

export function defaultJob(obj: JsonObject): void {
  const spec = ensureObject(obj, 'spec');
  if (isUnset(spec['completions']) && isUnset(spec['parallelism'])) {
    spec['completions'] = 1;
    spec['parallelism'] = 1;
  }
  if (isUnset(spec['parallelism'])) spec['parallelism'] = 1;
  if (isUnset(spec['backoffLimit'])) spec['backoffLimit'] = isUnset(spec['backoffLimitPerIndex']) ? 6 : MAX_INT32;
  const template = ensureObject(spec, 'template');
  const templateLabels = asObject(asObject(template['metadata'])?.['labels']);
  const metadata = ensureObject(obj, 'metadata');
  if (templateLabels && Object.keys(asObject(metadata['labels']) ?? {}).length === 0) metadata['labels'] = { ...templateLabels };
  if (isUnset(spec['completionMode'])) spec['completionMode'] = 'NonIndexed';
  if (isUnset(spec['suspend'])) spec['suspend'] = false;
  const podFailurePolicy = asObject(spec['podFailurePolicy']);
  for (const rule of objectsOf(podFailurePolicy?.['rules'])) {
    for (const pattern of objectsOf(rule['onPodConditions'])) if (!pattern['status']) pattern['status'] = 'True';
  }
  if (isUnset(spec['podReplacementPolicy'])) spec['podReplacementPolicy'] = podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  defaultPodTemplate(template);
  ensureObject(obj, 'status');
}

export function defaultCronJob(obj: JsonObject): void {
  const spec = ensureObject(obj, 'spec');
  if (!spec['concurrencyPolicy']) spec['concurrencyPolicy'] = 'Allow';
  if (isUnset(spec['suspend'])) spec['suspend'] = false;
  if (isUnset(spec['successfulJobsHistoryLimit'])) spec['successfulJobsHistoryLimit'] = 3;
  if (isUnset(spec['failedJobsHistoryLimit'])) spec['failedJobsHistoryLimit'] = 1;
  const jobTemplate = ensureObject(spec, 'jobTemplate');
  defaultEmbeddedMetadata(jobTemplate);
  defaultPodTemplate(ensureObject(ensureObject(jobTemplate, 'spec'), 'template'));
  ensureObject(obj, 'status');
}
