// The disruption controller: keeps each PodDisruptionBudget's status
// (expectedPods, currentHealthy, desiredHealthy, disruptionsAllowed, the
// DisruptionAllowed condition) in step with its pods, so the eviction API
// (and `kubectl drain`) can tell whether a pod may go (Kubernetes'
// pkg/controller/disruption).
import { apiTime } from '../../api/api-time.js';
import { ApiError } from '../../api/errors.js';
import type { KubeObject, OwnerReference } from '../../api/object.js';
import { selectorFromLabelSelector, type LabelSelector } from '../../api/labels/index.js';
import { objectKey, type Informer, type InformerFactory } from '../../client/informer.js';
import { podsResource } from '../../client/core-resources.js';
import { QueueController, type QueueControllerOptions } from '../queue-controller.js';

const pdbsResource = { group: 'policy', version: 'v1', plural: 'poddisruptionbudgets' };
/** Controllers whose replicas count as the expected pods of a percentage or maxUnavailable budget. */
const scalable: Record<string, { group: string; version: string; plural: string }> = {
  'apps/v1/ReplicaSet': { group: 'apps', version: 'v1', plural: 'replicasets' },
  'apps/v1/StatefulSet': { group: 'apps', version: 'v1', plural: 'statefulsets' },
  'apps/v1/Deployment': { group: 'apps', version: 'v1', plural: 'deployments' },
  'v1/ReplicationController': { group: '', version: 'v1', plural: 'replicationcontrollers' },
};
/** How long an evicted pod counts as disrupted while it is still there (DeletionTimeout). */
const disruptedPodTimeoutMs = 2 * 60_000;

export type DisruptionControllerOptions = QueueControllerOptions;

interface Budget {
  minAvailable?: number | string;
  maxUnavailable?: number | string;
  selector?: LabelSelector;
}

function isReady(pod: KubeObject): boolean {
  const status = (pod.status ?? {}) as { conditions?: { type?: string; status?: string }[] };
  return (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return (obj.metadata.ownerReferences ?? []).find((r) => r.controller);
}

/** An int-or-percent against a total, rounded up as Kubernetes rounds budgets. */
export function scaledValue(value: number | string, total: number): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(value);
  if (!m) return Number(value) || 0;
  return Math.ceil((Number(m[1]) * total) / 100);
}

export interface BudgetFigures {
  expectedPods: number;
  desiredHealthy: number;
  currentHealthy: number;
  disruptionsAllowed: number;
}

/** The status figures of a budget from its pods and (for percentages and maxUnavailable) their controllers' replicas. */
export function budgetFigures(budget: Budget, pods: KubeObject[], controllersScale: number | undefined, disrupted: Set<string>): BudgetFigures {
  const currentHealthy = pods.filter((p) => !p.metadata.deletionTimestamp && !disrupted.has(p.metadata.name ?? '') && isReady(p)).length;
  let expectedPods = pods.length;
  let desiredHealthy = 0;
  if (budget.maxUnavailable !== undefined) {
    expectedPods = controllersScale ?? pods.length;
    desiredHealthy = Math.max(0, expectedPods - scaledValue(budget.maxUnavailable, expectedPods));
  } else if (typeof budget.minAvailable === 'number') {
    desiredHealthy = budget.minAvailable;
  } else if (typeof budget.minAvailable === 'string') {
    expectedPods = controllersScale ?? pods.length;
    desiredHealthy = scaledValue(budget.minAvailable, expectedPods);
  }
  return { expectedPods, desiredHealthy, currentHealthy, disruptionsAllowed: Math.max(0, currentHealthy - desiredHealthy) };
}

export class DisruptionController extends QueueController {
  private readonly budgets: Informer;
  private readonly pods: Informer;

  constructor(factory: InformerFactory, opts: DisruptionControllerOptions = {}) {
    super(factory, opts, 2);
    this.budgets = this.informer(pdbsResource);
    this.pods = this.informer(podsResource);
    this.budgets.on({ add: (b) => this.queue.add(objectKey(b)), update: (_o, b) => this.queue.add(objectKey(b)) });
    const podChanged = (pod: KubeObject) => {
      for (const b of this.budgets.inNamespace(pod.metadata.namespace ?? '')) {
        const selector = selectorFromLabelSelector((b.spec as Budget | undefined)?.selector);
        if (!selector.empty() && selector.matches(pod.metadata.labels ?? {})) this.queue.add(objectKey(b));
      }
    };
    this.pods.on({ add: podChanged, update: (old, pod) => (podChanged(old), podChanged(pod)), delete: podChanged });
  }

  /** Sum of the replicas of the controllers of these pods (a Deployment's for its ReplicaSets); undefined when one is unknown. */
  private async controllersScale(pods: KubeObject[]): Promise<number | undefined> {
    const seen = new Map<string, number>();
    for (const pod of pods) {
      const ref = controllerOf(pod);
      if (!ref) return undefined;
      const key = `${ref.apiVersion}/${ref.kind}`;
      const resource = scalable[key];
      if (!resource) return undefined;
      if (seen.has(ref.uid)) continue;
      let owner = await this.client.get<KubeObject>({ ...resource, namespace: pod.metadata.namespace, name: ref.name });
      const deployment = ref.kind === 'ReplicaSet' ? controllerOf(owner) : undefined;
      if (deployment?.kind === 'Deployment') {
        owner = await this.client.get<KubeObject>({ ...scalable['apps/v1/Deployment']!, namespace: pod.metadata.namespace, name: deployment.name });
      }
      const replicas = (owner.spec as { replicas?: number } | undefined)?.replicas ?? 1;
      seen.set(deployment ? deployment.uid : ref.uid, replicas);
    }
    return [...seen.values()].reduce((a, b) => a + b, 0);
  }

  async sync(key: string): Promise<void> {
    const pdb = this.budgets.get(key);
    if (!pdb || pdb.metadata.deletionTimestamp) return;
    const spec = (pdb.spec ?? {}) as Budget;
    const selector = selectorFromLabelSelector(spec.selector);
    const pods = selector.empty() ? [] : this.pods.inNamespace(pdb.metadata.namespace ?? '').filter((p) => selector.matches(p.metadata.labels ?? {}));
    const status = (pdb.status ?? {}) as { disruptedPods?: Record<string, string>; observedGeneration?: number };
    // Evictions recorded by the API server count until the pod is gone or the entry is old.
    const now = Date.now();
    const disruptedPods: Record<string, string> = {};
    let recheck = false;
    for (const [name, at] of Object.entries(status.disruptedPods ?? {})) {
      const pod = pods.find((p) => p.metadata.name === name);
      if (!pod || pod.metadata.deletionTimestamp) continue;
      if (now - Date.parse(at) > disruptedPodTimeoutMs) continue;
      disruptedPods[name] = at;
      recheck = true;
    }
    let scale: number | undefined;
    try {
      scale = typeof spec.minAvailable === 'string' || spec.maxUnavailable !== undefined ? await this.controllersScale(pods) : undefined;
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
    const figures = budgetFigures(spec, pods, scale, new Set(Object.keys(disruptedPods)));
    const allowed = figures.disruptionsAllowed > 0;
    const previous = ((pdb.status as { conditions?: { type: string; status: string; lastTransitionTime?: string }[] } | undefined)?.conditions ?? []).find((c) => c.type === 'DisruptionAllowed');
    const condStatus = allowed ? 'True' : 'False';
    const condition = {
      type: 'DisruptionAllowed',
      status: condStatus,
      reason: allowed ? 'SufficientPods' : 'InsufficientPods',
      message: '',
      observedGeneration: pdb.metadata.generation ?? 1,
      lastTransitionTime: previous?.status === condStatus && previous.lastTransitionTime ? previous.lastTransitionTime : apiTime(),
    };
    const next = { ...figures, observedGeneration: pdb.metadata.generation ?? 1, disruptedPods, conditions: [condition] };
    if (JSON.stringify(next) !== JSON.stringify(pdb.status)) {
      try {
        await this.client.update({ ...pdbsResource, namespace: pdb.metadata.namespace, name: pdb.metadata.name, subresource: 'status' }, { ...pdb, status: next });
      } catch (err) {
        if (err instanceof ApiError && (err.code === 404 || err.code === 409)) {
          if (err.code === 409) this.queue.add(key);
          return;
        }
        throw err;
      }
    }
    if (recheck) this.queue.addAfter(key, disruptedPodTimeoutMs);
  }
}
