// The agent's HTTPS endpoint, as the kubelet's port 10250: the API server
// reaches it for `kubectl logs` (GET /containerLogs/<namespace>/<pod>/<container>)
// and for usage figures (GET /stats/summary, the Summary API, through the
// node proxy), and through connection upgrades for `kubectl exec`, `attach`,
// `cp` and `port-forward` (/exec/..., /attach/...: exec-attach.ts; /portForward/...).
// Only callers with a client certificate signed by the cluster CA get in
// (the kubelet's x509 authentication); anonymous requests get 401.
import { createServer, type Server } from 'node:https';
import { hostname } from 'node:os';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Runtime, RuntimeContainer, RuntimePod } from '../runtime.js';
import { streamContainerLog, type ContainerLogOptions } from './container-logs.js';
import { acceptPortForward } from './streaming/port-forward.js';
import { pathParts, refuseUpgrade, remoteCommandTarget, serveExecAttachUpgrade, UpgradeError } from './exec-attach.js';
import { StatsSummary } from './stats-summary.js';

export interface KubeletServerOptions {
  runtime: Runtime;
  /** The cluster CA: client certificates must be signed by it. */
  clientCaPem: string;
  /** The serving certificate and key. */
  certPem: string;
  keyPem: string;
  /** Listen address (default 0.0.0.0). */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  log?: (line: string) => void;
  /** How long exec and attach clients may take to open their SPDY streams (default 30 s, the kubelet's). */
  streamCreationTimeoutMs?: number;
  /** The node's name, for /stats/summary (default: the host name). */
  nodeName?: string;
  /** A path on the node's file system (the agent's data dir), for the file system figures of /stats/summary. */
  fsPath?: string;
}

export interface RunningKubeletServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === 'true' || v === '1';
}

function intParam(q: URLSearchParams, name: string, min: number): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new HttpError(400, `${name}: invalid value ${JSON.stringify(v)}`);
  return n;
}

/** The pod the runtime knows by namespace and name: the newest when a deleted one lingers. */
function findPod(pods: RuntimePod[], namespace: string, name: string): RuntimePod | undefined {
  const matching = pods.filter((p) => p.namespace === namespace && p.name === name);
  matching.sort((a, b) => (b.sandbox?.state === 'ready' ? 1 : 0) - (a.sandbox?.state === 'ready' ? 1 : 0) || (b.sandbox?.createdAt ?? 0) - (a.sandbox?.createdAt ?? 0));
  return matching[0];
}

const live = (c: RuntimeContainer | undefined) => c?.state === 'running' || c?.state === 'created';

async function serveContainerLogs(opts: KubeletServerOptions, req: IncomingMessage, res: ServerResponse, namespace: string, podName: string, container: string, q: URLSearchParams): Promise<void> {
  const logPath = opts.runtime.containerLogPath?.bind(opts.runtime);
  if (!logPath) throw new HttpError(400, `the ${opts.runtime.type} runtime keeps no container logs`);
  const pod = findPod(await opts.runtime.listPods(), namespace, podName);
  if (!pod) throw new HttpError(404, `pod "${podName}" does not exist`);
  const runs = pod.containers.filter((c) => c.name === container).sort((a, b) => b.attempt - a.attempt);
  const previous = boolParam(q, 'previous');
  const run = previous ? runs[1] : runs[0];
  if (!run) {
    if (previous) throw new HttpError(400, `previous terminated container "${container}" in pod "${podName}" not found`);
    throw new HttpError(400, `container "${container}" in pod "${podName}" is waiting to start: ContainerCreating`);
  }
  const logOpts: ContainerLogOptions = {
    tailLines: intParam(q, 'tailLines', 0),
    limitBytes: intParam(q, 'limitBytes', 1),
    timestamps: boolParam(q, 'timestamps'),
    follow: boolParam(q, 'follow') && !previous,
  };
  const sinceSeconds = intParam(q, 'sinceSeconds', 1);
  const sinceTime = q.get('sinceTime');
  if (sinceSeconds !== undefined) logOpts.sinceMs = Date.now() - sinceSeconds * 1000;
  else if (sinceTime) {
    const ms = Date.parse(sinceTime);
    if (Number.isNaN(ms)) throw new HttpError(400, `sinceTime: invalid value ${JSON.stringify(sinceTime)}`);
    logOpts.sinceMs = ms;
  }
  logOpts.stillRunning = async () => live((await opts.runtime.podStatus(pod.uid))?.containers.find((c) => c.name === container && c.attempt === run.attempt));
  let closed = false;
  res.on('close', () => (closed = true));
  req.on('close', () => (closed = true));
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
  if (logOpts.follow) res.flushHeaders();
  try {
    await streamContainerLog(logPath(pod.uid, container, run.attempt), logOpts, {
      write: (text) => res.write(text),
      closed: () => closed || res.destroyed,
    });
  } finally {
    res.end();
  }
}

const summaries = new WeakMap<KubeletServerOptions, StatsSummary>();

/** One Summary builder per server: it keeps the previous cpu readings that rates need. */
function stats(opts: KubeletServerOptions): StatsSummary {
  let s = summaries.get(opts);
  if (!s) {
    s = new StatsSummary({ nodeName: opts.nodeName ?? hostname(), runtime: opts.runtime, fsPath: opts.fsPath });
    summaries.set(opts, s);
  }
  return s;
}

async function handle(opts: KubeletServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const socket = req.socket as TLSSocket;
  if (!socket.authorized) throw new HttpError(401, 'Unauthorized');
  const url = new URL(req.url ?? '/', 'https://agent.invalid');
  // exec and attach need a connection upgrade (the 'upgrade' event); plain requests are told so.
  if (remoteCommandTarget(url.pathname) || portForwardTarget(url.pathname)) throw new HttpError(400, 'Upgrade request required');
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'Method Not Allowed');
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (url.pathname === '/healthz') {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('ok');
    return;
  }
  if (parts[0] === 'containerLogs' && parts.length === 4) return serveContainerLogs(opts, req, res, parts[1]!, parts[2]!, parts[3]!, url.searchParams);
  if (url.pathname === '/stats/summary' || url.pathname === '/stats/summary/') {
    const summary = await stats(opts).summary(boolParam(url.searchParams, 'only_cpu_and_memory'));
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(summary));
    return;
  }
  throw new HttpError(404, '404 page not found');
}

/** /portForward/<namespace>/<pod> (or the kubelet's /portForward/<namespace>/<pod>/<uid>). */
function portForwardTarget(pathname: string): { namespace: string; pod: string } | undefined {
  const parts = pathParts(pathname);
  if (!parts || parts[0] !== 'portForward' || (parts.length !== 3 && parts.length !== 4)) return undefined;
  return { namespace: parts[1]!, pod: parts[2]! };
}

async function servePortForwardUpgrade(opts: KubeletServerOptions, t: { namespace: string; pod: string }, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const runtime = opts.runtime;
  if (!runtime.portForward) throw new UpgradeError(400, `the ${runtime.type} runtime cannot port-forward`);
  const pod = findPod(await runtime.listPods(), t.namespace, t.pod);
  if (!pod) throw new UpgradeError(404, 'pod does not exist');
  acceptPortForward(req, socket, head, { name: t.pod, uid: pod.uid, connect: (port) => runtime.portForward!(pod.uid, port) }, { log: opts.log, streamCreationTimeoutMs: opts.streamCreationTimeoutMs });
}

/** Upgrade requests: exec, attach and port-forward; anything else is refused before upgrading. */
function handleUpgrade(opts: KubeletServerOptions, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  socket.on('error', () => socket.destroy());
  const run = async () => {
    if (!(socket as TLSSocket).authorized) throw new UpgradeError(401, 'Unauthorized');
    const pathname = new URL(req.url ?? '/', 'https://agent.invalid').pathname;
    const forward = portForwardTarget(pathname);
    if (forward) return servePortForwardUpgrade(opts, forward, req, socket, head);
    const target = remoteCommandTarget(pathname);
    if (!target) throw new UpgradeError(404, '404 page not found');
    if (req.method !== 'GET' && req.method !== 'POST') throw new UpgradeError(405, 'Method Not Allowed');
    await serveExecAttachUpgrade({ runtime: opts.runtime, log: opts.log, streamCreationTimeoutMs: opts.streamCreationTimeoutMs }, target, req, socket, head);
  };
  run().catch((err: unknown) => {
    if (err instanceof UpgradeError) {
      refuseUpgrade(socket, err.code, err.message);
      return;
    }
    opts.log?.(`${req.url?.split('?')[0] ?? ''}: ${(err as Error).message}`);
    socket.destroy();
  });
}

export async function startKubeletServer(opts: KubeletServerOptions): Promise<RunningKubeletServer> {
  const server = createServer({ cert: opts.certPem, key: opts.keyPem, ca: opts.clientCaPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    handle(opts, req, res).catch((err: unknown) => {
      const code = err instanceof HttpError ? err.code : 500;
      if (!(err instanceof HttpError)) opts.log?.(`${req.url ?? ''}: ${(err as Error).message}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`${(err as Error).message}\n`);
    });
  });
  // Upgraded connections are not the server's any more: close() ends them itself.
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    handleUpgrade(opts, req, socket, head);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    server,
    port,
    async close() {
      server.closeAllConnections();
      for (const s of upgraded) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
