// The garbage collector's decision for one object with owner references, as
// Kubernetes' attemptToDeleteItem takes it once every reference is classified.
import type { OwnerReference } from '../../api/object.js';

export type Propagation = 'Orphan' | 'Foreground' | 'Background';

export interface Classified {
  /** Owners that exist and are not waiting for their dependents to go. */
  solid: OwnerReference[];
  /** Owners that do not exist (or exist under another uid). */
  dangling: OwnerReference[];
  /** Owners being deleted in the foreground (deletionTimestamp and the foregroundDeletion finalizer). */
  waiting: OwnerReference[];
}

export type Decision =
  | { action: 'none' }
  /** Remove these references (dangling ones, and waiting ones that would otherwise wait forever). */
  | { action: 'removeRefs'; uids: string[] }
  /** Delete the object; unblock its own references first when a dependent of it is itself deleting dependents (cycle guard). */
  | { action: 'delete'; propagation: Propagation; unblockFirst: boolean };

export const orphanFinalizer = 'orphan';
export const foregroundFinalizer = 'foregroundDeletion';

/**
 * attemptToDeleteItem's switch:
 * - some solid owner: keep the object, but drop dangling and waiting references;
 * - an owner waits for its dependents and this object has dependents of its
 *   own: delete it in the foreground, so its dependents go first;
 * - otherwise (no solid owner): delete it, honouring an orphan or
 *   foregroundDeletion finalizer it already has, else in the background.
 */
export function decide(c: Classified, finalizers: string[], hasDependents: boolean, aDependentIsDeletingDependents: boolean): Decision {
  if (c.solid.length > 0) {
    if (c.dangling.length === 0 && c.waiting.length === 0) return { action: 'none' };
    return { action: 'removeRefs', uids: [...c.dangling, ...c.waiting].map((r) => r.uid) };
  }
  if (c.waiting.length > 0 && hasDependents) return { action: 'delete', propagation: 'Foreground', unblockFirst: aDependentIsDeletingDependents };
  const propagation: Propagation = finalizers.includes(orphanFinalizer) ? 'Orphan' : finalizers.includes(foregroundFinalizer) ? 'Foreground' : 'Background';
  return { action: 'delete', propagation, unblockFirst: false };
}
