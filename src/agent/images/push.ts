// Pushing an image from the store to an OCI distribution registry: for the config and each layer,
// HEAD /v2/<name>/blobs/<digest> (skip when present), else POST /v2/<name>/blobs/uploads/ and a
// monolithic PUT <location>?digest=<digest>; then PUT /v2/<name>/manifests/<tag> with the stored
// manifest's exact bytes (so the digest is kept).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ImageStore } from './store.js';
import { normalizeReference, parseReference, InvalidReferenceError } from './reference.js';
import type { ImageManifest } from './oci.js';
import { RegistryClient, RegistryError, registryErrorText, type RegistryAuth } from './registry-client.js';

export interface PushOptions {
  auth?: RegistryAuth;
  /** Plain http; allowed only for loopback registry hosts. */
  insecure?: boolean;
  /** The local image to push (default: `reference` itself). */
  source?: string;
  signal?: AbortSignal;
}

export interface PushedImage {
  reference: string;
  digest: string;
  /** blobs uploaded (the others were already in the registry) */
  uploaded: string[];
}

export class ImagePushError extends Error {
  constructor(readonly reference: string, readonly reason: string, readonly detail: string, options?: { cause?: unknown }) {
    super(`failed to push image "${reference}": ${detail}`, options);
    this.name = 'ImagePushError';
  }
}

async function failure(res: Response, what: string): Promise<RegistryError> {
  const text = registryErrorText(await res.text().catch(() => ''));
  return new RegistryError(`${what}: ${res.status} ${res.statusText}${text ? `: ${text}` : ''}`, res.status === 404 ? 'NotFound' : res.status === 403 ? 'Unauthorized' : 'Failed', res.status);
}

/** Pushes a stored image to `reference` ("127.0.0.1:5000/busybox:1.35"). Throws ImagePushError. */
export async function pushImage(store: ImageStore, reference: string, opts: PushOptions = {}): Promise<PushedImage> {
  let name: string;
  try {
    name = normalizeReference(reference);
  } catch (e) {
    if (e instanceof InvalidReferenceError) throw new ImagePushError(reference, 'InvalidReference', e.message, { cause: e });
    throw e;
  }
  try {
    const img = await store.resolve(opts.source ?? name);
    const p = parseReference(name);
    const client = new RegistryClient(p.domain, p.path, { ...(opts.auth ? { auth: opts.auth } : {}), ...(opts.insecure ? { insecure: true } : {}), ...(opts.signal ? { signal: opts.signal } : {}) }, 'pull,push');
    const manifestBytes = await store.readBlob(img.digest);
    const m = JSON.parse(manifestBytes.toString('utf8')) as ImageManifest;
    const uploaded: string[] = [];
    for (const d of [m.config, ...m.layers]) {
      const head = await client.request(client.url(`blobs/${d.digest}`), { method: 'HEAD' });
      await head.body?.cancel().catch(() => {});
      if (head.ok) continue;
      if (head.status !== 404) throw new RegistryError(`HEAD blob ${d.digest}: ${head.status} ${head.statusText}`, 'Failed', head.status);
      const start = await client.request(client.url('blobs/uploads/'), { method: 'POST', headers: { 'content-length': '0' }, maxRedirects: 0 });
      if (start.status !== 202) throw await failure(start, `starting the upload of ${d.digest}`);
      await start.body?.cancel().catch(() => {});
      const loc = start.headers.get('location');
      if (!loc) throw new RegistryError(`the registry gave no upload location for ${d.digest}`, 'Failed', start.status);
      const u = new URL(loc, client.baseUrl);
      u.searchParams.set('digest', d.digest);
      const path = store.blobPath(d.digest);
      const size = (await stat(path)).size;
      const put = await client.request(u.toString(), {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
        body: () => createReadStream(path, { highWaterMark: 256 * 1024 }),
        maxRedirects: 0,
      });
      if (put.status !== 201) throw await failure(put, `uploading ${d.digest}`);
      await put.body?.cancel().catch(() => {});
      uploaded.push(d.digest);
    }
    const tagOrDigest = p.digest ?? p.tag ?? 'latest';
    const res = await client.request(client.url(`manifests/${tagOrDigest}`), {
      method: 'PUT',
      headers: { 'content-type': img.manifestMediaType },
      body: () => manifestBytes,
      maxRedirects: 0,
    });
    if (res.status !== 201) throw await failure(res, `putting the manifest ${img.digest}`);
    await res.body?.cancel().catch(() => {});
    return { reference: name, digest: img.digest, uploaded };
  } catch (e) {
    if (e instanceof RegistryError) throw new ImagePushError(name, e.code, e.message, { cause: e });
    throw new ImagePushError(name, (e as Error).name === 'ImageNotFoundError' ? 'NotFound' : 'Failed', (e as Error).message, { cause: e });
  }
}
