// The conditions a terminating namespace's status carries, as Kubernetes'
// namespace deleter sets them (namespace_condition_utils.go): each of five
// types True with what went wrong, or False with its "ok" message, so that
// `kubectl get ns -o yaml` says why a namespace is stuck.

export interface NamespaceCondition {
  type: string;
  status: 'True' | 'False';
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** The five types, in the order they are first added. */
const conditionTypes = [
  'NamespaceDeletionDiscoveryFailure',
  'NamespaceDeletionGroupVersionParsingFailure',
  'NamespaceDeletionContentFailure',
  'NamespaceContentRemaining',
  'NamespaceFinalizersRemaining',
] as const;

const ok: Record<(typeof conditionTypes)[number], { reason: string; message: string }> = {
  NamespaceDeletionDiscoveryFailure: { reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
  NamespaceDeletionGroupVersionParsingFailure: { reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
  NamespaceDeletionContentFailure: { reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
  NamespaceContentRemaining: { reason: 'ContentRemoved', message: 'All content successfully removed' },
  NamespaceFinalizersRemaining: { reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' },
};

/** What one pass over a terminating namespace's content found. */
export interface DeletionFindings {
  /** Discovery failed (what could be listed was still deleted). */
  discoveryError?: string;
  /** Errors deleting or listing content, one per resource. */
  contentErrors: string[];
  /** Objects left, by resource ("configmaps." for the core group, as Kubernetes writes a resource and group). */
  remaining: Map<string, number>;
  /** Objects left with each finalizer. */
  finalizers: Map<string, number>;
}

function failed(type: string, reason: string, message: string, now: string): NamespaceCondition {
  return { type, status: 'True', lastTransitionTime: now, reason, message };
}

/** The failing conditions of a pass; the other types are set to their ok form. */
function failures(f: DeletionFindings, now: string): NamespaceCondition[] {
  const out: NamespaceCondition[] = [];
  if (f.discoveryError !== undefined) out.push(failed('NamespaceDeletionDiscoveryFailure', 'DiscoveryFailed', `Discovery failed for some groups, ${f.discoveryError}`, now));
  if (f.contentErrors.length > 0) {
    out.push(failed('NamespaceDeletionContentFailure', 'ContentDeletionFailed', `Failed to delete all resource types, ${f.contentErrors.length} remaining: ${f.contentErrors.join(', ')}`, now));
  }
  const remaining = [...f.remaining].filter(([, n]) => n > 0).map(([resource, n]) => `${resource} has ${n} resource instances`).sort();
  if (remaining.length > 0) out.push(failed('NamespaceContentRemaining', 'SomeResourcesRemain', `Some resources are remaining: ${remaining.join(', ')}`, now));
  const held = [...f.finalizers].filter(([, n]) => n > 0).map(([finalizer, n]) => `${finalizer} in ${n} resource instances`).sort();
  if (held.length > 0) out.push(failed('NamespaceFinalizersRemaining', 'SomeFinalizersRemain', `Some content in the namespace has finalizers remaining: ${held.join(', ')}`, now));
  return out;
}

/**
 * The namespace's conditions after a pass, or undefined when none changes.
 * A condition keeps its transition time unless its status, reason or
 * message changes; conditions of other types are kept.
 */
export function updatedConditions(current: readonly NamespaceCondition[], findings: DeletionFindings, now: string): NamespaceCondition[] | undefined {
  const next = current.map((c) => ({ ...c }));
  const found = failures(findings, now);
  let changed = false;
  for (const type of conditionTypes) {
    const wanted = found.find((c) => c.type === type) ?? { type, status: 'False' as const, lastTransitionTime: now, ...ok[type] };
    const old = next.find((c) => c.type === type);
    if (!old) {
      next.push(wanted);
      changed = true;
    } else if (old.status !== wanted.status || old.reason !== wanted.reason || old.message !== wanted.message) {
      Object.assign(old, wanted);
      changed = true;
    }
  }
  return changed ? next : undefined;
}
