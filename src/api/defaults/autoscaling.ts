// HorizontalPodAutoscaler defaults for autoscaling/v1 and autoscaling/v2.

import { asObject, ensureObject, type JsonObject } from '../validation/json-values.js';

const DEFAULT_CPU_UTILIZATION = 80;

function scaleUpRules(): JsonObject {
  return {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
  };
}

function scaleDownRules(): JsonObject {
  return { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };
}

/** copyHPAScalingRules: fields the user set win over the defaults. */
function mergeRules(given: JsonObject | undefined, defaults: JsonObject): JsonObject {
  if (!given) return defaults;
  const out = { ...defaults };
  for (const field of ['selectPolicy', 'stabilizationWindowSeconds', 'policies', 'tolerance']) {
    if (given[field] !== undefined && given[field] !== null) out[field] = given[field];
  }
  return out;
}

export function defaultHorizontalPodAutoscaler(obj: JsonObject, version: string): void {
  const spec = ensureObject(obj, 'spec');
  if (spec['minReplicas'] === undefined || spec['minReplicas'] === null) spec['minReplicas'] = 1;
  if (version === 'v1') return;
  if (!Array.isArray(spec['metrics']) || spec['metrics'].length === 0) {
    spec['metrics'] = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
  }
  const behavior = asObject(spec['behavior']);
  if (behavior) {
    behavior['scaleUp'] = mergeRules(asObject(behavior['scaleUp']), scaleUpRules());
    behavior['scaleDown'] = mergeRules(asObject(behavior['scaleDown']), scaleDownRules());
  }
  const status = ensureObject(obj, 'status');
  if (status['currentMetrics'] === undefined) status['currentMetrics'] = null;
  if (status['desiredReplicas'] === undefined) status['desiredReplicas'] = 0;
}
