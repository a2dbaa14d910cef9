// The API server's listener. A thread of its own (tls-front-worker.ts)
// accepts the connections and runs TLS and the sockets; this thread speaks
// HTTP over each connection's plain bytes, through a FrontSocket handed to
// an http.Server as a connection. Requests then cost the serving thread
// their HTTP and API work only: on loopback, most of what a response costs
// its sender is the system call that sends it.

import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Duplex } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import { takeTlsFrontThread } from './tls-front-thread.js';
import { Op, Outbox, type ConnectionInfo, type ControlReply, type FrontReply, type FrontRequest, type TlsFrontSettings, type Traffic } from './tls-front-protocol.js';

/** A write of at least this many bytes (or characters) is sent at once, and counts as on its way until the front has sent it. */
const largeWrite = 64 * 1024;
/**
 * How many large writes may be on their way to a client before the writer
 * is held: the next one still goes, and completes once one of them is sent.
 * Enough that the body is made while the front sends it, few enough that a
 * slow reader holds back its writer after a few hundred KB.
 */
const maxLargeInFlight = 8;

/** How many requests' bytes are handed on in one turn of the event loop (see TlsFront.drain). */
const sliceRequests = 16;

/**
 * The size of the buffers large writes of bytes are copied into, which the
 * front hands back once it has sent them (Op.written), and how many are
 * kept. A list's body is written in chunks of a few hundred KB; were each
 * copied into new memory, every page of it would be touched fresh, a fault
 * each, which on some virtual machines costs tens of microseconds.
 */
const largeBufferBytes = 512 * 1024;
const maxSpareLargeBuffers = 16;

/** One connection as the http.Server sees it: a Duplex with the socket properties HTTP and authentication read. */
export class FrontSocket extends Duplex {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  readonly authorized: boolean;
  readonly encrypted = true;
  private readonly subject: Record<string, string | string[]> | undefined;
  /** The front's socket has more queued than its send buffer holds: writes wait. */
  private writePaused = false;
  /** Large writes the front has not sent yet: up to maxLargeInFlight, the next waits. */
  private largeInFlight = 0;
  private waitingWrite: (() => void) | undefined;
  private readPaused = false;
  /** The front closed the connection: nothing more is sent to it. */
  private gone = false;
  private timeoutMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = 0;
  private lastActive = 0;

  constructor(
    private readonly front: TlsFront,
    readonly id: number,
    info: ConnectionInfo,
  ) {
    super({ decodeStrings: false, allowHalfOpen: true });
    this.remoteAddress = info.remoteAddress;
    this.remotePort = info.remotePort;
    this.localAddress = info.localAddress;
    this.localPort = info.localPort;
    this.authorized = info.authorized;
    this.subject = info.subject;
  }

  /** The verified client certificate, as far as authentication reads it (its subject). */
  getPeerCertificate(): { subject?: Record<string, string | string[]> } {
    return this.subject ? { subject: this.subject } : {};
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  /**
   * As net.Socket's: 'timeout' after ms without traffic (0: never). HTTP
   * sets it around every request on a kept-alive connection, so one timer
   * stays armed and looks at the last traffic when it fires.
   */
  setTimeout(ms: number, callback?: () => void): this {
    this.timeoutMs = ms;
    if (callback) this.once('timeout', callback);
    if (ms > 0) {
      this.touch();
      if (!this.timer || this.lastActive + ms < this.timerDue) this.armTimer(ms);
    }
    return this;
  }

  /** From the front: bytes the client sent. */
  received(bytes: Uint8Array): void {
    this.touch();
    if (!this.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) && !this.readPaused) {
      this.readPaused = true;
      this.front.send(this.id, Op.pause, 0);
    }
  }

  /** From the front: the client's side ended (FIN). */
  receivedEnd(): void {
    this.push(null);
  }

  /** From the front: the connection is closed. */
  receivedClose(): void {
    this.gone = true;
    this.destroy();
  }

  /** From the front: its send buffer filled (true) or drained (false). */
  setWritePaused(paused: boolean): void {
    this.writePaused = paused;
    this.completeWrite();
  }

  /** From the front: the large write it was to acknowledge is sent. */
  sent(): void {
    this.largeInFlight--;
    this.completeWrite();
  }

  private mustWait(): boolean {
    return this.writePaused || this.largeInFlight > maxLargeInFlight;
  }

  private completeWrite(): void {
    if (this.mustWait() || !this.waitingWrite) return;
    const done = this.waitingWrite;
    this.waitingWrite = undefined;
    done();
  }

  override _read(): void {
    if (this.readPaused) {
      this.readPaused = false;
      this.front.send(this.id, Op.resume, 0);
    }
  }

  /**
   * Hands a chunk to the front. A large one (a list's chunk, a big object)
   * goes at once, and once maxLargeInFlight are on their way the next
   * waits until the front has sent one: a large body streams while it is
   * made, and a slow reader holds its writer back. Small ones go at the
   * end of the turn, all together, and complete at once unless the front
   * said its socket is full.
   */
  override _write(chunk: unknown, encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.touch();
    this.hand(chunk, encoding);
    this.afterWrite(callback);
  }

  /**
   * Hands the chunks written while the socket was corked. HTTP writes each
   * piece of a chunked body as four (its length, CRLF, the piece, CRLF):
   * text that goes as UTF-8 as it is (UTF-8 strings, and short ASCII ones
   * or bytes, such as the length and the CRLFs) is joined into one op, so
   * that a watch event costs each watcher one op rather than four.
   */
  override _writev(chunks: { chunk: unknown; encoding: BufferEncoding }[], callback: (err?: Error | null) => void): void {
    this.touch();
    let text = '';
    for (const { chunk, encoding } of chunks) {
      const asText = utf8Text(chunk, encoding);
      if (asText !== undefined && text.length + asText.length < largeWrite) {
        text += asText;
        continue;
      }
      if (text) this.front.send(this.id, Op.utf8, text);
      text = '';
      this.hand(chunk, encoding);
    }
    if (text) this.front.send(this.id, Op.utf8, text);
    this.afterWrite(callback);
  }

  private hand(chunk: unknown, encoding: BufferEncoding): void {
    const size = typeof chunk === 'string' ? chunk.length : (chunk as Uint8Array).byteLength;
    const large = size >= largeWrite;
    const ack = large ? Op.acked : 0;
    if (typeof chunk === 'string') {
      // A large string goes as bytes of its own, moved rather than copied to the front.
      if (large) this.front.sendBytes(this.id, Op.data | ack, Buffer.from(chunk, encoding), true);
      else if (chunk.length > 0) {
        if (isLatin1(encoding)) this.front.send(this.id, Op.latin1, chunk);
        else if (isUtf8(encoding)) this.front.send(this.id, Op.utf8, chunk);
        else this.front.sendBytes(this.id, Op.data, Buffer.from(chunk, encoding), true);
      }
    } else if (large) {
      // The caller may reuse its bytes: they go as a copy, into a buffer the front hands back.
      this.front.sendLargeCopy(this.id, Op.data | ack, chunk as Uint8Array);
    } else if (size > 0) {
      this.front.sendCopy(this.id, Op.data, chunk as Uint8Array);
    }
    if (large) {
      this.largeInFlight++;
      this.front.flush();
    }
  }

  private afterWrite(callback: (err?: Error | null) => void): void {
    if (this.mustWait()) this.waitingWrite = () => callback();
    else callback();
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (!this.gone) this.front.send(this.id, Op.end, 0);
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.gone) {
      this.gone = true;
      this.front.send(this.id, Op.destroy, 0);
    }
    this.front.forget(this);
    const waiting = this.waitingWrite;
    this.waitingWrite = undefined;
    waiting?.();
    callback(err);
  }

  private touch(): void {
    if (this.timeoutMs > 0) this.lastActive = performance.now();
  }

  private armTimer(ms: number): void {
    clearTimeout(this.timer);
    this.timerDue = performance.now() + ms;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.timeoutMs === 0 || this.destroyed) return;
      const idle = performance.now() - this.lastActive;
      if (idle >= this.timeoutMs) this.emit('timeout');
      else this.armTimer(this.timeoutMs - idle);
    }, ms);
    this.timer.unref();
  }
}

/**
 * The listener: the front's thread listens and runs TLS; each connection
 * reaches `http` as a FrontSocket. The methods are net.Server's that the API
 * server uses.
 */
export class TlsFront {
  private readonly worker: Worker;
  private readonly sockets = new Map<number, FrontSocket>();
  private readonly outbox: Outbox;
  private bound: AddressInfo | null = null;
  /** Buffers of largeBufferBytes the front has handed back, to copy large writes into. */
  private readonly spareLargeBuffers: ArrayBuffer[] = [];
  /** Traffic from the front not yet handed to the connections, in order; the first array from index `cursor`. */
  private readonly backlog: Traffic[] = [];
  private cursor = 0;
  private pending: ((reply: ControlReply) => void) | undefined;
  private http: HttpServer | undefined;

  /** Starts the front's thread (or takes the one started ahead); it needs a moment to load, which the caller can spend making certificates. */
  constructor() {
    this.worker = takeTlsFrontThread();
    this.outbox = new Outbox((ops, transfer) => this.worker.postMessage(ops satisfies FrontRequest, transfer));
    this.worker.on('message', (reply: FrontReply) => {
      if (Array.isArray(reply)) this.received(reply);
      else this.pending?.(reply);
    });
    this.worker.on('error', (err) => {
      // The front's thread is the listener: without it no request can arrive.
      if (this.pending) this.pending({ type: 'listen-failed', message: `the TLS listener failed: ${err.message}` });
      else console.error(`nami: the API server's TLS listener failed: ${err.message}`);
      for (const socket of [...this.sockets.values()]) socket.receivedClose();
    });
    this.worker.unref();
  }

  /** The HTTP server each connection goes to, and the TLS settings to accept connections with. */
  serve(http: HttpServer, settings: TlsFrontSettings): void {
    this.http = http;
    this.worker.postMessage({ type: 'configure', settings } satisfies FrontRequest);
  }

  /** Listens on host:port (0: a free port), after serve(); rejects as net.Server's listen would fail (EADDRINUSE ...). */
  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.pending = (reply) => {
        this.pending = undefined;
        if (reply.type === 'listening') {
          this.bound = reply.address;
          resolve(reply.address);
        } else if (reply.type === 'listen-failed') {
          if (!this.bound) this.worker.unref();
          reject(Object.assign(new Error(reply.message), reply.code ? { code: reply.code } : {}));
        }
      };
      // Waiting for the answer, and then listening, keeps the process alive, as a listening net.Server does.
      this.worker.ref();
      this.worker.postMessage({ type: 'listen', host, port } satisfies FrontRequest);
    });
  }

  address(): AddressInfo | null {
    return this.bound;
  }

  /** Stops accepting connections; the open ones stay until closeAllConnections. */
  close(callback?: () => void): void {
    this.pending = (reply) => {
      if (reply.type === 'listening') return;
      this.pending = undefined;
      this.bound = null;
      this.worker.unref();
      callback?.();
    };
    this.worker.ref();
    this.worker.postMessage({ type: 'close' } satisfies FrontRequest);
  }

  closeAllConnections(): void {
    for (const socket of [...this.sockets.values()]) socket.destroy();
  }

  /** The listener's close, asked for once: it stops accepting at once and reports closed once its connections have ended. */
  private listenerClosed?: Promise<void>;

  /** Stops accepting connections; the open ones go on being served. */
  stopAccepting(): void {
    this.listenerClosed ??= new Promise<void>((resolve) => this.close(resolve));
  }

  /** Stops listening, closes every connection and ends the front's thread. */
  async stop(): Promise<void> {
    // The front's listener reports closed only once its connections have ended: they are closed
    // first, and terminate closes any accepted while the close was on its way.
    this.stopAccepting();
    this.closeAllConnections();
    await this.listenerClosed;
    await this.terminate();
  }

  /** Ends the front's thread (after close). */
  async terminate(): Promise<void> {
    this.closeAllConnections();
    await this.worker.terminate();
  }

  /** Queues an op for the front; all of a turn's ops go as one message. */
  send(id: number, op: number, payload: unknown): void {
    this.outbox.push(id, op, payload);
  }

  /** Queues bytes for the front, moved rather than copied (see Outbox.pushBytes). */
  sendBytes(id: number, op: number, bytes: Uint8Array, owned = false): void {
    this.outbox.pushBytes(id, op, bytes, owned);
  }

  /** Queues a copy of small bytes, moved with the turn's other small ones in one buffer (see Outbox.pushCopy). */
  sendCopy(id: number, op: number, bytes: Uint8Array): void {
    this.outbox.pushCopy(id, op, bytes);
  }

  /** Queues a copy of large bytes, in a buffer the front hands back once it has sent them when it is of largeBufferBytes. */
  sendLargeCopy(id: number, op: number, bytes: Uint8Array): void {
    if (bytes.byteLength > largeBufferBytes) {
      this.outbox.pushBytes(id, op, bytes);
      return;
    }
    const copy = new Uint8Array(this.spareLargeBuffers.pop() ?? new ArrayBuffer(largeBufferBytes), 0, bytes.byteLength);
    copy.set(bytes);
    this.outbox.pushView(id, op, copy);
  }

  /** How many buffers for large writes are kept, handed back by the front. */
  get keptLargeBuffers(): number {
    return this.spareLargeBuffers.length;
  }

  /** Keeps a buffer the front handed back, if it is one to copy large writes into. */
  private keepLargeBuffer(bytes: unknown): void {
    if (bytes instanceof Uint8Array && bytes.buffer.byteLength === largeBufferBytes && this.spareLargeBuffers.length < maxSpareLargeBuffers) {
      this.spareLargeBuffers.push(bytes.buffer as ArrayBuffer);
    }
  }

  /** Sends the queued ops now. */
  flush(): void {
    this.outbox.flush();
  }

  forget(socket: FrontSocket): void {
    if (this.sockets.get(socket.id) === socket) this.sockets.delete(socket.id);
  }

  private received(ops: Traffic): void {
    this.backlog.push(ops);
    if (this.backlog.length === 1) this.drain();
  }

  /**
   * Hands the front's traffic to the connections, at most sliceRequests
   * requests' bytes at a time; the rest waits for the next turn of the event
   * loop. Requests that arrive together then reach storage in a few commits
   * one after another, the writer committing some while this thread reads
   * the next, instead of all waiting for one commit and answered at once
   * (after which they would arrive together again).
   */
  private readonly drain = (): void => {
    let handed = 0;
    while (this.backlog.length > 0) {
      const ops = this.backlog[0]!;
      while (this.cursor < ops.length) {
        const i = this.cursor;
        this.cursor += 3;
        if (this.apply(ops[i] as number, ops[i + 1] as number, ops[i + 2]) && ++handed === sliceRequests) {
          if (this.cursor >= ops.length) this.nextArray();
          // After this turn's own end (where storage sends what the handed requests wrote), not before it.
          if (this.backlog.length > 0) setImmediate(() => setImmediate(this.drain));
          return;
        }
      }
      this.nextArray();
    }
  };

  private nextArray(): void {
    this.backlog.shift();
    this.cursor = 0;
  }

  /** One op from the front; true if it handed a connection bytes. */
  private apply(id: number, op: number, payload: unknown): boolean {
    if (op === Op.written) this.keepLargeBuffer(payload);
    if (op === Op.open) {
      const socket = new FrontSocket(this, id, payload as ConnectionInfo);
      this.sockets.set(id, socket);
      this.http?.emit('connection', socket);
      return false;
    }
    const socket = this.sockets.get(id);
    if (!socket) return false;
    switch (op) {
      case Op.data:
        socket.received(payload as Uint8Array);
        return true;
      case Op.end:
        socket.receivedEnd();
        break;
      case Op.closed:
        socket.receivedClose();
        break;
      case Op.pause:
        socket.setWritePaused(true);
        break;
      case Op.resume:
        socket.setWritePaused(false);
        break;
      case Op.written:
        socket.sent();
        break;
    }
    return false;
  }
}

/** Encodings the front writes strings in as they are (the others are turned into bytes here). */
const isUtf8 = (encoding: BufferEncoding): boolean => encoding === 'utf8' || encoding === 'utf-8';
const isLatin1 = (encoding: BufferEncoding): boolean => encoding === 'latin1' || encoding === 'binary' || encoding === 'ascii';

/** Short text in ASCII, which UTF-8 carries as it is. */
const shortAscii = /^[\x00-\x7f]{0,64}$/;

/** A chunk as text that goes as UTF-8 unchanged, or undefined: UTF-8 strings, and short ASCII strings or bytes. */
function utf8Text(chunk: unknown, encoding: BufferEncoding): string | undefined {
  if (typeof chunk === 'string') {
    if (isUtf8(encoding)) return chunk;
    return isLatin1(encoding) && shortAscii.test(chunk) ? chunk : undefined;
  }
  if (!(chunk instanceof Uint8Array) || chunk.byteLength > 64) return undefined;
  for (let i = 0; i < chunk.byteLength; i++) if (chunk[i]! > 0x7f) return undefined;
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
}
