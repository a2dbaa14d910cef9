// The desired core/v1 Endpoints of a Service, as Kubernetes' endpoints
// controller computes them: one address per selected pod and service port,
// ready or not ready, packed into subsets of addresses sharing their ports.
import { findPort, podHostname, podIPv4, podTargetRef, isPodReady, isHeadless, shouldPodBeInEndpoints, type Pod, type Service } from './pods.js';

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: { kind: string; namespace: string; name: string; uid: string };
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

/** Endpoints keeps at most this many addresses; beyond, it is truncated and annotated. */
export const maxEndpointsCapacity = 1000;
export const overCapacityAnnotation = 'endpoints.kubernetes.io/over-capacity';

interface Entry {
  address: EndpointAddress;
  ready: boolean;
  port: EndpointPort | undefined;
}

/** The addresses and ports of the selected pods (already filtered by the service's selector). */
export function endpointEntries(svc: Service, pods: Pod[]): Entry[] {
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  const entries: Entry[] = [];
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const ip = podIPv4(pod);
    if (!ip) continue;
    const address: EndpointAddress = { ip };
    const hostname = podHostname(pod, svc);
    if (hostname) address.hostname = hostname;
    if (pod.spec?.nodeName) address.nodeName = pod.spec.nodeName;
    address.targetRef = podTargetRef(pod);
    const ready = publishNotReady || isPodReady(pod);
    const ports = svc.spec?.ports ?? [];
    if (ports.length === 0) {
      // Only headless services get port-less endpoints.
      if (isHeadless(svc)) entries.push({ address, ready, port: undefined });
      continue;
    }
    for (const sp of ports) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      const ep: EndpointPort = { port, protocol: sp.protocol ?? 'TCP' };
      if (sp.name) ep.name = sp.name;
      if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
      entries.push({ address, ready, port: ep });
    }
  }
  return entries;
}

const portKey = (p: EndpointPort) => JSON.stringify([p.name ?? '', p.port, p.protocol, p.appProtocol ?? '']);
const addressKey = (a: EndpointAddress) => `${a.ip}\u0000${a.targetRef?.uid ?? ''}`;

function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  const pa = a.ip.split('.').map(Number);
  const pb = b.ip.split('.').map(Number);
  for (let i = 0; i < 4; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  const ua = a.targetRef?.uid ?? '';
  const ub = b.targetRef?.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

/**
 * endpoints.RepackSubsets: addresses offering the same set of ports (with the
 * same readiness) share one subset. An address ready for a port on one entry
 * and not ready on another counts as ready. The order is deterministic.
 */
export function packSubsets(entries: Entry[]): EndpointSubset[] {
  const addresses = new Map<string, EndpointAddress>();
  // port key -> address key -> ready
  const byPort = new Map<string, { port: EndpointPort | undefined; addrs: Map<string, boolean> }>();
  for (const e of entries) {
    const ak = addressKey(e.address);
    if (!addresses.has(ak)) addresses.set(ak, e.address);
    const pk = e.port ? portKey(e.port) : '';
    let slot = byPort.get(pk);
    if (!slot) byPort.set(pk, (slot = { port: e.port, addrs: new Map() }));
    if (!slot.addrs.get(ak)) slot.addrs.set(ak, e.ready);
  }
  // address set (with readiness) -> ports
  const groups = new Map<string, { addrs: Map<string, boolean>; ports: EndpointPort[] }>();
  for (const { port, addrs } of byPort.values()) {
    const key = JSON.stringify([...addrs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { addrs, ports: [] }));
    if (port) group.ports.push(port);
  }
  const subsets: EndpointSubset[] = [];
  for (const { addrs, ports } of groups.values()) {
    const ready: EndpointAddress[] = [];
    const notReady: EndpointAddress[] = [];
    for (const [ak, isReady] of addrs) (isReady ? ready : notReady).push(addresses.get(ak)!);
    ready.sort(compareAddresses);
    notReady.sort(compareAddresses);
    const subset: EndpointSubset = {};
    if (ready.length > 0) subset.addresses = ready;
    if (notReady.length > 0) subset.notReadyAddresses = notReady;
    if (ports.length > 0) subset.ports = ports.sort((a, b) => (portKey(a) < portKey(b) ? -1 : portKey(a) > portKey(b) ? 1 : 0));
    subsets.push(subset);
  }
  const firstAddress = (s: EndpointSubset) => s.addresses?.[0] ?? s.notReadyAddresses?.[0];
  return subsets.sort((a, b) => {
    const fa = firstAddress(a);
    const fb = firstAddress(b);
    const d = fa && fb ? compareAddresses(fa, fb) : 0;
    if (d !== 0) return d;
    const ka = JSON.stringify(a.ports ?? []);
    const kb = JSON.stringify(b.ports ?? []);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/**
 * Endpoints hold at most maxEndpointsCapacity addresses: past that, ready
 * addresses are kept first and the rest dropped, spread over the subsets in
 * proportion as Kubernetes' capacity truncation does.
 */
export function truncateSubsets(subsets: EndpointSubset[], max = maxEndpointsCapacity): { subsets: EndpointSubset[]; truncated: boolean } {
  const count = (s: EndpointSubset) => (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0);
  const total = subsets.reduce((n, s) => n + count(s), 0);
  if (total <= max) return { subsets, truncated: false };
  let budget = max;
  const out: EndpointSubset[] = [];
  subsets.forEach((s, i) => {
    const share = i === subsets.length - 1 ? budget : Math.min(budget, Math.floor((count(s) / total) * max));
    budget -= share;
    const ready = (s.addresses ?? []).slice(0, share);
    const notReady = (s.notReadyAddresses ?? []).slice(0, Math.max(0, share - ready.length));
    const subset: EndpointSubset = {};
    if (ready.length > 0) subset.addresses = ready;
    if (notReady.length > 0) subset.notReadyAddresses = notReady;
    if (s.ports) subset.ports = s.ports;
    if (ready.length + notReady.length > 0) out.push(subset);
  });
  return { subsets: out, truncated: true };
}

/** The subsets the service's Endpoints should have, given the pods its selector selects. */
export function desiredSubsets(svc: Service, selectedPods: Pod[]): { subsets: EndpointSubset[]; truncated: boolean } {
  return truncateSubsets(packSubsets(endpointEntries(svc, selectedPods)));
}
