// The ReplicaSet and ReplicationController controllers (Kubernetes'
// pkg/controller/replicaset; the ReplicationManager is the same engine over
// core/v1 ReplicationControllers, whose selector is a plain label map).
//
// Informers on the owners and on pods feed keys to a rate-limited queue;
// sync(key) is level-triggered: it claims the matching pods (adopting
// orphans, releasing pods that stopped matching), creates or deletes pods
// toward spec.replicas (in slow-start batches, behind expectations so its own
// writes still in flight are never acted on twice) and writes the status.
import { ApiError } from '../../api/errors.js';
import { Selector, selectorFromLabelSelector, type LabelSelector } from '../../api/labels/index.js';
import { cloneJson, type KubeObject, type OwnerReference } from '../../api/object.js';
import { EventRecorder } from '../../client/events.js';
import { objectKey, type Informer, type InformerFactory } from '../../client/informer.js';
import type { ResourcePath, RestClient } from '../../client/rest.js';
import { Expectations } from '../workload-common/expectations.js';
import { claimControlled, ownersSelecting, resolveControllerRef, sameLabels } from '../workload-common/owners.js';
import { controllerRefOf, controllerUidIndex, controllerUidIndexFunc, newControllerRef } from '../workload-common/pods.js';
import { isPodActive, isPodReady, msUntilAvailable, podFromTemplate, podsToDelete, slowStartBatch, type Pod, type PodTemplate } from './pods.js';
import { calculateReplicaStatus, replicaStatusCurrent, type ReplicaStatus } from './status.js';
import { podsResource } from '../../client/core-resources.js';
import { QueueController, type QueueControllerOptions } from '../queue-controller.js';

export const replicaSetsResource = { group: 'apps', version: 'v1', plural: 'replicasets' };
export const replicationControllersResource = { group: '', version: 'v1', plural: 'replicationcontrollers' };

/** Kubernetes' SlowStartInitialBatchSize. */
export const slowStartInitialBatchSize = 1;

export interface ReplicaSetControllerOptions extends QueueControllerOptions {
  /** Most pods created or deleted in one sync (Kubernetes' --replicaset-burst, 500). */
  burstReplicas?: number;
}

export interface ReplicaOwner extends KubeObject {
  spec?: {
    replicas?: number;
    minReadySeconds?: number;
    selector?: LabelSelector | Record<string, string>;
    template?: PodTemplate;
  };
  status?: ReplicaStatus;
}

/** What differs between the ReplicaSet and the ReplicationController flavour of the engine. */
interface OwnerKind {
  resource: ResourcePath;
  apiVersion: string;
  kind: string;
  component: string;
  selector(owner: ReplicaOwner): Selector;
}

const replicaSetKind: OwnerKind = {
  resource: replicaSetsResource,
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  component: 'replicaset-controller',
  selector: (rs) => selectorFromLabelSelector(rs.spec?.selector as LabelSelector | undefined),
};

const replicationControllerKind: OwnerKind = {
  resource: replicationControllersResource,
  apiVersion: 'v1',
  kind: 'ReplicationController',
  component: 'replication-controller',
  selector: (rc) => Selector.fromSet((rc.spec?.selector as Record<string, string> | undefined) ?? {}),
};

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.code === 404;
}

function isNamespaceTerminating(err: unknown): boolean {
  return err instanceof ApiError && (err.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating');
}

function sameRef(a: OwnerReference | undefined, b: OwnerReference | undefined): boolean {
  if (!a || !b) return a === b;
  return a.uid === b.uid && a.name === b.name && a.kind === b.kind && a.apiVersion === b.apiVersion;
}

/** The engine both controllers run. */
class ReplicaManager extends QueueController {
  readonly owners: Informer;
  readonly pods: Informer;
  readonly expectations = new Expectations();
  private readonly recorder: EventRecorder;
  private readonly burstReplicas: number;

  constructor(
    factory: InformerFactory,
    private readonly kind: OwnerKind,
    opts: ReplicaSetControllerOptions,
  ) {
    super(factory, opts, 2);
    this.burstReplicas = opts.burstReplicas ?? 500;
    this.recorder = new EventRecorder(this.client, kind.component);
    this.owners = this.informer(kind.resource);
    this.pods = this.informer(podsResource);
    this.pods.addIndex(controllerUidIndex, controllerUidIndexFunc);

    const enqueue = (obj: KubeObject) => this.queue.add(objectKey(obj));
    this.owners.on({
      add: enqueue,
      update: (_old, cur) => enqueue(cur),
      delete: (obj) => {
        this.expectations.forget(objectKey(obj));
        enqueue(obj);
      },
    });
    this.pods.on({
      add: (pod) => this.addPod(pod as Pod),
      update: (old, cur) => this.updatePod(old as Pod, cur as Pod),
      delete: (pod) => this.deletePod(pod as Pod),
    });
  }

  /** The owner a controller reference points at, if it is one of ours and still the same object. */
  private resolveControllerRef(namespace: string, ref: OwnerReference): ReplicaOwner | undefined {
    return resolveControllerRef<ReplicaOwner>(this.owners, namespace, ref, this.kind.kind, this.kind.resource.group);
  }

  /** Owners whose selector matches an orphan pod (getPodReplicaSets). */
  private ownersSelecting(pod: Pod): ReplicaOwner[] {
    return ownersSelecting<ReplicaOwner>(this.owners, pod, this.kind.selector);
  }

  private addPod(pod: Pod): void {
    if (pod.metadata.deletionTimestamp) {
      // A pod that shows up already being deleted is not a creation we waited for.
      this.deletePod(pod);
      return;
    }
    const ref = controllerRefOf(pod);
    if (ref) {
      const owner = this.resolveControllerRef(pod.metadata.namespace ?? '', ref);
      if (!owner) return;
      const key = objectKey(owner);
      this.expectations.creationObserved(key);
      this.queue.add(key);
      return;
    }
    for (const owner of this.ownersSelecting(pod)) this.queue.add(objectKey(owner));
  }

  private updatePod(old: Pod, cur: Pod): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const labelChanged = !sameLabels(old, cur);
    if (cur.metadata.deletionTimestamp) {
      this.deletePod(cur);
      if (labelChanged) this.deletePod(old);
      return;
    }
    const curRef = controllerRefOf(cur);
    const oldRef = controllerRefOf(old);
    const refChanged = !sameRef(curRef, oldRef);
    if (refChanged && oldRef) {
      const owner = this.resolveControllerRef(old.metadata.namespace ?? '', oldRef);
      if (owner) this.queue.add(objectKey(owner));
    }
    if (curRef) {
      const owner = this.resolveControllerRef(cur.metadata.namespace ?? '', curRef);
      if (!owner) return;
      const key = objectKey(owner);
      this.queue.add(key);
      const minReady = owner.spec?.minReadySeconds ?? 0;
      // A pod that just became ready becomes available minReadySeconds later: look again then.
      if (minReady > 0 && !isPodReady(old) && isPodReady(cur)) this.queue.addAfter(key, msUntilAvailable(cur, minReady, Date.now()) || minReady * 1000);
      return;
    }
    if (labelChanged || refChanged) for (const owner of this.ownersSelecting(cur)) this.queue.add(objectKey(owner));
  }

  private deletePod(pod: Pod): void {
    const ref = controllerRefOf(pod);
    if (!ref) return;
    const owner = this.resolveControllerRef(pod.metadata.namespace ?? '', ref);
    if (!owner) return;
    const key = objectKey(owner);
    this.expectations.deletionObserved(key, pod.metadata.uid ?? '');
    this.queue.add(key);
  }

  async sync(key: string): Promise<void> {
    const cached = this.owners.get(key) as ReplicaOwner | undefined;
    if (!cached) {
      this.expectations.forget(key);
      return;
    }
    const owner = cloneJson(cached);
    const needsSync = this.expectations.satisfied(key);
    let selector: Selector;
    try {
      selector = this.kind.selector(owner);
    } catch (err) {
      this.log(`${this.kind.kind} ${key}: invalid selector: ${errorMessage(err)}`);
      return;
    }
    const active = (this.pods.inNamespace(owner.metadata.namespace ?? '') as Pod[]).filter(isPodActive);
    const pods = await this.claimPods(owner, selector, active);

    let manageError: Error | undefined;
    if (needsSync && !owner.metadata.deletionTimestamp) {
      try {
        await this.manageReplicas(pods, owner);
      } catch (err) {
        manageError = err instanceof Error ? err : new Error(String(err));
      }
    }
    const now = Date.now();
    const status = calculateReplicaStatus(owner.status, owner.spec ?? {}, pods, manageError, now);
    const updated = await this.updateStatus(owner, status);
    const replicas = updated.spec?.replicas ?? 1;
    const minReady = updated.spec?.minReadySeconds ?? 0;
    // Pods ready but not yet available: look again once they should be.
    if (!manageError && minReady > 0 && (updated.status?.readyReplicas ?? 0) === replicas && (updated.status?.availableReplicas ?? 0) !== replicas) {
      const waits = pods.map((p) => msUntilAvailable(p, minReady, now)).filter((ms) => ms > 0);
      this.queue.addAfter(key, waits.length > 0 ? Math.min(...waits) : minReady * 1000);
    }
    if (manageError) throw manageError;
  }

  /**
   * PodControllerRefManager.ClaimPods: the pods this owner controls, after
   * adopting orphans its selector matches and releasing its pods that no
   * longer match.
   */
  private claimPods(owner: ReplicaOwner, selector: Selector, pods: Pod[]): Promise<Pod[]> {
    return claimControlled(pods, {
      client: this.client,
      resource: podsResource,
      dependentKind: 'Pod',
      owner,
      ownerResource: this.kind.resource,
      apiVersion: this.kind.apiVersion,
      kind: this.kind.kind,
      selector,
    });
  }

  /** manageReplicas: create or delete pods so that the owner has spec.replicas active pods. */
  private async manageReplicas(pods: Pod[], owner: ReplicaOwner): Promise<void> {
    const key = objectKey(owner);
    const replicas = owner.spec?.replicas ?? 1;
    let diff = pods.length - replicas;
    if (diff < 0) {
      diff = Math.min(-diff, this.burstReplicas);
      this.expectations.expectCreations(key, diff);
      const template = owner.spec?.template;
      const ref = newControllerRef(owner, this.kind.apiVersion, this.kind.kind);
      const { successes, error } = await slowStartBatch(diff, slowStartInitialBatchSize, () => this.createPod(owner, template, ref));
      // Creates never attempted (or that failed) will never be observed.
      for (let skipped = diff - successes; skipped > 0; skipped--) this.expectations.creationObserved(key);
      if (error) throw error;
      return;
    }
    if (diff > 0) {
      diff = Math.min(diff, this.burstReplicas);
      const victims = podsToDelete(pods, this.relatedPods(owner), diff, Date.now());
      this.expectations.expectDeletions(key, victims.map((pod) => pod.metadata.uid ?? ''));
      const results = await Promise.allSettled(victims.map((pod) => this.deletePodOf(owner, pod)));
      let firstError: unknown;
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') return;
        // A delete that failed will never be observed.
        this.expectations.deletionObserved(key, victims[i]!.metadata.uid ?? '');
        if (!isNotFound(r.reason)) firstError ??= r.reason;
      });
      if (firstError) throw firstError;
    }
  }

  /** getIndirectlyRelatedPods: the active pods of this owner and of its siblings under the same controller. */
  private relatedPods(owner: ReplicaOwner): Pod[] {
    const ref = controllerRefOf(owner);
    const siblings = ref
      ? this.owners.inNamespace(owner.metadata.namespace ?? '').filter((o) => controllerRefOf(o)?.uid === ref.uid)
      : [owner];
    const seen = new Set<string>();
    const out: Pod[] = [];
    for (const sibling of siblings) {
      for (const pod of this.pods.byIndex(controllerUidIndex, sibling.metadata.uid ?? '') as Pod[]) {
        if (seen.has(pod.metadata.uid ?? '')) continue;
        seen.add(pod.metadata.uid ?? '');
        out.push(pod);
      }
    }
    return out;
  }

  private async createPod(owner: ReplicaOwner, template: PodTemplate | undefined, ref: OwnerReference): Promise<void> {
    try {
      if (!template) throw new Error('unable to create pods, no template');
      const pod = podFromTemplate(template, owner, ref);
      if (Object.keys(pod.metadata.labels ?? {}).length === 0) throw new Error('unable to create pods, no labels');
      const created = await this.client.create({ ...podsResource, namespace: owner.metadata.namespace }, pod);
      void this.recorder.record(owner, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
    } catch (err) {
      // A namespace being deleted refuses every create: nothing to report or retry.
      if (isNamespaceTerminating(err)) return;
      void this.recorder.record(owner, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(err)}`);
      throw err;
    }
  }

  private async deletePodOf(owner: ReplicaOwner, pod: Pod): Promise<void> {
    try {
      await this.client.delete({ ...podsResource, namespace: pod.metadata.namespace, name: pod.metadata.name });
      void this.recorder.record(owner, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
    } catch (err) {
      if (!isNotFound(err)) void this.recorder.record(owner, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(err)}`);
      throw err;
    }
  }

  /** updateReplicaSetStatus: writes the status (with observedGeneration) unless it is current; retries once on a fresh copy. */
  private async updateStatus(owner: ReplicaOwner, status: ReplicaStatus): Promise<ReplicaOwner> {
    const generation = owner.metadata.generation ?? 0;
    if (replicaStatusCurrent(owner.status, status, generation)) return owner;
    status.observedGeneration = generation;
    const path = { ...this.kind.resource, namespace: owner.metadata.namespace, name: owner.metadata.name, subresource: 'status' };
    let target = owner;
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.client.update(path, { ...target, status })) as ReplicaOwner;
      } catch (err) {
        if (attempt >= 1 || isNotFound(err)) throw err;
        target = (await this.client.get({ ...path, subresource: undefined })) as ReplicaOwner;
      }
    }
  }
}

/** The ReplicaSet controller (apps/v1 ReplicaSets). */
export class ReplicaSetController extends ReplicaManager {
  constructor(factory: InformerFactory, opts: ReplicaSetControllerOptions = {}) {
    super(factory, replicaSetKind, opts);
  }
}

/** The ReplicationController controller (core/v1 ReplicationControllers), Kubernetes' ReplicationManager. */
export class ReplicationManager extends ReplicaManager {
  constructor(factory: InformerFactory, opts: ReplicaSetControllerOptions = {}) {
    super(factory, replicationControllerKind, opts);
  }
}

export { ReplicationManager as ReplicationControllerController };
