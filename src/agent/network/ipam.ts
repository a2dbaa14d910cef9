// Host-local IP address management, as CNI's host-local plugin: addresses of the node's pod
// CIDR handed out to owners (pod UIDs), recorded in one JSON file so that they survive an
// agent restart. Never hands out the network address, the gateway (.1) or the broadcast
// address; goes round-robin from the last address handed out, so that a released address is
// not reused at once. Synchronous file I/O: calls never interleave within the process (one
// agent per node owns the file).
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { contains, intToIp, ipToInt, parseCidr, podRange, type Cidr } from './cidr.js';

interface IpamState {
  cidr: string;
  /** The last address handed out; the next search starts after it. */
  last?: string;
  /** address -> owner */
  allocations: Record<string, string>;
}

export class IpamExhaustedError extends Error {
  override readonly name = 'IpamExhaustedError';
}

export class HostLocalIpam {
  readonly cidr: Cidr;

  constructor(
    readonly file: string,
    cidr: string,
  ) {
    this.cidr = parseCidr(cidr);
  }

  private load(): IpamState {
    let st: IpamState | undefined;
    try {
      st = JSON.parse(readFileSync(this.file, 'utf8')) as IpamState;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read the IP allocations ${this.file}: ${(e as Error).message}`, { cause: e });
    }
    if (!st || typeof st.allocations !== 'object' || st.allocations === null) return { cidr: this.cidr.text, allocations: {} };
    if (st.cidr !== this.cidr.text) {
      // The node's range changed: what is outside it is no longer ours to track.
      const { first, last } = podRange(this.cidr);
      for (const ip of Object.keys(st.allocations)) {
        const n = ipToInt(ip);
        if (n < first || n > last) delete st.allocations[ip];
      }
      st.cidr = this.cidr.text;
      delete st.last;
    }
    return st;
  }

  private save(st: IpamState): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp-${process.pid}`;
    const fd = openSync(tmp, 'w', 0o644);
    try {
      // No fsync, as CNI's host-local store: after a machine crash every pod gets its network anew.
      writeSync(fd, JSON.stringify(st, null, 1));
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }

  /** The owner's address: the one it has, or the next free one. Throws IpamExhaustedError. */
  allocate(owner: string): string {
    const st = this.load();
    const had = this.find(st, owner);
    if (had) return had;
    const { first, last } = podRange(this.cidr);
    const total = last - first + 1;
    const prev = st.last && contains(this.cidr, st.last) ? ipToInt(st.last) : last;
    for (let i = 1; i <= total; i++) {
      const n = first + ((prev - first + i) % total + total) % total;
      const ip = intToIp(n);
      if (st.allocations[ip] === undefined) {
        st.allocations[ip] = owner;
        st.last = ip;
        this.save(st);
        return ip;
      }
    }
    throw new IpamExhaustedError(`no free address left in ${this.cidr.text} (${total} allocated)`);
  }

  /** Frees the owner's address; returns it, or undefined when it had none. */
  release(owner: string): string | undefined {
    const st = this.load();
    const ip = this.find(st, owner);
    if (!ip) return undefined;
    delete st.allocations[ip];
    this.save(st);
    return ip;
  }

  get(owner: string): string | undefined {
    return this.find(this.load(), owner);
  }

  /** address -> owner */
  allocations(): Record<string, string> {
    return { ...this.load().allocations };
  }

  private find(st: IpamState, owner: string): string | undefined {
    return Object.entries(st.allocations).find(([, o]) => o === owner)?.[0];
  }
}
