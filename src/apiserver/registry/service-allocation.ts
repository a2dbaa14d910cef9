// Cluster IPs and node ports for Services, as kube-apiserver's allocators
// hand them out: a free address of the service CIDR (the first is the
// `kubernetes` Service's), a free port of the node port range.
import { isIP } from 'node:net';
import { InternalError, InvalidError } from '../../api/errors.js';
import { isPlainObject, type KubeObject } from '../../api/object.js';
import { invalid } from '../../api/validation/field-errors.js';

export const serviceCIDR = { base: (10 << 24) | (96 << 16), size: 1 << 20 }; // 10.96.0.0/12
const serviceCIDRText = '10.96.0.0/12';
export const nodePortRange = { first: 30000, last: 32767 };
/** Recently handed-out values stay taken this long, so concurrent creates never share one. */
const reservationMs = 60_000;

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

function needsClusterIP(spec: Record<string, unknown>): boolean {
  return spec.type !== 'ExternalName' && spec.clusterIP !== 'None';
}

function needsNodePorts(spec: Record<string, unknown>): boolean {
  return spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
}

export class ServiceAllocator {
  private readonly recentIPs = new Map<string, number>();
  private readonly recentPorts = new Map<number, number>();

  private taken(existing: Iterable<KubeObject>): { ips: Set<string>; ports: Set<number> } {
    const now = Date.now();
    const ips = new Set<string>();
    const ports = new Set<number>();
    for (const [ip, at] of this.recentIPs) if (now - at < reservationMs) ips.add(ip); else this.recentIPs.delete(ip);
    for (const [port, at] of this.recentPorts) if (now - at < reservationMs) ports.add(port); else this.recentPorts.delete(port);
    for (const svc of existing) {
      const spec = isPlainObject(svc.spec) ? svc.spec : {};
      if (typeof spec.clusterIP === 'string') ips.add(spec.clusterIP);
      for (const p of portsOf(spec)) if (typeof p.nodePort === 'number') ports.add(p.nodePort);
    }
    return { ips, ports };
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

  private pickPort(taken: Set<number>): number {
    const size = nodePortRange.last - nodePortRange.first + 1;
    const start = Math.floor(Math.random() * size);
    for (let i = 0; i < size; i++) {
      const port = nodePortRange.first + ((start + i) % size);
      if (!taken.has(port)) return port;
    }
    throw new InternalError('failed to allocate a nodePort: range is full');
  }

  /** Gives every port without a nodePort a free one. */
  private assignNodePorts(spec: Record<string, unknown>, taken: Set<number>): void {
    for (const p of portsOf(spec)) {
      if (p.nodePort) continue;
      const port = this.pickPort(taken);
      taken.add(port);
      this.recentPorts.set(port, Date.now());
      p.nodePort = port;
    }
  }

  /** Fills spec.clusterIP(s) and node ports a new Service asks for but did not name; `existing` are the stored Services. */
  allocate(svc: KubeObject, existing: Iterable<KubeObject>): void {
    const spec = specOf(svc);
    const wantsIP = needsClusterIP(spec) && !spec.clusterIP;
    const wantsPorts = needsNodePorts(spec) && portsOf(spec).some((p) => !p.nodePort);
    if (!wantsIP && !wantsPorts && !spec.clusterIP) return;
    const taken = this.taken(existing);
    if (wantsIP) {
      const ip = this.pickIP(taken.ips);
      this.recentIPs.set(ip, Date.now());
      spec.clusterIP = ip;
      spec.clusterIPs = [ip];
    } else if (needsClusterIP(spec) && typeof spec.clusterIP === 'string') {
      const why = requestedIPError(spec.clusterIP, taken.ips);
      if (why) {
        const clusterIPs = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [spec.clusterIP];
        throw new InvalidError('Service', '', svc.metadata.name ?? '', [invalid('spec.clusterIPs', clusterIPs, `failed to allocate IP ${spec.clusterIP}: ${why}`)]);
      }
    }
    if (wantsPorts) this.assignNodePorts(spec, taken.ports);
    if (spec.clusterIP && spec.clusterIP !== 'None') {
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
    }
  }

  /** An update keeps what was allocated when the client left it out (kubectl replace, PUT of an old manifest). */
  carryOver(svc: KubeObject, old: KubeObject, existing: Iterable<KubeObject>): void {
    const spec = specOf(svc);
    const prev = isPlainObject(old.spec) ? old.spec : {};
    if (needsClusterIP(spec) && !spec.clusterIP && typeof prev.clusterIP === 'string' && prev.clusterIP !== 'None') {
      spec.clusterIP = prev.clusterIP;
      spec.clusterIPs ??= prev.clusterIPs;
      spec.ipFamilies ??= prev.ipFamilies;
      spec.ipFamilyPolicy ??= prev.ipFamilyPolicy;
    }
    if (needsNodePorts(spec)) {
      const oldPorts = portsOf(prev);
      for (const p of portsOf(spec)) {
        if (p.nodePort) continue;
        const same = oldPorts.find((o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP') && typeof o.nodePort === 'number');
        if (same) p.nodePort = same.nodePort;
      }
      if (portsOf(spec).some((p) => !p.nodePort)) this.assignNodePorts(spec, this.taken(existing).ports);
    }
  }
}
