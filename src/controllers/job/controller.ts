// The Job controller (Kubernetes' pkg/controller/job, as of 1.31+): runs pods
// until `completions` succeed (NonIndexed) or every index 0..completions-1
// has succeeded (Indexed), at most `parallelism` at a time; replaces failed
// pods after an exponential backoff until backoffLimit; fails the Job past
// activeDeadlineSeconds or on a podFailurePolicy FailJob rule; deletes active
// pods while suspended; deletes a finished Job after ttlSecondsAfterFinished.
//
// Pods carry the batch.kubernetes.io/job-tracking finalizer until they are
// counted: a finished pod's uid first goes to status.uncountedTerminatedPods,
// then its finalizer is removed, then it moves into succeeded/failed — so a
// pod is counted exactly once even across crashes and stale caches. The
// terminal conditions come in two steps (SuccessCriteriaMet / FailureTarget,
// then Complete / Failed once no pod is left terminating).
import { ApiError } from '../../api/errors.js';
import { cloneJson, type KubeObject } from '../../api/object.js';
import { EventRecorder } from '../../client/events.js';
import { objectKey, type Informer, type InformerFactory } from '../../client/informer.js';
import { Expectations } from '../workload-common/expectations.js';
import { claimDependents, ownerSelector } from '../workload-common/owners.js';
import {
  compareForDeletion,
  controllerRefOf,
  controllerUidIndex,
  controllerUidIndexFunc,
  formatTime,
  generateNamePrefix,
  isPodActive,
  isPodReady,
  isPodTerminating,
  newControllerRef,
  podPhase,
  type Pod,
  type PodTemplate,
} from '../workload-common/pods.js';
import { podsResource } from '../../client/core-resources.js';
import { defaultMaxPodFailureBackoffMs, defaultPodFailureBackoffMs, nextBackoffRecord, remainingBackoff, type BackoffRecord } from './backoff.js';
import { completionIndexAnnotation, completionIndexLabel, completionIndexOf, firstPendingIndexes, formatIndexes, generateNameWithIndex, parseIndexes } from './indexes.js';
import { matchPodFailurePolicy, type PodFailurePolicy } from './pod-failure-policy.js';
import { QueueController, type QueueControllerOptions } from '../queue-controller.js';

export const jobsResource = { group: 'batch', version: 'v1', plural: 'jobs' };
export const jobTrackingFinalizer = 'batch.kubernetes.io/job-tracking';
/** The controller that handles Jobs without spec.managedBy. */
const jobControllerName = 'kubernetes.io/job-controller';
/** MaxUncountedPods: finished pods recorded per status write at most. */
const maxUncountedPods = 500;
/** MaxPodCreateDeletePerSync. */
const maxPodCreateDeletePerSync = 500;

export interface JobCondition {
  type: string;
  status: string;
  lastProbeTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface JobSpec {
  parallelism?: number;
  completions?: number | null;
  activeDeadlineSeconds?: number;
  backoffLimit?: number;
  selector?: unknown;
  template?: PodTemplate;
  ttlSecondsAfterFinished?: number;
  completionMode?: string;
  suspend?: boolean;
  podFailurePolicy?: PodFailurePolicy;
  podReplacementPolicy?: string;
  managedBy?: string;
}

export interface JobStatus {
  conditions?: JobCondition[];
  startTime?: string;
  completionTime?: string;
  active?: number;
  succeeded?: number;
  failed?: number;
  terminating?: number;
  ready?: number;
  completedIndexes?: string;
  uncountedTerminatedPods?: { succeeded?: string[]; failed?: string[] };
  [field: string]: unknown;
}

export interface Job extends KubeObject {
  spec?: JobSpec;
  status?: JobStatus;
}

export interface JobControllerOptions extends QueueControllerOptions {
  /** the clock (ms since the epoch); tests may move it */
  now?: () => number;
  /** the first delay after a pod failure (Kubernetes: 10 s) */
  podFailureBackoffMs?: number;
  /** the longest delay after pod failures (6 min) */
  maxPodFailureBackoffMs?: number;
}

const apiVersion = 'batch/v1';
const kind = 'Job';
const orphanPrefix = 'orphan-pod:';

export function isJobFinished(job: Job): boolean {
  return (job.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

function findCondition(job: Job, type: string): JobCondition | undefined {
  return job.status?.conditions?.find((c) => c.type === type);
}

function hasFinalizer(pod: Pod): boolean {
  return (pod.metadata.finalizers ?? []).includes(jobTrackingFinalizer);
}

function isIndexed(job: Job): boolean {
  return job.spec?.completionMode === 'Indexed';
}

/** podReplacementPolicy Failed: only failed pods are replaced, terminating ones are waited for. */
function onlyReplaceFailedPods(job: Job): boolean {
  return job.spec?.podReplacementPolicy === 'Failed' || !!job.spec?.podFailurePolicy;
}

/** isPodFailed: Failed, or (unless only failed pods are replaced) deleted before it succeeded. */
export function isPodFailed(pod: Pod, job: Job): boolean {
  if (podPhase(pod) === 'Failed') return true;
  if (onlyReplaceFailedPods(job)) return false;
  return !!pod.metadata.deletionTimestamp && podPhase(pod) !== 'Succeeded';
}

/** pastBackoffLimitOnFailure: with restartPolicy OnFailure, container restarts count as failures. */
export function pastBackoffLimitOnFailure(job: Job, pods: readonly Pod[]): boolean {
  if (job.spec?.template?.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const pod of pods) {
    const phase = podPhase(pod);
    if (phase !== 'Running' && phase !== 'Pending') continue;
    for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) restarts += s.restartCount ?? 0;
  }
  const limit = job.spec?.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

/** appendDuplicatedIndexPodsForRemoval + the surplus: the active pods to delete. */
export function activePodsForRemoval(job: Job, active: readonly Pod[], rmAtLeast: number): Pod[] {
  const rm: Pod[] = [];
  let left: Pod[] = [...active];
  if (isIndexed(job)) {
    const completions = job.spec?.completions ?? 0;
    left = [];
    const byIndex = new Map<number, Pod[]>();
    for (const pod of active) {
      const ix = completionIndexOf(pod);
      if (ix < 0 || ix >= completions) {
        rm.push(pod);
        continue;
      }
      const list = byIndex.get(ix) ?? [];
      list.push(pod);
      byIndex.set(ix, list);
    }
    for (const ix of [...byIndex.keys()].sort((a, b) => a - b)) {
      const list = byIndex.get(ix)!.sort(compareForDeletion);
      rm.push(...list.slice(0, -1));
      left.push(list[list.length - 1]!);
    }
  }
  if (rm.length < rmAtLeast) rm.push(...left.sort(compareForDeletion).slice(0, rmAtLeast - rm.length));
  return rm;
}

/** ensureJobConditionStatus: sets a condition's status (never adds one as False). */
function ensureCondition(conditions: JobCondition[], type: string, status: string, reason: string, message: string, now: string): boolean {
  const c = conditions.find((x) => x.type === type);
  if (c) {
    if (c.status === status && (c.reason ?? '') === reason && (c.message ?? '') === message) return false;
    Object.assign(c, newCondition(type, status, reason, message, now));
    return true;
  }
  if (status === 'False') return false;
  conditions.push(newCondition(type, status, reason, message, now));
  return true;
}

function newCondition(type: string, status: string, reason: string, message: string, now: string): JobCondition {
  const c: JobCondition = { type, status, lastProbeTime: now, lastTransitionTime: now };
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
}

/** What one sync knows, as Kubernetes' syncJobCtx. */
interface SyncContext {
  key: string;
  job: Job;
  pods: Pod[];
  activePods: Pod[];
  ready: number;
  terminating: number;
  succeeded: number;
  failed: number;
  uncountedSucceeded: Set<string>;
  uncountedFailed: Set<string>;
  expectedRemovals: ReadonlySet<string>;
  finished?: JobCondition;
  backoff: BackoffRecord;
  prevSucceededIndexes: Set<number>;
  succeededIndexes: Set<number>;
}

export class JobController extends QueueController {
  private readonly jobs: Informer;
  private readonly pods: Informer;
  private readonly expectations = new Expectations();
  private readonly backoffs = new Map<string, BackoffRecord>();
  private readonly recorder: EventRecorder;
  private readonly now: () => number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;

  constructor(factory: InformerFactory, opts: JobControllerOptions = {}) {
    super(factory, opts, 2);
    this.now = opts.now ?? Date.now;
    this.backoffBaseMs = opts.podFailureBackoffMs ?? defaultPodFailureBackoffMs;
    this.backoffMaxMs = opts.maxPodFailureBackoffMs ?? defaultMaxPodFailureBackoffMs;
    this.recorder = new EventRecorder(this.client, 'job-controller');
    this.jobs = this.informer(jobsResource);
    this.pods = this.informer(podsResource);
    this.pods.addIndex(controllerUidIndex, controllerUidIndexFunc);

    this.jobs.on({
      add: (job) => this.queue.add(objectKey(job)),
      update: (_old, job) => this.queue.add(objectKey(job)),
      delete: (job) => {
        this.queue.add(objectKey(job));
        // Its pods still holding the finalizer are nobody's to count any more.
        for (const pod of this.pods.byIndex(controllerUidIndex, job.metadata.uid ?? '') as Pod[]) if (hasFinalizer(pod)) this.queue.add(orphanPrefix + objectKey(pod));
      },
    });
    this.pods.on({
      add: (pod) => this.podChanged(undefined, pod as Pod, false),
      update: (old, pod) => this.podChanged(old as Pod, pod as Pod, false),
      delete: (pod) => this.podChanged(undefined, pod as Pod, true),
    });
  }

  /** A Job's key, or a pod's behind orphanPrefix (a pod still holding the finalizer of a Job that is gone). */
  sync(key: string): Promise<void> {
    return key.startsWith(orphanPrefix) ? this.syncOrphanPod(key.slice(orphanPrefix.length)) : this.syncJob(key);
  }

  /** The Job a pod's controller reference names, when it is that Job (same uid). */
  private jobOf(pod: KubeObject): Job | undefined {
    const ref = controllerRefOf(pod);
    if (!ref || ref.kind !== kind || ref.apiVersion !== apiVersion) return undefined;
    const job = this.jobs.get(`${pod.metadata.namespace ?? ''}/${ref.name}`) as Job | undefined;
    return job && job.metadata.uid === ref.uid ? job : undefined;
  }

  private podChanged(old: Pod | undefined, pod: Pod, deleted: boolean): void {
    const ref = controllerRefOf(pod);
    if (old && controllerRefOf(old)?.uid !== ref?.uid) this.podChanged(undefined, old, false);
    if (!ref) {
      // An orphan may be adopted by a Job whose selector matches it.
      if (!deleted && !pod.metadata.deletionTimestamp) {
        for (const job of this.jobs.inNamespace(pod.metadata.namespace ?? '') as Job[]) {
          if (ownerSelector(job.spec?.selector).matches(pod.metadata.labels)) this.queue.add(objectKey(job));
        }
      }
      if (hasFinalizer(pod) && !deleted) this.queue.add(orphanPrefix + objectKey(pod));
      return;
    }
    const job = this.jobOf(pod);
    if (!job || isJobFinished(job)) {
      if (hasFinalizer(pod) && !deleted && ref.kind === kind) this.queue.add(orphanPrefix + objectKey(pod));
      return;
    }
    const key = objectKey(job);
    const uid = pod.metadata.uid ?? '';
    if (!old && !deleted) this.expectations.creationObserved(key);
    if (deleted || pod.metadata.deletionTimestamp) this.expectations.deletionObserved(key, uid);
    if (deleted || !hasFinalizer(pod)) this.expectations.finalizerRemovalObserved(key, uid);
    this.queue.add(key);
  }

  /** syncOrphanPod: a pod whose Job is gone or finished loses its tracking finalizer. */
  private async syncOrphanPod(podKey: string): Promise<void> {
    const pod = this.pods.get(podKey) as Pod | undefined;
    if (!pod || !hasFinalizer(pod)) return;
    const ref = controllerRefOf(pod);
    if (ref) {
      if (ref.kind !== kind || ref.apiVersion !== apiVersion) return;
      const job = this.jobOf(pod);
      if (job && job.spec?.managedBy && job.spec.managedBy !== jobControllerName) return;
      if (job && !isJobFinished(job)) return;
    }
    await this.removeFinalizer(pod);
  }

  private async removeFinalizer(pod: Pod): Promise<void> {
    try {
      await this.client.patch({ ...podsResource, namespace: pod.metadata.namespace, name: pod.metadata.name }, { metadata: { [`$deleteFromPrimitiveList/finalizers`]: [jobTrackingFinalizer] } }, 'strategic');
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }

  private nowTime(): string {
    return formatTime(this.now());
  }

  private async syncJob(key: string): Promise<void> {
    const cached = this.jobs.get(key) as Job | undefined;
    if (!cached) {
      this.expectations.forget(key);
      this.backoffs.delete(key);
      return;
    }
    if (cached.spec?.managedBy && cached.spec.managedBy !== jobControllerName) return;
    if (isJobFinished(cached)) {
      this.backoffs.delete(key);
      await this.processTtl(key, cached);
      return;
    }
    const mode = cached.spec?.completionMode;
    if (mode && mode !== 'NonIndexed' && mode !== 'Indexed') {
      void this.recorder.record(cached, 'Warning', 'UnknownCompletionMode', 'Skipped Job sync because completion mode is unknown');
      return;
    }
    const job = cloneJson(cached);
    const spec = job.spec ?? {};
    const status = (job.status ??= {});
    status.uncountedTerminatedPods ??= {};
    const now = this.now();

    // Expectations first: a pod created after this check just defers the sync.
    const satisfied = this.expectations.satisfied(key);
    const pods = await this.podsForJob(job);
    const activePods = pods.filter(isPodActive);
    const c: SyncContext = {
      key,
      job,
      pods,
      activePods,
      ready: activePods.filter(isPodReady).length,
      terminating: pods.filter(isPodTerminating).length,
      succeeded: 0,
      failed: 0,
      uncountedSucceeded: new Set(status.uncountedTerminatedPods.succeeded ?? []),
      uncountedFailed: new Set(status.uncountedTerminatedPods.failed ?? []),
      expectedRemovals: new Set(this.expectations.expectedFinalizerRemovals(key)),
      backoff: { failuresAfterLastSuccess: 0 },
      prevSucceededIndexes: new Set(),
      succeededIndexes: new Set(),
    };
    let active = activePods.length;
    const { newSucceeded, newFailed } = this.newFinishedPods(c);
    const policy = spec.podFailurePolicy;
    const nonIgnored = newFailed.filter((p) => matchPodFailurePolicy(policy, p).countFailed).length;
    c.succeeded = (status.succeeded ?? 0) + newSucceeded.length + c.uncountedSucceeded.size;
    c.failed = (status.failed ?? 0) + nonIgnored + c.uncountedFailed.size;
    const suspended = spec.suspend === true;
    if (!status.startTime && !suspended) status.startTime = formatTime(now);
    c.backoff = nextBackoffRecord(this.backoffs.get(key), newSucceeded, newFailed);

    const backoffLimit = spec.backoffLimit ?? 6;
    c.finished = findCondition(job, 'SuccessCriteriaMet')?.status === 'True' ? findCondition(job, 'SuccessCriteriaMet') : undefined;
    if (!c.finished) {
      const target = findCondition(job, 'FailureTarget');
      if (target?.status === 'True') c.finished = newCondition('Failed', 'True', target.reason ?? '', target.message ?? '', this.nowTime());
      else {
        const message = this.failJobMessage(job, pods);
        if (message) c.finished = newCondition('FailureTarget', 'True', 'PodFailurePolicy', message, this.nowTime());
      }
    }
    if (!c.finished) {
      if (c.failed > backoffLimit || pastBackoffLimitOnFailure(job, pods)) {
        c.finished = newCondition('FailureTarget', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', this.nowTime());
      } else if (this.pastActiveDeadline(job, now)) {
        c.finished = newCondition('FailureTarget', 'True', 'DeadlineExceeded', 'Job was active longer than specified deadline', this.nowTime());
      } else if (spec.activeDeadlineSeconds !== undefined && !suspended && status.startTime) {
        this.queue.addAfter(key, Math.max(0, Date.parse(status.startTime) + spec.activeDeadlineSeconds * 1000 - now));
      }
    }
    if (isIndexed(job)) {
      const completions = spec.completions ?? 0;
      c.prevSucceededIndexes = parseIndexes(status.completedIndexes, completions);
      c.succeededIndexes = new Set(c.prevSucceededIndexes);
      for (const pod of pods) {
        const ix = completionIndexOf(pod);
        if (podPhase(pod) === 'Succeeded' && ix >= 0 && ix < completions && hasFinalizer(pod)) c.succeededIndexes.add(ix);
      }
      c.succeeded = c.succeededIndexes.size;
    }

    let suspendChanged = false;
    let firstError: unknown;
    if (c.finished) {
      // The Job is done: active pods are deleted, keeping their finalizers so they are counted.
      const { deleted, deletedReady, error } = await this.deleteActivePods(job, activePods);
      if (deleted !== active || !satisfied) c.finished = undefined;
      active -= deleted;
      c.terminating += deleted;
      c.ready -= deletedReady;
      firstError = error;
    } else {
      let manageCalled = false;
      if (satisfied && !job.metadata.deletionTimestamp) {
        try {
          active = await this.manageJob(c, active);
        } catch (err) {
          firstError = err;
        }
        manageCalled = true;
      }
      const completions = spec.completions;
      const complete = completions === undefined || completions === null ? c.succeeded > 0 && active === 0 : c.succeeded >= completions && active === 0;
      if (complete) {
        c.finished = newCondition('SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods', this.nowTime());
      } else if (manageCalled) {
        const conditions = (status.conditions ??= []);
        if (suspended) {
          if (ensureCondition(conditions, 'Suspended', 'True', 'JobSuspended', 'Job suspended', this.nowTime())) {
            suspendChanged = true;
            void this.recorder.record(job, 'Normal', 'Suspended', 'Job suspended');
          }
        } else if (ensureCondition(conditions, 'Suspended', 'False', 'JobResumed', 'Job resumed', this.nowTime())) {
          suspendChanged = true;
          void this.recorder.record(job, 'Normal', 'Resumed', 'Job resumed');
          // activeDeadlineSeconds counts from when the Job last became active.
          status.startTime = formatTime(now);
        }
        if (conditions.length === 0) delete status.conditions;
      }
    }

    const needsUpdate = suspendChanged || active !== (status.active ?? 0) || c.ready !== status.ready || c.terminating !== status.terminating;
    status.active = active;
    status.ready = c.ready;
    status.terminating = c.terminating;
    await this.trackStatusAndRemoveFinalizers(c, needsUpdate);
    if (firstError) throw firstError;
  }

  /** getPodsForJob: the pods the Job controls, after adopting orphans its selector matches. */
  private async podsForJob(job: Job): Promise<Pod[]> {
    const uid = job.metadata.uid ?? '';
    const candidates = (this.pods.inNamespace(job.metadata.namespace ?? '') as Pod[]).filter((p) => {
      const ref = controllerRefOf(p);
      return ref ? ref.uid === uid : true;
    });
    const selector = ownerSelector(job.spec?.selector);
    return claimDependents(candidates, { client: this.client, resource: podsResource, owner: job, apiVersion, kind, selector, finalizer: jobTrackingFinalizer, log: this.log });
  }

  /** getNewFinishedPods: finished pods still holding the finalizer and not yet in uncountedTerminatedPods. */
  private newFinishedPods(c: SyncContext): { newSucceeded: Pod[]; newFailed: Pod[] } {
    const newSucceeded: Pod[] = [];
    const newFailed: Pod[] = [];
    const completions = c.job.spec?.completions ?? 0;
    for (const pod of c.pods) {
      const uid = pod.metadata.uid ?? '';
      if (!hasFinalizer(pod) || c.expectedRemovals.has(uid)) continue;
      if (isIndexed(c.job)) {
        const ix = completionIndexOf(pod);
        if (ix < 0 || ix >= completions) continue;
      }
      if (podPhase(pod) === 'Succeeded') {
        if (!c.uncountedSucceeded.has(uid)) newSucceeded.push(pod);
      } else if (isPodFailed(pod, c.job) && !c.uncountedFailed.has(uid)) newFailed.push(pod);
    }
    return { newSucceeded, newFailed };
  }

  /** getFailJobMessage: the message of the first failed pod a FailJob rule matches. */
  private failJobMessage(job: Job, pods: readonly Pod[]): string | undefined {
    if (!job.spec?.podFailurePolicy) return undefined;
    for (const pod of pods) {
      if (!isPodFailed(pod, job)) continue;
      const m = matchPodFailurePolicy(job.spec.podFailurePolicy, pod);
      if (m.failJobMessage) return m.failJobMessage;
    }
    return undefined;
  }

  private pastActiveDeadline(job: Job, now: number): boolean {
    const deadline = job.spec?.activeDeadlineSeconds;
    const start = job.status?.startTime;
    if (deadline === undefined || !start || job.spec?.suspend === true) return false;
    return now - Date.parse(start) >= deadline * 1000;
  }

  /** manageJob: deletes surplus pods or creates missing ones; returns the active count after. */
  private async manageJob(c: SyncContext, activeIn: number): Promise<number> {
    const job = c.job;
    const spec = job.spec ?? {};
    let active = activeIn;
    const parallelism = spec.parallelism ?? 1;
    if (spec.suspend === true) {
      const toDelete = activePodsForRemoval(job, c.activePods, active);
      const { removed, removedReady, error } = await this.deleteJobPods(c.key, job, toDelete);
      c.terminating += removed;
      c.ready -= removedReady;
      if (error) throw error;
      return active - removed;
    }
    let wantActive: number;
    const completions = spec.completions;
    if (completions === undefined || completions === null) wantActive = c.succeeded > 0 ? active : parallelism;
    else wantActive = Math.max(0, Math.min(completions - c.succeeded, parallelism));

    const rmAtLeast = Math.max(active - wantActive, 0);
    const toDelete = activePodsForRemoval(job, c.activePods, rmAtLeast).slice(0, maxPodCreateDeletePerSync);
    if (toDelete.length > 0) {
      this.log(`job ${c.key}: too many pods running, deleting ${toDelete.length} (want ${wantActive})`);
      const { removed, removedReady, error } = await this.deleteJobPods(c.key, job, toDelete);
      c.terminating += removed;
      c.ready -= removedReady;
      active -= removed;
      if (error) throw error;
      return active;
    }

    const terminating = onlyReplaceFailedPods(job) ? c.terminating : 0;
    let diff = wantActive - terminating - active;
    if (diff <= 0) return active;
    const remaining = remainingBackoff(c.backoff, this.now(), this.backoffBaseMs, this.backoffMaxMs);
    if (remaining > 0) {
      this.log(`job ${c.key}: backing off ${remaining} ms after ${c.backoff.failuresAfterLastSuccess} pod failures`);
      this.queue.addAfter(c.key, remaining);
      return active;
    }
    diff = Math.min(diff, maxPodCreateDeletePerSync);
    let indexes: number[] | undefined;
    if (isIndexed(job)) {
      const taken = new Set(c.succeededIndexes);
      for (const pod of c.activePods) taken.add(completionIndexOf(pod));
      if (onlyReplaceFailedPods(job)) for (const pod of c.pods) if (isPodTerminating(pod)) taken.add(completionIndexOf(pod));
      indexes = firstPendingIndexes(diff, completions ?? 0, taken);
      diff = indexes.length;
    }
    if (diff === 0) return active;
    this.log(`job ${c.key}: too few pods running, creating ${diff} (want ${wantActive})`);
    this.expectations.expectCreations(c.key, diff);
    const template = job.spec?.template ?? {};
    // Slow start: batches of 1, 2, 4 ... stop at the first batch with a failure.
    let created = 0;
    let firstError: unknown;
    let next = 0;
    for (let batch = 1; next < diff; batch *= 2) {
      const size = Math.min(batch, diff - next);
      const results = await Promise.all(
        Array.from({ length: size }, (_v, i) => {
          const index = indexes?.[next + i];
          return this.createPod(job, template, index).then(
            () => true,
            (err: unknown) => {
              firstError ??= err;
              this.expectations.creationObserved(c.key);
              return false;
            },
          );
        }),
      );
      next += size;
      created += results.filter(Boolean).length;
      if (results.some((ok) => !ok)) {
        for (let i = next; i < diff; i++) this.expectations.creationObserved(c.key);
        break;
      }
    }
    if (firstError) throw firstError;
    return active + created;
  }

  private async createPod(job: Job, template: PodTemplate, index: number | undefined): Promise<void> {
    const meta = template.metadata ?? {};
    const spec = cloneJson(template.spec ?? {});
    const labels: Record<string, string> = { ...(meta.labels ?? {}) };
    const annotations: Record<string, string> = { ...(meta.annotations ?? {}) };
    const finalizers = [...(meta.finalizers ?? [])];
    if (!finalizers.includes(jobTrackingFinalizer)) finalizers.push(jobTrackingFinalizer);
    let generateName = generateNamePrefix(job.metadata.name ?? '');
    if (index !== undefined) {
      annotations[completionIndexAnnotation] = String(index);
      labels[completionIndexLabel] = String(index);
      spec.hostname = `${job.metadata.name}-${index}`;
      generateName = generateNameWithIndex(job.metadata.name ?? '', index);
    }
    const metadata: Pod['metadata'] = { generateName, namespace: job.metadata.namespace, labels, finalizers, ownerReferences: [newControllerRef(job, apiVersion, kind)] };
    if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
    try {
      const pod = await this.client.create<Pod>({ ...podsResource, namespace: job.metadata.namespace }, { apiVersion: 'v1', kind: 'Pod', metadata, spec });
      void this.recorder.record(job, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
    } catch (err) {
      void this.recorder.record(job, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
      throw err;
    }
  }

  /** deleteJobPods: removes the finalizer (these pods are not counted) and deletes. */
  private async deleteJobPods(key: string, job: Job, pods: readonly Pod[]): Promise<{ removed: number; removedReady: number; error?: unknown }> {
    this.expectations.expectDeletions(
      key,
      pods.map((p) => p.metadata.uid ?? ''),
    );
    let removed = 0;
    let removedReady = 0;
    let error: unknown;
    await Promise.all(
      pods.map(async (pod) => {
        try {
          if (hasFinalizer(pod)) await this.removeFinalizer(pod);
          await this.client.delete({ ...podsResource, namespace: pod.metadata.namespace, name: pod.metadata.name });
          void this.recorder.record(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
        } catch (err) {
          this.expectations.deletionObserved(key, pod.metadata.uid ?? '');
          if (!(err instanceof ApiError && err.code === 404)) {
            error ??= err;
            void this.recorder.record(job, 'Warning', 'FailedDelete', `Error deleting: ${(err as Error).message}`);
            return;
          }
        }
        removed++;
        if (isPodReady(pod)) removedReady++;
      }),
    );
    return { removed, removedReady, error };
  }

  /** deleteActivePods: deletes keeping finalizers, so the pods are counted as they go. */
  private async deleteActivePods(job: Job, pods: readonly Pod[]): Promise<{ deleted: number; deletedReady: number; error?: unknown }> {
    let deleted = 0;
    let deletedReady = 0;
    let error: unknown;
    await Promise.all(
      pods.map(async (pod) => {
        try {
          await this.client.delete({ ...podsResource, namespace: pod.metadata.namespace, name: pod.metadata.name });
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 404)) {
            error ??= err;
            return;
          }
        }
        deleted++;
        if (isPodReady(pod)) deletedReady++;
      }),
    );
    if (deleted > 0) this.log(`job ${objectKey(job)}: deleted ${deleted} active pods of a finished job`);
    return { deleted, deletedReady, error };
  }

  /**
   * trackJobStatusAndRemoveFinalizers: records finished pods in
   * uncountedTerminatedPods, removes their finalizers, moves them into the
   * counters, and sets the terminal condition once nothing is left to count.
   */
  private async trackStatusAndRemoveFinalizers(c: SyncContext, needsFlushIn: boolean): Promise<void> {
    let needsFlush = needsFlushIn;
    const indexed = isIndexed(c.job);
    const completions = c.job.spec?.completions ?? 0;
    const uidsWithFinalizer = new Set<string>();
    for (const pod of c.pods) if (hasFinalizer(pod) && !c.expectedRemovals.has(pod.metadata.uid ?? '')) uidsWithFinalizer.add(pod.metadata.uid ?? '');
    if (cleanUncounted(c.job.status!, uidsWithFinalizer)) needsFlush = true;

    const uncounted = c.job.status!.uncountedTerminatedPods!;
    const toRemove: Pod[] = [];
    const newSucceededIndexes: number[] = [];
    let reachedMax = false;
    const pods = indexed ? [...c.pods].sort((a, b) => completionIndexOf(a) - completionIndexOf(b)) : c.pods;
    for (const pod of pods) {
      const uid = pod.metadata.uid ?? '';
      if (!hasFinalizer(pod) || c.expectedRemovals.has(uid)) continue;
      const considerFailed = isPodFailed(pod, c.job);
      if (!this.canRemoveFinalizer(c, pod, considerFailed)) continue;
      toRemove.push(pod);
      if (podPhase(pod) === 'Succeeded' && !c.uncountedFailed.has(uid)) {
        if (indexed) {
          const ix = completionIndexOf(pod);
          if (ix >= 0 && ix < completions && !c.prevSucceededIndexes.has(ix)) {
            newSucceededIndexes.push(ix);
            needsFlush = true;
          }
        } else if (!c.uncountedSucceeded.has(uid)) {
          (uncounted.succeeded ??= []).push(uid);
          needsFlush = true;
        }
      } else if (considerFailed || (c.finished && c.finished.type !== 'SuccessCriteriaMet' && c.finished.type !== 'Complete')) {
        // Once the Job is finished every pod not succeeded counts as failed.
        const ix = completionIndexOf(pod);
        if (!c.uncountedFailed.has(uid) && (!indexed || (ix >= 0 && ix < completions))) {
          if (matchPodFailurePolicy(c.job.spec?.podFailurePolicy, pod).countFailed) {
            (uncounted.failed ??= []).push(uid);
            needsFlush = true;
          }
        }
      }
      if (newSucceededIndexes.length + (uncounted.succeeded?.length ?? 0) + (uncounted.failed?.length ?? 0) >= maxUncountedPods) {
        reachedMax = true;
        break;
      }
    }
    const status = c.job.status!;
    if (indexed) {
      for (const ix of newSucceededIndexes) c.succeededIndexes.add(ix);
      const text = formatIndexes(c.succeededIndexes);
      if (text !== (status.completedIndexes ?? '')) needsFlush = true;
      status.succeeded = c.succeededIndexes.size;
      status.completedIndexes = text;
    }
    if (c.finished?.type === 'FailureTarget') {
      (status.conditions ??= []).push(c.finished);
      needsFlush = true;
      c.finished = newCondition('Failed', 'True', c.finished.reason ?? '', c.finished.message ?? '', this.nowTime());
    }
    if (c.finished?.type === 'SuccessCriteriaMet') {
      if (findCondition(c.job, 'SuccessCriteriaMet')?.status !== 'True') {
        (status.conditions ??= []).push(c.finished);
        needsFlush = true;
      }
      c.finished = newCondition('Complete', 'True', c.finished.reason ?? '', c.finished.message ?? '', this.nowTime());
    }

    // flushUncountedAndRemoveFinalizers
    if (needsFlush) {
      c.job = await this.updateStatus(c.job);
      this.backoffs.set(c.key, c.backoff);
      needsFlush = false;
    }
    let removeError: unknown;
    if (toRemove.length > 0) {
      this.expectations.expectFinalizersRemoved(
        c.key,
        toRemove.map((p) => p.metadata.uid ?? ''),
      );
      await Promise.all(
        toRemove.map(async (pod) => {
          const uid = pod.metadata.uid ?? '';
          try {
            await this.removeFinalizer(pod);
            uidsWithFinalizer.delete(uid);
          } catch (err) {
            this.expectations.finalizerRemovalObserved(c.key, uid);
            removeError ??= err;
          }
        }),
      );
    }
    if (cleanUncounted(c.job.status!, uidsWithFinalizer)) needsFlush = true;
    if (removeError) {
      if (needsFlush) await this.updateStatus(c.job);
      throw removeError;
    }

    const finished = !reachedMax && this.enactJobFinished(c);
    if (finished) needsFlush = true;
    if (needsFlush) {
      c.job = await this.updateStatus(c.job);
      if (finished && c.finished) {
        this.log(`job ${c.key}: ${c.finished.type}${c.finished.reason ? ` (${c.finished.reason})` : ''}`);
        if (c.finished.type === 'Complete') {
          const completions = c.job.spec?.completions;
          if (completions !== undefined && completions !== null && (c.job.status?.succeeded ?? 0) > completions) {
            void this.recorder.record(c.job, 'Warning', 'TooManySucceededPods', 'Too many succeeded pods running after completion count reached');
          }
          void this.recorder.record(c.job, 'Normal', 'Completed', 'Job completed');
        } else void this.recorder.record(c.job, 'Warning', c.finished.reason ?? 'Failed', c.finished.message ?? '');
        await this.processTtl(c.key, c.job);
      }
    }
  }

  /** canRemoveFinalizer. */
  private canRemoveFinalizer(c: SyncContext, pod: Pod, considerFailed: boolean): boolean {
    if (c.job.metadata.deletionTimestamp || c.finished || podPhase(pod) === 'Succeeded') return true;
    return considerFailed;
  }

  /** enactJobFinished: the Complete or Failed condition, once nothing is uncounted or terminating. */
  private enactJobFinished(c: SyncContext): boolean {
    if (!c.finished) return false;
    const uncounted = c.job.status?.uncountedTerminatedPods;
    if ((uncounted?.succeeded?.length ?? 0) + (uncounted?.failed?.length ?? 0) > 0) return false;
    if (c.terminating > 0) return false;
    const status = (c.job.status ??= {});
    const conditions = (status.conditions ??= []);
    ensureCondition(conditions, c.finished.type, c.finished.status, c.finished.reason ?? '', c.finished.message ?? '', c.finished.lastTransitionTime ?? this.nowTime());
    if (c.finished.type === 'Complete') status.completionTime = c.finished.lastTransitionTime;
    return true;
  }

  /** PUT /status with the cached resourceVersion: a stale view fails with a conflict and is retried. */
  private async updateStatus(job: Job): Promise<Job> {
    const status = { ...(job.status ?? {}) };
    for (const k of ['active', 'succeeded', 'failed'] as const) if (!status[k]) delete status[k];
    if (!status.completedIndexes) delete status.completedIndexes;
    const u = status.uncountedTerminatedPods ?? {};
    status.uncountedTerminatedPods = {
      ...(u.succeeded && u.succeeded.length > 0 ? { succeeded: u.succeeded } : {}),
      ...(u.failed && u.failed.length > 0 ? { failed: u.failed } : {}),
    };
    const updated = await this.client.update<Job>({ ...jobsResource, namespace: job.metadata.namespace, name: job.metadata.name, subresource: 'status' }, { ...job, status });
    updated.status ??= {};
    updated.status.uncountedTerminatedPods ??= {};
    return updated;
  }

  /** The ttl-after-finished controller's part: a finished Job is deleted (with its pods) once its TTL runs out. */
  private async processTtl(key: string, job: Job): Promise<void> {
    const ttl = job.spec?.ttlSecondsAfterFinished;
    if (ttl === undefined || ttl === null || job.metadata.deletionTimestamp) return;
    const finishedAt = (job.status?.conditions ?? []).find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')?.lastTransitionTime;
    if (!finishedAt) return;
    const expireAt = Date.parse(finishedAt) + ttl * 1000;
    const now = this.now();
    if (expireAt > now) {
      this.queue.addAfter(key, expireAt - now);
      return;
    }
    // A last look at the live object: its TTL may have changed since the cache saw it.
    let fresh: Job;
    try {
      fresh = await this.client.get<Job>({ ...jobsResource, namespace: job.metadata.namespace, name: job.metadata.name });
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return;
      throw err;
    }
    const freshTtl = fresh.spec?.ttlSecondsAfterFinished;
    if (fresh.metadata.uid !== job.metadata.uid || freshTtl === undefined || freshTtl === null || fresh.metadata.deletionTimestamp || !isJobFinished(fresh)) return;
    if (Date.parse(finishedAt) + freshTtl * 1000 > now) {
      this.queue.addAfter(key, Date.parse(finishedAt) + freshTtl * 1000 - now);
      return;
    }
    try {
      await this.client.delete({ ...jobsResource, namespace: job.metadata.namespace, name: job.metadata.name }, { propagationPolicy: 'Foreground', preconditions: { uid: fresh.metadata.uid } });
      this.log(`job ${key}: deleted ${ttl} s after it finished (ttlSecondsAfterFinished)`);
    } catch (err) {
      if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
    }
  }
}

/** cleanUncountedPodsWithoutFinalizers: uncounted pods whose finalizer is gone move into the counters. */
function cleanUncounted(status: JobStatus, uidsWithFinalizer: ReadonlySet<string>): boolean {
  const uncounted = (status.uncountedTerminatedPods ??= {});
  let updated = false;
  const succeeded = uncounted.succeeded ?? [];
  const keepS = succeeded.filter((uid) => uidsWithFinalizer.has(uid));
  if (keepS.length !== succeeded.length) {
    status.succeeded = (status.succeeded ?? 0) + succeeded.length - keepS.length;
    uncounted.succeeded = keepS;
    updated = true;
  }
  const failed = uncounted.failed ?? [];
  const keepF = failed.filter((uid) => uidsWithFinalizer.has(uid));
  if (keepF.length !== failed.length) {
    status.failed = (status.failed ?? 0) + failed.length - keepF.length;
    uncounted.failed = keepF;
    updated = true;
  }
  return updated;
}
