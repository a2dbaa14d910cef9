// The Priority admission plugin (plugin/pkg/admission/priority): a pod's
// priority from its PriorityClass or the global default one, and at most one
// PriorityClass marked globalDefault.
import { ForbiddenError } from '../api/errors.js';
import { isPlainObject, type KubeObject } from '../api/object.js';
import { podForbidden } from './service-account-admission.js';
import type { ClusterReader } from './write-pipeline.js';

/** Built-in classes every cluster has (Kubernetes' scheduling API defaults). */
export const systemPriorityClasses: Record<string, number> = { 'system-node-critical': 2000001000, 'system-cluster-critical': 2000000000 };

/** The global default class; should a race have made several, the one of lowest value (getDefaultPriorityClass). */
async function defaultPriorityClass(reader: ClusterReader): Promise<KubeObject | undefined> {
  let found: KubeObject | undefined;
  for (const pc of await reader.list('scheduling.k8s.io', 'priorityclasses')) {
    if (pc.globalDefault !== true) continue;
    if (!found || valueOf(found) > valueOf(pc)) found = pc;
  }
  return found;
}

function valueOf(pc: KubeObject): number {
  return typeof pc.value === 'number' ? pc.value : 0;
}

/**
 * spec.priority (and preemptionPolicy) from the pod's PriorityClass, or
 * from the global default class; a priority the pod names itself is
 * refused unless it agrees.
 */
export async function admitPodPriority(pod: KubeObject, reader: ClusterReader): Promise<void> {
  const spec = (isPlainObject(pod.spec) ? pod.spec : {}) as Record<string, unknown>;
  const className = typeof spec.priorityClassName === 'string' ? spec.priorityClassName : '';
  let priority = 0;
  let preemptionPolicy: unknown;
  if (className) {
    const pc = await reader.get('scheduling.k8s.io', 'priorityclasses', undefined, className);
    if (pc) {
      priority = valueOf(pc);
      preemptionPolicy = pc.preemptionPolicy;
    } else if (className in systemPriorityClasses) priority = systemPriorityClasses[className]!;
    else throw podForbidden(pod, `no PriorityClass with name ${className} was found`);
  } else {
    const global = await defaultPriorityClass(reader);
    if (global) {
      priority = valueOf(global);
      preemptionPolicy = global.preemptionPolicy;
      spec.priorityClassName = global.metadata.name;
    }
  }
  if (spec.priority !== undefined && spec.priority !== null && spec.priority !== priority) {
    throw podForbidden(pod, `the integer value of priority (${String(spec.priority)}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`);
  }
  spec.priority = priority;
  spec.preemptionPolicy = spec.preemptionPolicy ?? preemptionPolicy ?? 'PreemptLowerPriority';
  pod.spec = spec;
}

/**
 * A PriorityClass may be the global default only while no other class is:
 * a second default is refused on create, and on the update that marks it.
 */
export async function validatePriorityClassAdmission(operation: 'CREATE' | 'UPDATE', pc: KubeObject, reader: ClusterReader): Promise<void> {
  if (pc.globalDefault !== true) return;
  const current = await defaultPriorityClass(reader);
  if (!current) return;
  const name = pc.metadata.name ?? '';
  if (operation === 'UPDATE' && current.metadata.name === name) return;
  throw new ForbiddenError(
    { group: 'scheduling.k8s.io', resource: 'priorityclasses', name },
    `priorityclasses.scheduling.k8s.io "${name}" is forbidden: PriorityClass ${current.metadata.name ?? ''} is already marked as default. Only one default can exist`,
  );
}
