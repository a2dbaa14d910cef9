// Routes to the other nodes' pod ranges, the way flannel's host-gw or
// Kubernetes' route controller does it on a flat network: for every other
// Node with a spec.podCIDR and an InternalIP, `<podCIDR> via <InternalIP>`.
// Routes Nami made carry their own protocol number (`proto 77`), so a sync
// replaces and deletes only its own and never touches the machine's other
// routes. Forwarding must be on for pods to reach pods of other nodes.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { isPlainObject, type KubeObject } from '../../api/object.js';
import { parseCidr } from './cidr.js';

const exec = promisify(execFile);

/** rtnetlink protocol number marking Nami's routes. */
export const namiRouteProtocol = 77;

export interface PodRoute {
  /** The other node's pod range ("10.244.1.0/24"). */
  cidr: string;
  /** That node's InternalIP. */
  via: string;
  node: string;
}

function internalIP(node: KubeObject): string | undefined {
  const addresses = isPlainObject(node.status) && Array.isArray(node.status.addresses) ? node.status.addresses : [];
  const found = addresses.find((a) => isPlainObject(a) && a.type === 'InternalIP' && typeof a.address === 'string');
  return found ? String((found as { address: string }).address) : undefined;
}

function podCIDRs(node: KubeObject): string[] {
  const spec = isPlainObject(node.spec) ? node.spec : {};
  const list = Array.isArray(spec.podCIDRs) ? spec.podCIDRs : typeof spec.podCIDR === 'string' ? [spec.podCIDR] : [];
  return list.filter((c): c is string => typeof c === 'string' && c.includes('.'));
}

/** The routes this node needs: other nodes' IPv4 pod ranges via their InternalIPs (nodes whose address is this node's own are skipped). */
export function desiredRoutes(nodes: KubeObject[], self: string, selfIP?: string): PodRoute[] {
  const out: PodRoute[] = [];
  for (const node of nodes) {
    const name = node.metadata.name ?? '';
    if (name === self) continue;
    const via = internalIP(node);
    if (!via || via === selfIP || via.startsWith('127.')) continue;
    for (const cidr of podCIDRs(node)) {
      try {
        const c = parseCidr(cidr);
        out.push({ cidr: c.text, via, node: name });
      } catch {
        /* a malformed podCIDR gets no route */
      }
    }
  }
  return out.sort((a, b) => a.cidr.localeCompare(b.cidr));
}

export interface RouteSyncOptions {
  /** Run `ip` in this named network namespace (`ip -n NS`); the machine's own by default. Tests use their own namespace. */
  netns?: string;
  log?: (line: string) => void;
}

/** Keeps the machine's Nami routes equal to the desired set. */
export class RouteSync {
  constructor(private readonly opts: RouteSyncOptions = {}) {}

  private ip(args: string[]): Promise<string> {
    const ns = this.opts.netns ? ['-n', this.opts.netns] : [];
    return exec('ip', [...ns, ...args]).then((r) => r.stdout);
  }

  /** The routes Nami made: "10.244.1.0/24 via 192.168.1.12". */
  async current(): Promise<{ cidr: string; via: string }[]> {
    const out = await this.ip(['-4', 'route', 'show', 'proto', String(namiRouteProtocol)]);
    const routes: { cidr: string; via: string }[] = [];
    for (const line of out.split('\n')) {
      const m = /^(\S+) via (\S+)/.exec(line.trim());
      if (m) routes.push({ cidr: m[1]!.includes('/') ? m[1]! : `${m[1]}/32`, via: m[2]! });
    }
    return routes;
  }

  /** Adds or changes the desired routes and deletes Nami routes nobody wants; failures are logged and retried on the next sync. */
  async sync(desired: PodRoute[]): Promise<{ added: string[]; removed: string[]; failed: string[] }> {
    const have = await this.current();
    const result = { added: [] as string[], removed: [] as string[], failed: [] as string[] };
    for (const r of desired) {
      if (have.some((h) => h.cidr === r.cidr && h.via === r.via)) continue;
      try {
        await this.ip(['route', 'replace', r.cidr, 'via', r.via, 'proto', String(namiRouteProtocol)]);
        result.added.push(`${r.cidr} via ${r.via}`);
      } catch (e) {
        result.failed.push(`${r.cidr} via ${r.via}`);
        this.opts.log?.(`route to node ${r.node}'s pods (${r.cidr} via ${r.via}) failed: ${String((e as { stderr?: string }).stderr ?? (e as Error).message).trim()}`);
      }
    }
    for (const h of have) {
      if (desired.some((r) => r.cidr === h.cidr)) continue;
      try {
        await this.ip(['route', 'del', h.cidr, 'via', h.via, 'proto', String(namiRouteProtocol)]);
        result.removed.push(`${h.cidr} via ${h.via}`);
      } catch {
        /* already gone */
      }
    }
    return result;
  }
}
