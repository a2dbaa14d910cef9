// The StatefulSet controller (Kubernetes' pkg/controller/statefulset): pods
// with stable names "<set>-<ordinal>", created in order (OrderedReady) or all
// at once (Parallel), each with its PersistentVolumeClaims from the
// volumeClaimTemplates; template history in ControllerRevisions; rolling
// updates from the highest ordinal down to the partition, or OnDelete.
import { ApiError } from '../../api/errors.js';
import { cloneJson, type KubeObject, type OwnerReference } from '../../api/object.js';
import { EventRecorder } from '../../client/events.js';
import { objectKey, type Informer, type InformerFactory } from '../../client/informer.js';
import { statusPatch } from '../workload-common/status.js';
import { claimDependents, ownerSelector } from '../workload-common/owners.js';
import { controllerRefOf, controllerUidIndex, controllerUidIndexFunc, newControllerRef, type Pod, type PodTemplate } from '../workload-common/pods.js';
import {
  controllerRevisionsResource,
  ensureRevision,
  ownedRevisions,
  revisionHashLabel,
  templateOfRevision,
  templateRevisionData,
  truncateHistory,
  type ControllerRevision,
} from '../workload-common/revisions.js';
import { parseOrdinal, planStatefulSet, podIndexLabel, podNameLabel, podRevision, statefulPodName, type OrderingAction } from './ordering.js';
import { podsResource } from '../../client/core-resources.js';
import { QueueController, type QueueControllerOptions } from '../queue-controller.js';

export const statefulSetsResource = { group: 'apps', version: 'v1', plural: 'statefulsets' };
export const claimsResource = { group: '', version: 'v1', plural: 'persistentvolumeclaims' };

interface ClaimTemplate {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  [field: string]: unknown;
}

interface StatefulSetSpec {
  replicas?: number;
  selector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  template?: PodTemplate;
  serviceName?: string;
  podManagementPolicy?: string;
  updateStrategy?: { type?: string; rollingUpdate?: { partition?: number; maxUnavailable?: unknown } };
  volumeClaimTemplates?: ClaimTemplate[];
  revisionHistoryLimit?: number;
  minReadySeconds?: number;
  ordinals?: { start?: number };
  persistentVolumeClaimRetentionPolicy?: { whenDeleted?: string; whenScaled?: string };
}

export interface StatefulSetStatus {
  observedGeneration?: number;
  replicas?: number;
  readyReplicas?: number;
  currentReplicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  currentRevision?: string;
  updateRevision?: string;
  collisionCount?: number;
  [field: string]: unknown;
}

export interface StatefulSet extends KubeObject {
  spec?: StatefulSetSpec;
  status?: StatefulSetStatus;
}

export interface StatefulSetControllerOptions extends QueueControllerOptions {
  /** the clock; tests may move it */
  now?: () => number;
}

/** StatefulSetStatus fields Kubernetes leaves out when zero or empty. */
const omitEmptyStatus = new Set(['observedGeneration', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'currentRevision', 'updateRevision']);

const apiVersion = 'apps/v1';
const kind = 'StatefulSet';

function isConflictOrGone(err: unknown): boolean {
  return err instanceof ApiError && (err.code === 404 || err.code === 409);
}

/** getPersistentVolumeClaimName: "<claim>-<set>-<ordinal>". */
export function claimName(claim: string, setName: string, ordinal: number): string {
  return `${claim}-${setName}-${ordinal}`;
}

export class StatefulSetController extends QueueController {
  private readonly sets: Informer;
  private readonly pods: Informer;
  private readonly revisions: Informer;
  private readonly claims: Informer;
  private readonly recorder: EventRecorder;
  private readonly now: () => number;

  constructor(factory: InformerFactory, opts: StatefulSetControllerOptions = {}) {
    super(factory, opts, 2);
    this.now = opts.now ?? Date.now;
    this.recorder = new EventRecorder(this.client, 'statefulset-controller');
    this.sets = this.informer(statefulSetsResource);
    this.pods = this.informer(podsResource);
    this.revisions = this.informer(controllerRevisionsResource);
    this.claims = this.informer(claimsResource);
    this.pods.addIndex(controllerUidIndex, controllerUidIndexFunc);
    this.revisions.addIndex(controllerUidIndex, controllerUidIndexFunc);

    const enqueue = (obj: KubeObject) => this.queue.add(objectKey(obj));
    this.sets.on({ add: enqueue, update: (_old, set) => enqueue(set), delete: enqueue });
    this.pods.on({
      add: (pod) => this.enqueueOwnerOf(pod),
      update: (old, pod) => {
        this.enqueueOwnerOf(pod);
        if (controllerRefOf(old)?.uid !== controllerRefOf(pod)?.uid) this.enqueueOwnerOf(old);
      },
      delete: (pod) => this.enqueueOwnerOf(pod),
    });
    this.revisions.on({ add: (r) => this.enqueueOwnerOf(r), update: (_old, r) => this.enqueueOwnerOf(r), delete: (r) => this.enqueueOwnerOf(r) });
  }

  /** Pods and revisions wake their set; orphan pods wake the sets that could adopt them. */
  private enqueueOwnerOf(obj: KubeObject): void {
    const ns = obj.metadata.namespace ?? '';
    const ref = controllerRefOf(obj);
    if (ref) {
      if (ref.kind === kind && ref.apiVersion.startsWith('apps/')) this.queue.add(`${ns}/${ref.name}`);
      return;
    }
    if (obj.kind === 'ControllerRevision') return;
    for (const set of this.sets.inNamespace(ns) as StatefulSet[]) {
      if (parseOrdinal(set.metadata.name ?? '', obj.metadata.name) >= 0 && ownerSelector(set.spec?.selector).matches(obj.metadata.labels)) this.queue.add(objectKey(set));
    }
  }

  async sync(key: string): Promise<void> {
    const cached = this.sets.get(key) as StatefulSet | undefined;
    if (!cached || cached.metadata.deletionTimestamp) return;
    const set = cloneJson(cached);
    const spec = set.spec ?? {};
    const namespace = set.metadata.namespace ?? '';
    const setName = set.metadata.name ?? '';
    const selector = ownerSelector(spec.selector);
    if (selector.empty()) {
      void this.recorder.record(set, 'Warning', 'SelectingAll', 'This StatefulSet is selecting all pods. A non-empty selector is required.');
      return;
    }

    const uid = set.metadata.uid ?? '';
    const candidates = (this.pods.inNamespace(namespace) as Pod[]).filter((p) => {
      const ref = controllerRefOf(p);
      return ref ? ref.uid === uid : parseOrdinal(setName, p.metadata.name) >= 0;
    });
    const pods = await claimDependents(candidates, { client: this.client, resource: podsResource, owner: set, apiVersion, kind, selector, log: this.log });

    const { current, update, collisionCount } = await this.syncRevisions(set);
    const currentTemplate = templateOfRevision(current);
    const updateTemplate = spec.template ?? {};

    const strategyType = spec.updateStrategy?.type === 'OnDelete' ? 'OnDelete' : 'RollingUpdate';
    const now = this.now();
    const plan = planStatefulSet({
      setName,
      replicas: spec.replicas ?? 1,
      startOrdinal: spec.ordinals?.start ?? 0,
      monotonic: spec.podManagementPolicy !== 'Parallel',
      updateStrategy: strategyType,
      partition: strategyType === 'RollingUpdate' ? spec.updateStrategy?.rollingUpdate?.partition : undefined,
      minReadySeconds: spec.minReadySeconds ?? 0,
      nowMs: now,
      currentRevision: current.metadata.name ?? '',
      updateRevision: update.metadata.name ?? '',
      statusCurrentReplicas: set.status?.currentReplicas ?? 0,
      pods,
    });
    if (plan.waitingFor) this.log(`statefulset ${key}: waiting for ${plan.waitingFor}`);

    let firstError: unknown;
    for (const action of plan.actions) {
      try {
        await this.act(set, action, action.kind === 'create' && action.revision === 'current' ? { template: currentTemplate, revision: current } : { template: updateTemplate, revision: update });
      } catch (err) {
        firstError ??= err;
      }
    }

    const c = plan.counts;
    const status: StatefulSetStatus = {
      observedGeneration: set.metadata.generation,
      replicas: c.replicas,
      readyReplicas: c.readyReplicas,
      currentReplicas: c.currentReplicas,
      updatedReplicas: c.updatedReplicas,
      availableReplicas: c.availableReplicas,
      currentRevision: current.metadata.name,
      updateRevision: update.metadata.name,
      collisionCount,
    };
    // completeRollingUpdate: once every pod runs the update revision and is ready, it becomes the current one.
    if (strategyType === 'RollingUpdate' && c.updatedReplicas === c.replicas && c.readyReplicas === c.replicas) {
      status.currentReplicas = c.updatedReplicas;
      status.currentRevision = update.metadata.name;
    }
    await this.writeStatus(set, status);

    const live = new Set<string>([status.currentRevision ?? '', update.metadata.name ?? '']);
    for (const pod of pods) live.add(podRevision(pod));
    await truncateHistory(this.client, ownedRevisions(this.revisions, set), live, spec.revisionHistoryLimit ?? 10);

    if (firstError) throw firstError;
    if ((spec.minReadySeconds ?? 0) > 0 && c.readyReplicas !== c.availableReplicas) this.queue.addAfter(key, (spec.minReadySeconds ?? 0) * 1000);
  }

  /** The current and update revisions, creating or renumbering the update one. */
  private async syncRevisions(set: StatefulSet): Promise<{ current: ControllerRevision; update: ControllerRevision; collisionCount: number }> {
    const existing = ownedRevisions(this.revisions, set);
    const { revision: update, collisionCount } = await ensureRevision(
      this.client,
      existing,
      { owner: set, apiVersion, kind, labels: set.spec?.template?.metadata?.labels ?? {}, collisionCount: set.status?.collisionCount ?? 0 },
      templateRevisionData(set.spec?.template ?? {}),
    );
    const current = existing.find((r) => r.metadata.name === set.status?.currentRevision) ?? update;
    return { current, update, collisionCount };
  }

  private async act(set: StatefulSet, action: OrderingAction, version: { template: PodTemplate; revision: ControllerRevision }): Promise<void> {
    const setName = set.metadata.name ?? '';
    const namespace = set.metadata.namespace ?? '';
    switch (action.kind) {
      case 'create': {
        const pod = this.newPod(set, version.template, action.ordinal, version.revision.metadata.name ?? '');
        await this.createClaims(set, action.ordinal, pod.metadata.name ?? '');
        try {
          await this.client.create({ ...podsResource, namespace }, pod);
        } catch (err) {
          if (err instanceof ApiError && err.code === 409) return; // made by an earlier sync the cache has not shown yet
          void this.recorder.record(set, 'Warning', 'FailedCreate', `create Pod ${pod.metadata.name} in StatefulSet ${setName} failed error: ${(err as Error).message}`);
          throw err;
        }
        this.log(`statefulset ${namespace}/${setName}: created pod ${pod.metadata.name}`);
        void this.recorder.record(set, 'Normal', 'SuccessfulCreate', `create Pod ${pod.metadata.name} in StatefulSet ${setName} successful`);
        return;
      }
      case 'create-claims':
        await this.createClaims(set, parseOrdinal(setName, action.pod.metadata.name), action.pod.metadata.name ?? '');
        return;
      case 'fix-identity': {
        const name = statefulPodName(setName, action.ordinal);
        try {
          await this.client.patch({ ...podsResource, namespace, name: action.pod.metadata.name }, { metadata: { labels: { [podNameLabel]: name, [podIndexLabel]: String(action.ordinal) } } }, 'merge');
        } catch (err) {
          if (!isConflictOrGone(err)) throw err;
        }
        return;
      }
      case 'delete': {
        const name = action.pod.metadata.name ?? '';
        if (action.why === 'scale-down') await this.markClaimsForScaleDown(set, action.pod);
        try {
          await this.client.delete({ ...podsResource, namespace, name }, { preconditions: { uid: action.pod.metadata.uid } });
        } catch (err) {
          if (isConflictOrGone(err)) return;
          void this.recorder.record(set, 'Warning', 'FailedDelete', `delete Pod ${name} in StatefulSet ${setName} failed error: ${(err as Error).message}`);
          throw err;
        }
        this.log(`statefulset ${namespace}/${setName}: deleted pod ${name} (${action.why})`);
        void this.recorder.record(set, 'Normal', 'SuccessfulDelete', `delete Pod ${name} in StatefulSet ${setName} successful`);
        return;
      }
    }
  }

  /** newStatefulSetPod: the template with the pod's identity, revision and claims. */
  private newPod(set: StatefulSet, template: PodTemplate, ordinal: number, revision: string): Pod {
    const setName = set.metadata.name ?? '';
    const name = statefulPodName(setName, ordinal);
    const meta = template.metadata ?? {};
    const spec = cloneJson(template.spec ?? {});
    spec.hostname = name;
    if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
    const claimTemplates = set.spec?.volumeClaimTemplates ?? [];
    if (claimTemplates.length > 0) {
      const claimVolumes = claimTemplates.map((c) => ({ name: c.metadata?.name ?? '', persistentVolumeClaim: { claimName: claimName(c.metadata?.name ?? '', setName, ordinal) } }));
      const names = new Set(claimVolumes.map((v) => v.name));
      spec.volumes = [...claimVolumes, ...(spec.volumes ?? []).filter((v) => !names.has(String(v.name)))];
    }
    const metadata: Pod['metadata'] = {
      name,
      namespace: set.metadata.namespace,
      labels: { ...(meta.labels ?? {}), [podNameLabel]: name, [podIndexLabel]: String(ordinal), [revisionHashLabel]: revision },
      ownerReferences: [newControllerRef(set, apiVersion, kind)],
    };
    if (meta.annotations) metadata.annotations = { ...meta.annotations };
    if (meta.finalizers) metadata.finalizers = [...meta.finalizers];
    return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
  }

  /** createPersistentVolumeClaims: the claims of one ordinal that do not exist yet. */
  private async createClaims(set: StatefulSet, ordinal: number, podName: string): Promise<void> {
    if (ordinal < 0) return;
    const setName = set.metadata.name ?? '';
    const namespace = set.metadata.namespace ?? '';
    const whenDeleted = set.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted ?? 'Retain';
    for (const template of set.spec?.volumeClaimTemplates ?? []) {
      const name = claimName(template.metadata?.name ?? '', setName, ordinal);
      const existing = this.claims.get(`${namespace}/${name}`);
      if (existing) {
        if (existing.metadata.deletionTimestamp) throw new Error(`pvc ${name} is being deleted`);
        continue;
      }
      const claim = cloneJson(template) as ClaimTemplate & { metadata: Record<string, unknown> };
      delete claim.status;
      const owners: OwnerReference[] = [];
      if (whenDeleted === 'Delete') owners.push({ apiVersion, kind, name: setName, uid: set.metadata.uid ?? '', controller: true, blockOwnerDeletion: true });
      claim.apiVersion = 'v1';
      claim.kind = 'PersistentVolumeClaim';
      claim.metadata = {
        ...(template.metadata ?? {}),
        name,
        namespace,
        labels: { ...(template.metadata?.labels ?? {}), ...(set.spec?.selector?.matchLabels ?? {}) },
        ...(owners.length > 0 ? { ownerReferences: owners } : {}),
      };
      try {
        await this.client.create({ ...claimsResource, namespace }, claim);
      } catch (err) {
        if (err instanceof ApiError && err.code === 409) continue;
        void this.recorder.record(set, 'Warning', 'FailedCreate', `create Claim ${name} for Pod ${podName} in StatefulSet ${setName} failed error: ${(err as Error).message}`);
        throw err;
      }
      this.log(`statefulset ${namespace}/${setName}: created claim ${name}`);
      void this.recorder.record(set, 'Normal', 'SuccessfulCreate', `create Claim ${name} Pod ${podName} in StatefulSet ${setName} success`);
    }
  }

  /** whenScaled: Delete — the claims of a pod removed by scale-down become the pod's dependents. */
  private async markClaimsForScaleDown(set: StatefulSet, pod: Pod): Promise<void> {
    if (set.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled !== 'Delete') return;
    const setName = set.metadata.name ?? '';
    const namespace = set.metadata.namespace ?? '';
    const ordinal = parseOrdinal(setName, pod.metadata.name);
    for (const template of set.spec?.volumeClaimTemplates ?? []) {
      const name = claimName(template.metadata?.name ?? '', setName, ordinal);
      const claim = this.claims.get(`${namespace}/${name}`);
      if (!claim || (claim.metadata.ownerReferences ?? []).some((r) => r.uid === pod.metadata.uid)) continue;
      const ref: OwnerReference = { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' };
      try {
        await this.client.patch({ ...claimsResource, namespace, name }, { metadata: { ownerReferences: [ref] } }, 'strategic');
      } catch (err) {
        if (!isConflictOrGone(err)) throw err;
      }
    }
  }

  private async writeStatus(set: StatefulSet, status: StatefulSetStatus): Promise<void> {
    const patch = statusPatch(set.status, status, omitEmptyStatus);
    if (!patch) return;
    try {
      await this.client.patch({ ...statefulSetsResource, namespace: set.metadata.namespace, name: set.metadata.name, subresource: 'status' }, { status: patch }, 'merge');
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }
}
