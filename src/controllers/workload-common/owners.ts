// Adoption and release of dependents, as Kubernetes' ControllerRefManager:
// an owner claims the orphans its selector matches and lets go of the
// dependents it controls that its selector no longer matches.
import { ApiError } from '../../api/errors.js';
import type { KubeObject, OwnerReference } from '../../api/object.js';
import { selectorFromLabelSelector, type LabelSelector, type Selector } from '../../api/labels/index.js';
import type { Informer } from '../../client/informer.js';
import type { ResourcePath, RestClient } from '../../client/rest.js';
import { controllerRefOf, groupOf, newControllerRef } from './pods.js';

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

// ------------------------------------------------------------ the ReplicaSet and Deployment flavour

/**
 * resolveControllerRef: the owner a controller reference points at, if it is
 * of the owner kind (kind and API group) and still the same object (uid).
 */
export function resolveControllerRef<T extends KubeObject>(owners: Informer, namespace: string, ref: OwnerReference, kind: string, group: string): T | undefined {
  if (ref.kind !== kind || groupOf(ref.apiVersion) !== group) return undefined;
  const owner = owners.get(`${namespace}/${ref.name}`);
  return owner && owner.metadata.uid === ref.uid ? (owner as T) : undefined;
}

/**
 * The owners in an orphan's namespace whose selector matches it
 * (getPodReplicaSets, getDeploymentsForReplicaSet); an owner whose selector
 * cannot be parsed or is empty selects nothing.
 */
export function ownersSelecting<T extends KubeObject>(owners: Informer, obj: KubeObject, selectorOf: (owner: T) => Selector): T[] {
  const out: T[] = [];
  for (const owner of owners.inNamespace(obj.metadata.namespace ?? '') as T[]) {
    let selector: Selector;
    try {
      selector = selectorOf(owner);
    } catch {
      continue;
    }
    if (selector.empty() || !selector.matches(obj.metadata.labels ?? {})) continue;
    out.push(owner);
  }
  return out;
}

export function sameLabels(a: KubeObject, b: KubeObject): boolean {
  const la = a.metadata.labels ?? {};
  const lb = b.metadata.labels ?? {};
  const ka = Object.keys(la);
  return ka.length === Object.keys(lb).length && ka.every((k) => la[k] === lb[k]);
}

export interface ClaimControlledOptions {
  client: RestClient;
  /** where the dependents live, and their kind (for messages) */
  resource: ResourcePath;
  dependentKind: string;
  owner: KubeObject;
  /** where the owner lives, for the fresh read before adopting */
  ownerResource: ResourcePath;
  apiVersion: string;
  kind: string;
  selector: Selector;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** utilerrors.NewAggregate's message: one error as itself, more as "[a, b]". */
function aggregate(errors: readonly string[]): Error {
  return new Error(errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`);
}

/**
 * ControllerRefManager.ClaimObject as the ReplicaSet and Deployment
 * controllers run it (ClaimPods, ClaimReplicaSets): the candidates this owner
 * controls and its selector matches, after adopting the orphans it matches
 * and releasing the ones it controls that stopped matching. An owner being
 * deleted neither adopts nor releases; adoption first reads the owner afresh
 * (RecheckDeletionTimestamp). An adopted candidate comes back as the server
 * returned it. Failures other than a vanished candidate are gathered and
 * thrown together once every candidate has been tried.
 */
export async function claimControlled<T extends KubeObject>(candidates: readonly T[], o: ClaimControlledOptions): Promise<T[]> {
  const claimed: T[] = [];
  const errors: string[] = [];
  let canAdopt: Promise<void> | undefined;
  const { owner } = o;
  const uid = owner.metadata.uid;
  for (const obj of candidates) {
    const ref = controllerRefOf(obj);
    const matches = o.selector.matches(obj.metadata.labels ?? {});
    const path = { ...o.resource, namespace: obj.metadata.namespace, name: obj.metadata.name };
    if (ref) {
      if (ref.uid !== uid) continue;
      if (matches) {
        claimed.push(obj);
        continue;
      }
      if (owner.metadata.deletionTimestamp) continue;
      try {
        await o.client.patch(path, { metadata: { ownerReferences: [{ $patch: 'delete', uid }], uid: obj.metadata.uid } }, 'strategic');
      } catch (err) {
        // Gone, or recreated under the name (uid precondition), or no owner reference left: nothing to release.
        if (!(err instanceof ApiError && (err.code === 404 || err.code === 422))) errors.push(errorMessage(err));
      }
      continue;
    }
    if (owner.metadata.deletionTimestamp || !matches || obj.metadata.deletionTimestamp) continue;
    if (obj.metadata.namespace !== owner.metadata.namespace) continue;
    try {
      canAdopt ??= recheckDeletion(o);
      await canAdopt;
      // The candidate's uid in the patch is a precondition: one deleted and recreated under the name is not adopted.
      const metadata = { ownerReferences: [newControllerRef(owner, o.apiVersion, o.kind)], uid: obj.metadata.uid };
      claimed.push(await o.client.patch<T>(path, { metadata }, 'strategic'));
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) {
        errors.push(`can't adopt ${o.dependentKind} ${obj.metadata.namespace}/${obj.metadata.name} (${obj.metadata.uid}): ${errorMessage(err)}`);
      }
    }
  }
  if (errors.length > 0) throw aggregate(errors);
  return claimed;
}

/** RecheckDeletionTimestamp: adoption needs a fresh read showing the owner is the same and not being deleted. */
async function recheckDeletion(o: ClaimControlledOptions): Promise<void> {
  const { owner } = o;
  const name = `${owner.metadata.namespace}/${owner.metadata.name}`;
  const fresh = await o.client.get({ ...o.ownerResource, namespace: owner.metadata.namespace, name: owner.metadata.name });
  if (fresh.metadata.uid !== owner.metadata.uid) throw new Error(`original ${o.kind} ${name} is gone: got uid ${fresh.metadata.uid}, wanted ${owner.metadata.uid}`);
  if (fresh.metadata.deletionTimestamp) throw new Error(`${name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
}
