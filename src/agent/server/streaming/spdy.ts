// SPDY/3.1 framing, the transport kubectl (through client-go's spdystream)
// uses for exec, attach and port-forward up to 1.29/1.30, and tunnels inside
// WebSocket messages for port-forward from 1.31. The `spdy` npm package
// cannot serve it (it expects HTTP requests in streams; kubectl's streams
// carry only a `streamtype` or `port` header), so this is Nami's own small
// codec: frames, the zlib-compressed header blocks with SPDY/3's fixed
// dictionary, streams as Node Duplexes, PING replies, RST_STREAM and GOAWAY.
//
// Flow control: spdystream neither sends nor honours WINDOW_UPDATE, so this
// codec sends none and ignores any it gets; back-pressure is TCP's (the
// socket is paused while a stream's reader lags behind).
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { Duplex } from 'node:stream';
import zlib from 'node:zlib';
import { headerDictionary } from './spdy-dictionary.js';

const VERSION = 3;

export const FrameType = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
} as const;

const FLAG_FIN = 0x01;
const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes. */
export const RstStatus = { PROTOCOL_ERROR: 1, INVALID_STREAM: 2, REFUSED_STREAM: 3, UNSUPPORTED_VERSION: 4, CANCEL: 5, INTERNAL_ERROR: 6 } as const;

/** Largest DATA payload this codec writes in one frame. */
const MAX_DATA_CHUNK = 32 * 1024;
/** Largest header block it accepts, compressed or not. */
const MAX_HEADER_BLOCK = 256 * 1024;

export class SpdyProtocolError extends Error {
  override readonly name = 'SpdyProtocolError';
}

/** One header compression context (a session has one per direction). */
class HeaderZlib {
  private readonly engine: zlib.Deflate | zlib.Inflate;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(kind: 'deflate' | 'inflate') {
    this.engine = kind === 'deflate' ? zlib.createDeflate({ dictionary: headerDictionary, level: 9 }) : zlib.createInflate({ dictionary: headerDictionary, maxOutputLength: MAX_HEADER_BLOCK });
  }

  /** Runs one block through the shared stream with a sync flush; calls are serialized so blocks keep their order. */
  process(input: Buffer): Promise<Buffer> {
    const next = this.chain.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          const chunks: Buffer[] = [];
          const onData = (c: Buffer) => chunks.push(c);
          const onError = (e: Error) => {
            this.engine.off('data', onData);
            reject(e);
          };
          this.engine.on('data', onData);
          this.engine.once('error', onError);
          this.engine.write(input);
          this.engine.flush(zlib.constants.Z_SYNC_FLUSH, () => {
            this.engine.off('data', onData);
            this.engine.off('error', onError);
            resolve(Buffer.concat(chunks));
          });
        }),
    );
    this.chain = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.engine.close();
  }
}

/** Encodes a header block: count, then length-prefixed names (lower case) and values (several joined by NUL). */
export function encodeHeaderBlock(headers: Record<string, string | string[]>): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const entries = Object.entries(headers);
  parts.push(u32(entries.length));
  for (const [name, value] of entries) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(Array.isArray(value) ? value.join('\0') : value, 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

/** Decodes a header block; several values of one name come back joined by ", " (as Node joins HTTP headers). */
export function decodeHeaderBlock(block: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  const u32 = () => {
    if (pos + 4 > block.length) throw new SpdyProtocolError('truncated header block');
    const n = block.readUInt32BE(pos);
    pos += 4;
    return n;
  };
  const str = (len: number) => {
    if (pos + len > block.length) throw new SpdyProtocolError('truncated header block');
    const s = block.toString('utf8', pos, pos + len);
    pos += len;
    return s;
  };
  const count = u32();
  for (let i = 0; i < count; i++) {
    const name = str(u32());
    const value = str(u32());
    if (!name) throw new SpdyProtocolError('empty header name');
    if (name !== name.toLowerCase()) throw new SpdyProtocolError(`header ${JSON.stringify(name)} is not lower case`);
    if (name in out) throw new SpdyProtocolError(`header ${JSON.stringify(name)} appears twice`);
    out[name] = value.split('\0').join(', ');
  }
  return out;
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  return Buffer.concat([head, payload]);
}

function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE(((flags & 0xff) << 24) | data.length, 4);
  return Buffer.concat([head, data]);
}

function u32s(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

/** One SPDY stream: readable side = the peer's DATA (ends on its FIN), writable side = our DATA (end() sends FIN). */
export class SpdyStream extends Duplex {
  /** True once we sent a FIN or reset. */
  localClosed = false;
  /** True once the peer sent a FIN or reset. */
  remoteClosed = false;
  private replied = false;
  private wasReset = false;

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    readonly headers: Record<string, string>,
  ) {
    super({ allowHalfOpen: true });
  }

  /** SYN_REPLY: accepts a stream the peer opened. Call once, before writing. */
  reply(headers: Record<string, string> = {}, fin = false): void {
    if (this.replied) return;
    this.replied = true;
    this.session.sendHeaders(FrameType.SYN_REPLY, fin ? FLAG_FIN : 0, this.id, headers);
    if (fin) this.markLocalClosed();
  }

  /** RST_STREAM: abandons the stream in both directions. */
  reset(status: number = RstStatus.CANCEL): void {
    if (this.wasReset) return;
    this.wasReset = true;
    if (!(this.localClosed && this.remoteClosed)) this.session.sendFrame(controlFrame(FrameType.RST_STREAM, 0, u32s(this.id, status)));
    this.onReset();
  }

  /** True when the peer reset the stream or we did. */
  get isReset(): boolean {
    return this.wasReset;
  }

  /** @internal DATA from the peer. */
  receive(data: Buffer, fin: boolean): void {
    if (this.remoteClosed) return;
    if (data.length && !this.push(data)) this.session.pauseFor(this);
    if (fin) {
      this.remoteClosed = true;
      this.push(null);
      this.session.maybeForget(this);
    }
  }

  /** @internal The peer reset the stream, or the session went away. */
  onReset(): void {
    this.wasReset = true;
    if (!this.remoteClosed) {
      this.remoteClosed = true;
      this.push(null);
    }
    this.markLocalClosed();
  }

  private markLocalClosed(): void {
    this.localClosed = true;
    this.session.maybeForget(this);
  }

  override _read(): void {
    this.session.resumeFor(this);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.localClosed) {
      cb(this.wasReset ? null : new Error(`write on closed SPDY stream ${this.id}`));
      return;
    }
    this.reply();
    let ok = true;
    for (let off = 0; off < chunk.length; off += MAX_DATA_CHUNK) ok = this.session.sendFrame(dataFrame(this.id, 0, chunk.subarray(off, off + MAX_DATA_CHUNK)));
    if (ok) cb();
    else this.session.afterDrain(() => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.localClosed) {
      this.reply();
      this.session.sendFrame(dataFrame(this.id, FLAG_FIN, Buffer.alloc(0)));
      this.markLocalClosed();
    }
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!(this.localClosed && this.remoteClosed)) this.reset(RstStatus.CANCEL);
    cb(err);
  }
}

export interface SpdySessionOptions {
  /** The server side opens even-numbered streams, the client odd ones. */
  server: boolean;
}

/**
 * A SPDY/3.1 session over a byte stream (a socket after an HTTP upgrade, or a
 * WebSocket as a stream). Events: 'stream' (a stream the peer opened),
 * 'goaway', 'error' (protocol errors; the session is closed), 'close'.
 */
export class SpdySession extends EventEmitter {
  private readonly streams = new Map<number, SpdyStream>();
  private readonly deflate = new HeaderZlib('deflate');
  private readonly inflate = new HeaderZlib('inflate');
  private nextStreamId: number;
  private lastPeerStreamId = 0;
  private buffered: Buffer = Buffer.alloc(0);
  /** Incoming frames are handled one at a time: a header block inflates asynchronously, and DATA behind it must wait. */
  private incoming: Promise<void> = Promise.resolve();
  /** Outgoing frames leave in order, header blocks included. */
  private outgoing: Promise<void> = Promise.resolve();
  private readonly paused = new Set<SpdyStream>();
  /** PINGs this side sent, by id, until their echo comes. */
  private readonly pendingPings = new Map<number, () => void>();
  private closed = false;
  private goneAway = false;

  constructor(
    private readonly socket: Duplex,
    opts: SpdySessionOptions,
  ) {
    super();
    this.nextStreamId = opts.server ? 2 : 1;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // Frames that arrived before the end are handled first (the peer may send its last DATA and close at once).
    socket.on('end', () => (this.incoming = this.incoming.then(() => this.teardown())));
    socket.on('close', () => (this.incoming = this.incoming.then(() => this.teardown())));
    socket.on('error', () => this.teardown());
  }

  /** Feeds bytes that arrived with the upgrade request. */
  feed(chunk: Buffer): void {
    if (chunk.length) this.onData(chunk);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Opens a stream from this side (SYN_STREAM). */
  openStream(headers: Record<string, string>, fin = false): SpdyStream {
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const stream = new SpdyStream(this, id, { ...headers });
    this.streams.set(id, stream);
    this.sendHeaders(FrameType.SYN_STREAM, fin ? FLAG_FIN : 0, id, headers);
    if (fin) stream.localClosed = true;
    return stream;
  }

  /** Sends a PING (ids from the server are even, from the client odd) and resolves on the echo. */
  ping(id: number): Promise<void> {
    return new Promise((resolve) => {
      this.pendingPings.set(id, resolve);
      this.sendFrame(controlFrame(FrameType.PING, 0, u32s(id)));
    });
  }

  /** GOAWAY, then the socket ends once everything queued is written. */
  close(): void {
    if (this.closed) return;
    if (!this.goneAway) {
      this.goneAway = true;
      this.sendFrame(controlFrame(FrameType.GOAWAY, 0, u32s(this.lastPeerStreamId, 0)));
    }
    this.outgoing = this.outgoing.then(() => {
      this.socket.end();
    });
  }

  /** Tears the session down at once (socket destroyed, streams reset). */
  destroy(): void {
    this.socket.destroy();
    this.teardown();
  }

  /** @internal */
  sendFrame(frame: Buffer): boolean {
    if (this.closed) return true;
    this.outgoing = this.outgoing.then(() => {
      if (!this.closed && !this.socket.destroyed && this.socket.writable) this.socket.write(frame);
    });
    // The write happens on a later microtask (after queued header blocks): report the socket's back-pressure as it is now.
    return !this.socket.writableNeedDrain;
  }

  /** @internal SYN_STREAM, SYN_REPLY or HEADERS with a compressed header block. */
  sendHeaders(type: number, flags: number, streamId: number, headers: Record<string, string>): void {
    if (this.closed) return;
    const compressed = this.deflate.process(encodeHeaderBlock(headers));
    this.outgoing = this.outgoing.then(async () => {
      let block: Buffer;
      try {
        block = await compressed;
      } catch (e) {
        this.fail(e as Error);
        return;
      }
      const prefix = type === FrameType.SYN_STREAM ? Buffer.concat([u32s(streamId, 0), Buffer.from([0, 0])]) : u32s(streamId);
      if (!this.closed && this.socket.writable) this.socket.write(controlFrame(type, flags, Buffer.concat([prefix, block])));
    });
  }

  /** @internal Calls back once queued frames are written and the socket drained. */
  afterDrain(cb: () => void): void {
    this.outgoing = this.outgoing.then(() => {
      if (this.closed || !this.socket.writableNeedDrain) cb();
      else {
        const done = () => {
          this.socket.off('drain', done);
          this.socket.off('close', done);
          cb();
        };
        this.socket.on('drain', done);
        this.socket.on('close', done);
      }
    });
  }

  /** @internal A stream's reader fell behind: stop reading the socket until it catches up. */
  pauseFor(stream: SpdyStream): void {
    this.paused.add(stream);
    this.socket.pause();
  }

  /** @internal */
  resumeFor(stream: SpdyStream): void {
    if (this.paused.delete(stream) && this.paused.size === 0 && !this.closed) this.socket.resume();
  }

  /** @internal Drops a stream closed in both directions. */
  maybeForget(stream: SpdyStream): void {
    if (stream.localClosed && stream.remoteClosed) {
      this.streams.delete(stream.id);
      this.resumeFor(stream);
    }
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    while (this.buffered.length >= 8) {
      const length = this.buffered.readUInt32BE(4) & 0xffffff;
      if (this.buffered.length < 8 + length) break;
      const frame = this.buffered.subarray(0, 8 + length);
      this.buffered = this.buffered.subarray(8 + length);
      this.incoming = this.incoming.then(() => this.handleFrame(frame)).catch((e: unknown) => this.fail(e as Error));
    }
  }

  private async handleFrame(frame: Buffer): Promise<void> {
    if (this.closed) return;
    const flags = frame[4]!;
    const payload = frame.subarray(8);
    if ((frame[0]! & 0x80) === 0) {
      const id = frame.readUInt32BE(0) & 0x7fffffff;
      const stream = this.streams.get(id);
      if (!stream) {
        if (id !== 0) this.sendFrame(controlFrame(FrameType.RST_STREAM, 0, u32s(id, RstStatus.INVALID_STREAM)));
        return;
      }
      stream.receive(Buffer.from(payload), (flags & FLAG_FIN) !== 0);
      return;
    }
    const version = frame.readUInt16BE(0) & 0x7fff;
    const type = frame.readUInt16BE(2);
    if (version !== VERSION) throw new SpdyProtocolError(`SPDY version ${version} is not supported (only ${VERSION})`);
    switch (type) {
      case FrameType.SYN_STREAM: {
        if (payload.length < 10) throw new SpdyProtocolError('short SYN_STREAM');
        const id = payload.readUInt32BE(0) & 0x7fffffff;
        const headers = await this.readHeaders(payload.subarray(10));
        if (id === 0 || id <= this.lastPeerStreamId || this.streams.has(id) || this.goneAway) {
          this.sendFrame(controlFrame(FrameType.RST_STREAM, 0, u32s(id, this.goneAway ? RstStatus.REFUSED_STREAM : RstStatus.PROTOCOL_ERROR)));
          return;
        }
        this.lastPeerStreamId = id;
        const stream = new SpdyStream(this, id, headers);
        this.streams.set(id, stream);
        if (flags & FLAG_UNIDIRECTIONAL) stream.localClosed = true;
        this.emit('stream', stream);
        if (flags & FLAG_FIN) stream.receive(Buffer.alloc(0), true);
        return;
      }
      case FrameType.SYN_REPLY:
      case FrameType.HEADERS: {
        if (payload.length < 4) throw new SpdyProtocolError('short header frame');
        const id = payload.readUInt32BE(0) & 0x7fffffff;
        const headers = await this.readHeaders(payload.subarray(4));
        const stream = this.streams.get(id);
        if (!stream) return;
        Object.assign(stream.headers, headers);
        if (type === FrameType.SYN_REPLY) stream.emit('reply', headers);
        if (flags & FLAG_FIN) stream.receive(Buffer.alloc(0), true);
        return;
      }
      case FrameType.RST_STREAM: {
        if (payload.length < 8) throw new SpdyProtocolError('short RST_STREAM');
        const stream = this.streams.get(payload.readUInt32BE(0) & 0x7fffffff);
        if (stream) {
          stream.onReset();
          stream.emit('reset', payload.readUInt32BE(4));
        }
        return;
      }
      case FrameType.PING: {
        if (payload.length < 4) throw new SpdyProtocolError('short PING');
        const id = payload.readUInt32BE(0);
        const mine = this.pendingPings.get(id);
        if (mine) {
          this.pendingPings.delete(id);
          mine();
        } else this.sendFrame(controlFrame(FrameType.PING, 0, u32s(id)));
        return;
      }
      case FrameType.GOAWAY:
        this.goneAway = true;
        this.emit('goaway');
        return;
      case FrameType.SETTINGS:
      case FrameType.WINDOW_UPDATE:
        return;
      default:
        return; // unknown control frames are ignored, as the spec asks
    }
  }

  private async readHeaders(compressed: Buffer): Promise<Record<string, string>> {
    if (compressed.length > MAX_HEADER_BLOCK) throw new SpdyProtocolError('header block too large');
    if (compressed.length === 0) return {};
    let block: Buffer;
    try {
      block = await this.inflate.process(Buffer.from(compressed));
    } catch (e) {
      throw new SpdyProtocolError(`header block does not decompress: ${(e as Error).message}`);
    }
    return decodeHeaderBlock(block);
  }

  private fail(err: Error): void {
    if (this.closed) return;
    if (!this.goneAway) {
      this.goneAway = true;
      this.sendFrame(controlFrame(FrameType.GOAWAY, 0, u32s(this.lastPeerStreamId, 1)));
    }
    this.outgoing = this.outgoing.then(() => {
      this.socket.end();
    });
    if (this.listenerCount('error')) this.emit('error', err);
    setTimeout(() => this.destroy(), 1000).unref();
  }

  private teardown(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) s.onReset();
    this.streams.clear();
    this.paused.clear();
    this.deflate.close();
    this.inflate.close();
    for (const resolve of this.pendingPings.values()) resolve();
    this.pendingPings.clear();
    this.emit('close');
  }
}

function headerValues(req: IncomingMessage, name: string): string[] {
  const raw: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === name) raw.push(req.rawHeaders[i + 1]!);
  return raw.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

/** True when the request asks to upgrade to SPDY/3.1. */
export function isSpdyUpgrade(req: IncomingMessage): boolean {
  return headerValues(req, 'upgrade').some((v) => v.toLowerCase() === 'spdy/3.1') && headerValues(req, 'connection').some((v) => v.toLowerCase() === 'upgrade');
}

function refuse(socket: Duplex, code: number, reason: string, message: string, extra: Record<string, string> = {}): void {
  const headers = Object.entries({ 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(message)), Connection: 'close', ...extra })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${code} ${reason}\r\n${headers}\r\n${message}`);
}

/**
 * Accepts an HTTP upgrade to SPDY/3.1 the way Kubernetes' httpstream
 * handshake does: the protocol is the first of the client's
 * X-Stream-Protocol-Version values that `protocols` holds; the 101 names it.
 * Returns undefined after answering 400/403 itself.
 */
export function acceptSpdyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, protocols: string[]): { session: SpdySession; protocol: string } | undefined {
  if (!isSpdyUpgrade(req)) {
    refuse(socket, 400, 'Bad Request', 'unable to upgrade: missing upgrade headers in request');
    return undefined;
  }
  const offered = headerValues(req, 'x-stream-protocol-version');
  if (offered.length === 0) {
    refuse(socket, 400, 'Bad Request', 'unable to upgrade: X-Stream-Protocol-Version is required');
    return undefined;
  }
  const protocol = offered.find((p) => protocols.includes(p));
  if (!protocol) {
    refuse(socket, 403, 'Forbidden', `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${protocols.join(' ')}]`, {
      'X-Accepted-Stream-Protocol-Versions': protocols.join(', '),
    });
    return undefined;
  }
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
  const session = new SpdySession(socket, { server: true });
  session.feed(head);
  return { session, protocol };
}
