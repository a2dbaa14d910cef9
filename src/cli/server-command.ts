// `nami server` / `nami up`: start the control plane and keep it running until a signal.
import { resolve } from 'node:path';
import { openBackend } from '../storage/index.js';
import { startApiServer } from '../apiserver/start.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { RestClient } from '../client/rest.js';
import { NamespaceController } from '../controllers/namespace/controller.js';

export interface ServerCommandOptions {
  dataDir: string;
  listen: string;
  storage: string;
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen);
  if (!m) throw new Error(`--listen must be HOST:PORT (for example 127.0.0.1:6443), got "${listen}"`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port: Number(m[3]) };
}

export async function runServer(opts: ServerCommandOptions): Promise<void> {
  const started = Date.now();
  const dataDir = resolve(opts.dataDir);
  const { host, port } = parseListen(opts.listen);
  const backend = await openBackend(opts.storage, dataDir);
  const running = await startApiServer({ dataDir, host, port, backend });
  const verbose = process.env.NAMI_LOG === 'debug';
  const log = (line: string) => {
    if (verbose) process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  };
  // Controllers are API clients like any other, here over loopback HTTPS.
  const client = new RestClient(loadKubeconfig(running.kubeconfigPath), 'nami-controller-manager');
  const namespaceController = new NamespaceController(client, log);
  await namespaceController.start();
  const ms = Date.now() - started;
  process.stdout.write(
    `Nami API server ready at ${running.url} in ${ms} ms (storage: ${backend.name})\n` +
      `  kubeconfig: ${running.kubeconfigPath}\n` +
      `  try: KUBECONFIG=${running.kubeconfigPath} kubectl get namespaces\n`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`received ${signal}, shutting down\n`);
    namespaceController.stop();
    client.close();
    void running
      .close()
      .then(() => backend.close())
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
