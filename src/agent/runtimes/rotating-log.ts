// A container's CRI log file, rotated by size as the kubelet does (containerLogMaxSize,
// containerLogMaxFiles): when the next line would take the file past maxBytes, `<n>.log` is
// renamed to `<n>.log.<YYYYMMDD-hhmmss>` (UTC) and a new `<n>.log` started; of the rotated files
// only the newest maxFiles - 1 stay. The writer rotates (it is the one process that knows the
// size), so a file never grows much past the limit; readers following `<n>.log` notice the new
// file by its inode. Rotated files are not compressed.
import { closeSync, fstatSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The kubelet's defaults. */
export const defaultContainerLogMaxBytes = 10 * 1024 * 1024;
export const defaultContainerLogMaxFiles = 5;

export interface LogRotation {
  /** Rotate before the file would exceed this many bytes (0: never). */
  maxBytes: number;
  /** The most files of the log, the current one included (at least 2). */
  maxFiles: number;
}

/** The kubelet's rotated-file suffix: 20060102-150405 (UTC here). */
export function rotationStamp(date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}-${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`;
}

/** The rotated files of a log, oldest first. */
export function rotatedFiles(path: string): string[] {
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return [];
  }
  // Names of one second get .1, .2 ... after the stamp, which sorts them in order too.
  return names
    .filter((n) => n.startsWith(prefix) && /^\d{8}-\d{6}(\.\d+)?(\.gz)?$/.test(n.slice(prefix.length)))
    .sort((a, b) => {
      const [sa, na] = splitStamp(a.slice(prefix.length));
      const [sb, nb] = splitStamp(b.slice(prefix.length));
      return sa === sb ? na - nb : sa < sb ? -1 : 1;
    })
    .map((n) => join(dirname(path), n));
}

function splitStamp(suffix: string): [string, number] {
  const m = /^(\d{8}-\d{6})(?:\.(\d+))?/.exec(suffix);
  return [m?.[1] ?? suffix, Number(m?.[2] ?? 0)];
}

/** Appends lines to a log file, rotating it by size. Write errors (a full disk) drop the line. */
export class RotatingLogFile {
  private fd: number | undefined;
  private size = 0;

  constructor(
    readonly path: string,
    private readonly rotation: LogRotation = { maxBytes: defaultContainerLogMaxBytes, maxFiles: defaultContainerLogMaxFiles },
  ) {
    this.open();
  }

  private open(): void {
    this.fd = openSync(this.path, 'a', 0o640);
    this.size = fstatSync(this.fd).size;
  }

  write(line: string): void {
    if (this.fd === undefined) return;
    const data = Buffer.from(line, 'utf8');
    if (this.rotation.maxBytes > 0 && this.size > 0 && this.size + data.length > this.rotation.maxBytes) {
      try {
        this.rotate();
      } catch {
        /* keep writing where we can */
      }
    }
    if (this.fd === undefined) return;
    try {
      writeSync(this.fd, data);
      this.size += data.length;
    } catch {
      /* disk full: drop */
    }
  }

  /** Renames the current file to its rotated name, starts a new one and removes the oldest rotated ones. */
  rotate(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    const stamp = rotationStamp();
    // Several rotations in one second: .1, .2 ... after the newest of that second (older ones may be gone).
    const sameSecond = rotatedFiles(this.path)
      .map((f) => splitStamp(basename(f).slice(basename(this.path).length + 1)))
      .filter(([s]) => s === stamp);
    const target = sameSecond.length === 0 ? `${this.path}.${stamp}` : `${this.path}.${stamp}.${Math.max(...sameSecond.map(([, n]) => n)) + 1}`;
    try {
      renameSync(this.path, target);
    } finally {
      this.open();
    }
    const rotated = rotatedFiles(this.path);
    for (const old of rotated.slice(0, Math.max(0, rotated.length - Math.max(1, this.rotation.maxFiles - 1)))) {
      try {
        unlinkSync(old);
      } catch {
        /* gone */
      }
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
