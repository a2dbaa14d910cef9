// Getting a container's image onto the node as the kubelet does before creating the container:
// imagePullPolicy (Never / IfNotPresent / Always, defaulted as the API server does), plain http
// only for loopback registries, credentials from the pod's imagePullSecrets
// (kubernetes.io/dockerconfigjson and the legacy kubernetes.io/dockercfg), and kubelet reasons:
// ErrImageNeverPull, ErrImagePull (with the ImagePullError message), InvalidImageName.
import { ImageNotFoundError, ImagePullError, InvalidReferenceError, isLoopbackHost, parseReference, pullImage, type ImageStore, type PulledImage, type RegistryAuth, type ResolvedImage } from '../images/index.js';
import { ContainerStartError } from '../runtime.js';

export type ImagePullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** The policy of a container spec; when unset, the API server's default (Always for :latest or no tag, else IfNotPresent). */
export function pullPolicyOf(spec: Record<string, unknown>, image: string): ImagePullPolicy {
  const p = spec.imagePullPolicy;
  if (p === 'Always' || p === 'IfNotPresent' || p === 'Never') return p;
  try {
    const r = parseReference(image);
    return !r.digest && r.tag === 'latest' ? 'Always' : 'IfNotPresent';
  } catch {
    return 'IfNotPresent';
  }
}

type Json = Record<string, unknown>;

function decodeB64Json(v: unknown): Json | undefined {
  if (typeof v !== 'string') return undefined;
  try {
    const doc = JSON.parse(Buffer.from(v, 'base64').toString('utf8')) as unknown;
    return doc && typeof doc === 'object' ? (doc as Json) : undefined;
  } catch {
    return undefined;
  }
}

/** "https://index.docker.io/v1/" → "docker.io", "127.0.0.1:5000/" → "127.0.0.1:5000". */
function normalizeRegistryKey(key: string): string {
  let k = key.trim().replace(/^[a-z]+:\/\//i, '');
  k = k.split('/')[0]!.toLowerCase();
  if (k === 'index.docker.io' || k === 'registry-1.docker.io' || k === 'registry.hub.docker.com') return 'docker.io';
  return k;
}

function authOf(entry: unknown): RegistryAuth | undefined {
  if (!entry || typeof entry !== 'object') return undefined;
  const e = entry as Json;
  if (typeof e.username === 'string' && typeof e.password === 'string' && e.username !== '') return { username: e.username, password: e.password };
  if (typeof e.auth === 'string' && e.auth !== '') {
    const plain = Buffer.from(e.auth, 'base64').toString('utf8');
    const i = plain.indexOf(':');
    if (i > 0) return { username: plain.slice(0, i), password: plain.slice(i + 1) };
  }
  if (typeof e.identitytoken === 'string' && e.identitytoken !== '') return undefined; // OAuth refresh tokens are not supported
  return undefined;
}

/**
 * The credentials for a registry host from pull secrets (Secret objects as the API returns them:
 * `data` base64, or `stringData`), every matching one in the pods' order (the kubelet tries each).
 */
export function credentialsFor(host: string, secrets: readonly Json[]): RegistryAuth[] {
  const want = normalizeRegistryKey(host);
  const out: RegistryAuth[] = [];
  for (const s of secrets) {
    const data = (s.data ?? {}) as Json;
    const stringData = (s.stringData ?? {}) as Json;
    let auths: Json | undefined;
    const cfg = decodeB64Json(data['.dockerconfigjson']) ?? (typeof stringData['.dockerconfigjson'] === 'string' ? safeParse(stringData['.dockerconfigjson']) : undefined);
    if (cfg && cfg.auths && typeof cfg.auths === 'object') auths = cfg.auths as Json;
    else auths = decodeB64Json(data['.dockercfg']) ?? (typeof stringData['.dockercfg'] === 'string' ? safeParse(stringData['.dockercfg']) : undefined);
    if (!auths) continue;
    for (const [key, entry] of Object.entries(auths)) {
      if (normalizeRegistryKey(key) !== want) continue;
      const a = authOf(entry);
      if (a) out.push(a);
    }
  }
  return out;
}

function safeParse(s: string): Json | undefined {
  try {
    const v = JSON.parse(s) as unknown;
    return v && typeof v === 'object' ? (v as Json) : undefined;
  } catch {
    return undefined;
  }
}

export interface EnsureImageOptions {
  policy: ImagePullPolicy;
  /** The pod's pull secrets (Secret objects). */
  secrets?: readonly Json[];
  signal?: AbortSignal;
}

export interface EnsuredImage {
  image: ResolvedImage;
  /** Set when a pull ran (for Always, also when nothing had to be downloaded). */
  pulled?: PulledImage;
}

/** Resolves `ref` from the store, pulling it as the policy says. Throws ContainerStartError. */
export async function ensureImage(store: ImageStore, ref: string, opts: EnsureImageOptions): Promise<EnsuredImage> {
  let parsed;
  try {
    parsed = parseReference(ref);
  } catch (e) {
    if (e instanceof InvalidReferenceError) throw new ContainerStartError('InvalidImageName', `Failed to apply default image tag ${JSON.stringify(ref)}: ${e.message}`, { cause: e });
    throw e;
  }
  const local = async (): Promise<ResolvedImage | undefined> => {
    try {
      return await store.resolve(ref);
    } catch (e) {
      if (e instanceof ImageNotFoundError) return undefined;
      throw e;
    }
  };
  if (opts.policy !== 'Always') {
    const img = await local();
    if (img) return { image: img };
    if (opts.policy === 'Never') throw new ContainerStartError('ErrImageNeverPull', `Container image ${JSON.stringify(ref)} is not present with pull policy of Never`);
  }
  const insecure = isLoopbackHost(parsed.domain);
  const auths: (RegistryAuth | undefined)[] = [...credentialsFor(parsed.domain, opts.secrets ?? []), undefined];
  let last: ImagePullError | undefined;
  for (const auth of auths) {
    try {
      const pulled = await pullImage(store, ref, { ...(auth ? { auth } : {}), ...(insecure ? { insecure: true } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
      return { image: await store.resolve(pulled.reference), pulled };
    } catch (e) {
      if (!(e instanceof ImagePullError)) throw new ContainerStartError('ErrImagePull', `failed to pull and unpack image ${JSON.stringify(ref)}: ${(e as Error).message}`, { cause: e });
      last = e;
      // Other credentials may help only when these were refused.
      if (e.reason !== 'Unauthorized') break;
    }
  }
  throw new ContainerStartError('ErrImagePull', last!.message, { cause: last });
}
