// SchedulingGates: a pod with spec.schedulingGates stays out of the active
// queue until every gate is removed.
import type { PreEnqueuePlugin } from '../framework.js';
import type { PodInfo } from '../pod-info.js';
import { Status } from '../status.js';

export class SchedulingGates implements PreEnqueuePlugin {
  readonly name = 'SchedulingGates';

  preEnqueue(pod: PodInfo): Status {
    const gates = pod.pod.spec?.schedulingGates ?? [];
    if (gates.length === 0) return Status.success();
    return new Status('UnschedulableAndUnresolvable', [`waiting for scheduling gates: [${gates.map((g) => g.name).join(' ')}]`]);
  }
}
