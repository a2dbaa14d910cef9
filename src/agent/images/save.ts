// `nami image save NAME FILE`: an image of the store as an OCI image layout in a tar (what
// `skopeo copy oci-archive:FILE`, `podman load` and `nami image import` read). ref.name is the
// tag (as OCI tools look it up); io.containerd.image.name carries the full name.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ImageStore } from './store.js';
import { tarHeader, tarPadding, tarTrailer } from './tar.js';

export interface SavedImage {
  reference: string;
  digest: string;
}

export async function saveOciArchive(store: ImageStore, reference: string, file: string): Promise<SavedImage> {
  const img = await store.resolve(reference);
  const layout = join(store.root, 'tmp', `save-${process.pid}-${randomBytes(6).toString('hex')}`);
  const partial = join(dirname(file), `.${randomBytes(6).toString('hex')}.nami-save.tmp`);
  try {
    await store.exportOciLayout(layout, [img.reference], { refName: 'tag' });
    const fh = await open(partial, 'w', 0o644);
    try {
      const mtime = Math.floor(Date.now() / 1000);
      const put = async (name: string, type: 'dir' | 'file', path?: string) => {
        const size = path ? (await stat(path)).size : 0;
        await fh.write(tarHeader({ name, type, mode: type === 'dir' ? 0o755 : 0o644, mtime }, size));
        if (!path) return;
        for await (const c of createReadStream(path, { highWaterMark: 256 * 1024 })) await fh.write(c as Buffer);
        await fh.write(tarPadding(size));
      };
      await put('oci-layout', 'file', join(layout, 'oci-layout'));
      await put('index.json', 'file', join(layout, 'index.json'));
      await put('blobs/', 'dir');
      await put('blobs/sha256/', 'dir');
      for (const name of (await readdir(join(layout, 'blobs', 'sha256'))).sort()) await put(`blobs/sha256/${name}`, 'file', join(layout, 'blobs', 'sha256', name));
      await fh.write(tarTrailer());
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(partial, file);
    return { reference: img.reference, digest: img.digest };
  } finally {
    await rm(partial, { force: true });
    await rm(layout, { recursive: true, force: true });
  }
}
