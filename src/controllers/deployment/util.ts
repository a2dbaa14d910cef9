// The arithmetic of Kubernetes' deployment controller (pkg/controller/deployment
// and its util package) as pure functions: surge and unavailability fences,
// revisions and their annotations, the pod-template-hash, proportional
// scaling, rolling-update steps, status and conditions.
import { apiTime } from '../../api/api-time.js';
import type { LabelSelector } from '../../api/labels/index.js';
import { cloneJson, isPlainObject, type KubeObject } from '../../api/object.js';
import { isZeroValue, semanticEqual } from '../../api/validation/index.js';

export type IntOrString = number | string;

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; [extra: string]: unknown };
  spec?: Record<string, unknown>;
  [extra: string]: unknown;
}

export interface DeploymentCondition {
  type: string;
  status: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  terminatingReplicas?: number;
  conditions?: DeploymentCondition[];
  collisionCount?: number;
}

export interface Deployment extends KubeObject {
  spec: {
    replicas?: number;
    selector?: LabelSelector;
    template?: PodTemplate;
    strategy?: { type?: string; rollingUpdate?: { maxSurge?: IntOrString; maxUnavailable?: IntOrString } };
    minReadySeconds?: number;
    revisionHistoryLimit?: number;
    paused?: boolean;
    progressDeadlineSeconds?: number;
  };
  status?: DeploymentStatus;
}

export interface ReplicaSetCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface ReplicaSet extends KubeObject {
  spec: { replicas?: number; minReadySeconds?: number; selector?: LabelSelector; template?: PodTemplate };
  status?: {
    replicas?: number;
    fullyLabeledReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    observedGeneration?: number;
    conditions?: ReplicaSetCondition[];
  };
}

export const revisionAnnotation = 'deployment.kubernetes.io/revision';
export const revisionHistoryAnnotation = 'deployment.kubernetes.io/revision-history';
export const desiredReplicasAnnotation = 'deployment.kubernetes.io/desired-replicas';
export const maxReplicasAnnotation = 'deployment.kubernetes.io/max-replicas';
export const rollbackToAnnotation = 'deprecated.deployment.rollback.to';
export const lastAppliedAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';
export const podTemplateHashLabel = 'pod-template-hash';
/** Kubernetes keeps revision-history annotations to about 100 entries. */
export const maxRevHistoryLengthInChars = 2000;

// Condition types and reasons (deploymentutil).
export const progressing = 'Progressing';
export const available = 'Available';
export const replicaFailure = 'ReplicaFailure';
export const replicaSetUpdatedReason = 'ReplicaSetUpdated';
export const failedRSCreateReason = 'ReplicaSetCreateError';
export const newReplicaSetReason = 'NewReplicaSetCreated';
export const foundNewRSReason = 'FoundNewReplicaSet';
export const newRSAvailableReason = 'NewReplicaSetAvailable';
export const timedOutReason = 'ProgressDeadlineExceeded';
export const pausedDeployReason = 'DeploymentPaused';
export const resumedDeployReason = 'DeploymentResumed';
export const minimumReplicasAvailable = 'MinimumReplicasAvailable';
export const minimumReplicasUnavailable = 'MinimumReplicasUnavailable';

const int32Max = 2147483647;

export const nowTime = apiTime;

export function replicasOf(obj: { spec?: { replicas?: number } } | undefined): number {
  return obj?.spec?.replicas ?? 1;
}

// ---------------------------------------------------------------- fences

/**
 * intstr.GetScaledValueFromIntOrPercent: an integer as is, "N%" of total
 * rounded up or down. Anything else throws as Kubernetes errors.
 */
export function scaledValue(v: IntOrString | undefined, total: number, roundUp: boolean): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (!v.endsWith('%')) throw new Error('invalid type: string is not a percentage');
  const digits = v.slice(0, -1);
  if (!/^[+-]?\d+$/.test(digits)) throw new Error(`invalid value "${v}": strconv.Atoi: parsing "${digits}": invalid syntax`);
  const pct = Number(digits);
  return roundUp ? Math.ceil((pct * total) / 100) : Math.floor((pct * total) / 100);
}

/**
 * ResolveFenceposts: maxSurge rounds up, maxUnavailable down; both zero
 * (after rounding) makes maxUnavailable 1.
 */
export function resolveFenceposts(maxSurge: IntOrString | undefined, maxUnavailable: IntOrString | undefined, desired: number): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge ?? 0, desired, true);
  let unavailable = scaledValue(maxUnavailable ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

export function maxSurge(d: Deployment): number {
  if (!isRollingUpdate(d)) return 0;
  const ru = d.spec.strategy?.rollingUpdate;
  return resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, replicasOf(d)).surge;
}

export function maxUnavailable(d: Deployment): number {
  const replicas = replicasOf(d);
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  const ru = d.spec.strategy?.rollingUpdate;
  const { unavailable } = resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, replicas);
  return Math.min(unavailable, replicas);
}

export function hasProgressDeadline(d: Deployment): boolean {
  const s = d.spec.progressDeadlineSeconds;
  return s !== undefined && s !== null && s !== int32Max;
}

export function hasRevisionHistoryLimit(d: Deployment): boolean {
  const l = d.spec.revisionHistoryLimit;
  return l !== undefined && l !== null && l !== int32Max;
}

// ---------------------------------------------------------------- revisions and annotations

/** The revision annotation as a number: 0 when absent, NaN when not an integer. */
export function revisionOf(obj: KubeObject | undefined): number {
  const v = obj?.metadata.annotations?.[revisionAnnotation];
  if (v === undefined) return 0;
  return /^[+-]?\d+$/.test(v) ? Number(v) : NaN;
}

export function maxRevision(rss: ReplicaSet[]): number {
  let max = 0;
  for (const rs of rss) {
    const v = revisionOf(rs);
    if (!Number.isNaN(v) && v > max) max = v;
  }
  return max;
}

/** LastRevision: the second highest revision. */
export function lastRevision(rss: ReplicaSet[]): number {
  let max = 0;
  let sec = 0;
  for (const rs of rss) {
    const v = revisionOf(rs);
    if (Number.isNaN(v)) continue;
    if (v >= max) {
      sec = max;
      max = v;
    } else if (v > sec) sec = v;
  }
  return sec;
}

const annotationsToSkip = new Set([lastAppliedAnnotation, revisionAnnotation, revisionHistoryAnnotation, desiredReplicasAnnotation, maxReplicasAnnotation, rollbackToAnnotation]);

export function skipCopyAnnotation(key: string): boolean {
  return annotationsToSkip.has(key);
}

function annotationsOf(obj: KubeObject): Record<string, string> {
  obj.metadata.annotations ??= {};
  return obj.metadata.annotations;
}

/** copyDeploymentAnnotationsToReplicaSet: the deployment's annotations, but the skipped ones, onto the replica set. */
export function copyDeploymentAnnotationsToReplicaSet(d: Deployment, rs: ReplicaSet): boolean {
  let changed = false;
  const rsAnn = annotationsOf(rs);
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (skipCopyAnnotation(k) || rsAnn[k] === v) continue;
    rsAnn[k] = v;
    changed = true;
  }
  return changed;
}

/** SetReplicasAnnotations: desired-replicas and max-replicas. */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const ann = annotationsOf(rs);
  let updated = false;
  if (ann[desiredReplicasAnnotation] !== String(desired)) {
    ann[desiredReplicasAnnotation] = String(desired);
    updated = true;
  }
  if (ann[maxReplicasAnnotation] !== String(max)) {
    ann[maxReplicasAnnotation] = String(max);
    updated = true;
  }
  return updated;
}

export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  const ann = rs.metadata.annotations;
  if (!ann) return true;
  return ann[desiredReplicasAnnotation] !== String(desired) || ann[maxReplicasAnnotation] !== String(max);
}

/**
 * SetNewReplicaSetAnnotations: copies the deployment's annotations, raises
 * the revision to newRevision (keeping the old one in revision-history when a
 * replica set comes back into use) and, for a replica set about to be
 * created, sets the replicas annotations. Returns whether anything changed.
 */
export function setNewReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, newRevision: string, exists: boolean, revHistoryLimitInChars = maxRevHistoryLengthInChars): boolean {
  let changed = copyDeploymentAnnotationsToReplicaSet(d, rs);
  const ann = annotationsOf(rs);
  const hadRevision = Object.prototype.hasOwnProperty.call(ann, revisionAnnotation);
  const oldRevision = ann[revisionAnnotation] ?? '';
  let oldRevisionInt = 0;
  if (oldRevision !== '') {
    if (!/^[+-]?\d+$/.test(oldRevision)) return false;
    oldRevisionInt = Number(oldRevision);
  }
  if (!/^[+-]?\d+$/.test(newRevision)) return false;
  const newRevisionInt = Number(newRevision);
  if (oldRevisionInt < newRevisionInt) {
    ann[revisionAnnotation] = newRevision;
    changed = true;
  }
  if (hadRevision && oldRevisionInt < newRevisionInt) {
    const history = ann[revisionHistoryAnnotation] ?? '';
    const oldRevisions = history.split(',');
    if (oldRevisions[0]!.length === 0) {
      ann[revisionHistoryAnnotation] = oldRevision;
    } else {
      let totalLen = history.length + oldRevision.length + 1;
      let start = 0;
      while (totalLen > revHistoryLimitInChars && start < oldRevisions.length) {
        totalLen = totalLen - oldRevisions[start]!.length - 1;
        start++;
      }
      if (totalLen <= revHistoryLimitInChars) ann[revisionHistoryAnnotation] = [...oldRevisions.slice(start), oldRevision].join(',');
    }
  }
  if (!exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
  return changed;
}

/** SetDeploymentRevision. */
export function setDeploymentRevision(d: Deployment, revision: string): boolean {
  const ann = annotationsOf(d);
  if (ann[revisionAnnotation] === revision) return false;
  ann[revisionAnnotation] = revision;
  return true;
}

/** The annotations kubectl rollout undo gives a deployment rolled back to rs (the deployment's skipped ones, the replica set's others). */
export function rollbackAnnotations(d: Deployment, rs: ReplicaSet): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) if (skipCopyAnnotation(k)) out[k] = v;
  for (const [k, v] of Object.entries(rs.metadata.annotations ?? {})) if (!skipCopyAnnotation(k)) out[k] = v;
  return out;
}

// ---------------------------------------------------------------- templates and the hash

/**
 * A canonical form of a JSON value: object keys sorted, zero values (absent,
 * null, "", 0, false, empty lists and maps) left out, as Go's semantic
 * equality sees no difference between them.
 */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => (isZeroValue(x) ? 'null' : canonicalJson(x))).join(',')}]`;
  if (isPlainObject(v)) {
    const keys = Object.keys(v)
      .filter((k) => !isZeroValue(v[k]))
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** FNV-1a, 32 bits. */
export function fnv32a(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const alphanums = 'bcdfghjklmnpqrstvwxz2456789';

/** rand.SafeEncodeString: each byte mapped onto consonants and digits (no vowels, no 0/1/3). */
export function safeEncodeString(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += alphanums[b % alphanums.length];
  return out;
}

/**
 * controller.ComputeHash: FNV-32a of the pod template, then of collisionCount
 * as 8 little-endian bytes when set, printed in decimal and safe-encoded.
 * Kubernetes hashes the Go struct dump of the template; Nami hashes its
 * canonical JSON instead (sorted keys, zero values left out), so the values
 * differ from a Kubernetes cluster's but are as stable: the same template
 * always gives the same hash, and any real change gives another.
 */
export function computeHash(template: PodTemplate | undefined, collisionCount?: number): string {
  let h = fnv32a(Buffer.from(canonicalJson(template ?? {}), 'utf8'));
  if (collisionCount !== undefined && collisionCount !== null) {
    const bytes = Buffer.alloc(8);
    bytes.writeUInt32LE(collisionCount >>> 0, 0);
    h = fnv32a(bytes, h);
  }
  return safeEncodeString(String(h));
}

function withoutHash(t: PodTemplate | undefined): PodTemplate {
  const copy = cloneJson(t ?? {});
  if (copy.metadata?.labels) delete copy.metadata.labels[podTemplateHashLabel];
  return copy;
}

/** EqualIgnoreHash: the templates are semantically equal apart from the pod-template-hash label. */
export function equalIgnoreHash(a: PodTemplate | undefined, b: PodTemplate | undefined): boolean {
  return semanticEqual(withoutHash(a), withoutHash(b));
}

// ---------------------------------------------------------------- replica set lists

function createdMs(obj: KubeObject): number {
  const t = obj.metadata.creationTimestamp ? Date.parse(obj.metadata.creationTimestamp) : NaN;
  return Number.isNaN(t) ? 0 : t;
}

/** ReplicaSetsByCreationTimestamp: oldest first, then by name. */
export function byCreationTimestamp(a: KubeObject, b: KubeObject): number {
  const ta = createdMs(a);
  const tb = createdMs(b);
  if (ta === tb) return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : (a.metadata.name ?? '') > (b.metadata.name ?? '') ? 1 : 0;
  return ta - tb;
}

/** ReplicaSetsBySizeOlder: larger first, older first among equals. */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  if (replicasOf(a) === replicasOf(b)) return byCreationTimestamp(a, b);
  return replicasOf(b) - replicasOf(a);
}

/** ReplicaSetsBySizeNewer: larger first, newer first among equals. */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  if (replicasOf(a) === replicasOf(b)) return byCreationTimestamp(b, a);
  return replicasOf(b) - replicasOf(a);
}

/** ReplicaSetsByRevision: lower revision first; unparsable or equal revisions by creation. */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  const ra = revisionOf(a);
  const rb = revisionOf(b);
  if (Number.isNaN(ra) || Number.isNaN(rb) || ra === rb) return byCreationTimestamp(a, b);
  return ra - rb;
}

/** FindNewReplicaSet: the oldest replica set whose template equals the deployment's. */
export function findNewReplicaSet(d: Deployment, rsList: ReplicaSet[]): ReplicaSet | undefined {
  return [...rsList].sort(byCreationTimestamp).find((rs) => equalIgnoreHash(rs.spec.template, d.spec.template));
}

/** FindOldReplicaSets: [old replica sets with replicas, all old replica sets]. */
export function findOldReplicaSets(d: Deployment, rsList: ReplicaSet[]): { withReplicas: ReplicaSet[]; all: ReplicaSet[] } {
  const newRS = findNewReplicaSet(d, rsList);
  const all = rsList.filter((rs) => !newRS || rs.metadata.uid !== newRS.metadata.uid);
  return { withReplicas: all.filter((rs) => replicasOf(rs) !== 0), all };
}

export function filterActive(rss: (ReplicaSet | undefined)[]): ReplicaSet[] {
  return rss.filter((rs): rs is ReplicaSet => rs !== undefined && replicasOf(rs) > 0);
}

export function sumReplicas(rss: (ReplicaSet | undefined)[]): number {
  return rss.reduce((n, rs) => n + (rs ? replicasOf(rs) : 0), 0);
}

export function sumStatus(rss: (ReplicaSet | undefined)[], field: 'replicas' | 'readyReplicas' | 'availableReplicas'): number {
  return rss.reduce((n, rs) => n + (rs?.status?.[field] ?? 0), 0);
}

/** FindActiveOrLatest: the only active replica set, the newest if none is active, undefined if several are. */
export function findActiveOrLatest(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): ReplicaSet | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const sortedOld = [...oldRSs].sort((a, b) => byCreationTimestamp(b, a));
  const active = filterActive([...sortedOld, newRS]);
  if (active.length === 0) return newRS ?? sortedOld[0];
  if (active.length === 1) return active[0];
  return undefined;
}

/** IsSaturated: the new replica set has, wants and has available all the deployment's replicas. */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const desired = rs.metadata.annotations?.[desiredReplicasAnnotation];
  if (desired === undefined || !/^[+-]?\d+$/.test(desired)) return false;
  const replicas = replicasOf(d);
  return replicasOf(rs) === replicas && Number(desired) === replicas && (rs.status?.availableReplicas ?? 0) === replicas;
}

// ---------------------------------------------------------------- scaling

/** Go's math.Round (half away from zero) to an int32. */
function roundToInt32(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

function annotationInt(rs: ReplicaSet, key: string): number | undefined {
  const v = rs.metadata.annotations?.[key];
  return v !== undefined && /^[+-]?\d+$/.test(v) ? Number(v) : undefined;
}

/** getReplicaSetFraction: how many replicas this replica set gains or loses in a proportional scale. */
export function replicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  if (replicasOf(d) === 0) return -replicasOf(rs);
  const deploymentReplicas = replicasOf(d) + maxSurge(d);
  const annotated = annotationInt(rs, maxReplicasAnnotation) ?? d.status?.replicas ?? 0;
  if (annotated === 0) return 0;
  return roundToInt32((replicasOf(rs) * deploymentReplicas) / annotated) - replicasOf(rs);
}

/** GetProportion, bounded by what is left to add (or remove). */
export function getProportion(rs: ReplicaSet | undefined, d: Deployment, toAdd: number, added: number): number {
  if (!rs || replicasOf(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

export interface ScaleStep {
  rs: ReplicaSet;
  replicas: number;
  /** Write even when the size is unchanged (the replicas annotations may need it). */
  always: boolean;
  operation?: 'up' | 'down';
}

/**
 * dc.scale's decisions: scale the only active (or latest) replica set to the
 * deployment's size; with a saturated new replica set scale the old ones to
 * zero; otherwise, for rolling updates, share what is to be added or removed
 * among the active replica sets in proportion to their sizes.
 */
export function planScale(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): ScaleStep[] {
  const replicas = replicasOf(d);
  const activeOrLatest = findActiveOrLatest(newRS, oldRSs);
  if (activeOrLatest) {
    if (replicasOf(activeOrLatest) === replicas) return [];
    return [{ rs: activeOrLatest, replicas, always: false }];
  }
  if (isSaturated(d, newRS)) return filterActive(oldRSs).map((rs) => ({ rs, replicas: 0, always: false }));
  if (!isRollingUpdate(d)) return [];
  const all = filterActive([...oldRSs, newRS]);
  const allReplicas = sumReplicas(all);
  const allowedSize = replicas > 0 ? replicas + maxSurge(d) : 0;
  const toAdd = allowedSize - allReplicas;
  let operation: 'up' | 'down' | undefined;
  if (toAdd > 0) {
    all.sort(bySizeNewer);
    operation = 'up';
  } else if (toAdd < 0) {
    all.sort(bySizeOlder);
    operation = 'down';
  }
  let added = 0;
  const sizes = new Map<ReplicaSet, number>();
  for (const rs of all) {
    if (toAdd !== 0) {
      const proportion = getProportion(rs, d, toAdd, added);
      sizes.set(rs, replicasOf(rs) + proportion);
      added += proportion;
    } else sizes.set(rs, replicasOf(rs));
  }
  return all.map((rs, i) => {
    let size = sizes.get(rs)!;
    if (i === 0 && toAdd !== 0) size = Math.max(0, size + toAdd - added);
    return { rs, replicas: size, always: true, operation };
  });
}

/**
 * NewRSNewReplicas: the new replica set's next size, as far as maxSurge
 * lets it grow (rolling update), or the full size (recreate).
 */
export function newRSNewReplicas(d: Deployment, allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet): number {
  if (isRollingUpdate(d)) {
    const surge = scaledValue(d.spec.strategy?.rollingUpdate?.maxSurge ?? 0, replicasOf(d), true);
    const current = sumReplicas(allRSs);
    const maxTotal = replicasOf(d) + surge;
    if (current >= maxTotal) return replicasOf(newRS);
    const scaleUp = Math.min(maxTotal - current, replicasOf(d) - replicasOf(newRS));
    return replicasOf(newRS) + scaleUp;
  }
  if (d.spec.strategy?.type === 'Recreate') return replicasOf(d);
  throw new Error(`deployment type ${d.spec.strategy?.type} isn't supported`);
}

/** reconcileNewReplicaSet's target for the new replica set, undefined when it needs no scaling. */
export function rollingNewReplicaSetTarget(d: Deployment, allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet): number | undefined {
  const replicas = replicasOf(d);
  if (replicasOf(newRS) === replicas) return undefined;
  if (replicasOf(newRS) > replicas) return replicas;
  return newRSNewReplicas(d, allRSs, newRS);
}

/**
 * reconcileOldReplicaSets' decisions: first scale away old replicas that are
 * not available (cleanupUnhealthyReplicas), then scale old replica sets down
 * while more than minAvailable replicas stay available
 * (scaleDownOldReplicaSetsForRollingUpdate). Each step is {rs, replicas}.
 */
export function planOldScaleDown(d: Deployment, allRSs: (ReplicaSet | undefined)[], activeOldRSs: ReplicaSet[], newRS: ReplicaSet): { cleanup: ScaleStep[]; scaleDown: ScaleStep[] } {
  const none = { cleanup: [], scaleDown: [] };
  const oldPods = sumReplicas(activeOldRSs);
  if (oldPods === 0) return none;
  const allPods = sumReplicas(allRSs);
  const minAvailable = replicasOf(d) - maxUnavailable(d);
  const newUnavailable = replicasOf(newRS) - (newRS.status?.availableReplicas ?? 0);
  const maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return none;

  const olds = [...activeOldRSs].sort(byCreationTimestamp).map((rs) => ({ rs, replicas: replicasOf(rs) }));
  const cleanup: ScaleStep[] = [];
  let cleaned = 0;
  for (const o of olds) {
    if (cleaned >= maxScaledDown) break;
    if (o.replicas === 0) continue;
    const availableHere = o.rs.status?.availableReplicas ?? 0;
    if (o.replicas === availableHere) continue;
    const count = Math.min(maxScaledDown - cleaned, o.replicas - availableHere);
    o.replicas -= count;
    cleaned += count;
    cleanup.push({ rs: o.rs, replicas: o.replicas, always: false });
  }

  // scaleDownOldReplicaSetsForRollingUpdate, on the sizes after the cleanup.
  const scaleDown: ScaleStep[] = [];
  const availablePods = olds.reduce((n, o) => n + (o.rs.status?.availableReplicas ?? 0), 0) + (newRS.status?.availableReplicas ?? 0);
  if (availablePods > minAvailable) {
    const total = availablePods - minAvailable;
    let scaled = 0;
    for (const o of olds) {
      if (scaled >= total) break;
      if (o.replicas === 0) continue;
      const count = Math.min(o.replicas, total - scaled);
      o.replicas -= count;
      scaled += count;
      scaleDown.push({ rs: o.rs, replicas: o.replicas, always: false });
    }
  }
  return { cleanup, scaleDown };
}

// ---------------------------------------------------------------- status and conditions

export function getCondition(status: DeploymentStatus | undefined, type: string): DeploymentCondition | undefined {
  return (status?.conditions ?? []).find((c) => c.type === type);
}

export function newCondition(type: string, status: string, reason: string, message: string, nowMs: number): DeploymentCondition {
  const t = nowTime(nowMs);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

/** SetDeploymentCondition: no change for the same status and reason; the transition time kept while the status stays. */
export function setCondition(status: DeploymentStatus, condition: DeploymentCondition): void {
  const current = getCondition(status, condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason) return;
  const next = { ...condition };
  if (current && current.status === condition.status) next.lastTransitionTime = current.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== condition.type), next];
}

export function removeCondition(status: DeploymentStatus, type: string): void {
  const rest = (status.conditions ?? []).filter((c) => c.type !== type);
  if (rest.length > 0) status.conditions = rest;
  else delete status.conditions;
}

/** Go's omitempty for the status counters. */
function omitZeros(status: DeploymentStatus): DeploymentStatus {
  const out: DeploymentStatus = {};
  for (const [k, v] of Object.entries(status) as [keyof DeploymentStatus, unknown][]) {
    if (v === undefined || v === null) continue;
    if (k === 'collisionCount') {
      out[k] = v as number;
      continue;
    }
    if (v === 0) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/** calculateStatus: counts from the replica sets and the Available condition. */
export function calculateStatus(allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, d: Deployment, nowMs: number): DeploymentStatus {
  const availableReplicas = sumStatus(allRSs, 'availableReplicas');
  const totalReplicas = sumReplicas(allRSs);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation ?? 0,
    replicas: sumStatus(allRSs, 'replicas'),
    updatedReplicas: sumStatus([newRS], 'replicas'),
    readyReplicas: sumStatus(allRSs, 'readyReplicas'),
    availableReplicas,
    unavailableReplicas: Math.max(0, totalReplicas - availableReplicas),
    collisionCount: d.status?.collisionCount,
  };
  const conditions = (d.status?.conditions ?? []).map((c) => ({ ...c }));
  if (conditions.length > 0) status.conditions = conditions;
  if (availableReplicas >= replicasOf(d) - maxUnavailable(d)) {
    setCondition(status, newCondition(available, 'True', minimumReplicasAvailable, 'Deployment has minimum availability.', nowMs));
  } else {
    setCondition(status, newCondition(available, 'False', minimumReplicasUnavailable, 'Deployment does not have minimum availability.', nowMs));
  }
  return omitZeros(status);
}

/** DeploymentComplete: all replicas updated and available, nothing old left, the generation observed. */
export function deploymentComplete(d: Deployment, s: DeploymentStatus): boolean {
  const replicas = replicasOf(d);
  return (s.updatedReplicas ?? 0) === replicas && (s.replicas ?? 0) === replicas && (s.availableReplicas ?? 0) === replicas && (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

/** DeploymentProgressing: more updated, ready or available replicas, or fewer old ones, than before. */
export function deploymentProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (
    (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/** DeploymentTimedOut: the last progress (Progressing's lastUpdateTime) is older than progressDeadlineSeconds. */
export function deploymentTimedOut(d: Deployment, s: DeploymentStatus, nowMs: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const cond = getCondition(s, progressing);
  if (!cond) return false;
  if (cond.reason === newRSAvailableReason) return false;
  if (cond.reason === timedOutReason) return true;
  const from = cond.lastUpdateTime ? Date.parse(cond.lastUpdateTime) : NaN;
  if (Number.isNaN(from)) return false;
  return from + (d.spec.progressDeadlineSeconds ?? 0) * 1000 < nowMs;
}

/** ReplicaSetToDeploymentCondition for the ReplicaFailure conditions, the new replica set's first. */
function replicaFailures(allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): DeploymentCondition[] {
  const convert = (c: ReplicaSetCondition): DeploymentCondition => ({
    type: c.type,
    status: c.status,
    lastUpdateTime: c.lastTransitionTime,
    lastTransitionTime: c.lastTransitionTime,
    reason: c.reason,
    message: c.message,
  });
  const fromNew = (newRS?.status?.conditions ?? []).filter((c) => c.type === replicaFailure).map(convert);
  if (fromNew.length > 0) return fromNew;
  return allRSs.flatMap((rs) => (rs?.status?.conditions ?? []).filter((c) => c.type === replicaFailure).map(convert));
}

/**
 * syncRolloutStatus's status: calculateStatus plus the Progressing condition
 * (NewReplicaSetAvailable, ReplicaSetUpdated or ProgressDeadlineExceeded)
 * and the ReplicaFailure condition promoted from the replica sets.
 */
export function rolloutStatus(allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, d: Deployment, nowMs: number): DeploymentStatus {
  const s = calculateStatus(allRSs, newRS, d, nowMs);
  if (!hasProgressDeadline(d)) removeCondition(s, progressing);
  const current = getCondition(d.status, progressing);
  const isComplete = (s.replicas ?? 0) === (s.updatedReplicas ?? 0) && current?.reason === newRSAvailableReason;
  if (hasProgressDeadline(d) && !isComplete) {
    if (deploymentComplete(d, s)) {
      const msg = newRS ? `ReplicaSet "${newRS.metadata.name}" has successfully progressed.` : `Deployment "${d.metadata.name}" has successfully progressed.`;
      setCondition(s, newCondition(progressing, 'True', newRSAvailableReason, msg, nowMs));
    } else if (deploymentProgressing(d, s)) {
      const msg = newRS ? `ReplicaSet "${newRS.metadata.name}" is progressing.` : `Deployment "${d.metadata.name}" is progressing.`;
      const cond = newCondition(progressing, 'True', replicaSetUpdatedReason, msg, nowMs);
      // Progress moves lastUpdateTime even with the same reason; the transition time stays while True.
      if (current) {
        if (current.status === 'True') cond.lastTransitionTime = current.lastTransitionTime;
        removeCondition(s, progressing);
      }
      setCondition(s, cond);
    } else if (deploymentTimedOut(d, s, nowMs)) {
      const msg = newRS ? `ReplicaSet "${newRS.metadata.name}" has timed out progressing.` : `Deployment "${d.metadata.name}" has timed out progressing.`;
      setCondition(s, newCondition(progressing, 'False', timedOutReason, msg, nowMs));
    }
  }
  const failures = replicaFailures(allRSs, newRS);
  if (failures.length > 0) setCondition(s, failures[0]!);
  else removeCondition(s, replicaFailure);
  return s;
}

/** requeueStuckDeployment: in how many ms to look again for a progress deadline, or -1 for never. */
export function progressCheckAfterMs(d: Deployment, s: DeploymentStatus, nowMs: number): number {
  const current = getCondition(d.status, progressing);
  if (!hasProgressDeadline(d) || !current) return -1;
  if (deploymentComplete(d, s) || current.reason === timedOutReason) return -1;
  const last = current.lastUpdateTime ? Date.parse(current.lastUpdateTime) : NaN;
  if (Number.isNaN(last)) return -1;
  const after = last + (d.spec.progressDeadlineSeconds ?? 0) * 1000 - nowMs;
  // Within a second of the deadline: look again shortly (Kubernetes requeues rate-limited).
  if (after < 1000) return Math.max(after, 0) + 100;
  // A second more absorbs the seconds-only timestamps.
  return after + 1000;
}

/** Whether two statuses are the same as Go's DeepEqual on the decoded structs would find them. */
export function sameStatus(a: DeploymentStatus | undefined, b: DeploymentStatus | undefined): boolean {
  return semanticEqual(a ?? {}, b ?? {});
}
