// The garbage collector (Kubernetes' pkg/controller/garbagecollector): watches
// every listable, watchable, deletable resource (found by discovery, again
// when custom resource definitions change) and acts on ownerReferences:
// - background: an object all of whose owners are gone is deleted;
// - foreground: an owner with deletionTimestamp and the foregroundDeletion
//   finalizer has its blockOwnerDeletion dependents deleted (in the foreground
//   themselves when they have dependents), then loses the finalizer;
// - orphan: an owner with deletionTimestamp and the orphan finalizer is
//   removed from its dependents' ownerReferences, then loses the finalizer.
// The informers' caches stand for Kubernetes' dependency graph: two indexes
// per resource (by uid and by owner uid) answer "who is this uid" and "who
// depends on it". Handlers only enqueue uids; sync(uid) is level-triggered.
import { ApiError } from '../../api/errors.js';
import type { KubeObject, OwnerReference } from '../../api/object.js';
import { splitApiVersion } from '../../api/resources.js';
import { discoverResources, type DiscoveredResource } from '../../client/discovery.js';
import type { Informer, InformerFactory } from '../../client/informer.js';
import type { ResourcePath, RestClient } from '../../client/rest.js';
import { EventRecorder } from '../../client/events.js';
import { WorkQueue, runWorkers } from '../../client/work-queue.js';
import { decide, foregroundFinalizer, orphanFinalizer, type Classified, type Propagation } from './decide.js';

export interface GarbageCollectorOptions {
  log?: (line: string) => void;
  workers?: number;
  /** How often discovery runs again for new resources (custom resources); default 30 s. */
  rediscoverMs?: number;
  /** How long start() waits for the informers' first lists; default 60 s. */
  syncTimeoutMs?: number;
  /** Resources never watched, as "group/plural" ("" group for core); default the two Event resources, as Kubernetes. */
  ignoredResources?: string[];
}

const uidIndex = 'gc-uid';
const ownerIndex = 'gc-owner-uid';
const crdResource = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions' };
const defaultIgnored = ['/events', 'events.k8s.io/events'];
const absentCacheLimit = 500;

interface Watched {
  resource: DiscoveredResource;
  informer: Informer;
}

interface Found {
  obj: KubeObject;
  resource: DiscoveredResource;
}

function isStatus(err: unknown, ...codes: number[]): boolean {
  return err instanceof ApiError && codes.includes(err.code);
}

function refsOf(obj: KubeObject): OwnerReference[] {
  return obj.metadata.ownerReferences ?? [];
}

function sameRefs(a: KubeObject, b: KubeObject): boolean {
  return JSON.stringify(refsOf(a)) === JSON.stringify(refsOf(b));
}

function hasFinalizer(obj: KubeObject, f: string): boolean {
  return (obj.metadata.finalizers ?? []).includes(f);
}

/** deletionTimestamp and the foregroundDeletion finalizer: waiting for its dependents to go. */
export function isDeletingDependents(obj: KubeObject): boolean {
  return !!obj.metadata.deletionTimestamp && hasFinalizer(obj, foregroundFinalizer);
}

class RestMappingError extends Error {}

export class GarbageCollector {
  private readonly client: RestClient;
  private readonly log: (line: string) => void;
  private readonly watched = new Map<string, Watched>();
  /** group/Kind -> resource, for owner references. */
  private readonly kinds = new Map<string, DiscoveredResource>();
  /** Owners known to be gone (Kubernetes' absentOwnerCache). */
  private readonly absent = new Set<string>();
  private readonly ignored: Set<string>;
  readonly queue = new WorkQueue();
  private readonly recorder: EventRecorder;
  private rediscoverTimer: NodeJS.Timeout | undefined;
  private rediscoverSoon: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly crds: Informer;

  constructor(
    private readonly factory: InformerFactory,
    private readonly opts: GarbageCollectorOptions = {},
  ) {
    this.client = factory.client;
    this.log = opts.log ?? (() => undefined);
    this.ignored = new Set(opts.ignoredResources ?? defaultIgnored);
    this.recorder = new EventRecorder(this.client, 'garbage-collector-controller');
    this.crds = factory.informer(crdResource);
    const later = () => this.scheduleRediscovery();
    this.crds.on({ add: later, update: later, delete: later });
  }

  async start(): Promise<void> {
    // Without discovery there is nothing to watch yet; the periodic rediscovery tries again.
    await this.discover().catch((err) => this.log(`garbage collector: discovery failed: ${(err as Error).message}`));
    // Wait for the caches (a resource that cannot be listed must not hold the collector back for ever).
    let timer: NodeJS.Timeout | undefined;
    const synced = Promise.all([...this.watched.values()].map((w) => w.informer.start())).then(() => true);
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), this.opts.syncTimeoutMs ?? 60_000)));
    if (!(await Promise.race([synced, timedOut]))) this.log('garbage collector: not every informer synced in time; starting anyway');
    clearTimeout(timer);
    void this.crds.start();
    void runWorkers(this.queue, this.opts.workers ?? 4, (uid) => this.sync(uid), this.log);
    this.rediscoverTimer = setInterval(() => void this.discover().catch((err) => this.log(`garbage collector: discovery failed: ${(err as Error).message}`)), this.opts.rediscoverMs ?? 30_000);
    this.rediscoverTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    this.queue.shutDown();
    if (this.rediscoverTimer) clearInterval(this.rediscoverTimer);
    if (this.rediscoverSoon) clearTimeout(this.rediscoverSoon);
  }

  /** The resources watched now (group/plural), for tests and logs. */
  watchedResources(): string[] {
    return [...this.watched.keys()].sort();
  }

  private scheduleRediscovery(): void {
    if (this.stopped || this.rediscoverSoon) return;
    this.rediscoverSoon = setTimeout(() => {
      this.rediscoverSoon = undefined;
      void this.discover().catch((err) => this.log(`garbage collector: discovery failed: ${(err as Error).message}`));
    }, 200);
    this.rediscoverSoon.unref();
  }

  /** Watches every resource discovery shows that can be listed, watched and deleted (GetDeletableResources). */
  private async discover(): Promise<void> {
    if (this.stopped) return;
    const resources = await discoverResources(this.client);
    for (const r of resources) this.kinds.set(`${r.group}/${r.kind}`, r);
    for (const r of resources) {
      const key = `${r.group}/${r.plural}`;
      if (this.watched.has(key) || this.ignored.has(key)) continue;
      if (!['list', 'watch', 'delete'].every((v) => r.verbs.includes(v))) continue;
      const informer = this.factory.informer({ group: r.group, version: r.version, plural: r.plural });
      informer.addIndex(uidIndex, (o) => (o.metadata.uid ? [o.metadata.uid] : []));
      informer.addIndex(ownerIndex, (o) => refsOf(o).map((ref) => ref.uid));
      informer.on({
        add: (obj) => this.onAdd(obj),
        update: (old, cur) => this.onUpdate(old, cur),
        delete: (obj) => this.onDelete(obj),
      });
      this.watched.set(key, { resource: r, informer });
      void informer.start();
    }
  }

  // ------------------------------------------------------------ handlers (enqueue only)

  private enqueue(uid: string | undefined): void {
    if (uid) this.queue.add(uid);
  }

  private onAdd(obj: KubeObject): void {
    if (refsOf(obj).length > 0 || this.waitsOnGc(obj)) this.enqueue(obj.metadata.uid);
  }

  private onUpdate(old: KubeObject, cur: KubeObject): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    if (this.waitsOnGc(cur)) this.enqueue(cur.metadata.uid);
    if (!sameRefs(old, cur)) {
      if (refsOf(cur).length > 0) this.enqueue(cur.metadata.uid);
      // An owner waiting for its dependents looks again when one lets go of it.
      const still = new Set(refsOf(cur).map((r) => r.uid));
      for (const ref of refsOf(old)) if (!still.has(ref.uid)) this.enqueue(ref.uid);
    }
  }

  private onDelete(obj: KubeObject): void {
    const uid = obj.metadata.uid;
    if (uid) {
      const dependents = this.dependentsOf(uid);
      if (dependents.length > 0) this.rememberAbsent(uid);
      for (const dep of dependents) this.enqueue(dep.obj.metadata.uid);
    }
    for (const ref of refsOf(obj)) this.enqueue(ref.uid);
  }

  /** Being deleted with a finalizer the garbage collector serves. */
  private waitsOnGc(obj: KubeObject): boolean {
    return !!obj.metadata.deletionTimestamp && (hasFinalizer(obj, orphanFinalizer) || hasFinalizer(obj, foregroundFinalizer));
  }

  private rememberAbsent(uid: string): void {
    if (this.absent.size >= absentCacheLimit) this.absent.clear();
    this.absent.add(uid);
  }

  // ------------------------------------------------------------ the graph, from the caches

  private findByUid(uid: string): Found | undefined {
    for (const w of this.watched.values()) {
      const obj = w.informer.byIndex(uidIndex, uid)[0];
      if (obj) return { obj, resource: w.resource };
    }
    return undefined;
  }

  private dependentsOf(uid: string): Found[] {
    const out: Found[] = [];
    for (const w of this.watched.values()) for (const obj of w.informer.byIndex(ownerIndex, uid)) out.push({ obj, resource: w.resource });
    return out;
  }

  private pathOf(resource: DiscoveredResource, obj: KubeObject): ResourcePath {
    return { group: resource.group, version: resource.version, plural: resource.plural, namespace: resource.namespaced ? obj.metadata.namespace : undefined, name: obj.metadata.name };
  }

  // ------------------------------------------------------------ sync

  async sync(uid: string): Promise<void> {
    const found = this.findByUid(uid);
    if (!found) return;
    const { obj, resource } = found;
    if (obj.metadata.deletionTimestamp) {
      if (hasFinalizer(obj, orphanFinalizer)) return this.orphanDependents(found);
      if (hasFinalizer(obj, foregroundFinalizer)) return this.processDeletingDependents(found);
      // Being deleted otherwise: its dependents are looked at once it is gone.
      return;
    }
    const refs = refsOf(obj);
    if (refs.length === 0) return;
    const classified = await this.classify(obj, refs);
    if (!classified) return;
    const dependents = this.dependentsOf(uid);
    const decision = decide(classified, obj.metadata.finalizers ?? [], dependents.length > 0, dependents.some((d) => isDeletingDependents(d.obj)));
    switch (decision.action) {
      case 'none':
        return;
      case 'removeRefs':
        this.log(`garbage collector: ${resource.plural} ${obj.metadata.namespace ?? ''}/${obj.metadata.name}: removing references to ${decision.uids.join(', ')}`);
        await this.patchOwnerRefs(found, (ref) => (decision.uids.includes(ref.uid) ? undefined : ref));
        return;
      case 'delete':
        if (decision.unblockFirst) await this.patchOwnerRefs(found, (ref) => (ref.blockOwnerDeletion ? { ...ref, blockOwnerDeletion: false } : ref));
        await this.deleteObject(found, decision.propagation);
        return;
    }
  }

  /**
   * classifyReferences: each owner solid, dangling or waiting for its
   * dependents. Owners are looked up in the caches by uid, else read from the
   * API server (a cache can lag behind a create). Undefined when the object
   * cannot have its owners (a cluster-scoped object with a namespaced owner).
   */
  private async classify(obj: KubeObject, refs: OwnerReference[]): Promise<Classified | undefined> {
    const out: Classified = { solid: [], dangling: [], waiting: [] };
    for (const ref of refs) {
      const owner = await this.lookUpOwner(obj, ref);
      if (owner === 'invalid') {
        void this.recorder.record(obj, 'Warning', 'OwnerRefInvalidNamespace', `ownerRef ${JSON.stringify(ref)} does not resolve to a valid cluster-scoped object`);
        return undefined;
      }
      if (!owner) out.dangling.push(ref);
      else if (isDeletingDependents(owner)) out.waiting.push(ref);
      else out.solid.push(ref);
    }
    return out;
  }

  private async lookUpOwner(obj: KubeObject, ref: OwnerReference): Promise<KubeObject | undefined | 'invalid'> {
    if (this.absent.has(ref.uid)) return undefined;
    const resource = this.kinds.get(`${splitApiVersion(ref.apiVersion ?? '').group}/${ref.kind}`);
    if (!resource) throw new RestMappingError(`unable to get REST mapping for ${ref.apiVersion}/${ref.kind}`);
    const namespace = obj.metadata.namespace ?? '';
    if (!namespace && resource.namespaced) return 'invalid';
    const cached = this.findByUid(ref.uid);
    if (
      cached &&
      cached.resource.group === resource.group &&
      cached.resource.kind === resource.kind &&
      cached.obj.metadata.name === ref.name &&
      (!resource.namespaced || cached.obj.metadata.namespace === namespace)
    ) {
      return cached.obj;
    }
    try {
      const live = await this.client.get({ group: resource.group, version: resource.version, plural: resource.plural, namespace: resource.namespaced ? namespace : undefined, name: ref.name });
      if (live.metadata.uid === ref.uid) return live;
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
    this.rememberAbsent(ref.uid);
    return undefined;
  }

  private async deleteObject(found: Found, propagation: Propagation): Promise<void> {
    const { obj, resource } = found;
    this.log(`garbage collector: deleting ${resource.plural} ${obj.metadata.namespace ?? ''}/${obj.metadata.name} (${propagation})`);
    try {
      await this.client.delete(this.pathOf(resource, obj), { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: propagation, preconditions: { uid: obj.metadata.uid } });
    } catch (err) {
      // Gone already, or the name now belongs to another object (the uid precondition).
      if (isStatus(err, 404, 409)) return;
      throw err;
    }
  }

  /**
   * Rewrites an object's ownerReferences (a JSON merge patch of the whole
   * list, pinned to the resourceVersion just read, as Kubernetes does for
   * kinds without strategic merge patch).
   */
  private async patchOwnerRefs(found: Found, change: (ref: OwnerReference) => OwnerReference | undefined): Promise<void> {
    await this.patchLive(found, (latest) => {
      const refs = refsOf(latest);
      const next = refs.map(change).filter((r): r is OwnerReference => r !== undefined);
      if (JSON.stringify(next) === JSON.stringify(refs)) return undefined;
      return { ownerReferences: next.length > 0 ? next : null, uid: latest.metadata.uid };
    });
  }

  /** removeFinalizer: drops one finalizer from the live object, retrying on conflicts. */
  private async removeFinalizer(found: Found, finalizer: string): Promise<void> {
    const removed = await this.patchLive(found, (latest) => {
      const finalizers = latest.metadata.finalizers ?? [];
      if (!finalizers.includes(finalizer)) return undefined;
      const next = finalizers.filter((f) => f !== finalizer);
      return { finalizers: next.length > 0 ? next : null };
    });
    if (removed) this.log(`garbage collector: removed finalizer ${finalizer} from ${found.resource.plural} ${found.obj.metadata.namespace ?? ''}/${found.obj.metadata.name}`);
  }

  /**
   * Reads the live object and writes the metadata `change` makes of it as a
   * JSON merge patch pinned to the resourceVersion read, again on a conflict
   * (up to five times). Nothing is written when the object is gone or is
   * another one under the name by now, or when `change` has nothing to do
   * (undefined). True when the patch was written.
   */
  private async patchLive(found: Found, change: (latest: KubeObject) => Record<string, unknown> | undefined): Promise<boolean> {
    const path = this.pathOf(found.resource, found.obj);
    for (let attempt = 0; ; attempt++) {
      let latest: KubeObject;
      try {
        latest = await this.client.get(path);
      } catch (err) {
        if (isStatus(err, 404)) return false;
        throw err;
      }
      if (latest.metadata.uid !== found.obj.metadata.uid) return false;
      const metadata = change(latest);
      if (!metadata) return false;
      try {
        await this.client.patch(path, { metadata: { ...metadata, resourceVersion: latest.metadata.resourceVersion } }, 'merge');
        return true;
      } catch (err) {
        if (isStatus(err, 404)) return false;
        if (isStatus(err, 409) && attempt < 5) continue;
        throw err;
      }
    }
  }

  /** attemptToOrphan: the owner leaves its dependents' ownerReferences, then loses the orphan finalizer. */
  private async orphanDependents(owner: Found): Promise<void> {
    const uid = owner.obj.metadata.uid ?? '';
    const errors: string[] = [];
    await Promise.all(
      this.dependentsOf(uid).map(async (dep) => {
        try {
          await this.patchOwnerRefs(dep, (ref) => (ref.uid === uid ? undefined : ref));
        } catch (err) {
          errors.push(`orphaning ${dep.resource.plural} ${dep.obj.metadata.namespace ?? ''}/${dep.obj.metadata.name} failed, ${(err as Error).message}`);
        }
      }),
    );
    if (errors.length > 0) throw new Error(`failed to orphan dependents of owner ${owner.obj.metadata.name}, got errors: ${errors.join(', ')}`);
    await this.removeFinalizer(owner, orphanFinalizer);
  }

  /** processDeletingDependentsItem: blocking dependents go first (they are queued), then the finalizer. */
  private async processDeletingDependents(owner: Found): Promise<void> {
    const uid = owner.obj.metadata.uid ?? '';
    const blocking = this.dependentsOf(uid).filter((d) => refsOf(d.obj).some((r) => r.uid === uid && r.blockOwnerDeletion === true));
    if (blocking.length === 0) {
      await this.removeFinalizer(owner, foregroundFinalizer);
      return;
    }
    for (const dep of blocking) if (!isDeletingDependents(dep.obj)) this.enqueue(dep.obj.metadata.uid);
  }
}
