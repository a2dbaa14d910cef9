// `nami agent`: this machine as a node of a cluster, running pods as real
// containers with runc (root), as plain host processes (process: no isolation,
// no root needed), or with the fake runtime.
import { join, resolve } from 'node:path';
import { findExecutable } from './executables.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { RestClient } from '../client/rest.js';
import { Quantity } from '../api/quantity.js';
import type { KubeObject } from '../api/object.js';
import { FakeRuntime, localNodeConfig, startNodeAgent, type Runtime } from '../agent/index.js';
import { startKubeletServer, type RunningKubeletServer } from '../agent/server/kubelet-server.js';
import { ensureServingCert } from '../agent/server/serving-cert.js';
import { defaultKubeletPort } from '../agent/node-status.js';
import { NodeMonitor } from '../agent/node-monitor.js';
import { startRouteController } from '../agent/route-controller.js';
import { TokenManager, type TokenSpec } from '../agent/service-account-tokens.js';

export interface AgentCommandOptions {
  kubeconfig: string;
  name?: string;
  dataDir: string;
  /** runc, process or fake. */
  runtime: string;
  /** The HTTPS port the API server reaches for logs (kubelet's 10250; 0 picks one). Default: $NAMI_AGENT_PORT or 10250. */
  port?: number;
  /** The node's InternalIP, also where that port listens. Default: $NAMI_AGENT_ADDRESS or 127.0.0.1 (a one-machine cluster; give the machine's address to join from elsewhere). */
  address?: string;
  /** The node's pod range (default 10.244.0.0/24): pods get their IPs from it on the node's bridge. */
  podCidr?: string;
  /** The node's pod bridge (default nami0). */
  bridge?: string;
  /** Rotate a container's log before it exceeds this size: a quantity such as 10Mi (the default, the kubelet's containerLogMaxSize). */
  containerLogMaxSize?: string;
  /** Log files kept per container, the current one included (default 5; at least 2). */
  containerLogMaxFiles?: number;
}

/** --container-log-max-size and --container-log-max-files as the runtime takes them; throws on bad values. */
export function containerLogRotation(opts: Pick<AgentCommandOptions, 'containerLogMaxSize' | 'containerLogMaxFiles'>): { containerLogMaxSize?: number; containerLogMaxFiles?: number } {
  const out: { containerLogMaxSize?: number; containerLogMaxFiles?: number } = {};
  if (opts.containerLogMaxSize !== undefined) {
    const q = Quantity.tryParse(opts.containerLogMaxSize);
    const bytes = q?.value();
    if (bytes === undefined || !Number.isSafeInteger(bytes) || bytes <= 0) throw new Error(`--container-log-max-size must be a positive quantity of bytes such as 10Mi, got "${opts.containerLogMaxSize}"`);
    out.containerLogMaxSize = bytes;
  }
  if (opts.containerLogMaxFiles !== undefined) {
    if (!Number.isInteger(opts.containerLogMaxFiles) || opts.containerLogMaxFiles < 2) throw new Error(`--container-log-max-files must be an integer of at least 2, got "${opts.containerLogMaxFiles}"`);
    out.containerLogMaxFiles = opts.containerLogMaxFiles;
  }
  return out;
}

/** A core object from the API server (cluster-scoped without a namespace), or undefined when it does not exist. */
function getOrUndefined(client: RestClient, plural: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
  return client.getIfExists({ group: '', version: 'v1', plural, namespace, name });
}

/** The runtimes `--runtime` takes. */
export const runtimeKinds = ['runc', 'process', 'fake'] as const;
export type RuntimeKind = (typeof runtimeKinds)[number];

export function parseRuntimeKind(kind: string): RuntimeKind {
  if ((runtimeKinds as readonly string[]).includes(kind)) return kind as RuntimeKind;
  throw new Error(`--runtime must be one of ${runtimeKinds.join(', ')}, got "${kind}"`);
}

/** ConfigMap and Secret data for volumes and env, service account tokens, services for env, and imagePullSecrets, read from the API server when a container starts. */
function apiDataSources(client: RestClient) {
  /** The object's data ({} when it has none), or undefined when the object does not exist. */
  const data = async (plural: string, ns: string, name: string) => {
    const obj = await getOrUndefined(client, plural, ns, name);
    return obj ? ((obj.data as Record<string, string> | undefined) ?? {}) : undefined;
  };
  const tokens = new TokenManager(async (namespace, serviceAccount, body) => {
    const answer = await client.create<{ status?: { token?: string; expirationTimestamp?: string } }>({ group: '', version: 'v1', plural: 'serviceaccounts', namespace, name: serviceAccount, subresource: 'token' }, body);
    return { token: answer.status?.token ?? '', expirationTimestamp: answer.status?.expirationTimestamp ?? '' };
  });
  return {
    // ConfigMap and Secret data for volumes and env, claims and their volumes, service account tokens, and imagePullSecrets, read when a container starts.
    volumeSource: {
      serviceAccountToken: (ns: string, account: string, spec: TokenSpec) => tokens.token(ns, account, spec),
      configMap: (ns: string, name: string) => data('configmaps', ns, name),
      secret: (ns: string, name: string) => data('secrets', ns, name),
      persistentVolumeClaim: async (ns: string, name: string) => getOrUndefined(client, 'persistentvolumeclaims', ns, name),
      persistentVolume: async (name: string) => getOrUndefined(client, 'persistentvolumes', undefined, name),
      services: async (ns: string) => (await client.list({ group: '', version: 'v1', plural: 'services', namespace: ns })).items as Record<string, unknown>[],
    },
    pullSecrets: async (pod: { namespace: string }, names: string[]) => {
      const found = await Promise.all(names.map((name) => getOrUndefined(client, 'secrets', pod.namespace, name).catch(() => undefined)));
      return found.filter((s): s is KubeObject => s !== undefined) as unknown as Record<string, unknown>[];
    },
  };
}

async function openRuntime(kind: RuntimeKind, dataDir: string, podCidr: string, bridge: string, nodeIP: string, client: RestClient, logRotation: { containerLogMaxSize?: number; containerLogMaxFiles?: number } = {}): Promise<Runtime> {
  if (kind === 'fake') return new FakeRuntime({ podCidr });
  const { ImageStore } = await import('../agent/images/index.js');
  if (kind === 'process') {
    const { ProcessRuntime } = await import('../agent/runtimes/process/index.js');
    const images = await ImageStore.open(join(dataDir, 'images'));
    // Its own state dir: runc's pods under runtime/ are not processes.
    return ProcessRuntime.open({ root: join(dataDir, 'process-runtime'), images, nodeIP, ...logRotation, ...apiDataSources(client) });
  }
  if (process.getuid?.() !== 0) throw new Error('the runc runtime needs root: run as root, or use --runtime process (no isolation) or --runtime fake');
  const { RuncRuntime } = await import('../agent/runtimes/runc/index.js');
  const images = await ImageStore.open(join(dataDir, 'images'));
  // Pods on the node's bridge; forwarding and masquerading (host-wide settings) stay off.
  return RuncRuntime.open({ root: join(dataDir, 'runtime'), images, ...logRotation, network: { podCidr, bridge }, ...apiDataSources(client) });
}

/** Whether real containers can run here: root and runc on PATH. */
export function canRunContainers(): boolean {
  if (process.getuid?.() !== 0) return false;
  return findExecutable('runc') !== undefined;
}

/**
 * The agent's HTTPS endpoint (containerLogs), serving a self-signed certificate
 * kept in DATA-DIR/pki and accepting clients whose certificate the cluster CA
 * (the kubeconfig's) signed. Without a CA in the kubeconfig there is none.
 */
async function startAgentEndpoint(opts: AgentCommandOptions, caPem: string | undefined, dataDir: string, node: string, nodeIP: string, address: string | undefined, runtime: Runtime): Promise<RunningKubeletServer | undefined> {
  if (!caPem) {
    process.stderr.write('nami agent: WARNING: the kubeconfig has no certificate-authority: not serving containerLogs (kubectl logs)\n');
    return undefined;
  }
  const envPort = process.env.NAMI_AGENT_PORT;
  const explicitPort = opts.port ?? (envPort ? Number(envPort) : undefined);
  if (explicitPort !== undefined && (!Number.isInteger(explicitPort) || explicitPort < 0 || explicitPort > 65535)) throw new Error(`agent port must be 0..65535, got ${envPort}`);
  const serving = ensureServingCert(join(dataDir, 'pki'), node, ['localhost', node], [...new Set(['127.0.0.1', nodeIP])]);
  const serverOpts = { runtime, clientCaPem: caPem, ...serving, host: address ?? '0.0.0.0', port: explicitPort ?? defaultKubeletPort, nodeName: node, fsPath: dataDir, log: (line: string) => process.stderr.write(`${line}\n`) };
  try {
    return await startKubeletServer(serverOpts);
  } catch (err) {
    // The default port taken (a kubelet, another agent): take any, the node status tells the API server which.
    if (explicitPort !== undefined || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    process.stderr.write(`nami agent: port ${defaultKubeletPort} is in use; serving containerLogs on a free port\n`);
    return startKubeletServer({ ...serverOpts, port: 0 });
  }
}

/** Registers this machine as a node and runs its pods; stop() stops the agent (pods keep running under runc). */
export async function startLocalAgent(opts: AgentCommandOptions): Promise<{ node: string; stop(): Promise<void> }> {
  const logRotation = containerLogRotation(opts);
  const dataDir = resolve(opts.dataDir);
  const address = opts.address ?? (process.env.NAMI_AGENT_ADDRESS || '127.0.0.1');
  const podCIDR = opts.podCidr ?? '10.244.0.0/24';
  const config = localNodeConfig({ ...(opts.name ? { name: opts.name } : {}), internalIP: address, podCIDR });
  const clientConfig = loadKubeconfig(opts.kubeconfig);
  const client = new RestClient(clientConfig, 'nami-agent');
  const runtime = await openRuntime(parseRuntimeKind(opts.runtime), dataDir, podCIDR, opts.bridge ?? 'nami0', config.internalIP, client, logRotation);
  const verbose = process.env.NAMI_LOG === 'debug';
  // Real capacity, pressure conditions and images for a node running real pods; the fake runtime keeps its static figures.
  const monitor = opts.runtime === 'fake' ? undefined : new NodeMonitor({ dataDir, listImages: runtime.listImages?.bind(runtime) });
  if (monitor) {
    await monitor.start();
    Object.assign(config, monitor.resources());
  }
  // Routes to other nodes' pod ranges (several nodes on one flat network).
  const routes = opts.runtime === 'runc' ? startRouteController(client, { node: config.name, nodeIP: config.internalIP, log: (line) => process.stderr.write(`nami agent: ${line}\n`) }) : undefined;
  const kubelet = await startAgentEndpoint(opts, clientConfig.caPem, dataDir, config.name, config.internalIP, address, runtime);
  if (kubelet) config.kubeletPort = kubelet.port;
  const agent = await (async () => {
    try {
      return await startNodeAgent(client, config, runtime, {
        events: true,
        ...(monitor ? { health: () => monitor.health(), images: () => monitor.images() } : {}),
        log: (line, level = 'warning') => {
          if (level === 'warning' || verbose) process.stderr.write(`${line}\n`);
        },
      });
    } catch (err) {
      await kubelet?.close();
      monitor?.stop();
      routes?.stop();
      throw err;
    }
  })();
  return {
    node: config.name,
    async stop() {
      await agent.stop();
      monitor?.stop();
      routes?.stop();
      await kubelet?.close();
      client.close();
    },
  };
}

/** Said loudly wherever the process runtime is chosen. */
export const processRuntimeWarning =
  'WARNING: the process runtime does not isolate containers: they run as plain processes of this user, on this machine\'s network and file system, with no resource limits.\n' +
  '  Run as root with Debian\'s runc installed (apt-get install runc busybox-static) for real containers.\n';

export async function runAgentCommand(opts: AgentCommandOptions): Promise<void> {
  if (parseRuntimeKind(opts.runtime) === 'process') process.stderr.write(`nami agent: ${processRuntimeWarning}`);
  const agent = await startLocalAgent(opts);
  process.stdout.write(`nami agent: node ${agent.node} registered (runtime ${opts.runtime})\n`);
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const stop = () => {
    clearInterval(keepAlive);
    void agent.stop().finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
