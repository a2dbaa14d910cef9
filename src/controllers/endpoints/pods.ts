// What the Endpoints and EndpointSlice controllers read of Services and
// Pods, shared by both (Kubernetes' endpointsliceutil / podutil helpers):
// which pods belong in a service's endpoints, their IPv4 address, whether
// they are ready, a service port's target port on a pod, and hostnames.
import type { KubeObject } from '../../api/object.js';
import { Selector } from '../../api/labels/index.js';
import type { Informer } from '../../client/informer.js';

export interface ServicePort {
  name?: string;
  port?: number;
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: string;
  nodePort?: number;
}

export interface ServiceSpec {
  type?: string;
  selector?: Record<string, string> | null;
  ports?: ServicePort[];
  clusterIP?: string;
  clusterIPs?: string[];
  ipFamilies?: string[];
  publishNotReadyAddresses?: boolean;
  allocateLoadBalancerNodePorts?: boolean;
}

export type Service = KubeObject & { spec?: ServiceSpec };

export interface ContainerPort {
  name?: string;
  containerPort?: number;
  protocol?: string;
}

export interface PodCondition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string | null;
  lastProbeTime?: string | null;
}

export interface PodSpecView {
  nodeName?: string;
  hostname?: string;
  subdomain?: string;
  restartPolicy?: string;
  containers?: { name?: string; ports?: ContainerPort[] }[];
  initContainers?: { name?: string; restartPolicy?: string; ports?: ContainerPort[] }[];
}

export interface PodStatusView {
  phase?: string;
  podIP?: string;
  podIPs?: { ip?: string }[];
  conditions?: PodCondition[];
}

export type Pod = KubeObject & { spec?: PodSpecView; status?: PodStatusView };

/** The `kubernetes` Service in default: the API server keeps its endpoints. */
export function isApiServerService(svc: KubeObject): boolean {
  return svc.metadata.namespace === 'default' && svc.metadata.name === 'kubernetes';
}

/**
 * The selector of a service whose endpoints a controller computes, or
 * undefined when it gets none from the controllers: ExternalName services,
 * services without a selector (their endpoints are written by hand), and the
 * API server's own `kubernetes` Service.
 */
export function serviceSelector(svc: Service): Selector | undefined {
  if (isApiServerService(svc)) return undefined;
  const spec = svc.spec ?? {};
  if (spec.type === 'ExternalName') return undefined;
  // An empty selector is dropped on the wire (omitempty), so it reads as none.
  if (!spec.selector || Object.keys(spec.selector).length === 0) return undefined;
  return Selector.fromSet(spec.selector);
}

/** A Service without a cluster IP (clusterIP: None) is headless. */
export function isHeadless(svc: Service): boolean {
  const ip = svc.spec?.clusterIP;
  return ip === 'None' || ip === '' || ip === undefined;
}

export function isPodTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** podutil.IsPodReady: the Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function isIPv4(ip: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);
}

/** The pod's IPv4 address (status.podIPs, then status.podIP), as the controllers pick it for an IPv4 service. */
export function podIPv4(pod: Pod): string | undefined {
  const ips = [...(pod.status?.podIPs ?? []).map((p) => p.ip ?? ''), pod.status?.podIP ?? ''];
  return ips.find((ip) => ip !== '' && isIPv4(ip));
}

/**
 * endpointsliceutil.ShouldPodBeInEndpoints: terminal pods and pods without an
 * IP never are; terminating pods only when includeTerminating.
 */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false;
  if (!pod.status?.podIP && (pod.status?.podIPs ?? []).length === 0) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  return true;
}

/**
 * podutil.FindPort: a numeric targetPort is used as is; a named one is looked
 * up among the containers' ports (and restartable init containers') with the
 * service port's protocol. Undefined when the pod has no such port.
 */
export function findPort(pod: Pod, svcPort: ServicePort): number | undefined {
  const target = svcPort.targetPort ?? svcPort.port;
  if (typeof target === 'number') return target;
  if (typeof target !== 'string' || target === '') return undefined;
  const protocol = svcPort.protocol ?? 'TCP';
  const matches = (ports: ContainerPort[] | undefined) => (ports ?? []).find((p) => p.name === target && (p.protocol ?? 'TCP') === protocol);
  for (const c of pod.spec?.containers ?? []) {
    const p = matches(c.ports);
    if (p?.containerPort !== undefined) return p.containerPort;
  }
  for (const c of pod.spec?.initContainers ?? []) {
    if (c.restartPolicy !== 'Always') continue;
    const p = matches(c.ports);
    if (p?.containerPort !== undefined) return p.containerPort;
  }
  return undefined;
}

/** endpointutil.ShouldSetHostname: the pod names this service as its subdomain. */
export function podHostname(pod: Pod, svc: Service): string | undefined {
  const hostname = pod.spec?.hostname;
  if (!hostname || pod.spec?.subdomain !== svc.metadata.name || pod.metadata.namespace !== svc.metadata.namespace) return undefined;
  return hostname;
}

/** The pod as an endpoint's targetRef. */
export function podTargetRef(pod: Pod): { kind: 'Pod'; namespace: string; name: string; uid: string } {
  return { kind: 'Pod', namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' };
}

/** The keys ("namespace/name") of the services in `services` whose selector selects the pod. */
export function servicesSelectingPod(pod: KubeObject, services: Service[]): string[] {
  const out: string[] = [];
  for (const svc of services) {
    const selector = serviceSelector(svc);
    if (selector && selector.matches(pod.metadata.labels ?? {})) out.push(`${svc.metadata.namespace}/${svc.metadata.name}`);
  }
  return out;
}

/** The pods in the namespace the service selector selects. */
export function selectedPods(pods: Informer, namespace: string, selector: Selector): Pod[] {
  return pods.inNamespace(namespace).filter((p) => selector.matches(p.metadata.labels ?? {})) as Pod[];
}

/**
 * Feeds the keys of the services selecting a pod to `enqueue` whenever the
 * pod is added, changed or deleted. A changed pod counts under its old labels
 * too: a pod that stopped matching must leave the old service's endpoints.
 */
export function enqueueServicesOfPods(pods: Informer, services: Informer, enqueue: (key: string) => void): void {
  const enqueueServicesOf = (...changed: KubeObject[]) => {
    for (const pod of changed) {
      for (const key of servicesSelectingPod(pod, services.inNamespace(pod.metadata.namespace ?? '') as Service[])) enqueue(key);
    }
  };
  pods.on({
    add: (pod) => enqueueServicesOf(pod),
    update: (old, pod) => enqueueServicesOf(old, pod),
    delete: (pod) => enqueueServicesOf(pod),
  });
}
