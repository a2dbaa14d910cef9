// Tables of the workload controllers' kinds, ported from Kubernetes'
// pkg/printers/internalversion. Replica counts are filled in by defaulting
// (spec.replicas is 1 when unset), as in the objects Kubernetes prints.
import type { DocumentedField } from './field-docs.js';
import { humanDuration, parseTimestamp, timestampSince } from './human-duration.js';
import { formatLabelSelector, formatLabels, selectorOrInvalid, type LabelSelector } from './label-format.js';
import {
  ageColumn,
  column,
  ageOf,
  containersColumn,
  imagesColumn,
  nameColumn,
  nameOf,
  wideColumn,
  type TablePrinter,
} from './table.js';

interface Container {
  name?: string;
  image?: string;
}

interface PodTemplateJson {
  metadata?: { labels?: Record<string, string> };
  spec?: { containers?: Container[]; nodeSelector?: Record<string, string> };
}

interface Condition {
  type?: string;
  status?: string;
}

interface Meta {
  name?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  ownerReferences?: { apiVersion?: string; kind?: string; name?: string; controller?: boolean }[];
}

/** The CONTAINERS and IMAGES wide columns: every container, comma separated. */
export function containerCells(containers: Container[] | undefined): [string, string] {
  const list = containers ?? [];
  return [list.map((c) => c.name ?? '').join(','), list.map((c) => c.image ?? '').join(',')];
}

const selectorColumn = (doc: DocumentedField) => wideColumn('Selector', { doc });

export const replicationControllerPrinter: TablePrinter = {
  columnDefinitions: [
    nameColumn,
    column('Desired', { type: 'integer', doc: 'ReplicationControllerSpec.replicas' }),
    column('Current', { type: 'integer', doc: 'ReplicationControllerStatus.replicas' }),
    column('Ready', { type: 'integer', doc: 'ReplicationControllerStatus.readyReplicas' }),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn('ReplicationControllerSpec.selector'),
  ],
  printRow(object, now) {
    const rc = object as {
      spec?: { replicas?: number; selector?: Record<string, string>; template?: PodTemplateJson };
      status?: { replicas?: number; readyReplicas?: number };
    };
    const [names, images] = containerCells(rc.spec?.template?.spec?.containers);
    return {
      cells: [
        nameOf(object),
        rc.spec?.replicas ?? 1,
        rc.status?.replicas ?? 0,
        rc.status?.readyReplicas ?? 0,
        ageOf(object, now),
        names,
        images,
        formatLabels(rc.spec?.selector),
      ],
    };
  },
};

interface ReplicaSetJson {
  spec?: { replicas?: number; selector?: LabelSelector; template?: PodTemplateJson };
  status?: { replicas?: number; readyReplicas?: number };
}

export const replicaSetPrinter: TablePrinter = {
  columnDefinitions: [
    nameColumn,
    column('Desired', { type: 'integer', doc: 'ReplicaSetSpec.replicas' }),
    column('Current', { type: 'integer', doc: 'ReplicaSetStatus.replicas' }),
    column('Ready', { type: 'integer', doc: 'ReplicaSetStatus.readyReplicas' }),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn('ReplicaSetSpec.selector'),
  ],
  printRow(object, now) {
    const rs = object as ReplicaSetJson;
    const [names, images] = containerCells(rs.spec?.template?.spec?.containers);
    return {
      cells: [
        nameOf(object),
        rs.spec?.replicas ?? 1,
        rs.status?.replicas ?? 0,
        rs.status?.readyReplicas ?? 0,
        ageOf(object, now),
        names,
        images,
        formatLabelSelector(rs.spec?.selector),
      ],
    };
  },
};

export const deploymentPrinter: TablePrinter = {
  columnDefinitions: [
    nameColumn,
    column('Ready', { description: 'Number of the pod with ready state' }),
    column('Up-to-date', { doc: 'DeploymentStatus.updatedReplicas' }),
    column('Available', { doc: 'DeploymentStatus.availableReplicas' }),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn('DeploymentSpec.selector'),
  ],
  printRow(object, now) {
    const d = object as {
      spec?: { replicas?: number; selector?: LabelSelector; template?: PodTemplateJson };
      status?: { updatedReplicas?: number; readyReplicas?: number; availableReplicas?: number };
    };
    const [names, images] = containerCells(d.spec?.template?.spec?.containers);
    return {
      cells: [
        nameOf(object),
        `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`,
        d.status?.updatedReplicas ?? 0,
        d.status?.availableReplicas ?? 0,
        ageOf(object, now),
        names,
        images,
        selectorOrInvalid(d.spec?.selector),
      ],
    };
  },
};

export const statefulSetPrinter: TablePrinter = {
  columnDefinitions: [
    nameColumn,
    column('Ready', { description: 'Number of the pod with ready state' }),
    ageColumn,
    containersColumn,
    imagesColumn,
  ],
  printRow(object, now) {
    const s = object as ReplicaSetJson;
    const [names, images] = containerCells(s.spec?.template?.spec?.containers);
    return {
      cells: [nameOf(object), `${s.status?.readyReplicas ?? 0}/${s.spec?.replicas ?? 1}`, ageOf(object, now), names, images],
    };
  },
};

export const daemonSetPrinter: TablePrinter = {
  columnDefinitions: [
    nameColumn,
    column('Desired', { type: 'integer', doc: 'DaemonSetStatus.desiredNumberScheduled' }),
    column('Current', { type: 'integer', doc: 'DaemonSetStatus.currentNumberScheduled' }),
    column('Ready', { type: 'integer', doc: 'DaemonSetStatus.numberReady' }),
    column('Up-to-date', { type: 'integer', doc: 'DaemonSetStatus.updatedNumberScheduled' }),
    column('Available', { type: 'integer', doc: 'DaemonSetStatus.numberAvailable' }),
    column('Node Selector', { doc: 'PodSpec.nodeSelector' }),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn('DaemonSetSpec.selector'),
  ],
  printRow(object, now) {
    const ds = object as {
      spec?: { selector?: LabelSelector; template?: PodTemplateJson };
      status?: {
        desiredNumberScheduled?: number;
        currentNumberScheduled?: number;
        numberReady?: number;
        updatedNumberScheduled?: number;
        numberAvailable?: number;
      };
    };
    const status = ds.status ?? {};
    const [names, images] = containerCells(ds.spec?.template?.spec?.containers);
    return {
      cells: [
        nameOf(object),
        status.desiredNumberScheduled ?? 0,
        status.currentNumberScheduled ?? 0,
        status.numberReady ?? 0,
        status.updatedNumberScheduled ?? 0,
        status.numberAvailable ?? 0,
        formatLabels(ds.spec?.template?.spec?.nodeSelector),
        ageOf(object, now),
        names,
        images,
        formatLabelSelector(ds.spec?.selector),
      ],
    };
  },
};

function hasTrueCondition(conditions: Condition[] | undefined, type: string): boolean {
  return conditions?.find((c) => c.type === type)?.status === 'True';
}

interface JobJson {
  spec?: { completions?: number | null; parallelism?: number | null; selector?: LabelSelector; template?: PodTemplateJson };
  status?: { succeeded?: number; startTime?: string; completionTime?: string; conditions?: Condition[] };
}

function jobStatus(job: JobJson, meta: Meta): string {
  const conditions = job.status?.conditions;
  if (hasTrueCondition(conditions, 'Complete')) return 'Complete';
  if (hasTrueCondition(conditions, 'Failed')) return 'Failed';
  if (meta.deletionTimestamp) return 'Terminating';
  if (hasTrueCondition(conditions, 'Suspended')) return 'Suspended';
  if (hasTrueCondition(conditions, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

function jobDuration(job: JobJson, now: Date): string {
  const start = parseTimestamp(job.status?.startTime);
  if (start === null || Number.isNaN(start)) return '';
  const end = parseTimestamp(job.status?.completionTime);
  if (end === null || Number.isNaN(end)) return humanDuration(now.getTime() - start);
  return humanDuration(end - start);
}

export const jobPrinter: TablePrinter = {
  columnDefinitions: [
    nameColumn,
    column('Status', { description: 'Status of the job.' }),
    column('Completions', { doc: 'JobStatus.succeeded' }),
    column('Duration', { description: 'Time required to complete the job.' }),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn('JobSpec.selector'),
  ],
  printRow(object, now) {
    const job = object as JobJson;
    const succeeded = job.status?.succeeded ?? 0;
    let completions: string;
    if (typeof job.spec?.completions === 'number') {
      completions = `${succeeded}/${job.spec.completions}`;
    } else {
      const parallelism = job.spec?.parallelism ?? 0;
      completions = parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
    }
    const [names, images] = containerCells(job.spec?.template?.spec?.containers);
    return {
      cells: [
        nameOf(object),
        jobStatus(job, object.metadata),
        completions,
        jobDuration(job, now),
        ageOf(object, now),
        names,
        images,
        formatLabelSelector(job.spec?.selector),
      ],
    };
  },
};

function boolPointerText(value: unknown): string {
  if (typeof value !== 'boolean') return '<unset>';
  return value ? 'True' : 'False';
}

export const cronJobPrinter: TablePrinter = {
  columnDefinitions: [
    nameColumn,
    column('Schedule', { doc: 'CronJobSpec.schedule' }),
    column('Timezone', { doc: 'CronJobSpec.timeZone' }),
    column('Suspend', { type: 'boolean', doc: 'CronJobSpec.suspend' }),
    column('Active', { type: 'integer', doc: 'CronJobStatus.active' }),
    column('Last Schedule', { doc: 'CronJobStatus.lastScheduleTime' }),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn('JobSpec.selector'),
  ],
  printRow(object, now) {
    const cj = object as {
      spec?: {
        schedule?: string;
        timeZone?: string | null;
        suspend?: boolean | null;
        jobTemplate?: { spec?: { selector?: LabelSelector; template?: PodTemplateJson } };
      };
      status?: { active?: unknown[]; lastScheduleTime?: string | null };
    };
    const lastSchedule = cj.status?.lastScheduleTime;
    const jobSpec = cj.spec?.jobTemplate?.spec;
    const [names, images] = containerCells(jobSpec?.template?.spec?.containers);
    return {
      cells: [
        nameOf(object),
        cj.spec?.schedule ?? '',
        typeof cj.spec?.timeZone === 'string' ? cj.spec.timeZone : '<none>',
        boolPointerText(cj.spec?.suspend),
        (cj.status?.active ?? []).length,
        lastSchedule === undefined || lastSchedule === null ? '<none>' : timestampSince(lastSchedule, now),
        ageOf(object, now),
        names,
        images,
        formatLabelSelector(jobSpec?.selector),
      ],
    };
  },
};

export const podTemplatePrinter: TablePrinter = {
  columnDefinitions: [
    nameColumn,
    column('Containers', { description: 'Names of each container in the template.' }),
    column('Images', { description: 'Images referenced by each container in the template.' }),
    column('Pod Labels', { description: 'The labels for the pod template.' }),
  ],
  printRow(object) {
    const template = (object as { template?: PodTemplateJson }).template;
    const [names, images] = containerCells(template?.spec?.containers);
    return { cells: [nameOf(object), names, images, formatLabels(template?.metadata?.labels)] };
  },
};

/** "statefulset.apps/web": the controlling owner, as formatResourceName writes it. */
function controllerName(meta: Meta): string {
  const ref = meta.ownerReferences?.find((r) => r.controller === true);
  if (ref === undefined) return '<none>';
  const apiVersion = ref.apiVersion ?? '';
  const slash = apiVersion.indexOf('/');
  const group = slash >= 0 ? apiVersion.slice(0, slash) : '';
  const kind = ref.kind ?? '';
  if (group === '' && kind === '') return ref.name ?? '';
  const groupKind = group === '' ? kind : `${kind}.${group}`;
  return `${groupKind.toLowerCase()}/${ref.name ?? ''}`;
}

export const controllerRevisionPrinter: TablePrinter = {
  columnDefinitions: [
    nameColumn,
    column('Controller', { description: 'Controller of the object' }),
    column('Revision', { doc: 'ControllerRevision.revision' }),
    ageColumn,
  ],
  printRow(object, now) {
    const revision = (object as { revision?: number }).revision ?? 0;
    return { cells: [nameOf(object), controllerName(object.metadata), revision, ageOf(object, now)] };
  },
};

/** The autoscaling/v1 Scale a scale subresource answers with (kubectl get deploy web --subresource=scale). Its name column has no name format, as Kubernetes' printScale columns. */
export const scalePrinter: TablePrinter = {
  columnDefinitions: [
    column('Name', { doc: 'ObjectMeta.name' }),
    column('Desired', { type: 'integer', doc: 'ScaleSpec.replicas' }),
    column('Available', { type: 'integer', doc: 'ScaleStatus.replicas' }),
    ageColumn,
  ],
  printRow(object, now) {
    const scale = object as { spec?: { replicas?: number }; status?: { replicas?: number } };
    return { cells: [nameOf(object), scale.spec?.replicas ?? 0, scale.status?.replicas ?? 0, ageOf(object, now)] };
  },
};
