// The service account controller: every active namespace has a `default`
// ServiceAccount, created again if it is deleted (Kubernetes'
// pkg/controller/serviceaccount ServiceAccountsController). Namespaces being
// deleted get none.
import { ApiError } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import { objectKey, type Informer, type InformerFactory } from '../../client/informer.js';
import { QueueController, type QueueControllerOptions } from '../queue-controller.js';

const namespacesResource = { group: '', version: 'v1', plural: 'namespaces' };
const serviceAccountsResource = { group: '', version: 'v1', plural: 'serviceaccounts' };

export interface ServiceAccountControllerOptions extends QueueControllerOptions {
  /** The service accounts every namespace gets (["default"]). */
  serviceAccounts?: string[];
}

type Namespace = KubeObject & { status?: { phase?: string } };

export function namespaceIsActive(ns: Namespace): boolean {
  return !ns.metadata.deletionTimestamp && (ns.status?.phase ?? 'Active') === 'Active';
}

/** Whether a create failed because its namespace is gone or being deleted since the cache saw it (not to be tried again). */
export function namespaceGone(err: unknown): boolean {
  return err instanceof ApiError && (err.code === 404 || (err.code === 403 && (err.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating')));
}

export class ServiceAccountController extends QueueController {
  private readonly namespaces: Informer;
  private readonly serviceAccounts: Informer;
  private readonly names: string[];

  constructor(factory: InformerFactory, opts: ServiceAccountControllerOptions = {}) {
    super(factory, opts, 2);
    this.names = opts.serviceAccounts ?? ['default'];
    this.namespaces = this.informer(namespacesResource);
    this.serviceAccounts = this.informer(serviceAccountsResource);
    const enqueueNamespace = (ns: KubeObject) => this.queue.add(ns.metadata.name ?? '');
    this.namespaces.on({ add: enqueueNamespace, update: (_old, ns) => enqueueNamespace(ns) });
    // Only deletions matter: a deleted default account is made again.
    this.serviceAccounts.on({
      delete: (sa) => {
        if (this.names.includes(sa.metadata.name ?? '')) this.queue.add(sa.metadata.namespace ?? '');
      },
    });
  }

  async sync(namespace: string): Promise<void> {
    const ns = this.namespaces.get(namespace) as Namespace | undefined;
    if (!ns || !namespaceIsActive(ns)) return;
    for (const name of this.names) {
      if (this.serviceAccounts.get(objectKey({ metadata: { namespace, name } }))) continue;
      try {
        await this.client.create({ ...serviceAccountsResource, namespace }, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
        this.log(`serviceaccount ${namespace}/${name}: created`);
      } catch (err) {
        if (err instanceof ApiError && err.code === 409) continue; // already there: the cache was behind
        if (namespaceGone(err)) return;
        throw err;
      }
    }
  }
}
