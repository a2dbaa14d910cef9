// The namespace lifecycle controller: when a namespace is being deleted,
// delete everything in it, then remove the "kubernetes" finalizer so the
// API server can delete the namespace itself.
import { ApiError } from '../../api/errors.js';
import type { KubeList, KubeObject } from '../../api/object.js';
import { discoverResources, type DiscoveredResource } from '../../client/discovery.js';
import type { Informer, InformerFactory } from '../../client/informer.js';
import { QueueController, type QueueControllerOptions } from '../queue-controller.js';

const namespacesResource = { group: '', version: 'v1', plural: 'namespaces' };
/** How soon to look again at a namespace whose content is still going away. */
const recheckMs = 1000;

export type NamespaceControllerOptions = QueueControllerOptions;

export class NamespaceController extends QueueController {
  private readonly namespaces: Informer;

  constructor(factory: InformerFactory, opts: NamespaceControllerOptions = {}) {
    super(factory, opts, 2);
    this.namespaces = this.informer(namespacesResource);
    const enqueue = (ns: KubeObject) => {
      if (ns.metadata.deletionTimestamp) this.queue.add(ns.metadata.name!);
    };
    this.namespaces.on({ add: enqueue, update: (_old, ns) => enqueue(ns) });
  }

  async sync(name: string): Promise<void> {
    const ns = this.namespaces.get(name);
    if (!ns?.metadata.deletionTimestamp) return;
    const finalizers = ((ns.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []) as string[];
    if (!finalizers.includes('kubernetes')) return;
    const resources = (await discoverResources(this.client)).filter((r) => r.namespaced && r.verbs.includes('list') && r.verbs.includes('delete'));
    let remaining = 0;
    for (const r of resources) remaining += await this.deleteAll(r, name);
    if (remaining > 0) {
      this.log(`namespace ${name}: ${remaining} objects still being deleted`);
      this.queue.addAfter(name, recheckMs);
      return;
    }
    await this.client.update({ ...namespacesResource, name, subresource: 'finalize' }, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name },
      spec: { finalizers: finalizers.filter((f) => f !== 'kubernetes') },
    });
    this.log(`namespace ${name}: content removed, finalized`);
  }

  /** Deletes what is left of one resource in the namespace; returns how many objects remain. */
  private async deleteAll(r: DiscoveredResource, namespace: string): Promise<number> {
    const path = { group: r.group, version: r.version, plural: r.plural, namespace };
    const list = await this.client.list<KubeList>(path);
    if (list.items.length === 0) return 0;
    for (const item of list.items) {
      if (item.metadata.deletionTimestamp) continue;
      try {
        await this.client.delete({ ...path, name: item.metadata.name }, { propagationPolicy: 'Background' });
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
    // Graceful deletion and finalizers keep some objects around for a while.
    return (await this.client.list<KubeList>(path)).items.length;
  }
}
