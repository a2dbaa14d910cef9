// `nami agent`: this machine as a node of a cluster, running pods as real
// containers with runc (root), or with the fake runtime.
import { existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { RestClient } from '../client/rest.js';
import { ApiError } from '../api/errors.js';
import { Quantity } from '../api/quantity.js';
import type { KubeObject } from '../api/object.js';
import { FakeRuntime, localNodeConfig, startNodeAgent, type Runtime } from '../agent/index.js';
import { startKubeletServer, type RunningKubeletServer } from '../agent/server/kubelet-server.js';
import { ensureServingCert } from '../agent/server/serving-cert.js';
import { defaultKubeletPort } from '../agent/node-status.js';

export interface AgentCommandOptions {
  kubeconfig: string;
  name?: string;
  dataDir: string;
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

/** A namespaced object from the API server, or undefined when it does not exist. */
async function getOrUndefined(client: RestClient, plural: string, namespace: string, name: string): Promise<KubeObject | undefined> {
  try {
    return await client.get({ group: '', version: 'v1', plural, namespace, name });
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) return undefined;
    throw err;
  }
}

async function openRuntime(kind: string, dataDir: string, podCidr: string, bridge: string, client: RestClient, logRotation: { containerLogMaxSize?: number; containerLogMaxFiles?: number } = {}): Promise<Runtime> {
  if (kind === 'fake') return new FakeRuntime({ podCidr });
  if (kind !== 'runc') throw new Error(`--runtime must be runc or fake, got "${kind}" (the process runtime comes later)`);
  if (process.getuid?.() !== 0) throw new Error('the runc runtime needs root: run as root, or use --runtime fake');
  const { ImageStore } = await import('../agent/images/index.js');
  const { RuncRuntime } = await import('../agent/runtimes/runc/index.js');
  const images = await ImageStore.open(join(dataDir, 'images'));
  // Pods on the node's bridge; forwarding and masquerading (host-wide settings) stay off.
  /** The object's data ({} when it has none), or undefined when the object does not exist. */
  const data = async (plural: string, ns: string, name: string) => {
    const obj = await getOrUndefined(client, plural, ns, name);
    return obj ? ((obj.data as Record<string, string> | undefined) ?? {}) : undefined;
  };
  return RuncRuntime.open({
    root: join(dataDir, 'runtime'),
    images,
    ...logRotation,
    network: { podCidr, bridge },
    // ConfigMap and Secret data for volumes and env, and imagePullSecrets, read when a container starts.
    volumeSource: {
      configMap: (ns, name) => data('configmaps', ns, name),
      secret: (ns, name) => data('secrets', ns, name),
    },
    pullSecrets: async (pod, names) => {
      const found = await Promise.all(names.map((name) => getOrUndefined(client, 'secrets', pod.namespace, name).catch(() => undefined)));
      return found.filter((s): s is KubeObject => s !== undefined) as unknown as Record<string, unknown>[];
    },
  });
}

/** Whether real containers can run here: root and runc on PATH. */
export function canRunContainers(): boolean {
  if (process.getuid?.() !== 0) return false;
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, 'runc')));
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
  const serving = await ensureServingCert(join(dataDir, 'pki'), node, ['localhost', node], [...new Set(['127.0.0.1', nodeIP])]);
  const serverOpts = { runtime, clientCaPem: caPem, ...serving, host: address ?? '0.0.0.0', port: explicitPort ?? defaultKubeletPort, log: (line: string) => process.stderr.write(`${line}\n`) };
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
  const runtime = await openRuntime(opts.runtime, dataDir, podCIDR, opts.bridge ?? 'nami0', client, logRotation);
  const verbose = process.env.NAMI_LOG === 'debug';
  const kubelet = await startAgentEndpoint(opts, clientConfig.caPem, dataDir, config.name, config.internalIP, address, runtime);
  if (kubelet) config.kubeletPort = kubelet.port;
  const agent = await (async () => {
    try {
      return await startNodeAgent(client, config, runtime, {
        events: true,
        log: (line, level = 'warning') => {
          if (level === 'warning' || verbose) process.stderr.write(`${line}\n`);
        },
      });
    } catch (err) {
      await kubelet?.close();
      throw err;
    }
  })();
  return {
    node: config.name,
    async stop() {
      await agent.stop();
      await kubelet?.close();
      client.close();
    },
  };
}

export async function runAgentCommand(opts: AgentCommandOptions): Promise<void> {
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
