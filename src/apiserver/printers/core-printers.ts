// Tables of cluster and configuration kinds: Namespace, Node, Event (core and
// events.k8s.io), Secret, ConfigMap, ServiceAccount, Lease, ComponentStatus.
import type { KubeObject } from '../../api/object.js';
import { parseTimestamp, timestampSince } from './human-duration.js';
import { ageColumn, ageOf, column, nameColumn, nameOf, wideColumn, type TablePrinter } from './table.js';

function countOf(value: unknown): number {
  if (Array.isArray(value)) return value.length;
  if (typeof value === 'object' && value !== null) return Object.keys(value).length;
  return 0;
}

export const namespacePrinter: TablePrinter = {
  columnDefinitions: [nameColumn, column('Status', { description: 'The status of the namespace' }), ageColumn],
  printRow(object, now) {
    return { cells: [nameOf(object), (object as { status?: { phase?: string } }).status?.phase ?? '', ageOf(object, now)] };
  },
};

const nodeRolePrefix = 'node-role.kubernetes.io/';
const legacyNodeRoleLabel = 'kubernetes.io/role';

/** ROLES: from node-role.kubernetes.io/<role> labels and the older kubernetes.io/role=<role>. */
export function nodeRoles(labels: Record<string, string> | undefined): string[] {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(labels ?? {})) {
    if (key.startsWith(nodeRolePrefix)) {
      const role = key.slice(nodeRolePrefix.length);
      if (role !== '') roles.add(role);
    } else if (key === legacyNodeRoleLabel && value !== '') {
      roles.add(value);
    }
  }
  return [...roles].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

interface NodeJson {
  metadata: { labels?: Record<string, string> };
  spec?: { unschedulable?: boolean };
  status?: {
    conditions?: { type?: string; status?: string }[];
    addresses?: { type?: string; address?: string }[];
    nodeInfo?: { kubeletVersion?: string; osImage?: string; kernelVersion?: string; containerRuntimeVersion?: string };
  };
}

function nodeStatus(node: NodeJson): string {
  // The last Ready condition wins, as Kubernetes builds a map by type.
  const ready = (node.status?.conditions ?? []).filter((c) => c.type === 'Ready').at(-1);
  const status = ready === undefined ? ['Unknown'] : [ready.status === 'True' ? 'Ready' : 'NotReady'];
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  return status.join(',');
}

function nodeAddress(node: NodeJson, type: string): string {
  return node.status?.addresses?.find((a) => a.type === type)?.address ?? '<none>';
}

export const nodePrinter: TablePrinter = {
  columnDefinitions: [
    nameColumn,
    column('Status', { description: 'The status of the node' }),
    column('Roles', { description: 'The roles of the node' }),
    ageColumn,
    column('Version', { doc: 'NodeSystemInfo.kubeletVersion' }),
    wideColumn('Internal-IP', { doc: 'NodeStatus.addresses' }),
    wideColumn('External-IP', { doc: 'NodeStatus.addresses' }),
    wideColumn('OS-Image', { doc: 'NodeSystemInfo.osImage' }),
    wideColumn('Kernel-Version', { doc: 'NodeSystemInfo.kernelVersion' }),
    wideColumn('Container-Runtime', { doc: 'NodeSystemInfo.containerRuntimeVersion' }),
  ],
  printRow(object, now) {
    const node = object as NodeJson;
    const info = node.status?.nodeInfo ?? {};
    const roles = nodeRoles(node.metadata.labels).join(',');
    return {
      cells: [
        nameOf(object),
        nodeStatus(node),
        roles || '<none>',
        ageOf(object, now),
        info.kubeletVersion ?? '',
        nodeAddress(node, 'InternalIP'),
        nodeAddress(node, 'ExternalIP'),
        info.osImage || '<unknown>',
        info.kernelVersion || '<unknown>',
        info.containerRuntimeVersion || '<unknown>',
      ],
    };
  },
};

/** The fields Kubernetes' event printer reads, in core/v1 terms. */
interface CoreEvent {
  involvedObject?: { kind?: string; name?: string; fieldPath?: string };
  reason?: string;
  message?: string;
  source?: { component?: string; host?: string };
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  count?: number;
  type?: string;
  eventTime?: string | null;
  series?: { count?: number; lastObservedTime?: string } | null;
  reportingComponent?: string;
  reportingInstance?: string;
}

interface EventsV1Event {
  regarding?: CoreEvent['involvedObject'];
  note?: string;
  reason?: string;
  type?: string;
  eventTime?: string | null;
  series?: CoreEvent['series'];
  reportingController?: string;
  reportingInstance?: string;
  deprecatedSource?: CoreEvent['source'];
  deprecatedFirstTimestamp?: string | null;
  deprecatedLastTimestamp?: string | null;
  deprecatedCount?: number;
}

/** events.k8s.io/v1 fields renamed to core/v1's, as Kubernetes converts them before printing. */
function asCoreEvent(object: KubeObject): CoreEvent {
  if (!object.apiVersion?.startsWith('events.k8s.io/')) return object as CoreEvent;
  const e = object as EventsV1Event;
  return {
    involvedObject: e.regarding,
    reason: e.reason,
    message: e.note,
    source: e.deprecatedSource,
    firstTimestamp: e.deprecatedFirstTimestamp,
    lastTimestamp: e.deprecatedLastTimestamp,
    count: e.deprecatedCount,
    type: e.type,
    eventTime: e.eventTime,
    series: e.series,
    reportingComponent: e.reportingController,
    reportingInstance: e.reportingInstance,
  };
}

function isZeroTime(value: unknown): boolean {
  return parseTimestamp(value) === null;
}

export const eventPrinter: TablePrinter = {
  columnDefinitions: [
    column('Last Seen', { doc: 'Event.lastTimestamp' }),
    column('Type', { doc: 'Event.type' }),
    column('Reason', { doc: 'Event.reason' }),
    column('Object', { doc: 'Event.involvedObject' }),
    wideColumn('Subobject', { doc: 'ObjectReference.fieldPath' }),
    wideColumn('Source', { doc: 'Event.source' }),
    column('Message', { doc: 'Event.message' }),
    wideColumn('First Seen', { doc: 'Event.firstTimestamp' }),
    wideColumn('Count', { doc: 'Event.count' }),
    wideColumn('Name', { format: 'name', doc: 'ObjectMeta.name' }),
  ],
  printRow(object, now) {
    const event = asCoreEvent(object);
    const firstSeen = isZeroTime(event.firstTimestamp)
      ? timestampSince(event.eventTime, now)
      : timestampSince(event.firstTimestamp, now);
    let lastSeen = isZeroTime(event.lastTimestamp) ? firstSeen : timestampSince(event.lastTimestamp, now);
    let count = event.count ?? 0;
    if (event.series) {
      lastSeen = timestampSince(event.series.lastObservedTime, now);
      count = event.series.count ?? 0;
    } else if (count === 0) {
      // Singleton events of the events.k8s.io API carry no count.
      count = 1;
    }
    const involved = event.involvedObject ?? {};
    const kind = (involved.kind ?? '').toLowerCase();
    const target = involved.name ? `${kind}/${involved.name}` : kind;
    const component = event.source?.component || event.reportingComponent || '';
    const instance = event.source?.host || event.reportingInstance || '';
    return {
      cells: [
        lastSeen,
        event.type ?? '',
        event.reason ?? '',
        target,
        involved.fieldPath ?? '',
        instance ? `${component}, ${instance}` : component,
        (event.message ?? '').trim(),
        firstSeen,
        count,
        nameOf(object),
      ],
    };
  },
};

export const secretPrinter: TablePrinter = {
  columnDefinitions: [nameColumn, column('Type', { doc: 'Secret.type' }), column('Data', { doc: 'Secret.data' }), ageColumn],
  printRow(object, now) {
    const secret = object as { type?: string; data?: unknown };
    return { cells: [nameOf(object), secret.type ?? '', countOf(secret.data), ageOf(object, now)] };
  },
};

export const configMapPrinter: TablePrinter = {
  columnDefinitions: [nameColumn, column('Data', { doc: 'ConfigMap.data' }), ageColumn],
  printRow(object, now) {
    const cm = object as { data?: unknown; binaryData?: unknown };
    return { cells: [nameOf(object), countOf(cm.data) + countOf(cm.binaryData), ageOf(object, now)] };
  },
};

export const serviceAccountPrinter: TablePrinter = {
  columnDefinitions: [nameColumn, column('Secrets', { doc: 'ServiceAccount.secrets' }), ageColumn],
  printRow(object, now) {
    return { cells: [nameOf(object), countOf((object as { secrets?: unknown }).secrets), ageOf(object, now)] };
  },
};

export const leasePrinter: TablePrinter = {
  columnDefinitions: [nameColumn, column('Holder', { doc: 'LeaseSpec.holderIdentity' }), ageColumn],
  printRow(object, now) {
    const holder = (object as { spec?: { holderIdentity?: string | null } }).spec?.holderIdentity;
    return { cells: [nameOf(object), holder ?? '', ageOf(object, now)] };
  },
};

/** STATUS, MESSAGE and ERROR: from the Healthy condition ("Unknown" without one). */
export const componentStatusPrinter: TablePrinter = {
  columnDefinitions: [
    nameColumn,
    column('Status', { description: 'Status of the component conditions' }),
    column('Message', { description: 'Message of the component conditions' }),
    column('Error', { description: 'Error of the component conditions' }),
  ],
  printRow(object) {
    const conditions = (object as { conditions?: { type?: string; status?: string; message?: string; error?: string }[] }).conditions ?? [];
    const healthy = conditions.find((c) => c.type === 'Healthy');
    const status = healthy ? (healthy.status === 'True' ? 'Healthy' : 'Unhealthy') : 'Unknown';
    return { cells: [nameOf(object), status, healthy?.message ?? '', healthy?.error ?? ''] };
  },
};
