// The CronJob controller (Kubernetes' pkg/controller/cronjob, ControllerV2):
// at each scheduled time it creates the Job "<cronjob>-<minutes since the
// epoch>", honouring concurrencyPolicy, startingDeadlineSeconds and suspend;
// it keeps status.active / lastScheduleTime / lastSuccessfulTime and prunes
// finished Jobs beyond the history limits. The clock is injectable.
import { ApiError } from '../../api/errors.js';
import { cloneJson, type KubeObject } from '../../api/object.js';
import { EventRecorder } from '../../client/events.js';
import { objectKey, type Informer, type InformerFactory } from '../../client/informer.js';
import { controllerRefOf, controllerUidIndex, controllerUidIndexFunc, formatTime, newControllerRef } from '../workload-common/pods.js';
import { CronScheduleError, Zone, formatRfc1123z, formatRfc3339, parseSchedule, type Schedule } from './schedule.js';
import { QueueController, type QueueControllerOptions } from '../queue-controller.js';

export const cronJobsResource = { group: 'batch', version: 'v1', plural: 'cronjobs' };
const jobsResource = { group: 'batch', version: 'v1', plural: 'jobs' };
export const scheduledTimestampAnnotation = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** nextScheduleDelta: requeue a little after the scheduled time, for clock skew. */
const nextScheduleDeltaMs = 100;

interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

interface CronJobSpec {
  schedule?: string;
  timeZone?: string;
  startingDeadlineSeconds?: number;
  concurrencyPolicy?: string;
  suspend?: boolean;
  jobTemplate?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown> };
  successfulJobsHistoryLimit?: number;
  failedJobsHistoryLimit?: number;
}

interface CronJobStatus {
  active?: ObjectReference[];
  lastScheduleTime?: string;
  lastSuccessfulTime?: string;
}

export interface CronJob extends KubeObject {
  spec?: CronJobSpec;
  status?: CronJobStatus;
}

interface JobLike extends KubeObject {
  status?: { conditions?: { type: string; status: string }[]; completionTime?: string; startTime?: string };
}

export interface CronJobControllerOptions extends QueueControllerOptions {
  /** the clock (ms since the epoch); tests move it to run schedules fast */
  now?: () => number;
  /** wake each CronJob at least this often, for clocks that move faster than real time */
  maxRequeueMs?: number;
  /** the zone of schedules without TZ= or spec.timeZone (default: the process's own) */
  defaultTimeZone?: string;
}

const apiVersion = 'batch/v1';
const kind = 'CronJob';

/** getFinishedStatus: the Job's Complete or Failed condition type, if it has finished. */
export function finishedType(job: JobLike): 'Complete' | 'Failed' | undefined {
  for (const c of job.status?.conditions ?? []) if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') return c.type;
  return undefined;
}

/** getJobName: the Job for one scheduled time. */
export function jobNameFor(cronJobName: string, scheduledMs: number): string {
  return `${cronJobName}-${Math.floor(scheduledMs / 60_000)}`;
}

/** formatSchedule: spec.timeZone becomes a TZ= prefix. */
export function effectiveSchedule(cj: CronJob): string {
  const schedule = cj.spec?.schedule ?? '';
  if (schedule.includes('TZ')) return schedule;
  const tz = cj.spec?.timeZone;
  if (tz !== undefined && tz !== null && Zone.isValid(tz)) return `TZ=${tz === '' ? 'UTC' : tz} ${schedule}`;
  return schedule;
}

export interface MostRecent {
  earliestMs: number;
  /** the newest missed schedule time at or before now, if any */
  mostRecentMs?: number;
  missed: 'none' | 'few' | 'many';
}

/** mostRecentScheduleTime. */
export function mostRecentScheduleTime(cj: CronJob, nowMs: number, schedule: Schedule, includeStartingDeadline: boolean): MostRecent {
  let earliest = Date.parse(cj.metadata.creationTimestamp ?? '') || 0;
  if (cj.status?.lastScheduleTime) earliest = Date.parse(cj.status.lastScheduleTime);
  const deadline = cj.spec?.startingDeadlineSeconds;
  if (includeStartingDeadline && deadline !== undefined && deadline !== null) {
    // Nothing older than the starting deadline will be started any more.
    const limit = nowMs - deadline * 1000;
    if (limit > earliest) earliest = limit;
  }
  const t1 = schedule.next(earliest);
  if (t1 === undefined || nowMs < t1) return { earliestMs: earliest, missed: 'none' };
  const t2 = schedule.next(t1);
  if (t2 === undefined || nowMs < t2) return { earliestMs: earliest, mostRecentMs: t1, missed: 'none' };
  const between = Math.round((t2 - t1) / 1000);
  if (between < 1) throw new CronScheduleError('time difference between two schedules is less than 1 second');
  const elapsed = Math.floor((nowMs - t1) / 1000);
  const missedCount = Math.floor(elapsed / between) + 1;
  // Start two intervals before the estimate so irregular schedules land right.
  let t: number | undefined = schedule.next(t1 + (missedCount - 2) * between * 1000);
  let mostRecent: number | undefined;
  while (t !== undefined && t <= nowMs) {
    mostRecent = t;
    t = schedule.next(t);
  }
  return { earliestMs: earliest, mostRecentMs: mostRecent, missed: missedCount > 100 ? 'many' : missedCount > 0 ? 'few' : 'none' };
}

/** nextScheduleTimeDuration: how long until the next schedule (plus a little), from now. */
export function nextScheduleDelay(cj: CronJob, nowMs: number, schedule: Schedule): number | undefined {
  let from: number;
  try {
    const r = mostRecentScheduleTime(cj, nowMs, schedule, false);
    from = r.mostRecentMs ?? (r.missed === 'none' ? r.earliestMs : nowMs);
  } catch {
    from = nowMs;
  }
  const next = schedule.next(from);
  return next === undefined ? undefined : next + nextScheduleDeltaMs - nowMs;
}

export class CronJobController extends QueueController {
  private readonly cronJobs: Informer;
  private readonly jobs: Informer;
  private readonly recorder: EventRecorder;
  private readonly now: () => number;
  private readonly defaultZone: Zone | undefined;

  constructor(
    factory: InformerFactory,
    private readonly opts: CronJobControllerOptions = {},
  ) {
    super(factory, opts, 2);
    this.now = opts.now ?? Date.now;
    this.defaultZone = opts.defaultTimeZone ? new Zone(opts.defaultTimeZone) : undefined;
    this.recorder = new EventRecorder(this.client, 'cronjob-controller');
    this.cronJobs = this.informer(cronJobsResource);
    this.jobs = this.informer(jobsResource);
    this.jobs.addIndex(controllerUidIndex, controllerUidIndexFunc);
    const enqueue = (obj: KubeObject) => this.queue.add(objectKey(obj));
    this.cronJobs.on({ add: enqueue, update: (_old, cj) => enqueue(cj) });
    const enqueueOwner = (job: KubeObject) => {
      const ref = controllerRefOf(job);
      if (ref && ref.kind === kind && ref.apiVersion.startsWith('batch/')) this.queue.add(`${job.metadata.namespace ?? ''}/${ref.name}`);
    };
    this.jobs.on({ add: enqueueOwner, update: (_old, job) => enqueueOwner(job), delete: enqueueOwner });
  }

  private requeueAfter(key: string, ms: number | undefined): void {
    if (ms === undefined) return;
    const capped = this.opts.maxRequeueMs !== undefined ? Math.min(ms, this.opts.maxRequeueMs) : ms;
    this.queue.addAfter(key, Math.max(0, capped));
  }

  async sync(key: string): Promise<void> {
    const cached = this.cronJobs.get(key) as CronJob | undefined;
    if (!cached) return;
    const cj = cloneJson(cached);
    const jobs = (this.jobs.byIndex(controllerUidIndex, cj.metadata.uid ?? '') as JobLike[]).filter((j) => j.metadata.namespace === cj.metadata.namespace);
    const cleaned = await this.cleanupFinishedJobs(cj, jobs);
    let result: { requeueMs?: number; updateStatus: boolean };
    let syncError: unknown;
    try {
      result = await this.syncCronJob(cj, jobs);
    } catch (err) {
      syncError = err;
      result = { updateStatus: (err as { updateStatus?: boolean }).updateStatus ?? false };
    }
    if (cleaned || result.updateStatus) await this.writeStatus(cj);
    if (syncError) throw syncError;
    this.requeueAfter(key, result.requeueMs);
  }

  /** syncCronJob: reconciles status.active with the Jobs, then starts the Job due, if any. */
  private async syncCronJob(cj: CronJob, jobs: readonly JobLike[]): Promise<{ requeueMs?: number; updateStatus: boolean }> {
    const now = this.now();
    const status = (cj.status ??= {});
    let updateStatus = false;
    const children = new Set<string>();
    for (const j of jobs) {
      const uid = j.metadata.uid ?? '';
      children.add(uid);
      const inActive = (status.active ?? []).some((r) => r.uid === uid);
      const finished = finishedType(j);
      if (!inActive && !finished) {
        // Perhaps our own status write is not in the cache yet: look at the live object.
        const fresh = await this.client.get<CronJob>({ ...cronJobsResource, namespace: cj.metadata.namespace, name: cj.metadata.name });
        if ((fresh.status?.active ?? []).some((r) => r.uid === uid)) {
          status.active = fresh.status?.active;
          cj.metadata.resourceVersion = fresh.metadata.resourceVersion;
          continue;
        }
        void this.recorder.record(cj, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata.name}`);
      } else if (inActive && finished) {
        status.active = (status.active ?? []).filter((r) => r.uid !== uid);
        void this.recorder.record(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata.name}, condition: ${finished}`);
        updateStatus = true;
      }
      if (finished === 'Complete' && j.status?.completionTime) {
        if (!status.lastSuccessfulTime || Date.parse(j.status.completionTime) > Date.parse(status.lastSuccessfulTime)) {
          status.lastSuccessfulTime = j.status.completionTime;
          updateStatus = true;
        }
      }
    }
    // Active Jobs that no longer exist (asked of the API server, the cache may lag).
    for (const ref of [...(status.active ?? [])]) {
      if (children.has(ref.uid ?? '')) continue;
      try {
        await this.client.get({ ...jobsResource, namespace: ref.namespace ?? cj.metadata.namespace, name: ref.name });
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw Object.assign(err as Error, { updateStatus });
        void this.recorder.record(cj, 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
        status.active = (status.active ?? []).filter((r) => r.uid !== ref.uid);
        updateStatus = true;
      }
    }

    if (cj.metadata.deletionTimestamp) return { updateStatus };
    const tz = cj.spec?.timeZone;
    if (tz !== undefined && tz !== null && !Zone.isValid(tz)) {
      void this.recorder.record(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: ${JSON.stringify(tz)}: unknown time zone ${tz}`);
      return { updateStatus };
    }
    if (cj.spec?.suspend === true) return { updateStatus };

    const scheduleText = effectiveSchedule(cj);
    if ((cj.spec?.schedule ?? '').includes('TZ')) {
      void this.recorder.record(cj, 'Warning', 'UnsupportedSchedule', `CRON_TZ or TZ used in schedule ${JSON.stringify(cj.spec?.schedule)} is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details`);
    }
    let schedule: Schedule;
    try {
      schedule = parseSchedule(scheduleText, this.defaultZone);
    } catch (err) {
      void this.recorder.record(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(cj.spec?.schedule)} : ${(err as Error).message}`);
      return { updateStatus };
    }

    let recent: MostRecent;
    try {
      recent = mostRecentScheduleTime(cj, now, schedule, true);
    } catch (err) {
      void this.recorder.record(cj, 'Warning', 'InvalidSchedule', `invalid schedule: ${cj.spec?.schedule} : ${(err as Error).message}`);
      return { updateStatus };
    }
    const scheduled = recent.mostRecentMs;
    if (scheduled === undefined) return { requeueMs: nextScheduleDelay(cj, now, schedule), updateStatus };
    if (recent.missed === 'many') {
      void this.recorder.record(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
      this.log(`cronjob ${objectKey(cj)}: too many missed start times`);
    }
    const deadline = cj.spec?.startingDeadlineSeconds;
    if (deadline !== undefined && deadline !== null && scheduled + deadline * 1000 < now) {
      void this.recorder.record(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${formatRfc1123z(scheduled)}`);
      return { requeueMs: nextScheduleDelay(cj, now, schedule), updateStatus };
    }
    const name = jobNameFor(cj.metadata.name ?? '', scheduled);
    if ((status.active ?? []).some((r) => r.name === name && (r.namespace ?? cj.metadata.namespace) === cj.metadata.namespace) || (status.lastScheduleTime && Date.parse(status.lastScheduleTime) === scheduled)) {
      return { requeueMs: nextScheduleDelay(cj, now, schedule), updateStatus };
    }
    const policy = cj.spec?.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && (status.active ?? []).length > 0) {
      void this.recorder.record(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return { requeueMs: nextScheduleDelay(cj, now, schedule), updateStatus };
    }
    if (policy === 'Replace') {
      for (const ref of [...(status.active ?? [])]) {
        this.log(`cronjob ${objectKey(cj)}: deleting job ${ref.name} still running at the next scheduled start`);
        if (!(await this.deleteJob(cj, ref.name ?? '', ref.uid ?? ''))) throw Object.assign(new Error(`could not replace job ${ref.namespace}/${ref.name}`), { updateStatus: true });
        updateStatus = true;
      }
    }

    const job = this.jobFromTemplate(cj, scheduled, name);
    let created: JobLike;
    try {
      created = await this.client.create<JobLike>({ ...jobsResource, namespace: cj.metadata.namespace }, job);
      this.log(`cronjob ${objectKey(cj)}: created job ${name} for ${formatTime(scheduled)}`);
      void this.recorder.record(cj, 'Normal', 'SuccessfulCreate', `Created job ${name}`);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) {
        if (!(err instanceof ApiError && err.code === 403)) void this.recorder.record(cj, 'Warning', 'FailedCreate', `Error creating job: ${(err as Error).message}`);
        throw Object.assign(err as Error, { updateStatus });
      }
      // Made by an earlier sync whose status write was lost, or by someone else.
      created = await this.client.get<JobLike>({ ...jobsResource, namespace: cj.metadata.namespace, name });
      if (controllerRefOf(created)?.uid !== cj.metadata.uid) return { updateStatus };
      if ((status.active ?? []).some((r) => r.uid === created.metadata.uid)) return { updateStatus };
    }
    status.active = [
      ...(status.active ?? []),
      { kind: 'Job', namespace: created.metadata.namespace, name: created.metadata.name, uid: created.metadata.uid, apiVersion, resourceVersion: created.metadata.resourceVersion },
    ];
    status.lastScheduleTime = formatTime(scheduled);
    return { requeueMs: nextScheduleDelay(cj, now, schedule), updateStatus: true };
  }

  /** getJobFromTemplate2. */
  private jobFromTemplate(cj: CronJob, scheduledMs: number, name: string): KubeObject {
    const template = cj.spec?.jobTemplate ?? {};
    const tz = cj.spec?.timeZone;
    const zone = new Zone(tz === undefined || tz === null || tz === '' ? 'UTC' : tz);
    const labels = { ...(template.metadata?.labels ?? {}) };
    const annotations: Record<string, string> = { ...(template.metadata?.annotations ?? {}), [scheduledTimestampAnnotation]: formatRfc3339(scheduledMs, zone) };
    const metadata: KubeObject['metadata'] = { name, namespace: cj.metadata.namespace, annotations, ownerReferences: [newControllerRef(cj, apiVersion, kind)] };
    if (Object.keys(labels).length > 0) metadata.labels = labels;
    return { apiVersion, kind: 'Job', metadata, spec: cloneJson(template.spec ?? {}) };
  }

  /** cleanupFinishedJobs: the oldest finished Jobs beyond each history limit are deleted. */
  private async cleanupFinishedJobs(cj: CronJob, jobs: readonly JobLike[]): Promise<boolean> {
    const successLimit = cj.spec?.successfulJobsHistoryLimit;
    const failedLimit = cj.spec?.failedJobsHistoryLimit;
    if ((successLimit === undefined || successLimit === null) && (failedLimit === undefined || failedLimit === null)) return false;
    const succeeded = jobs.filter((j) => finishedType(j) === 'Complete');
    const failed = jobs.filter((j) => finishedType(j) === 'Failed');
    let updated = false;
    if (successLimit !== undefined && successLimit !== null && (await this.removeOldestJobs(cj, succeeded, successLimit))) updated = true;
    if (failedLimit !== undefined && failedLimit !== null && (await this.removeOldestJobs(cj, failed, failedLimit))) updated = true;
    return updated;
  }

  private async removeOldestJobs(cj: CronJob, jobs: JobLike[], max: number): Promise<boolean> {
    const excess = jobs.length - max;
    if (excess <= 0) return false;
    // byJobStartTime: started ones oldest first, then by name; never started last.
    const sorted = [...jobs].sort((a, b) => {
      const as = a.status?.startTime;
      const bs = b.status?.startTime;
      if (!as && bs) return 1;
      if (as && !bs) return -1;
      const d = (as ? Date.parse(as) : 0) - (bs ? Date.parse(bs) : 0);
      if (d !== 0) return d;
      return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : (a.metadata.name ?? '') > (b.metadata.name ?? '') ? 1 : 0;
    });
    let updated = false;
    for (const job of sorted.slice(0, excess)) if (await this.deleteJob(cj, job.metadata.name ?? '', job.metadata.uid ?? '')) updated = true;
    return updated;
  }

  /** deleteJob: the Job (its pods in the background) and its place in status.active. */
  private async deleteJob(cj: CronJob, name: string, uid: string): Promise<boolean> {
    try {
      await this.client.delete({ ...jobsResource, namespace: cj.metadata.namespace, name }, { propagationPolicy: 'Background' });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) {
        void this.recorder.record(cj, 'Warning', 'FailedDelete', `Deleted job: ${(err as Error).message}`);
        return false;
      }
    }
    if (cj.status?.active) cj.status.active = cj.status.active.filter((r) => r.uid !== uid);
    this.log(`cronjob ${objectKey(cj)}: deleted job ${name}`);
    void this.recorder.record(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${name}`);
    return true;
  }

  private async writeStatus(cj: CronJob): Promise<void> {
    const status: CronJobStatus = { ...(cj.status ?? {}) };
    if (status.active && status.active.length === 0) delete status.active;
    try {
      await this.client.update({ ...cronJobsResource, namespace: cj.metadata.namespace, name: cj.metadata.name, subresource: 'status' }, { ...cj, status });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }
}
