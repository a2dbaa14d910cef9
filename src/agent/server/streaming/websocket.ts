// remotecommand over WebSocket, as kubectl 1.30+ speaks it (and the API
// server's StreamTranslator): every message starts with its channel
// (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize); in v5 the message
// [255, channel] closes a channel (the client's stdin half-close). The
// subprotocol is the first the client offers that the server speaks.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { PassThrough, Writable } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { errorStreamMessage, protocolV1, protocolV2, protocolV3, protocolV4, protocolV5, type CommandOutcome, type RemoteCommandOptions, type RemoteCommandSession } from './remote-command.js';
import { ResizeDecoder, type TerminalSize } from './resize.js';

export const webSocketProtocols = [protocolV5, protocolV4, protocolV3, protocolV2, protocolV1];

export const channel = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/** True when the request asks to upgrade to a WebSocket. */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

/** The subprotocols the client offers (Sec-WebSocket-Protocol), in its order. */
export function offeredProtocols(req: IncomingMessage): string[] {
  const raw = req.headers['sec-websocket-protocol'];
  return (Array.isArray(raw) ? raw.join(',') : raw ?? '').split(',').map((p) => p.trim()).filter(Boolean);
}

/** The protocol to speak: the client's first that is one of ours. */
export function negotiateWebSocketProtocol(offered: Iterable<string>): string | undefined {
  for (const p of offered) if (webSocketProtocols.includes(p)) return p;
  return undefined;
}

/** A Writable that sends each chunk as one message on a channel. */
class ChannelWriter extends Writable {
  constructor(
    private readonly ws: WebSocket,
    private readonly id: number,
  ) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.ws.readyState !== this.ws.OPEN) {
      cb();
      return;
    }
    this.ws.send(Buffer.concat([Buffer.from([this.id]), chunk]), { binary: true }, () => cb());
  }
}

class WebSocketSession implements RemoteCommandSession {
  readonly stdin?: PassThrough;
  readonly stdout?: Writable;
  readonly stderr?: Writable;
  readonly closed: Promise<void>;
  private readonly resizes: ((size: TerminalSize) => void)[] = [];
  /** The latest size, for listeners that come later (the client sends the first one at once). */
  private size: TerminalSize | undefined;
  private readonly resize = new ResizeDecoder((size) => {
    this.size = size;
    for (const l of this.resizes) l(size);
  });

  constructor(
    private readonly ws: WebSocket,
    readonly protocol: string,
    opts: RemoteCommandOptions,
  ) {
    if (opts.stdin) this.stdin = new PassThrough();
    if (opts.stdout) this.stdout = new ChannelWriter(ws, channel.stdout);
    if (opts.stderr) this.stderr = new ChannelWriter(ws, channel.stderr);
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
    void this.closed.then(() => this.stdin?.end());
    ws.on('error', () => ws.terminate());
    // Text messages count as binary ones, as the kubelet's wsstream reads them: the Python client sends stdin as text.
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const msg = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (msg.length === 0) return;
      const id = msg[0]!;
      const body = msg.subarray(1);
      if (id === channel.stdin) {
        const stdin = this.stdin;
        if (stdin && !stdin.writableEnded && body.length && !stdin.write(body)) {
          // The command reads slower than the client sends (kubectl cp of a big file): stop reading the socket meanwhile.
          ws.pause();
          stdin.once('drain', () => ws.resume());
        }
      } else if (id === channel.resize) {
        this.resize.push(body);
      } else if (id === channel.close && protocol === protocolV5 && body[0] === channel.stdin) {
        this.stdin?.end();
      }
    });
  }

  onResize(listener: (size: TerminalSize) => void): void {
    this.resizes.push(listener);
    if (this.size) listener(this.size);
  }

  async finish(outcome: CommandOutcome): Promise<void> {
    const end = (w: Writable | undefined) => new Promise<void>((resolve) => (w ? w.end(() => resolve()) : resolve()));
    await Promise.all([end(this.stdout), end(this.stderr)]);
    const msg = errorStreamMessage(this.protocol, outcome);
    if (this.ws.readyState === this.ws.OPEN) {
      if (msg) this.ws.send(Buffer.concat([Buffer.from([channel.error]), msg]), { binary: true });
      this.ws.close(1000);
    }
  }
}

const server = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: (offered) => negotiateWebSocketProtocol(offered) ?? false });

/**
 * Completes a WebSocket upgrade and hands over the session (the caller checked
 * negotiateWebSocketProtocol first and answered 400 itself otherwise).
 */
export function acceptWebSocketRemoteCommand(req: IncomingMessage, socket: Duplex, head: Buffer, opts: RemoteCommandOptions): Promise<RemoteCommandSession> {
  return new Promise((resolve) => {
    server.handleUpgrade(req, socket, head, (ws) => resolve(new WebSocketSession(ws, ws.protocol, opts)));
  });
}
