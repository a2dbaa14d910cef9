// Pulling images from OCI distribution registries into the store:
//   GET /v2/<name>/manifests/<tag|digest>  (Accept: OCI index/manifest, docker list/v2 manifest)
//   → an index: the manifest for the platform → GET it by digest
//   → config and layers: GET /v2/<name>/blobs/<digest> (redirects followed), skipped when the
//     store has them, every byte verified against its digest by the store
//   → the manifest is stored (exact bytes) and the reference tagged to it.
// Failures are ImagePullErrors whose message reads like containerd's, as the kubelet shows it in
// ErrImagePull: `failed to pull and unpack image "docker.io/library/x:1": failed to resolve reference ...`.
import { DigestMismatchError, sha256, type ImageStore } from './store.js';
import { normalizeReference, parseReference, InvalidReferenceError } from './reference.js';
import { MediaType, hostPlatform, isIndexMediaType, isManifestMediaType, platformMatches, type Descriptor, type ImageConfigFile, type ImageIndex, type ImageManifest, type Platform } from './oci.js';
import { RegistryClient, RegistryError, bodyChunks, readLimited, registryErrorText, type RegistryAuth, type RegistryErrorCode } from './registry-client.js';

export interface PullProgress {
  /** the layer's digest (or the config's) */
  layer: string;
  downloaded: number;
  total: number;
}

export interface PullOptions {
  auth?: RegistryAuth;
  /** Plain http; allowed only for loopback registry hosts. */
  insecure?: boolean;
  /** Default: the host's. */
  platform?: Platform;
  onProgress?(p: PullProgress): void;
  signal?: AbortSignal;
  /** Blobs downloaded at once (default 3). */
  concurrency?: number;
}

export interface PulledImage {
  /** the normalized reference, as tagged in the store */
  reference: string;
  /** the (platform-specific) manifest's digest, as stored */
  digest: string;
  /** the config digest (the image ID) */
  id: string;
  /** the digest the registry resolved the reference to (the index's, for a multi-platform image) */
  repoDigest: string;
  /** bytes downloaded (blobs the store already had are not counted) */
  downloaded: number;
  /** blobs the store already had */
  skipped: string[];
}

export type ImagePullReason = RegistryErrorCode | 'InvalidReference';

/** An image pull that failed; `message` is what the kubelet shows with ErrImagePull. */
export class ImagePullError extends Error {
  constructor(readonly reference: string, readonly reason: ImagePullReason, readonly detail: string, options?: { cause?: unknown }) {
    super(`failed to pull and unpack image "${reference}": ${detail}`, options);
    this.name = 'ImagePullError';
  }
}

export const manifestAccept = [MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest].join(', ');
const manifestLimit = 4 * 1024 * 1024;

function platformString(p: Partial<Platform> | undefined): string {
  if (!p?.os) return 'unknown';
  return `${p.os}/${p.architecture ?? 'unknown'}${p.variant ? `/${p.variant}` : ''}`;
}

async function statusError(res: Response, what: string, ref: string): Promise<RegistryError> {
  const text = registryErrorText(await res.text().catch(() => ''));
  if (res.status === 404) return new RegistryError(`${ref}: not found`, 'NotFound', 404);
  if (res.status === 403) return new RegistryError(`${what}: ${text ?? 'denied: requested access to the resource is denied'}`, 'Unauthorized', 403);
  return new RegistryError(`unexpected status from GET request to ${what}: ${res.status} ${res.statusText}${text ? `: ${text}` : ''}`, 'Failed', res.status);
}

/** Fetches a manifest (by tag or digest) and checks its digest: against the digest asked for, else the registry's Docker-Content-Digest. */
async function fetchManifest(client: RegistryClient, ref: string, tagOrDigest: string, nameForErrors: string): Promise<{ bytes: Buffer; digest: string; mediaType: string; doc: ImageIndex & ImageManifest }> {
  const url = client.url(`manifests/${tagOrDigest}`);
  const res = await client.request(url, { headers: { accept: manifestAccept } });
  if (res.status === 404) {
    const text = registryErrorText(await res.text().catch(() => ''));
    throw new RegistryError(`${nameForErrors}: not found${text && !/manifest unknown|not found/i.test(text) ? ` (${text})` : ''}`, 'NotFound', 404);
  }
  if (!res.ok) throw await statusError(res, url, nameForErrors);
  const bytes = await readLimited(res, manifestLimit, `manifest ${url}`);
  const digest = sha256(bytes);
  const expected = tagOrDigest.startsWith('sha256:') ? tagOrDigest : res.headers.get('docker-content-digest');
  if (expected && expected.startsWith('sha256:') && expected !== digest) throw new DigestMismatchError(`manifest ${ref}`, expected, digest);
  let doc: ImageIndex & ImageManifest;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as typeof doc;
  } catch {
    throw new RegistryError(`manifest ${ref} is not valid JSON`, 'Failed');
  }
  const ct = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  const mediaType = doc.mediaType ?? (isIndexMediaType(ct) || isManifestMediaType(ct) ? ct : Array.isArray(doc.manifests) ? MediaType.ociIndex : MediaType.ociManifest);
  if ((doc as { schemaVersion?: number }).schemaVersion === 1) {
    throw new RegistryError(`${ref}: docker schema 1 manifests are not supported`, 'Unsupported');
  }
  return { bytes, digest, mediaType, doc };
}

async function runLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (next < items.length && failed === undefined) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed !== undefined) throw failed;
}

/**
 * Pulls `reference` ("busybox", "127.0.0.1:5000/busybox:1.35", "x@sha256:...") into the store and
 * tags it. Throws ImagePullError.
 */
export async function pullImage(store: ImageStore, reference: string, opts: PullOptions = {}): Promise<PulledImage> {
  let name: string;
  try {
    name = normalizeReference(reference);
  } catch (e) {
    if (e instanceof InvalidReferenceError) throw new ImagePullError(reference, 'InvalidReference', e.message, { cause: e });
    throw e;
  }
  try {
    return await pullNormalized(store, name, opts);
  } catch (e) {
    if (e instanceof ImagePullError) throw e;
    if (e instanceof RegistryError) {
      const resolving = (e as RegistryError & { resolving?: boolean }).resolving;
      const detail = resolving ? `failed to resolve reference "${name}": ${e.message}` : e.message;
      throw new ImagePullError(name, e.code, detail, { cause: e });
    }
    if (e instanceof DigestMismatchError) throw new ImagePullError(name, 'DigestMismatch', e.message, { cause: e });
    if (opts.signal?.aborted) throw e;
    throw new ImagePullError(name, 'Failed', (e as Error).message, { cause: e });
  }
}

async function pullNormalized(store: ImageStore, name: string, opts: PullOptions): Promise<PulledImage> {
  const p = parseReference(name);
  const want = opts.platform ?? hostPlatform();
  const client = new RegistryClient(p.domain, p.path, { ...(opts.auth ? { auth: opts.auth } : {}), ...(opts.insecure ? { insecure: true } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });

  // Resolve the reference (errors here read "failed to resolve reference ...", as containerd's do).
  let top: Awaited<ReturnType<typeof fetchManifest>>;
  try {
    top = await fetchManifest(client, name, p.digest ?? p.tag ?? 'latest', name);
  } catch (e) {
    if (e instanceof RegistryError) Object.assign(e, { resolving: true });
    throw e;
  }
  let manifest = top;
  if (isIndexMediaType(top.mediaType)) {
    const candidates = (top.doc.manifests ?? []).filter((d) => d.platform?.os !== 'unknown' && (isManifestMediaType(d.mediaType) || d.mediaType === undefined));
    const match = candidates.find((d) => platformMatches(d.platform, want));
    if (!match) {
      throw new RegistryError(`no match for platform in manifest ${top.digest}: ${name} has no image for ${platformString(want)} (it has ${candidates.map((d) => platformString(d.platform)).join(', ') || 'none'})`, 'NoMatchingPlatform');
    }
    manifest = await fetchManifest(client, name, match.digest, `${p.repository}@${match.digest}`);
    if (match.size !== undefined && match.size !== manifest.bytes.length) throw new RegistryError(`size mismatch for manifest ${match.digest}: index says ${match.size} bytes, got ${manifest.bytes.length}`, 'DigestMismatch');
  } else if (!isManifestMediaType(manifest.mediaType)) {
    throw new RegistryError(`${name}: unsupported manifest media type ${JSON.stringify(manifest.mediaType)}`, 'Unsupported');
  }
  const m = manifest.doc as ImageManifest;
  if (!m.config?.digest || !Array.isArray(m.layers)) throw new RegistryError(`manifest ${manifest.digest} has no config or layers`, 'Failed');

  let downloaded = 0;
  const skipped: string[] = [];
  const fetchBlob = async (d: Descriptor, what: string): Promise<void> => {
    if (await store.hasBlob(d.digest)) {
      skipped.push(d.digest);
      return;
    }
    if (d.mediaType === MediaType.dockerLayerForeign) throw new RegistryError(`${what} ${d.digest} is a foreign (non-distributable) layer, which is not supported`, 'Unsupported');
    const url = client.url(`blobs/${d.digest}`);
    const res = await client.request(url);
    if (res.status === 404) {
      await res.body?.cancel().catch(() => {});
      throw new RegistryError(`failed to copy: ${what} ${d.digest}: blob unknown to registry (${url})`, 'NotFound', 404);
    }
    if (!res.ok) throw await statusError(res, url, `${what} ${d.digest}`);
    let got = 0;
    opts.onProgress?.({ layer: d.digest, downloaded: 0, total: d.size });
    await store.writeBlob(bodyChunks(res, (n) => {
      got += n;
      downloaded += n;
      opts.onProgress?.({ layer: d.digest, downloaded: got, total: d.size });
    }), { digest: d.digest, size: d.size }, `${what} ${d.digest} of ${name}`);
  };

  await fetchBlob(m.config, 'config');
  const cfg = await store.readJsonBlob<ImageConfigFile>(m.config.digest);
  if (!platformMatches({ os: cfg.os, architecture: cfg.architecture, ...(cfg.variant ? { variant: cfg.variant } : {}) }, want) && !isIndexMediaType(top.mediaType)) {
    throw new RegistryError(`image ${name} is for ${platformString({ os: cfg.os, architecture: cfg.architecture, ...(cfg.variant ? { variant: cfg.variant } : {}) })}, not ${platformString(want)}`, 'NoMatchingPlatform');
  }
  const diffIds = cfg.rootfs?.diff_ids ?? [];
  if (diffIds.length !== m.layers.length) throw new RegistryError(`image ${name}: ${m.layers.length} layers but ${diffIds.length} diff_ids in its config`, 'Failed');
  await runLimited(m.layers.map((l, i) => ({ l, i })), opts.concurrency ?? 3, ({ l, i }) => fetchBlob(l, `layer ${i}`));

  await store.writeBlob(manifest.bytes, { digest: manifest.digest }, `manifest ${manifest.digest}`);
  const desc: Descriptor = { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length };
  await store.addImage([name], desc);
  return { reference: name, digest: manifest.digest, id: m.config.digest, repoDigest: top.digest, downloaded, skipped };
}
