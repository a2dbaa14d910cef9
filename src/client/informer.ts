// List + watch + local cache, as client-go's shared informer: resumes a
// dropped watch from the last resourceVersion, re-lists after 410 Gone, and
// tells handlers what changed.
import type { KubeList, KubeObject } from '../api/object.js';
import { ApiError } from '../api/errors.js';
import type { ResourcePath, RestClient } from './rest.js';

export interface InformerHandlers {
  add?(obj: KubeObject): void;
  update?(oldObj: KubeObject, newObj: KubeObject): void;
  delete?(obj: KubeObject): void;
}

export interface InformerOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Re-deliver every cached object as an update this often (0 = never). */
  resyncMs?: number;
  log?: (line: string) => void;
}

export function objectKey(obj: KubeObject): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : (obj.metadata.name ?? '');
}

/**
 * Whether a cached object's resourceVersion is at least the one a write
 * returned, i.e. the cache shows that write (numeric revisions compare; other
 * ones must be equal).
 */
export function rvAtLeast(seen: string | undefined, wrote: string): boolean {
  if (seen === undefined) return false;
  if (/^\d+$/.test(seen) && /^\d+$/.test(wrote)) return BigInt(seen) >= BigInt(wrote);
  return seen === wrote;
}

class Gone extends Error {}

/** Maps an object to the index values it is found under (client-go's IndexFunc). */
export type IndexFunc = (obj: KubeObject) => string[];

/** The namespace index every informer has. */
export const namespaceIndex = 'namespace';

export class Informer {
  private readonly items = new Map<string, KubeObject>();
  private readonly handlers: InformerHandlers[] = [];
  private readonly indexers = new Map<string, IndexFunc>([[namespaceIndex, (o) => [o.metadata.namespace ?? '']]]);
  /** index name -> value -> keys */
  private readonly indexes = new Map<string, Map<string, Set<string>>>([[namespaceIndex, new Map()]]);
  private hasSynced = false;
  private running = false;
  private resourceVersion = '';
  private stopped = false;
  private current: { stop(): void } | undefined;
  private syncedResolve: (() => void) | undefined;
  readonly synced: Promise<void>;
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: RestClient,
    private readonly resource: ResourcePath,
    private readonly opts: InformerOptions = {},
  ) {
    this.synced = new Promise((resolve) => (this.syncedResolve = resolve));
  }

  /** Adds handlers; once the informer has synced, they first get an add for every cached object. */
  on(handlers: InformerHandlers): void {
    this.handlers.push(handlers);
    if (this.hasSynced) for (const obj of this.items.values()) handlers.add?.(obj);
  }

  get(key: string): KubeObject | undefined {
    return this.items.get(key);
  }

  list(): KubeObject[] {
    return [...this.items.values()];
  }

  /** True once the first list has been taken in. */
  get synchronized(): boolean {
    return this.hasSynced;
  }

  /** Indexes the cache by fn's values (for example pods by spec.nodeName); add before start(). */
  addIndex(name: string, fn: IndexFunc): void {
    this.indexers.set(name, fn);
    const index = new Map<string, Set<string>>();
    this.indexes.set(name, index);
    for (const [key, obj] of this.items) for (const v of fn(obj)) addTo(index, v, key);
  }

  /** The cached objects found under value in the named index. */
  byIndex(name: string, value: string): KubeObject[] {
    const keys = this.indexes.get(name)?.get(value);
    if (!keys) return [];
    const out: KubeObject[] = [];
    for (const key of keys) {
      const obj = this.items.get(key);
      if (obj) out.push(obj);
    }
    return out;
  }

  /** The cached objects in one namespace. */
  inNamespace(namespace: string): KubeObject[] {
    return this.byIndex(namespaceIndex, namespace);
  }

  private store(key: string, obj: KubeObject | undefined): KubeObject | undefined {
    const old = this.items.get(key);
    if (old) for (const [name, fn] of this.indexers) for (const v of fn(old)) this.indexes.get(name)!.get(v)?.delete(key);
    if (obj) {
      this.items.set(key, obj);
      for (const [name, fn] of this.indexers) for (const v of fn(obj)) addTo(this.indexes.get(name)!, v, key);
    } else this.items.delete(key);
    return old;
  }

  /** Starts listing and watching (once; later calls just wait for the sync). */
  start(): Promise<void> {
    if (this.running) return this.synced;
    this.running = true;
    void this.run();
    if (this.opts.resyncMs) {
      this.resyncTimer = setInterval(() => {
        for (const obj of this.items.values()) for (const h of this.handlers) h.update?.(obj, obj);
      }, this.opts.resyncMs);
      this.resyncTimer.unref();
    }
    return this.synced;
  }

  stop(): void {
    this.stopped = true;
    this.current?.stop();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
  }

  private selectors(): Record<string, string | undefined> {
    return { labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector };
  }

  private async run(): Promise<void> {
    let backoff = 100;
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
        }
        await this.watchOnce();
        backoff = 100;
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof Gone || (err instanceof ApiError && err.code === 410)) {
          needList = true;
          continue;
        }
        this.opts.log?.(`informer ${this.resource.plural}: ${(err as Error).message}; retrying in ${backoff} ms`);
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.client.list<KubeList>(this.resource, this.selectors());
    const seen = new Set<string>();
    for (const item of list.items) {
      const key = objectKey(item);
      seen.add(key);
      const old = this.store(key, item);
      for (const h of this.handlers) (old ? h.update?.(old, item) : h.add?.(item));
    }
    for (const [key, old] of [...this.items]) {
      if (!seen.has(key)) {
        this.store(key, undefined);
        for (const h of this.handlers) h.delete?.(old);
      }
    }
    this.resourceVersion = list.metadata.resourceVersion ?? '';
    this.hasSynced = true;
    this.syncedResolve?.();
  }

  private async watchOnce(): Promise<void> {
    let gone = false;
    const handle = this.client.watch(this.resource, { ...this.selectors(), resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 300 }, (type, obj) => {
      if (type === 'ERROR') {
        const code = (obj as unknown as { code?: number }).code;
        if (code === 410) gone = true;
        handle.stop();
        return;
      }
      if (obj.metadata?.resourceVersion) this.resourceVersion = obj.metadata.resourceVersion;
      if (type === 'BOOKMARK') return;
      const key = objectKey(obj);
      if (type === 'DELETED') {
        this.store(key, undefined);
        for (const h of this.handlers) h.delete?.(obj);
        return;
      }
      const old = this.store(key, obj);
      for (const h of this.handlers) (old ? h.update?.(old, obj) : h.add?.(obj));
    });
    this.current = handle;
    await handle.done;
    if (gone) throw new Gone('watch expired');
  }
}

function addTo(index: Map<string, Set<string>>, value: string, key: string): void {
  let keys = index.get(value);
  if (!keys) {
    keys = new Set();
    index.set(value, keys);
  }
  keys.add(key);
}

/**
 * One informer per resource (and selector), shared by every controller of a
 * process, as client-go's SharedInformerFactory.
 */
export class InformerFactory {
  private readonly informers = new Map<string, Informer>();
  private started = false;

  constructor(
    readonly client: RestClient,
    private readonly opts: Pick<InformerOptions, 'resyncMs' | 'log'> = {},
  ) {}

  informer(resource: ResourcePath, selectors: Pick<InformerOptions, 'labelSelector' | 'fieldSelector'> = {}): Informer {
    const key = JSON.stringify([resource.group, resource.version, resource.plural, resource.namespace ?? '', selectors.labelSelector ?? '', selectors.fieldSelector ?? '']);
    let informer = this.informers.get(key);
    if (!informer) {
      informer = new Informer(this.client, resource, { ...this.opts, ...selectors });
      this.informers.set(key, informer);
      if (this.started) void informer.start();
    }
    return informer;
  }

  /** Starts every informer asked for so far (and later ones as they are asked for); resolves when all have synced. */
  async start(): Promise<void> {
    this.started = true;
    await Promise.all([...this.informers.values()].map((i) => i.start()));
  }

  stop(): void {
    for (const i of this.informers.values()) i.stop();
  }
}
