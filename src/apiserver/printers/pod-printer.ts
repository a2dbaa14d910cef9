// `kubectl get pods`: NAME READY STATUS RESTARTS AGE, and with -o wide
// IP NODE NOMINATED NODE READINESS GATES. Ported from Kubernetes' printPod,
// whose STATUS folds phase, init progress and container reasons into one word.
import type { KubeObject } from '../../api/object.js';
import { timestampSince, parseTimestamp } from './human-duration.js';
import { ageColumn, column, nameColumn, wideColumn, type TablePrinter, type TableRowCondition } from './table.js';

interface ContainerState {
  waiting?: { reason?: string };
  running?: object;
  terminated?: { reason?: string; exitCode?: number; signal?: number; finishedAt?: string };
}

interface ContainerStatus {
  name?: string;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  state?: ContainerState;
  lastState?: ContainerState;
}

interface PodCondition {
  type?: string;
  status?: string;
  reason?: string;
}

interface PodJson {
  metadata: { name?: string; creationTimestamp?: string; deletionTimestamp?: string };
  spec?: {
    nodeName?: string;
    containers?: object[];
    initContainers?: { name?: string; restartPolicy?: string }[];
    readinessGates?: { conditionType?: string }[];
  };
  status?: {
    phase?: string;
    reason?: string;
    nominatedNodeName?: string;
    podIP?: string;
    podIPs?: { ip?: string }[];
    conditions?: PodCondition[];
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
}

// The kubelet's reason for pods on a node that stopped reporting.
const nodeUnreachablePodReason = 'NodeLost';

const podSucceededConditions: TableRowCondition[] = [
  { type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' },
];
const podFailedConditions: TableRowCondition[] = [
  { type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' },
];

/** Tracks the latest restart so RESTARTS can say "3 (10s ago)". */
class LastRestart {
  private ms: number | null = null;
  private text: string | undefined;

  observe(status: ContainerStatus): void {
    const finishedAt = status.lastState?.terminated?.finishedAt;
    const ms = parseTimestamp(finishedAt);
    if (ms === null || Number.isNaN(ms)) return;
    if (this.ms === null || this.ms < ms) {
      this.ms = ms;
      this.text = finishedAt;
    }
  }

  get timestamp(): string | undefined {
    return this.text;
  }

  copyFrom(other: LastRestart): void {
    this.ms = other.ms;
    this.text = other.text;
  }
}

function conditionStatus(conditions: PodCondition[] | undefined, type: string): string | undefined {
  return conditions?.find((c) => c.type === type)?.status;
}

function terminatedReason(terminated: NonNullable<ContainerState['terminated']>, prefix: string): string {
  if (terminated.reason) return prefix + terminated.reason;
  if (terminated.signal) return `${prefix}Signal:${terminated.signal}`;
  return `${prefix}ExitCode:${terminated.exitCode ?? 0}`;
}

export const podPrinter: TablePrinter = {
  columnDefinitions: [
    nameColumn,
    column('Ready', { description: 'The aggregate readiness state of this pod for accepting traffic.' }),
    column('Status', { description: 'The aggregate status of the containers in this pod.' }),
    column('Restarts', {
      description:
        'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
    }),
    ageColumn,
    wideColumn('IP', { doc: 'PodStatus.podIP' }),
    wideColumn('Node', { doc: 'PodSpec.nodeName' }),
    wideColumn('Nominated Node', { doc: 'PodStatus.nominatedNodeName' }),
    wideColumn('Readiness Gates', { doc: 'PodSpec.readinessGates' }),
  ],

  printRow(object: KubeObject, now: Date) {
    const pod = object as PodJson;
    const spec = pod.spec ?? {};
    const status = pod.status ?? {};
    const initContainers = spec.initContainers ?? [];
    const isSidecar = (name: string | undefined): boolean =>
      initContainers.find((c) => c.name === name)?.restartPolicy === 'Always';

    let restarts = 0;
    let sidecarRestarts = 0;
    let readyContainers = 0;
    let totalContainers = (spec.containers ?? []).length + initContainers.filter((c) => c.restartPolicy === 'Always').length;
    const lastRestart = new LastRestart();
    const lastSidecarRestart = new LastRestart();

    const phase = status.phase ?? '';
    let reason = status.reason || phase;
    if (status.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) {
      reason = 'SchedulingGated';
    }

    let conditions: TableRowCondition[] | undefined;
    if (phase === 'Succeeded') conditions = podSucceededConditions.map((c) => ({ ...c }));
    else if (phase === 'Failed') conditions = podFailedConditions.map((c) => ({ ...c }));

    let initializing = false;
    const initStatuses = status.initContainerStatuses ?? [];
    for (const [i, container] of initStatuses.entries()) {
      restarts += container.restartCount ?? 0;
      lastRestart.observe(container);
      const sidecar = isSidecar(container.name);
      if (sidecar) {
        sidecarRestarts += container.restartCount ?? 0;
        lastSidecarRestart.observe(container);
      }
      const state = container.state ?? {};
      if (state.terminated && (state.terminated.exitCode ?? 0) === 0) continue;
      if (sidecar && container.started === true) {
        if (container.ready) readyContainers++;
        continue;
      }
      if (state.terminated) {
        reason = terminatedReason(state.terminated, 'Init:');
      } else if (state.waiting?.reason && state.waiting.reason !== 'PodInitializing') {
        reason = `Init:${state.waiting.reason}`;
      } else {
        reason = `Init:${i}/${initContainers.length}`;
      }
      initializing = true;
      break;
    }

    if (!initializing || conditionStatus(status.conditions, 'Initialized') === 'True') {
      restarts = sidecarRestarts;
      lastRestart.copyFrom(lastSidecarRestart);
      let hasRunning = false;
      const statuses = status.containerStatuses ?? [];
      // Backwards, so the first container's reason wins, as in Kubernetes.
      for (let i = statuses.length - 1; i >= 0; i--) {
        const container = statuses[i];
        if (container === undefined) continue;
        restarts += container.restartCount ?? 0;
        lastRestart.observe(container);
        const state = container.state ?? {};
        if (state.waiting?.reason) {
          reason = state.waiting.reason;
        } else if (state.terminated) {
          reason = terminatedReason(state.terminated, '');
        } else if (container.ready && state.running) {
          hasRunning = true;
          readyContainers++;
        }
      }
      // A finished sidecar-less container next to a running one is not a completed pod.
      if (reason === 'Completed' && hasRunning) {
        reason = conditionStatus(status.conditions, 'Ready') === 'True' ? 'Running' : 'NotReady';
      }
    }

    if (pod.metadata.deletionTimestamp && status.reason === nodeUnreachablePodReason) {
      reason = 'Unknown';
    } else if (pod.metadata.deletionTimestamp && phase !== 'Failed' && phase !== 'Succeeded') {
      reason = 'Terminating';
    }

    let restartsText = String(restarts);
    if (restarts !== 0 && lastRestart.timestamp !== undefined) {
      restartsText = `${restarts} (${timestampSince(lastRestart.timestamp, now)} ago)`;
    }

    // podIP wins over podIPs, as in Kubernetes' v1 to internal conversion.
    const podIP = status.podIP || status.podIPs?.[0]?.ip || '<none>';
    const gates = spec.readinessGates ?? [];
    let readinessGates = '<none>';
    if (gates.length > 0) {
      const trueGates = gates.filter((g) => conditionStatus(status.conditions, g.conditionType ?? '') === 'True').length;
      readinessGates = `${trueGates}/${gates.length}`;
    }

    return {
      cells: [
        pod.metadata.name ?? '',
        `${readyContainers}/${totalContainers}`,
        reason,
        restartsText,
        timestampSince(pod.metadata.creationTimestamp, now),
        podIP,
        spec.nodeName || '<none>',
        status.nominatedNodeName || '<none>',
        readinessGates,
      ],
      ...(conditions ? { conditions } : {}),
    };
  },
};
