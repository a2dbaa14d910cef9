// One cache per resource, fed by a single storage watch, as kube-apiserver's
// cacher does: lists and watches are served from memory, and storage sees one
// watch per resource however many clients watch.
import type { Backend, KeyValue, Watch, WatchEvent } from '../storage/backend.js';
import { cloneJson, deepFreeze, type KubeObject } from '../api/object.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/**
 * An object as the cache holds it: its stored JSON text, and the parsed
 * object, parsed from the text when first read and then kept. An object
 * this server wrote is kept as written only where the version before it had
 * been read: most objects are only ever served as text (a create's response,
 * lists, unfiltered watches), and text alone is two heap objects where the
 * parsed form is dozens, which the collector's marking of a cache of many
 * thousands of pods is made of.
 *
 * The text is the value as stored, without the resourceVersion, which `json`
 * adds on each read. Keeping a copy of the text with it meant a second
 * string of the object's size for every write (made when the first reader
 * flattened the concatenation), and under load both strings outlived the
 * young generation: a label patch promoted 4.1 KB to the old generation,
 * against 2.8 KB with the stored text alone.
 */
export class CachedObject {
  private parsed: KubeObject | undefined;
  /** What `selectionBy` made of the object (attributes). */
  private selection: unknown;
  private selectionBy: unknown;

  /**
   * text: the stored value; rvAt: where its resourceVersion member goes
   * (resourceVersionAt), or -1 when the text has it already.
   */
  constructor(
    readonly key: string,
    private readonly text: string,
    private readonly rvAt: number,
    readonly revision: number,
    object?: KubeObject,
  ) {
    if (object !== undefined) this.parsed = frozen(object);
  }

  /** The object's JSON text, with its resourceVersion: a concatenation of the stored text's parts, copied only when written out. */
  get json(): string {
    return this.rvAt < 0 ? this.text : insertResourceVersion(this.text, this.rvAt, this.revision);
  }

  /** The object; shared by every reader, never to be changed. */
  get object(): KubeObject {
    this.parsed ??= frozen(JSON.parse(this.json) as KubeObject);
    return this.parsed;
  }

  /** The object for one read: the kept one, or parsed for this read alone (the entry stays text). */
  view(): KubeObject {
    return this.parsed ?? (JSON.parse(this.json) as KubeObject);
  }

  /**
   * What `of` makes of the object, made once and kept while `of` is the
   * function asked with (selectors' labels and fields): the object is
   * parsed for it alone when the entry is text, and not kept.
   */
  attributes<T>(of: (object: KubeObject) => T): T {
    if (this.selectionBy !== of) {
      this.selection = of(this.view());
      this.selectionBy = of;
    }
    return this.selection as T;
  }

  /** Whether the object has been parsed (or was given) and is kept. */
  get hasObject(): boolean {
    return this.parsed !== undefined;
  }

  /** A private copy of the object; the entry stays as it is (text only when it was). */
  copy(): KubeObject {
    return this.parsed === undefined ? (JSON.parse(this.json) as KubeObject) : cloneJson(this.parsed);
  }
}

export interface CacheEvent {
  type: EventType;
  key: string;
  current: CachedObject;
  /** The object before this event (for MODIFIED and DELETED); used to tell whether it left a watcher's filter. */
  previous?: CachedObject;
  revision: number;
}

export interface CacheWatcher {
  /** Events in revision order; return false to stop. */
  onEvent(ev: CacheEvent): void;
  /** The cache had to drop this watcher (it fell too far behind or the store watch failed). */
  onTerminate(reason: Error): void;
}

const metadataMember = '"metadata":{';

/**
 * Where metadata.resourceVersion goes in a stored value's JSON text, as the
 * first member of the top-level metadata, found without parsing it; -1 when
 * the text is not shaped so that this is safe to tell from the text alone
 * (no object or array opened before the top-level metadata, no
 * resourceVersion anywhere): callers then parse and re-serialize.
 */
export function resourceVersionAt(value: string): number {
  const at = value.indexOf(metadataMember);
  if (at < 1 || value.charCodeAt(0) !== 0x7b) return -1;
  // An opening quote after '{' or ',' starts a member name; with no '{' or '[' before it, one at the top level.
  const before = value.charCodeAt(at - 1);
  if (before !== 0x7b && before !== 0x2c) return -1;
  for (let i = 1; i < at; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x7b || c === 0x5b) return -1;
  }
  if (value.includes('"resourceVersion":')) return -1;
  return at + metadataMember.length;
}

function insertResourceVersion(value: string, at: number, revision: number): string {
  const rest = value.slice(at);
  return `${value.slice(0, at)}"resourceVersion":"${revision}"${rest.charCodeAt(0) === 0x7d ? '' : ','}${rest}`;
}

/** A stored value's JSON text with metadata.resourceVersion added (resourceVersionAt); undefined when that cannot be done on the text. */
export function withResourceVersion(value: string, revision: number): string | undefined {
  const at = resourceVersionAt(value);
  return at < 0 ? undefined : insertResourceVersion(value, at, revision);
}

/**
 * Cached objects are shared by every reader and must never change. With
 * NAMI_FREEZE_CACHE=1 (the test runs set it) they are frozen, so that code
 * writing into one fails loudly instead of changing what others read.
 */
const freezeCached = process.env.NAMI_FREEZE_CACHE === '1';

function frozen(object: KubeObject): KubeObject {
  return freezeCached ? deepFreeze(object) : object;
}

/**
 * What a resource does to each object read from storage before serving it
 * (a custom resource's defaults, applied on read as Kubernetes applies them).
 */
export type StoredDecoder = (object: KubeObject) => void;

/** Decodes a stored value, with the revision as metadata.resourceVersion; parsed when first read (at once when the resource has a decoder). */
export function decodeStored(kv: KeyValue, decode?: StoredDecoder): CachedObject {
  if (decode) {
    const object = JSON.parse(kv.value) as KubeObject;
    object.metadata.resourceVersion = String(kv.modRevision);
    decode(object);
    return new CachedObject(kv.key, JSON.stringify(object), -1, kv.modRevision, object);
  }
  const at = resourceVersionAt(kv.value);
  if (at >= 0) return new CachedObject(kv.key, kv.value, at, kv.modRevision);
  const object = JSON.parse(kv.value) as KubeObject;
  object.metadata.resourceVersion = String(kv.modRevision);
  return new CachedObject(kv.key, JSON.stringify(object), -1, kv.modRevision, object);
}

/**
 * A value this server wrote, from the object it serialized (which the cache
 * then owns): the same as decodeStored(kv) gives, without parsing the text;
 * the object is kept only when `keep` (the version before it had been read).
 */
function decodeOwnWrite(kv: KeyValue, stored: KubeObject | undefined, keep: boolean): CachedObject | undefined {
  const at = resourceVersionAt(kv.value);
  if (at < 0) return undefined;
  if (!keep || stored === undefined) return new CachedObject(kv.key, kv.value, at, kv.modRevision);
  stored.metadata = { resourceVersion: String(kv.modRevision), ...stored.metadata };
  return new CachedObject(kv.key, kv.value, at, kv.modRevision, stored);
}

/** A write this server is making, announced to the cache (WatchCache.expect). */
export interface OwnWrite {
  readonly value: string;
  /** Undefined when the writer keeps only the text (a create: the cache keeps created objects as text). */
  readonly object: KubeObject | undefined;
  /** Set when the cache took the object for the write's event. */
  taken?: CachedObject;
}

export class TooOldResourceVersionError extends Error {
  override readonly name = 'TooOldResourceVersionError';
  constructor(readonly requested: number, readonly oldest: number) {
    super(`too old resource version: ${requested} (${oldest})`);
  }
}

export interface WatchCacheOptions {
  /** How many recent events are kept for watches that resume from a revision. */
  historySize?: number;
  /** Applied to every object read from storage that this server did not just write. */
  decode?: StoredDecoder;
}

export class WatchCache {
  private readonly items = new Map<string, CachedObject>();
  private sortedKeys: string[] | undefined;
  private readonly history: CacheEvent[] = [];
  private readonly historySize: number;
  /** Revision the cache reflects; 0 until started. */
  private rev = 0;
  /** Oldest revision a watch may resume from with no gap. */
  private oldestResumable = 0;
  private storeWatch: Watch | undefined;
  private readonly watchers = new Set<CacheWatcher>();
  private waiters: { rev: number; resolve: () => void }[] = [];
  private ready: Promise<void> | undefined;
  private failure: Error | undefined;
  private lastWrite = 0;
  /** Writes this server is making, by key. */
  private readonly ownWrites = new Map<string, OwnWrite>();

  constructor(
    private readonly backend: Backend,
    readonly prefix: string,
    opts: WatchCacheOptions = {},
  ) {
    this.historySize = opts.historySize ?? 2000;
    this.decode = opts.decode;
  }

  private readonly decode: StoredDecoder | undefined;

  get revision(): number {
    return this.rev;
  }

  start(): Promise<void> {
    this.ready ??= this.load();
    return this.ready;
  }

  private async load(): Promise<void> {
    const listing = await this.backend.range(this.prefix);
    for (const kv of listing.kvs) this.items.set(kv.key, decodeStored(kv, this.decode));
    this.sortedKeys = undefined;
    this.rev = listing.revision;
    this.oldestResumable = listing.revision;
    this.storeWatch = this.backend.watch(
      this.prefix,
      { afterRevision: listing.revision, onProgress: (revision) => this.progress(revision) },
      (events) => this.apply(events),
      (err) => this.fail(err),
    );
  }

  private fail(err: Error): void {
    // The store watch broke (compaction raced us, backend restart): drop every
    // watcher so clients re-list, and reload from scratch.
    this.failure = err;
    for (const w of this.watchers) w.onTerminate(err);
    this.watchers.clear();
    this.items.clear();
    this.history.length = 0;
    this.ready = undefined;
    this.storeWatch = undefined;
    void this.start().then(
      () => {
        this.failure = undefined;
        this.releaseWaiters();
      },
      () => undefined,
    );
  }

  private apply(events: WatchEvent[]): void {
    for (const ev of events) {
      let cacheEvent: CacheEvent;
      if (ev.type === 'put') {
        const current = this.takeOwnWrite(ev.kv) ?? decodeStored(ev.kv, this.decode);
        const previous = this.items.get(ev.kv.key);
        if (!previous) this.sortedKeys = undefined;
        this.items.set(ev.kv.key, current);
        cacheEvent = { type: previous ? 'MODIFIED' : 'ADDED', key: ev.kv.key, current, previous, revision: ev.kv.modRevision };
      } else {
        const previous = this.items.get(ev.key) ?? decodeStored(ev.prev, this.decode);
        this.items.delete(ev.key);
        this.sortedKeys = undefined;
        // A DELETED event carries the last state with the deletion's revision, as Kubernetes sends it.
        const object = { ...previous.object, metadata: { ...previous.object.metadata, resourceVersion: String(ev.revision) } };
        const last = new CachedObject(ev.key, JSON.stringify(object), -1, ev.revision, object);
        cacheEvent = { type: 'DELETED', key: ev.key, current: last, previous, revision: ev.revision };
      }
      this.history.push(cacheEvent);
      if (this.history.length > this.historySize) {
        const dropped = this.history.shift()!;
        this.oldestResumable = dropped.revision;
      }
      this.rev = cacheEvent.revision;
      for (const w of this.watchers) w.onEvent(cacheEvent);
    }
    this.releaseWaiters();
  }

  /** The store moved on without touching this resource: the cache is current up to revision. */
  private progress(revision: number): void {
    if (revision <= this.rev) return;
    this.rev = revision;
    this.releaseWaiters();
  }

  private releaseWaiters(): void {
    if (this.waiters.length === 0) return;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) (w.rev <= this.rev ? w.resolve() : still.push(w));
    this.waiters = still;
  }

  /** Resolves once the cache reflects at least this revision. */
  async waitFor(rev: number, timeoutMs = 3000): Promise<void> {
    await this.start();
    if (rev <= this.rev) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out waiting for resource version ${rev} (cache is at ${this.rev})`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push({ rev, resolve: done });
    });
  }

  /**
   * Announces a write this server is about to make: when its event arrives,
   * the cache takes `object` (the stored form `value` was serialized from)
   * as its own instead of parsing the value, and says so in `taken`; the
   * writer must not touch the object after that. Every expect is followed
   * by settle once the write returned, whatever its outcome.
   */
  expect(key: string, value: string, object: KubeObject | undefined): OwnWrite {
    const own: OwnWrite = { value, object };
    this.ownWrites.set(key, own);
    return own;
  }

  settle(key: string, own: OwnWrite): void {
    if (this.ownWrites.get(key) === own) this.ownWrites.delete(key);
  }

  private takeOwnWrite(kv: KeyValue): CachedObject | undefined {
    const own = this.ownWrites.get(kv.key);
    if (own === undefined || own.value !== kv.value) return undefined;
    this.ownWrites.delete(kv.key);
    own.taken = decodeOwnWrite(kv, own.object, this.items.get(kv.key)?.hasObject ?? false);
    return own.taken;
  }

  /** Records a write this server made, so reads that follow it see it. */
  noteWrite(revision: number): void {
    if (revision > this.lastWrite) this.lastWrite = revision;
  }

  /**
   * Waits until the cache holds every write this server has acknowledged
   * for the resource: a read after a write sees the write. Writes made
   * through other API servers arrive through the store watch.
   */
  async sync(): Promise<void> {
    await this.start();
    if (this.lastWrite > this.rev) await this.waitFor(this.lastWrite);
  }

  get(key: string): CachedObject | undefined {
    return this.items.get(key);
  }

  /** Objects whose key starts with prefix, in key order. */
  list(prefix: string): CachedObject[] {
    const out: CachedObject[] = [];
    this.visit(prefix, undefined, (item) => {
      out.push(item);
      return true;
    });
    return out;
  }

  /**
   * Visits the objects under prefix in key order, from the first key after
   * `after` when it is given, until visit returns false. Returns how many
   * keys under prefix were left, counting the one visit stopped at: a page
   * of a list starts where the last ended without going through the keys
   * before it.
   */
  visit(prefix: string, after: string | undefined, visit: (item: CachedObject) => boolean): number {
    if (!this.sortedKeys) this.sortedKeys = [...this.items.keys()].sort();
    const keys = this.sortedKeys;
    const from = after !== undefined && after >= prefix ? firstIndex(keys, after, false) : firstIndex(keys, prefix, true);
    // Keys are ASCII: every key under prefix sorts below prefix + U+FFFF.
    const end = firstIndex(keys, `${prefix}\uffff`, true);
    for (let i = from; i < end; i++) {
      if (!visit(this.items.get(keys[i]!)!)) return end - i;
    }
    return 0;
  }

  /**
   * Registers a watcher for events after fromRevision. Events already in the
   * history are replayed first. Throws TooOldResourceVersionError when the
   * history no longer reaches back that far.
   */
  watch(fromRevision: number, watcher: CacheWatcher): () => void {
    if (this.failure) throw this.failure;
    if (fromRevision < this.oldestResumable) throw new TooOldResourceVersionError(fromRevision, this.oldestResumable);
    for (const ev of this.history) if (ev.revision > fromRevision) watcher.onEvent(ev);
    // Events at or before fromRevision are never the watcher's, even when they arrive later.
    const own: CacheWatcher = fromRevision < this.rev ? watcher : { onEvent: (ev) => ev.revision > fromRevision && watcher.onEvent(ev), onTerminate: (err) => watcher.onTerminate(err) };
    this.watchers.add(own);
    return () => this.watchers.delete(own);
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  stop(): void {
    this.storeWatch?.cancel();
    for (const w of this.watchers) w.onTerminate(new Error('cache stopped'));
    this.watchers.clear();
  }
}

/** The index of the first of the sorted keys above `key`, or at it too when `orAt`. */
function firstIndex(keys: readonly string[], key: string, orAt: boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = keys[mid]!;
    if (k < key || (!orAt && k === key)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
