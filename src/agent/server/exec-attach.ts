// The kubelet's exec and attach endpoints on the agent's HTTPS port:
//   /exec/<namespace>/<pod>/<container>?command=..&input=1&output=1&error=1&tty=1
//   /attach/<namespace>/<pod>/<container>?input=1&output=1&error=1&tty=1
// (the kubelet's /exec/<ns>/<pod>/<uid>/<container> form too). The request
// upgrades to a WebSocket (kubectl 1.30+) or SPDY/3.1; errors before the
// upgrade are plain-text HTTP answers, as the kubelet gives them, which the
// API server passes on to kubectl ("unable to upgrade connection: ...").
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ExecProcess, Runtime, RuntimeContainer } from '../runtime.js';
import { acceptSpdyRemoteCommand } from './streaming/spdy-remote-command.js';
import { isSpdyUpgrade } from './streaming/spdy.js';
import { remoteCommandOptions, RemoteCommandOptionsError, serveRemoteCommand, type RemoteCommandOptions, type RemoteCommandSession } from './streaming/remote-command.js';
import { acceptWebSocketRemoteCommand, isWebSocketUpgrade, negotiateWebSocketProtocol, offeredProtocols, webSocketProtocols } from './streaming/websocket.js';

export interface ExecAttachOptions {
  runtime: Runtime;
  log?: (line: string) => void;
  /** How long the client may take to open its SPDY streams (default 30 s). */
  streamCreationTimeoutMs?: number;
}

/** A refusal before the upgrade: answered as a plain-text HTTP error with this code. */
export class UpgradeError extends Error {
  override readonly name = 'UpgradeError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const reasons: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 500: 'Internal Server Error' };

/** Answers an upgrade request with a plain-text HTTP error and closes the connection. */
export function refuseUpgrade(socket: Duplex, code: number, message: string): void {
  const body = `${message}\n`;
  socket.end(`HTTP/1.1 ${code} ${reasons[code] ?? 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

export interface RemoteCommandTarget {
  kind: 'exec' | 'attach';
  namespace: string;
  pod: string;
  container: string;
}

/** The decoded segments of a path; undefined when one does not decode (a bad %-escape). */
export function pathParts(pathname: string): string[] | undefined {
  try {
    return pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

/** /exec/... or /attach/... as a target; undefined for other paths. */
export function remoteCommandTarget(pathname: string): RemoteCommandTarget | undefined {
  const parts = pathParts(pathname);
  const kind = parts?.[0];
  if (!parts) return undefined;
  if (kind !== 'exec' && kind !== 'attach') return undefined;
  if (parts.length === 4) return { kind, namespace: parts[1]!, pod: parts[2]!, container: parts[3]! };
  if (parts.length === 5) return { kind, namespace: parts[1]!, pod: parts[2]!, container: parts[4]! };
  return undefined;
}

/** The running container the request names, or the kubelet's error. */
async function runningContainer(runtime: Runtime, t: RemoteCommandTarget): Promise<{ uid: string; container: RuntimeContainer }> {
  const pods = (await runtime.listPods()).filter((p) => p.namespace === t.namespace && p.name === t.pod);
  if (pods.length === 0) throw new UpgradeError(404, 'pod does not exist');
  for (const pod of pods) {
    const container = pod.containers.find((c) => c.name === t.container && c.state === 'running');
    if (container) return { uid: pod.uid, container };
  }
  throw new UpgradeError(400, `container not found (${JSON.stringify(t.container)})`);
}

/** Validates the request, upgrades the connection and runs the session to its end. */
export async function serveExecAttachUpgrade(opts: ExecAttachOptions, t: RemoteCommandTarget, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const { runtime } = opts;
  const start = t.kind === 'exec' ? runtime.execStream?.bind(runtime) : runtime.attach?.bind(runtime);
  if (!start) throw new UpgradeError(400, `the ${runtime.type} runtime cannot ${t.kind}`);
  let ro: RemoteCommandOptions;
  try {
    ro = remoteCommandOptions(new URL(req.url ?? '/', 'https://agent.invalid').searchParams, t.kind === 'exec');
  } catch (e) {
    if (e instanceof RemoteCommandOptionsError) throw new UpgradeError(400, e.message);
    throw e;
  }
  const { uid, container } = await runningContainer(runtime, t);

  let session: RemoteCommandSession | undefined;
  if (isWebSocketUpgrade(req)) {
    const offered = offeredProtocols(req);
    if (!negotiateWebSocketProtocol(offered)) throw new UpgradeError(400, `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server supports [${webSocketProtocols.join(' ')}]`);
    session = await acceptWebSocketRemoteCommand(req, socket, head, ro);
  } else if (isSpdyUpgrade(req)) {
    session = await acceptSpdyRemoteCommand(req, socket, head, ro, opts.streamCreationTimeoutMs);
    if (!session) return;
  } else {
    throw new UpgradeError(400, 'Upgrade request required');
  }

  let proc: ExecProcess;
  try {
    proc = t.kind === 'exec' ? await runtime.execStream!(uid, container.id, ro.command, { stdin: ro.stdin, tty: ro.tty }) : await runtime.attach!(uid, container.id, { stdin: ro.stdin, tty: ro.tty });
  } catch (e) {
    await session.finish({ error: `error ${t.kind === 'exec' ? 'executing command in' : 'attaching to'} container: ${(e as Error).message}` });
    return;
  }
  const outcome = await serveRemoteCommand(session, proc);
  if ('error' in outcome) opts.log?.(`${t.kind} ${t.namespace}/${t.pod}/${t.container}: ${outcome.error}`);
}
