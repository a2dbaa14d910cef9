// Which fields each kind can be selected by, their values for one object
// (the registry's ToSelectableFields), and the field label conversion that
// rejects everything else with Kubernetes' message.

import { builtinResources } from '../resources.js';
import { BadRequestError } from '../errors.js';
import type { KubeObject } from '../object.js';
import { asObject, asString, type JsonObject } from '../validation/json-values.js';
import { FieldSelector, type FieldRequirement } from './selector.js';

interface KindFields {
  /** Labels the kind's field label conversion accepts beyond the object metadata ones. */
  labels: readonly string[];
  /** Old spellings rewritten by the conversion ("spec.host" is "spec.nodeName"). */
  aliases?: Readonly<Record<string, string>>;
  /** Whether metadata.namespace is accepted (Node's conversion only accepts metadata.name). */
  acceptsNamespace?: boolean;
  values(obj: JsonObject): Record<string, string>;
}

/** Paths split once: field values are read for every object the watch cache takes. */
const splitPaths = new Map<string, readonly string[]>();

function at(obj: JsonObject, path: string): unknown {
  let parts = splitPaths.get(path);
  if (parts === undefined) {
    parts = path.split('.');
    if (splitPaths.size < 10_000) splitPaths.set(path, parts);
  }
  let cur: unknown = obj;
  for (const part of parts) {
    const o = asObject(cur);
    if (!o) return undefined;
    cur = o[part];
  }
  return cur;
}

function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return '';
}

function count(v: unknown): string {
  return String(typeof v === 'number' ? v : 0);
}

function eventFields(obj: JsonObject): Record<string, string> {
  // events.k8s.io/v1 names the same data differently; both shapes select alike.
  const involved = asObject(obj['involvedObject']) ?? asObject(obj['regarding']) ?? {};
  const reporting = asString(obj['reportingComponent']) || asString(obj['reportingController']);
  const source = asString(at(obj, 'source.component')) || asString(at(obj, 'deprecatedSource.component')) || reporting;
  return {
    'involvedObject.kind': asString(involved['kind']),
    'involvedObject.namespace': asString(involved['namespace']),
    'involvedObject.name': asString(involved['name']),
    'involvedObject.uid': asString(involved['uid']),
    'involvedObject.apiVersion': asString(involved['apiVersion']),
    'involvedObject.resourceVersion': asString(involved['resourceVersion']),
    'involvedObject.fieldPath': asString(involved['fieldPath']),
    reason: asString(obj['reason']),
    reportingComponent: reporting,
    source,
    type: asString(obj['type']),
  };
}

const eventKindFields: KindFields = {
  labels: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  values: eventFields,
};

const replicasFields: KindFields = {
  labels: ['status.replicas'],
  values: (obj) => ({ 'status.replicas': count(at(obj, 'status.replicas')) }),
};

/** Kinds with their own field label conversion, keyed "group/Kind". */
const kindFields: Record<string, KindFields> = {
  '/Pod': {
    labels: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
    aliases: { 'spec.host': 'spec.nodeName' },
    values: (obj) => {
      const podIPs = at(obj, 'status.podIPs');
      const firstIP = Array.isArray(podIPs) ? asString(asObject(podIPs[0])?.['ip']) : '';
      return {
        'spec.nodeName': asString(at(obj, 'spec.nodeName')),
        'spec.restartPolicy': asString(at(obj, 'spec.restartPolicy')),
        'spec.schedulerName': asString(at(obj, 'spec.schedulerName')),
        'spec.serviceAccountName': asString(at(obj, 'spec.serviceAccountName')),
        'spec.hostNetwork': String(at(obj, 'spec.hostNetwork') === true),
        'status.phase': asString(at(obj, 'status.phase')),
        'status.podIP': firstIP || asString(at(obj, 'status.podIP')),
        'status.nominatedNodeName': asString(at(obj, 'status.nominatedNodeName')),
      };
    },
  },
  '/Node': {
    labels: ['spec.unschedulable'],
    acceptsNamespace: false,
    values: (obj) => ({ 'spec.unschedulable': String(at(obj, 'spec.unschedulable') === true) }),
  },
  '/ReplicationController': replicasFields,
  'apps/ReplicaSet': replicasFields,
  '/Event': eventKindFields,
  // events.k8s.io/v1 selects by its own names for the same fields (Kubernetes' AddFieldLabelConversionsForEvent).
  'events.k8s.io/Event': {
    labels: ['reason', 'type'],
    aliases: {
      'regarding.kind': 'involvedObject.kind',
      'regarding.namespace': 'involvedObject.namespace',
      'regarding.name': 'involvedObject.name',
      'regarding.uid': 'involvedObject.uid',
      'regarding.apiVersion': 'involvedObject.apiVersion',
      'regarding.resourceVersion': 'involvedObject.resourceVersion',
      'regarding.fieldPath': 'involvedObject.fieldPath',
      reportingController: 'reportingComponent',
    },
    values: eventFields,
  },
  '/Namespace': {
    labels: ['status.phase'],
    acceptsNamespace: false,
    values: (obj) => ({ 'status.phase': asString(at(obj, 'status.phase')) }),
  },
  '/Secret': {
    labels: ['type'],
    values: (obj) => ({ type: asString(obj['type']) }),
  },
  '/Service': {
    labels: ['spec.clusterIP', 'spec.type'],
    values: (obj) => ({ 'spec.clusterIP': asString(at(obj, 'spec.clusterIP')), 'spec.type': asString(at(obj, 'spec.type')) }),
  },
  'batch/Job': {
    labels: ['status.successful'],
    values: (obj) => ({ 'status.successful': count(at(obj, 'status.succeeded')) }),
  },
  'certificates.k8s.io/CertificateSigningRequest': {
    labels: ['spec.signerName'],
    values: (obj) => ({ 'spec.signerName': asString(at(obj, 'spec.signerName')) }),
  },
};

export interface SelectableFieldOptions {
  /** Scope of a kind that is not built in; built-in kinds know their own. */
  namespaced?: boolean;
  /** A CustomResourceDefinition's spec.versions[].selectableFields[].jsonPath values (".spec.color"). */
  selectableFields?: readonly string[];
}

const builtinScope = new Map(builtinResources.map((r) => [`${r.group}/${r.kind}`, r.namespaced]));

function isNamespaced(group: string, kind: string, options?: SelectableFieldOptions): boolean {
  return builtinScope.get(`${group}/${kind}`) ?? options?.namespaced ?? true;
}

function customFieldName(jsonPath: string): string {
  return jsonPath.startsWith('.') ? jsonPath.slice(1) : jsonPath;
}

/** The fields a selector on this kind matches against (generic.AddObjectMetaFieldsSet plus the kind's own). */
export function fieldsOf(group: string, kind: string, obj: KubeObject, options?: SelectableFieldOptions): Record<string, string> {
  const json = obj as unknown as JsonObject;
  const key = `${group}/${kind}`;
  const own = kindFields[key]?.values(json) ?? {};
  const custom: Record<string, string> = {};
  for (const path of options?.selectableFields ?? []) {
    const name = customFieldName(path);
    custom[name] = text(at(json, name));
  }
  const meta: Record<string, string> = { 'metadata.name': obj.metadata?.name ?? '' };
  if (isNamespaced(group, kind, options)) meta['metadata.namespace'] = obj.metadata?.namespace ?? '';
  return { ...own, ...custom, ...meta };
}

/**
 * The kind's field label conversion (runtime.Scheme.ConvertFieldLabel): the
 * label to match on, or a 400 with the message kubectl shows for unsupported fields.
 */
export function convertFieldLabel(group: string, kind: string, label: string, options?: SelectableFieldOptions): string {
  const own = kindFields[`${group}/${kind}`];
  if (own) {
    if (label === 'metadata.name') return label;
    if (label === 'metadata.namespace' && own.acceptsNamespace !== false) return label;
    if (own.labels.includes(label)) return label;
    const alias = own.aliases?.[label];
    if (alias) return alias;
    throw new BadRequestError(`field label not supported: ${label}`);
  }
  if (label === 'metadata.name' || label === 'metadata.namespace') return label;
  const custom = options?.selectableFields?.map(customFieldName) ?? [];
  if (custom.length > 0) {
    if (custom.includes(label)) return label;
    throw new BadRequestError(`field label not supported: ${label}`);
  }
  throw new BadRequestError(`${JSON.stringify(label)} is not a known field selector: only "metadata.name", "metadata.namespace"`);
}

/** Applies convertFieldLabel to every requirement of a parsed selector. */
export function convertFieldSelector(group: string, kind: string, selector: FieldSelector, options?: SelectableFieldOptions): FieldSelector {
  return selector.transform((r: FieldRequirement) => ({ ...r, field: convertFieldLabel(group, kind, r.field, options) }));
}
