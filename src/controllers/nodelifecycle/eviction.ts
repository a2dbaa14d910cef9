// Taint-based eviction (Kubernetes' tainteviction controller): a pod on a
// node with a NoExecute taint it does not tolerate is deleted at once; one
// that tolerates every such taint is deleted once the smallest
// tolerationSeconds of the tolerations it uses has passed, and never when
// they have none. Pure: the controller supplies the times.
import { matchingTolerations, type Taint, type Toleration } from './taints.js';

/** A NoExecute taint with the time (ms since the epoch) its toleration period counts from. */
export interface TimedTaint extends Taint {
  since: number;
}

export type EvictionDecision =
  /** No NoExecute taint, or all are tolerated forever. */
  | { action: 'keep' }
  /** Some taint is not tolerated, or a toleration period is over. */
  | { action: 'evict' }
  /** Every taint is tolerated, for a while: delete at `at` (ms since the epoch). */
  | { action: 'evictAt'; at: number };

/**
 * When to evict a pod from a node with these NoExecute taints. A toleration
 * period counts from when the taint was added, or from when the pod was
 * created if that was later (a pod placed on a node that is already tainted
 * gets its whole period). tolerationSeconds <= 0 evicts at once.
 */
export function evictionDecision(taints: TimedTaint[], tolerations: Toleration[], podCreated: number, now: number): EvictionDecision {
  const noExecute = taints.filter((t) => t.effect === 'NoExecute');
  if (noExecute.length === 0) return { action: 'keep' };
  const used = matchingTolerations(noExecute, tolerations);
  if (!used) return { action: 'evict' };
  let at = Infinity;
  noExecute.forEach((taint, i) => {
    const seconds: unknown = used[i]!.tolerationSeconds;
    if (typeof seconds !== 'number') return;
    const from = Math.max(taint.since, Number.isFinite(podCreated) ? podCreated : taint.since);
    at = Math.min(at, from + Math.max(0, seconds) * 1000);
  });
  if (at === Infinity) return { action: 'keep' };
  return at <= now ? { action: 'evict' } : { action: 'evictAt', at };
}
