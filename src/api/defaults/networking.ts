// networking.k8s.io and discovery.k8s.io defaults.

import { asArray, asObject, ensureObject, objectsOf, type JsonObject } from '../validation/json-values.js';

export function defaultNetworkPolicy(obj: JsonObject): void {
  const spec = ensureObject(obj, 'spec');
  for (const direction of ['ingress', 'egress']) {
    for (const rule of objectsOf(spec[direction])) {
      for (const port of objectsOf(rule['ports'])) if (!port['protocol']) port['protocol'] = 'TCP';
    }
  }
  if (asArray(spec['policyTypes']).length === 0) {
    spec['policyTypes'] = asArray(spec['egress']).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  }
}

export function defaultEndpointSlice(obj: JsonObject): void {
  for (const port of objectsOf(obj['ports'])) {
    if (port['name'] === undefined || port['name'] === null) port['name'] = '';
    if (!port['protocol']) port['protocol'] = 'TCP';
  }
}

export function defaultIngressClass(obj: JsonObject): void {
  const parameters = asObject(asObject(obj['spec'])?.['parameters']);
  if (parameters && !parameters['scope']) parameters['scope'] = 'Cluster';
}
