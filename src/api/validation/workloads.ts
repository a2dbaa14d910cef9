// Controller kinds (pkg/apis/apps/validation and the ReplicationController
// part of core): selectors that must match their templates, replica counts,
// update strategies, and what may change on update.

import type { FieldError } from '../errors.js';
import type { KubeObject } from '../object.js';
import { Selector } from '../labels/index.js';
import { child, forbidden, invalid, isNegativeErrorMsg, notSupported, required } from './field-errors.js';
import { notMoreThan100Percent, validatePositiveIntOrPercent } from './int-or-percent.js';
import { asNumber, asObject, asString, asStringMap, type JsonObject } from './json-values.js';
import { validateLabelSelector, selectorOrUndefined, validateSelectorMatchesTemplate } from './label-selector.js';
import { nameIsDNSLabel, nameIsDNSSubdomain, validateAnnotations, validateImmutableField, validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import { validatePodTemplateSpec } from './pod.js';
import { semanticEqual } from './semantic-equal.js';

function specOf(obj: KubeObject): JsonObject {
  return asObject(obj['spec']) ?? {};
}

function templateOf(spec: JsonObject): JsonObject {
  return asObject(spec['template']) ?? {};
}

function templateLabels(template: JsonObject): unknown {
  return asObject(template['metadata'])?.['labels'];
}

function templateSpec(template: JsonObject): JsonObject {
  return asObject(template['spec']) ?? {};
}

export function validateNonnegativeField(value: unknown, path: string): FieldError[] {
  const n = asNumber(value);
  return n !== undefined && n < 0 ? [invalid(path, n, isNegativeErrorMsg)] : [];
}

/** The selector checks Deployment, ReplicaSet and StatefulSet share. */
function validateStrictSelector(selector: unknown, path: string, emptyMessage: string): FieldError[] {
  if (selector === undefined || selector === null) return [required(path)];
  const errs = validateLabelSelector(selector, path);
  const ls = asObject(selector) ?? {};
  if (Object.keys(asObject(ls['matchLabels']) ?? {}).length + (Array.isArray(ls['matchExpressions']) ? ls['matchExpressions'].length : 0) === 0) {
    errs.push(invalid(path, selector, emptyMessage));
  }
  return errs;
}

/** ValidatePodTemplateSpecForReplicaSet (also used for Deployments). */
function validateTemplateForReplicaSet(template: JsonObject, selector: Selector, templatePath: string, owner: string): FieldError[] {
  const errs = validateSelectorMatchesTemplate(selector, templateLabels(template), child(templatePath, 'metadata', 'labels'));
  errs.push(...validatePodTemplateSpec(template, templatePath));
  const spec = templateSpec(template);
  if (spec['restartPolicy'] !== 'Always') errs.push(notSupported(child(templatePath, 'spec', 'restartPolicy'), spec['restartPolicy'] ?? '', ['Always']));
  if (spec['activeDeadlineSeconds'] !== undefined && spec['activeDeadlineSeconds'] !== null) {
    errs.push(forbidden(child(templatePath, 'spec', 'activeDeadlineSeconds'), `activeDeadlineSeconds in ${owner} is not Supported`));
  }
  return errs;
}

function intOrPercentValue(value: unknown): number {
  if (typeof value === 'number') return value;
  const m = /^([0-9]+)%$/.exec(asString(value));
  return m ? Number(m[1]) : 0;
}

function validateDeploymentStrategy(strategy: JsonObject, path: string): FieldError[] {
  const type = asString(strategy['type']);
  const rollingUpdate = asObject(strategy['rollingUpdate']);
  switch (type) {
    case 'Recreate':
      return rollingUpdate ? [forbidden(child(path, 'rollingUpdate'), "may not be specified when strategy `type` is 'Recreate'")] : [];
    case 'RollingUpdate': {
      if (!rollingUpdate) return [required(child(path, 'rollingUpdate'), 'this should be defaulted and never be nil')];
      const ruPath = child(path, 'rollingUpdate');
      const errs = [
        ...validatePositiveIntOrPercent(rollingUpdate['maxUnavailable'], child(ruPath, 'maxUnavailable')),
        ...validatePositiveIntOrPercent(rollingUpdate['maxSurge'], child(ruPath, 'maxSurge')),
      ];
      if (intOrPercentValue(rollingUpdate['maxUnavailable']) === 0 && intOrPercentValue(rollingUpdate['maxSurge']) === 0) {
        errs.push(invalid(child(ruPath, 'maxUnavailable'), rollingUpdate['maxUnavailable'], 'may not be 0 when `maxSurge` is 0'));
      }
      errs.push(...notMoreThan100Percent(rollingUpdate['maxUnavailable'], child(ruPath, 'maxUnavailable')));
      return errs;
    }
    default:
      return [notSupported(path, strategy, ['Recreate', 'RollingUpdate'])];
  }
}

function validateDeploymentSpec(spec: JsonObject): FieldError[] {
  const errs = validateNonnegativeField(spec['replicas'], 'spec.replicas');
  errs.push(...validateStrictSelector(spec['selector'], 'spec.selector', 'empty selector is invalid for deployment'));
  const selector = selectorOrUndefined(spec['selector']);
  if (!selector) errs.push(invalid('spec.selector', spec['selector'], 'invalid label selector'));
  else errs.push(...validateTemplateForReplicaSet(templateOf(spec), selector, 'spec.template', 'ReplicaSet'));
  errs.push(...validateDeploymentStrategy(asObject(spec['strategy']) ?? {}, 'spec.strategy'));
  errs.push(...validateNonnegativeField(spec['minReadySeconds'], 'spec.minReadySeconds'));
  errs.push(...validateNonnegativeField(spec['revisionHistoryLimit'], 'spec.revisionHistoryLimit'));
  const deadline = asNumber(spec['progressDeadlineSeconds']);
  if (deadline !== undefined) {
    errs.push(...validateNonnegativeField(deadline, 'spec.progressDeadlineSeconds'));
    if (deadline <= (asNumber(spec['minReadySeconds']) ?? 0)) errs.push(invalid('spec.progressDeadlineSeconds', deadline, 'must be greater than minReadySeconds'));
  }
  return errs;
}

export function validateDeployment(obj: KubeObject, old?: KubeObject): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(obj.metadata, old.metadata) : validateObjectMeta(obj.metadata, { namespaced: true, nameRule: nameIsDNSSubdomain });
  errs.push(...validateDeploymentSpec(specOf(obj)));
  if (old) errs.push(...validateImmutableField(specOf(obj)['selector'], specOf(old)['selector'], 'spec.selector'));
  return errs;
}

function validateReplicaSetSpec(spec: JsonObject): FieldError[] {
  const errs = [...validateNonnegativeField(spec['replicas'], 'spec.replicas'), ...validateNonnegativeField(spec['minReadySeconds'], 'spec.minReadySeconds')];
  // Kubernetes reuses the Deployment wording here.
  errs.push(...validateStrictSelector(spec['selector'], 'spec.selector', 'empty selector is invalid for deployment'));
  const selector = selectorOrUndefined(spec['selector']);
  if (!selector) errs.push(invalid('spec.selector', spec['selector'], 'invalid label selector'));
  else errs.push(...validateTemplateForReplicaSet(templateOf(spec), selector, 'spec.template', 'ReplicaSet'));
  return errs;
}

export function validateReplicaSet(obj: KubeObject, old?: KubeObject): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(obj.metadata, old.metadata) : validateObjectMeta(obj.metadata, { namespaced: true, nameRule: nameIsDNSSubdomain });
  errs.push(...validateReplicaSetSpec(specOf(obj)));
  if (old) errs.push(...validateImmutableField(specOf(obj)['selector'], specOf(old)['selector'], 'spec.selector'));
  return errs;
}

function validateStatefulSetSpec(spec: JsonObject): FieldError[] {
  const errs: FieldError[] = [];
  const policy = asString(spec['podManagementPolicy']);
  if (!policy) errs.push(required('spec.podManagementPolicy'));
  else if (policy !== 'OrderedReady' && policy !== 'Parallel') errs.push(invalid('spec.podManagementPolicy', policy, "must be 'OrderedReady' or 'Parallel'"));
  const updateStrategy = asObject(spec['updateStrategy']) ?? {};
  const rollingUpdate = asObject(updateStrategy['rollingUpdate']);
  switch (asString(updateStrategy['type'])) {
    case '':
      errs.push(required('spec.updateStrategy'));
      break;
    case 'OnDelete':
      if (rollingUpdate) errs.push(invalid('spec.updateStrategy.rollingUpdate', rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
      break;
    case 'RollingUpdate':
      if (rollingUpdate) {
        errs.push(...validateNonnegativeField(rollingUpdate['partition'], 'spec.updateStrategy.rollingUpdate.partition'));
        const maxUnavailable = rollingUpdate['maxUnavailable'];
        if (maxUnavailable !== undefined && maxUnavailable !== null) {
          errs.push(...validatePositiveIntOrPercent(maxUnavailable, 'spec.updateStrategy.rollingUpdate.maxUnavailable'));
          if (intOrPercentValue(maxUnavailable) === 0) errs.push(invalid('spec.updateStrategy.rollingUpdate.maxUnavailable', maxUnavailable, 'must be greater than 0'));
          errs.push(...notMoreThan100Percent(maxUnavailable, 'spec.updateStrategy.rollingUpdate.maxUnavailable'));
        }
      }
      break;
    default:
      errs.push(invalid('spec.updateStrategy', updateStrategy, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  const retention = asObject(spec['persistentVolumeClaimRetentionPolicy']);
  if (retention) {
    for (const field of ['whenDeleted', 'whenScaled']) {
      const value = asString(retention[field]);
      if (value !== 'Retain' && value !== 'Delete') {
        errs.push(notSupported(`spec.persistentVolumeClaimRetentionPolicy.${field}`, value, ['Retain', 'Delete']));
      }
    }
  }
  errs.push(...validateNonnegativeField(spec['replicas'], 'spec.replicas'));
  errs.push(...validateNonnegativeField(spec['minReadySeconds'], 'spec.minReadySeconds'));
  errs.push(...validateNonnegativeField(asObject(spec['ordinals'])?.['start'], 'spec.ordinals.start'));
  errs.push(...validateStrictSelector(spec['selector'], 'spec.selector', 'empty selector is invalid for statefulset'));
  const selector = selectorOrUndefined(spec['selector']);
  const template = templateOf(spec);
  if (!selector) {
    errs.push(invalid('spec.selector', spec['selector'], ''));
  } else {
    // Kubernetes checks only the template's labels and annotations here; the
    // pod spec is validated when the controller creates the pods.
    errs.push(...validateSelectorMatchesTemplate(selector, templateLabels(template), 'spec.template.metadata.labels'));
    const metadata = asObject(template['metadata']) ?? {};
    errs.push(...validateLabels(metadata['labels'], 'spec.template.labels'));
    errs.push(...validateAnnotations(metadata['annotations'], 'spec.template.annotations'));
  }
  const podSpec = templateSpec(template);
  if (podSpec['restartPolicy'] !== 'Always') errs.push(notSupported('spec.template.spec.restartPolicy', podSpec['restartPolicy'] ?? '', ['Always']));
  if (podSpec['activeDeadlineSeconds'] !== undefined && podSpec['activeDeadlineSeconds'] !== null) {
    errs.push(forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in StatefulSet is not Supported'));
  }
  return errs;
}

const statefulSetMutableFields = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

export function validateStatefulSet(obj: KubeObject, old?: KubeObject): FieldError[] {
  // On update the name is not revalidated: older releases allowed subdomain names.
  const errs = old ? validateObjectMetaUpdate(obj.metadata, old.metadata) : validateObjectMeta(obj.metadata, { namespaced: true, nameRule: nameIsDNSLabel });
  const spec = specOf(obj);
  errs.push(...validateStatefulSetSpec(spec));
  if (old) {
    const oldSpec = specOf(old);
    const munged: JsonObject = { ...spec };
    for (const field of statefulSetMutableFields) munged[field] = oldSpec[field];
    if (!semanticEqual(munged, oldSpec)) {
      errs.push(
        forbidden(
          'spec',
          "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        ),
      );
    }
  }
  return errs;
}

function validateDaemonSetSpec(spec: JsonObject): FieldError[] {
  const errs = validateLabelSelector(spec['selector'], 'spec.selector');
  const template = templateOf(spec);
  const selector = selectorOrUndefined(spec['selector']);
  if (selector && !selector.matches(asStringMap(templateLabels(template)))) {
    errs.push(invalid('spec.template.metadata.labels', templateLabels(template) ?? null, '`selector` does not match template `labels`'));
  }
  const ls = asObject(spec['selector']);
  if (ls && Object.keys(asObject(ls['matchLabels']) ?? {}).length + (Array.isArray(ls['matchExpressions']) ? ls['matchExpressions'].length : 0) === 0) {
    errs.push(invalid('spec.selector', ls, 'empty selector is invalid for daemonset'));
  }
  errs.push(...validatePodTemplateSpec(template, 'spec.template'));
  const podSpec = templateSpec(template);
  if (podSpec['restartPolicy'] !== 'Always') errs.push(notSupported('spec.template.spec.restartPolicy', podSpec['restartPolicy'] ?? '', ['Always']));
  if (podSpec['activeDeadlineSeconds'] !== undefined && podSpec['activeDeadlineSeconds'] !== null) {
    errs.push(invalid('spec.template.spec.activeDeadlineSeconds', podSpec['activeDeadlineSeconds'], 'activeDeadlineSeconds must be nil for daemonset'));
  }
  errs.push(...validateNonnegativeField(spec['minReadySeconds'], 'spec.minReadySeconds'));
  errs.push(...validateNonnegativeField(spec['templateGeneration'], 'spec.templateGeneration'));
  const strategy = asObject(spec['updateStrategy']) ?? {};
  const type = asString(strategy['type']);
  if (type === 'RollingUpdate') {
    const ru = asObject(strategy['rollingUpdate']);
    if (!ru) {
      errs.push(required('spec.updateStrategy.rollingUpdate', ''));
    } else {
      const ruPath = 'spec.updateStrategy.rollingUpdate';
      errs.push(...validatePositiveIntOrPercent(ru['maxUnavailable'], `${ruPath}.maxUnavailable`));
      errs.push(...validatePositiveIntOrPercent(ru['maxSurge'], `${ruPath}.maxSurge`));
      const hasUnavailable = intOrPercentValue(ru['maxUnavailable']) !== 0;
      const hasSurge = intOrPercentValue(ru['maxSurge']) !== 0;
      if (!hasUnavailable && !hasSurge) errs.push(invalid(`${ruPath}.maxUnavailable`, ru['maxUnavailable'], 'may not be 0 when `maxSurge` is 0'));
      if (hasUnavailable && hasSurge) errs.push(invalid(`${ruPath}.maxSurge`, ru['maxSurge'], 'may not be set when maxUnavailable is non-zero'));
      errs.push(...notMoreThan100Percent(ru['maxUnavailable'], `${ruPath}.maxUnavailable`));
    }
  } else if (type !== 'OnDelete') {
    errs.push(notSupported('spec.updateStrategy', strategy, ['OnDelete', 'RollingUpdate']));
  }
  errs.push(...validateNonnegativeField(spec['revisionHistoryLimit'], 'spec.revisionHistoryLimit'));
  return errs;
}

export function validateDaemonSet(obj: KubeObject, old?: KubeObject): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(obj.metadata, old.metadata) : validateObjectMeta(obj.metadata, { namespaced: true, nameRule: nameIsDNSSubdomain });
  errs.push(...validateDaemonSetSpec(specOf(obj)));
  if (old) errs.push(...validateImmutableField(specOf(obj)['selector'], specOf(old)['selector'], 'spec.selector'));
  return errs;
}

export function validateReplicationController(obj: KubeObject, old?: KubeObject): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(obj.metadata, old.metadata) : validateObjectMeta(obj.metadata, { namespaced: true, nameRule: nameIsDNSSubdomain });
  const spec = specOf(obj);
  errs.push(...validateNonnegativeField(spec['minReadySeconds'], 'spec.minReadySeconds'));
  const selector = Selector.fromSet(asStringMap(spec['selector']));
  if (selector.empty()) errs.push(required('spec.selector'));
  errs.push(...validateNonnegativeField(spec['replicas'], 'spec.replicas'));
  const template = asObject(spec['template']);
  if (!template) {
    errs.push(required('spec.template'));
  } else {
    errs.push(...validateSelectorMatchesTemplate(selector, templateLabels(template), 'spec.template.metadata.labels'));
    errs.push(...validatePodTemplateSpec(template, 'spec.template'));
    const podSpec = templateSpec(template);
    if (podSpec['restartPolicy'] !== 'Always') errs.push(notSupported('spec.template.spec.restartPolicy', podSpec['restartPolicy'] ?? '', ['Always']));
    if (podSpec['activeDeadlineSeconds'] !== undefined && podSpec['activeDeadlineSeconds'] !== null) {
      errs.push(forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in ReplicationController is not Supported'));
    }
  }
  return errs;
}

export function validatePodTemplateKind(obj: KubeObject, old?: KubeObject): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(obj.metadata, old.metadata) : validateObjectMeta(obj.metadata, { namespaced: true, nameRule: nameIsDNSSubdomain });
  errs.push(...validatePodTemplateSpec(asObject(obj['template']), 'template'));
  return errs;
}
