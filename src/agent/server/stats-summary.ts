// The kubelet's Summary API (GET /stats/summary, stats/v1alpha1): the node's
// cpu, memory, network, file systems and processes, and per pod its cpu,
// memory, network (the sandbox's network namespace), containers (cpu, memory,
// rootfs, logs) and volumes. Figures come from the runtime's usage() and from
// /proc (proc-stats.ts).
//
// usageNanoCores is a rate: it needs two readings of a cgroup's cumulative cpu
// time. The previous reading is kept per cgroup; a request that finds no
// recent reading for some cgroup reads everything again after a short pause,
// so that even the first request has rates.
import { bootTime, fsFigures, nodeNetwork, nodeUsage, processFigures, type FsFigures } from '../proc-stats.js';
import type { CgroupUsage, NetworkInterfaceUsage, PodUsage, Runtime } from '../runtime.js';
import { apiTime } from '../timestamps.js';

type Json = Record<string, unknown>;

export interface StatsSummaryOptions {
  nodeName: string;
  runtime: Runtime;
  /** A path on the node's root file system (the agent's data dir): node.fs. */
  fsPath?: string;
  /** A path on the file system holding images: node.runtime.imageFs (default fsPath). */
  imageFsPath?: string;
  /** How long to wait between the two readings when there is no previous one (default 100 ms). */
  resampleMs?: number;
}

interface Reading {
  time: number;
  cpu: number;
}

/** Readings older than this do not make a rate: read again. */
const staleMs = 120_000;

function fsJson(time: string, fs: FsFigures | undefined, usedBytes?: number): Json {
  if (!fs) return usedBytes === undefined ? { time } : { time, usedBytes };
  return { time, ...fs, ...(usedBytes === undefined ? {} : { usedBytes }) };
}

function networkJson(time: string, interfaces: NetworkInterfaceUsage[], primary: string | undefined): Json {
  const main = interfaces.find((i) => i.name === primary) ?? interfaces[0];
  return { time, ...(main ? { name: main.name, rxBytes: main.rxBytes, rxErrors: main.rxErrors, txBytes: main.txBytes, txErrors: main.txErrors } : {}), interfaces };
}

/** A summed cgroup reading, for pods whose runtime reports no pod-level cgroup. */
function sumOf(parts: CgroupUsage[], time: number): CgroupUsage {
  const out: CgroupUsage = { time };
  for (const key of ['cpuUsageNanoSeconds', 'memoryUsageBytes', 'memoryWorkingSetBytes', 'memoryRssBytes', 'memoryPageFaults', 'memoryMajorPageFaults'] as const) {
    const values = parts.map((p) => p[key]).filter((v): v is number => v !== undefined);
    if (values.length > 0) out[key] = values.reduce((a, b) => a + b, 0);
  }
  return out;
}

export class StatsSummary {
  private readonly readings = new Map<string, Reading>();

  constructor(private readonly opts: StatsSummaryOptions) {}

  /** The Summary; onlyCpuAndMemory leaves out network, file systems and volumes (metrics-server asks for that). */
  async summary(onlyCpuAndMemory = false): Promise<Json> {
    let pods = (await this.opts.runtime.usage?.()) ?? [];
    let node = nodeUsage();
    const keys = ['node', ...pods.flatMap((p) => [`pod/${p.uid}`, ...p.containers.map((c) => `container/${c.id}`)])];
    if (keys.some((k) => !this.fresh(k, node.time))) {
      // No recent reading to take a rate against: take one now and read again shortly.
      this.remember('node', node);
      for (const p of pods) this.rememberPod(p);
      await new Promise((r) => setTimeout(r, this.opts.resampleMs ?? 100));
      pods = (await this.opts.runtime.usage?.()) ?? [];
      node = nodeUsage();
    }
    const seen = new Set<string>();
    const cpu = (key: string, u: CgroupUsage): Json => {
      seen.add(key);
      const out: Json = { time: apiTime(u.time) };
      if (u.cpuUsageNanoSeconds === undefined) return out;
      const nanoCores = this.rate(key, u);
      if (nanoCores !== undefined) out.usageNanoCores = nanoCores;
      out.usageCoreNanoSeconds = u.cpuUsageNanoSeconds;
      return out;
    };
    const memory = (u: CgroupUsage & { memoryAvailableBytes?: number }): Json => {
      const out: Json = { time: apiTime(u.time) };
      if (u.memoryAvailableBytes !== undefined) out.availableBytes = u.memoryAvailableBytes;
      if (u.memoryUsageBytes !== undefined) out.usageBytes = u.memoryUsageBytes;
      if (u.memoryWorkingSetBytes !== undefined) out.workingSetBytes = u.memoryWorkingSetBytes;
      if (u.memoryRssBytes !== undefined) out.rssBytes = u.memoryRssBytes;
      if (u.memoryPageFaults !== undefined) out.pageFaults = u.memoryPageFaults;
      if (u.memoryMajorPageFaults !== undefined) out.majorPageFaults = u.memoryMajorPageFaults;
      return out;
    };
    const now = apiTime(node.time);
    const rootFs = onlyCpuAndMemory || !this.opts.fsPath ? undefined : await fsFigures(this.opts.fsPath);
    const imageFs = onlyCpuAndMemory ? undefined : await fsFigures(this.opts.imageFsPath ?? this.opts.fsPath ?? '/');
    const nodeJson: Json = { nodeName: this.opts.nodeName, startTime: apiTime(bootTime() ?? node.time), cpu: cpu('node', node), memory: memory(node) };
    if (!onlyCpuAndMemory) {
      const net = nodeNetwork();
      nodeJson.network = networkJson(now, net.interfaces, net.primary);
      nodeJson.fs = fsJson(now, rootFs);
      nodeJson.runtime = { imageFs: fsJson(now, imageFs) };
      nodeJson.rlimit = { time: now, ...processFigures() };
    }
    const podsJson = pods.map((p) => this.podJson(p, cpu, memory, onlyCpuAndMemory, rootFs));
    for (const k of [...this.readings.keys()]) if (!seen.has(k)) this.readings.delete(k);
    return { node: nodeJson, pods: podsJson };
  }

  private podJson(p: PodUsage, cpu: (key: string, u: CgroupUsage) => Json, memory: (u: CgroupUsage) => Json, onlyCpuAndMemory: boolean, rootFs: FsFigures | undefined): Json {
    const time = apiTime(p.time);
    const containers = p.containers.map((c) => {
      const out: Json = { name: c.name, startTime: apiTime(c.startedAt), cpu: cpu(`container/${c.id}`, c), memory: memory(c) };
      if (!onlyCpuAndMemory) {
        out.rootfs = fsJson(apiTime(c.time), rootFs, c.rootfsUsedBytes ?? 0);
        out.logs = fsJson(apiTime(c.time), rootFs, c.logsUsedBytes ?? 0);
      }
      return out;
    });
    const podLevel = p.cpuUsageNanoSeconds !== undefined || p.memoryUsageBytes !== undefined ? p : sumOf(p.containers, p.time);
    const out: Json = { podRef: { name: p.name, namespace: p.namespace, uid: p.uid }, startTime: apiTime(p.createdAt), containers, cpu: cpu(`pod/${p.uid}`, podLevel), memory: memory(podLevel) };
    if (!onlyCpuAndMemory) {
      if (p.network) out.network = networkJson(time, p.network, 'eth0');
      const volumes = p.volumes ?? [];
      out.volume = volumes.map((v) => ({ ...fsJson(time, rootFs, v.usedBytes), name: v.name }));
      const ephemeral = p.containers.reduce((n, c) => n + (c.rootfsUsedBytes ?? 0) + (c.logsUsedBytes ?? 0), 0) + volumes.reduce((n, v) => n + v.usedBytes, 0);
      out['ephemeral-storage'] = fsJson(time, rootFs, ephemeral);
    }
    return out;
  }

  private fresh(key: string, now: number): boolean {
    const r = this.readings.get(key);
    return !!r && now - r.time < staleMs;
  }

  private remember(key: string, u: CgroupUsage): void {
    if (u.cpuUsageNanoSeconds !== undefined) this.readings.set(key, { time: u.time, cpu: u.cpuUsageNanoSeconds });
  }

  private rememberPod(p: PodUsage): void {
    this.remember(`pod/${p.uid}`, p.cpuUsageNanoSeconds !== undefined ? p : sumOf(p.containers, p.time));
    for (const c of p.containers) this.remember(`container/${c.id}`, c);
  }

  /** Nanocores since the previous reading of the cgroup (which this one replaces); undefined without one. */
  private rate(key: string, u: CgroupUsage): number | undefined {
    const prev = this.readings.get(key);
    const cpuNs = u.cpuUsageNanoSeconds!;
    if (!prev || u.time <= prev.time || cpuNs < prev.cpu) {
      this.readings.set(key, { time: u.time, cpu: cpuNs });
      return undefined;
    }
    this.readings.set(key, { time: u.time, cpu: cpuNs });
    return Math.round(((cpuNs - prev.cpu) * 1000) / (u.time - prev.time));
  }
}
