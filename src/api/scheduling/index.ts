// Scheduling's pure matching rules, shared by the scheduler and the
// controllers that place pods themselves (DaemonSet): taints and
// tolerations, node selectors and node affinity, a pod's resource requests.
export type {
  Affinity,
  Container,
  ContainerPort,
  Node,
  NodeAffinity,
  NodeCondition,
  NodeSelector,
  NodeSelectorOperator,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  NodeSpec,
  NodeStatus,
  Pod,
  PodAffinity,
  PodAffinityTerm,
  PodCondition,
  PodSpec,
  PodStatus,
  PreferredSchedulingTerm,
  ResourceList,
  ResourceRequirements,
  Taint,
  TaintEffect,
  Toleration,
  TopologySpreadConstraint,
  WeightedPodAffinityTerm,
} from './types.js';
export { findUntoleratedTaint, nodeTaints, podTolerations, tolerationToleratesTaint, tolerationsTolerateTaint, unschedulableTaint } from './taints.js';
export {
  NodeSelectorMatcher,
  PreferredTermMatcher,
  RequiredNodeAffinity,
  nodeMatchesNodeSelectorTerms,
  podMatchesNodeSelectorAndAffinity,
} from './node-affinity.js';
export { defaultNonZeroRequests, nodeAllocatable, podRequests, resourceAmount, resourceAmounts, type PodRequestsOptions, type ResourceAmounts } from './resources.js';
