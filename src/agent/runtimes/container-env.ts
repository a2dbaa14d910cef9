// A container's process as Kubernetes defines it, whatever runs it: the args (command/args over the
// image's Entrypoint/Cmd), the environment (image env, envFrom, env with valueFrom: fieldRef,
// resourceFieldRef, configMapKeyRef, secretKeyRef) and $(VAR) expansion. Shared by the runc and
// process runtimes; pure functions.
import { resourceAmount } from '../../api/scheduling/resources.js';
import type { ContainerConfig as ImageConfig } from '../images/index.js';

type Json = Record<string, unknown>;

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

export function strings(v: unknown): string[] | undefined {
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
  /** The services' variables (serviceEnvVars): a container's own env overrides them, and $(VAR) may name them. */
  serviceEnv?: Map<string, string>;
}

/** A service name as its variables spell it: upper case, '-' as '_' (the kubelet's makeEnvVariableName). */
function envVariableName(name: string): string {
  return name.replaceAll('-', '_').toUpperCase();
}

/** One service's variables, as the kubelet's envvars.FromServices makes them: host and ports, and Docker's link variables. */
function serviceVariables(service: Json, out: Map<string, string>): void {
  const meta = (service.metadata ?? {}) as Json;
  const spec = (service.spec ?? {}) as Json;
  const ip = typeof spec.clusterIP === 'string' ? spec.clusterIP : '';
  const ports = (Array.isArray(spec.ports) ? spec.ports : []) as Json[];
  if (ip === '' || ip === 'None' || ports.length === 0) return;
  const prefix = envVariableName(String(meta.name ?? ''));
  out.set(`${prefix}_SERVICE_HOST`, ip);
  out.set(`${prefix}_SERVICE_PORT`, String(ports[0]!.port));
  for (const p of ports) if (typeof p.name === 'string' && p.name) out.set(`${prefix}_SERVICE_PORT_${envVariableName(p.name)}`, String(p.port));
  const host = ip.includes(':') ? `[${ip}]` : ip;
  ports.forEach((p, i) => {
    const protocol = typeof p.protocol === 'string' && p.protocol ? p.protocol : 'TCP';
    const url = `${protocol.toLowerCase()}://${host}:${String(p.port)}`;
    if (i === 0) out.set(`${prefix}_PORT`, url);
    const portPrefix = `${prefix}_PORT_${String(p.port)}_${protocol.toUpperCase()}`;
    out.set(portPrefix, url);
    out.set(`${portPrefix}_PROTO`, protocol.toLowerCase());
    out.set(`${portPrefix}_PORT`, String(p.port));
    out.set(`${portPrefix}_ADDR`, ip);
  });
}

/**
 * The variables services give a pod's containers (the kubelet's
 * getServiceEnvVarMap): the API server's own service (default/kubernetes)
 * always, and with enableServiceLinks every service of the pod's namespace
 * (one of them named kubernetes wins over the default one). Headless and
 * ExternalName services give none.
 */
export function serviceEnvVars(namespace: string, enableServiceLinks: boolean, services: readonly Json[]): Map<string, string> {
  const chosen = new Map<string, Json>();
  for (const service of services) {
    const meta = (service.metadata ?? {}) as Json;
    const name = String(meta.name ?? '');
    if (meta.namespace === 'default' && name === 'kubernetes') {
      if (!chosen.has(name)) chosen.set(name, service);
    } else if (meta.namespace === namespace && enableServiceLinks) chosen.set(name, service);
  }
  const out = new Map<string, string>();
  for (const service of chosen.values()) serviceVariables(service, out);
  return out;
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
 * (fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef), then the services' variables the
 * container does not set itself. Without a context valueFrom and envFrom are skipped. Missing non-optional references throw SpecError (CreateContainerConfigError).
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
  // What $(VAR) in the container's env may name: the entries before it, and the services' variables.
  const expansion = new Map(ctx?.serviceEnv);
  const set = (k: string, v: string) => {
    own.set(k, v);
    vars.set(k, v);
    expansion.set(k, v);
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
    set(e.name, expandVars(typeof e.value === 'string' ? e.value : '', expansion));
  }
  for (const [k, v] of ctx?.serviceEnv ?? []) if (!own.has(k)) vars.set(k, v);
  return { env: [...vars].map(([k, v]) => `${k}=${v}`), vars };
}
