// Resource names and quantities: container requests and limits, and the
// rules quota and volume capacities share.

import type { FieldError } from '../errors.js';
import { Quantity } from '../quantity.js';
import { forbidden, invalid, isNegativeErrorMsg, key, required, child } from './field-errors.js';
import { isQualifiedName } from './identifiers.js';
import { asObject, type JsonObject } from './json-values.js';

const standardContainerResources = new Set(['cpu', 'memory', 'ephemeral-storage']);
/**
 * The compute resources a quota limits for pods (Kubernetes'
 * podComputeQuotaResources): cpu, memory and ephemeral-storage, bare (as
 * requests) and as requests.* and limits.*.
 */
export const computeQuotaResources: readonly string[] = [
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
];
const standardResources = new Set([
  ...computeQuotaResources,
  'pods',
  'services',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'storage',
  'requests.storage',
  'services.nodeports',
  'services.loadbalancers',
]);
const integerResources = new Set(['pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'configmaps', 'persistentvolumeclaims', 'services.nodeports', 'services.loadbalancers']);

function isHugePages(name: string): boolean {
  return name.startsWith('hugepages-');
}

export function isNativeResource(name: string): boolean {
  return !name.includes('/') || name.includes('kubernetes.io/');
}

export function isExtendedResourceName(name: string): boolean {
  if (isNativeResource(name) || name.startsWith('requests.')) return false;
  return isQualifiedName(`requests.${name}`).length === 0;
}

function isIntegerResource(name: string): boolean {
  return integerResources.has(name) || isExtendedResourceName(name);
}

function isOvercommitAllowed(name: string): boolean {
  return isNativeResource(name) && !isHugePages(name);
}

export function validateResourceName(name: string, path: string): FieldError[] {
  const errs = isQualifiedName(name).map((msg) => invalid(path, name, msg));
  if (errs.length > 0) return errs;
  if (!name.includes('/') && !standardResources.has(name) && !isHugePages(name) && !name.startsWith('requests.hugepages-')) {
    errs.push(invalid(path, name, 'must be a standard resource type or fully qualified'));
  }
  return errs;
}

function validateContainerResourceName(name: string, path: string): FieldError[] {
  const errs = validateResourceName(name, path);
  if (!name.includes('/')) {
    if (!standardContainerResources.has(name) && !isHugePages(name)) errs.push(invalid(path, name, 'must be a standard resource for containers'));
  } else if (!isNativeResource(name) && !isExtendedResourceName(name)) {
    errs.push(invalid(path, name, "doesn't follow extended resource name standard"));
  }
  return errs;
}

/** ValidateResourceQuantityValue: non-negative, and whole for integer resources. */
export function validateResourceQuantity(resource: string, raw: unknown, path: string): { errors: FieldError[]; quantity?: Quantity } {
  const quantity = Quantity.tryParse(raw);
  if (!quantity) return { errors: [invalid(path, raw, 'must be a valid quantity')] };
  const errors: FieldError[] = [];
  if (quantity.sign() < 0) errors.push(invalid(path, quantity.toString(), isNegativeErrorMsg));
  if (isIntegerResource(resource) && quantity.scaledValue(-3) % 1000n !== 0n) errors.push(invalid(path, quantity.toString(), 'must be an integer'));
  return { errors, quantity };
}

export function validateResourceRequirements(resources: JsonObject | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const limitsPath = child(path, 'limits');
  const requestsPath = child(path, 'requests');
  const limits = new Map<string, Quantity>();
  let cpuOrMemory = false;
  let hugePages = false;
  for (const [name, raw] of Object.entries(asObject(resources?.['limits']) ?? {})) {
    const p = key(limitsPath, name);
    errs.push(...validateContainerResourceName(name, p));
    const { errors, quantity } = validateResourceQuantity(name, raw, p);
    errs.push(...errors);
    if (quantity) limits.set(name, quantity);
    if (isHugePages(name)) hugePages = true;
    if (name === 'cpu' || name === 'memory') cpuOrMemory = true;
  }
  for (const [name, raw] of Object.entries(asObject(resources?.['requests']) ?? {})) {
    const p = key(requestsPath, name);
    errs.push(...validateContainerResourceName(name, p));
    const { errors, quantity } = validateResourceQuantity(name, raw, p);
    errs.push(...errors);
    const limit = limits.get(name);
    if (quantity && limit) {
      if (quantity.cmp(limit) !== 0 && !isOvercommitAllowed(name)) {
        errs.push(invalid(requestsPath, quantity.toString(), `must be equal to ${name} limit of ${limit.toString()}`));
      } else if (quantity.cmp(limit) > 0) {
        errs.push(invalid(requestsPath, quantity.toString(), `must be less than or equal to ${name} limit of ${limit.toString()}`));
      }
    } else if (quantity && !limit && !isOvercommitAllowed(name)) {
      errs.push(required(limitsPath, 'Limit must be set for non overcommitable resources'));
    }
    if (isHugePages(name)) hugePages = true;
    if (name === 'cpu' || name === 'memory') cpuOrMemory = true;
  }
  if (hugePages && !cpuOrMemory) errs.push(forbidden(path, 'HugePages require cpu or memory'));
  return errs;
}
