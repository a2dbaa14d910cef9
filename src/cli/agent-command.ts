// `nami agent`: this machine as a node of a cluster, running pods as real
// containers with runc (root), or with the fake runtime.
import { existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { RestClient } from '../client/rest.js';
import { FakeRuntime, localNodeConfig, startNodeAgent, type Runtime } from '../agent/index.js';

export interface AgentCommandOptions {
  kubeconfig: string;
  name?: string;
  dataDir: string;
  runtime: string;
}

async function openRuntime(kind: string, dataDir: string, podCidr: string): Promise<Runtime> {
  if (kind === 'fake') return new FakeRuntime({ podCidr });
  if (kind !== 'runc') throw new Error(`--runtime must be runc or fake, got "${kind}" (the process runtime comes later)`);
  if (process.getuid?.() !== 0) throw new Error('the runc runtime needs root: run as root, or use --runtime fake');
  const { ImageStore } = await import('../agent/images/index.js');
  const { RuncRuntime } = await import('../agent/runtimes/runc/index.js');
  const images = await ImageStore.open(join(dataDir, 'images'));
  return RuncRuntime.open({ root: join(dataDir, 'runtime'), images });
}

/** Whether real containers can run here: root and runc on PATH. */
export function canRunContainers(): boolean {
  if (process.getuid?.() !== 0) return false;
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, 'runc')));
}

/** Registers this machine as a node and runs its pods; stop() stops the agent (pods keep running under runc). */
export async function startLocalAgent(opts: AgentCommandOptions): Promise<{ node: string; stop(): Promise<void> }> {
  const dataDir = resolve(opts.dataDir);
  const config = localNodeConfig(opts.name ? { name: opts.name } : {});
  const runtime = await openRuntime(opts.runtime, dataDir, config.podCIDR ?? '10.244.0.0/24');
  const client = new RestClient(loadKubeconfig(opts.kubeconfig), 'nami-agent');
  const verbose = process.env.NAMI_LOG === 'debug';
  const agent = await startNodeAgent(client, config, runtime, {
    events: true,
    log: (line, level = 'warning') => {
      if (level === 'warning' || verbose) process.stderr.write(`${line}\n`);
    },
  });
  return {
    node: config.name,
    async stop() {
      await agent.stop();
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
