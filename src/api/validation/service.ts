// Service validation (ValidateService, ValidateServiceUpdate): ports, types,
// session affinity, cluster IPs and IP families.

import type { FieldError } from '../errors.js';
import type { KubeObject } from '../object.js';
import { child, duplicate, forbidden, index, invalid, notSupported, required } from './field-errors.js';
import { isDNS1123Subdomain, isQualifiedName, isValidIP, isValidPortNum } from './identifiers.js';
import { asArray, asNumber, asObject, asString, objectsOf, type JsonObject } from './json-values.js';
import { nameIsDNS1035Label, validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import { supportedPortProtocols, validateDNS1123Label, validatePortNumOrName } from './containers.js';

const serviceTypes = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const sessionAffinities = ['ClientIP', 'None'];
const ipFamilyPolicies = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const ipFamilies = ['IPv4', 'IPv6'];
const kubeletPort = 10250;
const maxClientIPTimeoutSeconds = 86400;

function isHeadless(spec: JsonObject): boolean {
  return asString(spec['clusterIP']) === 'None';
}

function validateServicePort(port: JsonObject, requireName: boolean, names: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = asString(port['name']);
  if (requireName && !name) {
    errs.push(required(child(path, 'name')));
  } else if (name) {
    errs.push(...validateDNS1123Label(name, child(path, 'name')));
    if (names.has(name)) errs.push(duplicate(child(path, 'name'), name));
    else names.add(name);
  }
  const number = asNumber(port['port']) ?? 0;
  for (const msg of isValidPortNum(number)) errs.push(invalid(child(path, 'port'), number, msg));
  const protocol = asString(port['protocol']);
  if (!protocol) errs.push(required(child(path, 'protocol')));
  else if (!(supportedPortProtocols as readonly string[]).includes(protocol)) errs.push(notSupported(child(path, 'protocol'), protocol, supportedPortProtocols));
  errs.push(...validatePortNumOrName(port['targetPort'], child(path, 'targetPort')));
  const appProtocol = port['appProtocol'];
  if (typeof appProtocol === 'string') for (const msg of isQualifiedName(appProtocol)) errs.push(invalid(child(path, 'appProtocol'), appProtocol, msg));
  return errs;
}

function validateClusterIPFields(spec: JsonObject): FieldError[] {
  const errs: FieldError[] = [];
  const type = asString(spec['type']);
  const clusterIPs = asArray(spec['clusterIPs']).map(asString);
  if (type === 'ExternalName') return errs;
  clusterIPs.forEach((ip, i) => {
    const p = index('spec.clusterIPs', i);
    if (ip === 'None') {
      if (i !== 0 || clusterIPs.length > 1) errs.push(invalid(p, ip, "'None' must be the first and only value"));
      return;
    }
    for (const msg of isValidIP(ip)) errs.push(invalid(p, ip, msg));
  });
  if (clusterIPs.length > 0 && asString(spec['clusterIP']) !== clusterIPs[0]) errs.push(invalid('spec.clusterIPs', clusterIPs, 'first value must match `clusterIP`'));
  const policy = spec['ipFamilyPolicy'];
  if (policy !== undefined && policy !== null && !ipFamilyPolicies.includes(asString(policy))) errs.push(notSupported('spec.ipFamilyPolicy', policy, ipFamilyPolicies));
  const families = asArray(spec['ipFamilies']).map(asString);
  const seen = new Set<string>();
  families.forEach((family, i) => {
    const p = index('spec.ipFamilies', i);
    if (!ipFamilies.includes(family)) errs.push(notSupported(p, family, ipFamilies));
    else if (seen.has(family)) errs.push(duplicate(p, family));
    seen.add(family);
  });
  if (families.length > 2) errs.push(invalid('spec.ipFamilies', families, 'may specify no more than two IP families'));
  if (policy === 'SingleStack' && clusterIPs.length > 1) errs.push(invalid('spec.clusterIPs', clusterIPs, "must have at most one value when `ipFamilyPolicy` is 'SingleStack'"));
  if (policy === 'SingleStack' && families.length > 1) errs.push(invalid('spec.ipFamilies', families, "must have at most one value when `ipFamilyPolicy` is 'SingleStack'"));
  return errs;
}

/** ValidateService. */
export function validateServiceSpec(svc: KubeObject): FieldError[] {
  const spec = asObject(svc['spec']) ?? {};
  const errs: FieldError[] = [];
  const type = asString(spec['type']);
  const ports = objectsOf(spec['ports']);
  if (ports.length === 0 && !isHeadless(spec) && type !== 'ExternalName') errs.push(required('spec.ports'));
  switch (type) {
    case 'LoadBalancer':
      if (isHeadless(spec)) errs.push(invalid('spec.clusterIPs[0]', 'None', "may not be set to 'None' for LoadBalancer services"));
      ports.forEach((port, i) => {
        if (port['port'] === kubeletPort) errs.push(invalid(index('spec.ports', i), kubeletPort, `may not expose port ${kubeletPort} externally since it is used by kubelet`));
      });
      break;
    case 'NodePort':
      if (isHeadless(spec)) errs.push(invalid('spec.clusterIPs[0]', 'None', "may not be set to 'None' for NodePort services"));
      break;
    case 'ExternalName': {
      if (asArray(spec['clusterIPs']).length > 0) errs.push(forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
      if (asArray(spec['ipFamilies']).length > 0) errs.push(forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
      if (spec['ipFamilyPolicy'] !== undefined && spec['ipFamilyPolicy'] !== null) errs.push(forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
      const cname = asString(spec['externalName']).replace(/\.$/, '');
      if (cname) for (const msg of isDNS1123Subdomain(cname)) errs.push(invalid('spec.externalName', cname, msg));
      else errs.push(required('spec.externalName'));
      break;
    }
  }
  const names = new Set<string>();
  ports.forEach((port, i) => errs.push(...validateServicePort(port, ports.length > 1, names, index('spec.ports', i))));
  if (spec['selector'] !== undefined && spec['selector'] !== null) errs.push(...validateLabels(spec['selector'], 'spec.selector'));
  const affinity = asString(spec['sessionAffinity']);
  if (!affinity) errs.push(required('spec.sessionAffinity'));
  else if (!sessionAffinities.includes(affinity)) errs.push(notSupported('spec.sessionAffinity', affinity, sessionAffinities));
  if (affinity === 'ClientIP') {
    const timeout = asNumber(asObject(asObject(asObject(spec['sessionAffinityConfig'])?.['clientIP']))?.['timeoutSeconds']);
    const timeoutPath = 'spec.sessionAffinityConfig.clientIP.timeoutSeconds';
    if (timeout === undefined) errs.push(required(timeoutPath));
    else if (timeout <= 0 || timeout > maxClientIPTimeoutSeconds) errs.push(invalid(timeoutPath, timeout, `must be greater than 0 and less than ${maxClientIPTimeoutSeconds}`));
  } else if (affinity === 'None' && spec['sessionAffinityConfig'] !== undefined && spec['sessionAffinityConfig'] !== null) {
    errs.push(forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  }
  errs.push(...validateClusterIPFields(spec));
  asArray(spec['externalIPs']).forEach((ip, i) => {
    for (const msg of isValidIP(asString(ip))) errs.push(invalid(index('spec.externalIPs', i), ip, msg));
  });
  if (!type) errs.push(required('spec.type'));
  else if (!serviceTypes.includes(type)) errs.push(notSupported('spec.type', type, serviceTypes));
  if (type === 'ClusterIP') {
    ports.forEach((port, i) => {
      if (port['nodePort']) errs.push(forbidden(child(index('spec.ports', i), 'nodePort'), "may not be used when `type` is 'ClusterIP'"));
    });
  }
  const nodePorts = new Set<string>();
  ports.forEach((port, i) => {
    const nodePort = asNumber(port['nodePort']) ?? 0;
    if (nodePort === 0) return;
    const id = `${asString(port['protocol'])}/${nodePort}`;
    if (nodePorts.has(id)) errs.push(duplicate(child(index('spec.ports', i), 'nodePort'), nodePort));
    nodePorts.add(id);
  });
  const seenPorts = new Set<string>();
  ports.forEach((port, i) => {
    const id = `${asString(port['protocol'])}/${asNumber(port['port']) ?? 0}`;
    if (seenPorts.has(id)) errs.push(duplicate(index('spec.ports', i), { protocol: asString(port['protocol']), port: asNumber(port['port']) ?? 0, targetPort: 0 }));
    seenPorts.add(id);
  });
  const etp = spec['externalTrafficPolicy'];
  if (etp !== undefined && etp !== null && etp !== '') {
    if (type !== 'LoadBalancer' && type !== 'NodePort' && !(type === 'ClusterIP' && asArray(spec['externalIPs']).length > 0)) {
      errs.push(invalid('spec.externalTrafficPolicy', etp, 'may only be set for externally-accessible services'));
    } else if (etp !== 'Cluster' && etp !== 'Local') {
      errs.push(notSupported('spec.externalTrafficPolicy', etp, ['Cluster', 'Local']));
    }
  }
  const itp = spec['internalTrafficPolicy'];
  if (itp !== undefined && itp !== null && itp !== 'Cluster' && itp !== 'Local') errs.push(notSupported('spec.internalTrafficPolicy', itp, ['Cluster', 'Local']));
  return errs;
}

function validateClusterIPsUpdate(spec: JsonObject, oldSpec: JsonObject): FieldError[] {
  if (spec['type'] === 'ExternalName' || oldSpec['type'] === 'ExternalName') return [];
  if (isHeadless(spec) && isHeadless(oldSpec)) return [];
  const next = asArray(spec['clusterIPs']).map(asString);
  const prev = asArray(oldSpec['clusterIPs']).map(asString);
  const errs: FieldError[] = [];
  if (prev.length === next.length) {
    prev.forEach((ip, i) => {
      if (ip !== next[i]) errs.push(invalid(index('spec.clusterIPs', i), next, 'may not change once set'));
    });
  } else if (prev.length > next.length) {
    if (next.length === 0) errs.push(invalid('spec.clusterIPs[0]', next, 'primary clusterIP can not be unset'));
    if (prev.length > 0 && next.length > 0 && next[0] !== prev[0]) errs.push(invalid('spec.clusterIPs[0]', next, 'may not change once set'));
    if (next.length === 1 && spec['ipFamilyPolicy'] !== 'SingleStack') {
      errs.push(invalid('spec.clusterIPs[0]', next, "`ipFamilyPolicy` must be set to 'SingleStack' when releasing the secondary clusterIP"));
    }
  } else if (prev.length > 0 && next[0] !== prev[0]) {
    errs.push(invalid('spec.clusterIPs[0]', next, 'may not change once set'));
  }
  return errs;
}

function validateIPFamiliesUpdate(spec: JsonObject, oldSpec: JsonObject): FieldError[] {
  if (spec['type'] === 'ExternalName' || oldSpec['type'] === 'ExternalName') return [];
  const next = asArray(spec['ipFamilies']).map(asString);
  const prev = asArray(oldSpec['ipFamilies']).map(asString);
  if (prev.length > 0 && next.length > 0 && prev[0] !== next[0]) return [invalid('spec.ipFamilies[0]', next, 'may not change once set')];
  return [];
}

export function validateService(svc: KubeObject, old?: KubeObject): FieldError[] {
  if (!old) return [...validateObjectMeta(svc.metadata, { namespaced: true, nameRule: nameIsDNS1035Label }), ...validateServiceSpec(svc)];
  const spec = asObject(svc['spec']) ?? {};
  const oldSpec = asObject(old['spec']) ?? {};
  const errs = validateObjectMetaUpdate(svc.metadata, old.metadata);
  errs.push(...validateClusterIPsUpdate(spec, oldSpec));
  errs.push(...validateIPFamiliesUpdate(spec, oldSpec));
  errs.push(...validateObjectMeta(svc.metadata, { namespaced: true, nameRule: nameIsDNS1035Label }));
  errs.push(...validateServiceSpec(svc));
  return errs;
}
