// The scheduler's public surface: the Scheduler component, and the framework
// pieces a custom plugin or profile needs.
export { Scheduler, defaultSchedulerName, nodeUpdateActions, type SchedulerOptions, type SchedulerStats } from './scheduler.js';
export { Status, type Code } from './status.js';
export {
  ActionType,
  CycleState,
  maxNodeScore,
  type BindPlugin,
  type ClusterEvent,
  type ClusterEventWithHint,
  type EnqueueExtensions,
  type FilterPlugin,
  type FrameworkHandle,
  type NodeToStatus,
  type PermitPlugin,
  type Plugin,
  type PostBindPlugin,
  type PostFilterPlugin,
  type PreBindPlugin,
  type PreEnqueuePlugin,
  type PreFilterPlugin,
  type PreScorePlugin,
  type QueuedPodInfo,
  type QueueSortPlugin,
  type ReservePlugin,
  type ScorePlugin,
  type StateData,
} from './framework.js';
export { Framework, WaitingPod } from './runtime.js';
export { NodeInfo, NodeInfoSnapshot, type NodeInfoLister } from './node-info.js';
export { PodInfo, AffinityTerm } from './pod-info.js';
export { SchedulingQueue } from './queue.js';
export { SchedulerCache } from './cache.js';
export { PodScheduler, numFeasibleNodesToFind } from './schedule-pod.js';
export { FitError, fitErrorMessage } from './fit-error.js';
export { defaultPlugins, defaultScoreWeights, type DefaultPluginDeps } from './plugins/registry.js';
export { DefaultPreemption, type PreemptionActions } from './plugins/default-preemption.js';
