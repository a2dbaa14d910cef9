// The DaemonSet controller (Kubernetes' pkg/controller/daemon): one pod on
// every node the template fits (node selector, node affinity, taints against
// the template's tolerations plus the ones every daemon pod gets). Pods are
// created with a required node affinity to their node's name, for the
// scheduler to bind; nodes that stop fitting or disappear lose their pod.
// Template history lives in ControllerRevisions; updates roll with
// maxUnavailable / maxSurge, or wait for deletes (OnDelete).
import { ApiError } from '../../api/errors.js';
import { cloneJson, type KubeObject } from '../../api/object.js';
import { EventRecorder } from '../../client/events.js';
import { objectKey, type Informer, type InformerFactory } from '../../client/informer.js';
import { Expectations } from '../workload-common/expectations.js';
import { claimDependents, ownerSelector } from '../workload-common/owners.js';
import { controllerRefOf, controllerUidIndex, controllerUidIndexFunc, generateNamePrefix, isPodTerminal, newControllerRef, type Pod, type PodTemplate } from '../workload-common/pods.js';
import { statusPatch } from '../workload-common/status.js';
import { canonicalJson, controllerRevisionsResource, ensureRevision, ownedRevisions, revisionHashLabel, templateRevisionData, truncateHistory } from '../workload-common/revisions.js';
import { affinityForNode, nodeShouldRunDaemonPod, targetNodeName, withDaemonTolerations, type Placement } from './eligibility.js';
import { daemonSetCounts, planRollingUpdate, podsShouldBeOnNode, scaledValue, templateGenerationLabel, type DaemonSetCounts } from './placement.js';
import { nodesResource, podsResource } from '../../client/core-resources.js';
import { QueueController, type QueueControllerOptions } from '../queue-controller.js';

export const daemonSetsResource = { group: 'apps', version: 'v1', plural: 'daemonsets' };

/** The annotation the API server keeps a DaemonSet's template generation in (when it does). */
const templateGenerationAnnotation = 'deprecated.daemonset.template.generation';
/** dsc.burstReplicas: pods created or deleted per sync at most. */
const burstReplicas = 250;
/** failedPodsBackoff: 1 s doubling to 15 min between deletes of failed pods on one node. */
const failedBackoffInitialMs = 1000;
const failedBackoffMaxMs = 15 * 60_000;
/** DaemonSetStatus fields Kubernetes leaves out when zero. */
const omitEmptyStatus = new Set(['observedGeneration', 'updatedNumberScheduled', 'numberAvailable', 'numberUnavailable', 'collisionCount']);

interface DaemonSetSpec {
  selector?: unknown;
  template?: PodTemplate;
  updateStrategy?: { type?: string; rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string } };
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
}

interface DaemonSetStatus extends Partial<DaemonSetCounts> {
  observedGeneration?: number;
  collisionCount?: number;
  [field: string]: unknown;
}

export interface DaemonSet extends KubeObject {
  spec?: DaemonSetSpec;
  status?: DaemonSetStatus;
}

/** What one sync of a DaemonSet works from: its pods by node, where it should run, its current template and revision. */
interface DaemonSetSync {
  key: string;
  ds: DaemonSet;
  template: PodTemplate;
  nodeToPods: Map<string, Pod[]>;
  placements: Map<string, Placement>;
  hash: string;
  generation: string | undefined;
  now: number;
}

export interface DaemonSetControllerOptions extends QueueControllerOptions {
  now?: () => number;
}

const apiVersion = 'apps/v1';
const kind = 'DaemonSet';

function gone(err: unknown): boolean {
  return err instanceof ApiError && (err.code === 404 || err.code === 409);
}

/** What of a node decides where daemon pods belong. */
function nodeShape(node: KubeObject): string {
  return canonicalJson({ labels: node.metadata.labels ?? {}, spec: node.spec ?? {} });
}

export class DaemonSetController extends QueueController {
  private readonly sets: Informer;
  private readonly pods: Informer;
  private readonly nodes: Informer;
  private readonly revisions: Informer;
  private readonly expectations = new Expectations();
  private readonly recorder: EventRecorder;
  private readonly now: () => number;
  /** "<ds uid>/<node>" -> the backoff between deletes of failed daemon pods there */
  private readonly failedBackoff = new Map<string, { delayMs: number; lastMs: number }>();

  constructor(factory: InformerFactory, opts: DaemonSetControllerOptions = {}) {
    super(factory, opts, 2);
    this.now = opts.now ?? Date.now;
    this.recorder = new EventRecorder(this.client, 'daemonset-controller');
    this.sets = this.informer(daemonSetsResource);
    this.pods = this.informer(podsResource);
    this.nodes = this.informer(nodesResource);
    this.revisions = this.informer(controllerRevisionsResource);
    this.pods.addIndex(controllerUidIndex, controllerUidIndexFunc);
    this.revisions.addIndex(controllerUidIndex, controllerUidIndexFunc);

    const enqueue = (obj: KubeObject) => this.queue.add(objectKey(obj));
    this.sets.on({ add: enqueue, update: (_old, ds) => enqueue(ds), delete: enqueue });
    this.pods.on({
      add: (pod) => {
        const key = this.ownerKey(pod);
        if (key) this.expectations.creationObserved(key);
        if (key && pod.metadata.deletionTimestamp) this.expectations.deletionObserved(key, pod.metadata.uid ?? '');
        this.enqueueOwnerOf(pod);
      },
      update: (old, pod) => {
        const key = this.ownerKey(pod);
        if (key && pod.metadata.deletionTimestamp) this.expectations.deletionObserved(key, pod.metadata.uid ?? '');
        this.enqueueOwnerOf(pod);
        if (controllerRefOf(old)?.uid !== controllerRefOf(pod)?.uid) this.enqueueOwnerOf(old);
      },
      delete: (pod) => {
        const key = this.ownerKey(pod);
        if (key) this.expectations.deletionObserved(key, pod.metadata.uid ?? '');
        this.enqueueOwnerOf(pod);
      },
    });
    const enqueueAll = () => {
      for (const ds of this.sets.list()) this.queue.add(objectKey(ds));
    };
    this.nodes.on({ add: enqueueAll, update: (old, node) => nodeShape(old) !== nodeShape(node) && enqueueAll(), delete: enqueueAll });
    this.revisions.on({ add: (r) => this.enqueueOwnerOf(r), update: (_old, r) => this.enqueueOwnerOf(r), delete: (r) => this.enqueueOwnerOf(r) });
  }

  private ownerKey(obj: KubeObject): string | undefined {
    const ref = controllerRefOf(obj);
    if (!ref || ref.kind !== kind || !ref.apiVersion.startsWith('apps/')) return undefined;
    return `${obj.metadata.namespace ?? ''}/${ref.name}`;
  }

  private enqueueOwnerOf(obj: KubeObject): void {
    const key = this.ownerKey(obj);
    if (key) {
      this.queue.add(key);
      return;
    }
    if (controllerRefOf(obj) || obj.kind === 'ControllerRevision') return;
    for (const ds of this.sets.inNamespace(obj.metadata.namespace ?? '') as DaemonSet[]) {
      if (ownerSelector(ds.spec?.selector).matches(obj.metadata.labels)) this.queue.add(objectKey(ds));
    }
  }

  async sync(key: string): Promise<void> {
    const cached = this.sets.get(key) as DaemonSet | undefined;
    if (!cached) {
      this.expectations.forget(key);
      return;
    }
    if (cached.metadata.deletionTimestamp) return;
    const ds = cloneJson(cached);
    const spec = ds.spec ?? {};
    const namespace = ds.metadata.namespace ?? '';
    const selector = ownerSelector(spec.selector);
    if (selector.empty()) {
      void this.recorder.record(ds, 'Warning', 'SelectingAll', 'This daemon set is selecting all pods. A non-empty selector is required.');
      return;
    }
    const now = this.now();
    const template = spec.template ?? {};
    const uid = ds.metadata.uid ?? '';
    const candidates = (this.pods.inNamespace(namespace) as Pod[]).filter((p) => {
      const ref = controllerRefOf(p);
      return ref ? ref.uid === uid : true;
    });
    const pods = await claimDependents(candidates, { client: this.client, resource: podsResource, owner: ds, apiVersion, kind, selector, log: this.log });

    const { revision: cur, collisionCount } = await ensureRevision(
      this.client,
      ownedRevisions(this.revisions, ds),
      { owner: ds, apiVersion, kind, labels: template.metadata?.labels ?? {}, collisionCount: ds.status?.collisionCount ?? 0 },
      templateRevisionData(template),
    );
    const hash = cur.metadata.labels?.[revisionHashLabel] ?? cur.metadata.name ?? '';
    const generation = ds.metadata.annotations?.[templateGenerationAnnotation];

    // Pods by the node they are for; finished pods already being deleted are done with.
    const nodeToPods = new Map<string, Pod[]>();
    for (const pod of pods) {
      if (isPodTerminal(pod) && pod.metadata.deletionTimestamp) continue;
      const node = targetNodeName(pod);
      if (node === undefined) continue;
      const list = nodeToPods.get(node) ?? [];
      list.push(pod);
      nodeToPods.set(node, list);
    }
    const nodes = this.nodes.list().sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    const placements = new Map<string, Placement>();
    for (const node of nodes) placements.set(node.metadata.name ?? '', nodeShouldRunDaemonPod(node, template));

    let firstError: unknown;
    let observed = false;
    if (this.expectations.satisfied(key)) {
      observed = true;
      try {
        const c: DaemonSetSync = { key, ds, template, nodeToPods, placements, hash, generation, now };
        await this.manage(c);
        if (spec.updateStrategy?.type !== 'OnDelete' && this.expectations.satisfied(key)) await this.rollingUpdate(c);
        const live = new Set<string>([cur.metadata.name ?? '']);
        const liveHashes = new Set(pods.map((p) => p.metadata.labels?.[revisionHashLabel] ?? ''));
        for (const r of ownedRevisions(this.revisions, ds)) if (liveHashes.has(r.metadata.labels?.[revisionHashLabel] ?? '\u0000')) live.add(r.metadata.name ?? '');
        await truncateHistory(this.client, ownedRevisions(this.revisions, ds), live, spec.revisionHistoryLimit ?? 10);
      } catch (err) {
        firstError = err;
      }
    }

    const counts = daemonSetCounts(
      nodes.map((n) => ({ placement: placements.get(n.metadata.name ?? '')!, pods: nodeToPods.get(n.metadata.name ?? '') })),
      hash,
      generation,
      spec.minReadySeconds ?? 0,
      now,
    );
    const status: DaemonSetStatus = { ...counts, collisionCount };
    // Only a sync that acted on this generation may say it observed it.
    if (observed) status.observedGeneration = ds.metadata.generation;
    await this.writeStatus(ds, status);
    if (firstError) throw firstError;
    if ((spec.minReadySeconds ?? 0) > 0 && counts.numberReady !== counts.numberAvailable) this.queue.addAfter(key, (spec.minReadySeconds ?? 0) * 1000);
  }

  private async manage(c: DaemonSetSync): Promise<void> {
    const { key, ds, nodeToPods, placements, hash, generation, now } = c;
    const allowsSurge = ds.spec?.updateStrategy?.type !== 'OnDelete' && scaledValue(ds.spec?.updateStrategy?.rollingUpdate?.maxSurge, 1, true) > 0;
    const createOn: string[] = [];
    const deletes: Pod[] = [];
    const forceDeletes: Pod[] = [];
    let retryAfter = 0;
    for (const [node, placement] of placements) {
      const backoffKey = `${ds.metadata.uid}/${node}`;
      const decision = podsShouldBeOnNode({
        placement,
        pods: nodeToPods.get(node),
        allowsSurge,
        hash,
        generation,
        minReadySeconds: ds.spec?.minReadySeconds ?? 0,
        nowMs: now,
        mayDeleteFailed: () => {
          const b = this.failedBackoff.get(backoffKey);
          if (b && now - b.lastMs < b.delayMs) return false;
          this.failedBackoff.set(backoffKey, { delayMs: b ? Math.min(b.delayMs * 2, failedBackoffMaxMs) : failedBackoffInitialMs, lastMs: now });
          return true;
        },
      });
      if (decision.create) createOn.push(node);
      for (const pod of decision.delete) {
        if (pod.status?.phase === 'Failed') {
          void this.recorder.record(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${pod.metadata.namespace}/${pod.metadata.name} on node ${node}, will try to kill it`);
        } else if (pod.status?.phase === 'Succeeded') {
          void this.recorder.record(ds, 'Normal', 'SucceededDaemonPod', `Found succeeded daemon pod ${pod.metadata.namespace}/${pod.metadata.name} on node ${node}, will try to delete it`);
        }
      }
      deletes.push(...decision.delete);
      if (decision.failedInBackoff.length > 0) {
        const b = this.failedBackoff.get(backoffKey);
        if (b) retryAfter = Math.max(retryAfter, b.lastMs + b.delayMs - now);
      }
    }
    // Pods for nodes that no longer exist go too (bound ones at once, as the pod garbage collector does).
    for (const [node, list] of nodeToPods) {
      if (placements.has(node)) continue;
      for (const pod of list) if (!pod.metadata.deletionTimestamp) (pod.spec?.nodeName ? forceDeletes : deletes).push(pod);
    }
    await this.syncNodes(c, deletes, forceDeletes, createOn);
    if (retryAfter > 0) this.queue.addAfter(key, retryAfter);
  }

  private async rollingUpdate(c: DaemonSetSync): Promise<void> {
    const { key, ds, nodeToPods, placements, hash, generation, now } = c;
    const wanted = new Map<string, Pod[]>();
    for (const [node, pods] of nodeToPods) wanted.set(node, pods);
    let desired = 0;
    for (const [node, placement] of placements) {
      if (!placement.shouldRun) continue;
      desired++;
      if (!wanted.has(node)) wanted.set(node, []);
    }
    const ru = ds.spec?.updateStrategy?.rollingUpdate;
    let maxUnavailable = scaledValue(ru?.maxUnavailable ?? 1, desired, true);
    const maxSurge = scaledValue(ru?.maxSurge ?? 0, desired, true);
    if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
    const plan = planRollingUpdate({
      nodeToPods: wanted,
      hash,
      generation,
      maxSurge,
      maxUnavailable,
      minReadySeconds: ds.spec?.minReadySeconds ?? 0,
      nowMs: now,
      shouldRun: (node) => placements.get(node)?.shouldRun ?? false,
    });
    if (plan.deletes.length + plan.createOn.length > 0) this.log(`daemonset ${key}: rolling update replaces ${plan.deletes.length} pods, surges onto ${plan.createOn.length} nodes`);
    await this.syncNodes(c, plan.deletes, [], plan.createOn);
  }

  /** syncNodes: creates a pod for each node and deletes the pods, minding expectations. */
  private async syncNodes(c: DaemonSetSync, deletes: Pod[], forceDeletes: Pod[], createOn: string[]): Promise<void> {
    const { key, ds, template, hash, generation } = c;
    const namespace = ds.metadata.namespace ?? '';
    const creates = createOn.slice(0, burstReplicas);
    const dels = [...deletes.map((pod) => ({ pod, force: false })), ...forceDeletes.map((pod) => ({ pod, force: true }))].slice(0, burstReplicas);
    this.expectations.expectCreations(key, creates.length);
    this.expectations.expectDeletions(
      key,
      dels.map((d) => d.pod.metadata.uid ?? ''),
    );
    let firstError: unknown;
    await Promise.all(
      creates.map(async (node) => {
        const pod = this.newPod(ds, template, node, hash, generation);
        try {
          const created = await this.client.create<Pod>({ ...podsResource, namespace }, pod);
          this.log(`daemonset ${key}: created pod ${created.metadata.name} for node ${node}`);
          void this.recorder.record(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
        } catch (err) {
          this.expectations.creationObserved(key);
          void this.recorder.record(ds, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
          firstError ??= err;
        }
      }),
    );
    await Promise.all(
      dels.map(async ({ pod, force }) => {
        const name = pod.metadata.name ?? '';
        try {
          await this.client.delete({ ...podsResource, namespace, name }, force ? { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } } : { preconditions: { uid: pod.metadata.uid } });
          this.log(`daemonset ${key}: deleted pod ${name}`);
          void this.recorder.record(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
        } catch (err) {
          this.expectations.deletionObserved(key, pod.metadata.uid ?? '');
          if (gone(err)) return;
          void this.recorder.record(ds, 'Warning', 'FailedDelete', `Error deleting: ${(err as Error).message}`);
          firstError ??= err;
        }
      }),
    );
    if (firstError) throw firstError;
  }

  /** util.CreatePodTemplate plus the node affinity that pins the pod to its node. */
  private newPod(ds: DaemonSet, template: PodTemplate, node: string, hash: string, generation: string | undefined): Pod {
    const meta = template.metadata ?? {};
    const spec = withDaemonTolerations(cloneJson(template.spec ?? {}));
    spec.affinity = affinityForNode(spec.affinity, node);
    const labels: Record<string, string> = { ...(meta.labels ?? {}) };
    if (generation !== undefined) labels[templateGenerationLabel] = generation;
    if (hash) labels[revisionHashLabel] = hash;
    const metadata: Pod['metadata'] = {
      generateName: generateNamePrefix(ds.metadata.name ?? ''),
      namespace: ds.metadata.namespace,
      labels,
      ownerReferences: [newControllerRef(ds, apiVersion, kind)],
    };
    if (meta.annotations) metadata.annotations = { ...meta.annotations };
    if (meta.finalizers) metadata.finalizers = [...meta.finalizers];
    return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
  }

  private async writeStatus(ds: DaemonSet, status: DaemonSetStatus): Promise<void> {
    const patch = statusPatch(ds.status, status, omitEmptyStatus);
    if (!patch) return;
    try {
      await this.client.patch({ ...daemonSetsResource, namespace: ds.metadata.namespace, name: ds.metadata.name, subresource: 'status' }, { status: patch }, 'merge');
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }
}
