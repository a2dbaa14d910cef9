// The endpointslice controller: keeps the discovery.k8s.io/v1 EndpointSlices
// of every Service with a selector equal to the pods it selects (Kubernetes'
// pkg/controller/endpointslice). Its slices carry the labels
// kubernetes.io/service-name and endpointslice.kubernetes.io/managed-by and
// are owned by their Service; slices of other managers are never touched.
import { ApiError } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import { semanticEqual } from '../../api/validation/index.js';
import { objectKey, rvAtLeast, type Informer, type InformerFactory } from '../../client/informer.js';
import { isApiServerService, isHeadless, serviceSelector, enqueueServicesOfPods, selectedPods, type Service } from '../endpoints/pods.js';
import {
  controllerName,
  desiredEndpointGroups,
  managedByLabel,
  normalizeEndpoint,
  normalizePorts,
  planSlices,
  serviceNameLabel,
  zoneLabel,
  type SliceEndpoint,
  type SlicePort,
  type SliceState,
} from './slices.js';
import { podsResource, nodesResource } from '../../client/core-resources.js';
import { QueueController, type QueueControllerOptions } from '../queue-controller.js';

const servicesResource = { group: '', version: 'v1', plural: 'services' };
const slicesResource = { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices' };
const headlessLabel = 'service.kubernetes.io/headless';
/** The slices of this controller, by "namespace/service". */
const serviceIndex = 'endpointslice-controller.service';
/** How long a write of ours may take to show in the informer before we stop waiting for it. */
const staleCacheLimitMs = 30_000;

export interface EndpointSliceControllerOptions extends QueueControllerOptions {
  /** At most this many endpoints per slice (100, as Kubernetes' --max-endpoints-per-slice). */
  maxEndpointsPerSlice?: number;
}

function isOurs(slice: KubeObject): boolean {
  return slice.metadata.labels?.[managedByLabel] === controllerName && !!slice.metadata.labels?.[serviceNameLabel];
}

export class EndpointSliceController extends QueueController {
  private readonly services: Informer;
  private readonly pods: Informer;
  private readonly slices: Informer;
  private readonly nodes: Informer;
  /**
   * Our writes the informer may not show yet, per service: slice name ->
   * resourceVersion written, or null for deleted (the endpointSliceTracker).
   * Syncing on a cache that misses them would create duplicate slices.
   */
  private readonly expected = new Map<string, { since: number; slices: Map<string, string | null> }>();

  constructor(
    factory: InformerFactory,
    private readonly opts: EndpointSliceControllerOptions = {},
  ) {
    super(factory, opts, 2);
    this.services = this.informer(servicesResource);
    this.pods = this.informer(podsResource);
    this.slices = this.informer(slicesResource);
    this.nodes = this.informer(nodesResource);
    this.slices.addIndex(serviceIndex, (s) => (isOurs(s) ? [`${s.metadata.namespace}/${s.metadata.labels![serviceNameLabel]}`] : []));

    const enqueue = (obj: KubeObject) => this.queue.add(objectKey(obj));
    this.services.on({ add: enqueue, update: (_old, svc) => enqueue(svc), delete: enqueue });
    enqueueServicesOfPods(this.pods, this.services, (key) => this.queue.add(key));
    const enqueueSlice = (...slices: KubeObject[]) => {
      for (const s of slices) if (isOurs(s)) this.queue.add(`${s.metadata.namespace}/${s.metadata.labels![serviceNameLabel]}`);
    };
    this.slices.on({ add: enqueueSlice, update: enqueueSlice, delete: enqueueSlice });
  }

  override async start(): Promise<void> {
    await super.start();
    // Slices of services deleted while no controller ran.
    for (const s of this.slices.list()) if (isOurs(s)) this.queue.add(`${s.metadata.namespace}/${s.metadata.labels![serviceNameLabel]}`);
  }

  /** False while a write of ours has not reached the informer yet. */
  private cacheCaughtUp(key: string, namespace: string): boolean {
    const pending = this.expected.get(key);
    if (!pending) return true;
    if (Date.now() - pending.since > staleCacheLimitMs) {
      this.expected.delete(key);
      return true;
    }
    for (const [name, rv] of pending.slices) {
      const seen = this.slices.get(`${namespace}/${name}`);
      const fresh = rv === null ? seen === undefined : rvAtLeast(seen?.metadata.resourceVersion, rv);
      if (!fresh) return false;
    }
    this.expected.delete(key);
    return true;
  }

  private expect(key: string, name: string, rv: string | null): void {
    let pending = this.expected.get(key);
    if (!pending) this.expected.set(key, (pending = { since: Date.now(), slices: new Map() }));
    pending.slices.set(name, rv);
  }

  async sync(key: string): Promise<void> {
    const [namespace = '', serviceName = ''] = key.split('/');
    if (!this.cacheCaughtUp(key, namespace)) {
      // The informer event for our write enqueues the service again; this is a fallback.
      this.queue.addAfter(key, 200);
      return;
    }
    const owned = this.slices.byIndex(serviceIndex, key);
    const svc = this.services.get(key) as Service | undefined;
    if (svc && isApiServerService(svc)) return;
    const selector = svc ? serviceSelector(svc) : undefined;
    if (!svc || !selector) {
      // The service is gone, lost its selector or became ExternalName: our slices go.
      for (const s of owned) await this.deleteSlice(key, s);
      return;
    }

    const pods = selectedPods(this.pods, namespace, selector);
    const zoneOf = (node: string) => this.nodes.get(node)?.metadata.labels?.[zoneLabel];
    const desired = desiredEndpointGroups(svc, pods, zoneOf);
    const existing: SliceState[] = owned.map((s) => ({
      name: s.metadata.name ?? '',
      ports: normalizePorts(s.ports),
      endpoints: (Array.isArray(s.endpoints) ? (s.endpoints as Record<string, unknown>[]) : []).map(normalizeEndpoint),
    }));
    const plan = planSlices(existing, desired, this.opts.maxEndpointsPerSlice);

    const labels = this.sliceLabels(svc);
    const ownerReferences = [{ apiVersion: 'v1', kind: 'Service', name: serviceName, uid: svc.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }];
    const updates = new Map(plan.update.map((u) => [u.name, u]));
    const deletes = new Set(plan.delete);
    // A slice whose endpoints are right but whose labels or owner are not is rewritten too.
    for (const s of existing) {
      if (updates.has(s.name) || deletes.has(s.name)) continue;
      const raw = owned.find((o) => o.metadata.name === s.name)!;
      if (!semanticEqual(raw.metadata.labels ?? {}, labels) || !semanticEqual(raw.metadata.ownerReferences ?? [], ownerReferences)) updates.set(s.name, s);
    }

    for (const c of plan.create) {
      const body = this.sliceBody({ generateName: `${serviceName}-`, namespace, labels, ownerReferences }, c.ports, c.endpoints);
      const created = await this.client.create<KubeObject>({ ...slicesResource, namespace }, body).catch((err: unknown) => {
        if (err instanceof ApiError && err.code === 403 && (err.details?.causes ?? []).some((cause) => cause.reason === 'NamespaceTerminating')) return undefined;
        throw err;
      });
      if (!created) return;
      this.expect(key, created.metadata.name ?? '', created.metadata.resourceVersion ?? '');
    }
    for (const u of updates.values()) {
      const raw = owned.find((o) => o.metadata.name === u.name)!;
      const body = this.sliceBody({ ...raw.metadata, labels, ownerReferences }, u.ports, u.endpoints);
      const updated = await this.client.update<KubeObject>({ ...slicesResource, namespace, name: u.name }, body);
      this.expect(key, u.name, updated.metadata.resourceVersion ?? '');
    }
    for (const name of plan.delete) {
      const raw = owned.find((o) => o.metadata.name === name);
      if (raw) await this.deleteSlice(key, raw);
    }
    if (plan.create.length + updates.size + plan.delete.length > 0) {
      const total = desired.reduce((n, g) => n + g.endpoints.length, 0);
      this.log(`endpointslices ${key}: ${plan.create.length} created, ${updates.size} updated, ${plan.delete.length} deleted (${total} endpoints)`);
    }
  }

  private sliceLabels(svc: Service): Record<string, string> {
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(svc.metadata.labels ?? {})) if (k !== serviceNameLabel && k !== managedByLabel) labels[k] = v;
    if (isHeadless(svc)) labels[headlessLabel] = '';
    else delete labels[headlessLabel];
    labels[serviceNameLabel] = svc.metadata.name ?? '';
    labels[managedByLabel] = controllerName;
    return labels;
  }

  private sliceBody(metadata: Record<string, unknown>, ports: SlicePort[] | undefined, endpoints: SliceEndpoint[]): Record<string, unknown> {
    const body: Record<string, unknown> = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata, addressType: 'IPv4', endpoints };
    if (ports !== undefined) body.ports = ports;
    return body;
  }

  private async deleteSlice(key: string, slice: KubeObject): Promise<void> {
    const name = slice.metadata.name ?? '';
    try {
      await this.client.delete({ ...slicesResource, namespace: slice.metadata.namespace, name }, { preconditions: { uid: slice.metadata.uid } });
    } catch (err) {
      if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
    }
    this.expect(key, name, null);
  }
}
