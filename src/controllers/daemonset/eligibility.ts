// Which nodes a DaemonSet's pod belongs on (Kubernetes' NodeShouldRunDaemonPod):
// the pod template with the tolerations every daemon pod gets, matched against
// the node's labels, name and taints with the scheduler's own rules.
import type { KubeObject } from '../../api/object.js';
import { findUntoleratedTaint, nodeTaints, podMatchesNodeSelectorAndAffinity, type Toleration } from '../../api/scheduling/index.js';
import type { Pod, PodSpec, PodTemplate } from '../workload-common/pods.js';

/** The tolerations util.AddOrUpdateDaemonPodTolerations adds. */
export function daemonPodTolerations(hostNetwork: boolean): Toleration[] {
  const out: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (hostNetwork) out.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  return out;
}

function sameToleration(a: Toleration, b: Toleration): boolean {
  return (a.key ?? '') === (b.key ?? '') && (a.effect ?? '') === (b.effect ?? '') && (a.operator ?? '') === (b.operator ?? '') && (a.value ?? '') === (b.value ?? '');
}

/** AddOrUpdateTolerationInPodSpec for each daemon toleration: replaces one with the same key, effect, operator and value, else appends. */
export function withDaemonTolerations(spec: PodSpec): PodSpec {
  const tolerations = [...((spec.tolerations ?? []) as Toleration[])];
  for (const t of daemonPodTolerations(spec.hostNetwork === true)) {
    const i = tolerations.findIndex((have) => sameToleration(have, t));
    if (i >= 0) tolerations[i] = t;
    else tolerations.push(t);
  }
  return { ...spec, tolerations: tolerations as unknown as Record<string, unknown>[] };
}

export interface Placement {
  /** a pod should be created here */
  shouldRun: boolean;
  /** a pod already here may stay */
  shouldContinueRunning: boolean;
}

/** NodeShouldRunDaemonPod. */
export function nodeShouldRunDaemonPod(node: KubeObject, template: PodTemplate): Placement {
  const nodeName = node.metadata.name ?? '';
  const templateNode = template.spec?.nodeName ?? '';
  if (templateNode !== '' && templateNode !== nodeName) return { shouldRun: false, shouldContinueRunning: false };
  const spec = withDaemonTolerations({ ...(template.spec ?? {}), nodeName });
  const pod: Pod = { metadata: { ...(template.metadata ?? {}) }, spec };
  if (!podMatchesNodeSelectorAndAffinity(pod, node)) return { shouldRun: false, shouldContinueRunning: false };
  const taints = nodeTaints(node);
  const tolerations = spec.tolerations as unknown as Toleration[];
  if (findUntoleratedTaint(taints, tolerations, ['NoSchedule', 'NoExecute'])) {
    // A pod already running stays unless a NoExecute taint it does not tolerate evicts it.
    return { shouldRun: false, shouldContinueRunning: !findUntoleratedTaint(taints, tolerations, ['NoExecute']) };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}

/** util.ReplaceDaemonSetPodNodeNameNodeAffinity: required affinity to exactly this node, by name. */
export function affinityForNode(affinity: Record<string, unknown> | undefined, nodeName: string): Record<string, unknown> {
  const term = { matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] };
  const out = { ...(affinity ?? {}) };
  const nodeAffinity = { ...((out.nodeAffinity as Record<string, unknown> | undefined) ?? {}) };
  const required = { ...((nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution as Record<string, unknown> | undefined) ?? {}) };
  required.nodeSelectorTerms = [term];
  nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = required;
  out.nodeAffinity = nodeAffinity;
  return out;
}

/** util.GetTargetNodeName: the node a daemon pod is bound to, or the one its affinity names. */
export function targetNodeName(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const affinity = pod.spec?.affinity as { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: { matchFields?: { key?: string; operator?: string; values?: string[] }[] }[] } } } | undefined;
  for (const term of affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of term.matchFields ?? []) {
      if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
    }
  }
  return undefined;
}
