// ControllerRevisions: the template history of StatefulSets and DaemonSets
// (Kubernetes' pkg/controller/history). A revision holds the patch that
// restores the owner's pod template; equal templates share one revision,
// and going back to an older template bumps that revision's number.
import { ApiError } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import type { Informer } from '../../client/informer.js';
import type { RestClient } from '../../client/rest.js';
import { controllerRefOf, newControllerRef, type PodTemplate } from './pods.js';

export const controllerRevisionsResource = { group: 'apps', version: 'v1', plural: 'controllerrevisions' };
/** apps.ControllerRevisionHashLabelKey (and DefaultDaemonSetUniqueLabelKey). */
export const revisionHashLabel = 'controller-revision-hash';

export interface ControllerRevision extends KubeObject {
  data?: unknown;
  revision?: number;
}

/** JSON with object keys sorted, so equal values always print the same. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((item) => canonicalJson(item === undefined ? null : item)).join(',')}]`;
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/** 32-bit FNV-1a over the UTF-8 bytes of s. */
export function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(s, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const safeAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** rand.SafeEncodeString: each character mapped into an alphabet without vowels or look-alikes. */
export function safeEncode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += safeAlphabet[s.charCodeAt(i) % safeAlphabet.length];
  return out;
}

/** HashControllerRevision: the data's hash, perturbed by the collision count. */
export function hashRevisionData(data: unknown, collisionCount?: number): string {
  let text = canonicalJson(data);
  if (collisionCount !== undefined && collisionCount !== 0) text += String(collisionCount);
  return safeEncode(String(fnv32a(text)));
}

/** The patch a revision stores: the whole pod template, replacing the owner's. */
export function templateRevisionData(template: unknown): Record<string, unknown> {
  return { spec: { template: { ...(template as Record<string, unknown>), $patch: 'replace' } } };
}

/** The pod template a revision restores. */
export function templateOfRevision(rev: ControllerRevision): PodTemplate {
  const data = rev.data as { spec?: { template?: Record<string, unknown> } } | undefined;
  const template = { ...(data?.spec?.template ?? {}) };
  delete template.$patch;
  return template as PodTemplate;
}

/** ControllerRevisionName: "<owner>-<hash>", the owner part cut to 223 characters. */
export function revisionName(ownerName: string, hash: string): string {
  return `${ownerName.slice(0, 223)}-${hash}`;
}

export function sameRevisionData(a: ControllerRevision, b: unknown): boolean {
  return canonicalJson(a.data) === canonicalJson(b);
}

/** The owner's revisions from the informer, oldest revision number first. */
export function ownedRevisions(informer: Informer, owner: KubeObject): ControllerRevision[] {
  const uid = owner.metadata.uid;
  return (informer.inNamespace(owner.metadata.namespace ?? '') as ControllerRevision[])
    .filter((r) => controllerRefOf(r)?.uid === uid)
    .sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0) || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}

export interface RevisionOwner {
  owner: KubeObject;
  apiVersion: string;
  kind: string;
  /** the pod template labels, copied onto the revision */
  labels: Record<string, string>;
  collisionCount: number;
}

/**
 * The revision for the owner's current template: an equal existing one
 * (renumbered to be the newest when it is not), or a new one. Returns it with
 * the collision count used, which grows when a name is taken by other data.
 */
export async function ensureRevision(client: RestClient, existing: ControllerRevision[], o: RevisionOwner, data: unknown): Promise<{ revision: ControllerRevision; collisionCount: number }> {
  const namespace = o.owner.metadata.namespace ?? '';
  const next = existing.reduce((max, r) => Math.max(max, r.revision ?? 0), 0) + 1;
  const equal = existing.filter((r) => sameRevisionData(r, data));
  const newest = existing[existing.length - 1];
  const match = equal[equal.length - 1];
  if (match && newest && match === newest) return { revision: match, collisionCount: o.collisionCount };
  if (match) {
    const updated = await client.update<ControllerRevision>({ ...controllerRevisionsResource, namespace, name: match.metadata.name }, { ...match, revision: next });
    return { revision: updated, collisionCount: o.collisionCount };
  }
  let collisionCount = o.collisionCount;
  for (let attempt = 0; attempt < 100; attempt++) {
    const hash = hashRevisionData(data, collisionCount);
    const name = revisionName(o.owner.metadata.name ?? '', hash);
    const body: ControllerRevision = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name,
        namespace,
        labels: { ...o.labels, [revisionHashLabel]: hash },
        ownerReferences: [newControllerRef(o.owner, o.apiVersion, o.kind)],
      },
      data,
      revision: next,
    };
    try {
      const created = await client.create<ControllerRevision>({ ...controllerRevisionsResource, namespace }, body);
      return { revision: created, collisionCount };
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
      const found = await client.get<ControllerRevision>({ ...controllerRevisionsResource, namespace, name });
      if (controllerRefOf(found)?.uid === o.owner.metadata.uid && sameRevisionData(found, data)) return { revision: found, collisionCount };
      collisionCount++;
    }
  }
  throw new Error(`no free ControllerRevision name for ${namespace}/${o.owner.metadata.name}`);
}

/** Deletes the oldest revisions no live pod uses beyond the history limit. */
export async function truncateHistory(client: RestClient, revisions: ControllerRevision[], live: ReadonlySet<string>, limit: number): Promise<void> {
  const dead = revisions.filter((r) => !live.has(r.metadata.name ?? ''));
  const excess = dead.length - limit;
  for (let i = 0; i < excess; i++) {
    const r = dead[i]!;
    try {
      await client.delete({ ...controllerRevisionsResource, namespace: r.metadata.namespace, name: r.metadata.name });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }
}
