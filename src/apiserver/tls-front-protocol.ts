// What the TLS front's thread (tls-front-worker.ts) and the API server's
// thread (tls-front.ts) say to each other. Connection traffic goes in flat
// arrays of (connection id, op, payload) triples, one message per event-loop
// turn on each side; control messages are objects.

/** TLS settings of the listener. */
export interface TlsFrontSettings {
  key: string;
  cert: string;
  /** Client certificates are verified against this CA when presented. */
  ca: string;
}

/** What the API server learns of a connection when it opens. */
export interface ConnectionInfo {
  remoteAddress?: string;
  remotePort?: number;
  localAddress?: string;
  localPort?: number;
  /** The client certificate was verified against the CA. */
  authorized: boolean;
  /** The verified client certificate's subject (CN, O ...), as getPeerCertificate() gives it. */
  subject?: Record<string, string | string[]>;
}

/**
 * Connection ops. To the API server: open (payload ConnectionInfo), data
 * (Uint8Array), end (the client sent FIN), closed, write-paused and
 * write-resumed (the socket's send buffer filled and drained). To the
 * front: data (a string in UTF-8 or latin1, or bytes, possibly to be
 * acknowledged), end, destroy, read-paused and read-resumed.
 */
export const Op = {
  open: 0,
  data: 1,
  utf8: 2,
  latin1: 3,
  end: 4,
  destroy: 5,
  closed: 6,
  pause: 7,
  resume: 8,
  /**
   * To the API server: a write asked to be acknowledged is in the kernel's
   * hands; its payload is the write's bytes, whose buffer moves back to be
   * written into again.
   */
  written: 9,
  /** Added to a data op to the front: acknowledge the write once it is sent (large writes wait for that). */
  acked: 16,
} as const;

/** Connection traffic: (id, op, payload) triples. */
export type Traffic = unknown[];

export type FrontRequest = { type: 'configure'; settings: TlsFrontSettings } | { type: 'listen'; host: string; port: number } | { type: 'close' } | Traffic;

/** The front's answers to listen and close. */
export type ControlReply =
  | { type: 'listening'; address: { address: string; family: string; port: number } }
  | { type: 'listen-failed'; message: string; code?: string }
  | { type: 'closed' };

export type FrontReply = ControlReply | Traffic;

/** Gathers a turn's connection ops into one message, sent at the end of the event-loop turn. */
export class Outbox {
  private ops: Traffic = [];
  private transfer: ArrayBuffer[] = [];
  /** Chunks to copy into the message's one buffer at flush: their payload slot in ops, and the bytes. */
  private chunks: (number | Uint8Array)[] = [];
  private chunkBytes = 0;
  private scheduled = false;

  constructor(private readonly post: (ops: Traffic, transfer: ArrayBuffer[]) => void) {}

  push(id: number, op: number, payload: unknown): void {
    this.ops.push(id, op, payload);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /**
   * Pushes bytes whose buffer moves to the other thread rather than being
   * copied there: `bytes` itself when it is `owned` (nothing else holds it)
   * and fills its buffer, else a copy of them in a buffer of their own (a
   * view's whole buffer, a pool's, say, would be copied otherwise).
   */
  pushBytes(id: number, op: number, bytes: Uint8Array, owned = false): void {
    const moved = owned && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
    this.transfer.push(moved.buffer as ArrayBuffer);
    this.push(id, op, moved);
  }

  /** Pushes a view whose whole buffer moves to the other thread (nothing on this side may use the buffer after). */
  pushView(id: number, op: number, view: Uint8Array): void {
    this.transfer.push(view.buffer as ArrayBuffer);
    this.push(id, op, view);
  }

  /**
   * Pushes bytes that are copied, with every other chunk of the turn, into
   * one buffer that moves to the other thread with the message: one buffer
   * to make, move and free per message rather than per chunk (a request is
   * usually one chunk). The bytes must stay as they are until the end of the
   * turn, as a socket's read chunks do.
   */
  pushChunk(id: number, op: number, bytes: Uint8Array): void {
    this.push(id, op, undefined);
    this.chunks.push(this.ops.length - 1, bytes);
    this.chunkBytes += bytes.byteLength;
  }

  /**
   * Pushes a copy of bytes the caller may reuse at once (an HTTP chunk's
   * CRLF, say), gathered with the turn's other chunks (pushChunk): moving a
   * buffer of their own instead costs the message a transfer apiece, which a
   * watch's many small writes made its largest cost.
   */
  pushCopy(id: number, op: number, bytes: Uint8Array): void {
    this.pushChunk(id, op, Buffer.from(bytes));
  }

  /** Sends what is queued now rather than at the end of the turn. */
  readonly flush = (): void => {
    this.scheduled = false;
    if (this.ops.length === 0) return;
    const ops = this.ops;
    const transfer = this.transfer;
    if (this.chunks.length > 0) transfer.push(this.gatherChunks(ops));
    this.ops = [];
    this.transfer = [];
    this.post(ops, transfer);
  };

  /** Copies the turn's chunks into one buffer, each op's payload a view of its part. */
  private gatherChunks(ops: Traffic): ArrayBuffer {
    const buffer = new ArrayBuffer(this.chunkBytes);
    const chunks = this.chunks;
    let offset = 0;
    for (let i = 0; i < chunks.length; i += 2) {
      const bytes = chunks[i + 1] as Uint8Array;
      const view = new Uint8Array(buffer, offset, bytes.byteLength);
      view.set(bytes);
      ops[chunks[i] as number] = view;
      offset += bytes.byteLength;
    }
    this.chunks = [];
    this.chunkBytes = 0;
    return buffer;
  }
}
