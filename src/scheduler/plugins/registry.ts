// The default profile: kube-scheduler's default plugins, in its order, with
// its score weights.
import type { RestClient } from '../../client/rest.js';
import type { FrameworkHandle, Plugin } from '../framework.js';
import type { Framework } from '../runtime.js';
import { DefaultBinder } from './default-binder.js';
import { DefaultPreemption, type DefaultPreemptionOptions, type PreemptionActions } from './default-preemption.js';
import { InterPodAffinity } from './inter-pod-affinity.js';
import { NodeAffinity } from './node-affinity.js';
import { NodeName } from './node-name.js';
import { NodePorts } from './node-ports.js';
import { NodeResourcesBalancedAllocation, NodeResourcesFit } from './node-resources-fit.js';
import { NodeUnschedulable } from './node-unschedulable.js';
import { PodTopologySpread } from './pod-topology-spread.js';
import { PrioritySort } from './queue-sort.js';
import { SchedulingGates } from './scheduling-gates.js';
import { TaintToleration } from './taint-toleration.js';
import { VolumeBinding } from './volume-binding.js';

export const defaultScoreWeights: Record<string, number> = {
  TaintToleration: 3,
  NodeAffinity: 2,
  NodeResourcesFit: 1,
  PodTopologySpread: 2,
  InterPodAffinity: 2,
  NodeResourcesBalancedAllocation: 1,
};

export interface DefaultPluginDeps {
  handle: FrameworkHandle;
  client: RestClient;
  framework: () => Framework;
  preemption: PreemptionActions;
  preemptionOptions?: DefaultPreemptionOptions;
}

/** The default plugins in kube-scheduler's order (the order Filter runs them in). */
export function defaultPlugins(deps: DefaultPluginDeps): Plugin[] {
  return [
    new SchedulingGates(),
    new PrioritySort(),
    new NodeUnschedulable(),
    new NodeName(),
    new TaintToleration(),
    new NodeAffinity(),
    new NodePorts(),
    new NodeResourcesFit(),
    new PodTopologySpread(deps.handle),
    new InterPodAffinity(deps.handle),
    new DefaultPreemption(deps.handle, deps.framework, deps.preemption, deps.preemptionOptions),
    new NodeResourcesBalancedAllocation(),
    new VolumeBinding(deps.client),
    new DefaultBinder(deps.client),
  ];
}
