// COPY and ADD into a step's merged rootfs. Destinations are resolved the way a chroot would
// (symlinks in the image are followed but never leave it). Files keep their mode and mtime and
// belong to root, or to --chown; a directory source copies its contents; ADD unpacks a local tar
// archive (plain or gzip) into the destination directory and refuses URLs.
import { chmod, chown, copyFile, lchown, lstat, lutimes, mkdir, readdir, readlink, rm, symlink, utimes } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { openUncompressed } from '../store.js';
import { extractLayer, resolveInRoot } from '../unpack.js';
import { BuildContextError, type BuildContext } from './context.js';
import type { StepAction } from './evaluate.js';

export type CopyAction = Extract<StepAction, { kind: 'copy' }>;

export interface CopyResult {
  /** files, links and directories written */
  entries: number;
  /** archives ADD unpacked */
  archives: string[];
}

const urlRe = /^(?:[a-z][a-z0-9+.-]*:\/\/|git@)/i;

/** Whether a file is a tar archive (plain or gzip'd): the ustar magic or a valid header checksum. */
export async function isTarArchive(path: string): Promise<boolean> {
  let head = Buffer.alloc(0);
  try {
    for await (const c of await openUncompressed(path)) {
      head = Buffer.concat([head, c]);
      if (head.length >= 512) break;
    }
  } catch {
    return false;
  }
  if (head.length < 512) return false;
  if (head.subarray(257, 262).toString('latin1') === 'ustar') return true;
  const stored = Number.parseInt(head.subarray(148, 156).toString('latin1').replace(/\0.*$/, '').trim(), 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : head[i]!;
  return Number.isFinite(stored) && stored === sum && head[0] !== 0;
}

export async function copyIntoRootfs(context: BuildContext, rootfs: string, action: CopyAction, owner?: { uid: number; gid: number }): Promise<CopyResult> {
  const what = action.add ? 'ADD' : 'COPY';
  const result: CopyResult = { entries: 0, archives: [] };
  const matches: string[] = [];
  for (const s of action.sources) {
    if (urlRe.test(s)) {
      throw new BuildContextError(`${what} ${s}: URLs are not supported (a build has no network); download it into the build context and COPY it from there`);
    }
    matches.push(...(await context.match(s)));
  }
  const uid = owner?.uid ?? 0;
  const gid = owner?.gid ?? 0;
  const destRel = action.dest.replace(/^\/+/, '');

  const setMeta = async (path: string, mode: number, mtime: Date, isLink: boolean) => {
    if (isLink) {
      await lchown(path, uid, gid);
      await lutimes(path, mtime, mtime).catch(() => {});
      return;
    }
    await chown(path, uid, gid);
    await chmod(path, action.chmod ?? mode & 0o7777);
    await utimes(path, mtime, mtime);
  };

  /** Copies context entry `ctxRel` to rootfs path `dstRel`. */
  const copyEntry = async (ctxRel: string, dstRel: string): Promise<void> => {
    const src = context.abs(ctxRel);
    const st = await lstat(src);
    const parent = await resolveInRoot(rootfs, posix.dirname(dstRel), true);
    await mkdir(parent, { recursive: true, mode: 0o755 });
    let dst = join(parent, posix.basename(dstRel));
    const existing = await lstat(dst).catch(() => undefined);
    if (st.isDirectory()) {
      if (existing?.isSymbolicLink()) {
        const target = await resolveInRoot(rootfs, dstRel, true);
        if ((await lstat(target).catch(() => undefined))?.isDirectory()) dst = target;
        else await rm(dst, { force: true });
      } else if (existing && !existing.isDirectory()) await rm(dst, { force: true });
      await mkdir(dst, { recursive: true, mode: 0o755 });
      for (const name of (await readdir(src)).sort()) {
        const childRel = ctxRel ? `${ctxRel}/${name}` : name;
        if (!context.excluded(childRel)) await copyEntry(childRel, `${dstRel}/${name}`);
      }
      await setMeta(dst, st.mode, st.mtime, false);
    } else {
      if (existing) await rm(dst, { recursive: true, force: true });
      if (st.isSymbolicLink()) await symlink(await readlink(src), dst);
      else if (st.isFile()) await copyFile(src, dst);
      else return; // sockets, fifos, devices in the context are not copied
      await setMeta(dst, st.mode, st.mtime, st.isSymbolicLink());
    }
    result.entries++;
  };

  /** Makes the destination directory (owned like the copied files when it is new). */
  const destDir = async (): Promise<string> => {
    const dir = await resolveInRoot(rootfs, destRel, true);
    const st = await lstat(dir).catch(() => undefined);
    if (st && !st.isDirectory()) throw new BuildContextError(`${what}: destination ${action.dest} exists and is not a directory`);
    if (!st) {
      await mkdir(dir, { recursive: true, mode: 0o755 });
      await chown(dir, uid, gid);
    }
    return dir;
  };

  const only = matches.length === 1 && action.sources.length === 1 ? matches[0]! : undefined;
  const onlyStat = only !== undefined ? await lstat(context.abs(only)) : undefined;
  const archive = async (rel: string) => action.add && (await lstat(context.abs(rel))).isFile() && (await isTarArchive(context.abs(rel)));
  if (only !== undefined && !onlyStat!.isDirectory() && !action.destIsDir && !(await archive(only))) {
    // one file to a path: that is its new name, unless the path is an existing directory
    const target = await resolveInRoot(rootfs, destRel, true);
    const isDir = (await lstat(target).catch(() => undefined))?.isDirectory() ?? false;
    await copyEntry(only, isDir ? `${destRel}/${posix.basename(only)}` : destRel);
    return result;
  }
  const dir = await destDir();
  for (const rel of matches) {
    const st = await lstat(context.abs(rel));
    if (st.isDirectory()) {
      // a directory's contents, not the directory itself
      for (const name of (await readdir(context.abs(rel))).sort()) {
        const childRel = rel ? `${rel}/${name}` : name;
        if (!context.excluded(childRel)) await copyEntry(childRel, `${destRel}/${name}`);
      }
    } else if (await archive(rel)) {
      await extractLayer(await openUncompressed(context.abs(rel), rel), dir, 'oci');
      result.archives.push(rel);
    } else await copyEntry(rel, `${destRel}/${posix.basename(rel)}`);
  }
  return result;
}
