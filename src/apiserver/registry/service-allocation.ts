// Cluster IPs and node ports for Services, as kube-apiserver's allocators
// hand them out: a free address of the service CIDR (the first is the
// `kubernetes` Service's), a free port of the node port range; and what
// they answer when a Service asks for an address or port it cannot have.
import { isIP } from 'node:net';
import { InternalError, InvalidError } from '../../api/errors.js';
import { isPlainObject, type KubeObject } from '../../api/object.js';
import { invalid } from '../../api/validation/field-errors.js';

export const serviceCIDR = { base: (10 << 24) | (96 << 16), size: 1 << 20 }; // 10.96.0.0/12
const serviceCIDRText = '10.96.0.0/12';
export const nodePortRange = { first: 30000, last: 32767 };
const nodePortRangeText = `${nodePortRange.first}-${nodePortRange.last}`;
/** A write that never says it is over gives up what it holds after this long. */
const holdMs = 60_000;

function ipString(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function firstServiceIP(): string {
  return ipString(serviceCIDR.base + 1);
}

function ipNumber(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

/**
 * Why a Service may not have the IPv4 address it asks for, in the words of
 * kube-apiserver's ServiceCIDR allocator: outside every service CIDR the
 * address matches no range; the CIDR's network and broadcast addresses are
 * in it but never handed out. Malformed and IPv6 addresses are validation's.
 */
function requestedIPError(ip: string, taken: Set<string>): string | undefined {
  if (isIP(ip) !== 4) return undefined;
  const n = ipNumber(ip);
  const offset = n - serviceCIDR.base;
  if (offset < 0 || offset >= serviceCIDR.size) return 'the provided network does not match the current range';
  if (offset === 0 || offset === serviceCIDR.size - 1) return `the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${serviceCIDRText}`;
  if (taken.has(ip)) return 'provided IP is already allocated';
  return undefined;
}

function specOf(svc: KubeObject): Record<string, unknown> {
  if (!isPlainObject(svc.spec)) svc.spec = {};
  return svc.spec as Record<string, unknown>;
}

function portsOf(spec: Record<string, unknown>): Record<string, unknown>[] {
  return Array.isArray(spec.ports) ? spec.ports.filter(isPlainObject) : [];
}

function nodePortOf(port: Record<string, unknown>): number {
  return typeof port.nodePort === 'number' ? port.nodePort : 0;
}

function needsClusterIP(spec: Record<string, unknown>): boolean {
  return spec.type !== 'ExternalName' && spec.clusterIP !== 'None';
}

/** Services of these types have node ports: the ones they ask for, and (shouldAllocateNodePorts) new ones for the rest. */
function hasNodePorts(spec: Record<string, unknown>): boolean {
  return spec.type === 'NodePort' || spec.type === 'LoadBalancer';
}

function allocatesNodePorts(spec: Record<string, unknown>): boolean {
  return spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
}

/** What a create or update in flight has been given, until its object is in the cache or the write failed. */
interface Hold {
  ips: string[];
  ports: number[];
  at: number;
}

interface Taken {
  ips: Set<string>;
  ports: Set<number>;
}

export class ServiceAllocator {
  /** By the uid of the Service being written. */
  private readonly held = new Map<string, Hold>();

  /** The write of the Service with this uid is over: the cache holds what it stored, if anything. */
  finish(uid: string): void {
    this.held.delete(uid);
  }

  /** Addresses and ports the stored Services have and other writes in flight hold. */
  private taken(existing: Iterable<KubeObject>, uid: string): Taken {
    const now = Date.now();
    const ips = new Set<string>();
    const ports = new Set<number>();
    for (const [owner, hold] of this.held) {
      if (now - hold.at >= holdMs) this.held.delete(owner);
      else if (owner !== uid) {
        for (const ip of hold.ips) ips.add(ip);
        for (const port of hold.ports) ports.add(port);
      }
    }
    for (const svc of existing) {
      const spec = isPlainObject(svc.spec) ? svc.spec : {};
      if (typeof spec.clusterIP === 'string') ips.add(spec.clusterIP);
      for (const p of portsOf(spec)) if (nodePortOf(p)) ports.add(nodePortOf(p));
    }
    return { ips, ports };
  }

  /** A new hold for the write of svc, replacing the one an earlier try of the same update had. */
  private hold(svc: KubeObject): Hold {
    const hold: Hold = { ips: [], ports: [], at: Date.now() };
    this.held.set(svc.metadata.uid ?? '', hold);
    return hold;
  }

  private pickIP(taken: Set<string>): string {
    // Random start, then the next free address, as Kubernetes' bitmap allocator does.
    const usable = serviceCIDR.size - 2;
    const start = Math.floor(Math.random() * usable);
    for (let i = 0; i < usable; i++) {
      const ip = ipString(serviceCIDR.base + 2 + ((start + i) % usable));
      if (!taken.has(ip)) return ip;
    }
    throw new InternalError('failed to allocate a serviceIP: range is full');
  }

  private pickPort(taken: Taken, hold: Hold): number {
    const size = nodePortRange.last - nodePortRange.first + 1;
    const start = Math.floor(Math.random() * size);
    for (let i = 0; i < size; i++) {
      const port = nodePortRange.first + ((start + i) % size);
      if (taken.ports.has(port)) continue;
      taken.ports.add(port);
      hold.ports.push(port);
      return port;
    }
    throw new InternalError('failed to allocate a nodePort: range is full');
  }

  /** The port a Service asks for, at ports[i]; refused in the port allocator's words. */
  private claimPort(svc: KubeObject, i: number, port: number, taken: Taken, hold: Hold): void {
    let why: string | undefined;
    if (port < nodePortRange.first || port > nodePortRange.last) why = `provided port is not in the valid range. The range of valid ports is ${nodePortRangeText}`;
    else if (taken.ports.has(port)) why = 'provided port is already allocated';
    if (why) throw new InvalidError('Service', '', svc.metadata.name ?? '', [invalid(`spec.ports[${i}].nodePort`, port, why)]);
    taken.ports.add(port);
    hold.ports.push(port);
  }

  /** The address the Service asks for, or a free one when it names none (allocClusterIPs). */
  private allocateClusterIP(svc: KubeObject, spec: Record<string, unknown>, taken: Taken, hold: Hold): void {
    if (!needsClusterIP(spec)) return;
    let ip = typeof spec.clusterIP === 'string' ? spec.clusterIP : '';
    if (!ip) {
      ip = this.pickIP(taken.ips);
      spec.clusterIP = ip;
      spec.clusterIPs = [ip];
    } else {
      const why = requestedIPError(ip, taken.ips);
      if (why) {
        const clusterIPs = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [ip];
        throw new InvalidError('Service', '', svc.metadata.name ?? '', [invalid('spec.clusterIPs', clusterIPs, `failed to allocate IP ${ip}: ${why}`)]);
      }
      if (isIP(ip) !== 4) return;
    }
    taken.ips.add(ip);
    hold.ips.push(ip);
  }

  /**
   * Node ports of a new Service (initNodePorts): ports with the same number
   * share one node port, the one asked for on any of them, or a new one.
   */
  private initNodePorts(svc: KubeObject, spec: Record<string, unknown>, taken: Taken, hold: Hold): void {
    const ports = portsOf(spec);
    const byPort = new Map<unknown, number>();
    ports.forEach((p, i) => {
      if (!nodePortOf(p) && !allocatesNodePorts(spec)) return;
      const shared = byPort.get(p.port);
      if (shared === undefined) {
        const requested = ports.map(nodePortOf).find((np, j) => np !== 0 && ports[j]!.port === p.port) ?? 0;
        if (requested) this.claimPort(svc, i, requested, taken, hold);
        const port = requested || this.pickPort(taken, hold);
        p.nodePort = port;
        byPort.set(p.port, port);
      } else if (nodePortOf(p) !== shared) {
        if (!nodePortOf(p)) p.nodePort = shared;
        else this.claimPort(svc, i, nodePortOf(p), taken, hold);
      }
    });
  }

  /** Node ports of an updated Service (updateNodePorts): the ones it had stay its own, new ones are claimed or handed out. */
  private updateNodePorts(svc: KubeObject, spec: Record<string, unknown>, prev: Record<string, unknown>, taken: Taken, hold: Hold): void {
    const had = new Set(portsOf(prev).map(nodePortOf));
    const claimed = new Set<number>();
    portsOf(spec).forEach((p, i) => {
      const port = nodePortOf(p);
      if (!port && !allocatesNodePorts(spec)) return;
      if (!port) p.nodePort = this.pickPort(taken, hold);
      else if (!had.has(port) && !claimed.has(port)) {
        this.claimPort(svc, i, port, taken, hold);
        claimed.add(port);
      }
    });
  }

  /** Gives a new Service its cluster IP and node ports, or refuses the ones it asks for; `existing` are the stored Services. */
  allocate(svc: KubeObject, existing: Iterable<KubeObject>): void {
    const spec = specOf(svc);
    if (!needsClusterIP(spec) && !hasNodePorts(spec)) return;
    const taken = this.taken(existing, svc.metadata.uid ?? '');
    const hold = this.hold(svc);
    this.allocateClusterIP(svc, spec, taken, hold);
    if (hasNodePorts(spec)) this.initNodePorts(svc, spec, taken, hold);
    if (spec.clusterIP && spec.clusterIP !== 'None') {
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
    }
  }

  /**
   * An update keeps what was allocated when the client left it out (kubectl
   * replace, PUT of an old manifest), gets a cluster IP when it stops being
   * an ExternalName, and claims the node ports it adds.
   */
  carryOver(svc: KubeObject, old: KubeObject, existing: Iterable<KubeObject>): void {
    let spec = specOf(svc);
    const prev = isPlainObject(old.spec) ? old.spec : {};
    // An update's spec may share its ports with the stored Service (a merge patch leaves them as they were): node ports are set on copies.
    if (allocatesNodePorts(spec) || hasNodePorts(spec)) {
      spec = svc.spec = { ...spec, ...(Array.isArray(spec.ports) ? { ports: spec.ports.map((p) => (isPlainObject(p) ? { ...p } : p)) } : {}) };
    }
    if (needsClusterIP(spec) && !spec.clusterIP && typeof prev.clusterIP === 'string' && prev.clusterIP !== 'None') {
      spec.clusterIP = prev.clusterIP;
      spec.clusterIPs ??= prev.clusterIPs;
      spec.ipFamilies ??= prev.ipFamilies;
      spec.ipFamilyPolicy ??= prev.ipFamilyPolicy;
    }
    if (allocatesNodePorts(spec) && allocatesNodePorts(prev)) {
      // As Kubernetes' patchAllocatedValues: a port left without a node port gets the one the old port of its name had,
      // unless the update gives that node port to another of its ports.
      const inBoth = new Set(portsOf(spec).map(nodePortOf).filter((np) => np !== 0 && portsOf(prev).some((o) => nodePortOf(o) === np)));
      const byName = new Map(portsOf(prev).map((o) => [typeof o.name === 'string' ? o.name : '', nodePortOf(o)]));
      for (const p of portsOf(spec)) {
        if (nodePortOf(p)) continue;
        const old = byName.get(typeof p.name === 'string' ? p.name : '') ?? 0;
        if (old && !inBoth.has(old)) p.nodePort = old;
      }
    }
    const newIP = prev.type === 'ExternalName' && needsClusterIP(spec);
    if (!newIP && !hasNodePorts(spec)) return;
    const taken = this.taken(existing, svc.metadata.uid ?? '');
    const hold = this.hold(svc);
    if (newIP) this.allocateClusterIP(svc, spec, taken, hold);
    if (hasNodePorts(spec)) this.updateNodePorts(svc, spec, prev, taken, hold);
  }
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * A Service changing type drops what only the old type needed and the
 * client did not change itself (Kubernetes' dropTypeDependentFields): the
 * cluster IPs of one turned ExternalName, node ports no longer needed,
 * the health check node port, allocateLoadBalancerNodePorts,
 * loadBalancerClass and externalTrafficPolicy; and the load balancer
 * status of any Service that is no LoadBalancer. The spec is replaced, not
 * changed in place: an update's spec may be the stored Service's.
 */
export function dropTypeDependentFields(svc: KubeObject, old: KubeObject): void {
  const spec: Record<string, unknown> = { ...specOf(svc) };
  const prev = isPlainObject(old.spec) ? old.spec : {};
  let changed = false;
  const drop = (field: string) => {
    if (spec[field] === undefined) return;
    delete spec[field];
    changed = true;
  };
  if (prev.type !== 'ExternalName' && spec.type === 'ExternalName') {
    if (spec.clusterIP === prev.clusterIP && sameJson(spec.clusterIPs, prev.clusterIPs)) {
      drop('clusterIP');
      drop('clusterIPs');
    }
    if (sameJson(spec.ipFamilies, prev.ipFamilies)) drop('ipFamilies');
    if (spec.ipFamilyPolicy === prev.ipFamilyPolicy) drop('ipFamilyPolicy');
  }
  if (hasNodePorts(prev) && !hasNodePorts(spec)) {
    const had = new Set(portsOf(prev).map(nodePortOf));
    const ports = portsOf(spec);
    if (ports.some(nodePortOf) && ports.every((p) => !nodePortOf(p) || had.has(nodePortOf(p)))) {
      spec.ports = (spec.ports as unknown[]).map((p) => {
        if (!isPlainObject(p)) return p;
        const { nodePort: _dropped, ...rest } = p;
        return rest;
      });
      changed = true;
    }
  }
  const hcNeeded = (s: Record<string, unknown>) => s.type === 'LoadBalancer' && s.externalTrafficPolicy === 'Local';
  if (hcNeeded(prev) && !hcNeeded(spec) && spec.healthCheckNodePort === prev.healthCheckNodePort) drop('healthCheckNodePort');
  if (prev.type === 'LoadBalancer' && spec.type !== 'LoadBalancer') {
    if (spec.allocateLoadBalancerNodePorts !== undefined && spec.allocateLoadBalancerNodePorts === prev.allocateLoadBalancerNodePorts) drop('allocateLoadBalancerNodePorts');
    if (spec.loadBalancerClass === prev.loadBalancerClass) drop('loadBalancerClass');
  }
  if (hasNodePorts(prev) && !hasNodePorts(spec) && spec.externalTrafficPolicy === prev.externalTrafficPolicy) drop('externalTrafficPolicy');
  if (changed) svc.spec = spec;
  if (spec.type !== 'LoadBalancer' && isPlainObject(svc.status)) svc.status = { ...svc.status, loadBalancer: {} };
}
