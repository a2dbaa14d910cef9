// Keeps the served custom resources in step with the stored CRDs: each CRD
// event (re)registers or removes a resource, so discovery and routing change
// as soon as the CRD is written.
import type { KubeObject } from '../api/object.js';
import type { ResourceInfo } from '../api/resources.js';
import type { Backend } from '../storage/backend.js';
import type { FieldError } from '../api/errors.js';
import { NestedFieldError, nestedInt64, nestedString, splitFieldPath } from '../api/unstructured.js';
import { crdResourceInfo, crdSpec, CustomResourceSchema, type CrdScalePaths } from './crd.js';
import type { GenericStore } from './registry/store.js';
import { plainStrategy, specStatusStrategy, type Strategy } from './registry/strategy.js';

export interface ResourceRegistrar {
  register(info: ResourceInfo, strategy: Strategy): GenericStore;
  unregister(info: ResourceInfo): void;
}

function customResourceStrategy(crd: KubeObject, info: ResourceInfo): Strategy {
  const spec = crdSpec(crd)!;
  const storage = spec.versions.find((v) => v.storage) ?? spec.versions[0];
  const schema = new CustomResourceSchema(storage?.schema?.openAPIV3Schema);
  const scale = storage?.subresources?.scale;
  const base = info.subresources.includes('status') ? specStatusStrategy : plainStrategy;
  return {
    ...base,
    allowUnconditionalUpdate: true,
    prepareForCreate(obj, ctx) {
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
    validate: (obj) => [...schema.validate(obj), ...validateScaleFields(obj, scale)],
    validateUpdate: (obj) => [...schema.validate(obj), ...validateScaleFields(obj, scale)],
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
  private readonly served = new Map<string, ResourceInfo>();

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

  private apply(crd: KubeObject): void {
    const spec = crdSpec(crd);
    const name = crd.metadata.name!;
    if (!spec) return;
    if (crd.metadata.deletionTimestamp) {
      void this.remove(crd);
      return;
    }
    const info: ResourceInfo = { ...crdResourceInfo(spec), crd };
    const previous = this.served.get(name);
    if (previous) this.registrar.unregister(previous);
    try {
      this.registrar.register(info, customResourceStrategy(crd, info));
      this.served.set(name, info);
    } catch (err) {
      // A stored CRD this server cannot serve (written before its checks, or by another server) is left unserved; the server goes on.
      this.served.delete(name);
      console.error(`custom resources of CustomResourceDefinition ${name} are not served: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** A deleted CRD takes its custom resources with it. */
  private async remove(crd: KubeObject): Promise<void> {
    const name = crd.metadata.name!;
    const info = this.served.get(name);
    if (!info) return;
    this.registrar.unregister(info);
    this.served.delete(name);
    const root = `/registry/${info.group}/${info.plural}/`;
    const existing = await this.backend.range(root);
    for (const kv of existing.kvs) await this.backend.delete(kv.key, 0);
  }
}
