// Hollow nodes: many simulated nodes in one process for scale tests (as
// kubemark's hollow nodes and kwok). Each is a full node agent - Node, Lease,
// status, pod worker - whose runtime is the FakeRuntime, so the pod status
// they report comes from the same code a real node's does.
import { loadKubeconfig } from '../client/kubeconfig.js';
import { RestClient } from '../client/rest.js';
import { FakeRuntime, ipv4ToString } from './fake-runtime.js';
import { derivedMachineId, derivedSystemUuid, goArch, processBootId, type NodeConfig } from './node-status.js';
import { startNodeAgents, type NodeAgentOptions } from './node-agent.js';

/** Label on every hollow node, to tell them apart (kubectl get nodes -l nami.dev/hollow-node=true). */
export const hollowNodeLabel = 'nami.dev/hollow-node';
/** Hollow nodes can be numbered up to this many (one /24 pod range each in 10.128.0.0/9). */
export const maxHollowNodes = 32_768;

/** The node agent settings hollow nodes pass on to their agents (as NodeAgentOptions has them). */
const agentOptionKeys = [
  'leaseDurationSeconds',
  'leaseRenewIntervalMs',
  'nodeStatusUpdateFrequencyMs',
  'nodeStatusReportFrequencyMs',
  'writeConcurrency',
  'crashLoopBackOff',
  'events',
  'informers',
  'onRegistered',
  'log',
] as const satisfies readonly (keyof NodeAgentOptions)[];
type HollowAgentOptions = Pick<NodeAgentOptions, (typeof agentOptionKeys)[number]>;

/** Hollow nodes' own settings, and the node agents' (tuning, mostly for tests; the defaults are the kubelet's, but events are off unless asked). */
export interface HollowNodesOptions extends HollowAgentOptions {
  nodes: number;
  /** Node names are `${namePrefix}${index}`; "hollow-node-" by default. */
  namePrefix?: string;
  /** Index of the first node (0), so that several processes can share a cluster. */
  firstIndex?: number;
  /** Pod capacity of each node (110, the kubelet's maxPods); at most 250 (a /24 of pod IPs). */
  podsPerNode?: number;
  /** CPU capacity of each node ("4"). */
  cpu?: string;
  /** Memory capacity of each node ("16Gi"). */
  memory?: string;
  /** Ephemeral storage capacity of each node ("100Gi"). */
  ephemeralStorage?: string;
  /** Labels beside the kubelet's own and nami.dev/hollow-node=true. */
  labels?: Record<string, string>;
  /** Fake container start-up time (0: running at once). */
  startupDelayMs?: number;
}

export interface HollowNodes {
  nodes: string[];
  stop(): Promise<void>;
}

/** The configuration of hollow node number `index`: InternalIP 172.16.0.0/12 + index + 1, pods from 10.128.0.0/9 one /24 each. */
export function hollowNodeConfig(index: number, opts: Omit<HollowNodesOptions, 'nodes'> = {}): NodeConfig {
  if (!Number.isInteger(index) || index < 0 || index >= maxHollowNodes) throw new RangeError(`hollow node index ${index} is outside 0..${maxHollowNodes - 1}`);
  const name = `${opts.namePrefix ?? 'hollow-node-'}${index}`;
  const capacity = {
    cpu: opts.cpu ?? '4',
    'ephemeral-storage': opts.ephemeralStorage ?? '100Gi',
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: opts.memory ?? '16Gi',
    pods: String(opts.podsPerNode ?? 110),
  };
  return {
    name,
    internalIP: ipv4ToString(0xac100000 + index + 1),
    labels: { [hollowNodeLabel]: 'true', ...(opts.labels ?? {}) },
    capacity,
    allocatable: { ...capacity },
    podCIDR: `10.${128 + (index >> 8)}.${index & 255}.0/24`,
    nodeInfo: {
      machineID: derivedMachineId(name),
      systemUUID: derivedSystemUuid(name),
      bootID: processBootId,
      kernelVersion: 'nami-hollow',
      osImage: 'Nami hollow node',
      operatingSystem: 'linux',
      architecture: goArch(),
    },
  };
}

/** Registers `nodes` hollow nodes and runs them until stop(); resolves once all are registered with a Lease. */
export async function startHollowNodes(client: RestClient, opts: HollowNodesOptions): Promise<HollowNodes> {
  const first = opts.firstIndex ?? 0;
  const podsPerNode = opts.podsPerNode ?? 110;
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1) throw new RangeError(`the number of hollow nodes must be a positive integer, got ${opts.nodes}`);
  if (!Number.isInteger(podsPerNode) || podsPerNode < 1 || podsPerNode > 250) throw new RangeError(`pods per hollow node must be 1..250, got ${podsPerNode}`);
  const nodes = Array.from({ length: opts.nodes }, (_, i) => {
    const config = hollowNodeConfig(first + i, opts);
    return { config, runtime: new FakeRuntime({ podCidr: config.podCIDR!, startupDelayMs: opts.startupDelayMs }) };
  });
  const agentOpts: NodeAgentOptions = {
    ...(Object.fromEntries(agentOptionKeys.map((k) => [k, opts[k]])) as HollowAgentOptions),
    // Events would double the writes of every pod start; hollow nodes leave them out unless asked.
    events: opts.events ?? false,
  };
  // One informer for all the nodes, of scheduled pods only: pods waiting for the scheduler are nobody's here.
  const group = await startNodeAgents(client, nodes, { ...agentOpts, podFieldSelector: 'spec.nodeName!=' });
  return { nodes: group.nodes, stop: () => group.stop() };
}

export interface HollowCommandOptions {
  kubeconfig: string;
  nodes: number;
  podsPerNode: number;
  cpu: string;
  memory: string;
  /** Node names are this prefix and a number ("hollow-node-"). */
  namePrefix?: string;
  /** Also print what the nodes decide (pods started, deleted ...), not only what fails. */
  verbose?: boolean;
}

/**
 * `nami hollow`: registers hollow nodes against the cluster of a kubeconfig,
 * shows progress, and runs until SIGINT or SIGTERM. Nothing is deleted on exit:
 * the nodes stop heartbeating and go NotReady as real nodes would.
 */
export async function runHollowCommand(opts: HollowCommandOptions, out: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Promise<void> {
  const client = new RestClient(loadKubeconfig(opts.kubeconfig), 'nami-hollow');
  const started = Date.now();
  let lastProgress = 0;
  // Keeps the process alive until a signal arrives; everything else here is unref'd.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  let hollow: HollowNodes | undefined;
  try {
    hollow = await startHollowNodes(client, {
      nodes: opts.nodes,
      podsPerNode: opts.podsPerNode,
      cpu: opts.cpu,
      memory: opts.memory,
      ...(opts.namePrefix ? { namePrefix: opts.namePrefix } : {}),
      log: (line, level = 'warning') => {
        if (level === 'warning' || opts.verbose) process.stderr.write(`${line}\n`);
      },
      onRegistered: (registered, total) => {
        const now = Date.now();
        if (registered < total && now - lastProgress >= 1000) {
          lastProgress = now;
          out(`registering hollow nodes: ${registered}/${total}`);
        }
      },
    });
    out(`registered ${hollow.nodes.length} hollow nodes in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    out('stopping hollow nodes (they stay registered and will go NotReady)');
  } finally {
    clearInterval(keepAlive);
    await hollow?.stop();
    client.close();
  }
}
