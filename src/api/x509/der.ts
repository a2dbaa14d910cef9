// ASN.1 DER, as much as X.509 certificates need: encoders for the types a
// certificate is made of, and a reader that walks one element at a time.
import { isIPv4, isIPv6 } from 'node:net';

/** A tag byte and its content, with DER's definite length (short form under 128 bytes, else long form). */
export function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let head: Buffer;
  if (n < 0x80) head = Buffer.from([tag, n]);
  else {
    const digits: number[] = [];
    for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) digits.unshift(rest % 256);
    head = Buffer.from([tag, 0x80 | digits.length, ...digits]);
  }
  return Buffer.concat([head, content]);
}

export const sequence = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
export const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
/** [n] EXPLICIT: a constructed context tag around a whole element. */
export const explicit = (n: number, element: Buffer): Buffer => tlv(0xa0 | n, element);
/** [n] IMPLICIT on a primitive type: the context tag replaces the type's own. */
export const implicitPrimitive = (n: number, content: Buffer): Buffer => tlv(0x80 | n, content);

export const boolean = (value: boolean): Buffer => tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
export const nullValue = (): Buffer => Buffer.from([0x05, 0x00]);
export const octetString = (bytes: Buffer): Buffer => tlv(0x04, bytes);
export const utf8String = (text: string): Buffer => tlv(0x0c, Buffer.from(text, 'utf8'));

/** A non-negative INTEGER from its big-endian bytes: no leading zero bytes but one that keeps it positive. */
export function unsignedInteger(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const digits = bytes.subarray(i);
  return tlv(0x02, digits.length === 0 ? Buffer.from([0]) : digits[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), digits]) : digits);
}

export function smallInteger(n: number): Buffer {
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return unsignedInteger(Buffer.from(bytes));
}

export function objectIdentifier(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out: number[] = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const base128: number[] = [arc & 0x7f];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) base128.unshift((rest & 0x7f) | 0x80);
    out.push(...base128);
  }
  return tlv(0x06, Buffer.from(out));
}

/** A BIT STRING of whole bytes (a key, a signature). */
export const bitString = (bytes: Buffer): Buffer => tlv(0x03, Buffer.concat([Buffer.from([0]), bytes]));

/** A named-bit BIT STRING (KeyUsage) with these bits set, trailing zero bits left off as DER asks. */
export function namedBits(bits: number[]): Buffer {
  const length = bits.length === 0 ? 0 : Math.max(...bits) + 1;
  const bytes = Buffer.alloc(Math.ceil(length / 8));
  for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
  return tlv(0x03, Buffer.concat([Buffer.from([bytes.length * 8 - length]), bytes]));
}

/** UTCTime for the years 1950-2049, GeneralizedTime otherwise (RFC 5280 4.1.2.5), to the second in UTC. */
export function time(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z';
  const year = d.getUTCFullYear();
  return year >= 1950 && year < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), 'ascii')) : tlv(0x18, Buffer.from(digits, 'ascii'));
}

/** An IPv4 or IPv6 address's 4 or 16 bytes. */
export function ipAddressBytes(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  if (!isIPv6(address)) throw new Error(`not an IP address: ${address}`);
  let text = address.replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = ipAddressBytes(v4[1]!);
    text = text.slice(0, -v4[1]!.length) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const before = groups(head);
  const after = groups(tail);
  const all = tail === undefined ? before : [...before, ...Array<string>(8 - before.length - after.length).fill('0'), ...after];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** One element as read: its tag, where it begins (its tag byte), and where its content starts and ends (the next element begins there). */
export interface Element {
  tag: number;
  offset: number;
  start: number;
  end: number;
}

/** Reads the element at offset; throws when its header or content runs past the buffer. */
export function readElement(der: Buffer, offset: number): Element {
  if (offset + 2 > der.length) throw new Error('truncated DER');
  const tag = der[offset]!;
  let length = der[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || start + count > der.length) throw new Error('unsupported or truncated DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i]!;
    start += count;
  }
  const end = start + length;
  if (end > der.length) throw new Error('truncated DER');
  return { tag, offset, start, end };
}

/** The elements inside a constructed element. */
export function children(der: Buffer, parent: Element): Element[] {
  const out: Element[] = [];
  for (let at = parent.start; at < parent.end; at = out[out.length - 1]!.end) out.push(readElement(der, at));
  return out;
}

/** An element's whole encoding, tag and length included. */
export const encodingOf = (der: Buffer, e: Element): Buffer => der.subarray(e.offset, e.end);

/** An element's content. */
export const contentOf = (der: Buffer, e: Element): Buffer => der.subarray(e.start, e.end);
