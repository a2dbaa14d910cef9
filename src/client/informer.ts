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

class Gone extends Error {}

export class Informer {
  private readonly items = new Map<string, KubeObject>();
  private readonly handlers: InformerHandlers[] = [];
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

  on(handlers: InformerHandlers): void {
    this.handlers.push(handlers);
  }

  get(key: string): KubeObject | undefined {
    return this.items.get(key);
  }

  list(): KubeObject[] {
    return [...this.items.values()];
  }

  start(): Promise<void> {
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
      const old = this.items.get(key);
      this.items.set(key, item);
      for (const h of this.handlers) (old ? h.update?.(old, item) : h.add?.(item));
    }
    for (const [key, old] of this.items) {
      if (!seen.has(key)) {
        this.items.delete(key);
        for (const h of this.handlers) h.delete?.(old);
      }
    }
    this.resourceVersion = list.metadata.resourceVersion ?? '';
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
      const old = this.items.get(key);
      if (type === 'DELETED') {
        this.items.delete(key);
        for (const h of this.handlers) h.delete?.(obj);
        return;
      }
      this.items.set(key, obj);
      for (const h of this.handlers) (old ? h.update?.(old, obj) : h.add?.(obj));
    });
    this.current = handle;
    await handle.done;
    if (gone) throw new Gone('watch expired');
  }
}
