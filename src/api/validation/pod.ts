// Pod, pod spec and pod template validation (ValidatePodSpec,
// ValidatePodCreate, ValidatePodUpdate, ValidatePodTemplateSpec).

import type { FieldError } from '../errors.js';
import type { KubeObject } from '../object.js';
import { child, forbidden, index, invalid, key, notSupported, required } from './field-errors.js';
import { inclusiveRangeError, isDNS1123Subdomain, isQualifiedName, isValidIP, isValidLabelValue } from './identifiers.js';
import { asArray, asNumber, asObject, asString, objectsOf, type JsonObject } from './json-values.js';
import { nameIsDNSSubdomain, validateAnnotations, validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import { validateContainers, validateContainersOnlyForPod, validateDNS1123Label, validateEphemeralContainers, validateInitContainers } from './containers.js';
import { validateVolumes } from './volumes.js';
import { describeDifferences, semanticEqual } from './semantic-equal.js';

const MAX_INT32 = 2147483647;
const restartPolicies = ['Always', 'OnFailure', 'Never'];
const dnsPolicies = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const taintEffects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

function subdomainErrors(value: string, path: string): FieldError[] {
  return isDNS1123Subdomain(value).map((msg) => invalid(path, value, msg));
}

export function validateRestartPolicy(policy: unknown, path: string): FieldError[] {
  const p = asString(policy);
  if (!p) return [required(path)];
  return restartPolicies.includes(p) ? [] : [notSupported(path, p, restartPolicies)];
}

export function validateTolerations(tolerations: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  objectsOf(tolerations).forEach((t, i) => {
    const p = index(path, i);
    const key = asString(t['key']);
    const operator = asString(t['operator']);
    const value = asString(t['value']);
    const effect = asString(t['effect']);
    if (key) for (const msg of isQualifiedName(key)) errs.push(invalid(child(p, 'key'), key, msg));
    if (!key && operator !== 'Exists') {
      errs.push(invalid(child(p, 'operator'), operator, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (t['tolerationSeconds'] !== undefined && t['tolerationSeconds'] !== null && effect !== 'NoExecute') {
      errs.push(invalid(child(p, 'effect'), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    switch (operator) {
      case 'Equal':
      case '': {
        const msgs = isValidLabelValue(value);
        if (msgs.length > 0) errs.push(invalid(child(p, 'operator'), value, msgs.join(';')));
        break;
      }
      case 'Exists':
        if (value) errs.push(invalid(child(p, 'operator'), t, "value must be empty when `operator` is 'Exists'"));
        break;
      default:
        errs.push(notSupported(child(p, 'operator'), operator, ['Equal', 'Exists']));
    }
    if (effect && !taintEffects.includes(effect)) errs.push(notSupported(child(p, 'effect'), effect, taintEffects));
  });
  return errs;
}

function validateDNSConfig(spec: JsonObject, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const dnsConfig = asObject(spec['dnsConfig']);
  if (spec['dnsPolicy'] === 'None' && !dnsConfig) return [required(path, 'must provide `dnsConfig` when `dnsPolicy` is None')];
  if (!dnsConfig) return errs;
  const nameservers = asArray(dnsConfig['nameservers']).map(asString);
  if (spec['dnsPolicy'] === 'None' && nameservers.length === 0) errs.push(required(child(path, 'nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None'));
  if (nameservers.length > 3) errs.push(invalid(child(path, 'nameservers'), nameservers, 'must not have more than 3 nameservers'));
  nameservers.forEach((ns, i) => {
    if (isValidIP(ns).length > 0) errs.push(invalid(index(child(path, 'nameservers'), i), ns, 'must be valid IP address'));
  });
  const searches = asArray(dnsConfig['searches']).map(asString);
  if (searches.length > 32) errs.push(invalid(child(path, 'searches'), searches, 'must not have more than 32 search paths'));
  searches.forEach((search, i) => {
    const s = search.endsWith('.') ? search.slice(0, -1) : search;
    if (s === '') return;
    errs.push(...subdomainErrors(s, index(child(path, 'searches'), i)));
  });
  objectsOf(dnsConfig['options']).forEach((option, i) => {
    if (!asString(option['name'])) errs.push(required(child(index(child(path, 'options'), i), 'name'), 'Option.Name must not be empty'));
  });
  return errs;
}

/** ValidatePodSpec. */
export function validatePodSpec(spec: JsonObject, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (spec['terminationGracePeriodSeconds'] === undefined || spec['terminationGracePeriodSeconds'] === null) {
    errs.push(required(child(path, 'terminationGracePeriodSeconds')));
  }
  const volumes = validateVolumes(spec['volumes'], child(path, 'volumes'));
  errs.push(...volumes.errors);
  errs.push(...validateContainers(spec['containers'], volumes.names, child(path, 'containers')));
  errs.push(...validateInitContainers(spec['initContainers'], spec['containers'], volumes.names, child(path, 'initContainers')));
  errs.push(...validateEphemeralContainers(spec['ephemeralContainers'], spec['containers'], spec['initContainers'], volumes.names, child(path, 'ephemeralContainers')));
  errs.push(...validateRestartPolicy(spec['restartPolicy'], child(path, 'restartPolicy')));
  const dnsPolicy = asString(spec['dnsPolicy']);
  if (!dnsPolicy) errs.push(required(child(path, 'dnsPolicy')));
  else if (!dnsPolicies.includes(dnsPolicy)) errs.push(notSupported(child(path, 'dnsPolicy'), dnsPolicy, dnsPolicies));
  errs.push(...validateLabels(spec['nodeSelector'], child(path, 'nodeSelector')));
  const securityContext = asObject(spec['securityContext']);
  for (const field of ['runAsUser', 'runAsGroup', 'fsGroup']) {
    const id = asNumber(securityContext?.[field]);
    if (id !== undefined && (id < 0 || id > MAX_INT32)) errs.push(invalid(child(path, 'securityContext', field), id, inclusiveRangeError(0, MAX_INT32)));
  }
  errs.push(...validateDNSConfig(spec, child(path, 'dnsConfig')));
  for (const field of ['serviceAccountName', 'nodeName', 'priorityClassName']) {
    const value = asString(spec[field]);
    if (value) errs.push(...subdomainErrors(value, child(path, field)));
  }
  const activeDeadline = asNumber(spec['activeDeadlineSeconds']);
  if (activeDeadline !== undefined && (activeDeadline < 1 || activeDeadline > MAX_INT32)) {
    errs.push(invalid(child(path, 'activeDeadlineSeconds'), activeDeadline, inclusiveRangeError(1, MAX_INT32)));
  }
  for (const field of ['hostname', 'subdomain']) {
    const value = asString(spec[field]);
    if (value) errs.push(...validateDNS1123Label(value, child(path, field)));
  }
  errs.push(...validateTolerations(spec['tolerations'], child(path, 'tolerations')));
  const runtimeClassName = spec['runtimeClassName'];
  if (typeof runtimeClassName === 'string') errs.push(...subdomainErrors(runtimeClassName, child(path, 'runtimeClassName')));
  const preemptionPolicy = spec['preemptionPolicy'];
  if (preemptionPolicy !== undefined && preemptionPolicy !== null && preemptionPolicy !== 'Never' && preemptionPolicy !== 'PreemptLowerPriority') {
    errs.push(notSupported(child(path, 'preemptionPolicy'), preemptionPolicy, ['Never', 'PreemptLowerPriority']));
  }
  if (spec['setHostnameAsFQDN'] === true && !asString(spec['subdomain'])) {
    errs.push(invalid(child(path, 'setHostnameAsFQDN'), true, 'subdomain must be set when setHostnameAsFQDN is true'));
  }
  return errs;
}

/** ValidatePodTemplateSpec: labels and annotations are reported under the template path itself. */
export function validatePodTemplateSpec(template: JsonObject | undefined, path: string): FieldError[] {
  if (!template) return [required(path)];
  const metadata = asObject(template['metadata']) ?? {};
  const spec = asObject(template['spec']) ?? {};
  const errs = [...validateLabels(metadata['labels'], child(path, 'labels')), ...validateAnnotations(metadata['annotations'], child(path, 'annotations'))];
  errs.push(...validatePodSpec(spec, child(path, 'spec')));
  if (asArray(spec['ephemeralContainers']).length > 0) errs.push(forbidden(child(path, 'spec', 'ephemeralContainers'), 'ephemeral containers not allowed in pod template'));
  return errs;
}

function validatePodMetadata(pod: KubeObject): FieldError[] {
  return validateObjectMeta(pod.metadata, { namespaced: true, nameRule: nameIsDNSSubdomain });
}

function validatePodMetadataAndSpec(pod: KubeObject): FieldError[] {
  const spec = asObject(pod['spec']) ?? {};
  const errs = validatePodMetadata(pod);
  errs.push(...validatePodSpec(spec, 'spec'));
  if (!asString(spec['serviceAccountName'])) {
    objectsOf(spec['volumes']).forEach((volume, vi) => {
      objectsOf(asObject(volume['projected'])?.['sources']).forEach((source, si) => {
        if (asObject(source['serviceAccountToken'])) {
          errs.push(forbidden(`spec.volumes[${vi}].projected.sources[${si}].serviceAccountToken`, 'must not be specified when serviceAccountName is not set'));
        }
      });
    });
  }
  errs.push(...validateContainersOnlyForPod(spec['containers'], 'spec.containers'));
  errs.push(...validateContainersOnlyForPod(spec['initContainers'], 'spec.initContainers'));
  return errs;
}

/** ValidatePodCreate. */
export function validatePod(pod: KubeObject): FieldError[] {
  const errs = validatePodMetadataAndSpec(pod);
  const spec = asObject(pod['spec']) ?? {};
  if (asArray(spec['ephemeralContainers']).length > 0) errs.push(forbidden('spec.ephemeralContainers', 'cannot be set on create'));
  if (asString(spec['nodeName']) && asArray(spec['schedulingGates']).length > 0) {
    errs.push(forbidden('spec.nodeName', 'cannot be set until all schedulingGates have been cleared'));
  }
  return errs;
}

function validateContainerImageUpdates(next: unknown, prev: unknown, path: string): { errors: FieldError[]; stop: boolean } {
  const n = objectsOf(next);
  if (n.length !== objectsOf(prev).length) return { errors: [forbidden(path, 'pod updates may not add or remove containers')], stop: true };
  const errors: FieldError[] = [];
  n.forEach((c, i) => {
    const image = asString(c['image']);
    if (!image) errors.push(required(child(index(path, i), 'image')));
    if (image !== image.trim()) errors.push(invalid(child(index(path, i), 'image'), image, 'must not have leading or trailing whitespace'));
  });
  return { errors, stop: false };
}

function onlyAddedTolerations(next: unknown, prev: unknown, path: string): FieldError[] {
  // The very same list (an update that leaves the spec alone) changes none.
  if (next === prev) return validateTolerations(next, path);
  const added = objectsOf(next);
  for (const old of objectsOf(prev)) {
    const found = added.some((t) => semanticEqual({ ...old, tolerationSeconds: t['tolerationSeconds'] }, t));
    if (!found) return [forbidden(path, 'existing toleration can not be modified except its tolerationSeconds')];
  }
  return validateTolerations(next, path);
}

export const podUpdateForbiddenMessage =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/**
 * Specs that passed a pod update's checks as the very object the old pod
 * has: the spec of an object the API server keeps, which nothing changes
 * (the test runs freeze cached objects to hold to that). An update that
 * leaves the spec alone (a label or annotation patch, a status-keeping
 * replace through the cache) gives the old spec object again, and every
 * check of it, pure in the spec, would give what it gave the last time.
 * The first update of a pod read from storage still checks its spec in full.
 */
const checkedUnchangedSpecs = new WeakSet<object>();

/** ValidatePodUpdate: most of a pod spec is fixed once the pod exists. */
export function validatePodUpdate(pod: KubeObject, old: KubeObject): FieldError[] {
  const spec = pod['spec'];
  const unchanged = spec === old['spec'] && typeof spec === 'object' && spec !== null;
  const errs = validateObjectMetaUpdate(pod.metadata, old.metadata);
  if (unchanged && checkedUnchangedSpecs.has(spec)) {
    errs.push(...validatePodMetadata(pod));
    return errs;
  }
  validatePodAndSpecUpdate(pod, old, errs);
  if (unchanged && errs.length === 0) checkedUnchangedSpecs.add(spec);
  return errs;
}

/** The rest of ValidatePodUpdate after the metadata update's checks, added to errs. */
function validatePodAndSpecUpdate(pod: KubeObject, old: KubeObject, errs: FieldError[]): FieldError[] {
  errs.push(...validatePodMetadataAndSpec(pod));
  const spec = asObject(pod['spec']) ?? {};
  const oldSpec = asObject(old['spec']) ?? {};
  for (const field of ['containers', 'initContainers']) {
    const { errors, stop } = validateContainerImageUpdates(spec[field], oldSpec[field], `spec.${field}`);
    errs.push(...errors);
    if (stop) return errs;
  }
  const deadline = asNumber(spec['activeDeadlineSeconds']);
  const oldDeadline = asNumber(oldSpec['activeDeadlineSeconds']);
  if (deadline !== undefined) {
    if (deadline < 0 || deadline > MAX_INT32) {
      errs.push(invalid('spec.activeDeadlineSeconds', deadline, inclusiveRangeError(0, MAX_INT32)));
      return errs;
    }
    if (oldDeadline !== undefined && oldDeadline < deadline) {
      errs.push(invalid('spec.activeDeadlineSeconds', deadline, 'must be less than or equal to previous value'));
      return errs;
    }
  } else if (oldDeadline !== undefined) {
    errs.push(invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  }
  errs.push(...onlyAddedTolerations(spec['tolerations'], oldSpec['tolerations'], 'spec.tolerations'));
  const oldGates = asArray(oldSpec['schedulingGates']);
  const newGates = asArray(spec['schedulingGates']);
  if (newGates.some((g) => !oldGates.some((o) => semanticEqual(o, g)))) errs.push(forbidden('spec.schedulingGates', 'only deletion is allowed, but found new scheduling gate'));
  if (semanticEqual(spec, oldSpec)) return errs;

  const munged: JsonObject = { ...spec };
  for (const field of ['containers', 'initContainers']) {
    const oldContainers = objectsOf(oldSpec[field]);
    munged[field] = objectsOf(spec[field]).map((c, i) => ({ ...c, image: oldContainers[i]?.['image'] }));
  }
  munged['activeDeadlineSeconds'] = oldSpec['activeDeadlineSeconds'];
  munged['schedulingGates'] = oldSpec['schedulingGates'];
  munged['tolerations'] = oldSpec['tolerations'];
  const oldGrace = asNumber(oldSpec['terminationGracePeriodSeconds']);
  if (oldGrace !== undefined && oldGrace < 0 && munged['terminationGracePeriodSeconds'] === 1) munged['terminationGracePeriodSeconds'] = oldGrace;
  if (oldGates.length > 0) {
    // A gated pod may gain node selector terms and affinity before it is scheduled.
    munged['nodeSelector'] = oldSpec['nodeSelector'];
    munged['affinity'] = oldSpec['affinity'];
  }
  if (!semanticEqual(munged, oldSpec)) errs.push(forbidden('spec', `${podUpdateForbiddenMessage}\n${describeDifferences('core.PodSpec', oldSpec, munged)}`));
  return errs;
}

/**
 * ValidatePodEphemeralContainersUpdate (pods/ephemeralcontainers): the pod
 * as for any update, and ephemeral containers only added, never changed or
 * removed. Static pods take none.
 */
export function validatePodEphemeralContainersUpdate(pod: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateObjectMetaUpdate(pod.metadata, old.metadata);
  errs.push(...validatePodMetadataAndSpec(pod));
  if (old.metadata.annotations?.['kubernetes.io/config.mirror'] !== undefined) return [forbidden('', 'static pods do not support ephemeral containers')];
  const path = 'spec.ephemeralContainers';
  const added = new Map(objectsOf(asObject(pod['spec'])?.['ephemeralContainers']).map((c) => [asString(c['name']), c]));
  for (const before of objectsOf(asObject(old['spec'])?.['ephemeralContainers'])) {
    const name = asString(before['name']);
    const after = added.get(name);
    if (!after) errs.push(forbidden(path, `existing ephemeral containers ${JSON.stringify(name)} may not be removed\n`));
    else if (!semanticEqual(before, after)) {
      errs.push(forbidden(key(path, name), `existing ephemeral containers ${JSON.stringify(name)} may not be changed\n${describeDifferences('core.EphemeralContainer', before, after)}`));
    }
  }
  return errs;
}

/** Whether a container of this restart policy that ended with exitCode may run again (Kubernetes' ValidateContainerStateTransition). */
function mayRestart(restartPolicy: string, exitCode: number | undefined): boolean {
  if (restartPolicy === 'Never') return false;
  if (restartPolicy === 'OnFailure') return exitCode !== 0;
  return true;
}

function stateTransitionErrors(statuses: unknown, oldStatuses: unknown, path: string, restartPolicy: string): FieldError[] {
  const errs: FieldError[] = [];
  const previous = new Map(objectsOf(oldStatuses).map((s) => [asString(s['name']), s]));
  objectsOf(statuses).forEach((s, i) => {
    const old = previous.get(asString(s['name']));
    const oldTerminated = asObject(asObject(old?.['state'])?.['terminated']);
    if (!oldTerminated) return;
    if (asObject(asObject(s['state'])?.['terminated'])) return;
    if (!mayRestart(restartPolicy, asNumber(oldTerminated['exitCode']))) {
      errs.push(forbidden(child(index(path, i), 'state'), 'may not be transitioned to non-terminated state'));
    }
  });
  return errs;
}

/** ValidatePodStatusUpdate: metadata as for any update, and containers that ended for good stay ended. */
export function validatePodStatusUpdate(pod: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateObjectMetaUpdate(pod.metadata, old.metadata);
  const spec = asObject(old['spec']) ?? {};
  const restartPolicy = asString(spec['restartPolicy']) || 'Always';
  const status = asObject(pod['status']) ?? {};
  const oldStatus = asObject(old['status']) ?? {};
  errs.push(...stateTransitionErrors(status['containerStatuses'], oldStatus['containerStatuses'], 'status.containerStatuses', restartPolicy));
  // Init containers only restart under restartPolicy Always when they failed, as regular ones under OnFailure.
  errs.push(...stateTransitionErrors(status['initContainerStatuses'], oldStatus['initContainerStatuses'], 'status.initContainerStatuses', restartPolicy === 'Never' ? 'Never' : 'OnFailure'));
  return errs;
}
