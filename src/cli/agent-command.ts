// `nami agent`: this machine as a node of a cluster, running pods as real
// containers with runc (root), or with the fake runtime.
import { join, resolve } from 'node:path';
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

export async function runAgentCommand(opts: AgentCommandOptions): Promise<void> {
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
  process.stdout.write(`nami agent: node ${config.name} registered (runtime ${opts.runtime}) with ${client.config.server}\n`);
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const stop = () => {
    clearInterval(keepAlive);
    void agent.stop().finally(() => {
      client.close();
      process.exit(0);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
