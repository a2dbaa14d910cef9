// Tables of the kinds that bound or scale workloads: HorizontalPodAutoscaler,
// PodDisruptionBudget, PriorityClass, ResourceQuota.
import type { KubeObject } from '../../api/object.js';
import { goStringOrder } from './go-text.js';
import { timestampSince } from './human-duration.js';
import { ageColumn, column, nameColumn, type TablePrinter } from './table.js';

/**
 * A quantity as resource.Quantity.String() prints it. Quantities reach the
 * printer already in canonical form, so the stored text is the answer; an
 * absent pointer prints "<nil>" like Go's nil *Quantity.
 */
function quantityText(value: unknown, absent = '<nil>'): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return absent;
}

interface MetricTarget {
  type?: string;
  value?: unknown;
  averageValue?: unknown;
  averageUtilization?: number;
}

interface MetricCurrent {
  value?: unknown;
  averageValue?: unknown;
  averageUtilization?: number;
}

interface MetricSpec {
  type?: string;
  external?: { target?: MetricTarget };
  pods?: { target?: MetricTarget };
  object?: { target?: MetricTarget };
  resource?: { name?: string; target?: MetricTarget };
  containerResource?: { name?: string; target?: MetricTarget };
}

interface MetricStatus {
  external?: { current?: MetricCurrent };
  pods?: { current?: MetricCurrent };
  object?: { current?: MetricCurrent };
  resource?: { current?: MetricCurrent };
  containerResource?: { current?: MetricCurrent };
}

interface HpaJson {
  apiVersion?: string;
  spec?: {
    scaleTargetRef?: { kind?: string; name?: string };
    minReplicas?: number | null;
    maxReplicas?: number;
    metrics?: MetricSpec[];
    targetCPUUtilizationPercentage?: number | null;
  };
  status?: {
    currentReplicas?: number;
    currentMetrics?: MetricStatus[] | null;
    currentCPUUtilizationPercentage?: number | null;
  };
}

// autoscaling/v2 defaulting: an HPA without metrics scales on 80% average CPU.
const defaultCpuUtilization = 80;

function cpuMetric(utilization: number): MetricSpec {
  return { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: utilization } } };
}

/** The v2 metric lists Kubernetes' printer reads, also for an autoscaling/v1 object. */
function hpaMetrics(hpa: HpaJson): { specs: MetricSpec[]; statuses: MetricStatus[] } {
  if (hpa.apiVersion === 'autoscaling/v1') {
    const target = hpa.spec?.targetCPUUtilizationPercentage;
    const current = hpa.status?.currentCPUUtilizationPercentage;
    return {
      specs: [cpuMetric(typeof target === 'number' ? target : defaultCpuUtilization)],
      statuses: typeof current === 'number' ? [{ resource: { current: { averageUtilization: current } } }] : [],
    };
  }
  const specs = hpa.spec?.metrics;
  return {
    // Only a missing list is defaulted; an explicit empty one stays empty.
    specs: specs === undefined ? [cpuMetric(defaultCpuUtilization)] : specs,
    statuses: hpa.status?.currentMetrics ?? [],
  };
}

function percent(value: number | undefined): string | undefined {
  return typeof value === 'number' ? `${value}%` : undefined;
}

function valueTarget(target: MetricTarget | undefined, current: MetricCurrent | undefined, hasStatus: boolean): string {
  if (target?.averageValue !== undefined && target.averageValue !== null) {
    const now = hasStatus && current?.averageValue != null ? quantityText(current.averageValue) : '<unknown>';
    return `${now}/${quantityText(target.averageValue)} (avg)`;
  }
  const now = hasStatus ? quantityText(current?.value) : '<unknown>';
  return `${now}/${quantityText(target?.value)}`;
}

function resourceTarget(nameText: string, target: MetricTarget | undefined, current: MetricCurrent | undefined, hasStatus: boolean): string {
  if (target?.averageValue !== undefined && target.averageValue !== null) {
    const now = hasStatus ? quantityText(current?.averageValue) : '<unknown>';
    return `${nameText}: ${now}/${quantityText(target.averageValue)}`;
  }
  const now = (hasStatus ? percent(current?.averageUtilization) : undefined) ?? '<unknown>';
  return `${nameText}: ${now}/${percent(target?.averageUtilization) ?? '<auto>'}`;
}

/** formatHPAMetrics: at most two targets, then "+ N more...". */
export function formatHpaMetrics(specs: MetricSpec[], statuses: MetricStatus[]): string {
  if (specs.length === 0) return '<none>';
  const list = specs.map((spec, i) => {
    const status = statuses[i];
    switch (spec.type) {
      case 'External':
        return valueTarget(spec.external?.target, status?.external?.current, status?.external !== undefined);
      case 'Pods': {
        const now = status?.pods !== undefined ? quantityText(status.pods.current?.averageValue) : '<unknown>';
        return `${now}/${quantityText(spec.pods?.target?.averageValue)}`;
      }
      case 'Object':
        return valueTarget(spec.object?.target, status?.object?.current, status?.object !== undefined);
      case 'Resource':
        return resourceTarget(spec.resource?.name ?? '', spec.resource?.target, status?.resource?.current, status?.resource !== undefined);
      case 'ContainerResource':
        return resourceTarget(
          spec.containerResource?.name ?? '',
          spec.containerResource?.target,
          status?.containerResource?.current,
          status?.containerResource !== undefined,
        );
      default:
        return '<unknown type>';
    }
  });
  const max = 2;
  if (list.length > max) return `${list.slice(0, max).join(', ')} + ${list.length - max} more...`;
  return list.join(', ');
}

export const horizontalPodAutoscalerPrinter: TablePrinter = {
  columnDefinitions: [
    nameColumn,
    column('Reference', { doc: 'HorizontalPodAutoscalerSpec.scaleTargetRef' }),
    column('Targets', { doc: 'HorizontalPodAutoscalerSpec.metrics' }),
    column('MinPods', { doc: 'HorizontalPodAutoscalerSpec.minReplicas' }),
    column('MaxPods', { doc: 'HorizontalPodAutoscalerSpec.maxReplicas' }),
    column('Replicas', { doc: 'HorizontalPodAutoscalerStatus.currentReplicas' }),
    ageColumn,
  ],
  printRow(object, now) {
    const hpa = object as HpaJson;
    const ref = hpa.spec?.scaleTargetRef;
    const { specs, statuses } = hpaMetrics(hpa);
    const minReplicas = hpa.spec?.minReplicas;
    return {
      cells: [
        object.metadata.name ?? '',
        `${ref?.kind ?? ''}/${ref?.name ?? ''}`,
        formatHpaMetrics(specs, statuses),
        typeof minReplicas === 'number' ? String(minReplicas) : '<unset>',
        hpa.spec?.maxReplicas ?? 0,
        hpa.status?.currentReplicas ?? 0,
        timestampSince(object.metadata.creationTimestamp, now),
      ],
    };
  },
};

function intOrStringText(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'string') return String(value);
  return 'N/A';
}

export const podDisruptionBudgetPrinter: TablePrinter = {
  columnDefinitions: [
    nameColumn,
    column('Min Available', { description: 'The minimum number of pods that must be available.' }),
    column('Max Unavailable', { description: 'The maximum number of pods that may be unavailable.' }),
    column('Allowed Disruptions', { type: 'integer', description: 'Calculated number of pods that may be disrupted at this time.' }),
    ageColumn,
  ],
  printRow(object, now) {
    const pdb = object as { spec?: { minAvailable?: unknown; maxUnavailable?: unknown }; status?: { disruptionsAllowed?: number } };
    return {
      cells: [
        object.metadata.name ?? '',
        intOrStringText(pdb.spec?.minAvailable),
        intOrStringText(pdb.spec?.maxUnavailable),
        pdb.status?.disruptionsAllowed ?? 0,
        timestampSince(object.metadata.creationTimestamp, now),
      ],
    };
  },
};

export const priorityClassPrinter: TablePrinter = {
  columnDefinitions: [
    nameColumn,
    column('Value', { type: 'integer', doc: 'PriorityClass.value' }),
    column('Global-Default', { type: 'boolean', doc: 'PriorityClass.globalDefault' }),
    ageColumn,
    // Declared without priority but filled only in wide output; the server
    // always prints wide, so kubectl always shows it.
    column('PreemptionPolicy', { doc: 'PriorityClass.preemptionPolicy' }),
  ],
  printRow(object, now) {
    const pc = object as { value?: number; globalDefault?: boolean; preemptionPolicy?: string };
    return {
      cells: [
        object.metadata.name ?? '',
        pc.value ?? 0,
        pc.globalDefault ?? false,
        timestampSince(object.metadata.creationTimestamp, now),
        pc.preemptionPolicy ?? '',
      ],
    };
  },
};

export const resourceQuotaPrinter: TablePrinter = {
  columnDefinitions: [
    nameColumn,
    column('Request', { description: 'Request represents a minimum amount of cpu/memory that a container may consume.' }),
    column('Limit', {
      description: 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.',
    }),
    ageColumn,
  ],
  printRow(object: KubeObject, now: Date) {
    const quota = object as { status?: { hard?: Record<string, unknown>; used?: Record<string, unknown> } };
    const hard = quota.status?.hard ?? {};
    const used = quota.status?.used ?? {};
    const requests: string[] = [];
    const limits: string[] = [];
    for (const resource of Object.keys(hard).sort(goStringOrder)) {
      const text = `${resource}: ${quantityText(used[resource], '0')}/${quantityText(hard[resource], '0')}`;
      const pieces = resource.split('.');
      (pieces.length > 1 && pieces[0] === 'limits' ? limits : requests).push(text);
    }
    return {
      cells: [object.metadata.name ?? '', requests.join(', '), limits.join(', '), timestampSince(object.metadata.creationTimestamp, now)],
    };
  },
};

