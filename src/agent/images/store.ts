// A content-addressed image store on a local directory. The root is itself an OCI image
// layout (`oci-layout`, `index.json`, `blobs/sha256/<hex>`), so OCI tools can read it:
//
//   <root>/oci-layout
//   <root>/index.json          image references → manifest descriptors (written atomically)
//   <root>/blobs/sha256/<hex>  manifests, configs, layers; every write is verified against its digest
//   <root>/layers/<hex>/       unpacked layers by diff_id (see unpack.ts)
//   <root>/tmp/                partial writes, imports being extracted
//   <root>/lock                held (O_EXCL) while the index changes or blobs are collected
//
// Each index entry names one platform-specific manifest (the host's, picked at import).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, lstat, mkdir, open, readdir, readFile, realpath, rename, rm, stat, symlink, copyFile } from 'node:fs/promises';
import { dirname, join, posix, sep } from 'node:path';
import { createGunzip } from 'node:zlib';
import { readTar } from './tar.js';
import { isDigestLike, normalizeReference, parseReference } from './reference.js';
import {
  MediaType, annotationContainerdName, annotationRefName, hostPlatform, isIndexMediaType, isManifestMediaType, platformMatches,
  type ContainerConfig, type Descriptor, type ImageConfigFile, type ImageIndex, type ImageManifest, type Platform,
} from './oci.js';

export class DigestMismatchError extends Error {
  constructor(readonly what: string, readonly expected: string, readonly actual: string) {
    super(`digest mismatch for ${what}: expected ${expected}, got ${actual} (corrupted or tampered content refused)`);
    this.name = 'DigestMismatchError';
  }
}

export class ImageNotFoundError extends Error {
  constructor(readonly reference: string) {
    super(`image not found: ${reference}`);
    this.name = 'ImageNotFoundError';
  }
}

export interface ImageSummary {
  /** "docker.io/library/busybox:latest" */
  reference: string;
  /** the manifest digest */
  digest: string;
  /** the config digest (docker's image ID, the kubelet's imageRef for local images) */
  id: string;
  /** bytes of manifest + config + layers as stored (compressed), like containerd's image size */
  size: number;
  /** the config's "created", when it has one */
  created?: string;
}

export interface LayerInfo {
  /** the blob's digest (compressed, as stored) */
  digest: string;
  /** sha256 of the uncompressed tar (rootfs.diff_ids) */
  diffId: string;
  mediaType: string;
  size: number;
}

export interface ResolvedImage {
  /** the name the lookup matched (or the first name of the image, for an ID lookup) */
  reference: string;
  /** all names of this manifest in the store */
  references: string[];
  digest: string;
  id: string;
  manifestMediaType: string;
  platform: Platform;
  created?: string;
  /** Entrypoint, Cmd, Env, WorkingDir, User, ExposedPorts, Labels, StopSignal, Volumes */
  config: ContainerConfig;
  /** bottom layer first */
  layers: LayerInfo[];
  size: number;
}

export interface ImportOptions {
  /** Name the imported image so (only when the input holds exactly one image). */
  reference?: string;
  /** For OCI layouts whose `ref.name` is only a tag ("latest"): the repository to put it under. */
  repository?: string;
  /** Default: the host's (linux/amd64 here). */
  platform?: Platform;
}

export interface ImportedImage {
  reference: string;
  digest: string;
  id: string;
}

export interface RemoveResult {
  removed: string[];
  deletedBlobs: string[];
  deletedLayers: string[];
}

const hexRe = /^[a-f0-9]{64}$/;
const digestRe = /^sha256:[a-f0-9]{64}$/;

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** sha256 over everything an async iterable yields, and its length. */
export async function hashStream(source: AsyncIterable<Buffer | string>): Promise<{ digest: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of source) {
    const b = typeof c === 'string' ? Buffer.from(c) : c;
    h.update(b);
    size += b.length;
  }
  return { digest: `sha256:${h.digest('hex')}`, size };
}

/** The first bytes of a file. */
async function head(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(n);
    const { bytesRead } = await fh.read(b, 0, n, 0);
    return b.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export type Compression = 'gzip' | 'zstd' | 'none';
export function compressionOf(magic: Buffer): Compression {
  if (magic[0] === 0x1f && magic[1] === 0x8b) return 'gzip';
  if (magic[0] === 0x28 && magic[1] === 0xb5 && magic[2] === 0x2f && magic[3] === 0xfd) return 'zstd';
  return 'none';
}

/** A file's content, gunzipped when it is gzip (zstd is refused: node 20 has no zstd). */
export async function openUncompressed(path: string, what = path): Promise<AsyncIterable<Buffer>> {
  const c = compressionOf(await head(path, 4));
  if (c === 'zstd') throw new Error(`${what} is zstd-compressed, which this node agent cannot decompress (Node 20 has no zstd); re-export the image with gzip or uncompressed layers`);
  const raw = createReadStream(path, { highWaterMark: 256 * 1024 });
  return c === 'gzip' ? raw.pipe(createGunzip()) : raw;
}

function digestHex(digest: string): string {
  if (!digestRe.test(digest)) throw new Error(`unsupported or malformed digest ${JSON.stringify(digest)} (only sha256 is supported)`);
  return digest.slice('sha256:'.length);
}

function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Turns an archive member name into a safe relative path, or throws. */
export function cleanArchivePath(name: string): string {
  const n = posix.normalize(`/${name}`).slice(1).replace(/\/$/, '');
  if (name.split('/').includes('..')) throw new Error(`archive member ${JSON.stringify(name)} escapes the archive root`);
  return n;
}

export class ImageStore {
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(readonly root: string) {}

  /** Opens (creating when needed) the store at `root`. */
  static async open(root: string): Promise<ImageStore> {
    await mkdir(join(root, 'blobs', 'sha256'), { recursive: true });
    await mkdir(join(root, 'tmp'), { recursive: true });
    await mkdir(join(root, 'layers'), { recursive: true });
    const store = new ImageStore(root);
    try {
      await stat(join(root, 'oci-layout'));
    } catch {
      await store.writeFileAtomic(join(root, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    }
    try {
      await stat(join(root, 'index.json'));
    } catch {
      await store.writeIndex({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] });
    }
    return store;
  }

  // --- blobs ---

  blobPath(digest: string): string {
    return join(this.root, 'blobs', 'sha256', digestHex(digest));
  }

  async hasBlob(digest: string): Promise<boolean> {
    try {
      await stat(this.blobPath(digest));
      return true;
    } catch {
      return false;
    }
  }

  async readBlob(digest: string): Promise<Buffer> {
    return readFile(this.blobPath(digest));
  }

  async readJsonBlob<T>(digest: string): Promise<T> {
    return JSON.parse((await this.readBlob(digest)).toString('utf8')) as T;
  }

  /** Writes a blob, verifying its digest (and size) when expected ones are given. Returns what was written. */
  async writeBlob(source: Buffer | AsyncIterable<Buffer>, expected: { digest?: string; size?: number } = {}, what = 'blob'): Promise<{ digest: string; size: number }> {
    if (expected.digest) digestHex(expected.digest);
    const tmp = join(this.root, 'tmp', `blob-${process.pid}-${randomBytes(6).toString('hex')}`);
    const h = createHash('sha256');
    let size = 0;
    const fh = await open(tmp, 'w', 0o644);
    try {
      try {
        for await (const c of Buffer.isBuffer(source) ? [source] : source) {
          h.update(c);
          size += c.length;
          await fh.write(c);
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      const digest = `sha256:${h.digest('hex')}`;
      if (expected.digest && digest !== expected.digest) throw new DigestMismatchError(what, expected.digest, digest);
      if (expected.size !== undefined && expected.size !== size) throw new Error(`size mismatch for ${what}: descriptor says ${expected.size} bytes, content has ${size}`);
      await rename(tmp, this.blobPath(digest));
      return { digest, size };
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  /**
   * Copies a file in as a blob, verifying it against `expected`. When the store already has the
   * digest, the file is still read and verified (a corrupted input is refused either way) but not written.
   */
  async writeBlobFromFile(path: string, expected: { digest?: string; size?: number }, what: string): Promise<{ digest: string; size: number }> {
    if (expected.digest && (await this.hasBlob(expected.digest))) {
      const got = await hashStream(createReadStream(path, { highWaterMark: 256 * 1024 }));
      if (got.digest !== expected.digest) throw new DigestMismatchError(what, expected.digest, got.digest);
      if (expected.size !== undefined && expected.size !== got.size) throw new Error(`size mismatch for ${what}: descriptor says ${expected.size} bytes, content has ${got.size}`);
      return got;
    }
    return this.writeBlob(createReadStream(path, { highWaterMark: 256 * 1024 }), expected, what);
  }

  // --- the index ---

  private async readIndex(): Promise<ImageIndex> {
    const index = JSON.parse(await readFile(join(this.root, 'index.json'), 'utf8')) as ImageIndex;
    index.manifests ??= [];
    return index;
  }

  private async writeIndex(index: ImageIndex): Promise<void> {
    await this.writeFileAtomic(join(this.root, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
  }

  private async writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
    const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    try {
      const d = await open(dirname(path), 'r');
      await d.sync().catch(() => {});
      await d.close();
    } catch {
      /* directory fsync is best effort */
    }
  }

  private static nameOf(d: Descriptor): string | undefined {
    return d.annotations?.[annotationContainerdName] ?? d.annotations?.[annotationRefName];
  }

  /** Serializes mutations within this process and, through `<root>/lock`, across processes. */
  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(() => this.withFileLock(fn));
    this.chain = run.catch(() => {});
    return run;
  }

  private async withFileLock<T>(fn: () => Promise<T>): Promise<T> {
    const lock = join(this.root, 'lock');
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        const fh = await open(lock, 'wx');
        await fh.writeFile(String(process.pid));
        await fh.close();
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const pid = Number.parseInt(await readFile(lock, 'utf8').catch(() => ''), 10);
        if (pid > 0 && !isPidAlive(pid)) {
          await rm(lock, { force: true });
          continue;
        }
        if (Date.now() > deadline) throw new Error(`image store ${this.root} is locked (by pid ${pid || 'unknown'}); remove ${lock} if that process is gone`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    try {
      return await fn();
    } finally {
      await rm(lock, { force: true });
    }
  }

  /** Points `names` at a manifest (replacing what they named before). Caller holds the lock. */
  private async setNames(names: string[], manifest: Descriptor): Promise<void> {
    const index = await this.readIndex();
    const set = new Set(names);
    index.manifests = index.manifests.filter((d) => !set.has(ImageStore.nameOf(d) ?? ''));
    for (const name of names) {
      index.manifests.push({
        mediaType: manifest.mediaType,
        digest: manifest.digest,
        size: manifest.size,
        annotations: { [annotationContainerdName]: name, [annotationRefName]: name },
      });
    }
    await this.writeIndex(index);
  }

  // --- imports ---

  /** Imports an OCI image layout directory (index.json → index/manifest → config + layers). */
  importOciLayout(dir: string, opts: ImportOptions = {}): Promise<ImportedImage[]> {
    return this.locked(() => this.importOciLayoutUnlocked(dir, opts));
  }

  /** Imports a `docker save` archive (a tar, gzip'd or not, or an extracted directory). */
  importDockerArchive(path: string, opts: ImportOptions = {}): Promise<ImportedImage[]> {
    return this.locked(async () => {
      if ((await stat(path)).isDirectory()) return this.importDockerDir(path, opts);
      return this.withExtracted(path, (dir) => this.importDockerDir(dir, opts));
    });
  }

  /** Imports a tar (gzip'd or not) holding either a docker-archive (manifest.json) or an OCI layout (oci-layout). */
  importTar(file: string, opts: ImportOptions = {}): Promise<ImportedImage[]> {
    return this.locked(() => this.withExtracted(file, (dir) => this.importDetected(dir, file, opts)));
  }

  /** `nami image import PATH`: a directory (OCI layout or extracted docker-archive) or a tar of either. */
  importPath(path: string, opts: ImportOptions = {}): Promise<ImportedImage[]> {
    return this.locked(async () => {
      if ((await stat(path)).isDirectory()) return this.importDetected(path, path, opts);
      return this.withExtracted(path, (dir) => this.importDetected(dir, path, opts));
    });
  }

  private async importDetected(dir: string, what: string, opts: ImportOptions): Promise<ImportedImage[]> {
    const has = (n: string) => lstat(join(dir, n)).then(() => true, () => false);
    // docker >= 25 writes both; manifest.json carries the RepoTags.
    if (await has('manifest.json')) return this.importDockerDir(dir, opts);
    if (await has('oci-layout')) return this.importOciLayoutUnlocked(dir, opts);
    throw new Error(`${what} is neither a docker-archive (no manifest.json) nor an OCI image layout (no oci-layout)`);
  }

  private async withExtracted<T>(file: string, fn: (dir: string) => Promise<T>): Promise<T> {
    const dir = join(this.root, 'tmp', `extract-${process.pid}-${randomBytes(6).toString('hex')}`);
    await mkdir(dir, { recursive: true });
    try {
      await extractArchive(file, dir);
      return await fn(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async importOciLayoutUnlocked(dir: string, opts: ImportOptions): Promise<ImportedImage[]> {
    const want = opts.platform ?? hostPlatform();
    let layoutVersion: string | undefined;
    try {
      layoutVersion = (JSON.parse(await readFile(await safePath(dir, 'oci-layout'), 'utf8')) as { imageLayoutVersion?: string }).imageLayoutVersion;
    } catch (e) {
      throw new Error(`${dir} is not an OCI image layout: cannot read oci-layout (${(e as Error).message})`);
    }
    if (!layoutVersion?.startsWith('1.')) throw new Error(`${dir}: unsupported OCI layout version ${JSON.stringify(layoutVersion)}`);
    const src = new LayoutSource(dir);
    const top = await src.json<ImageIndex>(undefined, 'index.json');
    if (!Array.isArray(top.manifests)) throw new Error(`${dir}/index.json has no manifests`);

    // Group the top-level entries by the name they carry; each group becomes one image.
    const groups = new Map<string, { names: string[]; tagOnly?: string; descs: Descriptor[] }>();
    for (const d of top.manifests) {
      const { names, tagOnly } = this.namesOf(d, opts);
      const key = JSON.stringify([names, tagOnly]);
      const g = groups.get(key) ?? { names, ...(tagOnly ? { tagOnly } : {}), descs: [] };
      g.descs.push(d);
      groups.set(key, g);
    }
    const picked: { names: string[]; tagOnly?: string; manifest: Descriptor; m: ImageManifest }[] = [];
    for (const g of groups.values()) {
      const candidates: { desc: Descriptor; platform?: Platform; m: ImageManifest }[] = [];
      for (const d of g.descs) await this.collectManifests(src, d, candidates, 0);
      const label = g.names[0] ?? g.tagOnly ?? 'unnamed image';
      if (candidates.length === 0) throw new Error(`${dir}: ${label} has no image manifest`);
      const match = candidates.find((c) => platformMatches(c.platform, want));
      if (!match) {
        const has = candidates.map((c) => (c.platform ? `${c.platform.os}/${c.platform.architecture}${c.platform.variant ? `/${c.platform.variant}` : ''}` : 'unknown')).join(', ');
        throw new Error(`${dir}: ${label} has no manifest for ${want.os}/${want.architecture} (it has ${has})`);
      }
      picked.push({ names: g.names, ...(g.tagOnly ? { tagOnly: g.tagOnly } : {}), manifest: match.desc, m: match.m });
    }
    if (opts.reference) {
      if (picked.length !== 1) throw new Error(`${dir} holds ${picked.length} images; a reference can name only one`);
      picked[0]!.names = [normalizeReference(opts.reference)];
    }
    for (const p of picked) {
      if (p.names.length === 0) {
        throw new Error(p.tagOnly
          ? `${dir}: the image is named only by the tag ${JSON.stringify(p.tagOnly)} (org.opencontainers.image.ref.name); give a repository (e.g. --name docker.io/library/busybox) to import it`
          : `${dir}: an image in index.json has no name (no org.opencontainers.image.ref.name); give a reference to import it`);
      }
    }
    const out: ImportedImage[] = [];
    for (const p of picked) {
      const m = p.m;
      await src.copyTo(this, m.config, 'config');
      for (const [i, l] of m.layers.entries()) {
        if (l.mediaType === MediaType.dockerLayerForeign && !(await src.has(l.digest))) throw new Error(`layer ${i} (${l.digest}) is a foreign layer not present in the layout`);
        await src.copyTo(this, l, `layer ${i}`);
      }
      await src.copyTo(this, p.manifest, 'manifest');
      const desc: Descriptor = { mediaType: m.mediaType ?? p.manifest.mediaType ?? MediaType.ociManifest, digest: p.manifest.digest, size: p.manifest.size };
      await this.setNames(p.names, desc);
      for (const name of p.names) out.push({ reference: name, digest: desc.digest, id: m.config.digest });
    }
    return out;
  }

  private namesOf(d: Descriptor, opts: ImportOptions): { names: string[]; tagOnly?: string } {
    const full = d.annotations?.[annotationContainerdName];
    const ref = d.annotations?.[annotationRefName];
    if (full) {
      // Tools that derive an image (umoci repack) copy the annotations but set a new ref.name tag:
      // the tag in ref.name wins, under the repository of the containerd name.
      if (ref && !/[/:@]/.test(ref)) return { names: [normalizeReference(`${parseReference(full).repository}:${ref}`)] };
      return { names: [normalizeReference(full)] };
    }
    if (!ref) return { names: [] };
    if (/[/:@]/.test(ref)) return { names: [normalizeReference(ref)] };
    if (opts.repository) return { names: [normalizeReference(`${parseReference(opts.repository).repository}:${ref}`)] };
    return { names: [], tagOnly: ref };
  }

  /** Walks an index (or manifest list) down to image manifests, noting each one's platform. */
  private async collectManifests(src: LayoutSource, d: Descriptor, out: { desc: Descriptor; platform?: Platform; m: ImageManifest }[], depth: number): Promise<void> {
    if (depth > 4) throw new Error('OCI index nesting too deep');
    const doc = await src.json<ImageIndex & ImageManifest>(d, `manifest ${d.digest}`);
    const mt = doc.mediaType ?? d.mediaType;
    if (isIndexMediaType(mt) || (mt === undefined && Array.isArray(doc.manifests))) {
      for (const c of doc.manifests) {
        // skip attestation manifests (buildkit's "unknown/unknown")
        if (c.platform?.os === 'unknown') continue;
        if (!isManifestMediaType(c.mediaType) && !isIndexMediaType(c.mediaType)) continue;
        await this.collectManifests(src, c, out, depth + 1);
      }
      return;
    }
    if (!isManifestMediaType(mt) && !(mt === undefined && doc.config)) throw new Error(`${d.digest}: unsupported manifest media type ${JSON.stringify(mt)}`);
    if (!doc.config || !Array.isArray(doc.layers)) throw new Error(`${d.digest}: manifest has no config or layers`);
    let platform: Platform | undefined = d.platform;
    if (!platform) {
      const cfg = await src.json<ImageConfigFile>(doc.config, `config ${doc.config.digest}`);
      platform = { os: cfg.os, architecture: cfg.architecture, ...(cfg.variant ? { variant: cfg.variant } : {}) };
    }
    out.push({ desc: { mediaType: mt ?? MediaType.ociManifest, digest: d.digest, size: d.size }, platform, m: doc });
  }

  private async importDockerDir(dir: string, opts: ImportOptions): Promise<ImportedImage[]> {
    type Entry = { Config: string; RepoTags?: string[] | null; Layers: string[] };
    let entries: Entry[];
    try {
      entries = JSON.parse(await readFile(await safePath(dir, 'manifest.json'), 'utf8')) as Entry[];
    } catch (e) {
      throw new Error(`not a docker-archive: cannot read manifest.json (${(e as Error).message})`);
    }
    if (!Array.isArray(entries) || entries.length === 0) throw new Error('docker-archive manifest.json lists no images');
    if (opts.reference && entries.length !== 1) throw new Error(`the archive holds ${entries.length} images; a reference can name only one`);
    const out: ImportedImage[] = [];
    for (const e of entries) {
      const names = opts.reference ? [normalizeReference(opts.reference)] : (e.RepoTags ?? []).map(normalizeReference);
      if (names.length === 0) throw new Error(`docker-archive image ${e.Config} has no RepoTags; give a reference to import it`);
      const configBytes = await readFile(await safePath(dir, e.Config));
      const configDigest = sha256(configBytes);
      const named = /(?:^|\/)([a-f0-9]{64})(?:\.json)?$/.exec(e.Config);
      if (named && `sha256:${named[1]}` !== configDigest) throw new DigestMismatchError(`config ${e.Config}`, `sha256:${named[1]}`, configDigest);
      const config = JSON.parse(configBytes.toString('utf8')) as ImageConfigFile;
      const diffIds = config.rootfs?.diff_ids ?? [];
      if (!Array.isArray(e.Layers) || diffIds.length !== e.Layers.length) {
        throw new Error(`docker-archive image ${names[0]}: ${e.Layers?.length ?? 0} layers but the config lists ${diffIds.length} diff_ids`);
      }
      const layers: Descriptor[] = [];
      for (const [i, rel] of e.Layers.entries()) {
        const path = await safePath(dir, rel);
        const what = `layer ${i} (${rel}) of ${names[0]}`;
        const comp = compressionOf(await head(path, 4));
        if (comp === 'zstd') throw new Error(`${what} is zstd-compressed, which is not supported`);
        if (comp === 'gzip') {
          const { digest: diffId } = await hashStream(await openUncompressed(path, what));
          if (diffId !== diffIds[i]) throw new DigestMismatchError(`${what} (diff_id)`, diffIds[i]!, diffId);
          const blob = await this.writeBlobFromFile(path, {}, what);
          layers.push({ mediaType: MediaType.ociLayerGzip, digest: blob.digest, size: blob.size });
        } else {
          // stored uncompressed: the blob digest is the diff_id
          const blob = await this.writeBlobFromFile(path, { digest: diffIds[i]! }, `${what} (diff_id)`);
          layers.push({ mediaType: MediaType.ociLayer, digest: blob.digest, size: blob.size });
        }
      }
      const cfg = await this.writeBlob(configBytes, { digest: configDigest }, 'config');
      const manifest: ImageManifest = {
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: MediaType.ociConfig, digest: cfg.digest, size: cfg.size },
        layers,
      };
      const mb = await this.writeBlob(Buffer.from(JSON.stringify(manifest)), {}, 'manifest');
      await this.setNames(names, { mediaType: MediaType.ociManifest, digest: mb.digest, size: mb.size });
      for (const name of names) out.push({ reference: name, digest: mb.digest, id: cfg.digest });
    }
    return out;
  }

  /** Stores a manifest already written as blobs (config and layers present) under names. */
  addImage(names: string[], manifest: Descriptor): Promise<void> {
    return this.locked(async () => {
      const m = await this.readJsonBlob<ImageManifest>(manifest.digest);
      for (const d of [m.config, ...m.layers]) if (!(await this.hasBlob(d.digest))) throw new Error(`manifest ${manifest.digest} refers to missing blob ${d.digest}`);
      await this.setNames(names.map(normalizeReference), manifest);
    });
  }

  /** Gives an image another name. */
  async tag(source: string, target: string): Promise<void> {
    const img = await this.resolve(source);
    const size = (await stat(this.blobPath(img.digest))).size;
    await this.locked(() => this.setNames([normalizeReference(target)], { mediaType: img.manifestMediaType, digest: img.digest, size }));
  }

  // --- queries ---

  /** Every name in the store, sorted by reference. */
  async list(): Promise<ImageSummary[]> {
    const index = await this.readIndex();
    const out: ImageSummary[] = [];
    for (const d of index.manifests) {
      const name = ImageStore.nameOf(d);
      if (!name) continue;
      const m = await this.readJsonBlob<ImageManifest>(d.digest);
      const cfg = await this.readJsonBlob<ImageConfigFile>(m.config.digest);
      out.push({
        reference: name,
        digest: d.digest,
        id: m.config.digest,
        size: d.size + m.config.size + m.layers.reduce((s, l) => s + l.size, 0),
        ...(cfg.created ? { created: cfg.created } : {}),
      });
    }
    return out.sort((a, b) => a.reference.localeCompare(b.reference));
  }

  /** Looks an image up by name ("busybox"), name@digest, manifest digest, or image ID (or a 12+ hex prefix). */
  async find(ref: string): Promise<ResolvedImage | undefined> {
    const index = await this.readIndex();
    const named = index.manifests.map((d) => ({ d, name: ImageStore.nameOf(d) ?? '' })).filter((x) => x.name);
    let hit: { d: Descriptor; name: string } | undefined;
    let normalized: string | undefined;
    try {
      normalized = normalizeReference(ref);
    } catch {
      normalized = undefined;
    }
    if (normalized) {
      const p = parseReference(normalized);
      if (p.digest) {
        hit = named.find((x) => x.d.digest === p.digest && parseReference(x.name).repository === p.repository);
      } else {
        hit = named.find((x) => x.name === normalized);
      }
    }
    if (!hit && isDigestLike(ref)) {
      const hex = ref.replace(/^sha256:/, '');
      const full = ref.startsWith('sha256:') && ref.length === 71;
      for (const x of named) {
        const m = await this.readJsonBlob<ImageManifest>(x.d.digest);
        const ids = [x.d.digest, m.config.digest].map((s) => s.slice('sha256:'.length));
        if (ids.some((id) => (full ? id === hex : id.startsWith(hex)))) {
          hit = x;
          break;
        }
      }
    }
    if (!hit) return undefined;
    const m = await this.readJsonBlob<ImageManifest>(hit.d.digest);
    const cfg = await this.readJsonBlob<ImageConfigFile>(m.config.digest);
    const diffIds = cfg.rootfs?.diff_ids ?? [];
    if (diffIds.length !== m.layers.length) throw new Error(`image ${hit.name}: ${m.layers.length} layers but ${diffIds.length} diff_ids in its config`);
    const c = cfg.config ?? {};
    const config: ContainerConfig = {};
    for (const k of ['Entrypoint', 'Cmd', 'Env', 'WorkingDir', 'User', 'ExposedPorts', 'Labels', 'StopSignal', 'Volumes'] as const) {
      if (c[k] !== undefined && c[k] !== null) (config as Record<string, unknown>)[k] = c[k];
    }
    return {
      reference: hit.name,
      references: named.filter((x) => x.d.digest === hit!.d.digest).map((x) => x.name).sort(),
      digest: hit.d.digest,
      id: m.config.digest,
      manifestMediaType: m.mediaType ?? hit.d.mediaType,
      platform: { os: cfg.os, architecture: cfg.architecture, ...(cfg.variant ? { variant: cfg.variant } : {}) },
      ...(cfg.created ? { created: cfg.created } : {}),
      config,
      layers: m.layers.map((l, i) => ({ digest: l.digest, diffId: diffIds[i]!, mediaType: l.mediaType, size: l.size })),
      size: hit.d.size + m.config.size + m.layers.reduce((s, l) => s + l.size, 0),
    };
  }

  /** Like find, but throws ImageNotFoundError. */
  async resolve(ref: string): Promise<ResolvedImage> {
    const img = await this.find(ref);
    if (!img) throw new ImageNotFoundError(ref);
    return img;
  }

  // --- removal ---

  /**
   * Removes a name (or, given an image ID / manifest digest, every name of that image), then
   * collects blobs and unpacked layers no remaining image uses. Whether a container still uses
   * the image is the caller's check.
   */
  remove(ref: string): Promise<RemoveResult> {
    return this.locked(async () => {
      const img = await this.find(ref);
      if (!img) throw new ImageNotFoundError(ref);
      let byName = false;
      try {
        byName = !normalizeReference(ref).includes('@') && img.references.includes(normalizeReference(ref));
      } catch {
        byName = false;
      }
      const drop = new Set(byName ? [normalizeReference(ref)] : img.references);
      const index = await this.readIndex();
      index.manifests = index.manifests.filter((d) => !drop.has(ImageStore.nameOf(d) ?? ''));
      await this.writeIndex(index);
      const gc = await this.gcUnlocked();
      return { removed: [...drop].sort(), deletedBlobs: gc.blobs, deletedLayers: gc.layers };
    });
  }

  /** Deletes blobs and unpacked layers that no image in the index reaches; also stale tmp files. */
  gc(): Promise<{ blobs: string[]; layers: string[] }> {
    return this.locked(() => this.gcUnlocked());
  }

  private async gcUnlocked(): Promise<{ blobs: string[]; layers: string[] }> {
    const index = await this.readIndex();
    const blobs = new Set<string>();
    const diffIds = new Set<string>();
    for (const d of index.manifests) {
      blobs.add(digestHex(d.digest));
      const m = await this.readJsonBlob<ImageManifest>(d.digest);
      blobs.add(digestHex(m.config.digest));
      for (const l of m.layers) blobs.add(digestHex(l.digest));
      const cfg = await this.readJsonBlob<ImageConfigFile>(m.config.digest);
      for (const id of cfg.rootfs?.diff_ids ?? []) diffIds.add(digestHex(id));
    }
    const deletedBlobs: string[] = [];
    for (const name of await readdir(join(this.root, 'blobs', 'sha256'))) {
      if (blobs.has(name)) continue;
      await rm(join(this.root, 'blobs', 'sha256', name), { force: true });
      deletedBlobs.push(`sha256:${name}`);
    }
    const deletedLayers: string[] = [];
    for (const name of await readdir(join(this.root, 'layers'))) {
      if (name.startsWith('.')) continue; // unpacks in progress
      const hex = name.replace(/\.oci$/, '');
      if (!hexRe.test(hex) || diffIds.has(hex)) continue;
      await rm(join(this.root, 'layers', name), { recursive: true, force: true });
      deletedLayers.push(`sha256:${hex}`);
    }
    const now = Date.now();
    for (const name of await readdir(join(this.root, 'tmp'))) {
      const p = join(this.root, 'tmp', name);
      const st = await lstat(p).catch(() => undefined);
      const pid = Number(/^[a-z]+-(\d+)-/.exec(name)?.[1] ?? 0);
      if (st && now - st.mtimeMs > 3_600_000 && !(pid && pid !== process.pid && isPidAlive(pid))) await rm(p, { recursive: true, force: true });
    }
    return { blobs: deletedBlobs.sort(), layers: deletedLayers.sort() };
  }

  // --- unpacked layers (see unpack.ts) ---

  /** Where a layer with this diff_id is unpacked: `<root>/layers/<hex>` (overlay whiteouts) or `<hex>.oci` (OCI whiteout files). */
  layerDir(diffId: string, whiteouts: 'overlay' | 'oci' = 'overlay'): string {
    return join(this.root, 'layers', `${digestHex(diffId)}${whiteouts === 'oci' ? '.oci' : ''}`);
  }

  // --- export ---

  /**
   * Writes images as an OCI image layout directory. `refName: 'tag'` puts only the tag in
   * `org.opencontainers.image.ref.name` (what `umoci --image DIR:TAG` and `skopeo oci:DIR:TAG` look up);
   * the full name is always in `io.containerd.image.name`.
   */
  async exportOciLayout(dir: string, references: string[], opts: { refName?: 'full' | 'tag' } = {}): Promise<void> {
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    await this.writeFileAtomic(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    let index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
    try {
      index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as ImageIndex;
    } catch {
      /* new layout */
    }
    for (const ref of references) {
      const img = await this.resolve(ref);
      const m = await this.readJsonBlob<ImageManifest>(img.digest);
      for (const d of [m.config, ...m.layers, { digest: img.digest }]) {
        const to = join(dir, 'blobs', 'sha256', digestHex(d.digest));
        if (await stat(to).then(() => true, () => false)) continue;
        await link(this.blobPath(d.digest), to).catch(() => copyFile(this.blobPath(d.digest), to));
      }
      const p = parseReference(img.reference);
      const refName = opts.refName === 'tag' ? p.tag ?? 'latest' : img.reference;
      index.manifests = index.manifests.filter((d) => d.annotations?.[annotationRefName] !== refName);
      index.manifests.push({
        mediaType: img.manifestMediaType,
        digest: img.digest,
        size: (await stat(this.blobPath(img.digest))).size,
        annotations: { [annotationContainerdName]: img.reference, [annotationRefName]: refName },
        platform: img.platform,
      });
    }
    await this.writeFileAtomic(join(dir, 'index.json'), JSON.stringify(index));
  }
}

/** Blobs of an OCI layout being imported; every read is verified against its descriptor. */
class LayoutSource {
  constructor(private readonly dir: string) {}
  private async pathOf(digest: string): Promise<string> {
    return safePath(this.dir, `blobs/sha256/${digestHex(digest)}`);
  }
  async has(digest: string): Promise<boolean> {
    return this.pathOf(digest).then(() => true, () => false);
  }
  /** A verified JSON document: a blob (by descriptor) or, without one, a file of the layout. */
  async json<T>(d: Descriptor | undefined, what: string): Promise<T> {
    let bytes: Buffer;
    if (!d) bytes = await readFile(await safePath(this.dir, what));
    else {
      let path: string;
      try {
        path = await this.pathOf(d.digest);
      } catch {
        throw new Error(`${what}: blob ${d.digest} is missing from the layout`);
      }
      bytes = await readFile(path);
      const got = sha256(bytes);
      if (got !== d.digest) throw new DigestMismatchError(what, d.digest, got);
      if (typeof d.size === 'number' && d.size !== bytes.length) throw new Error(`size mismatch for ${what}: descriptor says ${d.size} bytes, blob has ${bytes.length}`);
    }
    try {
      return JSON.parse(bytes.toString('utf8')) as T;
    } catch (e) {
      throw new Error(`${what} is not valid JSON: ${(e as Error).message}`);
    }
  }
  async copyTo(store: ImageStore, d: Descriptor, what: string): Promise<{ digest: string; size: number }> {
    let path: string;
    try {
      path = await this.pathOf(d.digest);
    } catch {
      throw new Error(`${what}: blob ${d.digest} is missing from the layout`);
    }
    return store.writeBlobFromFile(path, { digest: d.digest, size: d.size }, `${what} ${d.digest}`);
  }
}

/** `rel` inside `dir`, following symlinks only while they stay inside `dir`. */
async function safePath(dir: string, rel: string): Promise<string> {
  const clean = cleanArchivePath(rel);
  const root = await realpath(dir);
  const p = await realpath(join(root, clean));
  if (p !== root && !p.startsWith(root + sep)) throw new Error(`${rel} resolves outside ${dir}`);
  return p;
}

/** Extracts a (possibly gzip'd) tar of an image archive: regular files, dirs, symlinks, hard links. */
export async function extractArchive(file: string, dir: string): Promise<void> {
  const input = await openUncompressed(file, file);
  for await (const { header, body } of readTar(input)) {
    const rel = cleanArchivePath(header.name);
    if (rel === '') continue;
    const to = join(dir, rel);
    await mkdir(dirname(to), { recursive: true });
    if (header.type === 'dir') await mkdir(to, { recursive: true });
    else if (header.type === 'file') {
      const fh = await open(to, 'w', 0o644);
      try {
        for await (const c of body) await fh.write(c);
      } finally {
        await fh.close();
      }
    } else if (header.type === 'symlink') {
      await rm(to, { force: true });
      await symlink(header.linkname, to);
    } else if (header.type === 'link') {
      await rm(to, { force: true });
      await link(join(dir, cleanArchivePath(header.linkname)), to);
    }
  }
}
