// Unpacking layers, once each, into `<root>/layers/<diff_id hex>/` for use as overlay lower dirs.
//
// Whiteouts (OCI image-spec "layer" changesets) have two representations:
//  - 'overlay' (default when running as root): what overlayfs reads in a lower dir. `.wh.NAME`
//    becomes a character device 0/0 named NAME; `.wh..wh..opq` becomes the xattr
//    `trusted.overlay.opaque=y` on its directory. Needs root (mknod, trusted.* xattrs).
//  - 'oci' (default otherwise; dir `<hex>.oci`): the `.wh.` marker files are kept as they are in
//    the tar; `flattenLayers` applies them when copying layers into one directory.
// Ownership (uid/gid) and `SCHILY.xattr.*` are applied only as root; modes, mtimes, symlinks and
// hard links always. Paths never leave the layer directory: `..` is refused and symlinks met on
// the way are resolved inside the layer root.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, chown, copyFile, lchown, link, lstat, lutimes, mkdir, open, readdir, readlink, rename, rm, symlink, utimes } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { readTar } from './tar.js';
import { openUncompressed, type ImageStore, type LayerInfo, type ResolvedImage } from './store.js';

const run = promisify(execFile);

export type WhiteoutFormat = 'overlay' | 'oci';

export interface UnpackOptions {
  /** Default: 'overlay' as root, 'oci' otherwise. */
  whiteouts?: WhiteoutFormat;
}

export interface UnpackStats {
  entries: number;
  whiteouts: number;
  opaqueDirs: number;
  /** device nodes and fifos not created (not root), and unknown entry types */
  skipped: string[];
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

export function defaultWhiteoutFormat(): WhiteoutFormat {
  return isRoot() ? 'overlay' : 'oci';
}

const inFlight = new Map<string, Promise<string>>();

/** Unpacks one layer (if not done before) and returns its directory. Verifies the diff_id. */
export function unpackLayer(store: ImageStore, layer: Pick<LayerInfo, 'digest' | 'diffId'>, opts: UnpackOptions = {}): Promise<string> {
  const format = opts.whiteouts ?? defaultWhiteoutFormat();
  const final = store.layerDir(layer.diffId, format);
  const pending = inFlight.get(final);
  if (pending) return pending;
  const p = (async () => {
    if (await lstat(final).then(() => true, () => false)) return final;
    const tmp = join(store.root, 'layers', `.tmp-${layer.diffId.slice(7, 19)}-${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(tmp, { mode: 0o755 });
    try {
      const source = await openUncompressed(store.blobPath(layer.digest), `layer ${layer.digest}`);
      const h = createHash('sha256');
      const hashed = (async function* () {
        for await (const c of source) {
          h.update(c);
          yield c as Buffer;
        }
      })();
      await extractLayer(hashed, tmp, format);
      const diffId = `sha256:${h.digest('hex')}`;
      if (diffId !== layer.diffId) throw new Error(`layer ${layer.digest}: uncompressed content has diff_id ${diffId}, the image config says ${layer.diffId}`);
      try {
        await rename(tmp, final);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
        await rm(tmp, { recursive: true, force: true }); // another process won
      }
      return final;
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
  })().finally(() => inFlight.delete(final));
  inFlight.set(final, p);
  return p;
}

/** Unpacks every layer of an image; returns their directories, bottom layer first. */
export async function unpackLayers(store: ImageStore, image: string | ResolvedImage, opts: UnpackOptions = {}): Promise<string[]> {
  const img = typeof image === 'string' ? await store.resolve(image) : image;
  const dirs: string[] = [];
  for (const l of img.layers) dirs.push(await unpackLayer(store, l, opts));
  return dirs;
}

/** The overlay `lowerdir=` value for layer dirs given bottom first (overlay wants the top one first). */
export function overlayLowerdir(dirs: string[]): string {
  return [...dirs].reverse().join(':');
}

// --- extraction ---

/** A layer-relative path without `./` or leading `/`; throws on `..`. */
function cleanLayerPath(name: string): string {
  if (name.split('/').includes('..')) throw new Error(`layer entry ${JSON.stringify(name)} has a ".." component`);
  return posix.normalize(`/${name}`).slice(1).replace(/\/$/, '');
}

/** Resolves `rel` under `root` the way a chroot would: symlinks are followed but can never leave root. */
export async function resolveInRoot(root: string, rel: string, followLast: boolean): Promise<string> {
  const parts = rel.split('/').filter((p) => p && p !== '.');
  let cur: string[] = [];
  let links = 0;
  while (parts.length > 0) {
    const comp = parts.shift()!;
    if (comp === '..') {
      cur.pop();
      continue;
    }
    const p = join(root, ...cur, comp);
    const st = await lstat(p).catch(() => undefined);
    if (st?.isSymbolicLink() && (parts.length > 0 || followLast)) {
      if (++links > 40) throw new Error(`too many symlinks resolving ${rel} in a layer`);
      const t = await readlink(p);
      if (t.startsWith('/')) cur = [];
      parts.unshift(...t.split('/').filter((x) => x && x !== '.'));
      continue;
    }
    cur.push(comp);
  }
  return join(root, ...cur);
}

let xattrTool: 'setfattr' | 'python3' | undefined;

/** Sets an xattr without following symlinks (node has no xattr API: `setfattr` from `attr`, or python3). */
export async function setXattr(path: string, name: string, value: Buffer): Promise<void> {
  const tools: ('setfattr' | 'python3')[] = xattrTool ? [xattrTool] : ['setfattr', 'python3'];
  let last: unknown;
  for (const tool of tools) {
    try {
      if (tool === 'setfattr') await run('setfattr', ['-h', '-n', name, '-v', `0x${value.toString('hex')}`, '--', path]);
      else await run('python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3]), follow_symlinks=False)', path, name, value.toString('hex')]);
      xattrTool = tool;
      return;
    } catch (e) {
      last = e;
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') break;
    }
  }
  const msg = (last as { stderr?: string })?.stderr?.trim() || (last as Error)?.message;
  throw new Error(`cannot set xattr ${name} on ${path}: ${msg} (needs setfattr from Debian's "attr" package, or python3)`);
}

async function mknod(path: string, kind: 'c' | 'b' | 'p', mode: number, major = 0, minor = 0): Promise<void> {
  const args = ['-m', (mode & 0o7777).toString(8), path, kind];
  if (kind !== 'p') args.push(String(major), String(minor));
  try {
    await run('mknod', args);
  } catch (e) {
    throw new Error(`mknod ${path} failed: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}${isRoot() ? '' : ' (overlay whiteouts need root; use whiteouts: "oci")'}`);
  }
}

/** Extracts a layer tar stream into `root` (an empty directory), applying whiteouts per `format`. */
export async function extractLayer(source: AsyncIterable<Buffer>, root: string, format: WhiteoutFormat): Promise<UnpackStats> {
  const asRoot = isRoot();
  const stats: UnpackStats = { entries: 0, whiteouts: 0, opaqueDirs: 0, skipped: [] };
  const dirs = new Map<string, { mode: number; uid: number; gid: number; mtime: number }>();
  const opaque = new Set<string>();
  for await (const { header, body } of readTar(source, { drainTrailer: true })) {
    stats.entries++;
    const rel = cleanLayerPath(header.name);
    if (rel === '') {
      if (header.type === 'dir') dirs.set(root, { mode: header.mode, uid: header.uid, gid: header.gid, mtime: header.mtime });
      continue;
    }
    const base = posix.basename(rel);
    const parentRel = posix.dirname(rel);
    const parent = await resolveInRoot(root, parentRel === '.' ? '' : parentRel, true);
    await mkdir(parent, { recursive: true, mode: 0o755 });
    if (format === 'overlay' && base.startsWith('.wh.')) {
      if (base === '.wh..wh..opq') {
        opaque.add(parent);
        stats.opaqueDirs++;
      } else if (!base.startsWith('.wh..wh.')) {
        const name = base.slice(4);
        if (name === '' || name === '.' || name === '..') throw new Error(`bad whiteout ${JSON.stringify(header.name)}`);
        const target = join(parent, name);
        await rm(target, { recursive: true, force: true });
        await mknod(target, 'c', 0, 0, 0);
        stats.whiteouts++;
      } // other .wh..wh.* (aufs metadata) carry nothing for overlay
      continue;
    }
    if (format === 'oci' && base.startsWith('.wh.')) stats.whiteouts++;
    const target = join(parent, base);
    const existing = await lstat(target).catch(() => undefined);
    if (existing && !(existing.isDirectory() && header.type === 'dir')) await rm(target, { recursive: true, force: true });
    switch (header.type) {
      case 'dir':
        if (!existing?.isDirectory()) await mkdir(target, { mode: 0o755 });
        dirs.set(target, { mode: header.mode, uid: header.uid, gid: header.gid, mtime: header.mtime });
        break;
      case 'file': {
        const fh = await open(target, 'wx', 0o600);
        try {
          for await (const c of body) await fh.write(c);
        } finally {
          await fh.close();
        }
        if (asRoot) await chown(target, header.uid, header.gid);
        await chmod(target, header.mode);
        await utimes(target, header.mtime, header.mtime);
        break;
      }
      case 'symlink':
        await symlink(header.linkname, target);
        if (asRoot) await lchown(target, header.uid, header.gid);
        await lutimes(target, header.mtime, header.mtime).catch(() => {});
        break;
      case 'link': {
        const src = await resolveInRoot(root, cleanLayerPath(header.linkname), false);
        const st = await lstat(src).catch(() => undefined);
        if (!st) throw new Error(`hard link ${header.name} → ${header.linkname}: target not in the layer`);
        if (st.isDirectory()) throw new Error(`hard link ${header.name} → ${header.linkname}: target is a directory`);
        await link(src, target);
        break;
      }
      case 'char':
      case 'block':
      case 'fifo':
        if (!asRoot) {
          stats.skipped.push(`${header.type} ${rel}`);
          break;
        }
        await mknod(target, header.type === 'char' ? 'c' : header.type === 'block' ? 'b' : 'p', header.mode, header.devmajor, header.devminor);
        await chown(target, header.uid, header.gid);
        break;
      default:
        stats.skipped.push(`unknown entry type ${rel}`);
        continue;
    }
    if (asRoot && header.type !== 'symlink' && header.type !== 'link') {
      for (const [name, value] of Object.entries(header.xattrs)) await setXattr(target, name, value);
    }
  }
  // Directories last, deepest first: their modes may forbid writing, and writing changes mtimes.
  for (const [dir, a] of [...dirs].sort((x, y) => y[0].length - x[0].length)) {
    if (asRoot) await chown(dir, a.uid, a.gid);
    await chmod(dir, a.mode);
  }
  for (const dir of opaque) await setXattr(dir, 'trusted.overlay.opaque', Buffer.from('y'));
  for (const [dir, a] of [...dirs].sort((x, y) => y[0].length - x[0].length)) await utimes(dir, a.mtime, a.mtime);
  return stats;
}

// --- flattening (no overlay: a non-root process runtime, or tests) ---

/**
 * Copies layers (bottom first, unpacked with whiteouts: 'oci') into `dest`, applying whiteouts:
 * `.wh.NAME` deletes NAME from the layers below, `.wh..wh..opq` empties its directory first.
 * Hard links within one layer are kept; ownership is kept only as root.
 */
export async function flattenLayers(layerDirs: string[], dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  const asRoot = isRoot();
  for (const layer of layerDirs) {
    const inodes = new Map<string, string>();
    const walk = async (rel: string): Promise<void> => {
      const from = join(layer, rel);
      const names = await readdir(from);
      if (names.includes('.wh..wh..opq')) {
        const to = await resolveInRoot(dest, rel, true);
        for (const n of await readdir(to).catch(() => [] as string[])) await rm(join(to, n), { recursive: true, force: true });
      }
      for (const n of names) {
        if (n.startsWith('.wh.')) {
          if (!n.startsWith('.wh..wh.')) await rm(join(await resolveInRoot(dest, rel, true), n.slice(4)), { recursive: true, force: true });
        }
      }
      for (const n of names) {
        if (n.startsWith('.wh.')) continue;
        const r = rel ? `${rel}/${n}` : n;
        const src = join(layer, r);
        const st = await lstat(src);
        const to = join(await resolveInRoot(dest, rel, true), n);
        const existing = await lstat(to).catch(() => undefined);
        if (existing && !(existing.isDirectory() && st.isDirectory())) await rm(to, { recursive: true, force: true });
        if (st.isDirectory()) {
          if (!existing?.isDirectory()) await mkdir(to);
          await walk(r);
          if (asRoot) await chown(to, st.uid, st.gid);
          await chmod(to, st.mode & 0o7777);
          await utimes(to, st.atime, st.mtime);
        } else if (st.isSymbolicLink()) {
          await symlink(await readlink(src), to);
          if (asRoot) await lchown(to, st.uid, st.gid);
        } else if (st.isFile()) {
          const key = `${st.dev}:${st.ino}`;
          const first = st.nlink > 1 ? inodes.get(key) : undefined;
          if (first) await link(first, to);
          else {
            await copyFile(src, to);
            if (asRoot) await chown(to, st.uid, st.gid);
            await chmod(to, st.mode & 0o7777);
            await utimes(to, st.atime, st.mtime);
            if (st.nlink > 1) inodes.set(key, to);
          }
        } else if (asRoot && (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO())) {
          await mknod(to, st.isFIFO() ? 'p' : st.isCharacterDevice() ? 'c' : 'b', st.mode, Math.floor(st.rdev / 256) & 0xfff, st.rdev & 0xff);
        }
      }
    };
    await walk('');
  }
}
