// OCI runtime spec (config.json) for runc: the pod sandbox ("pause") and the app containers that
// join its network, IPC and UTS namespaces. Pure functions: the runtime passes in what it found
// on disk (image config, /etc/passwd, the sandbox's pid).
import { resourceAmount } from '../../../api/scheduling/resources.js';
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

export class SpecError extends Error {
  override readonly name = 'SpecError';
}

/** Kubernetes' $(VAR) expansion in command, args and env values: $$ escapes, unknown names stay as written. */
export function expandVars(s: string, vars: Map<string, string>): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '$' && s[i + 1] === '$') {
      out += '$';
      i++;
    } else if (c === '$' && s[i + 1] === '(') {
      const close = s.indexOf(')', i + 2);
      if (close < 0) {
        out += s.slice(i);
        break;
      }
      const name = s.slice(i + 2, close);
      const v = vars.get(name);
      out += v ?? `$(${name})`;
      i = close;
    } else out += c;
  }
  return out;
}

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.map(String) : undefined;
}

/** The process args as Kubernetes computes them: command replaces Entrypoint (and drops Cmd), args replace Cmd. */
export function containerArgs(spec: Json, image: ImageConfig): string[] {
  const command = strings(spec.command);
  const args = strings(spec.args);
  const hasCommand = command !== undefined && command.length > 0;
  const hasArgs = args !== undefined && args.length > 0;
  const entry = hasCommand ? command : (image.Entrypoint ?? []);
  const rest = hasArgs ? args : hasCommand ? [] : (image.Cmd ?? []);
  return [...entry, ...rest];
}

const defaultPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** What env `valueFrom` / `envFrom` and downward API files read: the pod and the data of the config maps and secrets it names. */
export interface EnvContext {
  /** The pod object (metadata, spec, status). */
  pod: Json;
  podIP?: string;
  hostIP?: string;
  /** ConfigMap data by name (undefined: the config map does not exist). */
  configMaps?: Record<string, Record<string, string> | undefined>;
  /** Secret data by name, already base64-decoded (undefined: the secret does not exist). */
  secrets?: Record<string, Record<string, string> | undefined>;
  /** The node's allocatable cpu (millicores) and memory (bytes): what limits default to when a container sets none. */
  nodeAllocatable?: { cpu?: number; memory?: number; 'ephemeral-storage'?: number };
}

/** The config maps and secrets a container's env and envFrom name. */
export function envReferences(spec: Json): { configMaps: string[]; secrets: string[] } {
  const cms = new Set<string>();
  const secrets = new Set<string>();
  for (const item of Array.isArray(spec.env) ? spec.env : []) {
    const vf = ((item as Json | null)?.valueFrom ?? undefined) as Json | undefined;
    const cm = vf?.configMapKeyRef as Json | undefined;
    const sec = vf?.secretKeyRef as Json | undefined;
    if (typeof cm?.name === 'string') cms.add(cm.name);
    if (typeof sec?.name === 'string') secrets.add(sec.name);
  }
  for (const item of Array.isArray(spec.envFrom) ? spec.envFrom : []) {
    const e = (item ?? {}) as Json;
    const cm = e.configMapRef as Json | undefined;
    const sec = e.secretRef as Json | undefined;
    if (typeof cm?.name === 'string') cms.add(cm.name);
    if (typeof sec?.name === 'string') secrets.add(sec.name);
  }
  return { configMaps: [...cms], secrets: [...secrets] };
}

/** metadata.labels / annotations as the downward API files show them: `key="value"` lines, sorted, quotes escaped. */
export function formatMap(m: Record<string, string>): string {
  return Object.keys(m)
    .sort()
    .map((k) => `${k}=${JSON.stringify(m[k])}`)
    .join('\n');
}

/** A fieldRef's value (env and downward API volumes). */
export function fieldRefValue(fieldPath: string, ctx: EnvContext): string {
  const meta = (ctx.pod.metadata ?? {}) as Json;
  const spec = (ctx.pod.spec ?? {}) as Json;
  const status = (ctx.pod.status ?? {}) as Json;
  const labels = (meta.labels ?? {}) as Record<string, string>;
  const annotations = (meta.annotations ?? {}) as Record<string, string>;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const sub = /^metadata\.(labels|annotations)\[['"]?(.+?)['"]?\]$/.exec(fieldPath);
  if (sub) return ((sub[1] === 'labels' ? labels : annotations)[sub[2]!]) ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return str(meta.name);
    case 'metadata.namespace':
      return str(meta.namespace);
    case 'metadata.uid':
      return str(meta.uid);
    case 'metadata.labels':
      return formatMap(labels);
    case 'metadata.annotations':
      return formatMap(annotations);
    case 'spec.nodeName':
      return str(spec.nodeName);
    case 'spec.serviceAccountName':
      return str(spec.serviceAccountName) || str(spec.serviceAccount);
    case 'status.podIP':
      return ctx.podIP ?? str(status.podIP);
    case 'status.podIPs':
      return ctx.podIP ?? str(status.podIP);
    case 'status.hostIP':
    case 'status.hostIPs':
      return ctx.hostIP ?? str(status.hostIP);
    default:
      throw new SpecError(`unsupported fieldRef fieldPath ${JSON.stringify(fieldPath)}`);
  }
}

/** A resourceFieldRef's value: limits.cpu/memory/ephemeral-storage or requests.*, divided by divisor (rounded up); unset limits are the node's allocatable. */
export function resourceFieldValue(ref: Json, container: Json | undefined, ctx: EnvContext): string {
  const resource = typeof ref.resource === 'string' ? ref.resource : '';
  const m = /^(limits|requests)\.(cpu|memory|ephemeral-storage|hugepages-.+)$/.exec(resource);
  if (!m) throw new SpecError(`unsupported resourceFieldRef resource ${JSON.stringify(resource)}`);
  const [, kind, name] = m as unknown as [string, 'limits' | 'requests', string];
  const res = ((container?.resources ?? {}) as Json);
  const limits = (res.limits ?? {}) as Record<string, string | number>;
  const requests = (res.requests ?? {}) as Record<string, string | number>;
  let value: number;
  if (kind === 'limits') {
    value = resourceAmount(name, limits[name]);
    if (value === 0) value = ctx.nodeAllocatable?.[name as 'cpu'] ?? 0;
  } else value = resourceAmount(name, requests[name] ?? limits[name]);
  const divisorQ = ref.divisor === undefined || ref.divisor === null || ref.divisor === '' ? '1' : (ref.divisor as string | number);
  const divisor = resourceAmount(name, divisorQ);
  if (divisor <= 0) throw new SpecError(`invalid resourceFieldRef divisor ${JSON.stringify(ref.divisor)}`);
  // cpu amounts are millicores on both sides; a cpu limit never shows as 0 (the kubelet rounds up to 1).
  const out = Math.ceil(value / divisor);
  return String(name === 'cpu' && kind === 'limits' ? Math.max(out, 1) : out);
}

const envNameRe = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** The container of the pod with this name (for resourceFieldRef.containerName). */
function podContainer(pod: Json, name: string): Json | undefined {
  const spec = (pod.spec ?? {}) as Json;
  for (const list of [spec.containers, spec.initContainers]) for (const c of Array.isArray(list) ? list : []) if ((c as Json)?.name === name) return c as Json;
  return undefined;
}

/** One env entry's valueFrom. undefined: an optional reference that is missing (the variable is left out). */
function envValueFrom(name: string, vf: Json, container: Json, ctx: EnvContext): string | undefined {
  if (vf.fieldRef) return fieldRefValue(String((vf.fieldRef as Json).fieldPath ?? ''), ctx);
  if (vf.resourceFieldRef) {
    const ref = vf.resourceFieldRef as Json;
    const c = typeof ref.containerName === 'string' && ref.containerName ? podContainer(ctx.pod, ref.containerName) : container;
    return resourceFieldValue(ref, c, ctx);
  }
  const keyRef = (vf.configMapKeyRef ?? vf.secretKeyRef) as Json | undefined;
  if (keyRef) {
    const isCm = vf.configMapKeyRef !== undefined;
    const what = isCm ? 'configmap' : 'secret';
    const refName = String(keyRef.name ?? '');
    const key = String(keyRef.key ?? '');
    const data = (isCm ? ctx.configMaps : ctx.secrets)?.[refName];
    const optional = keyRef.optional === true;
    if (!data) {
      if (optional) return undefined;
      throw new SpecError(`${what} "${refName}" not found`);
    }
    if (!(key in data)) {
      if (optional) return undefined;
      throw new SpecError(`couldn't find key ${key} in ${isCm ? 'ConfigMap' : 'Secret'} ${String(ctx.pod.metadata && (ctx.pod.metadata as Json).namespace)}/${refName}`);
    }
    return data[key];
  }
  throw new SpecError(`env ${name}: unsupported valueFrom`);
}

/**
 * Image env, PATH default, HOSTNAME, then envFrom (config maps / secrets, with prefix), then the
 * container's env entries in order: `value` ($(VAR) expanded) and, with a context, `valueFrom`
 * (fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef). Without a context valueFrom and
 * envFrom are skipped. Missing non-optional references throw SpecError (CreateContainerConfigError).
 */
export function containerEnv(spec: Json, image: ImageConfig, hostname: string | undefined, ctx?: EnvContext): { env: string[]; vars: Map<string, string> } {
  const vars = new Map<string, string>();
  for (const e of image.Env ?? []) {
    const eq = e.indexOf('=');
    if (eq > 0) vars.set(e.slice(0, eq), e.slice(eq + 1));
  }
  if (!vars.has('PATH')) vars.set('PATH', defaultPath);
  if (hostname !== undefined) vars.set('HOSTNAME', hostname);
  const own = new Map<string, string>();
  const set = (k: string, v: string) => {
    own.set(k, v);
    vars.set(k, v);
  };
  if (ctx) {
    for (const item of Array.isArray(spec.envFrom) ? spec.envFrom : []) {
      const e = (item ?? {}) as Json;
      const prefix = typeof e.prefix === 'string' ? e.prefix : '';
      const ref = (e.configMapRef ?? e.secretRef) as Json | undefined;
      if (!ref) continue;
      const isCm = e.configMapRef !== undefined;
      const refName = String(ref.name ?? '');
      const data = (isCm ? ctx.configMaps : ctx.secrets)?.[refName];
      if (!data) {
        if (ref.optional === true) continue;
        throw new SpecError(`${isCm ? 'configmap' : 'secret'} "${refName}" not found`);
      }
      for (const k of Object.keys(data).sort()) {
        const name = prefix + k;
        if (envNameRe.test(name)) set(name, data[k]!); // invalid names are skipped, as the kubelet does (with an event)
      }
    }
  }
  for (const item of Array.isArray(spec.env) ? spec.env : []) {
    if (!item || typeof item !== 'object') continue;
    const e = item as Json;
    if (typeof e.name !== 'string' || !e.name) continue;
    if (e.valueFrom !== undefined && e.value === undefined) {
      if (!ctx) continue;
      const v = envValueFrom(e.name, e.valueFrom as Json, spec, ctx);
      if (v !== undefined) set(e.name, v);
      continue;
    }
    set(e.name, expandVars(typeof e.value === 'string' ? e.value : '', own));
  }
  return { env: [...vars].map(([k, v]) => `${k}=${v}`), vars };
}

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
  hostNetwork: boolean;
  resources: Json;
  cgroupsPath: string;
  /** Files bind-mounted read-only or read-write (/etc/hosts ...). */
  binds: { source: string; destination: string; readonly?: boolean }[];
  annotations?: Record<string, string>;
}

/** The full config.json (rootfs is "rootfs" beside it). */
export function buildSpec(input: SpecInput): Json {
  const ns: Json[] = [{ type: 'pid' }, { type: 'mount' }];
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
      terminal: false,
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
