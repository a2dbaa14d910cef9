// Serving one resource at several versions: objects are stored at the
// storage version and converted for each request's version. Custom resources
// convert as a CRD with strategy None does (apiVersion only);
// HorizontalPodAutoscaler autoscaling/v1 <-> v2 as Kubernetes converts it,
// keeping what v1 cannot say in the autoscaling.alpha.kubernetes.io annotations.
import { isPlainObject, type KubeObject } from '../api/object.js';
import type { ResourceInfo } from '../api/resources.js';

type Json = Record<string, unknown>;

const metricsAnnotation = 'autoscaling.alpha.kubernetes.io/metrics';
const currentMetricsAnnotation = 'autoscaling.alpha.kubernetes.io/current-metrics';
const conditionsAnnotation = 'autoscaling.alpha.kubernetes.io/conditions';
const behaviorAnnotation = 'autoscaling.alpha.kubernetes.io/behavior';

function obj(v: unknown): Json {
  return isPlainObject(v) ? v : {};
}

function isCpuUtilization(metric: unknown): boolean {
  const m = obj(metric);
  const resource = obj(m.resource);
  return m.type === 'Resource' && resource.name === 'cpu' && (obj(resource.target).type === 'Utilization' || obj(resource.current).averageUtilization !== undefined);
}

function readAnnotation(annotations: Record<string, string>, key: string): unknown {
  const raw = annotations[key];
  delete annotations[key];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

function withAnnotations(meta: KubeObject['metadata'], annotations: Record<string, string>): KubeObject['metadata'] {
  const out = { ...meta };
  if (Object.keys(annotations).length > 0) out.annotations = annotations;
  else delete out.annotations;
  return out;
}

function hpaV2ToV1(hpa: KubeObject): KubeObject {
  const spec = obj(hpa.spec);
  const status = obj(hpa.status);
  const annotations = { ...(hpa.metadata.annotations ?? {}) };
  const metrics = Array.isArray(spec.metrics) ? spec.metrics : [];
  const cpu = metrics.find(isCpuUtilization);
  const others = metrics.filter((m) => m !== cpu);
  if (others.length > 0) annotations[metricsAnnotation] = JSON.stringify(others);
  if (spec.behavior !== undefined) annotations[behaviorAnnotation] = JSON.stringify(spec.behavior);
  const current = Array.isArray(status.currentMetrics) ? status.currentMetrics : [];
  const currentCpu = current.find(isCpuUtilization);
  const currentOthers = current.filter((m) => m !== currentCpu);
  if (currentOthers.length > 0) annotations[currentMetricsAnnotation] = JSON.stringify(currentOthers);
  if (Array.isArray(status.conditions) && status.conditions.length > 0) annotations[conditionsAnnotation] = JSON.stringify(status.conditions);
  const v1Spec: Json = { scaleTargetRef: spec.scaleTargetRef, minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas };
  const target = obj(obj(obj(cpu).resource).target).averageUtilization;
  if (target !== undefined) v1Spec.targetCPUUtilizationPercentage = target;
  const v1Status: Json = {};
  for (const f of ['observedGeneration', 'lastScaleTime', 'currentReplicas', 'desiredReplicas']) if (status[f] !== undefined) v1Status[f] = status[f];
  const currentCpuValue = obj(obj(obj(currentCpu).resource).current).averageUtilization;
  if (currentCpuValue !== undefined) v1Status.currentCPUUtilizationPercentage = currentCpuValue;
  if (hpa.status !== undefined) v1Status.currentReplicas ??= 0;
  const out: KubeObject = { ...hpa, apiVersion: 'autoscaling/v1', metadata: withAnnotations(hpa.metadata, annotations), spec: v1Spec };
  if (hpa.status !== undefined) out.status = v1Status;
  return out;
}

function hpaV1ToV2(hpa: KubeObject): KubeObject {
  const spec = obj(hpa.spec);
  const status = obj(hpa.status);
  const annotations = { ...(hpa.metadata.annotations ?? {}) };
  const others = readAnnotation(annotations, metricsAnnotation);
  const behavior = readAnnotation(annotations, behaviorAnnotation);
  const currentOthers = readAnnotation(annotations, currentMetricsAnnotation);
  const conditions = readAnnotation(annotations, conditionsAnnotation);
  const metrics: unknown[] = [];
  if (typeof spec.targetCPUUtilizationPercentage === 'number') {
    metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } });
  }
  if (Array.isArray(others)) metrics.push(...others);
  const v2Spec: Json = { scaleTargetRef: spec.scaleTargetRef, minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas };
  if (metrics.length > 0) v2Spec.metrics = metrics;
  if (behavior !== undefined) v2Spec.behavior = behavior;
  const v2Status: Json = {};
  for (const f of ['observedGeneration', 'lastScaleTime', 'currentReplicas', 'desiredReplicas']) if (status[f] !== undefined) v2Status[f] = status[f];
  const current: unknown[] = [];
  if (typeof status.currentCPUUtilizationPercentage === 'number') {
    current.push({ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } });
  }
  if (Array.isArray(currentOthers)) current.push(...currentOthers);
  if (current.length > 0) v2Status.currentMetrics = current;
  if (Array.isArray(conditions)) v2Status.conditions = conditions;
  const out: KubeObject = { ...hpa, apiVersion: 'autoscaling/v2', metadata: withAnnotations(hpa.metadata, annotations), spec: v2Spec };
  if (hpa.status !== undefined) out.status = v2Status;
  return out;
}

/** core/v1 field <-> events.k8s.io/v1 field, as Kubernetes converts Events. */
const eventFieldPairs: [string, string][] = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
  ['reportingComponent', 'reportingController'],
];

function renameFields(o: KubeObject, apiVersion: string, pairs: [string, string][]): KubeObject {
  const out: KubeObject = { ...o, apiVersion };
  for (const [from, to] of pairs) {
    delete out[from];
    if (o[from] !== undefined) out[to] = o[from];
  }
  return out;
}

function versionOf(apiVersion: unknown): string {
  const s = typeof apiVersion === 'string' ? apiVersion : '';
  return s.slice(s.lastIndexOf('/') + 1);
}

function groupOf(apiVersion: unknown): string {
  const s = typeof apiVersion === 'string' ? apiVersion : '';
  const slash = s.lastIndexOf('/');
  return slash < 0 ? '' : s.slice(0, slash);
}

/**
 * The object as resource `info` at `version` has it; the object's own
 * apiVersion says what it is now. Events convert between core/v1 and
 * events.k8s.io/v1, which share one store as in Kubernetes.
 */
export function convertObject(info: ResourceInfo, o: KubeObject, version: string): KubeObject {
  const from = versionOf(o.apiVersion);
  const fromGroup = groupOf(o.apiVersion);
  if (info.kind === 'Event' && fromGroup !== info.group) {
    if (info.group === 'events.k8s.io') return renameFields(o, `events.k8s.io/${version}`, eventFieldPairs);
    return renameFields(o, version, eventFieldPairs.map(([a, b]) => [b, a]));
  }
  if (from === version) return o;
  if (info.group === 'autoscaling' && info.kind === 'HorizontalPodAutoscaler') {
    if (version === 'v1') return hpaV2ToV1(from === 'v2' ? o : hpaV1ToV2(o));
    if (version === 'v2') return from === 'v1' ? hpaV1ToV2(o) : { ...o, apiVersion: 'autoscaling/v2' };
  }
  return { ...o, apiVersion: info.group ? `${info.group}/${version}` : version };
}
