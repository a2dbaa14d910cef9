// OCI runtime spec (config.json) for runc: the pod sandbox ("pause") and the app containers that
// join its network, IPC and UTS namespaces. Pure functions: the runtime passes in what it found
// on disk (image config, /etc/passwd, the sandbox's pid). The process's args and env come from
// ../container-env.ts.
import { resourceAmount } from '../../../api/scheduling/resources.js';
import { SpecError, strings } from '../container-env.js';
import type { ContainerConfig as ImageConfig } from '../../images/index.js';

type Json = Record<string, unknown>;

/** containerd's / Docker's default capability set. */
export const defaultCapabilities = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Every capability by number (linux/capability.h), for privileged containers and "ALL". */
export const allCapabilities = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK',
  'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** runc's default spec: paths hidden from unprivileged containers. */
export const maskedPaths = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats',
  '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
];
export const readonlyPaths = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export interface UserInfo {
  uid: number;
  gid: number;
  additionalGids?: number[];
}

/** /etc/passwd and /etc/group of the container's rootfs, for image users given by name. */
export interface AccountFiles {
  passwd?: string;
  group?: string;
}

function lookup(file: string | undefined, name: string): string[] | undefined {
  for (const line of (file ?? '').split('\n')) {
    const f = line.split(':');
    if (f[0] === name || (f.length > 2 && /^\d+$/.test(name) && f[2] === name)) return f;
  }
  return undefined;
}

/** The image's USER ("1000", "app", "app:staff", "1000:50") as uid/gid. */
export function resolveImageUser(user: string | undefined, files: AccountFiles): UserInfo {
  if (!user) return { uid: 0, gid: 0 };
  const [u = '', g] = user.split(':');
  let uid: number;
  let gid = 0;
  const pw = lookup(files.passwd, u);
  if (/^\d+$/.test(u)) uid = Number(u);
  else if (pw) uid = Number(pw[2]);
  else throw new SpecError(`unable to find user ${u}: no matching entries in passwd file`);
  if (pw && pw[3] !== undefined && /^\d+$/.test(pw[3])) gid = Number(pw[3]);
  if (g !== undefined && g !== '') {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const gr = lookup(files.group, g);
      if (!gr) throw new SpecError(`unable to find group ${g}: no matching entries in group file`);
      gid = Number(gr[2]);
    }
  }
  return { uid, gid };
}

/** securityContext of the container over the pod's (runAsUser, runAsGroup), then the image's USER. */
export function containerUser(spec: Json, podSpec: Json, image: ImageConfig, files: AccountFiles): UserInfo {
  const sc = (spec.securityContext ?? {}) as Json;
  const psc = (podSpec.securityContext ?? {}) as Json;
  const runAsUser = typeof sc.runAsUser === 'number' ? sc.runAsUser : typeof psc.runAsUser === 'number' ? psc.runAsUser : undefined;
  const runAsGroup = typeof sc.runAsGroup === 'number' ? sc.runAsGroup : typeof psc.runAsGroup === 'number' ? psc.runAsGroup : undefined;
  let user: UserInfo;
  if (runAsUser !== undefined) {
    const pw = lookup(files.passwd, String(runAsUser));
    user = { uid: runAsUser, gid: pw && /^\d+$/.test(pw[3] ?? '') ? Number(pw[3]) : 0 };
  } else user = resolveImageUser(image.User, files);
  if (runAsGroup !== undefined) user.gid = runAsGroup;
  const supplemental = Array.isArray(psc.supplementalGroups) ? psc.supplementalGroups.filter((g): g is number => typeof g === 'number') : [];
  if (supplemental.length > 0) user.additionalGids = supplemental;
  return user;
}

/** Capabilities after securityContext.capabilities add/drop ("ALL" allowed in both), or all for privileged. */
export function containerCapabilities(spec: Json, lastCap = allCapabilities.length - 1): string[] {
  const known = allCapabilities.slice(0, lastCap + 1);
  const sc = (spec.securityContext ?? {}) as Json;
  if (sc.privileged === true) return known;
  const caps = (sc.capabilities ?? {}) as Json;
  const norm = (c: string) => (c.toUpperCase().startsWith('CAP_') ? c.toUpperCase() : `CAP_${c.toUpperCase()}`);
  const add = (strings(caps.add) ?? []).map(norm);
  const drop = (strings(caps.drop) ?? []).map(norm);
  let set = new Set(defaultCapabilities);
  if (add.includes('CAP_ALL')) set = new Set(known);
  else for (const c of add) if (known.includes(c)) set.add(c);
  if (drop.includes('CAP_ALL')) set = new Set(add.filter((c) => c !== 'CAP_ALL' && known.includes(c)));
  else for (const c of drop) set.delete(c);
  return known.filter((c) => set.has(c));
}

export interface ResourceOptions {
  /** memory.memsw / memory.swap.max can be set: swap is then limited to nothing beyond the memory limit. */
  limitSwap?: boolean;
  /** pids.max for each container (the kubelet's podPidsLimit, applied per container here). */
  pidsLimit?: number;
}

/** linux.resources from resources.limits / requests. */
export function containerResources(spec: Json, opts: ResourceOptions = {}): Json {
  const res = (spec.resources ?? {}) as Json;
  const limits = (res.limits ?? {}) as Record<string, string | number>;
  const requests = (res.requests ?? {}) as Record<string, string | number>;
  const out: Json = { devices: [{ allow: false, access: 'rwm' }] };
  const mem = resourceAmount('memory', limits.memory);
  if (mem > 0) out.memory = opts.limitSwap ? { limit: mem, swap: mem } : { limit: mem };
  const cpu: Json = {};
  const cpuLimit = resourceAmount('cpu', limits.cpu);
  if (cpuLimit > 0) {
    cpu.period = 100_000;
    cpu.quota = Math.max(1000, Math.floor((cpuLimit * 100_000) / 1000));
  }
  // The kubelet's milliCPUToShares: no request is the minimum, 2.
  const cpuRequest = resourceAmount('cpu', requests.cpu ?? limits.cpu);
  cpu.shares = cpuRequest > 0 ? Math.max(2, Math.floor((cpuRequest * 1024) / 1000)) : 2;
  out.cpu = cpu;
  if (opts.pidsLimit !== undefined && opts.pidsLimit > 0) out.pids = { limit: opts.pidsLimit };
  return out;
}

export interface SpecInput {
  args: string[];
  env: string[];
  cwd: string;
  user: UserInfo;
  capabilities: string[];
  privileged: boolean;
  noNewPrivileges: boolean;
  readonlyRootfs: boolean;
  /** Set for the sandbox only (it owns the UTS namespace). */
  hostname?: string;
  /** For app containers: the sandbox's pid, whose net/ipc/uts namespaces they join. */
  sandboxPid?: number;
  /** For an ephemeral container with a target: the target's pid, whose process namespace it joins. */
  targetPid?: number;
  hostNetwork: boolean;
  resources: Json;
  cgroupsPath: string;
  /** Files bind-mounted read-only or read-write (/etc/hosts ...). */
  binds: { source: string; destination: string; readonly?: boolean }[];
  annotations?: Record<string, string>;
  /** The process runs with a terminal (spec `tty: true`); runc run must then be under one. */
  terminal?: boolean;
}

/** The full config.json (rootfs is "rootfs" beside it). */
export function buildSpec(input: SpecInput): Json {
  const ns: Json[] = [input.targetPid ? { type: 'pid', path: `/proc/${input.targetPid}/ns/pid` } : { type: 'pid' }, { type: 'mount' }];
  const join = (type: string, file: string): Json => (input.sandboxPid ? { type, path: `/proc/${input.sandboxPid}/ns/${file}` } : { type });
  ns.push(join('ipc', 'ipc'));
  if (!input.hostNetwork) {
    ns.push(join('network', 'net'));
    ns.push(join('uts', 'uts'));
  }
  const mounts: Json[] = [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    input.hostNetwork
      ? { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', input.privileged ? 'rw' : 'ro'] }
      : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', input.privileged ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', input.privileged ? 'rw' : 'ro'] },
  ];
  for (const b of input.binds) mounts.push({ destination: b.destination, type: 'bind', source: b.source, options: ['rbind', 'rprivate', b.readonly ? 'ro' : 'rw'] });
  const capabilities = { bounding: input.capabilities, effective: input.capabilities, permitted: input.capabilities };
  const user: Json = { uid: input.user.uid, gid: input.user.gid };
  if (input.user.additionalGids?.length) user.additionalGids = input.user.additionalGids;
  const resources = input.privileged ? { ...input.resources, devices: [{ allow: true, access: 'rwm' }] } : input.resources;
  const linux: Json = { namespaces: ns, resources, cgroupsPath: input.cgroupsPath };
  if (!input.privileged) {
    linux.maskedPaths = maskedPaths;
    linux.readonlyPaths = readonlyPaths;
  }
  const spec: Json = {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: input.terminal === true,
      user,
      args: input.args,
      env: input.env,
      cwd: input.cwd,
      capabilities,
      noNewPrivileges: input.noNewPrivileges,
    },
    root: { path: 'rootfs', readonly: input.readonlyRootfs },
    mounts,
    linux,
  };
  if (input.hostname !== undefined) spec.hostname = input.hostname;
  if (input.annotations) spec.annotations = input.annotations;
  return spec;
}
