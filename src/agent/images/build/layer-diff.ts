// A build step's overlay upper dir as an OCI layer tar: overlay whiteouts become OCI whiteouts
// (a char device 0/0 NAME → an empty `.wh.NAME`; a dir with trusted.overlay.opaque=y → the dir
// and `.wh..wh..opq` in it, before its own entries). Entries are sorted, hard links within the
// layer kept, ownership/modes/mtimes as on disk.
import { execFile } from 'node:child_process';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeTar, type TarWriteEntry } from '../tar.js';

const run = promisify(execFile);

const listOpaquePy = `import os,sys,json
root=sys.argv[1]; out=[]
for d,dirs,files in os.walk(root):
  try:
    if os.getxattr(d,'trusted.overlay.opaque',follow_symlinks=False)==b'y': out.append(os.path.relpath(d,root))
  except OSError: pass
print(json.dumps(out))`;

/** Directories under `upper` (relative, "." for itself) marked opaque by overlayfs. */
export async function opaqueDirs(upper: string): Promise<Set<string>> {
  try {
    const { stdout } = await run('python3', ['-c', listOpaquePy, upper], { maxBuffer: 64 << 20 });
    return new Set(JSON.parse(stdout) as string[]);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read overlay xattrs under ${upper}: ${(e as Error).message}`);
  }
  // no python3: getfattr (Debian's "attr") per directory
  const out = new Set<string>();
  const walk = async (rel: string): Promise<void> => {
    const abs = rel === '.' ? upper : join(upper, rel);
    const v = await run('getfattr', ['-h', '--absolute-names', '--only-values', '-n', 'trusted.overlay.opaque', abs]).then(
      (x) => x.stdout,
      (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') throw new Error('reading overlay whiteouts needs python3 or getfattr (apt-get install attr)');
        return ''; // no such attribute
      },
    );
    if (v === 'y') out.add(rel);
    for (const d of await readdir(abs, { withFileTypes: true })) if (d.isDirectory()) await walk(rel === '.' ? d.name : `${rel}/${d.name}`);
  };
  await walk('.');
  return out;
}

export interface LayerDiff {
  tar: Buffer;
  /** entries written, whiteouts and opaque dirs among them */
  entries: number;
  whiteouts: string[];
  opaque: string[];
}

/** The upper dir's content as a layer tar. */
export async function layerFromUpper(upper: string): Promise<LayerDiff> {
  const opaque = await opaqueDirs(upper);
  const entries: TarWriteEntry[] = [];
  const whiteouts: string[] = [];
  const opaqueOut: string[] = [];
  const firstPath = new Map<string, string>();
  const walk = async (rel: string): Promise<void> => {
    const abs = rel ? join(upper, rel) : upper;
    for (const name of (await readdir(abs)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = join(upper, r);
      const st = await lstat(p);
      const common = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
      if (st.isCharacterDevice() && st.rdev === 0) {
        entries.push({ name: rel ? `${rel}/.wh.${name}` : `.wh.${name}`, type: 'file', mode: 0o644, mtime: common.mtime });
        whiteouts.push(r);
      } else if (st.isDirectory()) {
        entries.push({ name: `${r}/`, type: 'dir', ...common });
        if (opaque.has(r)) {
          entries.push({ name: `${r}/.wh..wh..opq`, type: 'file', mode: 0o644, mtime: common.mtime });
          opaqueOut.push(r);
        }
        await walk(r);
      } else if (st.isSymbolicLink()) {
        entries.push({ name: r, type: 'symlink', ...common, mode: 0o777, linkname: await readlink(p) });
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? firstPath.get(key) : undefined;
        if (first) entries.push({ name: r, type: 'link', ...common, linkname: first });
        else {
          entries.push({ name: r, type: 'file', ...common, data: await readFile(p) });
          if (st.nlink > 1) firstPath.set(key, r);
        }
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        const major = Number((BigInt(st.rdev) >> 8n) & 0xfffn);
        const minor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
        entries.push({ name: r, type: st.isCharacterDevice() ? 'char' : 'block', ...common, devmajor: major, devminor: minor });
      } else if (st.isFIFO()) {
        entries.push({ name: r, type: 'fifo', ...common });
      } // sockets are not part of images
    }
  };
  // an opaque root (a step that emptied /) whites out everything below
  if (opaque.has('.')) {
    entries.push({ name: '.wh..wh..opq', type: 'file', mode: 0o644 });
    opaqueOut.push('.');
  }
  await walk('');
  return { tar: writeTar(entries), entries: entries.length, whiteouts, opaque: opaqueOut };
}
