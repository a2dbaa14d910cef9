// Plain objects for the scheduler's unit tests: nodes, pods, NodeInfos and a
// framework handle over them, with no API server.
import type { Node, Pod, PodSpec, Taint } from '../../src/api/scheduling/index.js';
import { CycleState, type FrameworkHandle, type Plugin } from '../../src/scheduler/framework.js';
import { NodeInfo, NodeInfoSnapshot } from '../../src/scheduler/node-info.js';
import { PodInfo } from '../../src/scheduler/pod-info.js';
import { Framework } from '../../src/scheduler/runtime.js';
import type { Labels } from '../../src/api/labels/index.js';

export interface TestNode {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  /** Extra allocatable resources (nvidia.com/gpu ...). */
  extra?: Record<string, string>;
}

export function node(name: string, o: TestNode = {}): Node {
  const allocatable = { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: o.pods ?? '110', 'ephemeral-storage': '10Gi', ...(o.extra ?? {}) };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(o.labels ?? {}) } },
    spec: { taints: o.taints, unschedulable: o.unschedulable },
    status: { capacity: allocatable, allocatable },
  };
}

let uid = 0;

export interface TestPod {
  namespace?: string;
  labels?: Record<string, string>;
  cpu?: string;
  memory?: string;
  requests?: Record<string, string>;
  nodeName?: string;
  priority?: number;
  spec?: Partial<PodSpec>;
  terminating?: boolean;
  startTime?: string;
}

export function pod(name: string, o: TestPod = {}): Pod {
  const requests: Record<string, string> = { ...(o.cpu ? { cpu: o.cpu } : {}), ...(o.memory ? { memory: o.memory } : {}), ...(o.requests ?? {}) };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.namespace ?? 'default',
      uid: `uid-${name}-${++uid}`,
      labels: o.labels ?? {},
      ...(o.terminating ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}),
    },
    spec: {
      containers: [{ name: 'app', image: 'busybox', resources: { requests } }],
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      ...(o.priority !== undefined ? { priority: o.priority } : {}),
      ...(o.spec ?? {}),
    },
    status: { phase: 'Pending', ...(o.startTime ? { startTime: o.startTime } : {}) },
  };
}

export function podInfo(name: string, o: TestPod = {}): PodInfo {
  return new PodInfo(pod(name, o));
}

/** A NodeInfo holding the given pods (their nodeName is set to the node). */
export function nodeInfo(n: Node, pods: Pod[] = []): NodeInfo {
  const info = new NodeInfo(n.metadata.name!, n);
  for (const p of pods) info.addPod(new PodInfo({ ...p, spec: { ...p.spec, nodeName: n.metadata.name } }));
  return info;
}

export interface TestHandleOptions {
  namespaces?: Record<string, Labels>;
  nominated?: Record<string, PodInfo[]>;
}

export function handleFor(nodes: NodeInfo[], o: TestHandleOptions = {}): FrameworkHandle {
  const namespaces = o.namespaces ?? { default: { 'kubernetes.io/metadata.name': 'default' } };
  return {
    nodes: new NodeInfoSnapshot(nodes),
    namespaceLabels: (ns) => namespaces[ns],
    namespacesMatching: (selector) => Object.keys(namespaces).filter((ns) => selector.matches(namespaces[ns])),
    nominatedPodsForNode: (name) => o.nominated?.[name] ?? [],
  };
}

/** Runs PreFilter then Filter of one plugin on every node: node name -> status text ("" when it passes). */
export function filterAll(
  plugin: Plugin & {
    preFilter?(s: CycleState, p: PodInfo, n: readonly NodeInfo[]): { isSkip(): boolean; isSuccess(): boolean; message(): string };
    filter(s: CycleState, p: PodInfo, n: NodeInfo): { isSuccess(): boolean; message(): string; code: string };
  },
  p: PodInfo,
  nodes: NodeInfo[],
): Record<string, string> {
  const state = new CycleState();
  const out: Record<string, string> = {};
  if (plugin.preFilter) {
    const s = plugin.preFilter(state, p, nodes);
    if (s.isSkip()) {
      for (const n of nodes) out[n.name] = '';
      return out;
    }
    if (!s.isSuccess()) throw new Error(`PreFilter: ${s.message()}`);
  }
  for (const n of nodes) {
    const s = plugin.filter(state, p, n);
    out[n.name] = s.isSuccess() ? '' : `${s.code}: ${s.message()}`;
  }
  return out;
}

/** A framework over the nodes with the given plugins (score weights 1 unless given). */
export function frameworkFor(nodes: NodeInfo[], make: (h: FrameworkHandle, fw: () => Framework) => Plugin[], o: TestHandleOptions & { weights?: Record<string, number> } = {}): Framework {
  const handle = handleFor(nodes, o);
  let fw: Framework | undefined;
  fw = new Framework(handle, make(handle, () => fw!), { scoreWeights: o.weights });
  return fw;
}
