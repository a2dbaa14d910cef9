// Matching a failed pod against a Job's podFailurePolicy (Kubernetes'
// pkg/controller/job/pod_failure_policy.go): the first rule whose exit codes
// or pod conditions match decides — FailJob, Ignore (not counted) or Count.
import type { ContainerStatus, Pod } from '../workload-common/pods.js';

export interface OnExitCodes {
  containerName?: string;
  operator: 'In' | 'NotIn' | string;
  values: number[];
}

export interface OnPodConditionsPattern {
  type: string;
  status?: string;
}

export interface PodFailurePolicyRule {
  action: 'FailJob' | 'Ignore' | 'Count' | 'FailIndex' | string;
  onExitCodes?: OnExitCodes | null;
  onPodConditions?: OnPodConditionsPattern[] | null;
}

export interface PodFailurePolicy {
  rules?: PodFailurePolicyRule[];
}

export interface PolicyMatch {
  /** the Job's failure message when a FailJob rule matched */
  failJobMessage?: string;
  /** false when an Ignore rule matched: the failure does not count against backoffLimit */
  countFailed: boolean;
  /** the matched rule's action */
  action?: string;
}

function exitCodeMatches(code: number, req: OnExitCodes): boolean {
  if (req.operator === 'In') return req.values.includes(code);
  if (req.operator === 'NotIn') return !req.values.includes(code);
  return false;
}

function matchingContainer(statuses: readonly ContainerStatus[] | undefined, req: OnExitCodes): ContainerStatus | undefined {
  for (const s of statuses ?? []) {
    const terminated = s.state?.terminated;
    // A container still running (or terminating) has no exit code to match.
    if (!terminated) continue;
    if (req.containerName && req.containerName !== s.name) continue;
    const code = terminated.exitCode ?? 0;
    if (code !== 0 && exitCodeMatches(code, req)) return s;
  }
  return undefined;
}

/** matchPodFailurePolicy. */
export function matchPodFailurePolicy(policy: PodFailurePolicy | null | undefined, pod: Pod): PolicyMatch {
  if (!policy) return { countFailed: true };
  const rules = policy.rules ?? [];
  for (let index = 0; index < rules.length; index++) {
    const rule = rules[index]!;
    let described: string | undefined;
    if (rule.onExitCodes) {
      const s = matchingContainer(pod.status?.containerStatuses, rule.onExitCodes) ?? matchingContainer(pod.status?.initContainerStatuses, rule.onExitCodes);
      if (s) described = `Container ${s.name} for pod ${pod.metadata.namespace}/${pod.metadata.name} failed with exit code ${s.state?.terminated?.exitCode ?? 0}`;
    } else if (rule.onPodConditions) {
      let matched: string | undefined;
      for (const c of pod.status?.conditions ?? []) {
        if (rule.onPodConditions.some((p) => p.type === c.type && (p.status ?? 'True') === c.status)) {
          matched = c.type;
          break;
        }
      }
      if (matched !== undefined) described = `Pod ${pod.metadata.namespace}/${pod.metadata.name} has condition ${matched}`;
    }
    if (described === undefined) continue;
    switch (rule.action) {
      case 'Ignore':
        return { countFailed: false, action: 'Ignore' };
      case 'Count':
        return { countFailed: true, action: 'Count' };
      case 'FailIndex':
        // Per-index backoff is not supported: the failure counts as usual.
        return { countFailed: true, action: 'FailIndex' };
      case 'FailJob':
        return { countFailed: true, action: 'FailJob', failJobMessage: `${described} matching FailJob rule at index ${index}` };
      default:
        continue;
    }
  }
  return { countFailed: true };
}
