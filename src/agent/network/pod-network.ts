// The node's pod network, as the kubenet/bridge CNI setup: a Linux bridge (nami0) holding the
// gateway address of the node's pod CIDR (10.244.0.1/24 for 10.244.0.0/24), one veth pair per
// pod (the host end a port of the bridge, the other end eth0 in the pod's network namespace
// with the pod's address and a default route via the gateway), addresses from HostLocalIpam.
// Pods of the node reach each other over the bridge, the node reaches them through the
// bridge's address; with several nodes, each node's pod CIDR is routed to that node (and
// forwarding is on), so pods reach pods of other nodes through their gateway. Optionally,
// traffic from the pod CIDR to outside the cluster's pod range is masqueraded (iptables).
// Everything is done with `ip` (iproute2), `nsenter` and `iptables`, idempotently; a pod's
// attachment is one process (a shell running one `ip -batch` on each side).
import { createHash } from 'node:crypto';
import { existsSync, readlinkSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { spawnPool } from '../spawn-pool.js';
import { gateway, parseCidr, type Cidr } from './cidr.js';
import { HostLocalIpam } from './ipam.js';

const exec = (file: string, args: string[], opts: { maxBuffer?: number } = {}) => spawnPool.execFile(file, args, opts);

export const defaultBridge = 'nami0';

export interface PodNetworkOptions {
  /** The node's pod range, "10.244.0.0/24". */
  podCidr: string;
  /** The bridge's name (default nami0), at most 15 characters. */
  bridge?: string;
  /** Where the address allocations are kept (<stateDir>/ipam-<bridge>.json). */
  stateDir: string;
  /** Masquerade traffic from the pod CIDR to outside clusterCidr (default off). */
  masquerade?: boolean;
  /** All nodes' pod ranges together (default: podCidr): traffic to it keeps its pod source address. */
  clusterCidr?: string;
  /** Turn on net.ipv4.ip_forward and accept forwarded traffic of the bridge (default off): needed to reach other nodes' pods and the outside. */
  forwarding?: boolean;
  /** MTU of the bridge and the veths (default: the kernel's, 1500). */
  mtu?: number;
}

export interface PodAttachment {
  ip: string;
  prefix: number;
  gateway: string;
  /** The host end of the pod's veth pair. */
  hostVeth: string;
}

export class NetworkSetupError extends Error {
  override readonly name = 'NetworkSetupError';
}

async function cmd(file: string, args: string[]): Promise<string> {
  try {
    return (await exec(file, args, { maxBuffer: 4 << 20 })).stdout;
  } catch (e) {
    const stderr = String((e as { stderr?: string }).stderr ?? '').trim();
    throw new NetworkSetupError(`${file} ${args.join(' ')}: ${stderr || (e as Error).message}`, { cause: e });
  }
}

async function quiet(file: string, args: string[]): Promise<boolean> {
  try {
    await exec(file, args);
    return true;
  } catch {
    return false;
  }
}

/** Whether the agent's network namespace has this link (sysfs: no process to start). */
function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

/** The bridge a link is a port of. */
function masterOf(name: string): string | undefined {
  try {
    return basename(readlinkSync(`/sys/class/net/${name}/master`));
  } catch {
    return undefined;
  }
}

/** The host end of an owner's veth pair: veth + 8 hex digits of a hash of the owner. */
export function hostVethName(owner: string): string {
  return `veth${createHash('sha256').update(owner).digest('hex').slice(0, 8)}`;
}

export class PodNetwork {
  readonly bridge: string;
  readonly cidr: Cidr;
  readonly gateway: string;
  readonly ipam: HostLocalIpam;

  private constructor(private readonly opts: PodNetworkOptions) {
    this.bridge = opts.bridge ?? defaultBridge;
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(this.bridge)) throw new Error(`bad bridge name ${JSON.stringify(this.bridge)}: 1 to 15 of [A-Za-z0-9_.-]`);
    this.cidr = parseCidr(opts.podCidr);
    this.gateway = gateway(this.cidr);
    this.ipam = new HostLocalIpam(join(opts.stateDir, `ipam-${this.bridge}.json`), this.cidr.text);
  }

  /** Sets up the node's side (bridge, gateway address, forwarding, masquerade); idempotent. */
  static async open(opts: PodNetworkOptions): Promise<PodNetwork> {
    const net = new PodNetwork(opts);
    await net.ensureBridge();
    if (opts.forwarding) await net.ensureForwarding();
    if (opts.masquerade) await net.ensureMasquerade();
    return net;
  }

  private async ensureBridge(): Promise<void> {
    if (!linkExists(this.bridge)) {
      const add = ['link', 'add', 'name', this.bridge, ...(this.opts.mtu ? ['mtu', String(this.opts.mtu)] : []), 'type', 'bridge'];
      // Another process may have created it meanwhile: only a failure that leaves no bridge counts.
      if (!(await quiet('ip', add)) && !linkExists(this.bridge)) await cmd('ip', add);
    }
    const addr = `${this.gateway}/${this.cidr.prefix}`;
    const shown = await cmd('ip', ['-o', '-4', 'addr', 'show', 'dev', this.bridge]);
    if (!shown.includes(` ${addr} `)) await cmd('ip', ['addr', 'replace', addr, 'dev', this.bridge]);
    await cmd('ip', ['link', 'set', 'dev', this.bridge, 'up']);
  }

  private masqueradeRule(): string[] {
    return ['POSTROUTING', '-s', this.cidr.text, '!', '-d', parseCidr(this.opts.clusterCidr ?? this.cidr.text).text, '-m', 'comment', '--comment', `nami pod masquerade ${this.bridge}`, '-j', 'MASQUERADE'];
  }

  private forwardRules(): string[][] {
    return [
      ['FORWARD', '-i', this.bridge, '-m', 'comment', '--comment', `nami pod forward ${this.bridge}`, '-j', 'ACCEPT'],
      ['FORWARD', '-o', this.bridge, '-m', 'comment', '--comment', `nami pod forward ${this.bridge}`, '-j', 'ACCEPT'],
    ];
  }

  private async ensureRule(table: string, rule: string[]): Promise<void> {
    if (await quiet('iptables', ['-w', '-t', table, '-C', ...rule])) return;
    await cmd('iptables', ['-w', '-t', table, '-A', ...rule]);
  }

  private async deleteRule(table: string, rule: string[]): Promise<void> {
    // Delete every copy.
    for (let i = 0; i < 16 && (await quiet('iptables', ['-w', '-t', table, '-D', ...rule])); i++);
  }

  private async ensureMasquerade(): Promise<void> {
    await this.ensureRule('nat', this.masqueradeRule());
  }

  private async ensureForwarding(): Promise<void> {
    await writeFile('/proc/sys/net/ipv4/ip_forward', '1\n');
    for (const r of this.forwardRules()) await this.ensureRule('filter', r);
  }

  /** Whether the masquerade rule is in place. */
  async masquerading(): Promise<boolean> {
    return quiet('iptables', ['-w', '-t', 'nat', '-C', ...this.masqueradeRule()]);
  }

  /** The owner's address, allocating one when it has none (sync: file-backed). */
  allocate(owner: string): string {
    return this.ipam.allocate(owner);
  }

  /** The owner's address, if it has one. */
  addressOf(owner: string): string | undefined {
    return this.ipam.get(owner);
  }

  /**
   * Connects the network namespace of process `pid` to the bridge: a veth pair, `ifname` (eth0)
   * inside with the owner's address and a default route via the gateway. Idempotent: a namespace
   * already connected with that address is left as it is.
   */
  async attach(owner: string, pid: number, ifname = 'eth0'): Promise<PodAttachment> {
    const ip = this.allocate(owner);
    const hostVeth = hostVethName(owner);
    const res: PodAttachment = { ip, prefix: this.cidr.prefix, gateway: this.gateway, hostVeth };
    const netns = `/proc/${pid}/ns/net`;
    const addr = `${ip}/${this.cidr.prefix}`;
    if (linkExists(hostVeth)) {
      const inside = await cmd('nsenter', [`--net=${netns}`, '--', 'ip', '-o', '-4', 'addr', 'show', 'dev', ifname]).catch(() => '');
      if (inside.includes(` ${addr} `) && masterOf(hostVeth) === this.bridge) return res;
      await quiet('ip', ['link', 'del', 'dev', hostVeth]);
    }
    // The peer's temporary name of earlier versions, left by a failed attach.
    const tmp = `tmp${hostVeth.slice(4)}`;
    if (linkExists(tmp)) await quiet('ip', ['link', 'del', 'dev', tmp]);
    const mtu = this.opts.mtu ? ['mtu', String(this.opts.mtu)] : [];
    // One process for the whole setup (each process the agent starts costs it a fork): the pair is
    // created with its inside end already in the pod's namespace, then the inside is configured there.
    const host = [['link', 'add', 'name', hostVeth, ...mtu, 'master', this.bridge, 'up', 'type', 'veth', 'peer', 'name', ifname, ...mtu, 'netns', String(pid)]];
    const inside = [
      ['addr', 'replace', addr, 'dev', ifname],
      ['link', 'set', 'dev', ifname, 'up'],
      ['link', 'set', 'dev', 'lo', 'up'],
      ['route', 'replace', 'default', 'via', this.gateway, 'dev', ifname],
    ];
    const batch = (lines: string[][]) => lines.map((l) => l.join(' ')).join('\n');
    try {
      await exec('sh', ['-c', 'printf "%s\\n" "$1" | ip -batch - && printf "%s\\n" "$2" | nsenter --net="$3" -- ip -batch -', 'nami-pod-network', batch(host), batch(inside), netns]);
    } catch (e) {
      const stderr = String((e as { stderr?: string }).stderr ?? '').trim();
      await quiet('ip', ['link', 'del', 'dev', hostVeth]);
      throw new NetworkSetupError(`connecting ${netns} to ${this.bridge}: ${stderr || (e as Error).message}`, { cause: e });
    }
    return res;
  }

  /** Deletes the owner's veth pair (gone already when its namespace went away) and, unless told not to, frees its address. */
  async detach(owner: string, opts: { release?: boolean } = {}): Promise<void> {
    const hostVeth = hostVethName(owner);
    if (linkExists(hostVeth)) await quiet('ip', ['link', 'del', 'dev', hostVeth]);
    if (opts.release !== false) this.ipam.release(owner);
  }

  /** Frees the addresses of owners that `keep` says are gone (pods the runtime no longer has). */
  async releaseUnknown(keep: (owner: string) => boolean): Promise<string[]> {
    const freed: string[] = [];
    for (const [ip, owner] of Object.entries(this.ipam.allocations())) {
      if (keep(owner)) continue;
      await this.detach(owner);
      freed.push(ip);
    }
    return freed;
  }

  /** Removes the node's side: the bridge, and the forwarding and masquerade rules (tests, node teardown); veths of pods still attached stay until detached. */
  async removeNodeNetwork(): Promise<void> {
    await this.deleteRule('nat', this.masqueradeRule());
    for (const r of this.forwardRules()) await this.deleteRule('filter', r);
    if (linkExists(this.bridge)) await quiet('ip', ['link', 'del', 'dev', this.bridge]);
  }
}
