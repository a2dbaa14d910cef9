// Pod volumes for the runc runtime, as the kubelet's volume plugins lay them out on the node:
//   emptyDir     <podDir>/volumes/empty-dir/<name>   (medium Memory: a tmpfs mounted there, sizeLimit)
//   hostPath     the host path itself (type checks: DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice, BlockDevice)
//   persistentVolumeClaim
//                the bound PersistentVolume's hostPath.path or local.path (a local-path provisioner's
//                directory is made when missing); a claim that is missing, not bound or being deleted
//                leaves the container waiting (VolumeNotReadyError), as the kubelet's volume manager does
//   configMap, secret, downwardAPI, projected (with service account tokens)
//                <podDir>/volumes/<kind>/<name>, written with the kubelet's atomic-writer layout:
//                ..<timestamp>/ holds the files, ..data -> ..<timestamp>, and every top-level entry
//                <key> -> ..data/<key>; an update writes a new timestamped dir and renames a new
//                ..data symlink over the old one, so readers see the old or the new set, never a mix.
// volumeMounts become bind mounts in config.json (readOnly, subPath). Everything lives under the
// pod dir and goes with the pod (the runtime unmounts what is mounted under it).
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { resourceAmount } from '../../api/scheduling/resources.js';
import { ContainerStartError } from '../runtime.js';
import { expandVars, fieldRefValue, resourceFieldValue, SpecError, type EnvContext } from './container-env.js';

const run = promisify(execFile);
type Json = Record<string, unknown>;

/** Where the runtime gets config map and secret data (the agent answers from the API server). */
export interface VolumeSource {
  /** The config map's data (binaryData base64-decoded into it is up to the source), or undefined when it does not exist. */
  configMap(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  /** The secret's `data` as the API has it (base64), or undefined when it does not exist. */
  secret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  /** The PersistentVolumeClaim as the API has it, or undefined when it does not exist. Without it claims cannot be mounted. */
  persistentVolumeClaim?(namespace: string, name: string): Promise<Json | undefined>;
  /** The PersistentVolume as the API has it, or undefined when it does not exist. */
  persistentVolume?(name: string): Promise<Json | undefined>;
  /** The namespace's services as the API has them, for the variables they give containers. Without it containers get none. */
  services?(namespace: string): Promise<Json[]>;
  /** A token of the pod's service account for a projected serviceAccountToken source. Without it such volumes cannot be set up. */
  serviceAccountToken?(namespace: string, serviceAccount: string, spec: { audience?: string; expirationSeconds: number; pod: { name: string; uid: string } }): Promise<string>;
}

/** A volume as prepared on the node. */
export interface PreparedVolume {
  name: string;
  path: string;
  /** configMap/secret/downwardAPI/projected volumes are read-only in containers, as in Kubernetes. */
  readOnly?: boolean;
}

export class VolumeError extends SpecError {}

/** A volume that cannot be set up yet (its claim is not bound): the container waits (ContainerCreating) and the agent retries soon. */
export class VolumeNotReadyError extends Error {
  override readonly name = 'VolumeNotReadyError';
  constructor(
    readonly volume: string,
    readonly detail: string,
  ) {
    super(`Unable to attach or mount volumes: unmounted volumes=[${volume}], failed to process volumes=[${volume}]: ${detail}`);
  }
}

/** How a volume that is not ready reaches the agent: the container waits (ContainerCreating) with the message, a FailedMount event, another try in a few seconds. */
export function volumeNotReadyStartError(e: VolumeNotReadyError): ContainerStartError {
  return new ContainerStartError('ContainerCreating', e.message, { cause: e, event: { reason: 'FailedMount', message: e.message }, retryAfterMs: 5000 });
}

const provisionedByAnnotation = 'pv.kubernetes.io/provisioned-by';
const localPathProvisioner = 'nami.dev/local-path';

/**
 * The directory of the PersistentVolume bound to a pod's claim, checked as the kubelet's
 * desired-state populator does (getPVCExtractPV, getPVSpec): the claim exists, is not being
 * deleted, is Bound to a volume whose claimRef points back at it.
 */
async function claimVolume(name: string, src: Json, namespace: string, source: VolumeSource | undefined): Promise<PreparedVolume> {
  const claimName = String(src.claimName ?? '');
  const notReady = (detail: string) => new VolumeNotReadyError(name, `error processing PVC ${namespace}/${claimName}: ${detail}`);
  if (!source?.persistentVolumeClaim || !source.persistentVolume) throw notReady('this node has no source for persistent volume claims');
  const claim = await source.persistentVolumeClaim(namespace, claimName);
  if (!claim) throw notReady(`failed to fetch PVC from API server: persistentvolumeclaims "${claimName}" not found`);
  const meta = (claim.metadata ?? {}) as Json;
  if (meta.deletionTimestamp) throw notReady(`can't start pod because PVC ${namespace}/${claimName} is being deleted`);
  const volumeName = String(((claim.spec ?? {}) as Json).volumeName ?? '');
  if (((claim.status ?? {}) as Json).phase !== 'Bound' || !volumeName) throw notReady('PVC is not bound');
  const pv = await source.persistentVolume(volumeName);
  if (!pv) throw notReady(`failed to fetch PV ${JSON.stringify(volumeName)} from API server: persistentvolumes "${volumeName}" not found`);
  const pvSpec = (pv.spec ?? {}) as Json;
  const claimRef = pvSpec.claimRef as Json | undefined;
  if (!claimRef) throw notReady(`found PV object ${JSON.stringify(volumeName)} but it has a nil pv.Spec.ClaimRef indicating it is not yet bound to the claim`);
  if (claimRef.uid !== meta.uid) throw notReady(`found PV object ${JSON.stringify(volumeName)} but its pv.Spec.ClaimRef.UID (${JSON.stringify(claimRef.uid)}) does not point to claim.UID (${JSON.stringify(meta.uid)})`);
  const readOnly = src.readOnly === true;
  if (pvSpec.hostPath) return { name, path: await hostPathVolume(name, pvSpec.hostPath as Json), readOnly };
  if (pvSpec.local) {
    const path = String((pvSpec.local as Json).path ?? '');
    if (!isAbsolute(path)) throw new VolumeError(`local volume ${volumeName}: path ${JSON.stringify(path)} is not absolute`);
    const annotations = ((pv.metadata ?? {}) as Json).annotations as Record<string, string> | undefined;
    // The provisioner only writes the object: its directory is the node's to make.
    if (annotations?.[provisionedByAnnotation] === localPathProvisioner) await mkdir(path, { recursive: true, mode: 0o777 });
    if (!existsSync(path)) throw new VolumeError(`MountVolume.NewMounter initialization failed for volume "${volumeName}" : path "${path}" does not exist`);
    return { name, path, readOnly };
  }
  throw new VolumeError(`volume ${name}: persistent volume ${volumeName} is neither hostPath nor local, which this node cannot mount`);
}

export function decodeSecret(data: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!data) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) out[k] = Buffer.from(v, 'base64').toString('utf8');
  return out;
}

function isMounted(dir: string): boolean {
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) if (line.split(' ')[1] === dir) return true;
  return false;
}

/** A relative path without `..` (subPath, item paths). */
export function safeRelative(p: string, what: string): string {
  if (isAbsolute(p) || p.split('/').includes('..')) throw new VolumeError(`${what} ${JSON.stringify(p)} must be a relative path without '..'`);
  return normalize(p);
}

async function hostPathVolume(name: string, hp: Json): Promise<string> {
  const path = String(hp.path ?? '');
  if (!isAbsolute(path)) throw new VolumeError(`hostPath volume ${name}: path ${JSON.stringify(path)} is not absolute`);
  const type = typeof hp.type === 'string' ? hp.type : '';
  const st = () => {
    try {
      return statSync(path);
    } catch {
      return undefined;
    }
  };
  const fail = (what: string) => new VolumeError(`MountVolume.SetUp failed for volume "${name}" : hostPath type check failed: ${path} is not ${what}`);
  switch (type) {
    case '':
      break;
    case 'DirectoryOrCreate':
      if (!st()) await mkdir(path, { recursive: true, mode: 0o755 });
      if (!st()?.isDirectory()) throw fail('a directory');
      break;
    case 'Directory':
      if (!st()?.isDirectory()) throw fail('a directory');
      break;
    case 'FileOrCreate':
      if (!st()) {
        await mkdir(dirname(path), { recursive: true, mode: 0o755 });
        await writeFile(path, '', { mode: 0o644, flag: 'a' });
      }
      if (!st()?.isFile()) throw fail('a file');
      break;
    case 'File':
      if (!st()?.isFile()) throw fail('a file');
      break;
    case 'Socket':
      if (!st()?.isSocket()) throw fail('a socket file');
      break;
    case 'CharDevice':
      if (!st()?.isCharacterDevice()) throw fail('a character device');
      break;
    case 'BlockDevice':
      if (!st()?.isBlockDevice()) throw fail('a block device');
      break;
    default:
      throw new VolumeError(`hostPath volume ${name}: unknown type ${JSON.stringify(type)}`);
  }
  return path;
}

/** One file of a projected-style volume. */
interface FileEntry {
  path: string;
  content: string;
  mode: number;
}

function itemsOf(data: Record<string, string>, items: unknown, defaultMode: number, what: string, optional: boolean): FileEntry[] {
  if (!Array.isArray(items) || items.length === 0) return Object.keys(data).sort().map((k) => ({ path: k, content: data[k]!, mode: defaultMode }));
  const out: FileEntry[] = [];
  for (const it of items as Json[]) {
    const key = String(it.key ?? '');
    if (!(key in data)) {
      if (optional) continue;
      throw new VolumeError(`configuration error: ${what} has no key ${JSON.stringify(key)}`);
    }
    out.push({ path: safeRelative(String(it.path ?? key), 'item path'), content: data[key]!, mode: typeof it.mode === 'number' ? it.mode : defaultMode });
  }
  return out;
}

/** The files of a configMap / secret / downwardAPI / projected volume source. undefined: not a data volume. */
export async function dataVolumeFiles(vol: Json, ctx: EnvContext, source: VolumeSource | undefined): Promise<FileEntry[] | undefined> {
  const ns = String(((ctx.pod.metadata ?? {}) as Json).namespace ?? 'default');
  const modeOf = (src: Json, fallback: number) => (typeof src.defaultMode === 'number' ? src.defaultMode : fallback);
  const fromConfigMap = async (cm: Json, defaultMode: number): Promise<FileEntry[]> => {
    const name = String(cm.name ?? '');
    if (!source) throw new VolumeError(`configmap "${name}": this node has no config map source`);
    const data = await source.configMap(ns, name);
    if (!data) {
      if (cm.optional === true) return [];
      throw new VolumeError(`configmap "${name}" not found`);
    }
    return itemsOf(data, cm.items, defaultMode, `configmap ${name}`, cm.optional === true);
  };
  const fromSecret = async (sec: Json, defaultMode: number): Promise<FileEntry[]> => {
    const name = String(sec.secretName ?? sec.name ?? '');
    if (!source) throw new VolumeError(`secret "${name}": this node has no secret source`);
    const data = decodeSecret(await source.secret(ns, name));
    if (!data) {
      if (sec.optional === true) return [];
      throw new VolumeError(`secret "${name}" not found`);
    }
    return itemsOf(data, sec.items, defaultMode, `secret ${name}`, sec.optional === true);
  };
  const fromDownward = (d: Json, defaultMode: number): FileEntry[] =>
    (Array.isArray(d.items) ? (d.items as Json[]) : []).map((it) => {
      let content: string;
      if (it.fieldRef) content = fieldRefValue(String((it.fieldRef as Json).fieldPath ?? ''), ctx);
      else if (it.resourceFieldRef) {
        const ref = it.resourceFieldRef as Json;
        const spec = (ctx.pod.spec ?? {}) as Json;
        const c = [...((spec.containers ?? []) as Json[]), ...((spec.initContainers ?? []) as Json[])].find((x) => x.name === ref.containerName);
        content = resourceFieldValue(ref, c, ctx);
      } else throw new VolumeError(`downwardAPI item ${JSON.stringify(it.path)} has neither fieldRef nor resourceFieldRef`);
      return { path: safeRelative(String(it.path ?? ''), 'item path'), content, mode: typeof it.mode === 'number' ? it.mode : defaultMode };
    });
  if (vol.configMap) return fromConfigMap(vol.configMap as Json, modeOf(vol.configMap as Json, 0o644));
  if (vol.secret) return fromSecret(vol.secret as Json, modeOf(vol.secret as Json, 0o644));
  if (vol.downwardAPI) return fromDownward(vol.downwardAPI as Json, modeOf(vol.downwardAPI as Json, 0o644));
  const fromToken = async (t: Json, mode: number): Promise<FileEntry> => {
    if (!source?.serviceAccountToken) throw new VolumeError('service account token: this node has no token source');
    const meta = (ctx.pod.metadata ?? {}) as Json;
    const spec = (ctx.pod.spec ?? {}) as Json;
    const account = typeof spec.serviceAccountName === 'string' && spec.serviceAccountName !== '' ? spec.serviceAccountName : 'default';
    const request = {
      ...(typeof t.audience === 'string' && t.audience !== '' ? { audience: t.audience } : {}),
      expirationSeconds: typeof t.expirationSeconds === 'number' ? t.expirationSeconds : 3600,
      pod: { name: String(meta.name ?? ''), uid: String(meta.uid ?? '') },
    };
    let token: string;
    try {
      token = await source.serviceAccountToken(ns, account, request);
    } catch (err) {
      throw new VolumeError(`failed to fetch token: ${(err as Error).message}`);
    }
    return { path: safeRelative(String(t.path ?? ''), 'token path'), content: token, mode };
  };
  if (vol.projected) {
    const p = vol.projected as Json;
    const mode = modeOf(p, 0o644);
    const out: FileEntry[] = [];
    for (const s of (Array.isArray(p.sources) ? p.sources : []) as Json[]) {
      if (s.configMap) out.push(...(await fromConfigMap(s.configMap as Json, mode)));
      else if (s.secret) out.push(...(await fromSecret(s.secret as Json, mode)));
      else if (s.downwardAPI) out.push(...fromDownward(s.downwardAPI as Json, mode));
      else if (s.serviceAccountToken) out.push(await fromToken(s.serviceAccountToken as Json, mode));
      // clusterTrustBundle: not supported yet (left out).
    }
    return out;
  }
  return undefined;
}

function timestampDirName(): string {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const ts = `${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}`;
  return `..${ts}${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * The kubelet's AtomicWriter: writes the files into a new ..<timestamp> dir, points ..data at it
 * with a rename (atomic), keeps one <top-level> -> ..data/<top-level> symlink per entry, removes
 * entries that are gone and the old timestamped dir.
 */
export async function writeAtomic(dir: string, entries: FileEntry[]): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const dataLink = join(dir, '..data');
  const old = existsSync(dataLink) ? await readlink(dataLink) : undefined;
  const tsName = timestampDirName();
  const tsDir = join(dir, tsName);
  await mkdir(tsDir, { mode: 0o755 });
  await chmod(tsDir, 0o755);
  for (const e of entries) {
    const f = join(tsDir, e.path);
    await mkdir(dirname(f), { recursive: true, mode: 0o755 });
    await writeFile(f, e.content, { mode: e.mode & 0o7777 });
    await chmod(f, e.mode & 0o7777);
  }
  const tmpLink = join(dir, '..data_tmp');
  await rm(tmpLink, { force: true });
  await symlink(tsName, tmpLink);
  await rename(tmpLink, dataLink);
  const top = new Set(entries.map((e) => e.path.split('/')[0]!));
  for (const t of top) {
    const link = join(dir, t);
    let isLink = false;
    try {
      isLink = lstatSync(link).isSymbolicLink();
    } catch {
      /* missing */
    }
    if (!isLink) {
      await rm(link, { recursive: true, force: true });
      await symlink(join('..data', t), link);
    }
  }
  for (const name of await readdir(dir)) {
    if (name.startsWith('..')) {
      if (name !== '..data' && name !== tsName && (name === old || /^\.\.\d{4}_/.test(name))) await rm(join(dir, name), { recursive: true, force: true });
    } else if (!top.has(name)) await rm(join(dir, name), { recursive: true, force: true });
  }
}

/** Volume host dirs of a pod: <podDir>/volumes/<kind>/<name>. */
export function volumeDir(podDir: string, kind: string, name: string): string {
  return join(podDir, 'volumes', kind, name.replace(/[^A-Za-z0-9_.-]/g, '_'));
}

function dataKind(vol: Json): string | undefined {
  return vol.configMap ? 'configmap' : vol.secret ? 'secret' : vol.downwardAPI ? 'downward-api' : vol.projected ? 'projected' : undefined;
}

/**
 * Sets up every volume of the pod (idempotent: an emptyDir keeps its data, a tmpfs is mounted
 * once, data volumes written once — `refresh` rewrites them). Returns them by name.
 */
export async function prepareVolumes(podDir: string, ctx: EnvContext, source: VolumeSource | undefined, refresh = false): Promise<Map<string, PreparedVolume>> {
  const out = new Map<string, PreparedVolume>();
  const errors: string[] = [];
  const spec = (ctx.pod.spec ?? {}) as Json;
  for (const vol of (Array.isArray(spec.volumes) ? spec.volumes : []) as Json[]) {
    const name = String(vol.name ?? '');
    if (!name) continue;
    if (vol.emptyDir !== undefined) {
      const ed = (vol.emptyDir ?? {}) as Json;
      const dir = volumeDir(podDir, 'empty-dir', name);
      await mkdir(dir, { recursive: true, mode: 0o777 });
      await chmod(dir, 0o777);
      if (ed.medium === 'Memory' && !isMounted(dir)) {
        const size = resourceAmount('memory', ed.sizeLimit as string | undefined) || ctx.nodeAllocatable?.memory || 0;
        const opts = ['mode=1777', ...(size > 0 ? [`size=${size}`] : [])];
        await run('mount', ['-t', 'tmpfs', '-o', opts.join(','), 'tmpfs', dir]);
      }
      out.set(name, { name, path: dir });
    } else if (vol.hostPath) {
      out.set(name, { name, path: await hostPathVolume(name, vol.hostPath as Json) });
    } else if (vol.persistentVolumeClaim) {
      // A refresh rewrites data volumes only: a claim's volume stays as it was mounted.
      if (refresh) continue;
      const ns = String(((ctx.pod.metadata ?? {}) as Json).namespace ?? 'default');
      out.set(name, await claimVolume(name, vol.persistentVolumeClaim as Json, ns, source));
    } else {
      const kind = dataKind(vol);
      if (!kind) throw new VolumeError(`volume ${name}: unsupported volume type (${Object.keys(vol).filter((k) => k !== 'name').join(', ')})`);
      const dir = volumeDir(podDir, kind, name);
      if (refresh || !existsSync(join(dir, '..data'))) {
        try {
          await writeAtomic(dir, (await dataVolumeFiles(vol, ctx, source))!);
        } catch (e) {
          // On a refresh the other volumes still get updated; this one keeps its old files.
          if (!refresh) throw e;
          errors.push(`volume ${name}: ${(e as Error).message}`);
        }
      }
      out.set(name, { name, path: dir, readOnly: true });
    }
  }
  if (errors.length > 0) throw new VolumeError(errors.join('; '));
  return out;
}

/** A container's volumeMounts as bind mounts (subPath dirs are created as the kubelet does). */
export async function volumeBinds(container: Json, volumes: Map<string, PreparedVolume>, vars?: Map<string, string>): Promise<{ source: string; destination: string; readonly?: boolean }[]> {
  const out: { source: string; destination: string; readonly?: boolean }[] = [];
  for (const m of (Array.isArray(container.volumeMounts) ? container.volumeMounts : []) as Json[]) {
    const vol = volumes.get(String(m.name ?? ''));
    if (!vol) throw new VolumeError(`volumeMount ${JSON.stringify(m.name)}: no such volume in the pod`);
    const dest = String(m.mountPath ?? '');
    if (!isAbsolute(dest)) throw new VolumeError(`volumeMount ${vol.name}: mountPath ${JSON.stringify(dest)} is not absolute`);
    let source = vol.path;
    let sub = typeof m.subPath === 'string' ? m.subPath : '';
    if (!sub && typeof m.subPathExpr === 'string' && vars) sub = expandVars(m.subPathExpr, vars);
    if (sub) {
      source = join(vol.path, safeRelative(sub, 'subPath'));
      if (!existsSync(source)) {
        if (vol.readOnly) throw new VolumeError(`subPath ${JSON.stringify(sub)} does not exist in volume ${vol.name}`);
        await mkdir(source, { recursive: true, mode: 0o755 });
      }
    }
    out.push({ source, destination: dest, readonly: m.readOnly === true || vol.readOnly === true });
  }
  return out;
}
