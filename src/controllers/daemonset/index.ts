// The DaemonSet controller's public surface.
export { DaemonSetController, daemonSetsResource, type DaemonSet, type DaemonSetControllerOptions } from './controller.js';
export { nodeShouldRunDaemonPod, daemonPodTolerations, type Placement } from './eligibility.js';
