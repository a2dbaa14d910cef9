// Job and CronJob validation (pkg/apis/batch/validation).

import type { FieldError } from '../errors.js';
import type { KubeObject } from '../object.js';
import { child, invalid, notSupported, required } from './field-errors.js';
import { asNumber, asObject, asString, asStringMap, type JsonObject } from './json-values.js';
import { selectorMismatchMessage, selectorOrUndefined, validateLabelSelector } from './label-selector.js';
import { nameIsDNSSubdomain, validateImmutableField, validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import { validatePodTemplateSpec } from './pod.js';
import { validateNonnegativeField } from './workloads.js';
import { cronScheduleError } from './cron-schedule.js';
import { isDNS1123Label } from './identifiers.js';
import { semanticEqual } from './semantic-equal.js';

const MAX_PARALLELISM_FOR_INDEXED_JOB = 100000;
export const legacyControllerUidLabel = 'controller-uid';
export const legacyJobNameLabel = 'job-name';
export const controllerUidLabel = 'batch.kubernetes.io/controller-uid';
export const jobNameLabel = 'batch.kubernetes.io/job-name';

function specOf(obj: KubeObject | JsonObject): JsonObject {
  return asObject((obj as JsonObject)['spec']) ?? {};
}

function templateOf(spec: JsonObject): JsonObject {
  return asObject(spec['template']) ?? {};
}

/** validateJobSpec: what a Job and a CronJob's job template share. */
function validateJobSpecCommon(spec: JsonObject, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const field of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished', 'backoffLimitPerIndex', 'maxFailedIndexes']) {
    errs.push(...validateNonnegativeField(spec[field], child(path, field)));
  }
  const mode = spec['completionMode'];
  if (mode !== undefined && mode !== null) {
    if (mode !== 'NonIndexed' && mode !== 'Indexed') errs.push(notSupported(child(path, 'completionMode'), mode, ['NonIndexed', 'Indexed']));
    if (mode === 'Indexed') {
      if (spec['completions'] === undefined || spec['completions'] === null) errs.push(required(child(path, 'completions'), 'when completion mode is Indexed'));
      const parallelism = asNumber(spec['parallelism']);
      if (parallelism !== undefined && parallelism > MAX_PARALLELISM_FOR_INDEXED_JOB) {
        errs.push(invalid(child(path, 'parallelism'), parallelism, `must be less than or equal to ${MAX_PARALLELISM_FOR_INDEXED_JOB} when completion mode is Indexed`));
      }
    }
  }
  const replacement = spec['podReplacementPolicy'];
  if (replacement !== undefined && replacement !== null && replacement !== 'TerminatingOrFailed' && replacement !== 'Failed') {
    errs.push(notSupported(child(path, 'podReplacementPolicy'), replacement, ['TerminatingOrFailed', 'Failed']));
  }
  const template = templateOf(spec);
  errs.push(...validatePodTemplateSpec(template, child(path, 'template')));
  const restartPolicy = asString(asObject(template['spec'])?.['restartPolicy']);
  const restartPath = child(path, 'template', 'spec', 'restartPolicy');
  if (restartPolicy === 'Always' || restartPolicy === '') {
    errs.push(required(restartPath, 'valid values: "OnFailure", "Never"'));
  } else if (restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') {
    errs.push(notSupported(restartPath, restartPolicy, ['OnFailure', 'Never']));
  } else if (asObject(spec['podFailurePolicy']) && restartPolicy !== 'Never') {
    errs.push(invalid(restartPath, restartPolicy, 'only "Never" is supported when podFailurePolicy is specified'));
  }
  return errs;
}

/** ValidateJobSpec: selector required and matching the template. */
function validateJobSpec(spec: JsonObject, path: string): FieldError[] {
  const errs = validateJobSpecCommon(spec, path);
  if (spec['selector'] === undefined || spec['selector'] === null) errs.push(required(child(path, 'selector')));
  else errs.push(...validateLabelSelector(spec['selector'], child(path, 'selector')));
  const selector = selectorOrUndefined(spec['selector']);
  const labels = asObject(templateOf(spec)['metadata'])?.['labels'];
  if (selector && !selector.matches(asStringMap(labels))) errs.push(invalid(child(path, 'template', 'metadata', 'labels'), labels ?? null, selectorMismatchMessage));
  return errs;
}

function validateHasLabel(labels: Record<string, string>, path: string, key: string, expected: string): FieldError[] {
  if (!(key in labels)) return [required(`${path}[${key}]`, expected)];
  return labels[key] === expected ? [] : [invalid(`${path}[${key}]`, labels, `must be '${expected}'`)];
}

/** ValidateGeneratedSelector: a generated selector must select the labels the Job strategy put on the template. */
function validateGeneratedSelector(job: KubeObject): FieldError[] {
  const spec = specOf(job);
  if (spec['manualSelector'] === true || spec['selector'] === undefined || spec['selector'] === null) return [];
  const errs: FieldError[] = [];
  const uid = asString(job.metadata?.uid);
  const name = asString(job.metadata?.name);
  if (!uid) errs.push(required('metadata.uid'));
  const labels = asStringMap(asObject(templateOf(spec)['metadata'])?.['labels']);
  const labelsPath = 'spec.template.metadata.labels';
  errs.push(...validateHasLabel(labels, labelsPath, legacyControllerUidLabel, uid));
  errs.push(...validateHasLabel(labels, labelsPath, legacyJobNameLabel, name));
  errs.push(...validateHasLabel(labels, labelsPath, controllerUidLabel, uid));
  errs.push(...validateHasLabel(labels, labelsPath, jobNameLabel, name));
  const selector = selectorOrUndefined(spec['selector']);
  const expected = { [controllerUidLabel]: uid, [jobNameLabel]: name, [legacyControllerUidLabel]: uid, [legacyJobNameLabel]: name };
  if (selector && !selector.matches(expected)) errs.push(invalid('spec.selector', spec['selector'], '`selector` not auto-generated'));
  return errs;
}

/** Scheduling directives of a suspended Job that never started may still change. */
const mutableWhileSuspended = ['nodeSelector', 'affinity', 'tolerations', 'schedulingGates'];

export function validateJob(job: KubeObject, old?: KubeObject): FieldError[] {
  const spec = specOf(job);
  if (!old) {
    const errs = validateObjectMeta(job.metadata, { namespaced: true, nameRule: nameIsDNSSubdomain });
    errs.push(...validateGeneratedSelector(job));
    errs.push(...validateJobSpec(spec, 'spec'));
    const completions = asNumber(spec['completions']);
    if (spec['completionMode'] === 'Indexed' && completions !== undefined && completions > 0) {
      const hostname = `${asString(job.metadata?.name)}-${completions - 1}`;
      if (isDNS1123Label(hostname).length > 0) {
        errs.push(invalid('metadata.name', asString(job.metadata?.name), `will not able to create pod with invalid DNS label: ${hostname}`));
      }
    }
    return errs;
  }
  const oldSpec = specOf(old);
  const errs = validateObjectMetaUpdate(job.metadata, old.metadata);
  errs.push(...validateJobSpec(spec, 'spec'));
  const elastic = spec['completionMode'] === 'Indexed' && !semanticEqual(spec['completions'], oldSpec['completions']);
  if (!elastic) errs.push(...validateImmutableField(spec['completions'], oldSpec['completions'], 'spec.completions'));
  else if (spec['completions'] !== undefined && spec['completions'] !== spec['parallelism']) {
    errs.push(invalid('spec.completions', spec['completions'], 'can only be modified in tandem with spec.parallelism'));
  }
  errs.push(...validateImmutableField(spec['selector'], oldSpec['selector'], 'spec.selector'));
  let template: unknown = spec['template'];
  const oldTemplate = asObject(oldSpec['template']) ?? {};
  const neverStarted = !asObject(old['status'])?.['startTime'];
  if (oldSpec['suspend'] === true && neverStarted) {
    const t = templateOf(spec);
    const podSpec = { ...(asObject(t['spec']) ?? {}) };
    const oldPodSpec = asObject(oldTemplate['spec']) ?? {};
    for (const field of mutableWhileSuspended) podSpec[field] = oldPodSpec[field];
    const metadata = { ...(asObject(t['metadata']) ?? {}), labels: asObject(oldTemplate['metadata'])?.['labels'], annotations: asObject(oldTemplate['metadata'])?.['annotations'] };
    template = { ...t, metadata, spec: podSpec };
    if (!semanticEqual(template, oldTemplate)) template = spec['template'];
  }
  errs.push(...validateImmutableField(template, oldTemplate, 'spec.template'));
  for (const field of ['completionMode', 'podFailurePolicy', 'backoffLimitPerIndex', 'managedBy']) {
    errs.push(...validateImmutableField(spec[field], oldSpec[field], `spec.${field}`));
  }
  return errs;
}

/** validateTimeZone: an IANA zone name, never "Local". */
function validateTimeZone(timeZone: unknown, path: string): FieldError[] {
  if (timeZone === undefined || timeZone === null) return [];
  const tz = asString(timeZone);
  if (tz.length === 0) return [invalid(path, tz, 'timeZone must be nil or non-empty string')];
  for (const part of tz.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !/^[A-Za-z.\-_0-9+]{1,14}$/.test(part)) return [invalid(path, tz, `unknown time zone ${tz}`)];
  }
  if (tz.toLowerCase() === 'local') return [invalid(path, tz, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones')];
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    return [invalid(path, tz, `unknown time zone ${tz}`)];
  }
  return [];
}

function validateCronJobSpec(spec: JsonObject, oldSpec: JsonObject | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const schedule = asString(spec['schedule']);
  if (!schedule) {
    errs.push(required('spec.schedule'));
  } else {
    const parseError = cronScheduleError(schedule);
    if (parseError) errs.push(invalid('spec.schedule', schedule, parseError));
    const allowTZ = oldSpec !== undefined && asString(oldSpec['schedule']).includes('TZ');
    if (allowTZ && schedule.includes('TZ') && spec['timeZone'] !== undefined && spec['timeZone'] !== null) {
      errs.push(invalid('spec.schedule', schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
    } else if (!allowTZ && schedule.includes('TZ')) {
      errs.push(invalid('spec.schedule', schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
    }
  }
  errs.push(...validateNonnegativeField(spec['startingDeadlineSeconds'], 'spec.startingDeadlineSeconds'));
  if (!oldSpec || !semanticEqual(oldSpec['timeZone'], spec['timeZone'])) errs.push(...validateTimeZone(spec['timeZone'], 'spec.timeZone'));
  const policy = asString(spec['concurrencyPolicy']);
  if (!policy) errs.push(required('spec.concurrencyPolicy'));
  else if (!['Allow', 'Forbid', 'Replace'].includes(policy)) errs.push(notSupported('spec.concurrencyPolicy', policy, ['Allow', 'Forbid', 'Replace']));
  const jobTemplate = asObject(spec['jobTemplate']) ?? {};
  const jobSpec = asObject(jobTemplate['spec']) ?? {};
  errs.push(...validateJobSpecCommon(jobSpec, 'spec.jobTemplate.spec'));
  if (jobSpec['selector'] !== undefined && jobSpec['selector'] !== null) errs.push(invalid('spec.jobTemplate.spec.selector', jobSpec['selector'], '`selector` will be auto-generated'));
  if (jobSpec['manualSelector'] === true) errs.push(notSupported('spec.jobTemplate.spec.manualSelector', true, ['nil', 'false']));
  errs.push(...validateNonnegativeField(spec['successfulJobsHistoryLimit'], 'spec.successfulJobsHistoryLimit'));
  errs.push(...validateNonnegativeField(spec['failedJobsHistoryLimit'], 'spec.failedJobsHistoryLimit'));
  return errs;
}

/** The CronJob controller appends an 11-character suffix to job names, which are limited to 63. */
const maxCronJobNameLength = 52;

export function validateCronJob(cronJob: KubeObject, old?: KubeObject): FieldError[] {
  if (old) return [...validateObjectMetaUpdate(cronJob.metadata, old.metadata), ...validateCronJobSpec(specOf(cronJob), specOf(old))];
  const errs = validateObjectMeta(cronJob.metadata, { namespaced: true, nameRule: nameIsDNSSubdomain });
  errs.push(...validateCronJobSpec(specOf(cronJob), undefined));
  const name = asString(cronJob.metadata?.name);
  if (name.length > maxCronJobNameLength) errs.push(invalid('metadata.name', name, `must be no more than ${maxCronJobNameLength} characters`));
  return errs;
}
