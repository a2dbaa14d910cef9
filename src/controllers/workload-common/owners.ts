// Adoption and release of dependents, as Kubernetes' ControllerRefManager:
// an owner claims the orphans its selector matches and lets go of the
// dependents it controls that its selector no longer matches.
import { ApiError } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import { selectorFromLabelSelector, type LabelSelector, type Selector } from '../../api/labels/index.js';
import type { ResourcePath, RestClient } from '../../client/rest.js';
import { controllerRefOf, newControllerRef } from './pods.js';

/** The owner's selector, or one matching nothing when it cannot be parsed. */
export function ownerSelector(selector: unknown): Selector {
  try {
    return selectorFromLabelSelector(selector as LabelSelector | undefined);
  } catch {
    return selectorFromLabelSelector(undefined);
  }
}

export interface ClaimOptions {
  client: RestClient;
  resource: ResourcePath;
  owner: KubeObject;
  apiVersion: string;
  kind: string;
  selector: Selector;
  /** a finalizer adopted dependents get as well (Jobs' batch.kubernetes.io/job-tracking) */
  finalizer?: string;
  log?: (line: string) => void;
}

function notFound(err: unknown): boolean {
  return err instanceof ApiError && (err.code === 404 || err.code === 409 || err.code === 422);
}

/**
 * The candidates the owner controls after adopting matching orphans and
 * releasing the ones that stopped matching (a failed patch just skips the
 * object; the next sync tries again).
 */
export async function claimDependents<T extends KubeObject>(candidates: readonly T[], o: ClaimOptions): Promise<T[]> {
  const uid = o.owner.metadata.uid;
  const ownerDeleting = !!o.owner.metadata.deletionTimestamp;
  const claimed: T[] = [];
  for (const obj of candidates) {
    const ref = controllerRefOf(obj);
    const matches = o.selector.matches(obj.metadata.labels);
    const path = { ...o.resource, namespace: obj.metadata.namespace, name: obj.metadata.name };
    if (ref) {
      if (ref.uid !== uid) continue;
      if (matches || ownerDeleting) {
        claimed.push(obj);
        continue;
      }
      try {
        await o.client.patch(path, { metadata: { ownerReferences: [{ $patch: 'delete', uid }], uid: obj.metadata.uid } }, 'strategic');
        o.log?.(`released ${obj.metadata.namespace}/${obj.metadata.name} from ${o.kind} ${o.owner.metadata.name}`);
      } catch (err) {
        if (!notFound(err)) throw err;
      }
      continue;
    }
    if (!matches || ownerDeleting || obj.metadata.deletionTimestamp) continue;
    const metadata: Record<string, unknown> = { ownerReferences: [newControllerRef(o.owner, o.apiVersion, o.kind)], uid: obj.metadata.uid };
    if (o.finalizer && !(obj.metadata.finalizers ?? []).includes(o.finalizer)) metadata.finalizers = [o.finalizer];
    try {
      const adopted = await o.client.patch<T>(path, { metadata }, 'strategic');
      o.log?.(`adopted ${obj.metadata.namespace}/${obj.metadata.name} into ${o.kind} ${o.owner.metadata.name}`);
      claimed.push(adopted);
    } catch (err) {
      if (!notFound(err)) throw err;
    }
  }
  return claimed;
}
