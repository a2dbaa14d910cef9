// The endpoints controller: keeps the core/v1 Endpoints of every Service
// with a selector equal to the pods it selects (Kubernetes'
// pkg/controller/endpoint). Services without a selector, ExternalName
// services and the API server's `kubernetes` Service are left alone.
import { ApiError } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import { semanticEqual } from '../../api/validation/index.js';
import { objectKey, rvAtLeast, type Informer, type InformerFactory } from '../../client/informer.js';
import { isApiServerService, isHeadless, serviceSelector, enqueueServicesOfPods, selectedPods, type Service } from './pods.js';
import { desiredSubsets, overCapacityAnnotation } from './subsets.js';
import { podsResource } from '../../client/core-resources.js';
import { QueueController, type QueueControllerOptions } from '../queue-controller.js';

export const servicesResource = { group: '', version: 'v1', plural: 'services' };
const endpointsResource = { group: '', version: 'v1', plural: 'endpoints' };

/** The label Endpoints and EndpointSlices of headless services carry. */
export const headlessLabel = 'service.kubernetes.io/headless';
/** Endpoints used as a leader-election lock are not a service's endpoints. */
const leaderAnnotation = 'control-plane.alpha.kubernetes.io/leader';

export type EndpointsControllerOptions = QueueControllerOptions;

/** How long a write of ours may take to show in the informer before we stop waiting for it. */
const staleCacheLimitMs = 30_000;

/** The error a write into a namespace being deleted gets (cause NamespaceTerminating). */
export function isNamespaceTerminating(err: unknown): boolean {
  return err instanceof ApiError && err.code === 403 && (err.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating');
}

export class EndpointsController extends QueueController {
  private readonly services: Informer;
  private readonly pods: Informer;
  private readonly endpoints: Informer;
  /**
   * Our last write per key (resourceVersion, or null for a delete) until the
   * informer shows it: a sync on a cache without it would fail on a conflict.
   */
  private readonly written = new Map<string, { rv: string | null; since: number }>();

  constructor(factory: InformerFactory, opts: EndpointsControllerOptions = {}) {
    super(factory, opts, 2);
    this.services = this.informer(servicesResource);
    this.pods = this.informer(podsResource);
    this.endpoints = this.informer(endpointsResource);

    const enqueue = (obj: KubeObject) => this.queue.add(objectKey(obj));
    this.services.on({ add: enqueue, update: (_old, svc) => enqueue(svc), delete: enqueue });
    enqueueServicesOfPods(this.pods, this.services, (key) => this.queue.add(key));
    // Endpoints deleted by someone else are recreated for services that still need them;
    // a write of ours showing up lets a sync that waited for it go on.
    const caughtUp = (ep: KubeObject) => {
      if (this.written.has(objectKey(ep))) enqueue(ep);
    };
    this.endpoints.on({ add: caughtUp, update: (_old, ep) => caughtUp(ep), delete: enqueue });
  }

  override async start(): Promise<void> {
    await super.start();
    // Endpoints left from services deleted while no controller ran are removed (checkLeftoverEndpoints).
    for (const ep of this.endpoints.list()) {
      if (ep.metadata.annotations?.[leaderAnnotation] === undefined) this.queue.add(objectKey(ep));
    }
  }

  /** False while our last write to the key has not reached the informer. */
  private cacheCaughtUp(key: string): boolean {
    const w = this.written.get(key);
    if (!w) return true;
    const seen = this.endpoints.get(key)?.metadata.resourceVersion;
    const fresh = w.rv === null ? seen === undefined : rvAtLeast(seen, w.rv);
    if (fresh || Date.now() - w.since > staleCacheLimitMs) {
      this.written.delete(key);
      return true;
    }
    return false;
  }

  async sync(key: string): Promise<void> {
    const [namespace = '', name = ''] = key.split('/');
    if (!this.cacheCaughtUp(key)) {
      this.queue.addAfter(key, 200);
      return;
    }
    const svc = this.services.get(key) as Service | undefined;
    if (!svc) {
      if (namespace === 'default' && name === 'kubernetes') return;
      // The service is gone: so are its endpoints.
      try {
        await this.client.delete({ ...endpointsResource, namespace, name });
        this.written.set(key, { rv: null, since: Date.now() });
        this.log(`endpoints ${key}: deleted with their service`);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
      return;
    }
    if (isApiServerService(svc)) return;
    const selector = serviceSelector(svc);
    if (!selector) return;

    const pods = selectedPods(this.pods, namespace, selector);
    const { subsets, truncated } = desiredSubsets(svc, pods);
    const current = this.endpoints.get(key);

    const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
    if (isHeadless(svc)) labels[headlessLabel] = '';
    else delete labels[headlessLabel];
    const annotations: Record<string, string> = { ...(current?.metadata.annotations ?? {}) };
    if (truncated) annotations[overCapacityAnnotation] = 'truncated';
    else delete annotations[overCapacityAnnotation];

    if (
      current &&
      semanticEqual(current.subsets ?? [], subsets) &&
      semanticEqual(current.metadata.labels ?? {}, labels) &&
      semanticEqual(current.metadata.annotations ?? {}, annotations)
    ) {
      return;
    }
    const metadata = { ...(current?.metadata ?? {}), name, namespace, labels, annotations };
    if (Object.keys(annotations).length === 0) delete (metadata as { annotations?: unknown }).annotations;
    const body = { apiVersion: 'v1', kind: 'Endpoints', metadata, subsets };
    const ready = subsets.reduce((n, s) => n + (s.addresses?.length ?? 0), 0);
    const notReady = subsets.reduce((n, s) => n + (s.notReadyAddresses?.length ?? 0), 0);
    try {
      const written = current ? await this.client.update({ ...endpointsResource, namespace, name }, body) : await this.client.create({ ...endpointsResource, namespace }, body);
      this.written.set(key, { rv: written.metadata.resourceVersion ?? '', since: Date.now() });
    } catch (err) {
      // A namespace being deleted refuses new objects; its content goes away anyway.
      if (isNamespaceTerminating(err)) return;
      throw err;
    }
    this.log(`endpoints ${key}: ${current ? 'updated' : 'created'} (${ready} ready, ${notReady} not ready)`);
  }
}
