// The StatefulSet controller's public surface.
export { StatefulSetController, statefulSetsResource, claimName, type StatefulSet, type StatefulSetControllerOptions } from './controller.js';
export { planStatefulSet, parseOrdinal, podNameLabel, podIndexLabel, type OrderingInput, type OrderingPlan, type OrderingAction } from './ordering.js';
