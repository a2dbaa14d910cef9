// PodDisruptionBudget validation (policy's ValidatePodDisruptionBudget) and
// the object metadata checks the generic registry adds to it.

import type { FieldError } from '../errors.js';
import type { KubeObject } from '../object.js';
import { invalid, notSupported } from './field-errors.js';
import { isValidLabelValue } from './identifiers.js';
import { notMoreThan100Percent, validatePositiveIntOrPercent } from './int-or-percent.js';
import { asArray, asObject, asString, objectsOf, type JsonObject } from './json-values.js';
import { validateLabelSelector } from './label-selector.js';
import { nameIsPathSegment, validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';

const unhealthyPodEvictionPolicies = ['AlwaysAllow', 'IfHealthyBudget'];

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** A stored budget whose selector has label values no longer valid keeps them on update (hasInvalidLabelValueInLabelSelector). */
function hasInvalidLabelValueInSelector(pdb: KubeObject | undefined): boolean {
  const selector = asObject(asObject(pdb?.['spec'])?.['selector']);
  return objectsOf(selector?.['matchExpressions']).some((expr) => asArray(expr['values']).some((v) => isValidLabelValue(asString(v)).length > 0));
}

function validateSpec(spec: JsonObject, allowInvalidLabelValueInSelector: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const { minAvailable, maxUnavailable } = spec;
  if (isSet(minAvailable) && isSet(maxUnavailable)) errs.push(invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  for (const [field, value] of [
    ['minAvailable', minAvailable],
    ['maxUnavailable', maxUnavailable],
  ] as const) {
    if (!isSet(value)) continue;
    errs.push(...validatePositiveIntOrPercent(value, `spec.${field}`), ...notMoreThan100Percent(value, `spec.${field}`));
  }
  errs.push(...validateLabelSelector(spec['selector'], 'spec.selector', { allowInvalidLabelValueInSelector }));
  const policy = spec['unhealthyPodEvictionPolicy'];
  if (isSet(policy) && !unhealthyPodEvictionPolicies.includes(asString(policy))) errs.push(notSupported('spec.unhealthyPodEvictionPolicy', policy, unhealthyPodEvictionPolicies));
  return errs;
}

/**
 * On create the metadata is checked (names are path segments) only once the
 * spec passed, as rest.BeforeCreate does; an update checks both together.
 */
export function validatePodDisruptionBudget(pdb: KubeObject, old?: KubeObject): FieldError[] {
  const spec = asObject(pdb['spec']) ?? {};
  const meta = validateObjectMeta(pdb.metadata, { namespaced: true, nameRule: nameIsPathSegment });
  if (!old) {
    const errs = validateSpec(spec, false);
    return errs.length > 0 ? errs : meta;
  }
  return [...meta, ...validateObjectMetaUpdate(pdb.metadata, old.metadata), ...validateSpec(spec, hasInvalidLabelValueInSelector(old))];
}
