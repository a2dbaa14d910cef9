// SetDefaults_Service, plus the IP family fields the Service REST storage
// fills on a single-stack IPv4 cluster and the clusterIP/clusterIPs mirror.

import { asArray, asObject, asString, ensureObject, objectsOf, type JsonObject } from '../validation/json-values.js';

const DEFAULT_CLIENT_IP_TIMEOUT_SECONDS = 10800;

function isUnset(v: unknown): boolean {
  return v === undefined || v === null;
}

function externallyAccessible(spec: JsonObject): boolean {
  const type = spec['type'];
  return type === 'LoadBalancer' || type === 'NodePort' || (type === 'ClusterIP' && asArray(spec['externalIPs']).length > 0);
}

export function defaultService(obj: JsonObject): void {
  const spec = ensureObject(obj, 'spec');
  if (!spec['sessionAffinity']) spec['sessionAffinity'] = 'None';
  if (spec['sessionAffinity'] === 'None') delete spec['sessionAffinityConfig'];
  if (spec['sessionAffinity'] === 'ClientIP') {
    const timeout = asObject(asObject(asObject(spec['sessionAffinityConfig'])?.['clientIP']))?.['timeoutSeconds'];
    if (isUnset(timeout)) spec['sessionAffinityConfig'] = { clientIP: { timeoutSeconds: DEFAULT_CLIENT_IP_TIMEOUT_SECONDS } };
  }
  if (!spec['type']) spec['type'] = 'ClusterIP';
  for (const port of objectsOf(spec['ports'])) {
    if (!port['protocol']) port['protocol'] = 'TCP';
    if (isUnset(port['targetPort']) || port['targetPort'] === 0 || port['targetPort'] === '') port['targetPort'] = port['port'];
  }
  if (externallyAccessible(spec) && !spec['externalTrafficPolicy']) spec['externalTrafficPolicy'] = 'Cluster';
  if (isUnset(spec['internalTrafficPolicy']) && ['NodePort', 'LoadBalancer', 'ClusterIP'].includes(asString(spec['type']))) spec['internalTrafficPolicy'] = 'Cluster';
  if (spec['type'] === 'LoadBalancer' && isUnset(spec['allocateLoadBalancerNodePorts'])) spec['allocateLoadBalancerNodePorts'] = true;

  if (spec['type'] !== 'ExternalName') {
    const clusterIP = asString(spec['clusterIP']);
    const clusterIPs = asArray(spec['clusterIPs']);
    if (clusterIP && clusterIPs.length === 0) spec['clusterIPs'] = [clusterIP];
    else if (!clusterIP && typeof clusterIPs[0] === 'string') spec['clusterIP'] = clusterIPs[0];
    if (isUnset(spec['ipFamilyPolicy'])) {
      const headlessWithoutSelector = spec['clusterIP'] === 'None' && Object.keys(asObject(spec['selector']) ?? {}).length === 0;
      spec['ipFamilyPolicy'] = headlessWithoutSelector ? 'RequireDualStack' : 'SingleStack';
    }
    if (asArray(spec['ipFamilies']).length === 0) spec['ipFamilies'] = ['IPv4'];
  }

  const status = ensureObject(obj, 'status');
  const loadBalancer = ensureObject(status, 'loadBalancer');
  if (spec['type'] === 'LoadBalancer') {
    for (const ingress of objectsOf(loadBalancer['ingress'])) if (ingress['ip'] && isUnset(ingress['ipMode'])) ingress['ipMode'] = 'VIP';
  }
}
