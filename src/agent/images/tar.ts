// A small tar reader (streaming: ustar, GNU long names, PAX headers incl. SCHILY.xattr.*)
// and writer (ustar + PAX for long names), enough for OCI / docker-archive layers.
// The writer is deterministic: the same entries give the same bytes.

export type TarEntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo' | 'other';

export interface TarHeader {
  name: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** seconds since the epoch */
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** from PAX `SCHILY.xattr.<name>` records (raw bytes) */
  xattrs: Record<string, Buffer>;
}

export interface TarEntry {
  header: TarHeader;
  /** The entry's data; drained automatically if not read before the next entry is asked for. */
  body: AsyncIterable<Buffer>;
}

const BLOCK = 512;

/** Pulls exact byte counts from an async iterable of chunks. */
class ChunkReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private done = false;
  private readonly it: AsyncIterator<Buffer>;
  constructor(source: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>) {
    const inner: AsyncIterator<Buffer | Uint8Array | string> | Iterator<Buffer | Uint8Array | string> =
      Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
    this.it = {
      next: async () => {
        const r = await inner.next();
        if (r.done) return { done: true, value: undefined };
        const v = r.value;
        return { done: false, value: typeof v === 'string' ? Buffer.from(v) : Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength) };
      },
    };
  }
  private async fill(n: number): Promise<void> {
    while (this.buffered < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else if (r.value.length > 0) {
        this.chunks.push(r.value);
        this.buffered += r.value.length;
      }
    }
  }
  /** Up to n bytes (fewer only at the end of the input). */
  async read(n: number): Promise<Buffer> {
    await this.fill(n);
    return this.take(Math.min(n, this.buffered));
  }
  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    return out;
  }
  /** Yields the next n bytes as chunks; throws if the input ends first. */
  async *stream(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0) await this.fill(1);
      if (this.buffered === 0) throw new Error('tar: unexpected end of archive inside an entry');
      const c = this.take(Math.min(left, this.chunks[0]!.length));
      left -= c.length;
      yield c;
    }
  }
  /** Reads and discards everything left (so a hash over the input sees all of it). */
  async drain(): Promise<void> {
    this.chunks = [];
    this.buffered = 0;
    while (!this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
    }
  }
}

function cstr(buf: Buffer, start: number, len: number): string {
  const b = buf.subarray(start, start + len);
  const z = b.indexOf(0);
  return b.subarray(0, z < 0 ? b.length : z).toString('utf8');
}

function num(buf: Buffer, start: number, len: number): number {
  const b = buf.subarray(start, start + len);
  if (b[0]! & 0x80) {
    // base-256 (GNU): big-endian two's complement, first byte's top bit is the marker
    let v = b[0]! & 0x7f;
    for (let i = 1; i < b.length; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = cstr(buf, start, len).trim();
  return s === '' ? 0 : Number.parseInt(s, 8);
}

function checksumOf(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  return sum;
}

const typeFlags: Record<string, TarEntryType> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'link', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo',
};

function parsePax(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off < data.length) {
    const sp = data.indexOf(0x20, off);
    if (sp < 0) break;
    const len = Number.parseInt(data.subarray(off, sp).toString('ascii'), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const rec = data.subarray(sp + 1, off + len - 1); // without the trailing newline
    const eq = rec.indexOf(0x3d);
    if (eq >= 0) out.set(rec.subarray(0, eq).toString('utf8'), rec.subarray(eq + 1));
    off += len;
  }
  return out;
}

async function readAll(r: ChunkReader, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r.stream(n)) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

/**
 * Reads a tar stream entry by entry. Each entry's body must be consumed (or is skipped)
 * before the next one is produced. When `drainTrailer` is set, everything after the
 * end-of-archive marker is read too (so a digest over the stream covers it).
 */
export async function* readTar(source: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>, opts: { drainTrailer?: boolean } = {}): AsyncGenerator<TarEntry> {
  const r = new ChunkReader(source);
  let pax = new Map<string, Buffer>();
  let globalPax = new Map<string, Buffer>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await r.read(BLOCK);
    if (block.length === 0) break; // no end marker: tolerated, as GNU tar does
    if (block.length < BLOCK) throw new Error('tar: truncated header');
    if (block.every((b) => b === 0)) break;
    const sum = num(block, 148, 8);
    if (sum !== checksumOf(block)) throw new Error('tar: header checksum mismatch (not a tar archive, or corrupted)');
    const flag = String.fromCharCode(block[156]!);
    const size = num(block, 124, 12);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      const data = await readAll(r, size);
      await readAll(r, padded - size);
      if (flag === 'x') pax = parsePax(data);
      else if (flag === 'g') globalPax = new Map([...globalPax, ...parsePax(data)]);
      else if (flag === 'L') longName = cstr(data, 0, data.length);
      else longLink = cstr(data, 0, data.length);
      continue;
    }
    const magic = block.subarray(257, 263).toString('latin1');
    const prefix = magic === 'ustar\0' ? cstr(block, 345, 155) : '';
    const recs = new Map([...globalPax, ...pax]);
    const str = (k: string): string | undefined => recs.get(k)?.toString('utf8');
    const header: TarHeader = {
      name: str('path') ?? longName ?? (prefix ? `${prefix}/${cstr(block, 0, 100)}` : cstr(block, 0, 100)),
      type: typeFlags[flag] ?? 'other',
      mode: num(block, 100, 8) & 0o7777,
      uid: str('uid') !== undefined ? Number(str('uid')) : num(block, 108, 8),
      gid: str('gid') !== undefined ? Number(str('gid')) : num(block, 116, 8),
      size: str('size') !== undefined ? Number(str('size')) : size,
      mtime: str('mtime') !== undefined ? Math.floor(Number(str('mtime'))) : num(block, 136, 12),
      linkname: str('linkpath') ?? longLink ?? cstr(block, 157, 100),
      uname: str('uname') ?? cstr(block, 265, 32),
      gname: str('gname') ?? cstr(block, 297, 32),
      devmajor: num(block, 329, 8),
      devminor: num(block, 337, 8),
      xattrs: {},
    };
    for (const [k, v] of recs) if (k.startsWith('SCHILY.xattr.')) header.xattrs[k.slice('SCHILY.xattr.'.length)] = v;
    if (header.type === 'dir' && !header.name.endsWith('/')) header.name += '/';
    pax = new Map();
    longName = longLink = undefined;
    // Only regular files have data; some writers still give other entries a size (skipped).
    const stored = header.size;
    const dataSize = header.type === 'file' ? stored : 0;
    const storedPadded = Math.ceil(stored / BLOCK) * BLOCK;
    let consumed = 0;
    const body = (async function* () {
      for await (const c of r.stream(stored)) {
        consumed += c.length;
        if (consumed - c.length < dataSize) yield c.subarray(0, Math.max(0, Math.min(c.length, dataSize - (consumed - c.length))));
      }
    })();
    yield { header, body };
    // skip what the consumer left, then the padding
    if (consumed < stored) for await (const _ of r.stream(stored - consumed)) { /* skip */ }
    if (storedPadded > stored) await readAll(r, storedPadded - stored);
  }
  if (opts.drainTrailer) await r.drain();
}

// --- writer ---

export interface TarWriteEntry {
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'link' | 'char' | 'block' | 'fifo';
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  mtime?: number;
  data?: Buffer | string;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

const writeFlags: Record<TarWriteEntry['type'], string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };

function putStr(b: Buffer, s: string, off: number, len: number): void {
  Buffer.from(s, 'utf8').copy(b, off, 0, len);
}
function putOct(b: Buffer, v: number, off: number, len: number): void {
  putStr(b, v.toString(8).padStart(len - 1, '0'), off, len - 1);
}

function headerBlock(name: string, flag: string, e: TarWriteEntry, size: number, linkname: string): Buffer {
  const b = Buffer.alloc(BLOCK);
  putStr(b, name, 0, 100);
  putOct(b, e.mode ?? (e.type === 'dir' ? 0o755 : 0o644), 100, 8);
  putOct(b, e.uid ?? 0, 108, 8);
  putOct(b, e.gid ?? 0, 116, 8);
  putOct(b, size, 124, 12);
  putOct(b, e.mtime ?? 0, 136, 12);
  b.write(flag, 156, 'latin1');
  putStr(b, linkname, 157, 100);
  b.write('ustar\0', 257, 'latin1');
  b.write('00', 263, 'latin1');
  putStr(b, e.uname ?? '', 265, 32);
  putStr(b, e.gname ?? '', 297, 32);
  putOct(b, e.devmajor ?? 0, 329, 8);
  putOct(b, e.devminor ?? 0, 337, 8);
  b.fill(0x20, 148, 156);
  putStr(b, checksumOf(b).toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return b;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

function pad(n: number): Buffer {
  const r = n % BLOCK;
  return Buffer.alloc(r === 0 ? 0 : BLOCK - r);
}

/** The header block(s) of one entry (a PAX header first for long or non-ASCII names); `size` is its data length. */
export function tarHeader(e: TarWriteEntry, size: number): Buffer {
  let name = e.type === 'dir' && !e.name.endsWith('/') ? `${e.name}/` : e.name;
  const linkname = e.linkname ?? '';
  const out: Buffer[] = [];
  const records: string[] = [];
  if (Buffer.byteLength(name) > 100 || /[^\x20-\x7e]/.test(name)) records.push(paxRecord('path', name));
  if (Buffer.byteLength(linkname) > 100 || /[^\x20-\x7e]/.test(linkname)) records.push(paxRecord('linkpath', linkname));
  if (records.length > 0) {
    const pax = Buffer.from(records.join(''));
    out.push(headerBlock(`PaxHeaders/${name.slice(0, 80)}`, 'x', { name, type: 'file', mtime: e.mtime }, pax.length, ''), pax, pad(pax.length));
    name = name.slice(0, 100);
  }
  out.push(headerBlock(name, writeFlags[e.type], e, size, linkname.slice(0, 100)));
  return Buffer.concat(out);
}

/** Zero bytes that fill data of `size` bytes up to a whole block. */
export function tarPadding(size: number): Buffer {
  return pad(size);
}

/** The end-of-archive marker (two zero blocks). */
export const tarTrailer = (): Buffer => Buffer.alloc(BLOCK * 2);

/** A complete tar archive (with the two zero blocks at the end). */
export function writeTar(entries: TarWriteEntry[]): Buffer {
  const out: Buffer[] = [];
  for (const e of entries) {
    const data = e.type === 'file' ? (typeof e.data === 'string' ? Buffer.from(e.data) : e.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
    out.push(tarHeader(e, data.length), data, pad(data.length));
  }
  out.push(tarTrailer());
  return Buffer.concat(out);
}
