// remotecommand over SPDY/3.1, as kubectl up to 1.29 speaks it (and 1.30+
// when the WebSocket upgrade fails): the client opens one stream per channel,
// named by its `streamType` header (error, stdin, stdout, stderr, resize). The
// server accepts every stream, waits until the ones the request asks for are
// there (the kubelet waits up to 30 s), then runs the command; at the end it
// writes the outcome on the error stream and closes the session.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { acceptSpdyUpgrade, type SpdySession, type SpdyStream } from './spdy.js';
import { errorStreamMessage, protocolV1, protocolV2, protocolV3, protocolV4, type CommandOutcome, type RemoteCommandOptions, type RemoteCommandSession } from './remote-command.js';
import { ResizeDecoder, type TerminalSize } from './resize.js';

export const spdyProtocols = [protocolV4, protocolV3, protocolV2, protocolV1];

/** The kubelet's streamCreationTimeout. */
export const defaultStreamCreationTimeoutMs = 30_000;

export class StreamCreationTimeoutError extends Error {
  override readonly name = 'StreamCreationTimeoutError';
}

/** The stream types a request needs before the command runs. */
export function expectedStreamTypes(protocol: string, opts: RemoteCommandOptions): string[] {
  const types = ['error'];
  if (opts.stdin) types.push('stdin');
  if (opts.stdout) types.push('stdout');
  if (opts.stderr) types.push('stderr');
  if (opts.tty && (protocol === protocolV3 || protocol === protocolV4)) types.push('resize');
  return types;
}

class SpdyRemoteCommandSession implements RemoteCommandSession {
  readonly closed: Promise<void>;
  private readonly resizes: ((size: TerminalSize) => void)[] = [];
  /** The latest size, for listeners that come later (the client sends the first one at once). */
  private size: TerminalSize | undefined;

  constructor(
    private readonly session: SpdySession,
    readonly protocol: string,
    private readonly streams: Map<string, SpdyStream>,
  ) {
    this.closed = new Promise((resolve) => session.once('close', () => resolve()));
    const resize = streams.get('resize');
    if (resize) {
      const decoder = new ResizeDecoder((size) => {
        this.size = size;
        for (const l of this.resizes) l(size);
      });
      resize.on('data', (c: Buffer) => decoder.push(c));
    }
    for (const s of streams.values()) s.on('error', () => {});
  }

  get stdin(): SpdyStream | undefined {
    return this.streams.get('stdin');
  }
  get stdout(): SpdyStream | undefined {
    return this.streams.get('stdout');
  }
  get stderr(): SpdyStream | undefined {
    return this.streams.get('stderr');
  }

  onResize(listener: (size: TerminalSize) => void): void {
    this.resizes.push(listener);
    if (this.size) listener(this.size);
  }

  async finish(outcome: CommandOutcome): Promise<void> {
    const end = (s: SpdyStream | undefined) => new Promise<void>((resolve) => (s && !s.writableEnded ? s.end(() => resolve()) : resolve()));
    await Promise.all([end(this.stdout), end(this.stderr)]);
    const error = this.streams.get('error');
    const msg = errorStreamMessage(this.protocol, outcome);
    if (error && msg) error.write(msg);
    await end(error);
    this.session.close();
  }
}

/**
 * Accepts the SPDY upgrade and resolves once the streams the options need are
 * open; undefined when the upgrade was refused (answered already). Rejects with
 * StreamCreationTimeoutError (session closed) when they do not come in time.
 */
export async function acceptSpdyRemoteCommand(req: IncomingMessage, socket: Duplex, head: Buffer, opts: RemoteCommandOptions, timeoutMs = defaultStreamCreationTimeoutMs): Promise<RemoteCommandSession | undefined> {
  const accepted = acceptSpdyUpgrade(req, socket, head, spdyProtocols);
  if (!accepted) return undefined;
  const { session, protocol } = accepted;
  session.on('error', () => session.destroy());
  const expected = expectedStreamTypes(protocol, opts);
  const streams = new Map<string, SpdyStream>();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      session.destroy();
      reject(new StreamCreationTimeoutError(`timed out waiting for client to create streams (have ${[...streams.keys()].join(', ') || 'none'}, need ${expected.join(', ')})`));
    }, timeoutMs);
    const onClose = () => {
      clearTimeout(timer);
      reject(new StreamCreationTimeoutError('the client went away before creating its streams'));
    };
    session.once('close', onClose);
    session.on('stream', (stream: SpdyStream) => {
      stream.reply({});
      const type = stream.headers.streamtype ?? '';
      if (!expected.includes(type) || streams.has(type)) {
        // Not asked for (stdin without stdin=1 ...): drained and left alone, as the kubelet does.
        stream.resume();
        return;
      }
      streams.set(type, stream);
      if (expected.every((t) => streams.has(t))) {
        clearTimeout(timer);
        session.off('close', onClose);
        resolve(new SpdyRemoteCommandSession(session, protocol, streams));
      }
    });
  });
}
