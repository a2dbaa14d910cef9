// Pod and pod template defaults: SetDefaults_Pod, SetDefaults_PodSpec,
// SetDefaults_Container, probes, ports, volumes, and the v1 conversions that
// mirror deprecated fields, so stored pods read back as a cluster shows them.

import { asArray, asObject, asString, ensureObject, objectsOf, type JsonObject } from '../validation/json-values.js';
import { canonicalizeQuantityField, canonicalizeResourceList } from './quantities.js';

const defaultFileMode = 0o644;

function setIfMissing(obj: JsonObject, key: string, value: unknown): void {
  if (obj[key] === undefined || obj[key] === null || obj[key] === '') obj[key] = value;
}

const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainRegexp = new RegExp(`^${domainComponent}(?:\\.${domainComponent})*(?::[0-9]+)?$`);
const pathComponent = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const pathRegexp = new RegExp(`^${pathComponent}(?:/${pathComponent})*$`);
const tagRegexp = /^[\w][\w.-]{0,127}$/;
const digestRegexp = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

/**
 * The tag an image reference implies, as parsers.ParseImageName reads it:
 * "latest" when it names neither a tag nor a digest, "" when it has only a
 * digest or is not a valid reference.
 */
export function imageTag(image: string): string {
  if (/^[a-f0-9]{64}$/.test(image)) return '';
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestRegexp.test(digest)) return '';
  }
  let tag = '';
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagRegexp.test(tag)) return '';
  }
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first) {
      if (!domainRegexp.test(first)) return '';
      path = rest.slice(slash + 1);
    }
  }
  if (!pathRegexp.test(path) || rest.length > 255) return '';
  return digest === undefined && tag === '' ? 'latest' : tag;
}

function defaultHTTPGet(handler: JsonObject | undefined): void {
  const httpGet = asObject(handler?.['httpGet']);
  if (!httpGet) return;
  setIfMissing(httpGet, 'path', '/');
  setIfMissing(httpGet, 'scheme', 'HTTP');
}

function defaultProbe(probe: JsonObject | undefined): void {
  if (!probe) return;
  for (const [field, value] of [
    ['timeoutSeconds', 1],
    ['periodSeconds', 10],
    ['successThreshold', 1],
    ['failureThreshold', 3],
  ] as const) {
    if (!probe[field]) probe[field] = value;
  }
  defaultHTTPGet(probe);
  const grpc = asObject(probe['grpc']);
  if (grpc && grpc['service'] === undefined) grpc['service'] = '';
}

function defaultFieldRef(ref: JsonObject | undefined): void {
  if (ref) setIfMissing(ref, 'apiVersion', 'v1');
}

/** Divisor is a non-pointer Quantity, so the zero value is always printed. */
function defaultResourceFieldRef(ref: JsonObject | undefined): void {
  if (!ref) return;
  if (ref['divisor'] === undefined || ref['divisor'] === null) ref['divisor'] = '0';
  canonicalizeQuantityField(ref, 'divisor');
}

export function defaultContainer(container: JsonObject, hostNetwork: boolean): void {
  if (!container['imagePullPolicy']) {
    container['imagePullPolicy'] = imageTag(asString(container['image'])) === 'latest' ? 'Always' : 'IfNotPresent';
  }
  setIfMissing(container, 'terminationMessagePath', '/dev/termination-log');
  setIfMissing(container, 'terminationMessagePolicy', 'File');
  for (const port of objectsOf(container['ports'])) {
    setIfMissing(port, 'protocol', 'TCP');
    if (hostNetwork && !port['hostPort']) port['hostPort'] = port['containerPort'];
  }
  for (const env of objectsOf(container['env'])) {
    const valueFrom = asObject(env['valueFrom']);
    defaultFieldRef(asObject(valueFrom?.['fieldRef']));
    defaultResourceFieldRef(asObject(valueFrom?.['resourceFieldRef']));
  }
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) defaultProbe(asObject(container[probe]));
  const lifecycle = asObject(container['lifecycle']);
  defaultHTTPGet(asObject(lifecycle?.['postStart']));
  defaultHTTPGet(asObject(lifecycle?.['preStop']));
  const resources = ensureObject(container, 'resources');
  canonicalizeResourceList(resources, 'limits');
  canonicalizeResourceList(resources, 'requests');
}

function defaultDownwardAPIItems(items: unknown): void {
  for (const item of objectsOf(items)) {
    defaultFieldRef(asObject(item['fieldRef']));
    defaultResourceFieldRef(asObject(item['resourceFieldRef']));
  }
}

/** SetDefaults_PersistentVolumeClaimSpec. */
export function defaultClaimSpec(spec: JsonObject | undefined): void {
  if (!spec) return;
  setIfMissing(spec, 'volumeMode', 'Filesystem');
  const resources = asObject(spec['resources']);
  canonicalizeResourceList(resources, 'requests');
  canonicalizeResourceList(resources, 'limits');
}

/** Defaults of the volume sources a pod and a persistent volume share. */
export function defaultVolumeSource(source: JsonObject): void {
  const hostPath = asObject(source['hostPath']);
  if (hostPath && hostPath['type'] === undefined) hostPath['type'] = '';
  const iscsi = asObject(source['iscsi']);
  if (iscsi) setIfMissing(iscsi, 'iscsiInterface', 'default');
  const rbd = asObject(source['rbd']);
  if (rbd) {
    setIfMissing(rbd, 'pool', 'rbd');
    setIfMissing(rbd, 'user', 'admin');
    setIfMissing(rbd, 'keyring', '/etc/ceph/keyring');
  }
  const azureDisk = asObject(source['azureDisk']);
  if (azureDisk) {
    setIfMissing(azureDisk, 'cachingMode', 'ReadWrite');
    setIfMissing(azureDisk, 'fsType', 'ext4');
    if (azureDisk['readOnly'] === undefined) azureDisk['readOnly'] = false;
    setIfMissing(azureDisk, 'kind', 'Shared');
  }
}

function defaultVolume(volume: JsonObject): void {
  if (Object.keys(volume).every((k) => k === 'name')) volume['emptyDir'] = {};
  defaultVolumeSource(volume);
  for (const kind of ['secret', 'configMap', 'downwardAPI', 'projected']) {
    const source = asObject(volume[kind]);
    if (source && (source['defaultMode'] === undefined || source['defaultMode'] === null)) source['defaultMode'] = defaultFileMode;
  }
  canonicalizeQuantityField(asObject(volume['emptyDir']), 'sizeLimit');
  defaultDownwardAPIItems(asObject(volume['downwardAPI'])?.['items']);
  for (const projection of objectsOf(asObject(volume['projected'])?.['sources'])) {
    const token = asObject(projection['serviceAccountToken']);
    if (token && !token['expirationSeconds']) token['expirationSeconds'] = 3600;
    defaultDownwardAPIItems(asObject(projection['downwardAPI'])?.['items']);
  }
  const claimTemplate = asObject(asObject(volume['ephemeral'])?.['volumeClaimTemplate']);
  defaultClaimSpec(asObject(claimTemplate?.['spec']));
}

/** SetDefaults_PodSpec plus container and volume defaults; shared by pods and every pod template. */
export function defaultPodSpec(spec: JsonObject, options: { hostNetworkPorts: boolean }): void {
  setIfMissing(spec, 'dnsPolicy', 'ClusterFirst');
  setIfMissing(spec, 'restartPolicy', 'Always');
  if (!asObject(spec['securityContext'])) spec['securityContext'] = {};
  if (spec['terminationGracePeriodSeconds'] === undefined || spec['terminationGracePeriodSeconds'] === null) spec['terminationGracePeriodSeconds'] = 30;
  setIfMissing(spec, 'schedulerName', 'default-scheduler');
  // v1 keeps the deprecated serviceAccount mirroring serviceAccountName.
  const serviceAccountName = asString(spec['serviceAccountName']) || asString(spec['serviceAccount']);
  if (serviceAccountName) {
    spec['serviceAccountName'] = serviceAccountName;
    spec['serviceAccount'] = serviceAccountName;
  }
  const hostNetworkPorts = options.hostNetworkPorts && spec['hostNetwork'] === true;
  for (const field of ['containers', 'initContainers', 'ephemeralContainers']) {
    for (const c of objectsOf(spec[field])) defaultContainer(c, hostNetworkPorts && field !== 'ephemeralContainers');
  }
  for (const volume of objectsOf(spec['volumes'])) defaultVolume(volume);
  canonicalizeResourceList(spec, 'overhead');
  const podResources = asObject(spec['resources']);
  canonicalizeResourceList(podResources, 'limits');
  canonicalizeResourceList(podResources, 'requests');
}

/**
 * An embedded ObjectMeta is a struct, so it always prints, as `metadata: {}`
 * when empty. (Since Kubernetes 1.34 its zero creationTimestamp is omitted
 * rather than printed as null.)
 */
export function defaultEmbeddedMetadata(holder: JsonObject): void {
  ensureObject(holder, 'metadata');
}

/** A PodTemplateSpec inside a workload. Pod-only defaults (SetDefaults_Pod) do not apply. */
export function defaultPodTemplate(template: JsonObject | undefined): void {
  if (!template) return;
  defaultEmbeddedMetadata(template);
  defaultPodSpec(ensureObject(template, 'spec'), { hostNetworkPorts: true });
}

function copyLimitsToRequests(container: JsonObject): void {
  const resources = asObject(container['resources']);
  const limits = asObject(resources?.['limits']);
  if (!resources || !limits) return;
  const requests = ensureObject(resources, 'requests');
  for (const [name, value] of Object.entries(limits)) {
    if (requests[name] === undefined) requests[name] = value;
  }
}

/**
 * podIP and podIPs (hostIP and hostIPs) kept in step as Kubernetes' v1
 * conversion keeps them: the single field wins when both are set and differ
 * (older kubelets set only it), fills an empty list, and is the list's first.
 */
function mirrorList(status: JsonObject, single: string, plural: string): void {
  const list = asArray(status[plural]);
  const first = asString(asObject(list[0])?.['ip']);
  const one = asString(status[single]);
  if (one && one !== first) status[plural] = [{ ip: one }];
  else if (!one && first) status[single] = first;
}

/**
 * SetDefaults_Pod: requests default to limits, service links on, host-network
 * ports. A spec or status that is the very object of the pod an update
 * replaces (`current`, which the API server keeps and nobody changes) was
 * defaulted when it was written, and is left as it is.
 */
export function defaultPod(pod: JsonObject, _version?: string, current?: JsonObject): void {
  const spec = ensureObject(pod, 'spec');
  if (spec !== current?.['spec']) {
    for (const field of ['containers', 'initContainers']) {
      for (const c of objectsOf(spec[field])) copyLimitsToRequests(c);
    }
    if (spec['enableServiceLinks'] === undefined || spec['enableServiceLinks'] === null) spec['enableServiceLinks'] = true;
    defaultPodSpec(spec, { hostNetworkPorts: true });
  }
  const status = asObject(pod['status']);
  if (status && status !== current?.['status']) {
    mirrorList(status, 'podIP', 'podIPs');
    mirrorList(status, 'hostIP', 'hostIPs');
  }
}
