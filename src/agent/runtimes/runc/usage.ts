// Usage figures of runc containers and pods, read where cAdvisor reads them:
// cgroup v1 cpuacct.usage, memory.usage_in_bytes and memory.stat
// (total_inactive_file, total_rss, total_pgfault, total_pgmajfault); cgroup v2
// cpu.stat usage_usec, memory.current and memory.stat (inactive_file, anon,
// pgfault, pgmajfault). The working set is usage less inactive file pages.
// Network figures come from /proc/<pid>/net/dev of a process in the pod's
// network namespace; disk figures from walking the directories.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFlatKeyed, parseNetDev } from '../../proc-stats.js';
import type { CgroupUsage, NetworkInterfaceUsage } from '../../runtime.js';
import { cgroupDir, cgroupV2 } from './cgroups.js';

function readNumber(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function readFlatKeyed(file: string): Map<string, number> | undefined {
  try {
    return parseFlatKeyed(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** memory.stat's names for the figures: v1 sums the hierarchy under total_*, v2 names them plainly. */
const memoryStatKeys = {
  v1: { inactiveFile: 'total_inactive_file', rss: 'total_rss', pgfault: 'total_pgfault', pgmajfault: 'total_pgmajfault' },
  v2: { inactiveFile: 'inactive_file', rss: 'anon', pgfault: 'pgfault', pgmajfault: 'pgmajfault' },
};

/** The figures from a cgroup's cpu time (ns), memory in use and memory.stat. */
function usageOf(now: number, cpuNs: number | undefined, memory: number | undefined, stat: Map<string, number>, keys: (typeof memoryStatKeys)['v1']): CgroupUsage {
  const usage: CgroupUsage = { time: now };
  if (cpuNs !== undefined) usage.cpuUsageNanoSeconds = cpuNs;
  if (memory !== undefined) {
    usage.memoryUsageBytes = memory;
    usage.memoryWorkingSetBytes = Math.max(0, memory - (stat.get(keys.inactiveFile) ?? 0));
  }
  usage.memoryRssBytes = stat.get(keys.rss);
  usage.memoryPageFaults = stat.get(keys.pgfault);
  usage.memoryMajorPageFaults = stat.get(keys.pgmajfault);
  return usage;
}

/** The cpu and memory figures of a cgroup given by its relative path (as runc took it); undefined when it does not exist. */
export function cgroupUsage(relative: string, now = Date.now()): CgroupUsage | undefined {
  if (cgroupV2()) {
    const dir = cgroupDir(relative);
    const cpu = readFlatKeyed(join(dir, 'cpu.stat'));
    const memory = readNumber(join(dir, 'memory.current'));
    if (!cpu && memory === undefined) return undefined;
    const usec = cpu?.get('usage_usec');
    return usageOf(now, usec === undefined ? undefined : usec * 1000, memory, readFlatKeyed(join(dir, 'memory.stat')) ?? new Map(), memoryStatKeys.v2);
  }
  const cpu = readNumber(join(cgroupDir(relative, 'cpuacct'), 'cpuacct.usage'));
  const memDir = cgroupDir(relative, 'memory');
  const memory = readNumber(join(memDir, 'memory.usage_in_bytes'));
  if (cpu === undefined && memory === undefined) return undefined;
  return usageOf(now, cpu, memory, readFlatKeyed(join(memDir, 'memory.stat')) ?? new Map(), memoryStatKeys.v1);
}

/** The interfaces of the network namespace a process is in. */
export function netDevOf(pid: number | 'self'): NetworkInterfaceUsage[] | undefined {
  try {
    return parseNetDev(readFileSync(`/proc/${pid}/net/dev`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Bytes under a directory (du: allocated blocks), not following symlinks nor crossing into what is mounted below it. */
export function directoryBytes(dir: string, limitEntries = 100_000): number {
  let total = 0;
  let seen = 0;
  const walk = (d: string, dev: number) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      if (++seen > limitEntries) return;
      try {
        const st = lstatSync(join(d, n));
        if (st.dev !== dev) continue;
        total += st.blocks * 512;
        if (st.isDirectory()) walk(join(d, n), dev);
      } catch {
        /* gone meanwhile */
      }
    }
  };
  try {
    walk(dir, lstatSync(dir).dev);
  } catch {
    return 0;
  }
  return total;
}

/** A file's size in bytes, 0 when it is missing. */
export function fileBytes(file: string): number {
  try {
    return lstatSync(file).size;
  } catch {
    return 0;
  }
}
