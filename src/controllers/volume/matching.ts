// Which PersistentVolume a PersistentVolumeClaim binds to (Kubernetes'
// pvutil.FindMatchingVolume and checkVolumeSatisfyClaim): same storage class,
// every requested access mode, the same volume mode, capacity at least the
// request, labels matching the claim's selector, and for a claim waiting for
// its first consumer, node affinity admitting the selected node; of those
// the smallest, preferring volumes with fewer access modes. Pure functions.
import type { KubeObject } from '../../api/object.js';
import { selectorFromLabelSelector, type LabelSelector } from '../../api/labels/index.js';
import { Quantity } from '../../api/quantity.js';
import { NodeSelectorMatcher, type NodeSelectorTerm } from '../../api/scheduling/index.js';

export const betaStorageClassAnnotation = 'volume.beta.kubernetes.io/storage-class';
export const annBindCompleted = 'pv.kubernetes.io/bind-completed';
export const annBoundByController = 'pv.kubernetes.io/bound-by-controller';
export const annProvisionedBy = 'pv.kubernetes.io/provisioned-by';
export const annSelectedNode = 'volume.kubernetes.io/selected-node';
export const annStorageProvisioner = 'volume.kubernetes.io/storage-provisioner';
export const annBetaStorageProvisioner = 'volume.beta.kubernetes.io/storage-provisioner';

export interface ClaimRef {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
}


export interface VolumeSpec {
  capacity?: Record<string, string>;
  accessModes?: string[];
  storageClassName?: string;
  claimRef?: ClaimRef | null;
  persistentVolumeReclaimPolicy?: string;
  volumeMode?: string;
  nodeAffinity?: { required?: { nodeSelectorTerms?: NodeSelectorTerm[] } };
  mountOptions?: string[];
  local?: { path: string };
  hostPath?: { path: string; type?: string };
}

export type PersistentVolume = KubeObject & {
  spec?: VolumeSpec;
  status?: { phase?: string; message?: string; reason?: string; lastPhaseTransitionTime?: string };
};

export interface ClaimSpec {
  accessModes?: string[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  storageClassName?: string | null;
  selector?: LabelSelector | null;
  volumeName?: string;
  volumeMode?: string;
}

export type PersistentVolumeClaim = KubeObject & {
  spec?: ClaimSpec;
  status?: { phase?: string; accessModes?: string[]; capacity?: Record<string, string> };
};

export interface NodeInfo {
  name: string;
  labels: Record<string, string>;
}

/** storagehelpers.GetPersistentVolumeClaimClass: the beta annotation wins over spec.storageClassName. */
export function claimClass(claim: PersistentVolumeClaim): string {
  const beta = claim.metadata.annotations?.[betaStorageClassAnnotation];
  if (beta !== undefined) return beta;
  return claim.spec?.storageClassName ?? '';
}

/** storagehelpers.GetPersistentVolumeClass. */
export function volumeClass(volume: PersistentVolume): string {
  const beta = volume.metadata.annotations?.[betaStorageClassAnnotation];
  if (beta !== undefined) return beta;
  return volume.spec?.storageClassName ?? '';
}

/** The claim's storage request, zero when it asks for none. */
export function claimRequest(claim: PersistentVolumeClaim): Quantity {
  return Quantity.tryParse(claim.spec?.resources?.requests?.storage) ?? Quantity.zero();
}

export function volumeCapacity(volume: PersistentVolume): Quantity {
  return Quantity.tryParse(volume.spec?.capacity?.storage) ?? Quantity.zero();
}

/** reference.GetReference(claim): the claimRef a volume bound to the claim carries. */
export function claimRefTo(claim: PersistentVolumeClaim): ClaimRef {
  return {
    kind: 'PersistentVolumeClaim',
    namespace: claim.metadata.namespace,
    name: claim.metadata.name,
    uid: claim.metadata.uid,
    apiVersion: 'v1',
    resourceVersion: claim.metadata.resourceVersion,
  };
}

/** pvutil.IsVolumeBoundToClaim: the claimRef names the claim (and its uid, when it has one). */
export function isVolumeBoundToClaim(volume: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  const ref = volume.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== claim.metadata.name || ref.namespace !== claim.metadata.namespace) return false;
  if (ref.uid && ref.uid !== claim.metadata.uid) return false;
  return true;
}

function volumeModeMismatch(volume: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  return (claim.spec?.volumeMode || 'Filesystem') !== (volume.spec?.volumeMode || 'Filesystem');
}

function accessModesFit(volume: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  const offered = new Set(volume.spec?.accessModes ?? []);
  return (claim.spec?.accessModes ?? []).every((m) => offered.has(m));
}

/** checkVolumeSatisfyClaim: why a volume the claim names cannot serve it, or undefined when it can. */
export function volumeMismatch(volume: PersistentVolume, claim: PersistentVolumeClaim): string | undefined {
  if (volume.metadata.deletionTimestamp) return `the volume is marked for deletion "${volume.metadata.name}"`;
  if (volumeCapacity(volume).value() < claimRequest(claim).value()) return 'requested PV is too small';
  if (volumeClass(volume) !== claimClass(claim)) return 'storageClassName does not match';
  if (volumeModeMismatch(volume, claim)) return 'incompatible volumeMode';
  if (!accessModesFit(volume, claim)) return 'incompatible accessMode';
  return undefined;
}

/** v1helper.MatchNodeSelectorTerms (the scheduler's shared rule): terms ORed, requirements ANDed, an empty term matches nothing. */
export function nodeMatchesTerms(terms: NodeSelectorTerm[], node: NodeInfo): boolean {
  return new NodeSelectorMatcher(terms).matches(node.labels, node.name);
}

/** volumeutil.CheckNodeAffinity: a volume without required node affinity fits every node. */
export function volumeFitsNode(volume: PersistentVolume, node: NodeInfo): boolean {
  const terms = volume.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  if (!terms) return true;
  return nodeMatchesTerms(terms, node);
}

export interface MatchOptions {
  /** The claim's class binds volumes only once a pod using it is scheduled (WaitForFirstConsumer). */
  delayBinding: boolean;
  /** The node the scheduler chose for the claim's first consumer (volume.kubernetes.io/selected-node). */
  node?: NodeInfo;
}

/**
 * findBestMatchForClaim. A volume pre-bound to the claim (claimRef naming it)
 * is taken as long as it fits the node. A claim waiting for its first consumer
 * with no node chosen yet binds nothing else; once the scheduler has chosen a
 * node, available volumes whose node affinity admits it are candidates too.
 */
export function findBestMatch(claim: PersistentVolumeClaim, volumes: PersistentVolume[], opts: MatchOptions): PersistentVolume | undefined {
  const request = claimRequest(claim);
  const requestedClass = claimClass(claim);
  const selector = claim.spec?.selector ? selectorFromLabelSelector(claim.spec.selector) : undefined;
  let best: PersistentVolume | undefined;
  let bestModes = Infinity;
  let bestCapacity: Quantity | undefined;
  const sorted = [...volumes].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
  for (const volume of sorted) {
    if (volume.metadata.deletionTimestamp) continue;
    if (volumeModeMismatch(volume, claim)) continue;
    const fitsNode = opts.node ? volumeFitsNode(volume, opts.node) : true;
    if (isVolumeBoundToClaim(volume, claim)) return fitsNode ? volume : undefined;
    if (opts.delayBinding && !opts.node) continue;
    if (volume.status?.phase !== 'Available') continue;
    if (volume.spec?.claimRef) continue;
    if (selector && !selector.matches(volume.metadata.labels ?? {})) continue;
    if (volumeClass(volume) !== requestedClass) continue;
    if (!fitsNode) continue;
    if (!accessModesFit(volume, claim)) continue;
    const capacity = volumeCapacity(volume);
    if (capacity.cmp(request) < 0) continue;
    const modes = (volume.spec?.accessModes ?? []).length;
    if (!best || modes < bestModes || (modes === bestModes && bestCapacity!.cmp(capacity) > 0)) {
      best = volume;
      bestModes = modes;
      bestCapacity = capacity;
    }
  }
  return best;
}
