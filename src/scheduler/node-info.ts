// A node as the scheduler sees it: its allocatable resources and the sum of
// what the pods on it request, kept up to date incrementally as pods come
// and go (Kubernetes' framework.NodeInfo).
import { nodeTaints, resourceAmount, type Node, type Taint } from '../api/scheduling/index.js';
import type { Labels } from '../api/labels/index.js';
import { isScalarResourceName, type HostPort, type PodInfo } from './pod-info.js';

export class Resources {
  milliCPU = 0;
  memory = 0;
  ephemeralStorage = 0;
  allowedPodNumber = 0;
  scalar: Record<string, number> = {};

  clone(): Resources {
    const r = new Resources();
    r.milliCPU = this.milliCPU;
    r.memory = this.memory;
    r.ephemeralStorage = this.ephemeralStorage;
    r.allowedPodNumber = this.allowedPodNumber;
    r.scalar = { ...this.scalar };
    return r;
  }

  /** The amount of one resource by its name. */
  get(name: string): number {
    switch (name) {
      case 'cpu':
        return this.milliCPU;
      case 'memory':
        return this.memory;
      case 'ephemeral-storage':
        return this.ephemeralStorage;
      case 'pods':
        return this.allowedPodNumber;
      default:
        return this.scalar[name] ?? 0;
    }
  }

  static fromList(list: Record<string, string | number> | undefined): Resources {
    const r = new Resources();
    for (const name of Object.keys(list ?? {})) {
      const v = resourceAmount(name, list![name]);
      if (name === 'cpu') r.milliCPU = v;
      else if (name === 'memory') r.memory = v;
      else if (name === 'ephemeral-storage') r.ephemeralStorage = v;
      else if (name === 'pods') r.allowedPodNumber = v;
      else if (isScalarResourceName(name)) r.scalar[name] = v;
    }
    return r;
  }
}

const noLabels: Labels = Object.freeze({});

export class NodeInfo {
  node: Node | undefined;
  readonly name: string;
  labels: Labels = noLabels;
  taints: readonly Taint[] = [];
  unschedulable = false;
  allocatable = new Resources();
  requested = new Resources();
  /** cpu and memory requested with Kubernetes' non-zero defaults, for scoring. */
  nonZeroMilliCPU = 0;
  nonZeroMemory = 0;
  pods: PodInfo[] = [];
  podsWithAffinity: PodInfo[] = [];
  podsWithRequiredAntiAffinity: PodInfo[] = [];
  usedPorts: HostPort[] = [];
  /** Bumped on every change. */
  generation = 0;

  constructor(name: string, node?: Node) {
    this.name = name;
    if (node) this.setNode(node);
  }

  setNode(node: Node): void {
    this.node = node;
    this.labels = node.metadata.labels ?? noLabels;
    this.taints = nodeTaints(node);
    this.unschedulable = node.spec?.unschedulable === true;
    this.allocatable = Resources.fromList(node.status?.allocatable);
    this.generation++;
  }

  addPod(pi: PodInfo): void {
    this.pods.push(pi);
    if (pi.hasAffinity) this.podsWithAffinity.push(pi);
    if (pi.hasRequiredAntiAffinity) this.podsWithRequiredAntiAffinity.push(pi);
    this.account(pi, 1);
    this.generation++;
  }

  /** Removes the pod with this key (and uid when given); false when it is not here. */
  removePod(key: string): PodInfo | undefined {
    const i = this.pods.findIndex((p) => p.key === key);
    if (i < 0) return undefined;
    const pi = this.pods[i]!;
    const last = this.pods.pop()!;
    if (i < this.pods.length) this.pods[i] = last;
    if (pi.hasAffinity) this.podsWithAffinity = this.podsWithAffinity.filter((p) => p.key !== key);
    if (pi.hasRequiredAntiAffinity) this.podsWithRequiredAntiAffinity = this.podsWithRequiredAntiAffinity.filter((p) => p.key !== key);
    this.account(pi, -1);
    this.generation++;
    return pi;
  }

  private account(pi: PodInfo, sign: 1 | -1): void {
    const r = this.requested;
    r.milliCPU += sign * pi.milliCPU;
    r.memory += sign * pi.memory;
    r.ephemeralStorage += sign * pi.ephemeralStorage;
    for (const [name, v] of pi.scalar) r.scalar[name] = (r.scalar[name] ?? 0) + sign * v;
    this.nonZeroMilliCPU += sign * pi.nonZeroMilliCPU;
    this.nonZeroMemory += sign * pi.nonZeroMemory;
    if (pi.hostPorts.length) {
      if (sign > 0) this.usedPorts.push(...pi.hostPorts);
      else
        for (const hp of pi.hostPorts) {
          const j = this.usedPorts.findIndex((u) => u.ip === hp.ip && u.protocol === hp.protocol && u.port === hp.port);
          if (j >= 0) this.usedPorts.splice(j, 1);
        }
    }
  }

  /** A copy whose pod list and sums can change without touching this one (for preemption's what-ifs). */
  clone(): NodeInfo {
    const c = new NodeInfo(this.name);
    c.node = this.node;
    c.labels = this.labels;
    c.taints = this.taints;
    c.unschedulable = this.unschedulable;
    c.allocatable = this.allocatable;
    c.requested = this.requested.clone();
    c.nonZeroMilliCPU = this.nonZeroMilliCPU;
    c.nonZeroMemory = this.nonZeroMemory;
    c.pods = [...this.pods];
    c.podsWithAffinity = [...this.podsWithAffinity];
    c.podsWithRequiredAntiAffinity = [...this.podsWithRequiredAntiAffinity];
    c.usedPorts = [...this.usedPorts];
    c.generation = this.generation;
    return c;
  }
}

/** True when a port the pod wants on the host is taken (HostPortInfo.CheckConflict: 0.0.0.0 clashes with every address). */
export function hostPortConflict(used: readonly HostPort[], want: HostPort): boolean {
  if (want.port <= 0) return false;
  for (const u of used) {
    if (u.port !== want.port || u.protocol !== want.protocol) continue;
    if (want.ip === '0.0.0.0' || u.ip === '0.0.0.0' || u.ip === want.ip) return true;
  }
  return false;
}

/** The nodes the scheduler knows, as plugins read them. */
export interface NodeInfoLister {
  /** Every node that has a Node object, in a stable order. */
  list(): readonly NodeInfo[];
  get(name: string): NodeInfo | undefined;
  /** Nodes with at least one pod that has inter-pod (anti-)affinity. */
  havePodsWithAffinity(): readonly NodeInfo[];
  /** Nodes with at least one pod that has required anti-affinity. */
  havePodsWithRequiredAntiAffinity(): readonly NodeInfo[];
}

/** A fixed set of NodeInfos (tests, and what-if evaluations). */
export class NodeInfoSnapshot implements NodeInfoLister {
  private readonly byName: Map<string, NodeInfo>;

  constructor(private readonly nodes: readonly NodeInfo[]) {
    this.byName = new Map(nodes.map((n) => [n.name, n]));
  }

  list(): readonly NodeInfo[] {
    return this.nodes;
  }

  get(name: string): NodeInfo | undefined {
    return this.byName.get(name);
  }

  havePodsWithAffinity(): readonly NodeInfo[] {
    return this.nodes.filter((n) => n.podsWithAffinity.length > 0);
  }

  havePodsWithRequiredAntiAffinity(): readonly NodeInfo[] {
    return this.nodes.filter((n) => n.podsWithRequiredAntiAffinity.length > 0);
  }
}
