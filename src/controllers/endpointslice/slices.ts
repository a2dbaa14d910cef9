// The desired discovery.k8s.io/v1 EndpointSlices of a Service and the
// smallest set of writes that gets there from the slices that exist, as
// Kubernetes' endpointslice reconciler plans them: endpoints grouped by their
// port set, at most maxEndpointsPerSlice per slice, existing slices updated in
// place and filled before new ones are created, and one empty placeholder
// slice for a service without endpoints.
import { semanticEqual } from '../../api/validation/index.js';
import {
  findPort,
  isPodReady,
  podHostname,
  podIPv4,
  podTargetRef,
  shouldPodBeInEndpoints,
  type Pod,
  type Service,
} from '../endpoints/pods.js';

export const maxEndpointsPerSlice = 100;
export const serviceNameLabel = 'kubernetes.io/service-name';
export const managedByLabel = 'endpointslice.kubernetes.io/managed-by';
export const controllerName = 'endpointslice-controller.k8s.io';
export const zoneLabel = 'topology.kubernetes.io/zone';

export interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  hostname?: string;
  targetRef?: { kind: string; namespace: string; name: string; uid: string };
  nodeName?: string;
  zone?: string;
}

export interface SlicePort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

/** Endpoints that offer the same ports. */
export interface EndpointGroup {
  ports: SlicePort[];
  endpoints: SliceEndpoint[];
}

/** A slice as the plan sees it. */
export interface SliceState {
  name: string;
  ports: SlicePort[] | undefined;
  endpoints: SliceEndpoint[];
}

export interface SlicePlan {
  create: { ports: SlicePort[] | undefined; endpoints: SliceEndpoint[] }[];
  update: SliceState[];
  delete: string[];
}

export function portsKey(ports: SlicePort[] | undefined): string {
  const keys = (ports ?? []).map((p) => JSON.stringify([p.name, p.port, p.protocol, p.appProtocol ?? '']));
  return JSON.stringify(keys.sort());
}

/** What identifies an endpoint across syncs: its pod, or its address. */
export function endpointId(ep: SliceEndpoint): string {
  return ep.targetRef?.uid || ep.addresses.join(',');
}

/**
 * The endpoints of the selected pods, grouped by port set. Unlike Endpoints,
 * slices keep terminating pods, with ready=false (unless the service
 * publishes not-ready addresses) and terminating=true.
 */
export function desiredEndpointGroups(svc: Service, selectedPods: Pod[], zoneOf: (nodeName: string) => string | undefined = () => undefined): EndpointGroup[] {
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  const groups = new Map<string, EndpointGroup>();
  const sorted = [...selectedPods].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : (a.metadata.name ?? '') > (b.metadata.name ?? '') ? 1 : 0));
  for (const pod of sorted) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const ip = podIPv4(pod);
    if (!ip) continue;
    const serving = isPodReady(pod);
    const terminating = pod.metadata.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
    // "ready" is never true for a terminating pod, unless not-ready addresses are published.
    const ready = publishNotReady || (serving && !terminating);
    const ep: SliceEndpoint = { addresses: [ip], conditions: { ready, serving, terminating } };
    const hostname = podHostname(pod, svc);
    if (hostname) ep.hostname = hostname;
    ep.targetRef = podTargetRef(pod);
    const nodeName = pod.spec?.nodeName;
    if (nodeName) {
      ep.nodeName = nodeName;
      const zone = zoneOf(nodeName);
      if (zone) ep.zone = zone;
    }
    const ports: SlicePort[] = [];
    for (const sp of svc.spec?.ports ?? []) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      const p: SlicePort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
      if (sp.appProtocol) p.appProtocol = sp.appProtocol;
      ports.push(p);
    }
    const key = portsKey(ports);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { ports, endpoints: [] }));
    group.endpoints.push(ep);
  }
  return [...groups.values()];
}

/** The fields of a stored endpoint this controller writes, for comparison. */
export function normalizeEndpoint(raw: Record<string, unknown>): SliceEndpoint {
  const conditions = (raw.conditions ?? {}) as Record<string, unknown>;
  const ep: SliceEndpoint = {
    addresses: Array.isArray(raw.addresses) ? raw.addresses.map(String) : [],
    conditions: { ready: conditions.ready === true, serving: conditions.serving === true, terminating: conditions.terminating === true },
  };
  if (typeof raw.hostname === 'string') ep.hostname = raw.hostname;
  if (raw.targetRef && typeof raw.targetRef === 'object') {
    const t = raw.targetRef as Record<string, unknown>;
    ep.targetRef = { kind: String(t.kind ?? ''), namespace: String(t.namespace ?? ''), name: String(t.name ?? ''), uid: String(t.uid ?? '') };
  }
  if (typeof raw.nodeName === 'string') ep.nodeName = raw.nodeName;
  if (typeof raw.zone === 'string') ep.zone = raw.zone;
  return ep;
}

export function normalizePorts(raw: unknown): SlicePort[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  return raw.map((r: Record<string, unknown>) => {
    const p: SlicePort = { name: typeof r.name === 'string' ? r.name : '', port: typeof r.port === 'number' ? r.port : 0, protocol: typeof r.protocol === 'string' ? r.protocol : 'TCP' };
    if (typeof r.appProtocol === 'string') p.appProtocol = r.appProtocol;
    return p;
  });
}

const byName = (a: SliceState, b: SliceState) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * The writes that turn `existing` (this controller's slices of the service)
 * into slices holding exactly the desired endpoints. Endpoints stay in the
 * slice they are in when they can; a slice left empty is reused before a new
 * one is created; nothing is written for a slice that does not change.
 */
export function planSlices(existing: SliceState[], desired: EndpointGroup[], max = maxEndpointsPerSlice): SlicePlan {
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const slices = [...existing].sort(byName);
  const totalDesired = desired.reduce((n, g) => n + g.endpoints.length, 0);

  if (totalDesired === 0) {
    // One placeholder slice (no ports, no endpoints) stands for the service.
    const isPlaceholder = (s: SliceState) => s.endpoints.length === 0 && (s.ports ?? []).length === 0;
    const keep = slices.find(isPlaceholder) ?? slices[0];
    for (const s of slices) if (s !== keep) plan.delete.push(s.name);
    if (!keep) plan.create.push({ ports: undefined, endpoints: [] });
    else if (!isPlaceholder(keep)) plan.update.push({ name: keep.name, ports: undefined, endpoints: [] });
    return plan;
  }

  /** Slices without endpoints (the placeholder, or all theirs went away): reusable for any port set. */
  const emptied: SliceState[] = [];
  const byPorts = new Map<string, SliceState[]>();
  for (const s of slices) {
    if (s.endpoints.length === 0) {
      emptied.push(s);
      continue;
    }
    const k = portsKey(s.ports);
    byPorts.set(k, [...(byPorts.get(k) ?? []), s]);
  }
  const touched = new Map<string, SliceState>();

  for (const group of desired) {
    const key = portsKey(group.ports);
    const wanted = new Map(group.endpoints.map((ep) => [endpointId(ep), ep]));
    const own = byPorts.get(key) ?? [];
    byPorts.delete(key);
    const kept: SliceState[] = [];
    for (const s of own) {
      const next: SliceEndpoint[] = [];
      for (const ep of s.endpoints) {
        const id = endpointId(ep);
        const want = wanted.get(id);
        if (!want) continue;
        wanted.delete(id);
        next.push(want);
      }
      const changed = next.length !== s.endpoints.length || next.some((ep, i) => !semanticEqual(ep, s.endpoints[i])) || !semanticEqual(s.ports ?? [], group.ports);
      const state = { name: s.name, ports: group.ports, endpoints: next };
      if (next.length === 0) {
        emptied.push(state);
        continue;
      }
      if (changed) touched.set(s.name, state);
      kept.push(state);
    }
    // New endpoints go first into slices already being written, then into others with room.
    const rest = [...wanted.values()];
    const withRoom = [...kept].sort((a, b) => Number(touched.has(b.name)) - Number(touched.has(a.name)));
    for (const s of withRoom) {
      while (rest.length > 0 && s.endpoints.length < max) {
        s.endpoints.push(rest.shift()!);
        touched.set(s.name, s);
      }
    }
    while (rest.length > 0) {
      const chunk = rest.splice(0, max);
      const reuse = emptied.shift();
      if (reuse) touched.set(reuse.name, { name: reuse.name, ports: group.ports, endpoints: chunk });
      else plan.create.push({ ports: group.ports, endpoints: chunk });
    }
  }
  // Slices of port sets no longer offered, and emptied slices nobody reused, go.
  for (const leftover of byPorts.values()) for (const s of leftover) plan.delete.push(s.name);
  for (const s of emptied) plan.delete.push(s.name);
  plan.update = [...touched.values()].sort(byName);
  plan.delete.sort();
  return plan;
}
