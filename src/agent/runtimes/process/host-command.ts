// How the process runtime turns a container's command into a host process: the executable is
// looked up in the image's unpacked rootfs first, then on the host; PATH lists the rootfs's
// directories before the host's; the working dir is workingDir inside the rootfs.
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

/** PATH with each absolute entry inside the rootfs first, then the entries themselves (the host's). */
export function rootfsPath(path: string, rootfs: string): string {
  const dirs = path.split(':').filter((d) => d !== '');
  const inside = dirs.filter((d) => isAbsolute(d)).map((d) => join(rootfs, d));
  return [...inside, ...dirs].join(':');
}

function executableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The host path of a command: "/bin/sh" is <rootfs>/bin/sh when that exists, else /bin/sh;
 * "sh" is searched in PATH (rootfsPath's); "./x" is relative to the working dir. undefined: not found.
 */
export function resolveExecutable(command: string, rootfs: string, path: string, cwd: string): string | undefined {
  if (isAbsolute(command)) return [join(rootfs, command), command].find(executableFile);
  if (command.includes('/')) {
    const p = resolve(cwd, command);
    return executableFile(p) ? p : undefined;
  }
  return path.split(':').filter((d) => d !== '').map((d) => join(d, command)).find(executableFile);
}

/** The working dir on the host: workingDir (or the image's) inside the rootfs. */
export function hostWorkingDir(rootfs: string, workingDir: string | undefined): string {
  return join(rootfs, workingDir && isAbsolute(workingDir) ? workingDir : `/${workingDir ?? ''}`);
}

/** `KEY=value` lines as an env object (later entries win, as in execve's caller). */
export function envObject(lines: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of lines) {
    const eq = l.indexOf('=');
    if (eq > 0) out[l.slice(0, eq)] = l.slice(eq + 1);
  }
  return out;
}
