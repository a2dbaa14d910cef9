// Pod cgroups by QoS class, as the kubelet lays them out with the cgroupfs
// driver (pkg/kubelet/cm: qos_container_manager, pod_container_manager):
//   kubepods/pod<uid>/<container id>              Guaranteed
//   kubepods/burstable/pod<uid>/<container id>    Burstable
//   kubepods/besteffort/pod<uid>/<container id>   BestEffort
// The pod's sandbox and containers live under the pod cgroup, which carries
// the pod-level limits (ResourceConfigForPod): cpu.shares from the summed
// requests, the cfs quota from the summed limits when every container has a
// cpu limit, the memory limit when every container has one; BestEffort pods
// get the minimum shares (2), as does the besteffort cgroup itself.
//
// The paths are relative, as runc resolves a relative cgroupsPath: below the
// agent's own cgroup in each v1 hierarchy, below its parent on the v2 unified
// hierarchy (a cgroup with processes cannot enable controllers for children).
// cgroup v2 takes cpu.weight (runc's conversion from shares), cpu.max and
// memory.max instead of cpu.shares, cpu.cfs_quota_us and memory.limit_in_bytes.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { resourceAmount, podRequests } from '../../../api/scheduling/resources.js';
import type { KubeObject } from '../../../api/object.js';

type Json = Record<string, unknown>;
export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

export const cgroupMount = '/sys/fs/cgroup';
/** The kubelet's MinShares and the CFS period it uses. */
export const minShares = 2;
export const cpuPeriodUs = 100_000;

export function cgroupV2(): boolean {
  return existsSync(join(cgroupMount, 'cgroup.controllers'));
}

/** v1GetPodQOS: Guaranteed when every container's cpu and memory limits equal its requests, BestEffort when none sets any. */
export function qosClassOf(pod: KubeObject): QosClass {
  const reported = (pod.status as Json | undefined)?.qosClass;
  if (reported === 'Guaranteed' || reported === 'Burstable' || reported === 'BestEffort') return reported;
  const spec = (pod.spec ?? {}) as Json;
  const containers = [...((spec.containers ?? []) as Json[]), ...((spec.initContainers ?? []) as Json[])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const res = (c.resources ?? {}) as Json;
    const requests = (res.requests ?? {}) as Record<string, string | number>;
    const limits = (res.limits ?? {}) as Record<string, string | number>;
    for (const r of ['cpu', 'memory']) {
      if (requests[r] !== undefined || limits[r] !== undefined) any = true;
      const limit = resourceAmount(r, limits[r]);
      if (limit === 0 || resourceAmount(r, requests[r] ?? limits[r]) !== limit) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** The pod's cgroup, relative as runc takes it: kubepods[/burstable|/besteffort]/pod<uid>. */
export function podCgroupParent(qos: QosClass, uid: string): string {
  const level = qos === 'Guaranteed' ? '' : `/${qos.toLowerCase()}`;
  return `kubepods${level}/pod${uid.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** A container's cgroup below its pod's; pods made before QoS cgroups have none and run under nami/. */
export function containerCgroup(podParent: string | undefined, id: string): string {
  return podParent ? `${podParent}/${id}` : `nami/${id}`;
}

/** The kubelet's MilliCPUToShares. */
export function milliCpuToShares(milliCpu: number): number {
  return milliCpu <= 0 ? minShares : Math.max(minShares, Math.floor((milliCpu * 1024) / 1000));
}

/** runc's ConvertCPUSharesToCgroupV2Value: shares 2..262144 onto weight 1..10000. */
export function sharesToWeight(shares: number): number {
  if (shares <= 0) return 0;
  return Math.floor(1 + ((shares - 2) * 9999) / 262142);
}

export interface PodCgroupConfig {
  cpuShares: number;
  /** Microseconds per cpuPeriodUs; undefined: no cpu limit. */
  cpuQuotaUs?: number;
  memoryLimitBytes?: number;
}

/** The kubelet's ResourceConfigForPod (hugepages left out). */
export function podCgroupConfig(pod: KubeObject): PodCgroupConfig {
  const qos = qosClassOf(pod);
  if (qos === 'BestEffort') return { cpuShares: minShares };
  const spec = (pod.spec ?? {}) as Json;
  const containers = (spec.containers ?? []) as Json[];
  const limitsOf = (c: Json) => ((c.resources ?? {}) as Json).limits as Record<string, string | number> | undefined;
  let cpuLimits = 0;
  let memoryLimits = 0;
  let cpuDeclared = true;
  let memoryDeclared = true;
  for (const c of containers) {
    const cpu = resourceAmount('cpu', limitsOf(c)?.cpu);
    const memory = resourceAmount('memory', limitsOf(c)?.memory);
    if (cpu === 0) cpuDeclared = false;
    if (memory === 0) memoryDeclared = false;
    cpuLimits += cpu;
    memoryLimits += memory;
  }
  // Init containers run one at a time: the largest of them is a floor, as for requests.
  for (const c of (spec.initContainers ?? []) as Json[]) {
    const cpu = resourceAmount('cpu', limitsOf(c)?.cpu);
    const memory = resourceAmount('memory', limitsOf(c)?.memory);
    if (c.restartPolicy === 'Always') {
      if (cpu === 0) cpuDeclared = false;
      if (memory === 0) memoryDeclared = false;
      cpuLimits += cpu;
      memoryLimits += memory;
    } else {
      cpuLimits = Math.max(cpuLimits, cpu);
      memoryLimits = Math.max(memoryLimits, memory);
    }
  }
  const out: PodCgroupConfig = { cpuShares: milliCpuToShares(podRequests(pod, { excludeOverhead: false }).cpu ?? 0) };
  if (qos === 'Guaranteed' || cpuDeclared) out.cpuQuotaUs = Math.max(1000, Math.floor((cpuLimits * cpuPeriodUs) / 1000));
  if (qos === 'Guaranteed' || memoryDeclared) out.memoryLimitBytes = memoryLimits;
  return out;
}

/** The agent's own cgroup in a v1 hierarchy ("cpu", "memory" ...) or on v2 (""), from /proc/self/cgroup. */
function ownCgroup(controller: string): string {
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [, controllers, path] = line.split(':');
    if (path === undefined) continue;
    if (controller === '' ? line.startsWith('0::') : controllers!.split(',').includes(controller)) return path;
  }
  return '/';
}

/**
 * Where a relative cgroup path is on this node, as runc resolves it: in the v1 hierarchy mounted
 * at /sys/fs/cgroup/<mountDir> ("cpu", "memory", "systemd" ...), or on the v2 hierarchy (mountDir "").
 */
export function cgroupDir(relative: string, mountDir = ''): string {
  if (mountDir === '') return join(cgroupMount, dirname(ownCgroup('')), relative);
  // The v2 hierarchy beside the v1 ones (hybrid mode), where runc makes the container's cgroup too.
  if (mountDir === 'unified') return join(cgroupMount, mountDir, ownCgroup(''), relative);
  return join(cgroupMount, mountDir, ownCgroup(mountDir === 'systemd' ? 'name=systemd' : mountDir), relative);
}

async function writeIfPresent(file: string, value: string): Promise<void> {
  if (existsSync(file)) await writeFile(file, value);
}

/** Makes the pod's cgroup (and its QoS level) with the pod-level limits; the besteffort level gets the minimum shares. */
export async function ensurePodCgroup(parent: string, config: PodCgroupConfig): Promise<void> {
  const qosLevel = dirname(parent);
  if (cgroupV2()) {
    // Controllers must be enabled down the tree for the pod's cgroup to take limits.
    const dir = cgroupDir(parent);
    await mkdir(dir, { recursive: true });
    // One controller at a time, top down: a controller the parent lacks fails alone.
    for (const level of [cgroupDir('kubepods'), cgroupDir(qosLevel), dir].filter((d, i, all) => all.indexOf(d) === i)) {
      for (const controller of ['cpu', 'memory', 'pids']) await writeIfPresent(join(dirname(level), 'cgroup.subtree_control'), `+${controller}`).catch(() => undefined);
    }
    if (qosLevel.endsWith('/besteffort')) await writeIfPresent(join(cgroupDir(qosLevel), 'cpu.weight'), String(sharesToWeight(minShares)));
    await writeIfPresent(join(dir, 'cpu.weight'), String(sharesToWeight(config.cpuShares)));
    await writeIfPresent(join(dir, 'cpu.max'), config.cpuQuotaUs === undefined ? `max ${cpuPeriodUs}` : `${config.cpuQuotaUs} ${cpuPeriodUs}`);
    if (config.memoryLimitBytes !== undefined) await writeIfPresent(join(dir, 'memory.max'), String(config.memoryLimitBytes));
    return;
  }
  const cpu = cgroupDir(parent, 'cpu');
  await mkdir(cpu, { recursive: true });
  if (qosLevel.endsWith('/besteffort')) await writeIfPresent(join(cgroupDir(qosLevel, 'cpu'), 'cpu.shares'), String(minShares));
  await writeIfPresent(join(cpu, 'cpu.shares'), String(config.cpuShares));
  if (config.cpuQuotaUs !== undefined) {
    await writeIfPresent(join(cpu, 'cpu.cfs_period_us'), String(cpuPeriodUs));
    await writeIfPresent(join(cpu, 'cpu.cfs_quota_us'), String(config.cpuQuotaUs));
  }
  if (config.memoryLimitBytes !== undefined) {
    const memory = cgroupDir(parent, 'memory');
    await mkdir(memory, { recursive: true });
    await writeIfPresent(join(memory, 'memory.limit_in_bytes'), String(config.memoryLimitBytes));
  }
}

/** Removes the pod's cgroup in every hierarchy once its containers are gone (their own cgroups went with runc delete). */
export async function removePodCgroup(parent: string): Promise<void> {
  const dirs = cgroupV2()
    ? [cgroupDir(parent)]
    : readdirSync(cgroupMount)
        .filter((c) => !c.includes(','))
        .map((c) => cgroupDir(parent, c));
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    // Leftover child cgroups (a container runc did not delete) go first; rmdir only works on empty cgroups.
    for (const child of readdirSync(d, { withFileTypes: true })) if (child.isDirectory()) await rmdir(join(d, child.name)).catch(() => undefined);
    await rmdir(d).catch(() => undefined);
  }
}
