// The delay before a Job makes a replacement pod after failures (Kubernetes'
// job backoff_utils): 10 s after the first failure since the last success,
// doubling with each further one, capped; measured from the last failure.
import type { Pod } from '../workload-common/pods.js';

/** DefaultJobPodFailureBackOff. */
export const defaultPodFailureBackoffMs = 10_000;
/** The cap on the delay (6 minutes). */
export const defaultMaxPodFailureBackoffMs = 6 * 60_000;

export interface BackoffRecord {
  failuresAfterLastSuccess: number;
  /** when the newest of those failures happened (ms), if any */
  lastFailureTime?: number;
}

/** The delay owed after `failures` consecutive failures: base * 2^(failures-1), capped at max. */
export function backoffDuration(failures: number, baseMs: number, maxMs: number): number {
  if (failures <= 0) return 0;
  let d = baseMs;
  for (let i = 1; i < failures; i++) {
    d *= 2;
    if (d >= maxMs) return maxMs;
  }
  return Math.min(d, maxMs);
}

/** getRemainingTime: how much longer to wait before creating pods again (0 = now). */
export function remainingBackoff(record: BackoffRecord, nowMs: number, baseMs: number, maxMs: number): number {
  if (record.failuresAfterLastSuccess === 0 || record.lastFailureTime === undefined) return 0;
  const duration = backoffDuration(record.failuresAfterLastSuccess, baseMs, maxMs);
  const elapsed = nowMs - record.lastFailureTime;
  return duration < elapsed ? 0 : duration - elapsed;
}

function parseMs(t: string | null | undefined): number | undefined {
  if (!t) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * getFinishedTime: the last container's finish, else when Ready went False,
 * else when the deletion was asked for (the deletion timestamp less the grace
 * period it gives), else creation.
 */
export function podFinishedTime(pod: Pod): number {
  let latest: number | undefined;
  for (const s of [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]) {
    const t = parseMs(s.state?.terminated?.finishedAt);
    if (t !== undefined && (latest === undefined || t > latest)) latest = t;
  }
  if (latest !== undefined) return latest;
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status === 'False') {
    const t = parseMs(ready.lastTransitionTime);
    if (t !== undefined) return t;
  }
  const deletion = parseMs(pod.metadata.deletionTimestamp);
  if (deletion !== undefined) return deletion - (pod.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
  return parseMs(pod.metadata.creationTimestamp) ?? 0;
}

/** newBackoffRecord: the record after the pods that newly succeeded or failed. */
export function nextBackoffRecord(old: BackoffRecord | undefined, newSucceeded: readonly Pod[], newFailed: readonly Pod[]): BackoffRecord {
  const record: BackoffRecord = { failuresAfterLastSuccess: old?.failuresAfterLastSuccess ?? 0, lastFailureTime: old?.lastFailureTime };
  const failedTimes = newFailed.map(podFinishedTime).sort((a, b) => a - b);
  if (newSucceeded.length === 0) {
    if (failedTimes.length === 0) return record;
    record.failuresAfterLastSuccess += failedTimes.length;
    record.lastFailureTime = failedTimes[failedTimes.length - 1];
    return record;
  }
  const lastSuccess = Math.max(...newSucceeded.map(podFinishedTime));
  const out: BackoffRecord = { failuresAfterLastSuccess: 0 };
  for (let i = failedTimes.length - 1; i >= 0; i--) {
    const t = failedTimes[i]!;
    if (t <= lastSuccess) break;
    out.lastFailureTime ??= t;
    out.failuresAfterLastSuccess++;
  }
  return out;
}
