// The scale subresource: an autoscaling/v1 Scale view of any kind with
// spec.replicas, status.replicas and a label selector.
import { BadRequestError, InvalidError } from '../../api/errors.js';
import { isPlainObject, type KubeObject } from '../../api/object.js';
import { nestedInt64, nestedString, setNestedField, splitFieldPath } from '../../api/unstructured.js';
import type { ResourceInfo } from '../../api/resources.js';
import type { CrdScalePaths } from '../crd.js';

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

/** autoscaling/v1 Scale as a resource of its own: the types its patches are applied by, and its table. */
export const scaleResource: ResourceInfo = {
  group: 'autoscaling',
  versions: ['v1'],
  kind: 'Scale',
  listKind: 'ScaleList',
  plural: 'scales',
  singular: 'scale',
  namespaced: true,
  shortNames: [],
  categories: [],
  subresources: [],
  verbs: [],
};

/** The spec replicas a Scale carries into an update when its object has none: an update that leaves it there is refused (Kubernetes' invalidSpecReplicas). */
export const unsetSpecReplicas = -2147483648;

/** The Scale of an object, and whether the object has spec replicas (built-in kinds always do; a custom resource may not). */
export interface ObjectScale {
  scale: KubeObject;
  found: boolean;
}

function scaleObject(meta: KubeObject['metadata'], specReplicas: number, statusReplicas: number, selector: string): KubeObject {
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: meta.name, namespace: meta.namespace, uid: meta.uid, resourceVersion: meta.resourceVersion, creationTimestamp: meta.creationTimestamp },
    spec: { replicas: specReplicas },
    status: { replicas: statusReplicas, selector },
  };
}

/**
 * The Scale of a built-in kind (spec.replicas, status.replicas, the
 * selector in spec.selector) or of a custom resource (the fields its CRD's
 * scale paths name; a value of another type is an error, as Kubernetes'
 * scaleFromCustomResource answers).
 */
export function scaleFromObject(obj: KubeObject, paths?: CrdScalePaths): ObjectScale {
  if (paths) {
    const spec = nestedInt64(obj, splitFieldPath(paths.specReplicasPath));
    const status = nestedInt64(obj, splitFieldPath(paths.statusReplicasPath));
    const selector = paths.labelSelectorPath ? nestedString(obj, splitFieldPath(paths.labelSelectorPath)).value : '';
    return { scale: scaleObject(obj.metadata, spec.value, status.value, selector), found: spec.found };
  }
  const spec = (isPlainObject(obj.spec) ? obj.spec : {}) as Record<string, unknown>;
  const status = (isPlainObject(obj.status) ? obj.status : {}) as Record<string, unknown>;
  const specReplicas = typeof spec.replicas === 'number' ? spec.replicas : 0;
  const statusReplicas = typeof status.replicas === 'number' ? status.replicas : 0;
  return { scale: scaleObject(obj.metadata, specReplicas, statusReplicas, selectorString(spec.selector)), found: true };
}

/**
 * Writes a Scale's spec replicas into its object. Replicas left out count
 * as 0, as the Scale decodes in Kubernetes; a built-in kind refuses fewer
 * than 0 as an invalid Scale, a custom resource in its own validation.
 */
export function applyScaleToObject(current: KubeObject, scale: KubeObject, paths?: CrdScalePaths): KubeObject {
  const spec = isPlainObject(scale.spec) ? scale.spec : undefined;
  const replicas = spec?.replicas ?? 0;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas)) throw new BadRequestError(`spec.replicas must be an integer, got ${JSON.stringify(replicas)}`);
  if (paths) {
    if (replicas === unsetSpecReplicas) throw new BadRequestError(`the spec replicas field ${JSON.stringify(paths.specReplicasPath)} cannot be empty`);
    setNestedField(current, replicas, splitFieldPath(paths.specReplicasPath));
    return current;
  }
  if (replicas < 0) {
    throw new InvalidError('Scale', 'autoscaling', current.metadata.name ?? '', [
      { type: 'FieldValueInvalid', field: 'spec.replicas', value: replicas, detail: 'must be greater than or equal to 0' },
    ]);
  }
  const objSpec = (isPlainObject(current.spec) ? current.spec : (current.spec = {})) as Record<string, unknown>;
  objSpec.replicas = replicas;
  return current;
}
