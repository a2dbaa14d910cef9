// Kubernetes' IP and CIDR libraries (1.30+). Addresses are parsed the way
// Go's net/netip parses them, because Kubernetes' rules and messages come
// from there: no leading zeros in IPv4 octets, no zones, no IPv4-mapped IPv6,
// and errors such as `ParseAddr("127.0.0.256"): IPv4 field has value >255`.
// node:net's isIP accepts zones and has no canonical form, so it does not fit.

import type { Environment } from '@marcbachmann/cel-js';
import { celError, goQuote, noSuchOverload, type LibraryValue } from './values.js';

/** A netip.Addr: 32 bits for IPv4, 128 for IPv6. */
interface Addr {
  v4: boolean;
  value: bigint;
  zone: string;
}

class ParseAddrError extends Error {
  constructor(input: string, msg: string, at = '') {
    super(`ParseAddr(${goQuote(input)}): ${msg}${at ? ` (at ${goQuote(at)})` : ''}`);
  }
}

function parseIPv4Fields(input: string, s: string): bigint {
  const fields: number[] = [];
  let val = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c >= '0' && c <= '9') {
      if (digits === 1 && val === 0) throw new ParseAddrError(input, 'IPv4 field has octet with leading zero');
      val = val * 10 + Number(c);
      digits++;
      if (val > 255) throw new ParseAddrError(input, 'IPv4 field has value >255');
    } else if (c === '.') {
      if (i === 0 || i === s.length - 1 || s[i - 1] === '.') throw new ParseAddrError(input, 'IPv4 field must have at least one digit', s.slice(i));
      if (fields.length === 3) throw new ParseAddrError(input, 'IPv4 address too long');
      fields.push(val);
      val = 0;
      digits = 0;
    } else {
      throw new ParseAddrError(input, 'unexpected character', s.slice(i));
    }
  }
  if (fields.length < 3) throw new ParseAddrError(input, 'IPv4 address too short');
  fields.push(val);
  return fields.reduce((acc, f) => (acc << 8n) | BigInt(f), 0n);
}

function parseIPv6(input: string): Addr {
  let s = input;
  let zone = '';
  const pct = s.indexOf('%');
  if (pct >= 0) {
    zone = s.slice(pct + 1);
    s = s.slice(0, pct);
    if (zone === '') throw new ParseAddrError(input, 'zone must be a non-empty string');
  }
  const ip = new Array<number>(16).fill(0);
  let ellipsis = -1;
  if (s.startsWith('::')) {
    ellipsis = 0;
    s = s.slice(2);
    if (s === '') return { v4: false, value: 0n, zone };
  }
  let i = 0;
  while (i < 16) {
    let off = 0;
    let acc = 0;
    for (; off < s.length; off++) {
      const d = parseInt(s[off] as string, 16);
      if (Number.isNaN(d)) break;
      if (off > 3) throw new ParseAddrError(input, 'each group must have 4 or less digits', s);
      acc = acc * 16 + d;
    }
    if (off === 0) throw new ParseAddrError(input, 'each colon-separated field must have at least one digit', s);
    if (off < s.length && s[off] === '.') {
      if (ellipsis < 0 && i !== 12) throw new ParseAddrError(input, 'embedded IPv4 address must replace the final 2 fields of the address', s);
      if (i + 4 > 16) throw new ParseAddrError(input, 'too many hex fields to fit an embedded IPv4 at the end of the address', s);
      const v4 = parseIPv4Fields(input, s);
      for (let k = 0; k < 4; k++) ip[i + k] = Number((v4 >> BigInt(24 - 8 * k)) & 0xffn);
      s = '';
      i += 4;
      break;
    }
    ip[i] = acc >> 8;
    ip[i + 1] = acc & 0xff;
    i += 2;
    s = s.slice(off);
    if (s === '') break;
    if (s[0] !== ':') throw new ParseAddrError(input, 'unexpected character, want colon', s);
    if (s.length === 1) throw new ParseAddrError(input, 'colon must be followed by more characters', s);
    s = s.slice(1);
    if (s[0] === ':') {
      if (ellipsis >= 0) throw new ParseAddrError(input, 'multiple :: in address', s);
      ellipsis = i;
      s = s.slice(1);
      if (s === '') break;
    }
  }
  if (s !== '') throw new ParseAddrError(input, 'trailing garbage after address', s);
  if (i < 16) {
    if (ellipsis < 0) throw new ParseAddrError(input, 'address string too short');
    const n = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) ip[j + n] = ip[j] as number;
    for (let j = ellipsis + n - 1; j >= ellipsis; j--) ip[j] = 0;
  } else if (ellipsis >= 0) {
    throw new ParseAddrError(input, 'the :: must expand to at least one field of zeros');
  }
  return { v4: false, value: ip.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n), zone };
}

/** netip.ParseAddr. */
function parseAddr(s: string): Addr {
  for (const c of s) {
    if (c === '.') return { v4: true, value: parseIPv4Fields(s, s), zone: '' };
    if (c === ':') return parseIPv6(s);
    if (c === '%') throw new ParseAddrError(s, 'missing IPv6 address');
  }
  throw new ParseAddrError(s, 'unable to parse IP');
}

function is4In6(a: Addr): boolean {
  return !a.v4 && a.value >> 32n === 0xffffn;
}

function bitLen(a: Addr): number {
  return a.v4 ? 32 : 128;
}

/** Addr.String: dotted quad, or RFC 5952 IPv6 (longest run of two or more zero groups elided). */
function addrString(a: Addr): string {
  if (a.v4) return [24n, 16n, 8n, 0n].map((shift) => ((a.value >> shift) & 0xffn).toString()).join('.');
  if (is4In6(a)) return `::ffff:${addrString({ v4: true, value: a.value & 0xffffffffn, zone: '' })}`;
  const groups = Array.from({ length: 8 }, (_, i) => Number((a.value >> BigInt(112 - 16 * i)) & 0xffffn));
  let zeroStart = -1;
  let zeroLen = 0;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i >= 2 && j - i > zeroLen) [zeroStart, zeroLen] = [i, j - i];
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === zeroStart) {
      out += '::';
      i += zeroLen - 1;
      continue;
    }
    if (i > 0 && !out.endsWith('::')) out += ':';
    out += (groups[i] as number).toString(16);
  }
  return a.zone ? `${out}%${a.zone}` : out;
}

/** Kubernetes' parseIPAddr: netip.ParseAddr without zones or IPv4-mapped IPv6. */
function parseIP(raw: string): Addr {
  let addr: Addr;
  try {
    addr = parseAddr(raw);
  } catch (err) {
    throw celError(`IP Address ${goQuote(raw)} parse error during conversion from string: ${(err as Error).message}`);
  }
  if (addr.zone !== '') throw celError(`IP address ${goQuote(raw)} with zone value is not allowed`);
  if (is4In6(addr)) throw celError(`IPv4-mapped IPv6 address ${goQuote(raw)} is not allowed`);
  return addr;
}

function mask(bits: number, len: number): bigint {
  return ((1n << BigInt(bits)) - 1n) << BigInt(len - bits);
}

export class CelIP implements LibraryValue {
  static readonly celTypeName = 'net.IP';

  constructor(readonly addr: Addr) {}

  equals(other: unknown): boolean {
    return other instanceof CelIP && other.addr.v4 === this.addr.v4 && other.addr.value === this.addr.value && other.addr.zone === this.addr.zone;
  }

  octet(i: number): number {
    return Number((this.addr.value >> BigInt(bitLen(this.addr) - 8 * (i + 1))) & 0xffn);
  }

  isLoopback(): boolean {
    return this.addr.v4 ? this.octet(0) === 127 : this.addr.value === 1n;
  }

  isMulticast(): boolean {
    return this.addr.v4 ? (this.octet(0) & 0xf0) === 0xe0 : this.octet(0) === 0xff;
  }

  isLinkLocalMulticast(): boolean {
    return this.addr.v4 ? this.octet(0) === 224 && this.octet(1) === 0 && this.octet(2) === 0 : this.octet(0) === 0xff && (this.octet(1) & 0x0f) === 0x02;
  }

  isLinkLocalUnicast(): boolean {
    return this.addr.v4 ? this.octet(0) === 169 && this.octet(1) === 254 : this.octet(0) === 0xfe && (this.octet(1) & 0xc0) === 0x80;
  }

  isGlobalUnicast(): boolean {
    if (this.addr.v4 && (this.addr.value === 0n || this.addr.value === 0xffffffffn)) return false;
    return this.addr.value !== 0n && !this.isLoopback() && !this.isMulticast() && !this.isLinkLocalUnicast();
  }

  toString(): string {
    return addrString(this.addr);
  }
}

/** A netip.Prefix (the address keeps its host bits until masked()). */
export class CelCIDR implements LibraryValue {
  static readonly celTypeName = 'net.CIDR';

  constructor(
    readonly addr: Addr,
    readonly bits: number,
  ) {}

  equals(other: unknown): boolean {
    return other instanceof CelCIDR && other.bits === this.bits && new CelIP(other.addr).equals(new CelIP(this.addr));
  }

  masked(): CelCIDR {
    return new CelCIDR({ ...this.addr, value: this.addr.value & mask(this.bits, bitLen(this.addr)) }, this.bits);
  }

  containsIP(ip: CelIP): boolean {
    if (ip.addr.zone !== '' || ip.addr.v4 !== this.addr.v4) return false;
    const m = mask(this.bits, bitLen(this.addr));
    return ((ip.addr.value ^ this.addr.value) & m) === 0n;
  }

  /** The other network, cut to this one's length, is this network, and it is no wider (as fixed in Kubernetes 1.33). */
  containsCIDR(other: CelCIDR): boolean {
    if (other.addr.v4 !== this.addr.v4) return false;
    return this.masked().equals(new CelCIDR(other.addr, this.bits).masked()) && this.bits <= other.bits;
  }

  toString(): string {
    return `${addrString(this.addr)}/${this.bits}`;
  }
}

/** netip.ParsePrefix. */
function parsePrefix(s: string): CelCIDR {
  const fail = (msg: string) => new Error(`netip.ParsePrefix(${goQuote(s)}): ${msg}`);
  const slash = s.lastIndexOf('/');
  if (slash < 0) throw fail("no '/'");
  let addr: Addr;
  try {
    addr = parseAddr(s.slice(0, slash));
  } catch (err) {
    throw fail((err as Error).message);
  }
  if (!addr.v4 && addr.zone !== '') throw fail('IPv6 zones cannot be present in a prefix');
  const bitsStr = s.slice(slash + 1);
  if (!/^(0|[1-9][0-9]*)$/.test(bitsStr)) throw fail(`bad bits after slash: ${goQuote(bitsStr)}`);
  const bits = Number(bitsStr);
  if (bits > bitLen(addr)) throw fail('prefix length out of range');
  return new CelCIDR(addr, bits);
}

/** Kubernetes' stringToCIDR, whose message repeats the prefix its parseCIDR already added. */
function parseCIDR(raw: string): CelCIDR {
  const prefix = 'network address parse error during conversion from string: ';
  let cidr: CelCIDR;
  try {
    cidr = parsePrefix(raw);
  } catch (err) {
    throw celError(`${prefix}${prefix}${(err as Error).message}`);
  }
  if (is4In6(cidr.addr)) throw celError(`${prefix}IPv4-mapped IPv6 address ${goQuote(raw)} is not allowed`);
  return cidr;
}

function succeeds(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch {
    return false;
  }
}

/** The receiver of ip.isCanonical. */
class IPNamespace {}

export function registerNetworkLibraries(env: Environment): void {
  const IP = CelIP.celTypeName;
  const CIDR = CelCIDR.celTypeName;
  env.registerType(IP, CelIP);
  env.registerType(CIDR, CelCIDR);
  env.registerType('IPNamespace', IPNamespace);
  env.registerConstant('ip', 'IPNamespace', new IPNamespace());

  env.registerFunction(`ip(string): ${IP}`, (s: string) => new CelIP(parseIP(s)));
  env.registerFunction('isIP(string): bool', (s: string) => succeeds(() => parseIP(s)));
  env.registerFunction('IPNamespace.isCanonical(string): bool', (_: IPNamespace, s: string) => addrString(parseIP(s)) === s);
  env.registerFunction(`string(${IP}): string`, (ip: CelIP) => ip.toString());
  env.registerOperator(`${IP} == ${IP}`, (a: CelIP, b: CelIP) => a.equals(b));
  env.registerFunction(`${IP}.family(): int`, (ip: CelIP) => (ip.addr.v4 ? 4n : 6n));
  env.registerFunction(`${IP}.isUnspecified(): bool`, (ip: CelIP) => ip.addr.value === 0n);
  env.registerFunction(`${IP}.isLoopback(): bool`, (ip: CelIP) => ip.isLoopback());
  env.registerFunction(`${IP}.isLinkLocalMulticast(): bool`, (ip: CelIP) => ip.isLinkLocalMulticast());
  env.registerFunction(`${IP}.isLinkLocalUnicast(): bool`, (ip: CelIP) => ip.isLinkLocalUnicast());
  env.registerFunction(`${IP}.isGlobalUnicast(): bool`, (ip: CelIP) => ip.isGlobalUnicast());

  env.registerFunction(`cidr(string): ${CIDR}`, parseCIDR);
  env.registerFunction('isCIDR(string): bool', (s: string) => succeeds(() => parseCIDR(s)));
  env.registerFunction(`string(${CIDR}): string`, (c: CelCIDR) => c.toString());
  env.registerOperator(`${CIDR} == ${CIDR}`, (a: CelCIDR, b: CelCIDR) => a.equals(b));
  env.registerFunction(`${CIDR}.containsIP(${IP}): bool`, (c: CelCIDR, ip: CelIP) => c.containsIP(ip));
  env.registerFunction(`${CIDR}.containsIP(string): bool`, (c: CelCIDR, s: string) => {
    let ip: CelIP;
    try {
      ip = new CelIP(parseIP(s));
    } catch {
      // Kubernetes drops the parse error here and reports the overload mismatch instead.
      throw noSuchOverload();
    }
    return c.containsIP(ip);
  });
  env.registerFunction(`${CIDR}.containsCIDR(${CIDR}): bool`, (c: CelCIDR, other: CelCIDR) => c.containsCIDR(other));
  env.registerFunction(`${CIDR}.containsCIDR(string): bool`, (c: CelCIDR, s: string) => c.containsCIDR(parseCIDR(s)));
  env.registerFunction(`${CIDR}.ip(): ${IP}`, (c: CelCIDR) => new CelIP(c.addr));
  env.registerFunction(`${CIDR}.masked(): ${CIDR}`, (c: CelCIDR) => c.masked());
  env.registerFunction(`${CIDR}.prefixLength(): int`, (c: CelCIDR) => BigInt(c.bits));
}
