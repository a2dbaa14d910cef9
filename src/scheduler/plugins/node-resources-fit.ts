// NodeResourcesFit: the pod fits where allocatable minus what the node's
// pods request covers its requests (cpu, memory, ephemeral-storage,
// extended resources) and one more pod is allowed; scores by the
// least-allocated strategy on cpu and memory.
import { nodeAllocatable, type Node } from '../../api/scheduling/index.js';
import { ActionType, maxNodeScore, type ClusterEventWithHint, type CycleState, type EnqueueExtensions, type FilterPlugin, type ScorePlugin } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';
import { Status } from '../status.js';

export interface InsufficientResource {
  resourceName: string;
  reason: string;
  requested: number;
  used: number;
  capacity: number;
}

/** What the node lacks for the pod (Kubernetes' fitsRequest); empty when it fits. */
export function fitsRequest(pod: PodInfo, nodeInfo: NodeInfo): InsufficientResource[] {
  const out: InsufficientResource[] = [];
  const alloc = nodeInfo.allocatable;
  const used = nodeInfo.requested;
  if (nodeInfo.pods.length + 1 > alloc.allowedPodNumber) {
    out.push({ resourceName: 'pods', reason: 'Too many pods', requested: 1, used: nodeInfo.pods.length, capacity: alloc.allowedPodNumber });
  }
  if (pod.milliCPU === 0 && pod.memory === 0 && pod.ephemeralStorage === 0 && pod.scalar.length === 0) return out;
  if (pod.milliCPU > 0 && pod.milliCPU > alloc.milliCPU - used.milliCPU) {
    out.push({ resourceName: 'cpu', reason: 'Insufficient cpu', requested: pod.milliCPU, used: used.milliCPU, capacity: alloc.milliCPU });
  }
  if (pod.memory > 0 && pod.memory > alloc.memory - used.memory) {
    out.push({ resourceName: 'memory', reason: 'Insufficient memory', requested: pod.memory, used: used.memory, capacity: alloc.memory });
  }
  if (pod.ephemeralStorage > 0 && pod.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) {
    out.push({
      resourceName: 'ephemeral-storage',
      reason: 'Insufficient ephemeral-storage',
      requested: pod.ephemeralStorage,
      used: used.ephemeralStorage,
      capacity: alloc.ephemeralStorage,
    });
  }
  for (const [name, want] of pod.scalar) {
    const capacity = alloc.scalar[name] ?? 0;
    const taken = used.scalar[name] ?? 0;
    if (want > capacity - taken) out.push({ resourceName: name, reason: `Insufficient ${name}`, requested: want, used: taken, capacity });
  }
  return out;
}

/** True when an empty node with this allocatable could hold the pod (queueing hint for node events). */
function allocatableCouldFit(pod: PodInfo, node: Node): boolean {
  const alloc = nodeAllocatable(node);
  for (const [name, want] of Object.entries(pod.requests)) if (want > 0 && want > (alloc[name] ?? 0)) return false;
  return (alloc.pods ?? 0) >= 1;
}

/** ((capacity - requested) * 100) / capacity, 0 when over capacity. */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * maxNodeScore) / capacity);
}

/** True when the pod fits (the common case, checked without allocating). */
function fits(pod: PodInfo, nodeInfo: NodeInfo): boolean {
  const alloc = nodeInfo.allocatable;
  const used = nodeInfo.requested;
  if (nodeInfo.pods.length + 1 > alloc.allowedPodNumber) return false;
  if (pod.milliCPU > 0 && pod.milliCPU > alloc.milliCPU - used.milliCPU) return false;
  if (pod.memory > 0 && pod.memory > alloc.memory - used.memory) return false;
  if (pod.ephemeralStorage > 0 && pod.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) return false;
  for (const [name, want] of pod.scalar) if (want > (alloc.scalar[name] ?? 0) - (used.scalar[name] ?? 0)) return false;
  return true;
}

export class NodeResourcesFit implements FilterPlugin, ScorePlugin, EnqueueExtensions {
  readonly name = 'NodeResourcesFit';

  filter(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    if (fits(pod, nodeInfo)) return Status.success();
    const insufficient = fitsRequest(pod, nodeInfo);
    if (insufficient.length === 0) return Status.success();
    return Status.unschedulable(...insufficient.map((r) => r.reason));
  }

  /** Least allocated: free share of cpu and memory after placing the pod, weighted 1:1. */
  score(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): number {
    const alloc = nodeInfo.allocatable;
    let sum = 0;
    let weights = 0;
    if (alloc.milliCPU > 0) {
      sum += leastRequestedScore(nodeInfo.nonZeroMilliCPU + pod.nonZeroMilliCPU, alloc.milliCPU);
      weights++;
    }
    if (alloc.memory > 0) {
      sum += leastRequestedScore(nodeInfo.nonZeroMemory + pod.nonZeroMemory, alloc.memory);
      weights++;
    }
    return weights === 0 ? 0 : Math.trunc(sum / weights);
  }

  eventsToRegister(): ClusterEventWithHint[] {
    return [
      { event: { resource: 'Pod', actionType: ActionType.Delete | ActionType.UpdatePodScaleDown } },
      {
        event: { resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeAllocatable | ActionType.UpdateNodeTaint | ActionType.UpdateNodeLabel },
        hint: (pod, _old, node) => allocatableCouldFit(pod, node as Node),
      },
    ];
  }
}

/** BalancedAllocation: favours nodes whose cpu and memory would be used in equal shares. */
export class NodeResourcesBalancedAllocation implements ScorePlugin {
  readonly name = 'NodeResourcesBalancedAllocation';

  preScore(_state: CycleState, pod: PodInfo): Status {
    // Best-effort pods would all pile onto one node otherwise (kubernetes#129138).
    return pod.milliCPU === 0 && pod.memory === 0 ? Status.skip() : Status.success();
  }

  score(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): number {
    const alloc = nodeInfo.allocatable;
    const fractions: number[] = [];
    if (alloc.milliCPU > 0) fractions.push(Math.min(1, (nodeInfo.requested.milliCPU + pod.milliCPU) / alloc.milliCPU));
    if (alloc.memory > 0) fractions.push(Math.min(1, (nodeInfo.requested.memory + pod.memory) / alloc.memory));
    let std = 0;
    if (fractions.length === 2) std = Math.abs((fractions[0]! - fractions[1]!) / 2);
    return Math.trunc((1 - std) * maxNodeScore);
  }
}
