// PrioritySort: higher priority first, then the pod queued earlier.
import type { QueuedPodInfo, QueueSortPlugin } from '../framework.js';

export class PrioritySort implements QueueSortPlugin {
  readonly name = 'PrioritySort';

  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
    const pa = a.podInfo.priority;
    const pb = b.podInfo.priority;
    return pa > pb || (pa === pb && a.timestamp < b.timestamp);
  }
}
