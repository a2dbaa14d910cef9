// The host's mount table, read for what lies under a directory (container
// rootfs overlays, tmpfs volumes, image build steps) before it is removed.
import { readFileSync } from 'node:fs';

/** Mount points at or under `dir` in /proc/mounts, deepest first. */
export function mountsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const target = line.split(' ')[1]?.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (target && (target === dir || target.startsWith(`${dir}/`))) out.push(target);
  }
  return out.sort((a, b) => b.length - a.length);
}
