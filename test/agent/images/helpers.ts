// Helpers for the image store tests: temp dirs, hand-built images, peer tool detection.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { MediaType, hostPlatform, sha256, writeTar, type ImageStore, type TarWriteEntry } from '../../../src/agent/images/index.js';

export async function tempDir(prefix = 'nami-images-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Whether a command exists on PATH. */
export function hasTool(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Reads an xattr (without following symlinks) through python3, or undefined when absent. */
export function getXattr(path: string, name: string): string | undefined {
  const r = spawnSync('python3', ['-c', 'import os,sys\ntry: sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).decode())\nexcept OSError: sys.exit(3)', path, name], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : undefined;
}

/** Puts an image with these layers (each a list of tar entries, stored gzip'd) into the store. */
export async function addTestImage(store: ImageStore, reference: string, layers: TarWriteEntry[][], config: Record<string, unknown> = {}): Promise<{ digest: string; id: string; diffIds: string[] }> {
  const descs = [];
  const diffIds: string[] = [];
  for (const entries of layers) {
    const tar = writeTar(entries);
    diffIds.push(sha256(tar));
    const b = await store.writeBlob(gzipSync(tar));
    descs.push({ mediaType: MediaType.ociLayerGzip, digest: b.digest, size: b.size });
  }
  const p = hostPlatform();
  const cfg = await store.writeBlob(Buffer.from(JSON.stringify({ architecture: p.architecture, os: p.os, config, rootfs: { type: 'layers', diff_ids: diffIds } })));
  const manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: cfg.digest, size: cfg.size }, layers: descs };
  const m = await store.writeBlob(Buffer.from(JSON.stringify(manifest)));
  await store.addImage([reference], { mediaType: MediaType.ociManifest, digest: m.digest, size: m.size });
  return { digest: m.digest, id: cfg.digest, diffIds };
}
