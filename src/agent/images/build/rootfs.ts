// The root file system of one build step: an overlay of the layers so far (read-only lower dirs,
// unpacked with overlay whiteouts) and an empty upper dir that collects the step's changes.
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { overlayLowerdir } from '../unpack.js';
import { mountsUnder } from '../../runtimes/mounts.js';
export { mountsUnder };

const run = promisify(execFile);

export interface StepRootfs {
  /** the merged view the step works in */
  merged: string;
  /** the step's changes (overlay whiteouts: char 0/0 devices, trusted.overlay.opaque) */
  upper: string;
  unmount(): Promise<void>;
}

/** Unmounts everything at or under `dir` (lazily when busy). */
export async function unmountAll(dir: string): Promise<void> {
  for (const m of mountsUnder(dir)) await run('umount', [m]).catch(() => run('umount', ['-l', m]).catch(() => undefined));
}

/**
 * Mounts `<dir>/merged` over `lowerDirs` (bottom first) with `<dir>/upper` for the changes.
 * metacopy and redirect_dir are turned off where the kernel knows them: the upper dir must hold
 * whole files and plain directories, since it becomes a layer.
 */
export async function mountStepRootfs(dir: string, lowerDirs: string[]): Promise<StepRootfs> {
  const merged = join(dir, 'merged');
  const upper = join(dir, 'upper');
  const work = join(dir, 'work');
  for (const d of [merged, upper, work]) await mkdir(d, { recursive: true, mode: 0o755 });
  let lowers = lowerDirs;
  if (lowers.length === 0) {
    // FROM scratch: overlay wants at least one lower dir
    const empty = join(dir, 'empty');
    await mkdir(empty, { recursive: true });
    lowers = [empty];
  }
  const base = `lowerdir=${overlayLowerdir(lowers)},upperdir=${upper},workdir=${work}`;
  try {
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `${base},redirect_dir=off,metacopy=off`, merged]);
  } catch {
    try {
      await run('mount', ['-t', 'overlay', 'overlay', '-o', base, merged]);
    } catch (e) {
      throw new Error(`cannot mount the build step's overlay: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message} (image builds need root and overlayfs)`);
    }
  }
  return { merged, upper, unmount: () => unmountAll(merged) };
}
