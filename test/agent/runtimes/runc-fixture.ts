// What the runc runtime tests share: finding runc, the skip rule (root, runc
// and busybox-static, required under CI), and a runtime over a temporary root
// holding the busybox image, taken down with everything it mounted.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore, buildBusyboxImage } from '../../../src/agent/images/index.js';
import { mountsUnder, RuncRuntime, type RuncRuntimeOptions } from '../../../src/agent/runtimes/runc/index.js';

export const runcBin = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => existsSync(p)) ?? (spawnSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).stdout.trim() || undefined);

/** false when root, runc and busybox-static are here; else why the tests skip (under CI: an error). */
export function runcSkip(what: string): string | false {
  const missing = process.getuid?.() !== 0 ? 'not root' : !runcBin ? 'runc not found' : !existsSync('/bin/busybox') ? '/bin/busybox (busybox-static) missing' : undefined;
  if (missing && process.env.CI === 'true') throw new Error(`${what} cannot run under CI: ${missing}`);
  return missing ? `needs root, runc and busybox-static: ${missing}` : false;
}

/** A runtime over a fresh temporary root (prefix names it) whose store holds the busybox image tagged `image`. */
export async function openTestRuntime(prefix: string, image: string, opts: Partial<RuncRuntimeOptions> = {}): Promise<{ root: string; images: ImageStore; rt: RuncRuntime }> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const images = await ImageStore.open(join(root, 'images'));
  await buildBusyboxImage(images, { tags: [image] });
  const rt = await RuncRuntime.open({ root: join(root, 'state'), images, runc: runcBin, pollMs: 100, ...opts });
  return { root, images, rt };
}

/** Removes the pods, closes the runtime, unmounts what is left under root and deletes it. */
export async function closeTestRuntime(root: string | undefined, rt: RuncRuntime | undefined, uids: string[]): Promise<void> {
  if (rt) {
    for (const uid of uids) await rt.removePod(uid).catch(() => undefined);
    await rt.close();
  }
  if (root) {
    for (const m of mountsUnder(root)) spawnSync('umount', ['-l', m]);
    await rm(root, { recursive: true, force: true });
  }
}
