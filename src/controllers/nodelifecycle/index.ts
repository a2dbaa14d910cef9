// The node lifecycle controller: node health from Leases and status, condition
// taints, and taint-based eviction of pods.
export { NodeLifecycleController, type NodeLifecycleControllerOptions } from './controller.js';
export { evictionDecision, type EvictionDecision, type TimedTaint } from './eviction.js';
export { NodeHealthTracker, unknownConditions } from './health.js';
export { desiredControllerTaints, reconcileTaints, toleratesTaint, matchingTolerations, type Taint, type Toleration } from './taints.js';
