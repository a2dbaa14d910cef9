// The persistent volume controller (Kubernetes' pkg/controller/volume/
// persistentvolume) with a local-path dynamic provisioner and a default
// StorageClass:
//   - claims bind to the best matching volume (see matching.ts); the volume
//     gets spec.claimRef and phase Bound, the claim spec.volumeName, the
//     annotations pv.kubernetes.io/bind-completed and bound-by-controller,
//     phase Bound, capacity and accessModes;
//   - a claim without storageClassName gets the default class
//     (retroactive default StorageClass assignment);
//   - claims of a class whose provisioner is nami.dev/local-path get a volume
//     made for them (see local-path.ts); other provisioners are waited for;
//   - a volume whose claim is gone turns Released and, with reclaim policy
//     Delete, is deleted when the local-path provisioner made it;
//   - when no StorageClass is the default, `local-path` is created.
// Not done: the pv/pvc-protection finalizers, Recycle, volume expansion,
// and the scheduler side of WaitForFirstConsumer (choosing the node).
import { apiTime } from '../../api/api-time.js';
import { ApiError } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import { semanticEqual } from '../../api/validation/index.js';
import { EventRecorder } from '../../client/events.js';
import { rvAtLeast, type Informer, type InformerFactory } from '../../client/informer.js';
import {
  defaultClass,
  defaultLocalPathBaseDir,
  hostnameLabel,
  localPathProvisioner,
  localPathStorageClass,
  provisionedVolume,
  provisionedVolumeName,
  type StorageClass,
} from './local-path.js';
import {
  annBetaStorageProvisioner,
  annBindCompleted,
  annBoundByController,
  annProvisionedBy,
  annSelectedNode,
  annStorageProvisioner,
  betaStorageClassAnnotation,
  claimClass,
  claimRefTo,
  findBestMatch,
  isVolumeBoundToClaim,
  volumeMismatch,
  type NodeInfo,
  type PersistentVolume,
  type PersistentVolumeClaim,
} from './matching.js';
import { nodesResource } from '../../client/core-resources.js';
import { QueueController, type QueueControllerOptions } from '../queue-controller.js';

const pvResource = { group: '', version: 'v1', plural: 'persistentvolumes' };
const pvcResource = { group: '', version: 'v1', plural: 'persistentvolumeclaims' };
const scResource = { group: 'storage.k8s.io', version: 'v1', plural: 'storageclasses' };

export interface VolumeControllerOptions extends QueueControllerOptions {
  /** Where local-path volumes live on their node (/var/lib/nami/local-path). */
  localPathBaseDir?: string;
  /** Create the `local-path` StorageClass when no class is the default (true). */
  createDefaultStorageClass?: boolean;
}

const claimKeyPrefix = 'claim:';
const volumeKeyPrefix = 'volume:';
const classKey = 'default-class';

/** How long a write of ours may take to show in the informer before we stop waiting for it. */
const staleCacheLimitMs = 30_000;

const nowTimestamp = (): string => apiTime();

const claimRef = (claim: KubeObject): KubeObject => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: claim.metadata });
const volumeRef = (volume: KubeObject): KubeObject => ({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: volume.metadata });

export class VolumeController extends QueueController {
  private readonly volumes: Informer;
  private readonly claims: Informer;
  private readonly classes: Informer;
  private readonly nodes: Informer;
  private readonly events: EventRecorder;
  private readonly baseDir: string;
  /** Our writes the informers may not show yet, by queue key: resourceVersion written, or null for deleted. */
  private readonly written = new Map<string, { rv: string | null; since: number }>();

  constructor(
    factory: InformerFactory,
    private readonly opts: VolumeControllerOptions = {},
  ) {
    // One worker by default: a claim's and its volume's syncs write the same objects.
    super(factory, opts, 1);
    this.baseDir = opts.localPathBaseDir ?? defaultLocalPathBaseDir;
    this.events = new EventRecorder(this.client, 'persistentvolume-controller');
    this.volumes = this.informer(pvResource);
    this.claims = this.informer(pvcResource);
    this.classes = this.informer(scResource);
    this.nodes = this.informer(nodesResource);

    const enqueueClaim = (claim: KubeObject) => this.queue.add(`${claimKeyPrefix}${claim.metadata.namespace}/${claim.metadata.name}`);
    const enqueueVolume = (volume: KubeObject) => this.queue.add(`${volumeKeyPrefix}${volume.metadata.name}`);
    const enqueueBoundVolume = (claim: KubeObject) => {
      const name = (claim as PersistentVolumeClaim).spec?.volumeName;
      if (name) this.queue.add(`${volumeKeyPrefix}${name}`);
    };
    const enqueueRefClaim = (volume: KubeObject) => {
      const ref = (volume as PersistentVolume).spec?.claimRef;
      if (ref?.name) this.queue.add(`${claimKeyPrefix}${ref.namespace}/${ref.name}`);
    };
    this.claims.on({
      add: enqueueClaim,
      update: (_old, claim) => enqueueClaim(claim),
      // The claim's volume is released.
      delete: (claim) => enqueueBoundVolume(claim),
    });
    const volumeChanged = (volume: KubeObject) => {
      enqueueVolume(volume);
      enqueueRefClaim(volume);
      // A volume that became available may be what a pending claim waits for.
      if ((volume as PersistentVolume).status?.phase === 'Available') this.enqueuePendingClaims();
    };
    this.volumes.on({ add: volumeChanged, update: (_old, v) => volumeChanged(v), delete: (v) => enqueueRefClaim(v) });
    const classChanged = () => {
      this.queue.add(classKey);
      this.enqueuePendingClaims();
    };
    this.classes.on({ add: classChanged, update: classChanged, delete: classChanged });
  }

  override async start(): Promise<void> {
    await super.start();
    this.queue.add(classKey);
  }

  private enqueuePendingClaims(): void {
    for (const c of this.claims.list() as PersistentVolumeClaim[]) {
      if (!c.metadata.annotations?.[annBindCompleted]) this.queue.add(`${claimKeyPrefix}${c.metadata.namespace}/${c.metadata.name}`);
    }
  }

  async sync(key: string): Promise<void> {
    if (key === classKey) return this.syncDefaultClass();
    if (!this.cacheCaughtUp()) {
      this.queue.addAfter(key, 50);
      return;
    }
    if (key.startsWith(claimKeyPrefix)) {
      const claim = this.claims.get(key.slice(claimKeyPrefix.length)) as PersistentVolumeClaim | undefined;
      if (claim) await this.syncClaim(claim);
      return;
    }
    if (key.startsWith(volumeKeyPrefix)) {
      const volume = this.volumes.get(key.slice(volumeKeyPrefix.length)) as PersistentVolume | undefined;
      if (volume) await this.syncVolume(volume);
    }
  }

  // ---- the default StorageClass ----

  private async syncDefaultClass(): Promise<void> {
    if (this.opts.createDefaultStorageClass === false) return;
    const classes = this.classes.list() as StorageClass[];
    if (defaultClass(classes)) return;
    const sc = localPathStorageClass();
    // A class of that name that is not the default is the administrator's choice.
    if (classes.some((c) => c.metadata.name === sc.metadata.name)) return;
    try {
      await this.client.create(scResource, sc);
      this.log(`storageclass ${sc.metadata.name}: created as the default class`);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
    }
  }

  // ---- claims ----

  private async syncClaim(claim: PersistentVolumeClaim): Promise<void> {
    if (!claim.metadata.annotations?.[annBindCompleted]) await this.syncUnboundClaim(claim);
    else await this.syncBoundClaim(claim);
  }

  private async syncUnboundClaim(claim: PersistentVolumeClaim): Promise<void> {
    const volumeName = claim.spec?.volumeName;
    if (volumeName) return this.syncPreboundClaim(claim, volumeName);

    const className = claimClass(claim);
    const sc = className ? (this.classes.get(className) as StorageClass | undefined) : undefined;
    const delayBinding = sc?.volumeBindingMode === 'WaitForFirstConsumer';
    const selectedNode = claim.metadata.annotations?.[annSelectedNode];
    const node = selectedNode ? this.nodeInfo(selectedNode) : undefined;
    const volume = findBestMatch(claim, this.volumes.list() as PersistentVolume[], { delayBinding, node });
    if (volume) return this.bind(volume, claim);

    // Retroactive default class: a claim that names no class gets the default one.
    if ((claim.spec?.storageClassName === undefined || claim.spec.storageClassName === null) && claim.metadata.annotations?.[betaStorageClassAnnotation] === undefined) {
      const dc = defaultClass(this.classes.list() as StorageClass[]);
      if (dc) {
        try {
          await this.writeClaim(claim, { ...claim, spec: { ...claim.spec, storageClassName: dc.metadata.name } });
          this.log(`claim ${claimName(claim)}: assigned the default storage class ${dc.metadata.name}`);
          return;
        } catch (err) {
          // An API server that keeps storageClassName immutable refuses; the claim then stays without a class.
          if (!(err instanceof ApiError && err.code === 422)) throw err;
          this.log(`claim ${claimName(claim)}: cannot be given the default storage class: ${err.message.split('\n')[0]}`);
        }
      }
    }
    if (delayBinding && !selectedNode) {
      void this.events.record(claimRef(claim), 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
    } else if (className) {
      if (!sc) {
        void this.events.record(claimRef(claim), 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`);
      } else if (sc.provisioner === localPathProvisioner) {
        claim = await this.provision(claim, sc, selectedNode);
      } else {
        claim = await this.setProvisionerAnnotations(claim, sc.provisioner ?? '');
        void this.events.record(
          claimRef(claim),
          'Normal',
          'ExternalProvisioning',
          `Waiting for a volume to be created either by the external provisioner '${sc.provisioner ?? ''}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
        );
      }
    } else {
      void this.events.record(claimRef(claim), 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
    }
    await this.setClaimPhase(claim, 'Pending', undefined);
  }

  /** The claim names its volume (spec.volumeName set by the user). */
  private async syncPreboundClaim(claim: PersistentVolumeClaim, volumeName: string): Promise<void> {
    const volume = this.volumes.get(volumeName) as PersistentVolume | undefined;
    if (!volume) {
      await this.setClaimPhase(claim, 'Pending', undefined);
      return;
    }
    if (!volume.spec?.claimRef) {
      const mismatch = volumeMismatch(volume, claim);
      if (mismatch) {
        void this.events.record(claimRef(claim), 'Warning', 'VolumeMismatch', `Cannot bind to requested volume "${volumeName}": ${mismatch}`);
        await this.setClaimPhase(claim, 'Pending', undefined);
        return;
      }
      return this.bind(volume, claim);
    }
    if (isVolumeBoundToClaim(volume, claim)) return this.bind(volume, claim);
    void this.events.record(claimRef(claim), 'Warning', 'FailedBinding', `volume "${volumeName}" already bound to a different claim.`);
    await this.setClaimPhase(claim, 'Pending', undefined);
  }

  private async syncBoundClaim(claim: PersistentVolumeClaim): Promise<void> {
    const volumeName = claim.spec?.volumeName;
    if (!volumeName) {
      void this.events.record(claimRef(claim), 'Warning', 'ClaimLost', 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!');
      await this.setClaimPhase(claim, 'Lost', undefined);
      return;
    }
    const volume = this.volumes.get(volumeName) as PersistentVolume | undefined;
    if (!volume) {
      void this.events.record(claimRef(claim), 'Warning', 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
      await this.setClaimPhase(claim, 'Lost', undefined);
      return;
    }
    if (!volume.spec?.claimRef || isVolumeBoundToClaim(volume, claim)) return this.bind(volume, claim);
    void this.events.record(claimRef(claim), 'Warning', 'ClaimMisbound', 'Two claims are bound to the same volume, this one is bound incorrectly');
    await this.setClaimPhase(claim, 'Lost', undefined);
  }

  /** Binds both ways, then sets both statuses; each step is skipped when already done. */
  private async bind(volume: PersistentVolume, claim: PersistentVolumeClaim): Promise<void> {
    const ref = volume.spec?.claimRef;
    // Whoever bound the volume to the claim first: the user (pre-binding) or this controller.
    const setBoundByController = !isVolumeBoundToClaim(volume, claim) && !volume.metadata.annotations?.[annBoundByController];
    const refIsWrong = !ref || ref.name !== claim.metadata.name || ref.namespace !== claim.metadata.namespace || ref.uid !== claim.metadata.uid;
    if (refIsWrong || setBoundByController) {
      const annotations = { ...(volume.metadata.annotations ?? {}) };
      if (setBoundByController) annotations[annBoundByController] = 'yes';
      volume = await this.writeVolume(volume, {
        ...volume,
        metadata: { ...volume.metadata, annotations },
        spec: { ...volume.spec, claimRef: claimRefTo(claim) },
      });
    }
    volume = await this.setVolumePhase(volume, 'Bound');

    if (claim.spec?.volumeName !== volume.metadata.name || !claim.metadata.annotations?.[annBindCompleted]) {
      const annotations: Record<string, string> = { ...(claim.metadata.annotations ?? {}), [annBindCompleted]: 'yes' };
      if (claim.spec?.volumeName !== volume.metadata.name) annotations[annBoundByController] = 'yes';
      claim = await this.writeClaim(claim, {
        ...claim,
        metadata: { ...claim.metadata, annotations },
        spec: { ...claim.spec, volumeName: volume.metadata.name },
      });
    }
    if (await this.setClaimPhase(claim, 'Bound', volume)) this.log(`claim ${claimName(claim)}: bound to volume ${volume.metadata.name}`);
  }

  /** Writes the claim's phase (and the volume's capacity and access modes, or none); true when it changed. */
  private async setClaimPhase(claim: PersistentVolumeClaim, phase: string, volume: PersistentVolume | undefined): Promise<boolean> {
    const status: Record<string, unknown> = { ...(claim.status ?? {}), phase };
    if (volume) {
      status.accessModes = volume.spec?.accessModes ?? [];
      status.capacity = volume.spec?.capacity ?? {};
    } else if (phase === 'Pending') {
      delete status.accessModes;
      delete status.capacity;
    }
    if (semanticEqual(claim.status ?? {}, status)) return false;
    await this.writeClaim(claim, { ...claim, status }, 'status');
    return true;
  }

  private async setProvisionerAnnotations(claim: PersistentVolumeClaim, provisioner: string): Promise<PersistentVolumeClaim> {
    const a = claim.metadata.annotations ?? {};
    if (a[annStorageProvisioner] === provisioner && a[annBetaStorageProvisioner] === provisioner) return claim;
    return this.writeClaim(claim, {
      ...claim,
      metadata: { ...claim.metadata, annotations: { ...a, [annStorageProvisioner]: provisioner, [annBetaStorageProvisioner]: provisioner } },
    });
  }

  /** Makes the claim's volume; returns the claim as last written. */
  private async provision(claim: PersistentVolumeClaim, sc: StorageClass, selectedNode: string | undefined): Promise<PersistentVolumeClaim> {
    const name = provisionedVolumeName(claim);
    if (this.volumes.get(name)) return claim; // made already; binding follows from the volume's claimRef
    if (claim.spec?.selector) {
      void this.events.record(claimRef(claim), 'Warning', 'ProvisioningFailed', 'claim Selector is not supported');
      return claim;
    }
    if ((claim.spec?.volumeMode ?? 'Filesystem') !== 'Filesystem') {
      void this.events.record(claimRef(claim), 'Warning', 'ProvisioningFailed', `${localPathProvisioner} does not support block volumes`);
      return claim;
    }
    claim = await this.setProvisionerAnnotations(claim, localPathProvisioner);
    let node: { name: string; hostname: string } | undefined;
    if (selectedNode) {
      const info = this.nodeInfo(selectedNode);
      node = { name: selectedNode, hostname: info.labels[hostnameLabel] ?? selectedNode };
    }
    const volume = provisionedVolume(claim, sc, this.baseDir, node);
    try {
      this.noteWrite(volumeKeyPrefix + name, await this.client.create<PersistentVolume>(pvResource, volume));
    } catch (err) {
      if (err instanceof ApiError && err.code === 409) return claim;
      void this.events.record(claimRef(claim), 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${sc.metadata.name}": ${(err as Error).message}`);
      throw err;
    }
    this.log(`claim ${claimName(claim)}: provisioned volume ${name}${node ? ` on node ${node.name}` : ''}`);
    void this.events.record(claimRef(claim), 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${name}`);
    return claim;
  }

  // ---- volumes ----

  private async syncVolume(volume: PersistentVolume): Promise<void> {
    const ref = volume.spec?.claimRef;
    // Not bound, or pre-bound to a claim that has not bound yet.
    if (!ref || !ref.uid) {
      await this.setVolumePhase(volume, 'Available');
      return;
    }
    const phase = volume.status?.phase;
    let claim = this.claims.get(`${ref.namespace}/${ref.name}`) as PersistentVolumeClaim | undefined;
    if (!claim && phase !== 'Released' && phase !== 'Failed') {
      // The informer may not have the claim yet: ask before releasing the volume.
      claim = await this.client.getIfExists<PersistentVolumeClaim>({ ...pvcResource, namespace: ref.namespace, name: ref.name });
    }
    if (claim && claim.metadata.uid !== ref.uid) claim = undefined; // deleted and made again: not our claim
    if (!claim) {
      if (phase !== 'Released' && phase !== 'Failed') volume = await this.setVolumePhase(volume, 'Released');
      await this.reclaim(volume);
      return;
    }
    if (!claim.spec?.volumeName) {
      // Bound on this side only: the claim's sync completes the binding.
      this.queue.add(`${claimKeyPrefix}${ref.namespace}/${ref.name}`);
      return;
    }
    if (claim.spec.volumeName === volume.metadata.name) {
      await this.setVolumePhase(volume, 'Bound');
      return;
    }
    // The claim bound to another volume.
    if (volume.metadata.annotations?.[annProvisionedBy] && volume.spec?.persistentVolumeReclaimPolicy === 'Delete') {
      if (phase !== 'Released' && phase !== 'Failed') volume = await this.setVolumePhase(volume, 'Released');
      await this.reclaim(volume);
      return;
    }
    await this.unbindVolume(volume);
  }

  /** unbindVolume: a binding this controller made is undone; a user's pre-binding keeps the claim's name. */
  private async unbindVolume(volume: PersistentVolume): Promise<void> {
    const spec: Record<string, unknown> = { ...volume.spec };
    const annotations = { ...(volume.metadata.annotations ?? {}) };
    if (annotations[annBoundByController]) {
      delete spec.claimRef;
      delete annotations[annBoundByController];
    } else {
      spec.claimRef = { ...volume.spec?.claimRef, uid: '' };
    }
    const updated = await this.writeVolume(volume, { ...volume, metadata: { ...volume.metadata, annotations }, spec });
    await this.setVolumePhase(updated, 'Available');
    this.log(`volume ${volume.metadata.name}: unbound`);
  }

  private async reclaim(volume: PersistentVolume): Promise<void> {
    const policy = volume.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
    if (policy === 'Retain') return;
    if (policy === 'Recycle') {
      if (volume.status?.phase === 'Failed') return;
      void this.events.record(volumeRef(volume), 'Warning', 'VolumeFailedRecycle', 'No recycler plugin found for the volume!');
      await this.setVolumePhase(volume, 'Failed', 'No recycler plugin found for the volume!');
      return;
    }
    const provisioner = volume.metadata.annotations?.[annProvisionedBy];
    if (provisioner === localPathProvisioner) {
      // The directory on the node is the agent's to remove; here the object goes.
      try {
        await this.client.delete(this.volumePath(volume), { preconditions: { uid: volume.metadata.uid } });
        this.noteWrite(volumeKeyPrefix + volume.metadata.name, undefined);
        this.log(`volume ${volume.metadata.name}: released and deleted (reclaim policy Delete)`);
      } catch (err) {
        if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
      }
      return;
    }
    if (provisioner) return; // its external provisioner deletes it
    if (volume.status?.phase === 'Failed') return;
    const message = `error getting deleter volume plugin for volume "${volume.metadata.name}": no deletable volume plugin matched`;
    void this.events.record(volumeRef(volume), 'Warning', 'VolumeFailedDelete', message);
    await this.setVolumePhase(volume, 'Failed', message);
  }

  private async setVolumePhase(volume: PersistentVolume, phase: string, message?: string): Promise<PersistentVolume> {
    const current = volume.status ?? {};
    if (current.phase === phase && (message === undefined || current.message === message)) return volume;
    const status: Record<string, unknown> = { ...current, phase, lastPhaseTransitionTime: nowTimestamp() };
    if (message !== undefined) status.message = message;
    else delete status.message;
    const updated = await this.writeVolume(volume, { ...volume, status }, 'status');
    this.log(`volume ${volume.metadata.name}: ${current.phase ?? 'no phase'} -> ${phase}`);
    return updated;
  }

  private async writeClaim(claim: PersistentVolumeClaim, body: PersistentVolumeClaim, subresource?: string): Promise<PersistentVolumeClaim> {
    const written = await this.client.update<PersistentVolumeClaim>(this.claimPath(claim, subresource), body);
    this.noteWrite(`${claimKeyPrefix}${claimName(claim)}`, written);
    return written;
  }

  private async writeVolume(volume: PersistentVolume, body: PersistentVolume, subresource?: string): Promise<PersistentVolume> {
    const written = await this.client.update<PersistentVolume>(this.volumePath(volume, subresource), body);
    this.noteWrite(`${volumeKeyPrefix}${volume.metadata.name}`, written);
    return written;
  }

  /** Remembers a write (undefined: a delete) until the informer shows it. */
  private noteWrite(key: string, obj: KubeObject | undefined): void {
    this.written.set(key, { rv: obj ? (obj.metadata.resourceVersion ?? '') : null, since: Date.now() });
  }

  /**
   * False while a write of ours has not reached the informers: a sync then
   * would act on old copies and fail on conflicts (or bind twice).
   */
  private cacheCaughtUp(): boolean {
    const now = Date.now();
    for (const [key, w] of this.written) {
      const seen = key.startsWith(claimKeyPrefix) ? this.claims.get(key.slice(claimKeyPrefix.length)) : this.volumes.get(key.slice(volumeKeyPrefix.length));
      const fresh = w.rv === null ? seen === undefined : rvAtLeast(seen?.metadata.resourceVersion, w.rv);
      if (fresh || now - w.since > staleCacheLimitMs) this.written.delete(key);
    }
    return this.written.size === 0;
  }

  private nodeInfo(name: string): NodeInfo {
    const node = this.nodes.get(name);
    return { name, labels: node?.metadata.labels ?? {} };
  }

  private claimPath(claim: KubeObject, subresource?: string) {
    return { ...pvcResource, namespace: claim.metadata.namespace, name: claim.metadata.name, subresource };
  }

  private volumePath(volume: KubeObject, subresource?: string) {
    return { ...pvResource, name: volume.metadata.name, subresource };
  }
}

function claimName(claim: KubeObject): string {
  return `${claim.metadata.namespace}/${claim.metadata.name}`;
}
