// The Deployment controller (Kubernetes' pkg/controller/deployment): each
// Deployment owns ReplicaSets named <deployment>-<pod-template-hash>, one per
// pod template it has had; sync(key) claims them, finds or creates the one
// for the current template, and moves replicas onto it by the strategy
// (RollingUpdate within maxSurge / maxUnavailable, or Recreate), scales
// proportionally when the deployment is resized mid-rollout, keeps
// revisionHistoryLimit old ReplicaSets, and reports status and the
// Available / Progressing conditions that `kubectl rollout status` reads.
import { ApiError } from '../../api/errors.js';
import { selectorFromLabelSelector, type Selector } from '../../api/labels/index.js';
import { cloneJson, type KubeObject, type OwnerReference } from '../../api/object.js';
import { EventRecorder } from '../../client/events.js';
import { objectKey, type Informer, type InformerFactory } from '../../client/informer.js';
import { claimControlled, ownersSelecting, resolveControllerRef, sameLabels } from '../workload-common/owners.js';
import { controllerRefOf, controllerUidIndex, controllerUidIndexFunc, newControllerRef } from '../workload-common/pods.js';
import {
  byRevision,
  calculateStatus,
  deploymentComplete,
  equalIgnoreHash,
  failedRSCreateReason,
  filterActive,
  findNewReplicaSet,
  findOldReplicaSets,
  foundNewRSReason,
  getCondition,
  hasProgressDeadline,
  hasRevisionHistoryLimit,
  isRollingUpdate,
  maxRevision,
  maxRevHistoryLengthInChars,
  maxSurge,
  newCondition,
  newReplicaSetReason,
  newRSNewReplicas,
  pausedDeployReason,
  planOldScaleDown,
  planScale,
  podTemplateHashLabel,
  progressCheckAfterMs,
  progressing,
  replicasAnnotationsNeedUpdate,
  replicasOf,
  resumedDeployReason,
  revisionAnnotation,
  rollingNewReplicaSetTarget,
  rolloutStatus,
  sameStatus,
  setCondition,
  setDeploymentRevision,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  computeHash,
  timedOutReason,
  type Deployment,
  type DeploymentStatus,
  type ReplicaSet,
  type ScaleStep,
} from './util.js';
import { podsResource } from '../../client/core-resources.js';
import { QueueController, type QueueControllerOptions } from '../queue-controller.js';

export const deploymentsResource = { group: 'apps', version: 'v1', plural: 'deployments' };
export const replicaSetsResource = { group: 'apps', version: 'v1', plural: 'replicasets' };

export type DeploymentControllerOptions = QueueControllerOptions;

interface Pod extends KubeObject {
  status?: { phase?: string };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.code === 404;
}

function isAlreadyExists(err: unknown): boolean {
  return err instanceof ApiError && err.code === 409 && err.reason === 'AlreadyExists';
}

function isNamespaceTerminating(err: unknown): boolean {
  return err instanceof ApiError && (err.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating');
}

/** Restarts the sync: the deployment changed under it (a newer generation was written). */
class Superseded extends Error {}

export class DeploymentController extends QueueController {
  readonly deployments: Informer;
  readonly replicaSets: Informer;
  readonly pods: Informer;
  private readonly recorder: EventRecorder;

  constructor(factory: InformerFactory, opts: DeploymentControllerOptions = {}) {
    super(factory, opts, 2);
    this.recorder = new EventRecorder(this.client, 'deployment-controller');
    this.deployments = this.informer(deploymentsResource);
    this.replicaSets = this.informer(replicaSetsResource);
    this.pods = this.informer(podsResource);
    this.pods.addIndex(controllerUidIndex, controllerUidIndexFunc);

    const enqueue = (obj: KubeObject) => this.queue.add(objectKey(obj));
    this.deployments.on({ add: enqueue, update: (_old, cur) => enqueue(cur), delete: enqueue });
    this.replicaSets.on({
      add: (rs) => this.addReplicaSet(rs as ReplicaSet),
      update: (old, cur) => this.onReplicaSetUpdate(old as ReplicaSet, cur as ReplicaSet),
      delete: (rs) => this.deleteReplicaSet(rs as ReplicaSet),
    });
    this.pods.on({ delete: (pod) => this.deletePod(pod) });
  }

  // ------------------------------------------------------------ event handlers (enqueue only)

  private resolveControllerRef(namespace: string, ref: OwnerReference): Deployment | undefined {
    return resolveControllerRef<Deployment>(this.deployments, namespace, ref, 'Deployment', 'apps');
  }

  /** getDeploymentsForReplicaSet: deployments whose selector matches an orphan replica set. */
  private deploymentsSelecting(rs: ReplicaSet): Deployment[] {
    return ownersSelecting<Deployment>(this.deployments, rs, (d) => selectorFromLabelSelector(d.spec?.selector));
  }

  private addReplicaSet(rs: ReplicaSet): void {
    if (rs.metadata.deletionTimestamp) {
      this.deleteReplicaSet(rs);
      return;
    }
    const ref = controllerRefOf(rs);
    if (ref) {
      const d = this.resolveControllerRef(rs.metadata.namespace ?? '', ref);
      if (d) this.queue.add(objectKey(d));
      return;
    }
    for (const d of this.deploymentsSelecting(rs)) this.queue.add(objectKey(d));
  }

  private onReplicaSetUpdate(old: ReplicaSet, cur: ReplicaSet): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const curRef = controllerRefOf(cur);
    const oldRef = controllerRefOf(old);
    const refChanged = curRef?.uid !== oldRef?.uid;
    if (refChanged && oldRef) {
      const d = this.resolveControllerRef(old.metadata.namespace ?? '', oldRef);
      if (d) this.queue.add(objectKey(d));
    }
    if (curRef) {
      const d = this.resolveControllerRef(cur.metadata.namespace ?? '', curRef);
      if (d) this.queue.add(objectKey(d));
      return;
    }
    if (!sameLabels(old, cur) || refChanged) for (const d of this.deploymentsSelecting(cur)) this.queue.add(objectKey(d));
  }

  private deleteReplicaSet(rs: ReplicaSet): void {
    const ref = controllerRefOf(rs);
    if (!ref) return;
    const d = this.resolveControllerRef(rs.metadata.namespace ?? '', ref);
    if (d) this.queue.add(objectKey(d));
  }

  /** A Recreate deployment waits for its old pods to be gone. */
  private deletePod(pod: KubeObject): void {
    const ref = controllerRefOf(pod);
    if (!ref || ref.kind !== 'ReplicaSet') return;
    const rs = this.replicaSets.get(`${pod.metadata.namespace}/${ref.name}`);
    if (!rs || rs.metadata.uid !== ref.uid) return;
    const dref = controllerRefOf(rs);
    const d = dref && this.resolveControllerRef(rs.metadata.namespace ?? '', dref);
    if (d && d.spec?.strategy?.type === 'Recreate') this.queue.add(objectKey(d));
  }

  // ------------------------------------------------------------ sync

  async sync(key: string): Promise<void> {
    try {
      await this.syncDeployment(key);
    } catch (err) {
      if (err instanceof Superseded) {
        this.queue.add(key);
        return;
      }
      throw err;
    }
  }

  private async syncDeployment(key: string): Promise<void> {
    const cached = this.deployments.get(key) as Deployment | undefined;
    if (!cached) return;
    const d = cloneJson(cached);
    d.spec ??= {};
    const sel = d.spec.selector;
    if (!sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0)) {
      void this.recorder.record(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
        await this.writeStatus(d, { ...(d.status ?? {}), observedGeneration: d.metadata.generation });
      }
      return;
    }
    const rsList = await this.getReplicaSetsForDeployment(d);
    if (d.metadata.deletionTimestamp) return this.syncStatusOnly(d, rsList);
    await this.checkPausedConditions(d);
    if (d.spec.paused) return this.syncScaleOrPaused(d, rsList);
    if (await this.isScalingEvent(d, rsList)) return this.syncScaleOrPaused(d, rsList);
    if (d.spec.strategy?.type === 'Recreate') return this.rolloutRecreate(d, rsList);
    if (isRollingUpdate(d)) return this.rolloutRolling(d, rsList);
    throw new Error(`unexpected deployment strategy type: ${d.spec.strategy?.type}`);
  }

  /** getReplicaSetsForDeployment: the replica sets this deployment controls, adopting and releasing as ClaimReplicaSets does. */
  private async getReplicaSetsForDeployment(d: Deployment): Promise<ReplicaSet[]> {
    let selector: Selector;
    try {
      selector = selectorFromLabelSelector(d.spec.selector);
    } catch (err) {
      throw new Error(`deployment ${d.metadata.namespace}/${d.metadata.name} has invalid label selector: ${errorMessage(err)}`);
    }
    const claimed = await claimControlled(this.replicaSets.inNamespace(d.metadata.namespace ?? '') as ReplicaSet[], {
      client: this.client,
      resource: replicaSetsResource,
      dependentKind: 'ReplicaSet',
      owner: d,
      ownerResource: deploymentsResource,
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      selector,
    });
    // The sync edits the replica sets it works on: copies, not the informer's objects.
    return claimed.map(cloneJson);
  }

  /** Pods of the deployment's replica sets by replica set uid (getPodMapForDeployment). */
  private podMap(d: Deployment, rsList: ReplicaSet[]): Map<string, Pod[]> {
    const selector = selectorFromLabelSelector(d.spec.selector);
    const out = new Map<string, Pod[]>();
    for (const rs of rsList) {
      const uid = rs.metadata.uid ?? '';
      out.set(uid, (this.pods.byIndex(controllerUidIndex, uid) as Pod[]).filter((p) => selector.matches(p.metadata.labels ?? {})));
    }
    return out;
  }

  // ------------------------------------------------------------ writes

  /**
   * UpdateStatus, as the deployment controller writes it: status and the
   * revision annotation together. (Kubernetes' status subresource keeps
   * annotation changes for deployments; where the server drops them, the
   * annotation is written on the main resource.)
   */
  private async writeStatus(d: Deployment, status: DeploymentStatus): Promise<void> {
    const path = { ...deploymentsResource, namespace: d.metadata.namespace, name: d.metadata.name };
    let written = (await this.client.update({ ...path, subresource: 'status' }, { ...d, status })) as Deployment;
    const wantRevision = d.metadata.annotations?.[revisionAnnotation];
    if (wantRevision !== undefined && written.metadata.annotations?.[revisionAnnotation] !== wantRevision) {
      written = (await this.client.patch(path, { metadata: { annotations: { [revisionAnnotation]: wantRevision }, resourceVersion: written.metadata.resourceVersion } }, 'merge')) as Deployment;
    }
    this.adopt(d, written);
  }

  /** Carries on with what was written, unless the spec moved on meanwhile (then the sync starts over). */
  private adopt(d: Deployment, written: Deployment): void {
    if ((written.metadata.generation ?? 0) !== (d.metadata.generation ?? 0)) throw new Superseded();
    d.metadata.resourceVersion = written.metadata.resourceVersion;
    d.metadata.annotations = written.metadata.annotations;
    d.status = written.status;
  }

  private async updateReplicaSet(rsList: ReplicaSet[], rs: ReplicaSet): Promise<ReplicaSet> {
    const updated = (await this.client.update({ ...replicaSetsResource, namespace: rs.metadata.namespace, name: rs.metadata.name }, rs)) as ReplicaSet;
    const i = rsList.findIndex((x) => x.metadata.uid === updated.metadata.uid);
    if (i >= 0) rsList[i] = updated;
    return updated;
  }

  /** scaleReplicaSet: size and replicas annotations; an event when the size changed. */
  private async scaleReplicaSet(rsList: ReplicaSet[], rs: ReplicaSet, newScale: number, d: Deployment, operation: 'up' | 'down' | undefined): Promise<ReplicaSet> {
    const oldScale = replicasOf(rs);
    const sizeNeedsUpdate = oldScale !== newScale;
    const max = replicasOf(d) + maxSurge(d);
    if (!sizeNeedsUpdate && !replicasAnnotationsNeedUpdate(rs, replicasOf(d), max)) return rs;
    const copy = cloneJson(rs);
    copy.spec.replicas = newScale;
    setReplicasAnnotations(copy, replicasOf(d), max);
    const updated = await this.updateReplicaSet(rsList, copy);
    if (sizeNeedsUpdate) {
      const op = operation ?? (oldScale < newScale ? 'up' : 'down');
      void this.recorder.record(d, 'Normal', 'ScalingReplicaSet', `Scaled ${op} replica set ${updated.metadata.name} to ${newScale} from ${oldScale}`);
    }
    return updated;
  }

  /** scaleReplicaSetAndRecordEvent: only when the size differs. */
  private async scaleIfNeeded(rsList: ReplicaSet[], rs: ReplicaSet, newScale: number, d: Deployment): Promise<boolean> {
    if (replicasOf(rs) === newScale) return false;
    await this.scaleReplicaSet(rsList, rs, newScale, d, undefined);
    return true;
  }

  // ------------------------------------------------------------ the new replica set and revisions

  private async getAllReplicaSetsAndSyncRevision(d: Deployment, rsList: ReplicaSet[], createIfNotExisted: boolean): Promise<{ newRS?: ReplicaSet; oldRSs: ReplicaSet[] }> {
    const { all: oldRSs } = findOldReplicaSets(d, rsList);
    const newRS = await this.getNewReplicaSet(d, rsList, oldRSs, createIfNotExisted);
    return { newRS, oldRSs };
  }

  private async getNewReplicaSet(d: Deployment, rsList: ReplicaSet[], oldRSs: ReplicaSet[], create: boolean): Promise<ReplicaSet | undefined> {
    const existing = findNewReplicaSet(d, rsList);
    const newRevision = String(maxRevision(oldRSs) + 1);
    if (existing) {
      const copy = cloneJson(existing);
      const annotationsUpdated = setNewReplicaSetAnnotations(d, copy, newRevision, true, maxRevHistoryLengthInChars);
      const minReadyNeedsUpdate = (copy.spec.minReadySeconds ?? 0) !== (d.spec.minReadySeconds ?? 0);
      if (annotationsUpdated || minReadyNeedsUpdate) {
        copy.spec.minReadySeconds = d.spec.minReadySeconds ?? 0;
        return this.updateReplicaSet(rsList, copy);
      }
      let needsUpdate = setDeploymentRevision(d, copy.metadata.annotations?.[revisionAnnotation] ?? '');
      const status: DeploymentStatus = cloneJson(d.status ?? {});
      if (hasProgressDeadline(d) && !getCondition(status, progressing)) {
        setCondition(status, newCondition(progressing, 'True', foundNewRSReason, `Found new replica set "${copy.metadata.name}"`, Date.now()));
        needsUpdate = true;
      }
      if (needsUpdate) await this.writeStatus(d, status);
      return copy;
    }
    if (!create) return undefined;

    const template = cloneJson(d.spec.template ?? {});
    const hash = computeHash(d.spec.template, d.status?.collisionCount);
    template.metadata ??= {};
    template.metadata.labels = { ...(template.metadata.labels ?? {}), [podTemplateHashLabel]: hash };
    const selector = cloneJson(d.spec.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [podTemplateHashLabel]: hash };
    const newRS: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        ownerReferences: [newControllerRef(d, 'apps/v1', 'Deployment')],
        labels: { ...template.metadata.labels },
      },
      spec: { replicas: 0, minReadySeconds: d.spec.minReadySeconds ?? 0, selector, template },
    };
    const newReplicas = newRSNewReplicas(d, [...oldRSs, newRS], newRS);
    newRS.spec.replicas = newReplicas;
    setNewReplicaSetAnnotations(d, newRS, newRevision, false, maxRevHistoryLengthInChars);

    let created: ReplicaSet;
    let alreadyExists = false;
    try {
      created = (await this.client.create({ ...replicaSetsResource, namespace: d.metadata.namespace }, newRS)) as ReplicaSet;
    } catch (err) {
      if (isAlreadyExists(err)) {
        const rs = (await this.client.get({ ...replicaSetsResource, namespace: d.metadata.namespace, name: newRS.metadata.name })) as ReplicaSet;
        const ref = controllerRefOf(rs);
        if (ref?.uid === d.metadata.uid && equalIgnoreHash(d.spec.template, rs.spec.template)) {
          created = rs;
          alreadyExists = true;
        } else {
          // A hash collision: another template got the name. collisionCount changes the hash for the next try.
          const status = cloneJson(d.status ?? {});
          status.collisionCount = (status.collisionCount ?? 0) + 1;
          await this.writeStatus(d, status);
          this.log(`deployment ${objectKey(d)}: hash collision on ${newRS.metadata.name}, collisionCount now ${status.collisionCount}`);
          throw err;
        }
      } else {
        if (isNamespaceTerminating(err)) throw err;
        const msg = `Failed to create new replica set "${newRS.metadata.name}": ${errorMessage(err)}`;
        if (hasProgressDeadline(d)) {
          const status = cloneJson(d.status ?? {});
          setCondition(status, newCondition(progressing, 'False', failedRSCreateReason, msg, Date.now()));
          await this.writeStatus(d, status).catch(() => undefined);
        }
        void this.recorder.record(d, 'Warning', failedRSCreateReason, msg);
        throw err;
      }
    }
    if (!rsList.some((rs) => rs.metadata.uid === created.metadata.uid)) rsList.push(created);
    if (!alreadyExists && newReplicas > 0) {
      void this.recorder.record(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} to ${newReplicas}`);
    }
    let needsUpdate = setDeploymentRevision(d, newRevision);
    const status = cloneJson(d.status ?? {});
    if (!alreadyExists && hasProgressDeadline(d)) {
      setCondition(status, newCondition(progressing, 'True', newReplicaSetReason, `Created new replica set "${created.metadata.name}"`, Date.now()));
      needsUpdate = true;
    }
    if (needsUpdate) await this.writeStatus(d, status);
    return created;
  }

  // ------------------------------------------------------------ paused, scaling, status

  /** checkPausedConditions: Progressing Unknown DeploymentPaused / DeploymentResumed. */
  private async checkPausedConditions(d: Deployment): Promise<void> {
    if (!hasProgressDeadline(d)) return;
    const cond = getCondition(d.status, progressing);
    if (cond?.reason === timedOutReason) return;
    const pausedCondExists = cond?.reason === pausedDeployReason;
    const status = cloneJson(d.status ?? {});
    if (d.spec.paused && !pausedCondExists) {
      setCondition(status, newCondition(progressing, 'Unknown', pausedDeployReason, 'Deployment is paused', Date.now()));
    } else if (!d.spec.paused && pausedCondExists) {
      setCondition(status, newCondition(progressing, 'Unknown', resumedDeployReason, 'Deployment is resumed', Date.now()));
    } else return;
    await this.writeStatus(d, status);
  }

  /** isScalingEvent: an active replica set's desired-replicas annotation differs from spec.replicas. */
  private async isScalingEvent(d: Deployment, rsList: ReplicaSet[]): Promise<boolean> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    for (const rs of filterActive([...oldRSs, newRS])) {
      const desired = rs.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'];
      if (desired === undefined || !/^[+-]?\d+$/.test(desired)) continue;
      if (Number(desired) !== replicasOf(d)) return true;
    }
    return false;
  }

  /** dc.sync: scaling events and paused deployments (no rollout). */
  private async syncScaleOrPaused(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    await this.scale(d, newRS, oldRSs, rsList);
    if (d.spec.paused) await this.cleanupDeployment(oldRSs, d);
    await this.syncDeploymentStatus(this.current(rsList, [...oldRSs, newRS]), this.current(rsList, [newRS])[0], d);
  }

  /** The latest copies (after this sync's writes) of the given replica sets. */
  private current(rsList: ReplicaSet[], rss: (ReplicaSet | undefined)[]): (ReplicaSet | undefined)[] {
    return rss.map((rs) => (rs ? (rsList.find((x) => x.metadata.uid === rs.metadata.uid) ?? rs) : undefined));
  }

  private async scale(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[], rsList: ReplicaSet[]): Promise<void> {
    const steps: ScaleStep[] = planScale(d, newRS, oldRSs);
    for (const step of steps) {
      const rs = this.current(rsList, [step.rs])[0]!;
      if (step.always) await this.scaleReplicaSet(rsList, rs, step.replicas, d, step.operation);
      else await this.scaleIfNeeded(rsList, rs, step.replicas, d);
    }
  }

  private async syncStatusOnly(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    await this.syncDeploymentStatus([...oldRSs, newRS], newRS, d);
  }

  private async syncDeploymentStatus(allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, d: Deployment): Promise<void> {
    const status = calculateStatus(allRSs, newRS, d, Date.now());
    if (sameStatus(d.status, status)) return;
    await this.writeStatus(d, status);
  }

  private async syncRolloutStatus(allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, d: Deployment): Promise<void> {
    const now = Date.now();
    const status = rolloutStatus(allRSs, newRS, d, now);
    if (sameStatus(d.status, status)) {
      const after = progressCheckAfterMs(d, status, now);
      if (after >= 0) this.queue.addAfter(objectKey(d), after);
      return;
    }
    await this.writeStatus(d, status);
  }

  /** cleanupDeployment: delete the oldest old replica sets beyond revisionHistoryLimit (only empty, settled ones). */
  private async cleanupDeployment(oldRSs: ReplicaSet[], d: Deployment): Promise<void> {
    if (!hasRevisionHistoryLimit(d)) return;
    const cleanable = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp).sort(byRevision);
    const diff = cleanable.length - (d.spec.revisionHistoryLimit ?? 10);
    for (let i = 0; i < diff; i++) {
      const rs = cleanable[i]!;
      if ((rs.status?.replicas ?? 0) !== 0 || replicasOf(rs) !== 0 || (rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      try {
        await this.client.delete({ ...replicaSetsResource, namespace: rs.metadata.namespace, name: rs.metadata.name });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  // ------------------------------------------------------------ strategies

  private async rolloutRolling(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const { newRS: created, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, true);
    const newRS = created!;
    const allRSs = (): (ReplicaSet | undefined)[] => this.current(rsList, [...oldRSs, newRS]);
    const latestNew = (): ReplicaSet => this.current(rsList, [newRS])[0]!;

    // Scale up, if we can.
    const target = rollingNewReplicaSetTarget(d, allRSs(), latestNew());
    if (target !== undefined && (await this.scaleIfNeeded(rsList, latestNew(), target, d))) {
      return this.syncRolloutStatus(allRSs(), latestNew(), d);
    }

    // Scale down, if we can.
    const activeOld = filterActive(this.current(rsList, oldRSs));
    const plan = planOldScaleDown(d, allRSs(), activeOld, latestNew());
    let scaledDown = false;
    for (const step of [...plan.cleanup, ...plan.scaleDown]) {
      const rs = this.current(rsList, [step.rs])[0]!;
      if (await this.scaleIfNeeded(rsList, rs, step.replicas, d)) scaledDown = true;
    }
    if (scaledDown) return this.syncRolloutStatus(allRSs(), latestNew(), d);

    if (deploymentComplete(d, d.status ?? {})) await this.cleanupDeployment(this.current(rsList, oldRSs) as ReplicaSet[], d);
    return this.syncRolloutStatus(allRSs(), latestNew(), d);
  }

  private async rolloutRecreate(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    let { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    const allRSs = (): (ReplicaSet | undefined)[] => this.current(rsList, [...oldRSs, newRS]);

    // Scale down old replica sets first.
    let scaledDown = false;
    for (const rs of filterActive(this.current(rsList, oldRSs))) {
      if (await this.scaleIfNeeded(rsList, rs, 0, d)) scaledDown = true;
    }
    if (scaledDown) return this.syncRolloutStatus(allRSs(), this.current(rsList, [newRS])[0], d);

    // Wait until no old pod runs.
    if (this.oldPodsRunning(newRS, this.current(rsList, oldRSs) as ReplicaSet[], this.podMap(d, rsList))) {
      return this.syncRolloutStatus(allRSs(), this.current(rsList, [newRS])[0], d);
    }
    if (!newRS) ({ newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, true));
    const latestNew = this.current(rsList, [newRS])[0]!;
    await this.scaleIfNeeded(rsList, latestNew, replicasOf(d), d);
    if (deploymentComplete(d, d.status ?? {})) await this.cleanupDeployment(this.current(rsList, oldRSs) as ReplicaSet[], d);
    return this.syncRolloutStatus(allRSs(), this.current(rsList, [newRS])[0], d);
  }

  /** oldPodsRunning: an old replica set reports pods, or an old pod is not terminal. */
  private oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[], podMap: Map<string, Pod[]>): boolean {
    if (oldRSs.reduce((n, rs) => n + (rs.status?.replicas ?? 0), 0) > 0) return true;
    for (const [uid, pods] of podMap) {
      if (newRS && newRS.metadata.uid === uid) continue;
      for (const pod of pods) {
        const phase = pod.status?.phase;
        if (phase === 'Failed' || phase === 'Succeeded') continue;
        return true;
      }
    }
    return false;
  }
}
