// Writing responses: JSON bodies, Status errors, content negotiation.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { remembered } from '../../api/remembered.js';
import { ApiError, InternalError, NotAcceptableError, type Status } from '../../api/errors.js';

export function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  const text = wantsPretty(res.req) ? prettyJson(body) : typeof body === 'string' ? body : JSON.stringify(body);
  // Headers as a flat list skip the per-name bookkeeping of a headers object.
  res.writeHead(code, ['Content-Type', contentType, 'Content-Length', String(Buffer.byteLength(text)), 'Cache-Control', 'no-cache, private']);
  res.end(text);
}

/** Bytes gathered into one write of a streamed body. */
const streamChunkBytes = 256 * 1024;
/** A streamed body's chunk buffer: a chunk, and room for the part that ends it. */
const chunkBufferBytes = 2 * streamChunkBytes;
/** UTF-8 takes at most 3 bytes for each UTF-16 code unit. */
const maxBytesPerUnit = 3;

/**
 * Chunk buffers kept from one streamed body for the next. Fresh memory is
 * not free: each page costs a fault when first touched, which on some
 * virtual machines is tens of microseconds (a list of 10,000 pods is
 * 15 MB). A kept buffer's pages stay mapped.
 */
const spareChunkBuffers: Buffer[] = [];
const maxSpareChunkBuffers = 4;

/** Writes one chunk; resolves once the response has taken it (so its buffer may be written again) or is gone. */
function writeChunk(res: ServerResponse, chunk: Uint8Array | string): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off('close', done);
      resolve();
    };
    res.on('close', done);
    res.write(chunk, () => done());
  });
}

/**
 * Sends a large JSON body made of parts, in chunks that each wait until the
 * response has taken the last: encryption and sending overlap with the
 * client's reading, and the whole body never exists as one string. The
 * parts are written into a buffer kept for the next body, not joined into
 * new strings, and taken from `parts` only as they are written.
 */
export async function sendJsonParts(res: ServerResponse, code: number, parts: Iterable<string>): Promise<void> {
  if (wantsPretty(res.req)) {
    sendJson(res, code, [...parts].join(''));
    return;
  }
  res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  const buffer = spareChunkBuffers.pop() ?? Buffer.allocUnsafeSlow(chunkBufferBytes);
  try {
    let used = 0;
    for (const part of parts) {
      if (used > 0 && (used >= streamChunkBytes || part.length * maxBytesPerUnit > buffer.length - used)) {
        await writeChunk(res, buffer.subarray(0, used));
        used = 0;
        if (res.destroyed) return;
      }
      // A part larger than a buffer goes as it is.
      if (part.length * maxBytesPerUnit > buffer.length) {
        await writeChunk(res, part);
        if (res.destroyed) return;
      } else {
        used += buffer.write(part, used);
      }
    }
    if (used > 0) await writeChunk(res, buffer.subarray(0, used));
    res.end();
  } finally {
    if (spareChunkBuffers.length < maxSpareChunkBuffers) spareChunkBuffers.push(buffer);
  }
}

/** The values Go's strconv.ParseBool reads as true (any other is false here, as kube-apiserver takes an unparsable one). */
const goTrue = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);

/**
 * kube-apiserver's isPrettyPrint: ?pretty=true (any value Go's ParseBool
 * takes as true), or else a User-Agent of curl, Wget or a browser; its
 * JSON is then indented by two spaces and ends with a newline.
 */
export function wantsPretty(req: IncomingMessage | undefined): boolean {
  if (req === undefined) return false;
  const url = req.url ?? '';
  if (url.includes('pretty')) {
    const value = new URLSearchParams(url.slice(url.indexOf('?') + 1)).get('pretty');
    if (value) return goTrue.has(value);
  }
  const agent = req.headers['user-agent'];
  return agent !== undefined && (agent.startsWith('curl') || agent.startsWith('Wget') || agent.startsWith('Mozilla/5.0'));
}

function prettyJson(body: unknown): string {
  return JSON.stringify(typeof body === 'string' ? JSON.parse(body) : body, null, 2) + '\n';
}

export function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'X-Content-Type-Options': 'nosniff' });
  res.end(text);
}

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new InternalError(message, { cause: err });
}

export function sendError(res: ServerResponse, err: unknown): void {
  const apiErr = toApiError(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const status: Status = apiErr.toStatus();
  // As kube-apiserver's ErrorNegotiated: a Status suggesting a retry time says it in Retry-After too.
  const retryAfter = apiErr.details?.retryAfterSeconds;
  if (retryAfter !== undefined && retryAfter > 0) res.setHeader('Retry-After', String(retryAfter));
  sendJson(res, apiErr.code, status);
}

export interface AcceptedOutput {
  /** Table output (as=Table;g=meta.k8s.io) was asked for. */
  table: boolean;
  tableVersion: 'v1' | 'v1beta1';
  /** PartialObjectMetadata(List) was asked for. */
  metadataOnly: boolean;
}

const plainOutput: Readonly<AcceptedOutput> = Object.freeze({ table: false, tableVersion: 'v1', metadataOnly: false });

/** The outputs of the Accept headers seen lately (clients send the same few again and again; read only). */
const outputsByAccept = new Map<string, Readonly<AcceptedOutput>>();

/** Picks the representation from the Accept header, the first one Nami can serve. */
export function negotiateOutput(req: IncomingMessage): Readonly<AcceptedOutput> {
  const accept = req.headers.accept;
  if (!accept) return plainOutput;
  return remembered(outputsByAccept, accept, 256, outputFor);
}

function outputFor(accept: string): Readonly<AcceptedOutput> {
  let sawProtobufOnly = true;
  for (const clause of accept.split(',')) {
    const [type, ...params] = clause.split(';').map((s) => s.trim());
    const p = new Map(params.map((kv) => kv.split('=').map((s) => s.trim()) as [string, string]));
    const mt = (type ?? '').toLowerCase();
    if (mt === 'application/json' || mt === 'application/*' || mt === '*/*' || mt === 'application/yaml') {
      sawProtobufOnly = false;
      const as = p.get('as');
      if (!as) return plainOutput;
      if (as === 'Table' && p.get('g') === 'meta.k8s.io' && (p.get('v') === 'v1' || p.get('v') === 'v1beta1')) {
        return Object.freeze({ table: true, tableVersion: p.get('v') as 'v1' | 'v1beta1', metadataOnly: false });
      }
      if ((as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') && p.get('g') === 'meta.k8s.io') {
        return Object.freeze({ table: false, tableVersion: 'v1', metadataOnly: true });
      }
      // An "as" we do not serve: try the next clause.
    }
  }
  if (sawProtobufOnly) throw new NotAcceptableError(['application/json', 'application/yaml']);
  throw new NotAcceptableError(['application/json;as=Table;v=v1;g=meta.k8s.io', 'application/json']);
}
