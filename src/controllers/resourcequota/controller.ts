// The resource quota controller (Kubernetes' pkg/controller/resourcequota):
// keeps every ResourceQuota's status.hard equal to spec.hard and status.used
// equal to what its namespace uses of each hard resource, recomputed when the
// objects counted change. The objects are watched through the shared
// informers, started only for the kinds some quota counts (count/<resource>
// of any served resource included). Enforcement at admission is the API
// server's part.
import type { KubeObject } from '../../api/object.js';
import { Quantity } from '../../api/quantity.js';
import { discoverResources, type DiscoveredResource } from '../../client/discovery.js';
import { objectKey, rvAtLeast, type Informer, type InformerFactory } from '../../client/informer.js';
import type { ResourcePath, RestClient } from '../../client/rest.js';
import { quotaUsage, sourceKey, usageSource, type QuotaSpec, type UsageSource } from '../../api/quota/usage.js';
import { podsResource } from '../../client/core-resources.js';
import { QueueController, type QueueControllerOptions } from '../queue-controller.js';

const quotasResource = { group: '', version: 'v1', plural: 'resourcequotas' };
/** The kinds whose version is known without asking discovery. */
const builtin: Record<string, ResourcePath> = {
  pods: podsResource,
  services: { group: '', version: 'v1', plural: 'services' },
  persistentvolumeclaims: { group: '', version: 'v1', plural: 'persistentvolumeclaims' },
  configmaps: { group: '', version: 'v1', plural: 'configmaps' },
  secrets: { group: '', version: 'v1', plural: 'secrets' },
  replicationcontrollers: { group: '', version: 'v1', plural: 'replicationcontrollers' },
  resourcequotas: quotasResource,
};
/** How long a write of ours may take to show in the informer before we stop waiting for it. */
const staleCacheLimitMs = 30_000;

/** How long a sync waits for the informer of a newly counted kind. */
const informerSyncWaitMs = 10_000;
/** How often discovery may be asked again about a resource it did not know. */
const rediscoverMs = 30_000;

export interface ResourceQuotaControllerOptions extends QueueControllerOptions {
  /** Every quota is recomputed this often, for pods whose deletion grace ran out (5 min; 0 = never). */
  resyncPeriodMs?: number;
}

type Quota = KubeObject & { spec?: QuotaSpec; status?: { hard?: Record<string, string>; used?: Record<string, string> } };

function sameQuantities(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    const x = Quantity.tryParse(a![k]);
    const y = Quantity.tryParse(b[k]);
    if (!x || !y || !x.equals(y)) return false;
  }
  return true;
}

export class ResourceQuotaController extends QueueController {
  private readonly quotas: Informer;
  /** Informers of the counted kinds, by source key. */
  private readonly counted = new Map<string, Informer>();
  private discovered: { at: number; resources: DiscoveredResource[] } | undefined;
  /** Our last status write per quota, until the informer shows it (a sync on an older copy would only conflict). */
  private readonly written = new Map<string, { rv: string; since: number }>();
  private resync: NodeJS.Timeout | undefined;

  constructor(
    factory: InformerFactory,
    private readonly opts: ResourceQuotaControllerOptions = {},
  ) {
    super(factory, opts, 2);
    this.quotas = this.informer(quotasResource);
    // Our own status writes come back as updates too; their sync finds nothing to do.
    this.quotas.on({ add: (q) => this.queue.add(objectKey(q)), update: (_old, q) => this.queue.add(objectKey(q)) });
  }

  override async start(): Promise<void> {
    await super.start();
    const period = this.opts.resyncPeriodMs ?? 300_000;
    if (period > 0) {
      this.resync = setInterval(() => {
        for (const q of this.quotas.list()) this.queue.add(objectKey(q));
      }, period);
      this.resync.unref();
    }
  }

  override stop(): void {
    super.stop();
    if (this.resync) clearInterval(this.resync);
  }

  /** The informer of a counted kind, created (and synced) the first time a quota needs it; undefined when not served. */
  private async informerFor(source: UsageSource): Promise<Informer | undefined> {
    const key = sourceKey(source);
    let informer = this.counted.get(key);
    if (!informer) {
      const path = await this.resolve(source);
      if (!path) return undefined;
      informer = this.factory.informer(path);
      this.counted.set(key, informer);
      // Any change of a counted object may change the quotas of its namespace.
      const enqueue = (obj: KubeObject) => {
        for (const q of this.quotas.inNamespace(obj.metadata.namespace ?? '')) this.queue.add(objectKey(q));
      };
      informer.on({ add: enqueue, update: (_old, obj) => enqueue(obj), delete: enqueue });
    }
    void informer.start();
    if (!informer.synchronized) {
      // A kind that cannot be listed must not hold a worker for ever: the quota is retried later.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([informer.synced, new Promise((resolve) => (timer = setTimeout(resolve, informerSyncWaitMs)))]);
      clearTimeout(timer);
      if (!informer.synchronized) throw new Error(`the informer of ${key} has not synced yet`);
    }
    return informer;
  }

  private async resolve(source: UsageSource): Promise<ResourcePath | undefined> {
    const key = source.kind === 'count' ? (source.group ? undefined : source.plural) : source.kind;
    if (key && builtin[key]) return builtin[key];
    if (source.kind !== 'count') return undefined;
    const find = () => this.discovered?.resources.find((r) => r.group === source.group && r.plural === source.plural && r.namespaced && r.verbs.includes('list') && r.verbs.includes('watch'));
    if (!find() && (!this.discovered || Date.now() - this.discovered.at > rediscoverMs)) {
      this.discovered = { at: Date.now(), resources: await discoverResources(this.client) };
    }
    const r = find();
    return r ? { group: r.group, version: r.version, plural: r.plural } : undefined;
  }

  async sync(key: string): Promise<void> {
    const quota = this.quotas.get(key) as Quota | undefined;
    if (!quota) {
      this.written.delete(key);
      return;
    }
    const w = this.written.get(key);
    if (w) {
      // The informer event for our write brings the quota back to the queue.
      if (!rvAtLeast(quota.metadata.resourceVersion, w.rv) && Date.now() - w.since < staleCacheLimitMs) return;
      this.written.delete(key);
    }
    const namespace = quota.metadata.namespace ?? '';
    const hard = quota.spec?.hard ?? {};
    const informers = new Map<string, Informer | undefined>();
    for (const name of Object.keys(hard)) {
      const source = usageSource(name);
      if (source && !informers.has(sourceKey(source))) informers.set(sourceKey(source), await this.informerFor(source));
    }
    const computed = quotaUsage(quota.spec ?? {}, (source) => informers.get(sourceKey(source))?.inNamespace(namespace), Date.now());
    // Names no evaluator knows keep what they had (as Kubernetes keeps them).
    const used: Record<string, string> = {};
    for (const name of Object.keys(hard)) {
      const value = computed[name] ?? quota.status?.used?.[name];
      if (value !== undefined) used[name] = value;
    }
    if (sameQuantities(quota.status?.hard, hard) && sameQuantities(quota.status?.used, used)) return;
    const written = await this.client.update({ ...quotasResource, namespace, name: quota.metadata.name, subresource: 'status' }, { ...quota, status: { hard: { ...hard }, used } });
    this.written.set(key, { rv: written.metadata.resourceVersion ?? '', since: Date.now() });
    this.log(`resourcequota ${key}: used ${Object.entries(used).map(([k, v]) => `${k}=${v}`).join(', ') || 'nothing'}`);
  }
}
