// The `nami` command.
import { Command } from 'commander';
import { homedir } from 'node:os';
import { join } from 'node:path';

const program = new Command();
program.name('nami').description('Nami: a Kubernetes-compatible container platform with a small footprint').version('0.1.0');

const defaultDataDir = process.env.NAMI_DATA_DIR ?? join(homedir(), '.nami');

/** `server` and `up` run the same control plane today; `up` adds a node agent once there is one. */
function serverCommand(name: string, description: string): void {
  program
    .command(name)
    .description(description)
    .option('--data-dir <dir>', 'where state, certificates and the admin kubeconfig live', defaultDataDir)
    .option('--listen <host:port>', 'address the API server listens on', '127.0.0.1:6443')
    .option('--storage <spec>', 'sqlite (default), memory, or etcd://host:2379[,host:2379...]', 'sqlite')
    .action(async (opts: { dataDir: string; listen: string; storage: string }) => {
      const { runServer } = await import('./server-command.js');
      await runServer(opts);
    });
}

const defaultKubeconfig = join(defaultDataDir, 'admin.kubeconfig');

program
  .command('hollow')
  .description('register simulated nodes that run pods without running anything (for scale tests, like kwok)')
  .option('--kubeconfig <file>', 'credentials of the cluster to join', defaultKubeconfig)
  .option('--nodes <n>', 'how many nodes', '10')
  .option('--pods-per-node <n>', 'pod capacity of each node', '110')
  .option('--cpu <quantity>', 'cpu capacity of each node', '4')
  .option('--memory <quantity>', 'memory capacity of each node', '16Gi')
  .action(async (opts: { kubeconfig: string; nodes: string; podsPerNode: string; cpu: string; memory: string }) => {
    const { runHollowCommand } = await import('../agent/index.js');
    await runHollowCommand({ kubeconfig: opts.kubeconfig, nodes: positiveInt('--nodes', opts.nodes), podsPerNode: positiveInt('--pods-per-node', opts.podsPerNode), cpu: opts.cpu, memory: opts.memory });
  });

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive whole number, got "${value}"`);
  return n;
}

serverCommand('server', 'run the control plane: the API server on an embedded store (or etcd)');
serverCommand('up', 'bring up a one-machine cluster (today: the control plane; the node agent joins in a later release)');

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`nami: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
