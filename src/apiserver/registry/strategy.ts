// What makes one kind differ from another inside the one generic store.
// Modelled on Kubernetes' RESTCreateStrategy / RESTUpdateStrategy.
import type { FieldError } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';

/** What a strategy may read of the store it serves. */
export interface StrategyContext {
  /** The stored objects of this resource, all namespaces. */
  existing(): Iterable<KubeObject>;
}

export interface Strategy {
  /** Called on create after defaulting: set server-owned fields, reset status. */
  prepareForCreate?(obj: KubeObject, ctx: StrategyContext): void;
  /** Called on update of the main resource: carry over what the client may not change here. */
  prepareForUpdate?(obj: KubeObject, old: KubeObject, ctx: StrategyContext): void;
  /** Kind-specific validation beyond the shared metadata and schema checks. */
  validate?(obj: KubeObject): FieldError[];
  /** warn: a warning for the client (sent as a Warning header), such as a validation error let through by ratcheting. */
  validateUpdate?(obj: KubeObject, old: KubeObject, warn?: (message: string) => void): FieldError[];
  /** PUT of an object that does not exist creates it. */
  allowCreateOnUpdate?: boolean;
  /** PUT without metadata.resourceVersion is allowed (last write wins). */
  allowUnconditionalUpdate?: boolean;
  /** Graceful deletion: how long the object lingers with a deletionTimestamp; 0 or undefined deletes at once. */
  gracePeriodSeconds?(obj: KubeObject, requested: number | undefined): number;
  /** Deletion waits for something besides metadata.finalizers (a namespace's spec.finalizers). */
  holdsDeletion?(obj: KubeObject): boolean;
  /** What a delete without propagationPolicy does with dependents (Kubernetes' DefaultGarbageCollectionPolicy). */
  defaultGarbageCollectionPolicy?: 'Orphan';
  /**
   * A delete that completes at once answers with the deleted object
   * (Kubernetes' ReturnDeletedObject); without it, with a Success Status
   * naming what was deleted.
   */
  returnDeletedObject?: boolean;
  /**
   * prepareForCreate and prepareForUpdate read the other stored objects
   * (ctx.existing()), so the cache is brought up to this server's own
   * writes first: a Service deleted a moment ago no longer holds its ports.
   */
  readsExisting?: boolean;
  /**
   * A create or update the strategy prepared is over (stored, refused, or a
   * dry run) and the cache holds what it wrote: what prepareForCreate or
   * prepareForUpdate set aside for the object with this uid while it was in
   * flight may go, as with the FinishFunc of Kubernetes' BeginCreate.
   */
  finishWrite?(uid: string): void;
  /**
   * Called on each object read from storage (not on this server's own
   * writes, which were prepared already): custom resources get the defaults
   * their schema has gained since they were written, as Kubernetes defaults
   * on read.
   */
  decodeStored?(obj: KubeObject): void;
  /** Called when graceful deletion starts (a namespace turns Terminating). */
  prepareForDeletion?(obj: KubeObject): void;
}

function specOf(obj: KubeObject): unknown {
  const copy: Record<string, unknown> = { ...obj };
  delete copy.metadata;
  delete copy.status;
  delete copy.apiVersion;
  delete copy.kind;
  return copy;
}

/**
 * For kinds with a status subresource: the main resource ignores status
 * changes, and metadata.generation counts changes to everything else.
 */
export const specStatusStrategy: Strategy = {
  prepareForCreate(obj) {
    obj.metadata.generation = 1;
    // Status is the controllers' to write: what a client sends with a create is dropped.
    delete obj.status;
  },
  prepareForUpdate(obj, old) {
    if (old.status === undefined) delete obj.status;
    else obj.status = old.status;
    const gen = old.metadata.generation ?? 1;
    obj.metadata.generation = JSON.stringify(specOf(obj)) !== JSON.stringify(specOf(old)) ? gen + 1 : gen;
  },
};

/** Kinds without status: generation is bumped on any change but metadata. */
export const plainStrategy: Strategy = {
  allowUnconditionalUpdate: true,
};
