// Completion indexes of Indexed Jobs (Kubernetes' indexed_job_utils.go):
// the index a pod carries, status.completedIndexes as intervals ("1,3-5"),
// and which indexes still need a pod.
import type { Pod } from '../workload-common/pods.js';

export const completionIndexAnnotation = 'batch.kubernetes.io/job-completion-index';
/** The pod label with the same value (PodIndexLabel). */
export const completionIndexLabel = 'batch.kubernetes.io/job-completion-index';

/** getCompletionIndex: the pod's index, or -1 when it has none or a bad one. */
export function completionIndexOf(pod: Pod): number {
  const raw = pod.metadata.annotations?.[completionIndexAnnotation] ?? pod.metadata.labels?.[completionIndexLabel];
  if (raw === undefined || !/^[+-]?[0-9]+$/.test(raw)) return -1;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : -1;
}

/** parseIndexesFromString: the indexes below `completions` a completedIndexes string names. */
export function parseIndexes(text: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  if (!text) return out;
  for (const part of text.split(',')) {
    const [a, b] = part.split('-');
    if (!a || !/^[0-9]+$/.test(a)) continue;
    const first = Number(a);
    if (first >= completions) break;
    let last = first;
    if (b !== undefined) {
      if (!/^[0-9]+$/.test(b)) continue;
      last = Math.min(Number(b), completions - 1);
    }
    for (let i = first; i <= last; i++) out.add(i);
  }
  return out;
}

/** orderedIntervals.String(): runs of three or more as "a-b", pairs as "a,b". */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((x, y) => x - y);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    const first = sorted[i]!;
    let last = first;
    while (i + 1 < sorted.length && sorted[i + 1] === last + 1) {
      i++;
      last = sorted[i]!;
    }
    if (last === first) parts.push(String(first));
    else if (last === first + 1) parts.push(`${first},${last}`);
    else parts.push(`${first}-${last}`);
    i++;
  }
  return parts.join(',');
}

/** firstPendingIndexes: the lowest `count` indexes that neither succeeded nor have a pod. */
export function firstPendingIndexes(count: number, completions: number, taken: ReadonlySet<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < completions && out.length < count; i++) if (!taken.has(i)) out.push(i);
  return out;
}

/** podGenerateNameWithIndex: "<job>-<index>-", the job name cut so the prefix fits 58 characters. */
export function generateNameWithIndex(jobName: string, index: number): string {
  const suffix = `-${index}-`;
  const prefix = jobName + suffix;
  return prefix.length > 58 ? jobName.slice(0, 58 - suffix.length) + suffix : prefix;
}
