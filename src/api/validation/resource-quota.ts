// ResourceQuota validation (ValidateResourceQuota, ValidateResourceQuotaUpdate):
// the hard limits' names and quantities, and the scopes and scope selector
// that say which pods the quota counts.

import type { FieldError } from '../errors.js';
import type { KubeObject } from '../object.js';
import { child, fieldImmutableErrorMsg, invalid, key, required } from './field-errors.js';
import { asArray, asObject, asString, objectsOf, type JsonObject } from './json-values.js';
import { nameIsDNSSubdomain, validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import { validateResourceName, validateResourceQuantity } from './resources.js';

const standardScopes = new Set(['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity']);
const podObjectCountResources = new Set(['pods']);
const podComputeResources = new Set(['cpu', 'memory', 'limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory']);
/** What the quota system tracks (helper.IsStandardQuotaResourceName): storage alone is not, requests.storage is. */
const standardQuotaResources = new Set([
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.storage',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'pods',
  'resourcequotas',
  'services',
  'replicationcontrollers',
  'secrets',
  'persistentvolumeclaims',
  'configmaps',
  'services.nodeports',
  'services.loadbalancers',
]);
const conflictingScopes = [
  ['BestEffort', 'NotBestEffort'],
  ['Terminating', 'NotTerminating'],
];
const exists = 'Exists';

function isStandardQuotaResourceName(name: string): boolean {
  return standardQuotaResources.has(name) || name.startsWith('hugepages-') || name.startsWith('requests.hugepages-');
}

/** Whether a quota with this scope can count the resource (IsResourceQuotaScopeValidForResource). */
function scopeAppliesTo(scope: string, resource: string): boolean {
  switch (scope) {
    case 'Terminating':
    case 'NotTerminating':
    case 'NotBestEffort':
    case 'PriorityClass':
    case 'CrossNamespacePodAffinity':
      return podObjectCountResources.has(resource) || podComputeResources.has(resource);
    case 'BestEffort':
      return podObjectCountResources.has(resource);
    default:
      return true;
  }
}

/** ValidateResourceQuotaResourceName: a resource name, and one the quota system knows unless fully qualified. */
function validateQuotaResourceName(name: string, path: string): FieldError[] {
  const errs = validateResourceName(name, path);
  if (!name.includes('/') && !isStandardQuotaResourceName(name)) errs.push(invalid(path, name, 'must be a standard resource for quota'));
  return errs;
}

/** Standard quota resources of hard a scope cannot count, in name order. */
function resourcesOutOfScope(scope: string, hard: string[]): string[] {
  return hard.filter((r) => isStandardQuotaResourceName(r) && !scopeAppliesTo(scope, r));
}

function hasConflictingScopes(scopes: Set<string>): boolean {
  return conflictingScopes.some((pair) => pair.every((s) => scopes.has(s)));
}

function validateScopes(spec: JsonObject, hard: string[]): FieldError[] {
  const scopes = asArray(spec['scopes']).map(asString);
  if (scopes.length === 0) return [];
  const errs: FieldError[] = [];
  for (const scope of scopes) {
    if (!standardScopes.has(scope)) errs.push(invalid('spec.scopes', scopes, 'unsupported scope'));
    resourcesOutOfScope(scope, hard).forEach(() => errs.push(invalid('spec.scopes', scopes, 'unsupported scope applied to resource')));
  }
  if (hasConflictingScopes(new Set(scopes))) errs.push(invalid('spec.scopes', scopes, 'conflicting scopes'));
  return errs;
}

/** validateScopedResourceSelectorRequirement: Kubernetes reports every expression at matchExpressions itself, without an index. */
function validateScopeSelector(spec: JsonObject, hard: string[]): FieldError[] {
  const selector = asObject(spec['scopeSelector']);
  if (!selector) return [];
  const path = 'spec.scopeSelector.matchExpressions';
  const errs: FieldError[] = [];
  const scopes = new Set<string>();
  for (const req of objectsOf(selector['matchExpressions'])) {
    const scope = asString(req['scopeName']);
    const operator = asString(req['operator']);
    const values = asArray(req['values']);
    if (!standardScopes.has(scope)) errs.push(invalid(child(path, 'scopeName'), scope, 'unsupported scope'));
    resourcesOutOfScope(scope, hard).forEach(() => errs.push(invalid(path, selector, 'unsupported scope applied to resource')));
    if (['BestEffort', 'NotBestEffort', 'Terminating', 'NotTerminating', 'CrossNamespacePodAffinity'].includes(scope) && operator !== exists) {
      errs.push(
        invalid(
          child(path, 'operator'),
          operator,
          "must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity",
        ),
      );
    }
    if (operator === 'In' || operator === 'NotIn') {
      if (values.length === 0) errs.push(required(child(path, 'values'), "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"));
    } else if (operator === exists || operator === 'DoesNotExist') {
      if (values.length > 0) errs.push(invalid(child(path, 'values'), values, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"));
    } else {
      errs.push(invalid(child(path, 'operator'), operator, 'not a valid selector operator'));
    }
    scopes.add(scope);
  }
  if (hasConflictingScopes(scopes)) errs.push(invalid(path, spec['scopes'] ?? null, 'conflicting scopes'));
  return errs;
}

/** ValidateResourceQuotaSpec. */
function validateResourceQuotaSpec(spec: JsonObject): FieldError[] {
  const errs: FieldError[] = [];
  const hard = asObject(spec['hard']) ?? {};
  for (const [name, quantity] of Object.entries(hard)) {
    const path = key('spec.hard', name);
    errs.push(...validateQuotaResourceName(name, path));
    errs.push(...validateResourceQuantity(name, quantity, path).errors);
  }
  const names = Object.keys(hard).sort();
  errs.push(...validateScopes(spec, names));
  errs.push(...validateScopeSelector(spec, names));
  return errs;
}

export function validateResourceQuota(quota: KubeObject, old?: KubeObject): FieldError[] {
  const spec = asObject(quota['spec']) ?? {};
  if (!old) return [...validateObjectMeta(quota.metadata, { namespaced: true, nameRule: nameIsDNSSubdomain }), ...validateResourceQuotaSpec(spec)];
  const errs = [...validateObjectMetaUpdate(quota.metadata, old.metadata), ...validateResourceQuotaSpec(spec)];
  const scopes = asArray(spec['scopes']).map(asString);
  const oldScopes = new Set(asArray(asObject(old['spec'])?.['scopes']).map(asString));
  const next = new Set(scopes);
  if (next.size !== oldScopes.size || [...next].some((s) => !oldScopes.has(s))) errs.push(invalid('spec.scopes', spec['scopes'] ?? null, fieldImmutableErrorMsg));
  return errs;
}
