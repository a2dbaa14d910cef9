// IPv4 CIDR arithmetic for the pod network: a node's pod range, its gateway (the first host
// address, on the bridge) and the addresses pods may get (everything but the network address,
// the gateway and the broadcast address).

export interface Cidr {
  /** The network address as an unsigned 32-bit number. */
  network: number;
  prefix: number;
  /** "10.244.0.0/24", normalized. */
  text: string;
}

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new Error(`not an IPv4 address: ${JSON.stringify(ip)}`);
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new Error(`not an IPv4 address: ${JSON.stringify(ip)}`);
    n = n * 256 + Number(p);
  }
  return n;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(text: string): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text.trim());
  if (!m) throw new Error(`not an IPv4 CIDR: ${JSON.stringify(text)}`);
  const prefix = Number(m[2]);
  if (prefix > 30) throw new Error(`pod CIDR ${text} is too small: at most /30`);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const network = (ipToInt(m[1]!) & mask) >>> 0;
  return { network, prefix, text: `${intToIp(network)}/${prefix}` };
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function broadcast(c: Cidr): number {
  return c.network + size(c) - 1;
}

/** The gateway: the first host address (10.244.0.1 for 10.244.0.0/24). */
export function gateway(c: Cidr): string {
  return intToIp(c.network + 1);
}

/** The first and last address a pod may get (.2 to broadcast - 1). */
export function podRange(c: Cidr): { first: number; last: number } {
  return { first: c.network + 2, last: broadcast(c) - 1 };
}

export function contains(c: Cidr, ip: string): boolean {
  const n = ipToInt(ip);
  return n >= c.network && n <= broadcast(c);
}
