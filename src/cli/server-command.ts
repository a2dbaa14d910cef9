// `nami server` / `nami up`: start the control plane and keep it running until a signal.
import { join, resolve } from 'node:path';
import { openBackend } from '../storage/index.js';
import { startApiServer } from '../apiserver/start.js';
import { optionalAdmissionPlugins, type OptionalAdmissionPlugin } from '../apiserver/write-pipeline.js';
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { ControlPlaneWorkerData } from './control-plane-worker.js';
import { secondsFlag } from './flags.js';
import { loadTokenFile, type User } from '../apiserver/authn/index.js';
import { lowerHelperThreads } from './helper-threads.js';

export interface ServerCommandOptions {
  dataDir: string;
  listen: string;
  storage: string;
  /** Run the scheduler (on by default; --no-scheduler to run it elsewhere). */
  scheduler?: boolean;
  /** Run the controller manager (on by default; --no-controllers). */
  controllers?: boolean;
  /** `--token-auth-file`: static bearer tokens, a CSV file of token,user,uid[,"group1,group2"] lines. */
  tokenAuthFile?: string;
  /** `--disable-admission-plugins`: comma-separated plugins to switch off (ServiceAccount). */
  disableAdmissionPlugins?: string;
  /** Seconds a node may go unheard before it is marked Unknown (40). */
  nodeMonitorGracePeriod?: string;
  /** `--shutdown-delay-duration`: seconds to go on serving after SIGTERM, /readyz failing (0). */
  shutdownDelayDuration?: string;
  /** `nami up`: also run this machine as a node. */
  agent?: boolean;
  /** `nami up --runtime`: runc, process or fake (default: runc when it can run here, else process). */
  runtime?: string;
  /** `nami up --pod-cidr`: the node's pod range (10.244.0.0/24). */
  podCidr?: string;
  /** `nami up --bridge`: the node's pod bridge (nami0). */
  bridge?: string;
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen);
  if (!m) throw new Error(`--listen must be HOST:PORT (for example 127.0.0.1:6443), got "${listen}"`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port: Number(m[3]) };
}

/** --disable-admission-plugins: names kube-apiserver knows, of the plugins Nami can switch off. */
export function parseAdmissionPlugins(list: string): OptionalAdmissionPlugin[] {
  const names = list.split(',').map((n) => n.trim()).filter((n) => n !== '');
  for (const n of names) {
    if (!(optionalAdmissionPlugins as readonly string[]).includes(n)) throw new Error(`--disable-admission-plugins: unknown or required plugin "${n}" (Nami can switch off: ${optionalAdmissionPlugins.join(', ')})`);
  }
  return names as OptionalAdmissionPlugin[];
}

export async function runServer(opts: ServerCommandOptions): Promise<void> {
  const started = Date.now();
  // Before any worker starts: the threads there are now are Node's and V8's helpers.
  lowerHelperThreads();
  const dataDir = resolve(opts.dataDir);
  const { host, port } = parseListen(opts.listen);
  if (opts.runtime !== undefined) {
    const { parseRuntimeKind } = await import('./agent-command.js');
    parseRuntimeKind(opts.runtime);
  }
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new Error(`cannot create the data directory ${dataDir} (${(err as Error).message}): give a writable one with --data-dir or NAMI_DATA_DIR`);
  }
  const shutdownDelayMs = secondsFlag('--shutdown-delay-duration', opts.shutdownDelayDuration, true) ?? 0;
  const tokens = readTokens(opts.tokenAuthFile);
  const disableAdmissionPlugins = parseAdmissionPlugins(opts.disableAdmissionPlugins ?? '');
  const backend = await openBackend(opts.storage, dataDir);
  const running = await startApiServer({ dataDir, host, port, backend, ...(tokens ? { tokens } : {}), disableAdmissionPlugins });
  const verbose = process.env.NAMI_LOG === 'debug';
  const components = startComponentsWorker(running.kubeconfigPath, running.serviceAccountKeyPem, opts, verbose);
  const ms = Date.now() - started;
  process.stdout.write(
    `Nami API server ready at ${running.url} in ${ms} ms (storage: ${backend.name})\n` +
      `  kubeconfig: ${running.kubeconfigPath}\n` +
      `  try: KUBECONFIG=${running.kubeconfigPath} kubectl get namespaces\n`,
  );
  const agent = opts.agent ? await startUpAgent(running.kubeconfigPath, dataDir, opts) : undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`received ${signal}, shutting down${shutdownDelayMs > 0 ? ` in ${shutdownDelayMs / 1000}s (serving until then, /readyz failing)` : ''}\n`);
    running.beginShutdown();
    void new Promise((resolve) => setTimeout(resolve, shutdownDelayMs))
      .then(() => agent?.stop())
      .then(() => components?.stop())
      .then(() => running.close())
      .then(() => backend.close())
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/** The users of --token-auth-file, read before anything starts so a bad file stops the server at once; its warnings go to stderr. */
function readTokens(path: string | undefined): Map<string, User> | undefined {
  if (path === undefined) return undefined;
  const file = loadTokenFile(path);
  for (const warning of file.warnings) process.stderr.write(`nami: warning: ${warning}\n`);
  return file.tokens;
}

/** The scheduler and controllers on a worker thread; stop() lets them hand back their Leases first. */
function startComponentsWorker(kubeconfig: string, serviceAccountKeyPem: string, opts: ServerCommandOptions, verbose: boolean): { stop(): Promise<void> } | undefined {
  const scheduler = opts.scheduler ?? true;
  const controllers = opts.controllers ?? true;
  if (!scheduler && !controllers) return undefined;
  const data: ControlPlaneWorkerData = {
    kubeconfig,
    options: { scheduler, controllers, nodeMonitorGracePeriodMs: secondsFlag('--node-monitor-grace-period', opts.nodeMonitorGracePeriod), serviceAccountKeyPem },
    verbose,
  };
  const worker = new Worker(new URL('./control-plane-worker.js', import.meta.url), { workerData: data });
  worker.on('error', (err) => process.stderr.write(`nami: the scheduler and controllers stopped: ${err.message}\n`));
  worker.unref();
  return {
    async stop() {
      const stopped = new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.once('exit', () => resolve());
        setTimeout(resolve, 3000).unref();
      });
      worker.postMessage('stop');
      await stopped;
      await worker.terminate();
    },
  };
}

/**
 * The node of `nami up`: runc when this machine can run containers, else the process runtime (no
 * isolation), said loudly; `--runtime` chooses. A busybox image is built into its store at first start.
 */
async function startUpAgent(kubeconfig: string, dataDir: string, opts: ServerCommandOptions): Promise<{ stop(): Promise<void> }> {
  const chosen = opts.runtime;
  const { canRunContainers, parseRuntimeKind, processRuntimeWarning, startLocalAgent } = await import('./agent-command.js');
  const nodeDir = join(dataDir, 'node');
  const runtime = chosen !== undefined ? parseRuntimeKind(chosen) : canRunContainers() ? 'runc' : 'process';
  if (runtime !== 'fake') {
    const { ImageStore, buildBusyboxImage } = await import('../agent/images/index.js');
    const store = await ImageStore.open(join(nodeDir, 'images'));
    if (!(await store.list()).some((i) => i.reference === 'nami.dev/busybox:1') && existsSync('/bin/busybox')) {
      await buildBusyboxImage(store, {});
      // A tag other than latest: pods use it as present (imagePullPolicy IfNotPresent), with no registry to ask.
      await store.tag('nami.dev/busybox:latest', 'nami.dev/busybox:1');
    }
  }
  if (runtime === 'process') {
    const why = chosen === undefined ? 'not root, or runc is missing: this node runs the PROCESS runtime.\n  ' : '';
    process.stderr.write(`nami up: ${why}${processRuntimeWarning}`);
  } else if (runtime === 'fake') {
    process.stderr.write('nami up: WARNING: this node runs the FAKE runtime: pods are reported Running but nothing runs.\n');
  }
  const agent = await startLocalAgent({ kubeconfig, dataDir: nodeDir, runtime, podCidr: opts.podCidr, bridge: opts.bridge });
  process.stdout.write(`  node: ${agent.node} (runtime ${runtime})\n`);
  return agent;
}
