// The Node object a node agent registers and the status it reports, as the
// kubelet builds them (pkg/kubelet/kubelet_node_status.go initialNode,
// pkg/kubelet/nodestatus/setters.go): default labels, capacity and
// allocatable, the pressure and Ready conditions with the kubelet's reasons
// and messages, addresses, daemon endpoints and system info.
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, hostname as osHostname, networkInterfaces, release, totalmem } from 'node:os';
import { isPlainObject, type KubeObject } from '../api/object.js';
import { apiTime } from './timestamps.js';

type Json = Record<string, unknown>;

/** The Kubernetes version the agent reports as its kubelet's (Nami's API speaks 1.33). */
export const kubeletVersion = 'v1.33.0-nami.0.1.0';
/** Where kubelets listen; reported in status.daemonEndpoints. */
export const defaultKubeletPort = 10250;

export interface NodeSystemInfo {
  machineID: string;
  systemUUID: string;
  bootID: string;
  kernelVersion: string;
  osImage: string;
  operatingSystem: string;
  architecture: string;
}

export interface NodeConfig {
  name: string;
  /** kubernetes.io/hostname and the Hostname address; the node name by default. */
  hostname?: string;
  internalIP: string;
  /** Labels beside the kubelet's own (hostname, os, arch). */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** --register-with-taints */
  taints?: Json[];
  /** node.kubernetes.io/instance-type, when the node has one. */
  instanceType?: string;
  /** cpu, memory, ephemeral-storage, pods (and whatever else the node has). */
  capacity: Record<string, string>;
  /** What pods may use; capacity when not given. */
  allocatable?: Record<string, string>;
  nodeInfo: NodeSystemInfo;
  kubeletPort?: number;
  /** The node's pod range, when the agent hands out pod IPs itself (fake runtime); set as spec.podCIDR at registration. */
  podCIDR?: string;
}

/** Go's runtime.GOARCH for Node's architecture. */
export function goArch(arch: string = process.arch): string {
  return ({ x64: 'amd64', ia32: '386', arm: 'arm', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64' } as Record<string, string>)[arch] ?? arch;
}

export function nodeLabels(cfg: NodeConfig): Record<string, string> {
  const os = cfg.nodeInfo.operatingSystem;
  const arch = cfg.nodeInfo.architecture;
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': arch,
    'beta.kubernetes.io/os': os,
    'kubernetes.io/arch': arch,
    'kubernetes.io/hostname': cfg.hostname ?? cfg.name,
    'kubernetes.io/os': os,
  };
  if (cfg.instanceType) {
    labels['node.kubernetes.io/instance-type'] = cfg.instanceType;
    labels['beta.kubernetes.io/instance-type'] = cfg.instanceType;
  }
  return { ...labels, ...(cfg.labels ?? {}) };
}

interface ConditionSpec {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/** What the agent sees of its node's health; the hollow and fake case is all fine. */
export interface NodeHealth {
  memoryPressure: boolean;
  diskPressure: boolean;
  pidPressure: boolean;
  /** Why the node is not ready (runtime down ...), or undefined when it is. */
  notReady?: string;
  /** Whether the pod network is up on the node. */
  networkReady: boolean;
}

export const healthyNode: NodeHealth = { memoryPressure: false, diskPressure: false, pidPressure: false, networkReady: true };

function conditionSpecs(h: NodeHealth): ConditionSpec[] {
  return [
    h.networkReady
      ? { type: 'NetworkUnavailable', status: 'False', reason: 'RouteCreated', message: 'RouteController created a route' }
      : { type: 'NetworkUnavailable', status: 'True', reason: 'NoRouteCreated', message: 'Node created without a route' },
    h.memoryPressure
      ? { type: 'MemoryPressure', status: 'True', reason: 'KubeletHasInsufficientMemory', message: 'kubelet has insufficient memory available' }
      : { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
    h.diskPressure
      ? { type: 'DiskPressure', status: 'True', reason: 'KubeletHasDiskPressure', message: 'kubelet has disk pressure' }
      : { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
    h.pidPressure
      ? { type: 'PIDPressure', status: 'True', reason: 'KubeletHasInsufficientPID', message: 'kubelet has insufficient PID available' }
      : { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
    h.notReady === undefined
      ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }
      : { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: h.notReady },
  ];
}

/** The node's conditions at `now`, keeping each one's lastTransitionTime while its status stays. */
export function nodeConditions(health: NodeHealth, previous: Json[], now: number): Json[] {
  const stamp = apiTime(now);
  return conditionSpecs(health).map((c) => {
    const old = previous.find((p) => p.type === c.type);
    const lastTransitionTime = old && old.status === c.status && typeof old.lastTransitionTime === 'string' ? old.lastTransitionTime : stamp;
    return { type: c.type, status: c.status, lastHeartbeatTime: stamp, lastTransitionTime, reason: c.reason, message: c.message };
  });
}

export function nodeStatus(cfg: NodeConfig, runtimeVersion: string, health: NodeHealth, previousConditions: Json[], now: number, images?: { names: string[]; sizeBytes: number }[]): Json {
  const addresses = [{ type: 'InternalIP', address: cfg.internalIP }, { type: 'Hostname', address: cfg.hostname ?? cfg.name }];
  const status: Json = {
    capacity: { ...cfg.capacity },
    allocatable: { ...(cfg.allocatable ?? cfg.capacity) },
    conditions: nodeConditions(health, previousConditions, now),
    addresses,
    daemonEndpoints: { kubeletEndpoint: { Port: cfg.kubeletPort ?? defaultKubeletPort } },
    nodeInfo: {
      machineID: cfg.nodeInfo.machineID,
      systemUUID: cfg.nodeInfo.systemUUID,
      bootID: cfg.nodeInfo.bootID,
      kernelVersion: cfg.nodeInfo.kernelVersion,
      osImage: cfg.nodeInfo.osImage,
      containerRuntimeVersion: runtimeVersion,
      kubeletVersion,
      kubeProxyVersion: kubeletVersion,
      operatingSystem: cfg.nodeInfo.operatingSystem,
      architecture: cfg.nodeInfo.architecture,
    },
  };
  if (images) status.images = images.map((i) => ({ names: [...i.names], sizeBytes: i.sizeBytes }));
  return status;
}

/** The Node the agent creates when it registers (the kubelet's initialNode, status included). */
export function initialNode(cfg: NodeConfig, status: Json): KubeObject {
  const spec: Json = {};
  if (cfg.podCIDR) {
    spec.podCIDR = cfg.podCIDR;
    spec.podCIDRs = [cfg.podCIDR];
  }
  if (cfg.taints && cfg.taints.length > 0) spec.taints = cfg.taints;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: cfg.name,
      labels: nodeLabels(cfg),
      annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true', ...(cfg.annotations ?? {}) },
    },
    spec,
    status,
  };
}

/** Whether a status differs from the one reported other than in heartbeat times (the kubelet's nodeStatusHasChanged). */
export function nodeStatusChanged(reported: Json | undefined, next: Json): boolean {
  if (!reported) return true;
  const strip = (s: Json) =>
    JSON.stringify({
      ...s,
      conditions: (Array.isArray(s.conditions) ? s.conditions : []).filter(isPlainObject).map((c) => ({ ...c, lastHeartbeatTime: undefined })),
    });
  return strip(reported) !== strip(next);
}

/** A stable machine ID (32 hex digits) derived from a name, for nodes without a machine of their own. */
export function derivedMachineId(name: string): string {
  return createHash('sha256').update(`nami-node:${name}`).digest('hex').slice(0, 32);
}

/** A stable UUID-shaped system UUID derived from a name. */
export function derivedSystemUuid(name: string): string {
  const h = createHash('sha256').update(`nami-system-uuid:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** One boot ID per process: a restarted agent is a rebooted kubelet as far as the API can tell. */
export const processBootId = randomUUID();

/** PRETTY_NAME of /etc/os-release ("Debian GNU/Linux 12 (bookworm)"), as the kubelet's osImage. */
function osPrettyName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m?.[1]) return m[1];
  } catch {
    /* none */
  }
  return 'Linux';
}

/** The machine this process runs on, as a node: for an agent running real pods here. */
export function localNodeConfig(overrides: Partial<NodeConfig> = {}): NodeConfig {
  const name = (overrides.name ?? osHostname()).toLowerCase();
  let ip = '127.0.0.1';
  for (const addrs of Object.values(networkInterfaces())) {
    const found = (addrs ?? []).find((a) => a.family === 'IPv4' && !a.internal);
    if (found) {
      ip = found.address;
      break;
    }
  }
  return {
    name,
    internalIP: ip,
    capacity: { cpu: String(cpus().length), 'ephemeral-storage': '100Gi', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: `${Math.floor(totalmem() / 1024)}Ki`, pods: '110' },
    nodeInfo: {
      machineID: derivedMachineId(name),
      systemUUID: derivedSystemUuid(name),
      bootID: processBootId,
      kernelVersion: release(),
      osImage: osPrettyName(),
      operatingSystem: 'linux',
      architecture: goArch(),
    },
    ...overrides,
  };
}
