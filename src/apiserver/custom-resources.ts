// Keeps the served custom resources in step with the stored CRDs: each CRD
// event (re)registers or removes a resource, so discovery and routing change
// as soon as the CRD is written.
import { isPlainObject, withoutResourceVersion, type KubeObject } from '../api/object.js';
import type { ResourceInfo } from '../api/resources.js';
import type { Backend } from '../storage/backend.js';
import { ApiError, NotFoundError, type FieldError } from '../api/errors.js';
import { NestedFieldError, nestedInt64, nestedString, splitFieldPath } from '../api/unstructured.js';
import { crdCleanupFinalizer, crdNamesAccepted, crdResourceInfo, crdScalePaths, crdSpec, crdStorageVersion, CustomResourceSchema, type CrdScalePaths } from './crd.js';
import { nowSeconds, type GenericStore } from './registry/store.js';
import { plainStrategy, specStatusStrategy, type Strategy } from './registry/strategy.js';

export interface ResourceRegistrar {
  register(info: ResourceInfo, strategy: Strategy): GenericStore;
  unregister(info: ResourceInfo): void;
}

function customResourceStrategy(crd: KubeObject, info: ResourceInfo): Strategy {
  const terminating = crd.metadata.deletionTimestamp !== undefined;
  const spec = crdSpec(crd)!;
  const schema = new CustomResourceSchema(crdStorageVersion(spec)?.schema?.openAPIV3Schema);
  const scale = crdScalePaths(spec);
  const base = info.subresources.includes('status') ? specStatusStrategy : plainStrategy;
  return {
    ...base,
    allowUnconditionalUpdate: true,
    prepareForCreate(obj, ctx) {
      if (terminating) {
        throw new ApiError(405, 'MethodNotAllowed', 'create not allowed while custom resource definition is terminating', { group: info.group, kind: info.plural });
      }
      base.prepareForCreate?.(obj, ctx);
      obj.metadata.generation = 1;
      schema.prune(obj);
    },
    prepareForUpdate(obj, old, ctx) {
      base.prepareForUpdate?.(obj, old, ctx);
      if (!info.subresources.includes('status')) {
        const strip = (o: KubeObject) => JSON.stringify({ ...o, metadata: undefined });
        const gen = old.metadata.generation ?? 1;
        obj.metadata.generation = strip(obj) !== strip(old) ? gen + 1 : gen;
      }
      schema.prune(obj);
    },
    decodeStored: (obj) => schema.applyOnRead(obj),
    validate: (obj) => [...schema.validate(obj), ...validateScaleFields(obj, scale)],
    validateUpdate: (obj, old, warn) => [...schema.validate(obj, old, warn), ...validateScaleFields(obj, scale)],
  };
}

const maxInt32 = 2147483647;

/** A replicas field a scale path names: an integer from 0 to 2^31-1, as Kubernetes' ValidateScaleSpec and ValidateScaleStatus check. */
function replicasErrors(obj: KubeObject, path: string): FieldError[] {
  let replicas: number;
  try {
    replicas = nestedInt64(obj, splitFieldPath(path)).value;
  } catch (err) {
    if (!(err instanceof NestedFieldError)) throw err;
    return [{ type: 'FieldValueInvalid', field: path, value: 0, detail: err.message }];
  }
  if (replicas < 0) return [{ type: 'FieldValueInvalid', field: path, value: replicas, detail: 'should be a non-negative integer' }];
  if (replicas > maxInt32) return [{ type: 'FieldValueInvalid', field: path, value: replicas, detail: `should be less than or equal to ${maxInt32}` }];
  return [];
}

/** The fields a CRD's scale subresource reads: spec and status replicas, and the label selector a string. */
function validateScaleFields(obj: KubeObject, scale: CrdScalePaths | undefined): FieldError[] {
  if (!scale) return [];
  const errors = [...replicasErrors(obj, scale.specReplicasPath), ...replicasErrors(obj, scale.statusReplicasPath)];
  if (scale.labelSelectorPath) {
    try {
      nestedString(obj, splitFieldPath(scale.labelSelectorPath));
    } catch (err) {
      if (!(err instanceof NestedFieldError)) throw err;
      errors.push({ type: 'FieldValueInvalid', field: scale.labelSelectorPath, value: '', detail: err.message });
    }
  }
  return errors;
}

export class CustomResourceRegistry {
  private readonly served = new Map<string, { info: ResourceInfo; store: GenericStore }>();
  /** CRDs whose custom resources are being deleted. */
  private readonly terminating = new Set<string>();
  private stopped = false;

  constructor(
    private readonly registrar: ResourceRegistrar,
    private readonly crds: GenericStore,
    private readonly backend: Backend,
  ) {}

  async start(): Promise<void> {
    await this.crds.cache.start();
    for (const item of this.crds.cache.list(this.crds.keyRoot)) this.apply(item.object);
    await this.crds.watch(this.crds.cache.revision, this.crds.keyRoot, {
      onEvent: (ev) => {
        if (ev.type === 'DELETED') void this.remove(ev.current.object);
        else this.apply(ev.current.object);
      },
      onTerminate: () => undefined,
    });
  }

  /** Ends the waits of CRDs being deleted (the server is stopping). */
  stop(): void {
    this.stopped = true;
  }

  private apply(crd: KubeObject): void {
    const spec = crdSpec(crd);
    const name = crd.metadata.name!;
    if (!spec) return;
    const deleting = crd.metadata.deletionTimestamp !== undefined;
    // A CRD deleted without the cleanup finalizer (stored before Nami set it) goes at once, with its custom resources.
    if (deleting && !(crd.metadata.finalizers ?? []).includes(crdCleanupFinalizer)) {
      void this.remove(crd);
      return;
    }
    const info: ResourceInfo = { ...crdResourceInfo(spec), crd };
    const previous = this.served.get(name);
    if (previous) this.registrar.unregister(previous.info);
    // Names another CRD of the group holds: not served (as Kubernetes serves only accepted names).
    if (!crdNamesAccepted(crd)) {
      this.served.delete(name);
      return;
    }
    try {
      const store = this.registrar.register(info, customResourceStrategy(crd, info));
      this.served.set(name, { info, store });
      if (deleting) void this.terminate(crd, store);
    } catch (err) {
      // A stored CRD this server cannot serve (written before its checks, or by another server) is left unserved; the server goes on.
      this.served.delete(name);
      console.error(`custom resources of CustomResourceDefinition ${name} are not served: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /**
   * A CRD being deleted, as Kubernetes' finalizing controller handles it: the
   * Terminating condition, every custom resource deleted (their own
   * finalizers hold them as usual, and they are served meanwhile; creates
   * are refused), and once none is left the cleanup finalizer removed, which
   * lets the CRD go.
   */
  private async terminate(crd: KubeObject, store: GenericStore): Promise<void> {
    const name = crd.metadata.name!;
    if (this.terminating.has(name)) return;
    this.terminating.add(name);
    try {
      await this.setTerminating(name, 'InstanceDeletionInProgress', 'CustomResource deletion is in progress');
      for (;;) {
        const current = this.served.get(name)?.store ?? store;
        const left = await current.cachedObjects();
        if (left.length === 0 || this.stopped) break;
        for (const cr of left) {
          if (cr.metadata.deletionTimestamp) continue;
          await current.delete(cr.metadata.namespace, cr.metadata.name!).catch((err: unknown) => {
            if (!(err instanceof ApiError && err.code === 404)) throw err;
          });
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      if (this.stopped) return;
      await this.setTerminating(name, 'InstanceDeletionCompleted', 'removed all instances');
      await this.crds.update(undefined, name, (cur) => {
        if (!cur) throw new NotFoundError(this.crds.ref(name));
        cur.metadata = withoutResourceVersion({ ...cur.metadata, finalizers: (cur.metadata.finalizers ?? []).filter((f) => f !== crdCleanupFinalizer) });
        return cur;
      }, { fieldManager: 'nami-apiextensions' });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) console.error(`deleting the custom resources of CustomResourceDefinition ${name}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.terminating.delete(name);
    }
  }

  private async setTerminating(name: string, reason: string, message: string): Promise<void> {
    await this.crds.update(undefined, name, (cur) => {
      if (!cur) throw new NotFoundError(this.crds.ref(name));
      const status = (isPlainObject(cur.status) ? cur.status : {}) as { conditions?: { type: string; lastTransitionTime?: string }[] };
      const before = status.conditions?.find((c) => c.type === 'Terminating');
      const condition = { type: 'Terminating', status: 'True', lastTransitionTime: before?.lastTransitionTime ?? nowSeconds(), reason, message };
      cur.status = { ...status, conditions: [...(status.conditions ?? []).filter((c) => c.type !== 'Terminating'), condition] };
      cur.metadata = withoutResourceVersion(cur.metadata);
      return cur;
    }, { subresource: 'status', fieldManager: 'nami-apiextensions' });
  }

  /** A deleted CRD is no longer served; what is left of its custom resources goes with it. */
  private async remove(crd: KubeObject): Promise<void> {
    const name = crd.metadata.name!;
    const served = this.served.get(name);
    if (!served) return;
    this.registrar.unregister(served.info);
    this.served.delete(name);
    const root = `/registry/${served.info.group}/${served.info.plural}/`;
    const existing = await this.backend.range(root);
    for (const kv of existing.kvs) await this.backend.delete(kv.key, 0);
  }
}
