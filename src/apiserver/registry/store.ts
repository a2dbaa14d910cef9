// The one generic store engine behind every kind: create, read, update,
// delete and watch on top of a storage Backend and a WatchCache, parameterised
// by a Strategy (Kubernetes' genericregistry.Store).
import { randomUUID } from 'node:crypto';
import { CompactedError, type Backend, type WriteResult } from '../../storage/backend.js';
import {
  AlreadyExistsError,
  ApiError,
  BadRequestError,
  ConflictError,
  GoneError,
  InternalError,
  InvalidError,
  NotFoundError,
  type FieldError,
  type ResourceRef,
} from '../../api/errors.js';
import { cloneJson, withoutResourceVersion, type KubeObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/resources.js';
import { decodeStored, TooOldResourceVersionError, WatchCache, withResourceVersion, type CachedObject, type CacheWatcher, type StoredDecoder } from '../watch-cache.js';
import type { Strategy, StrategyContext } from './strategy.js';
import { managedFieldsChangedBy } from '../../api/apply/index.js';
import { storedJson } from './stored-json.js';

/** What label and field selectors read of an object. */
export interface SelectionAttributes {
  readonly labels: Readonly<Record<string, string>>;
  readonly fields: Readonly<Record<string, string>>;
}

/**
 * A request's label and field selectors. `attributes` reads what they need
 * of an object and is one function for every filter on a resource at its
 * stored version, so that the watch cache keeps, per object, what it made
 * (as kube-apiserver's cacher keeps each object's labels and fields)
 * rather than the whole parsed object.
 */
export interface ObjectFilter {
  attributes(obj: KubeObject): SelectionAttributes;
  matches(attributes: SelectionAttributes): boolean;
}

/** Whether a cached object passes a filter, from the attributes the cache keeps for it. */
export function selects(filter: ObjectFilter, item: CachedObject): boolean {
  return filter.matches(item.attributes(filter.attributes));
}

export interface ListOptions {
  filter?: ObjectFilter;
  /** True when filter is set: Kubernetes leaves remainingItemCount out then. */
  filtered?: boolean;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface ListResult {
  items: CachedObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  /** The subresource being written ('status', 'scale' ...), '' for the main resource. */
  subresource?: string;
  /** The subresource field ownership is recorded under, when not `subresource` (a scale write updates the main resource). */
  managedFieldsSubresource?: string;
  /** Server-side apply has already recorded field ownership in metadata.managedFields. */
  managedFieldsSet?: boolean;
  /** Where the write's warnings for the client go (validation errors let through by ratcheting). */
  warnings?: Set<string>;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

/** A written object, with its JSON text when the store has it at hand (the same text a read returns). */
export interface WrittenObject {
  readonly object: KubeObject;
  readonly json?: string;
}

/**
 * A write whose object the watch cache took: the caller's copy is made
 * when first asked for, which a response sent as `json` never does.
 */
class CopiedFromCache implements WrittenObject {
  private copy: KubeObject | undefined;
  readonly json: string;

  constructor(
    private readonly item: CachedObject,
    readonly created: boolean,
  ) {
    this.json = item.json;
  }

  get object(): KubeObject {
    this.copy ??= this.item.copy();
    return this.copy;
  }
}

export interface DeleteResult {
  object: KubeObject;
  /** False when the object is still there (graceful deletion, finalizers). */
  deleted: boolean;
}

/** Cross-cutting steps every write passes through, supplied by the server assembly. */
export interface WritePipeline {
  /** Fills defaults as Kubernetes' SetDefaults_* do. */
  /** current: the object an update replaces (parts obj shares with it are defaulted already). */
  applyDefaults?(info: ResourceInfo, obj: KubeObject, current?: KubeObject): void;
  /** Kind-independent and kind-specific validation. */
  validate?(info: ResourceInfo, obj: KubeObject, old: KubeObject | undefined, subresource: string): FieldError[];
  /** Admission: may reject (throw ApiError) or mutate. */
  admit?(info: ResourceInfo, operation: 'CREATE' | 'UPDATE' | 'DELETE', obj: KubeObject, old: KubeObject | undefined): Promise<void>;
  /**
   * Validating admission, on the object validation passed (Kubernetes runs
   * these plugins last): may only reject (throw ApiError), or charge a quota
   * unless it is a dry run. Nothing to wait for when it returns no promise.
   */
  admitValidated?(info: ResourceInfo, operation: 'CREATE' | 'UPDATE', obj: KubeObject, old: KubeObject | undefined, dryRun: boolean, subresource: string): Promise<void> | void;
  /** Records field ownership in obj.metadata.managedFields. */
  trackManagedFields?(info: ResourceInfo, old: KubeObject | undefined, obj: KubeObject, manager: string, subresource: string): void;
}

export class GenericStore {
  readonly cache: WatchCache;
  readonly keyRoot: string;
  /** What the strategy does to objects read from storage (the cache's reads and exact reads alike). */
  private readonly decode: StoredDecoder | undefined;

  constructor(
    readonly info: ResourceInfo,
    private readonly backend: Backend,
    readonly strategy: Strategy,
    private readonly pipeline: WritePipeline = {},
  ) {
    this.keyRoot = `/registry/${info.group ? info.group + '/' : ''}${info.plural}/`;
    this.decode = strategy.decodeStored?.bind(strategy);
    this.cache = new WatchCache(backend, this.keyRoot, { decode: this.decode });
  }

  private readonly strategyContext: StrategyContext = {
    existing: () => this.cachedNow(),
  };

  /** The objects of a namespace (all, for cluster-scoped kinds) the watch cache holds now, without waiting for it (only to read; as an informer's lister reads). */
  cachedIn(namespace: string | undefined): KubeObject[] {
    return this.cache.list(this.listPrefix(namespace)).map((i) => i.object);
  }

  /** Every object the watch cache holds now, in key order (only to read). */
  private cachedNow(): KubeObject[] {
    return this.cache.list(this.keyRoot).map((i) => i.object);
  }

  get version(): string {
    return this.info.versions[0]!;
  }

  get apiVersion(): string {
    return this.info.group ? `${this.info.group}/${this.version}` : this.version;
  }

  ref(name?: string): ResourceRef {
    return { group: this.info.group, resource: this.info.plural, name };
  }

  key(namespace: string | undefined, name: string): string {
    return this.info.namespaced ? `${this.keyRoot}${namespace}/${name}` : `${this.keyRoot}${name}`;
  }

  listPrefix(namespace: string | undefined): string {
    return this.info.namespaced && namespace ? `${this.keyRoot}${namespace}/` : this.keyRoot;
  }

  async get(namespace: string | undefined, name: string): Promise<KubeObject> {
    await this.cache.sync();
    const hit = this.cache.get(this.key(namespace, name));
    if (!hit) throw new NotFoundError(this.ref(name));
    return hit.copy();
  }

  async getCached(namespace: string | undefined, name: string): Promise<CachedObject | undefined> {
    await this.cache.sync();
    return this.cache.get(this.key(namespace, name));
  }

  /** Every object of the resource as the watch cache has it after this server's own writes, in key order (only to read). */
  async cachedObjects(): Promise<KubeObject[]> {
    await this.cache.sync();
    return this.cachedNow();
  }

  async list(namespace: string | undefined, opts: ListOptions = {}): Promise<ListResult> {
    const rvParam = opts.resourceVersion;
    if (rvParam && rvParam !== '0') {
      const rv = parseResourceVersion(rvParam);
      if (opts.resourceVersionMatch === 'Exact') return this.listExact(namespace, rv, opts);
      await this.waitForRevision(rv);
    } else if (rvParam === '0') {
      await this.cache.start();
    } else {
      await this.cache.sync();
    }
    let startAfter: string | undefined;
    if (opts.continue) startAfter = decodeContinue(opts.continue, this.listPrefix(namespace));
    const filter = opts.filter;
    const items: CachedObject[] = [];
    const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
    const left = this.cache.visit(this.listPrefix(namespace), startAfter, (item) => {
      if (filter && !selects(filter, item)) return true;
      if (items.length >= limit) return false;
      items.push(item);
      return true;
    });
    const result: ListResult = { items, resourceVersion: String(this.cache.revision) };
    if (left > 0) {
      const last = items[items.length - 1]!;
      result.continue = encodeContinue(last.key, this.cache.revision);
      if (!opts.filtered) result.remainingItemCount = left;
    }
    return result;
  }

  /** Waits (3 s at most) until the cache has reached rv, as kube-apiserver's cacher does; then 504. */
  private async waitForRevision(rv: number): Promise<void> {
    await this.cache.waitFor(rv).catch(() => {
      throw new ApiError(504, 'Timeout', `Too large resource version: ${rv}, current: ${this.cache.revision}`, {
        causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
        retryAfterSeconds: 1,
      });
    });
  }

  /** resourceVersionMatch=Exact: the list as it was at rv, read from storage; 410 once compacted. */
  private async listExact(namespace: string | undefined, rv: number, opts: ListOptions): Promise<ListResult> {
    const prefix = this.listPrefix(namespace);
    let startKey: string | undefined;
    if (opts.continue) startKey = decodeContinue(opts.continue, prefix) + '\0';
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    await this.waitForRevision(rv);
    let listing;
    try {
      listing = await this.backend.range(prefix, { revision: rv, startKey, limit: opts.filter ? 0 : limit });
    } catch (err) {
      if (err instanceof CompactedError) throw new GoneError('The resourceVersion for the provided list is too old.');
      throw err;
    }
    const items: CachedObject[] = [];
    let more = false;
    for (const kv of listing.kvs) {
      const item = decodeStored(kv, this.decode);
      if (opts.filter && !selects(opts.filter, item)) continue;
      if (limit && items.length >= limit) {
        more = true;
        break;
      }
      items.push(item);
    }
    more ||= listing.more;
    const result: ListResult = { items, resourceVersion: String(rv) };
    if (more && items.length > 0) result.continue = encodeContinue(items[items.length - 1]!.key, rv);
    return result;
  }

  /**
   * Registers a watcher; throws 410 Gone when fromRevision is older than the
   * cache's history. With fromRevision undefined the watch starts now and the
   * objects as of now (under prefix) are returned, taken in the same step as
   * the registration so no event falls between them.
   */
  async watch(
    fromRevision: number | undefined,
    prefix: string,
    watcher: CacheWatcher,
  ): Promise<{ stop: () => void; startRevision: number; snapshot: CachedObject[] }> {
    await this.cache.sync();
    if (fromRevision !== undefined) await this.waitForRevision(fromRevision);
    const start = fromRevision ?? this.cache.revision;
    try {
      const snapshot = fromRevision === undefined ? this.cache.list(prefix) : [];
      return { stop: this.cache.watch(start, watcher), startRevision: start, snapshot };
    } catch (err) {
      if (err instanceof TooOldResourceVersionError) throw new GoneError(`too old resource version: ${err.requested} (${err.oldest})`);
      throw err;
    }
  }

  private invalid(obj: KubeObject, errors: FieldError[]): InvalidError {
    return new InvalidError(this.info.kind, this.info.group, obj.metadata.name ?? '', errors);
  }

  private checkValid(obj: KubeObject, old: KubeObject | undefined, subresource = '', warnings?: Set<string>): void {
    const errors = [...(this.pipeline.validate?.(this.info, obj, old, subresource) ?? [])];
    const own = old ? this.strategy.validateUpdate?.(obj, old, warnings && ((m) => warnings.add(m))) : this.strategy.validate?.(obj);
    if (own) errors.push(...own);
    if (errors.length > 0) throw this.invalid(obj, errors);
  }

  async create(namespace: string | undefined, input: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
    return (await this.createEncoded(namespace, input, opts)).object;
  }

  /**
   * create, also giving the created object's JSON text; an `owned` input
   * (the caller's no longer) is changed and kept instead of copied. While
   * the write is pending nothing but the text is held: the object is not
   * needed any more (the cache keeps a created object as text), and each
   * of the 64 writes a busy server has in flight would otherwise keep its
   * whole object alive across a young-generation collection.
   */
  async createEncoded(namespace: string | undefined, input: KubeObject, opts: WriteOptions = {}, owned = false): Promise<WrittenObject & { readonly created: boolean }> {
    const uid = randomUUID();
    try {
      const prepared = await this.prepareCreate(namespace, input, opts, owned, uid);
      return 'object' in prepared ? prepared : await this.commitCreate(prepared.key, prepared.name, prepared.value);
    } finally {
      this.finishWrite(uid);
    }
  }

  /**
   * Tells the strategy a write of the object with this uid is over, once the
   * cache holds what it wrote (if anything): what the strategy set aside for
   * the write in flight is in the cache from then on, or was never stored.
   */
  private finishWrite(uid: string): void {
    const finish = this.strategy.finishWrite;
    if (!finish) return;
    const done = () => finish.call(this.strategy, uid);
    this.cache.sync().then(done, done);
  }

  /** Everything a create does before the write: the stored text, or the object for a dry run. */
  private async prepareCreate(
    namespace: string | undefined,
    input: KubeObject,
    opts: WriteOptions,
    owned: boolean,
    uid: string,
  ): Promise<{ key: string; name: string; value: string } | (WrittenObject & { readonly created: boolean })> {
    const obj = owned ? input : cloneJson(input);
    obj.apiVersion = this.apiVersion;
    obj.kind = this.info.kind;
    const meta = obj.metadata;
    if (this.info.namespaced) meta.namespace = namespace;
    else delete meta.namespace;
    if (meta.resourceVersion) throw new BadRequestError('resourceVersion should not be set on objects to be created');
    meta.uid = uid;
    meta.creationTimestamp = nowSeconds();
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    if (meta.generation !== undefined) delete meta.generation;
    this.pipeline.applyDefaults?.(this.info, obj);
    // As in kube-apiserver's create handler: field ownership is the request's (defaulted) object's, before
    // mutating admission, so that what admission adds (a token volume, tolerations, a priority) has no manager;
    // admission runs before the name is made from generateName (BeforeCreate).
    if (!opts.managedFieldsSet) this.pipeline.trackManagedFields?.(this.info, undefined, obj, opts.fieldManager ?? 'unknown', opts.subresource ?? '');
    await this.pipeline.admit?.(this.info, 'CREATE', obj, undefined);
    if (!meta.name && meta.generateName) meta.name = meta.generateName + randomSuffix();
    if (this.strategy.readsExisting) await this.cache.sync();
    this.strategy.prepareForCreate?.(obj, this.strategyContext);
    if (!meta.name) throw this.invalid(obj, [{ type: 'FieldValueRequired', field: 'metadata.name', detail: 'name or generateName is required' }]);
    this.checkValid(obj, undefined);
    const admitted = this.pipeline.admitValidated?.(this.info, 'CREATE', obj, undefined, opts.dryRun === true, '');
    if (admitted) await admitted;
    if (opts.dryRun) return { object: obj, created: true };
    return { key: this.key(namespace, meta.name), name: meta.name, value: storedJson(storedForm(obj), undefined) };
  }

  private async commitCreate(key: string, name: string, value: string): Promise<WrittenObject & { readonly created: boolean }> {
    const { result, taken } = await this.write(key, value, undefined, () => this.backend.create(key, value));
    if (!result.ok) throw new AlreadyExistsError(this.ref(name));
    this.cache.noteWrite(result.revision);
    return written(undefined, value, result.revision, taken, true);
  }

  /**
   * A create or update of key, announced to the watch cache so that it need
   * not parse the value again; `taken` is the cache's entry when it took the
   * stored object (then the caller no longer owns it).
   */
  private async write(key: string, value: string, stored: KubeObject | undefined, op: () => Promise<WriteResult>): Promise<{ result: WriteResult; taken?: CachedObject }> {
    const own = this.cache.expect(key, value, stored);
    try {
      const result = await op();
      return { result, taken: own.taken };
    } finally {
      this.cache.settle(key, own);
    }
  }

  /**
   * Read-modify-write with optimistic concurrency, retried on conflicts when
   * the caller did not pin a resourceVersion (as Kubernetes' GuaranteedUpdate).
   * mutate receives a private copy of the current object (undefined if absent)
   * and returns an object the store then owns and changes: a new one each
   * time it is called.
   * The first try starts from the watch cache, as kube-apiserver's does; a
   * stale guess fails the compare-and-swap and is retried from storage.
   * The cached object itself is the update's old object, only ever read
   * (the new one may share parts of it, as the cache's entries may); what
   * the caller gets back is its own.
   */
  async update(
    namespace: string | undefined,
    name: string,
    mutate: (current: KubeObject | undefined) => KubeObject | Promise<KubeObject>,
    opts: WriteOptions & {
      allowCreate?: boolean;
      /**
       * mutate only reads the current object, which it then gets uncopied, and returns an object whose
       * top level and metadata are its own while deeper parts it does not change may be the current
       * object's: the store sets only top-level and metadata fields, and defaulting and the kind's
       * strategy leave the deeper parts as they are.
       */
      sharesCurrent?: boolean;
    } = {},
  ): Promise<WrittenObject & { readonly created: boolean }> {
    const prepared: { uid?: string } = {};
    try {
      return await this.updateWithRetries(namespace, name, mutate, opts, prepared);
    } finally {
      if (prepared.uid !== undefined) this.finishWrite(prepared.uid);
    }
  }

  /** update's tries; `prepared.uid` names the object once the strategy has prepared an update of it. */
  private async updateWithRetries(
    namespace: string | undefined,
    name: string,
    mutate: (current: KubeObject | undefined) => KubeObject | Promise<KubeObject>,
    opts: WriteOptions & { allowCreate?: boolean; sharesCurrent?: boolean },
    prepared: { uid?: string },
  ): Promise<WrittenObject & { readonly created: boolean }> {
    const key = this.key(namespace, name);
    let fromStorage = false;
    for (let attempt = 0; ; attempt++) {
      const cached = fromStorage ? undefined : await this.getCached(namespace, name);
      fromStorage ||= cached === undefined;
      let current: KubeObject | undefined;
      let modRevision = 0;
      if (cached) {
        current = cached.object;
        modRevision = cached.revision;
      } else {
        const { kv } = await this.backend.get(key);
        if (kv) {
          current = withRevision(JSON.parse(kv.value) as KubeObject, kv.modRevision);
          modRevision = kv.modRevision;
        }
      }
      const next = await mutate(current ? (opts.sharesCurrent ? current : cloneJson(current)) : undefined);
      if (!current) {
        if (!opts.allowCreate) throw new NotFoundError(this.ref(name));
        return this.createEncoded(namespace, next, opts, true);
      }
      const pinned = next.metadata.resourceVersion;
      if (pinned && pinned !== current.metadata.resourceVersion) {
        if (!fromStorage) {
          fromStorage = true;
          continue;
        }
        throw new ConflictError(this.ref(name), 'the object has been modified; please apply your changes to the latest version and try again');
      }
      if (!pinned && !(this.strategy.allowUnconditionalUpdate ?? true) && !opts.subresource) {
        throw this.invalid(next, [{ type: 'FieldValueInvalid', field: 'metadata.resourceVersion', value: '', detail: 'must be specified for an update' }]);
      }
      if (this.strategy.readsExisting && !opts.subresource) await this.cache.sync();
      prepared.uid = current.metadata.uid ?? '';
      const obj = this.prepareUpdate(next, current, opts);
      // What may share parts with the cache is copied before it leaves the store.
      const own = cached ? cloneJson : <T>(o: T) => o;
      if (sameStoredContent(obj, current) && !managedFieldsChangedBy(obj.metadata.managedFields, current.metadata.managedFields)) {
        // Nothing to write, unless the cached state was stale: then look again in storage.
        if (fromStorage) return { object: current, created: false };
        fromStorage = true;
        continue;
      }
      // Field ownership before mutating admission, as in kube-apiserver's update handler.
      if (!opts.managedFieldsSet) this.pipeline.trackManagedFields?.(this.info, current, obj, opts.fieldManager ?? 'unknown', opts.managedFieldsSubresource ?? opts.subresource ?? '');
      await this.pipeline.admit?.(this.info, 'UPDATE', obj, current);
      this.checkValid(obj, current, opts.subresource, opts.warnings);
      const admitted = this.pipeline.admitValidated?.(this.info, 'UPDATE', obj, current, opts.dryRun === true, opts.subresource ?? '');
      if (admitted) await admitted;
      if (opts.dryRun) return { object: own(obj), created: false };
      // Finalizers all gone from an object being deleted: the delete completes.
      // (A pod still in its grace period is deleted by its node, which deletes it again with grace 0.)
      if (obj.metadata.deletionTimestamp && (obj.metadata.finalizers ?? []).length === 0 && (obj.metadata.deletionGracePeriodSeconds ?? 0) === 0 && !this.strategy.holdsDeletion?.(obj)) {
        const del = await this.backend.delete(key, modRevision);
        if (del.ok) {
          this.cache.noteWrite(del.revision);
          return { object: own(withRevision(storedForm(obj), del.revision)), created: false };
        }
      } else {
        const stored = storedForm(obj);
        const value = storedJson(stored, current);
        const { result, taken } = await this.write(key, value, stored, () => this.backend.update(key, value, modRevision));
        if (result.ok) {
          this.cache.noteWrite(result.revision);
          return written(stored, value, result.revision, taken, false, own);
        }
      }
      if (pinned && fromStorage) throw new ConflictError(this.ref(name), 'the object has been modified; please apply your changes to the latest version and try again');
      fromStorage = true;
      if (attempt > 20) throw new InternalError(`too many concurrent updates to ${name}`);
    }
  }

  /** Fills in what an update keeps from the current object, on `next` itself (mutate's result, the store's own). */
  private prepareUpdate(next: KubeObject, current: KubeObject, opts: WriteOptions): KubeObject {
    const obj = next;
    obj.apiVersion = this.apiVersion;
    obj.kind = this.info.kind;
    const meta = obj.metadata;
    const old = current.metadata;
    if (meta.name !== undefined && meta.name !== old.name) {
      throw new BadRequestError(`the name of the object (${meta.name}) does not match the name on the URL (${old.name})`);
    }
    if (meta.uid && meta.uid !== old.uid) {
      throw new ConflictError(this.ref(old.name), `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${old.uid}`);
    }
    meta.name = old.name;
    if (this.info.namespaced) meta.namespace = old.namespace;
    meta.uid = old.uid;
    meta.creationTimestamp = old.creationTimestamp;
    if (old.generation !== undefined) meta.generation = old.generation;
    else delete meta.generation;
    if (old.deletionTimestamp) {
      meta.deletionTimestamp = old.deletionTimestamp;
      if (old.deletionGracePeriodSeconds !== undefined) meta.deletionGracePeriodSeconds = old.deletionGracePeriodSeconds;
    } else {
      delete meta.deletionTimestamp;
      delete meta.deletionGracePeriodSeconds;
    }
    meta.resourceVersion = old.resourceVersion;
    if (opts.subresource === 'ephemeralcontainers') ephemeralContainersOnly(obj, current);
    // The ephemeral containers added are defaulted as a pod's containers are; the rest is the current pod's, defaulted already.
    if (!opts.subresource || opts.subresource === 'ephemeralcontainers') this.pipeline.applyDefaults?.(this.info, obj, current);
    if (opts.subresource === 'status') {
      statusOnly(obj, current);
      // A status is decoded, so defaulted, as any object is; the spec is the current one's, defaulted already.
      this.pipeline.applyDefaults?.(this.info, obj, { ...current, spec: obj.spec });
    }
    else if (opts.subresource === 'finalize') finalizersOnly(obj, current);
    else if (!opts.subresource) this.strategy.prepareForUpdate?.(obj, current, this.strategyContext);
    return obj;
  }

  async delete(namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    const key = this.key(namespace, name);
    for (let attempt = 0; ; attempt++) {
      const { kv } = await this.backend.get(key);
      if (!kv) throw new NotFoundError(this.ref(name));
      const current = withRevision(JSON.parse(kv.value) as KubeObject, kv.modRevision);
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== current.metadata.uid) {
        throw new ConflictError(this.ref(name), `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
      }
      if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
        throw new ConflictError(
          this.ref(name),
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
        );
      }
      await this.pipeline.admit?.(this.info, 'DELETE', current, current);
      const next = cloneJson(current);
      const finalizers = new Set(next.metadata.finalizers ?? []);
      // The policy asked for replaces the one an earlier delete set, as Kubernetes' deletion finalizers do.
      const asked = opts.propagationPolicy ?? (opts.orphanDependents === undefined ? undefined : opts.orphanDependents ? 'Orphan' : 'Background');
      const policy = asked ?? (current.metadata.deletionTimestamp ? undefined : this.strategy.defaultGarbageCollectionPolicy);
      if (policy === 'Orphan') {
        finalizers.add('orphan');
        finalizers.delete('foregroundDeletion');
      } else if (policy === 'Foreground') {
        finalizers.add('foregroundDeletion');
        finalizers.delete('orphan');
      } else if (policy === 'Background') {
        finalizers.delete('orphan');
        finalizers.delete('foregroundDeletion');
      }
      const grace = this.strategy.gracePeriodSeconds?.(current, opts.gracePeriodSeconds) ?? 0;
      const graceful = grace > 0 || finalizers.size > 0 || (this.strategy.holdsDeletion?.(current) ?? false);
      if (!graceful) {
        if (opts.dryRun) return { object: current, deleted: true };
        const res = await this.backend.delete(key, kv.modRevision);
        if (res.ok) {
          this.cache.noteWrite(res.revision);
          // The deleted object carries the deletion's resourceVersion, as its DELETED event does.
          return { object: withRevision(current, res.revision), deleted: true };
        }
      } else {
        if (current.metadata.deletionTimestamp && !this.shortensGrace(current, grace) && sameFinalizers(current, finalizers)) {
          return { object: current, deleted: false };
        }
        next.metadata.finalizers = [...finalizers];
        if (next.metadata.finalizers.length === 0) delete next.metadata.finalizers;
        const now = new Date();
        if (!current.metadata.deletionTimestamp || this.shortensGrace(current, grace)) {
          next.metadata.deletionTimestamp = new Date(Math.floor(now.getTime() / 1000) * 1000 + grace * 1000).toISOString().replace('.000Z', 'Z');
          next.metadata.deletionGracePeriodSeconds = grace;
        }
        if (next.metadata.generation !== undefined) next.metadata.generation += 1;
        this.strategy.prepareForDeletion?.(next);
        if (opts.dryRun) return { object: next, deleted: false };
        const stored = storedForm(next);
        const res = await this.backend.update(key, JSON.stringify(stored), kv.modRevision);
        if (res.ok) {
          this.cache.noteWrite(res.revision);
          return { object: withRevision(stored, res.revision), deleted: false };
        }
      }
      if (attempt > 20) throw new InternalError(`too many concurrent updates to ${name}`);
    }
  }

  private shortensGrace(current: KubeObject, grace: number): boolean {
    const had = current.metadata.deletionGracePeriodSeconds;
    return had !== undefined && grace < had;
  }
}

function sameFinalizers(obj: KubeObject, set: Set<string>): boolean {
  const have = obj.metadata.finalizers ?? [];
  return have.length === set.size && have.every((f) => set.has(f));
}

/** The status subresource keeps everything but status from the stored object. */
/**
 * A status subresource write changes status, and labels and annotations as
 * Kubernetes' status strategies let through (the kubelet keeps node labels so);
 * spec and the rest of metadata stay as stored.
 */
function statusOnly(obj: KubeObject, current: KubeObject): void {
  const status = obj.status;
  const { managedFields, labels, annotations } = obj.metadata;
  for (const k of Object.keys(obj)) delete obj[k];
  Object.assign(obj, cloneJson(current));
  if (status === undefined) delete obj.status;
  else obj.status = status;
  if (managedFields) obj.metadata.managedFields = managedFields;
  if (labels) obj.metadata.labels = labels;
  else delete obj.metadata.labels;
  if (annotations) obj.metadata.annotations = annotations;
  else delete obj.metadata.annotations;
}

/**
 * A subresource that writes one member of spec: the member as `take` makes
 * it of what was sent (undefined: none), everything else as stored, but the
 * field ownership the write computed.
 */
function specMemberOnly(obj: KubeObject, current: KubeObject, member: string, take: (sent: unknown) => unknown): void {
  const sent = (obj.spec as Record<string, unknown> | undefined)?.[member];
  const managedFields = obj.metadata.managedFields;
  for (const k of Object.keys(obj)) delete obj[k];
  Object.assign(obj, cloneJson(current));
  const spec: Record<string, unknown> = { ...(obj.spec as Record<string, unknown> | undefined) };
  const value = take(sent);
  if (value === undefined) delete spec[member];
  else spec[member] = value;
  obj.spec = spec;
  if (managedFields) obj.metadata.managedFields = managedFields;
}

/** The ephemeralcontainers subresource (pods) changes spec.ephemeralContainers only (Kubernetes' dropNonEphemeralContainerUpdates). */
function ephemeralContainersOnly(obj: KubeObject, current: KubeObject): void {
  specMemberOnly(obj, current, 'ephemeralContainers', (sent) => sent ?? undefined);
}

/** The finalize subresource (namespaces) changes spec.finalizers only. */
function finalizersOnly(obj: KubeObject, current: KubeObject): void {
  specMemberOnly(obj, current, 'finalizers', (sent) => (Array.isArray(sent) ? sent : []));
}

/**
 * What is written to storage: the resourceVersion lives in the store's
 * revision, not the value. apiVersion, kind and metadata come first, as
 * Kubernetes writes them, which lets the cache and responses add the
 * resourceVersion to the text without parsing it (withResourceVersion).
 */
function storedForm(obj: KubeObject): KubeObject {
  const copy = {} as KubeObject;
  if (obj.apiVersion !== undefined) copy.apiVersion = obj.apiVersion;
  if (obj.kind !== undefined) copy.kind = obj.kind;
  copy.metadata = withoutResourceVersion(obj.metadata);
  for (const key of Object.keys(obj)) if (key !== 'apiVersion' && key !== 'kind' && key !== 'metadata') copy[key] = obj[key];
  return copy;
}

/** What a create or update returns: the object, and its JSON text with the resourceVersion, made from the stored text. */
function written(
  stored: KubeObject | undefined,
  value: string,
  revision: number,
  taken: CachedObject | undefined,
  created: boolean,
  own: (o: KubeObject) => KubeObject = (o) => o,
): WrittenObject & { readonly created: boolean } {
  if (taken) return new CopiedFromCache(taken, created);
  // Without the object (a create keeps only its text while it is written), the text gives it.
  const object = stored ? own(withRevision(stored, revision)) : withRevision(JSON.parse(value) as KubeObject, revision);
  const json = withResourceVersion(value, revision);
  return json === undefined ? { object, created } : { object, json, created };
}

function withRevision(obj: KubeObject, revision: number): KubeObject {
  obj.metadata.resourceVersion = String(revision);
  return obj;
}

/** Whether an update would store the same object (resourceVersion and managedFields aside). */
function sameStoredContent(a: KubeObject, b: KubeObject): boolean {
  const ignored = (key: string) => key === 'resourceVersion' || key === 'managedFields';
  if (!sameJsonMembers(a, b, (key) => key === 'metadata')) return false;
  return sameJsonMembers(a.metadata, b.metadata, ignored);
}

/** Equal as JSON data: members in any order, undefined members as absent, undefined array items as null. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    // JSON.stringify writes undefined array items (and non-finite numbers) as null.
    return jsonNull(a) && jsonNull(b);
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  return sameJsonMembers(a as Record<string, unknown>, b as Record<string, unknown>, () => false);
}

function jsonNull(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v));
}

function sameJsonMembers(a: Record<string, unknown>, b: Record<string, unknown>, skip: (key: string) => boolean): boolean {
  let counted = 0;
  for (const key in a) {
    if (!Object.prototype.hasOwnProperty.call(a, key) || skip(key)) continue;
    const av = a[key];
    if (av === undefined || typeof av === 'function') continue;
    counted++;
    const bv = Object.prototype.hasOwnProperty.call(b, key) ? b[key] : undefined;
    if (bv === undefined || typeof bv === 'function' || !sameJson(av, bv)) return false;
  }
  for (const key in b) {
    if (!Object.prototype.hasOwnProperty.call(b, key) || skip(key)) continue;
    const bv = b[key];
    if (bv === undefined || typeof bv === 'function') continue;
    counted--;
  }
  return counted === 0;
}

export function parseResourceVersion(rv: string): number {
  // A uint64, as kube-apiserver parses it: more than 20 digits, or above 2^64-1, is no resource version.
  if (!/^[0-9]{1,20}$/.test(rv) || BigInt(rv) > 0xffffffffffffffffn) {
    throw new ApiError(400, 'BadRequest', `invalid resource version "${rv}"`);
  }
  return Number(rv);
}

function encodeContinue(lastKey: string, rv: number): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: lastKey })).toString('base64url');
}

function decodeContinue(token: string, prefix: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { start?: unknown };
    if (typeof parsed.start === 'string' && parsed.start.startsWith(prefix)) return parsed.start;
  } catch {
    // fall through
  }
  throw new BadRequestError('continue key is not valid: the continue token is malformed or belongs to another list');
}

const suffixAlphabet = 'bcdfghjklmnpqrstvwxz2456789';
/** Five characters from Kubernetes' generateName alphabet (no vowels, no confusable digits). */
export function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += suffixAlphabet[Math.floor(Math.random() * suffixAlphabet.length)];
  return s;
}

let lastSecond = NaN;
let lastSecondText = '';

/** The current time in RFC 3339 at second precision (formatted once per second). */
export function nowSeconds(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    lastSecondText = secondsText(second);
  }
  return lastSecondText;
}

/** A time given in seconds since the epoch, in RFC 3339 at second precision (as metav1.Time). */
export function secondsText(second: number): string {
  return new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
