// The scale subresource: an autoscaling/v1 Scale view of any kind with
// spec.replicas, status.replicas and a label selector.
import { BadRequestError, InvalidError } from '../../api/errors.js';
import { isPlainObject, type KubeObject } from '../../api/object.js';

function selectorString(selector: unknown): string {
  if (!isPlainObject(selector)) return '';
  // ReplicationController's selector is a plain map; the others are LabelSelectors.
  const matchLabels = (isPlainObject(selector.matchLabels) ? selector.matchLabels : 'matchExpressions' in selector ? {} : selector) as Record<string, string>;
  const parts = Object.keys(matchLabels)
    .sort()
    .map((k) => `${k}=${matchLabels[k]}`);
  const exprs = Array.isArray(selector.matchExpressions) ? (selector.matchExpressions as { key: string; operator: string; values?: string[] }[]) : [];
  for (const e of exprs) {
    const values = [...(e.values ?? [])].sort().join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

export function scaleFromObject(obj: KubeObject): KubeObject {
  const spec = (isPlainObject(obj.spec) ? obj.spec : {}) as Record<string, unknown>;
  const status = (isPlainObject(obj.status) ? obj.status : {}) as Record<string, unknown>;
  const meta = obj.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: meta.name, namespace: meta.namespace, uid: meta.uid, resourceVersion: meta.resourceVersion, creationTimestamp: meta.creationTimestamp },
    spec: { replicas: typeof spec.replicas === 'number' ? spec.replicas : 0 },
    status: { replicas: typeof status.replicas === 'number' ? status.replicas : 0, selector: selectorString(spec.selector) },
  };
}

export function applyScaleToObject(current: KubeObject, scale: KubeObject): KubeObject {
  const spec = isPlainObject(scale.spec) ? scale.spec : undefined;
  const replicas = spec?.replicas;
  if (replicas === undefined) return current;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas)) throw new BadRequestError(`spec.replicas must be an integer, got ${JSON.stringify(replicas)}`);
  if (replicas < 0) {
    throw new InvalidError('Scale', 'autoscaling', current.metadata.name ?? '', [
      { type: 'FieldValueInvalid', field: 'spec.replicas', value: replicas, detail: 'must be greater than or equal to 0' },
    ]);
  }
  const objSpec = (isPlainObject(current.spec) ? current.spec : (current.spec = {})) as Record<string, unknown>;
  objSpec.replicas = replicas;
  return current;
}
