// Namespaces, priority classes, autoscalers, RBAC, ingress, network policies
// and CustomResourceDefinition names.

import type { FieldError } from '../errors.js';
import type { KubeObject } from '../object.js';
import { child, forbidden, index, invalid, notSupported, required } from './field-errors.js';
import { isDNS1123Subdomain, isQualifiedName, isValidPathSegmentName, isValidPortName, isValidPortNum, isWildcardDNS1123Subdomain } from './identifiers.js';
import { asArray, asNumber, asObject, asString, objectsOf, type JsonObject } from './json-values.js';
import { validateLabelSelector } from './label-selector.js';
import { nameIsDNSLabel, nameIsDNSSubdomain, nameIsPathSegment, validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import { semanticEqual } from './semantic-equal.js';

const standardFinalizers = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

export function validateNamespace(ns: KubeObject, old?: KubeObject): FieldError[] {
  if (old) return validateObjectMetaUpdate(ns.metadata, old.metadata);
  const errs = validateObjectMeta(ns.metadata, { namespaced: false, nameRule: nameIsDNSLabel });
  for (const f of asArray(asObject(ns['spec'])?.['finalizers']).map(asString)) {
    for (const msg of isQualifiedName(f)) errs.push(invalid('spec.finalizers', f, msg));
    if (!f.includes('/') && !standardFinalizers.has(f)) errs.push(invalid('spec.finalizers', f, 'name is neither a standard finalizer name nor is it fully qualified'));
  }
  return errs;
}

const systemPriorityClasses: Record<string, number> = { 'system-node-critical': 2000001000, 'system-cluster-critical': 2000000000 };
const highestUserPriority = 1000000000;

export function validatePriorityClass(pc: KubeObject, old?: KubeObject): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(pc.metadata, old.metadata) : validateObjectMeta(pc.metadata, { namespaced: false, nameRule: nameIsDNSSubdomain });
  const name = asString(pc.metadata?.name);
  const value = asNumber(pc['value']) ?? 0;
  const system = systemPriorityClasses[name];
  if (!old) {
    if (system !== undefined) {
      if (value !== system) errs.push(forbidden('metadata.name', `${name} is a system priority class and has value ${system}`));
    } else if (name.startsWith('system-')) {
      errs.push(forbidden('metadata.name', "priority class names with 'system-' prefix are reserved"));
    } else if (value > highestUserPriority) {
      errs.push(forbidden('value', `maximum allowed value of a user defined priority is ${highestUserPriority}`));
    }
  }
  const policy = pc['preemptionPolicy'];
  if (policy !== undefined && policy !== null && policy !== 'Never' && policy !== 'PreemptLowerPriority') errs.push(notSupported('preemptionPolicy', policy, ['Never', 'PreemptLowerPriority']));
  if (old) {
    if (pc['value'] !== old['value']) errs.push(forbidden('value', 'may not be changed in an update.'));
    if (!semanticEqual(pc['preemptionPolicy'], old['preemptionPolicy'])) errs.push(invalid('preemptionPolicy', pc['preemptionPolicy'], 'field is immutable'));
  }
  return errs;
}

function validateCrossVersionObjectReference(ref: JsonObject | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const field of ['kind', 'name']) {
    const value = asString(ref?.[field]);
    if (!value) errs.push(required(child(path, field)));
    else for (const msg of isValidPathSegmentName(value)) errs.push(invalid(child(path, field), value, msg));
  }
  return errs;
}

export function validateHorizontalPodAutoscaler(hpa: KubeObject, old?: KubeObject): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(hpa.metadata, old.metadata) : validateObjectMeta(hpa.metadata, { namespaced: true, nameRule: nameIsDNSSubdomain });
  const spec = asObject(hpa['spec']) ?? {};
  const min = asNumber(spec['minReplicas']);
  const max = asNumber(spec['maxReplicas']) ?? 0;
  if (min !== undefined && min < 1) errs.push(invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (max < 1) errs.push(invalid('spec.maxReplicas', max, 'must be greater than 0'));
  if (min !== undefined && max < min) errs.push(invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  errs.push(...validateCrossVersionObjectReference(asObject(spec['scaleTargetRef']), 'spec.scaleTargetRef'));
  const cpu = asNumber(spec['targetCPUUtilizationPercentage']);
  if (cpu !== undefined && cpu < 1) errs.push(invalid('spec.targetCPUUtilizationPercentage', cpu, 'must be greater than 0'));
  return errs;
}

const rbacGroup = 'rbac.authorization.k8s.io';

function validatePolicyRules(rules: unknown, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  objectsOf(rules).forEach((rule, i) => {
    const p = index('rules', i);
    if (asArray(rule['verbs']).length === 0) errs.push(required(child(p, 'verbs'), 'verbs must contain at least one value'));
    const urls = asArray(rule['nonResourceURLs']);
    if (urls.length > 0) {
      if (namespaced) errs.push(invalid(child(p, 'nonResourceURLs'), urls, 'namespaced rules cannot apply to non-resource URLs'));
      if (asArray(rule['apiGroups']).length > 0 || asArray(rule['resources']).length > 0 || asArray(rule['resourceNames']).length > 0) {
        errs.push(invalid(child(p, 'nonResourceURLs'), urls, 'rules cannot apply to both regular resources and non-resource URLs'));
      }
      return;
    }
    if (asArray(rule['apiGroups']).length === 0) errs.push(required(child(p, 'apiGroups'), 'resource rules must supply at least one api group'));
    if (asArray(rule['resources']).length === 0) errs.push(required(child(p, 'resources'), 'resource rules must supply at least one resource'));
  });
  return errs;
}

export function validateRole(role: KubeObject, old: KubeObject | undefined, namespaced: boolean): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(role.metadata, old.metadata) : validateObjectMeta(role.metadata, { namespaced, nameRule: nameIsPathSegment });
  errs.push(...validatePolicyRules(role['rules'], namespaced));
  return errs;
}

function validateSubject(subject: JsonObject, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = asString(subject['name']);
  if (!name) errs.push(required(child(path, 'name')));
  const apiGroup = asString(subject['apiGroup']);
  switch (asString(subject['kind'])) {
    case 'ServiceAccount':
      if (name) for (const msg of isDNS1123Subdomain(name)) errs.push(invalid(child(path, 'name'), name, msg));
      if (apiGroup) errs.push(notSupported(child(path, 'apiGroup'), apiGroup, ['']));
      if (!namespaced && !asString(subject['namespace'])) errs.push(required(child(path, 'namespace')));
      break;
    case 'User':
    case 'Group':
      if (apiGroup !== rbacGroup) errs.push(notSupported(child(path, 'apiGroup'), apiGroup, [rbacGroup]));
      break;
    default:
      errs.push(notSupported(child(path, 'kind'), asString(subject['kind']), ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

export function validateRoleBinding(binding: KubeObject, old: KubeObject | undefined, namespaced: boolean): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(binding.metadata, old.metadata) : validateObjectMeta(binding.metadata, { namespaced, nameRule: nameIsPathSegment });
  const roleRef = asObject(binding['roleRef']) ?? {};
  if (old && !semanticEqual(roleRef, asObject(old['roleRef']) ?? {})) errs.push(invalid('roleRef', roleRef, 'cannot change roleRef'));
  if (asString(roleRef['apiGroup']) !== rbacGroup) errs.push(notSupported('roleRef.apiGroup', asString(roleRef['apiGroup']), [rbacGroup]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(asString(roleRef['kind']))) errs.push(notSupported('roleRef.kind', asString(roleRef['kind']), kinds));
  const roleName = asString(roleRef['name']);
  if (!roleName) errs.push(required('roleRef.name'));
  else for (const msg of isValidPathSegmentName(roleName)) errs.push(invalid('roleRef.name', roleName, msg));
  objectsOf(binding['subjects']).forEach((s, i) => errs.push(...validateSubject(s, namespaced, index('subjects', i))));
  return errs;
}

const pathTypes = ['Exact', 'ImplementationSpecific', 'Prefix'];

function validateIngressBackend(backend: JsonObject, path: string): FieldError[] {
  const service = asObject(backend['service']);
  const resource = asObject(backend['resource']);
  if (service && resource) return [invalid(path, '', 'cannot set both resource and service backends')];
  if (!service) return resource ? [] : [invalid(path, '', 'resource or service backend is required')];
  const errs: FieldError[] = [];
  const name = asString(service['name']);
  if (!name) errs.push(required(child(path, 'service', 'name')));
  const port = asObject(service['port']) ?? {};
  const portName = asString(port['name']);
  const number = asNumber(port['number']) ?? 0;
  const portPath = child(path, 'service', 'port');
  if (portName && number) errs.push(invalid(portPath, port, 'cannot set both port name & port number'));
  else if (portName) for (const msg of isValidPortName(portName)) errs.push(invalid(child(portPath, 'name'), portName, msg));
  else if (number) for (const msg of isValidPortNum(number)) errs.push(invalid(child(portPath, 'number'), number, msg));
  else errs.push(required(portPath, 'port name or number is required'));
  return errs;
}

export function validateIngress(ing: KubeObject, old?: KubeObject): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(ing.metadata, old.metadata) : validateObjectMeta(ing.metadata, { namespaced: true, nameRule: nameIsDNSSubdomain });
  const spec = asObject(ing['spec']) ?? {};
  const rules = objectsOf(spec['rules']);
  const defaultBackend = asObject(spec['defaultBackend']);
  if (rules.length === 0 && !defaultBackend) errs.push(invalid('spec.rules', rules, 'either `defaultBackend` or `rules` must be specified'));
  if (defaultBackend) errs.push(...validateIngressBackend(defaultBackend, 'spec.defaultBackend'));
  rules.forEach((rule, i) => {
    const p = index('spec.rules', i);
    const host = asString(rule['host']);
    if (host) {
      const msgs = host.startsWith('*.') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
      for (const msg of msgs) errs.push(invalid(child(p, 'host'), host, msg));
    }
    const http = asObject(rule['http']);
    if (!http) return;
    const paths = objectsOf(http['paths']);
    if (paths.length === 0) errs.push(required(child(p, 'http', 'paths')));
    paths.forEach((entry, j) => {
      const pp = index(child(p, 'http', 'paths'), j);
      const pathType = asString(entry['pathType']);
      const value = asString(entry['path']);
      if (!pathType) errs.push(required(child(pp, 'pathType'), 'pathType must be specified'));
      else if (!pathTypes.includes(pathType)) errs.push(notSupported(child(pp, 'pathType'), pathType, pathTypes));
      else if ((pathType === 'Exact' || pathType === 'Prefix') && !value.startsWith('/')) errs.push(invalid(child(pp, 'path'), value, 'must be an absolute path'));
      errs.push(...validateIngressBackend(asObject(entry['backend']) ?? {}, child(pp, 'backend')));
    });
  });
  const className = spec['ingressClassName'];
  if (typeof className === 'string') for (const msg of isDNS1123Subdomain(className)) errs.push(invalid('spec.ingressClassName', className, msg));
  return errs;
}

export function validateNetworkPolicy(np: KubeObject, old?: KubeObject): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(np.metadata, old.metadata) : validateObjectMeta(np.metadata, { namespaced: true, nameRule: nameIsDNSSubdomain });
  const spec = asObject(np['spec']) ?? {};
  errs.push(...validateLabelSelector(spec['podSelector'], 'spec.podSelector'));
  const types = asArray(spec['policyTypes']).map(asString);
  types.forEach((t, i) => {
    if (t !== 'Ingress' && t !== 'Egress') errs.push(notSupported(index('spec.policyTypes', i), t, ['Ingress', 'Egress']));
  });
  if (types.length > 2) errs.push(invalid('spec.policyTypes', types, 'may not specify more than two policyTypes'));
  for (const direction of ['ingress', 'egress']) {
    objectsOf(spec[direction]).forEach((rule, i) => {
      objectsOf(rule['ports']).forEach((port, j) => {
        const p = index(child(index(`spec.${direction}`, i), 'ports'), j);
        const protocol = asString(port['protocol']);
        if (protocol && !['SCTP', 'TCP', 'UDP'].includes(protocol)) errs.push(notSupported(child(p, 'protocol'), protocol, ['SCTP', 'TCP', 'UDP']));
        const value = port['port'];
        if (typeof value === 'number') for (const msg of isValidPortNum(value)) errs.push(invalid(child(p, 'port'), value, msg));
        else if (typeof value === 'string') for (const msg of isValidPortName(value)) errs.push(invalid(child(p, 'port'), value, msg));
      });
    });
  }
  return errs;
}

export function validateCustomResourceDefinition(crd: KubeObject, old?: KubeObject): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(crd.metadata, old.metadata) : validateObjectMeta(crd.metadata, { namespaced: false, nameRule: nameIsDNSSubdomain });
  const spec = asObject(crd['spec']) ?? {};
  const names = asObject(spec['names']) ?? {};
  const expected = `${asString(names['plural'])}.${asString(spec['group'])}`;
  const name = asString(crd.metadata?.name);
  if (name !== expected) errs.push(invalid('metadata.name', name, `must be spec.names.plural+"."+spec.group`));
  const scope = asString(spec['scope']);
  if (scope !== 'Cluster' && scope !== 'Namespaced') errs.push(notSupported('spec.scope', scope, ['Cluster', 'Namespaced']));
  if (!asString(names['plural'])) errs.push(required('spec.names.plural'));
  if (!asString(names['kind'])) errs.push(required('spec.names.kind'));
  if (old && !semanticEqual(spec['scope'], asObject(old['spec'])?.['scope']) && asArray(asObject(old['status'])?.['storedVersions']).length > 0) {
    errs.push(invalid('spec.scope', scope, 'field is immutable'));
  }
  // Once established, the kind and list kind stay (objects are stored and served under them).
  const established = asArray(asObject(old?.['status'])?.['conditions']).some((c) => asObject(c)?.['type'] === 'Established' && asObject(c)?.['status'] === 'True');
  if (old && established) {
    const oldNames = asObject(asObject(old['spec'])?.['names']) ?? {};
    // listKind defaults to kind + "List", as Kubernetes defaults it (and keeps the stored default when a write leaves it out).
    const effective = (n: Record<string, unknown>, field: string) => (field === 'listKind' ? asString(n['listKind']) || `${asString(n['kind'])}List` : asString(n[field]));
    for (const field of ['kind', 'listKind']) {
      if (field === 'listKind' && names['listKind'] === undefined) continue;
      if (effective(names, field) !== effective(oldNames, field)) errs.push(invalid(`spec.names.${field}`, effective(names, field), 'field is immutable'));
    }
  }
  return errs;
}
