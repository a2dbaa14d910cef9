// The node agent's public surface: node agents (one real node or many hollow
// ones), the runtime contract and its fake implementation.
export { startNodeAgent, startNodeAgents, podsByNodeIndex, type NodeAgentGroup, type NodeAgentOptions, type NodeSpecAndRuntime } from './node-agent.js';
export { startHollowNodes, runHollowCommand, hollowNodeConfig, hollowNodeLabel, maxHollowNodes, type HollowNodes, type HollowNodesOptions, type HollowCommandOptions } from './hollow-nodes.js';
export { FakeRuntime, fakeExitCodeAnnotation, fakeExitAfterAnnotation, normalizeImage, type FakeRuntimeOptions } from './fake-runtime.js';
export {
  ContainerStartError,
  type CgroupUsage,
  ExecStartError,
  type ContainerConfig,
  type ExecProcess,
  type StreamOptions,
  type ContainerKind,
  type ContainerUsage,
  type NetworkInterfaceUsage,
  type PodUsage,
  type PodSandboxConfig,
  type Runtime,
  type RuntimeContainer,
  type RuntimeContainerState,
  type RuntimePod,
  type RuntimeSandbox,
} from './runtime.js';
export { localNodeConfig, kubeletVersion, healthyNode, type NodeConfig, type NodeHealth, type NodeSystemInfo } from './node-status.js';
export { kubeletCrashLoopBackOff, type AgentLog, type CrashLoopBackOff } from './pod-worker.js';
export { generatePodStatus, podPhase, type PodStatusInput } from './pod-status.js';
export { lifecycleHandlerOf, realHookRunner, type HookKind, type HookRunner, type HookTarget } from './lifecycle-hooks.js';
