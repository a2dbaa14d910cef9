// The namespace lifecycle controller: when a namespace is being deleted,
// delete everything in it, say in the namespace's status conditions what is
// left and why (as Kubernetes' namespace deleter does), then remove the
// "kubernetes" finalizer so the API server can delete the namespace itself.
import { apiTime } from '../../api/api-time.js';
import { ApiError } from '../../api/errors.js';
import type { KubeList, KubeObject } from '../../api/object.js';
import { discoverResources, type DiscoveredResource } from '../../client/discovery.js';
import type { Informer, InformerFactory } from '../../client/informer.js';
import { QueueController, type QueueControllerOptions } from '../queue-controller.js';
import { updatedConditions, type DeletionFindings, type NamespaceCondition } from './conditions.js';

const namespacesResource = { group: '', version: 'v1', plural: 'namespaces' };
/** How soon to look again at a namespace whose content is still going away. */
const recheckMs = 1000;

export type NamespaceControllerOptions = QueueControllerOptions;

/** What is left of one resource in the namespace after a delete of each object. */
interface Remains {
  count: number;
  /** Objects left with each finalizer; not counted while the objects are still in their grace period. */
  finalizers: Map<string, number>;
}

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
    const findings: DeletionFindings = { contentErrors: [], remaining: new Map(), finalizers: new Map() };
    let resources: DiscoveredResource[] = [];
    try {
      resources = await discoverResources(this.client);
    } catch (err) {
      findings.discoveryError = (err as Error).message;
    }
    const deletable = resources.filter((r) => r.namespaced && r.verbs.includes('list') && r.verbs.includes('delete'));
    let remaining = 0;
    for (const r of deletable) {
      const resource = `${r.plural}.${r.group}`;
      try {
        const left = await this.deleteAll(r, name);
        remaining += left.count;
        if (left.count > 0) findings.remaining.set(resource, left.count);
        for (const [finalizer, n] of left.finalizers) findings.finalizers.set(finalizer, (findings.finalizers.get(finalizer) ?? 0) + n);
      } catch (err) {
        findings.contentErrors.push(`${resource}: ${(err as Error).message}`);
      }
    }
    await this.updateConditions(ns, findings);
    if (remaining > 0 || findings.contentErrors.length > 0 || findings.discoveryError !== undefined) {
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

  /** Writes the pass's conditions to the namespace's status when they change (a failure to is logged: the next pass tries again). */
  private async updateConditions(ns: KubeObject, findings: DeletionFindings): Promise<void> {
    const status = (ns.status ?? {}) as { conditions?: NamespaceCondition[] };
    const conditions = updatedConditions(status.conditions ?? [], findings, apiTime());
    if (!conditions) return;
    try {
      await this.client.update({ ...namespacesResource, name: ns.metadata.name, subresource: 'status' }, { ...ns, status: { ...status, conditions } });
    } catch (err) {
      this.log(`namespace ${ns.metadata.name}: could not update its status conditions: ${(err as Error).message}`);
    }
  }

  /** Deletes what is left of one resource in the namespace; returns what remains. */
  private async deleteAll(r: DiscoveredResource, namespace: string): Promise<Remains> {
    const path = { group: r.group, version: r.version, plural: r.plural, namespace };
    const list = await this.client.list<KubeList>(path);
    if (list.items.length === 0) return { count: 0, finalizers: new Map() };
    for (const item of list.items) {
      if (item.metadata.deletionTimestamp) continue;
      try {
        await this.client.delete({ ...path, name: item.metadata.name }, { propagationPolicy: 'Background' });
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
    // Graceful deletion and finalizers keep some objects around for a while.
    const left = (await this.client.list<KubeList>(path)).items;
    const finalizers = new Map<string, number>();
    // As Kubernetes: objects still in their grace period (pods) are waited for, not blamed on their finalizers.
    if (!(r.group === '' && r.plural === 'pods' && left.some(inGracePeriod))) {
      for (const item of left) for (const f of item.metadata.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
    }
    return { count: left.length, finalizers };
  }
}

/** A pod whose graceful deletion has not run out yet: its node may still be stopping it. */
function inGracePeriod(item: KubeObject): boolean {
  const deleted = item.metadata.deletionTimestamp;
  if (!deleted) return false;
  const phase = (item.status as { phase?: string } | undefined)?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && Date.parse(deleted) > Date.now();
}
