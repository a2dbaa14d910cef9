// The node's own usage figures from /proc and statfs, as cAdvisor reports
// the machine (root cgroup) for the kubelet's Summary API: cpu time from
// /proc/stat, memory from /proc/meminfo and /proc/vmstat, interfaces from
// /proc/net/dev, file systems from statfs. The parsers serve runtimes too.
import { readdirSync, readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import type { CgroupUsage, NetworkInterfaceUsage } from './runtime.js';

/** "key value" lines (memory.stat, cpu.stat, /proc/vmstat) as numbers. */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && Number.isFinite(Number(v))) out.set(k, Number(v));
  }
  return out;
}

/** /proc/net/dev as interfaces (loopback left out, as cAdvisor does). */
export function parseNetDev(text: string): NetworkInterfaceUsage[] {
  const out: NetworkInterfaceUsage[] = [];
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (name === 'lo' || f.length < 16) continue;
    out.push({ name, rxBytes: f[0]!, rxErrors: f[2]!, txBytes: f[8]!, txErrors: f[10]! });
  }
  return out;
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** USER_HZ: /proc/stat counts in hundredths of a second on Linux. */
const nsPerTick = 10_000_000;

/** The machine's cpu and memory: busy cpu time (all but idle and iowait), memory in use less free, working set less inactive file pages. */
export function nodeUsage(now = Date.now()): CgroupUsage & { memoryAvailableBytes?: number } {
  const usage: CgroupUsage & { memoryAvailableBytes?: number } = { time: now };
  const cpuLine = read('/proc/stat').split('\n').find((l) => l.startsWith('cpu '));
  if (cpuLine) {
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpuLine.trim().split(/\s+/).slice(1).map(Number);
    usage.cpuUsageNanoSeconds = (user + nice + system + irq + softirq + steal) * nsPerTick;
  }
  const kb = new Map<string, number>();
  for (const line of read('/proc/meminfo').split('\n')) {
    const m = /^([^:]+):\s+(\d+)/.exec(line);
    if (m) kb.set(m[1]!, Number(m[2]) * 1024);
  }
  const total = kb.get('MemTotal');
  const free = kb.get('MemFree');
  if (total !== undefined && free !== undefined) {
    usage.memoryUsageBytes = total - free;
    usage.memoryWorkingSetBytes = Math.max(0, total - free - (kb.get('Inactive(file)') ?? 0));
    usage.memoryAvailableBytes = kb.get('MemAvailable');
    usage.memoryRssBytes = kb.get('AnonPages');
  }
  const vm = parseFlatKeyed(read('/proc/vmstat'));
  usage.memoryPageFaults = vm.get('pgfault');
  usage.memoryMajorPageFaults = vm.get('pgmajfault');
  return usage;
}

/** When the machine booted (epoch ms), from /proc/stat btime. */
export function bootTime(): number | undefined {
  const line = read('/proc/stat').split('\n').find((l) => l.startsWith('btime '));
  return line ? Number(line.split(/\s+/)[1]) * 1000 : undefined;
}

/** The interfaces of the agent's network namespace; the primary one carries the default route. */
export function nodeNetwork(): { primary: string | undefined; interfaces: NetworkInterfaceUsage[] } {
  const interfaces = parseNetDev(read('/proc/self/net/dev'));
  const route = read('/proc/net/route').split('\n').slice(1).map((l) => l.trim().split(/\s+/)).find((f) => f[1] === '00000000');
  return { primary: route?.[0] ?? interfaces[0]?.name, interfaces };
}

export interface FsFigures {
  availableBytes: number;
  capacityBytes: number;
  usedBytes: number;
  inodesFree: number;
  inodes: number;
  inodesUsed: number;
}

/** statfs of the file system holding path; undefined when it cannot be read. */
export async function fsFigures(path: string): Promise<FsFigures | undefined> {
  try {
    const s = await statfs(path);
    return {
      availableBytes: s.bavail * s.bsize,
      capacityBytes: s.blocks * s.bsize,
      usedBytes: (s.blocks - s.bfree) * s.bsize,
      inodesFree: s.ffree,
      inodes: s.files,
      inodesUsed: s.files - s.ffree,
    };
  } catch {
    return undefined;
  }
}

/** pid_max and the number of processes, the Summary API's rlimit. */
export function processFigures(): { maxpid?: number; curproc: number } {
  const max = Number(read('/proc/sys/kernel/pid_max').trim());
  let curproc = 0;
  try {
    for (const n of readdirSync('/proc')) if (/^\d+$/.test(n)) curproc++;
  } catch {
    /* no /proc */
  }
  return { ...(Number.isFinite(max) && max > 0 ? { maxpid: max } : {}), curproc };
}
