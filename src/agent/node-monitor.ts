// What the machine itself says about a node running real pods: capacity and
// allocatable (memory, ephemeral storage of the data directory's filesystem),
// the pressure conditions from the kubelet's default hard eviction thresholds,
// and the images the node holds for status.images. Sampled on a timer so that
// node status stays a synchronous computation.
import { readFileSync, statfsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { NodeHealth } from './node-status.js';

/** One entry of node.status.images. */
export interface NodeImage {
  names: string[];
  sizeBytes: number;
}

/** The kubelet's default evictionHard (Linux): memory.available<100Mi, nodefs.available<10%, nodefs.inodesFree<5%. */
export interface EvictionThresholds {
  memoryAvailableBytes: number;
  nodefsAvailableFraction: number;
  nodefsInodesFreeFraction: number;
}

export const defaultEvictionThresholds: EvictionThresholds = { memoryAvailableBytes: 100 * 1024 * 1024, nodefsAvailableFraction: 0.1, nodefsInodesFreeFraction: 0.05 };

/** The kubelet reports at most this many images (nodeStatusMaxImages). */
export const maxReportedImages = 50;

export interface MachineSample {
  memoryTotalBytes: number;
  memoryAvailableBytes: number;
  fsTotalBytes: number;
  fsAvailableBytes: number;
  inodesTotal: number;
  inodesFree: number;
}

/** MemAvailable from /proc/meminfo (what the kubelet's memory.available approximates), or free memory when unreadable. */
function memoryAvailable(): number | undefined {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export function sampleMachine(dataDir: string): MachineSample {
  const fs = statfsSync(dataDir);
  return {
    memoryTotalBytes: totalmem(),
    memoryAvailableBytes: memoryAvailable() ?? totalmem(),
    fsTotalBytes: fs.blocks * fs.bsize,
    fsAvailableBytes: fs.bavail * fs.bsize,
    inodesTotal: fs.files,
    inodesFree: fs.ffree,
  };
}

/** The pressure conditions a sample gives under the thresholds (no PID threshold by default, as the kubelet). */
export function healthOf(s: MachineSample, t: EvictionThresholds = defaultEvictionThresholds): NodeHealth {
  return {
    memoryPressure: s.memoryAvailableBytes < t.memoryAvailableBytes,
    diskPressure: s.fsAvailableBytes < s.fsTotalBytes * t.nodefsAvailableFraction || (s.inodesTotal > 0 && s.inodesFree < s.inodesTotal * t.nodefsInodesFreeFraction),
    pidPressure: false,
    networkReady: true,
  };
}

const Ki = 1024;

/** capacity and allocatable as the kubelet computes them: allocatable = capacity minus the hard eviction thresholds (no reservations). */
export function machineResources(s: MachineSample, t: EvictionThresholds = defaultEvictionThresholds): { capacity: Record<string, string>; allocatable: Record<string, string> } {
  const capacity = {
    cpu: String(cpus().length),
    'ephemeral-storage': `${Math.floor(s.fsTotalBytes / Ki)}Ki`,
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: `${Math.floor(s.memoryTotalBytes / Ki)}Ki`,
    pods: '110',
  };
  const allocatable = {
    ...capacity,
    'ephemeral-storage': String(Math.floor(s.fsTotalBytes * (1 - t.nodefsAvailableFraction))),
    memory: `${Math.floor(Math.max(0, s.memoryTotalBytes - t.memoryAvailableBytes) / Ki)}Ki`,
  };
  return { capacity, allocatable };
}

/** status.images: largest first, at most 50. */
export function reportedImages(images: NodeImage[]): NodeImage[] {
  return [...images].sort((a, b) => b.sizeBytes - a.sizeBytes || (a.names[0] ?? '').localeCompare(b.names[0] ?? '')).slice(0, maxReportedImages);
}

export interface NodeMonitorOptions {
  dataDir: string;
  /** The images the node's runtime holds. */
  listImages?: () => Promise<NodeImage[]>;
  thresholds?: EvictionThresholds;
  /** Sampling period (the kubelet's housekeeping is 10 s). */
  intervalMs?: number;
}

/** Samples the machine and the image list periodically; health() and images() answer from the last sample. */
export class NodeMonitor {
  private sample: MachineSample;
  private imageList: NodeImage[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: NodeMonitorOptions) {
    this.sample = sampleMachine(opts.dataDir);
  }

  /** Takes a first full sample (images included) and starts the timer. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.opts.intervalMs ?? 10_000);
    this.timer.unref();
  }

  async refresh(): Promise<void> {
    try {
      this.sample = sampleMachine(this.opts.dataDir);
    } catch {
      /* keep the last sample */
    }
    if (this.opts.listImages) {
      try {
        this.imageList = reportedImages(await this.opts.listImages());
      } catch {
        /* keep the last list */
      }
    }
  }

  resources(): { capacity: Record<string, string>; allocatable: Record<string, string> } {
    return machineResources(this.sample, this.opts.thresholds);
  }

  health(): NodeHealth {
    return healthOf(this.sample, this.opts.thresholds);
  }

  images(): NodeImage[] {
    return this.imageList;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
