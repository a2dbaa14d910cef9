// Kubernetes' remotecommand (exec and attach) independent of the transport:
// the options a request carries, the session a transport (websocket.ts,
// spdy-remote-command.ts) hands over once its streams are there, what the error
// stream says at the end in each protocol version, and the glue between a
// session and a running command.
//
// Protocol versions (k8s.io/apimachinery/pkg/util/remotecommand):
//   channel.k8s.io     v1: the error stream carries a failure as text
//   v2.channel.k8s.io  v2: as v1, stdin half-close fixed
//   v3.channel.k8s.io  v3: adds the resize stream
//   v4.channel.k8s.io  v4: the error stream carries a metav1.Status (exit codes)
//   v5.channel.k8s.io  v5 (WebSocket only): adds the close message for stdin
import type { Readable, Writable } from 'node:stream';
import type { ExecProcess } from '../../runtime.js';
import type { TerminalSize } from './resize.js';

export const protocolV1 = 'channel.k8s.io';
export const protocolV2 = 'v2.channel.k8s.io';
export const protocolV3 = 'v3.channel.k8s.io';
export const protocolV4 = 'v4.channel.k8s.io';
export const protocolV5 = 'v5.channel.k8s.io';

/** What kubectl asks for: the query of /exec/... and /attach/... */
export interface RemoteCommandOptions {
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export class RemoteCommandOptionsError extends Error {
  override readonly name = 'RemoteCommandOptionsError';
}

function flag(q: URLSearchParams, kubeletName: string, apiName: string): boolean {
  const v = q.get(kubeletName) ?? q.get(apiName);
  return v === '1' || v === 'true';
}

/**
 * The kubelet's names (input, output, error, tty; the API server sends "1"),
 * or the API's (stdin, stdout, stderr; "true"). A terminal merges stderr into
 * stdout, so stderr is dropped with tty, as the kubelet does.
 */
export function remoteCommandOptions(q: URLSearchParams, requireCommand: boolean): RemoteCommandOptions {
  const tty = flag(q, 'tty', 'tty');
  const opts: RemoteCommandOptions = {
    command: q.getAll('command'),
    stdin: flag(q, 'input', 'stdin'),
    stdout: flag(q, 'output', 'stdout'),
    stderr: flag(q, 'error', 'stderr') && !tty,
    tty,
  };
  if (!opts.stdin && !opts.stdout && !opts.stderr) throw new RemoteCommandOptionsError('you must specify at least 1 of stdin, stdout, stderr');
  if (requireCommand && opts.command.length === 0) throw new RemoteCommandOptionsError('you must specify at least one command for the container');
  return opts;
}

/** How the command ended: an exit code, or an error that kept it from running (the kubelet's InternalError). */
export type CommandOutcome = { exitCode: number } | { error: string };

/** The error stream's content at the end for this protocol version; undefined when nothing is written. */
export function errorStreamMessage(protocol: string, outcome: CommandOutcome): Buffer | undefined {
  const modern = protocol === protocolV4 || protocol === protocolV5;
  if ('error' in outcome) {
    const message = `Internal error occurred: ${outcome.error}`;
    if (!modern) return Buffer.from(message);
    return Buffer.from(JSON.stringify({ metadata: {}, status: 'Failure', message, reason: 'InternalError', details: { causes: [{ message: outcome.error }] }, code: 500 }));
  }
  const code = outcome.exitCode;
  if (code === 0) return modern ? Buffer.from(JSON.stringify({ metadata: {}, status: 'Success' })) : undefined;
  const message = `command terminated with non-zero exit code: exit status ${code}`;
  if (!modern) return Buffer.from(message);
  return Buffer.from(
    JSON.stringify({
      metadata: {},
      status: 'Failure',
      message,
      reason: 'NonZeroExitCode',
      // client-go parses the cause as a uint8.
      details: { causes: [{ reason: 'ExitCode', message: String(code & 0xff) }] },
    }),
  );
}

/** A client connection whose streams are all there, independent of the transport. */
export interface RemoteCommandSession {
  readonly protocol: string;
  /** The client's stdin; ends when the client closes it (or goes away). */
  readonly stdin?: Readable;
  readonly stdout?: Writable;
  readonly stderr?: Writable;
  onResize(listener: (size: TerminalSize) => void): void;
  /** Ends stdout and stderr, writes the outcome on the error stream and closes the connection. */
  finish(outcome: CommandOutcome): Promise<void>;
  /** Resolves when the connection is gone (the client left, or finish closed it). */
  readonly closed: Promise<void>;
}

/** Resolves once `source` ended (or failed), having written all of it to `sink` (or dropped it without one). */
function forward(source: Readable | undefined, sink: Writable | undefined): Promise<void> {
  if (!source) return Promise.resolve();
  return new Promise((resolve) => {
    source.once('end', resolve);
    source.once('error', () => resolve());
    source.once('close', () => resolve());
    if (sink) {
      sink.on('error', () => source.unpipe(sink));
      source.pipe(sink, { end: false });
    } else source.resume();
  });
}

/**
 * Connects a session to a started command (exec) or attachment (attach):
 * stdin, output and resizes flow until it ends, then the session finishes
 * with its outcome. A client that goes away ends the command.
 */
export async function serveRemoteCommand(session: RemoteCommandSession, proc: ExecProcess): Promise<CommandOutcome> {
  const stdin = session.stdin;
  if (stdin) {
    if (proc.stdin) {
      const target = proc.stdin;
      target.on('error', () => stdin.unpipe(target));
      stdin.pipe(target);
    } else stdin.resume();
  }
  session.onResize((size) => proc.resize(size.width, size.height));
  let gone = false;
  void session.closed.then(() => {
    gone = true;
    proc.kill();
  });
  const output = Promise.all([forward(proc.stdout, session.stdout), forward(proc.stderr, session.stderr)]);
  let outcome: CommandOutcome;
  try {
    outcome = { exitCode: await proc.exited };
  } catch (e) {
    outcome = { error: `error executing command in container: ${(e as Error).message}` };
  }
  await output;
  if (!gone) await session.finish(outcome);
  return outcome;
}
