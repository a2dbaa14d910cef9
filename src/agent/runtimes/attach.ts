// `kubectl attach` to a container's own process (runc; any run-dir runtime): its output from now on,
// read from the CRI log file the monitor writes (records after the file's
// current end, stdout and stderr kept apart), and its stdin when the container
// was started with one (spec `stdin: true`): a FIFO in the run dir that the
// monitor holds open and hands to runc as the container's stdin. Attaching
// writes to that FIFO; detaching closes only the attacher's end, so the
// container's stdin stays open for the next attach. A `stdinOnce` container's
// stdin is closed when the first session attached to it with stdin ends (the
// client closed its stdin or went away): the session leaves the marker file
// files.stdinClosed in the run dir, the monitor then closes its write end of the
// FIFO, and the container reads end-of-file. Later sessions get no stdin. A
// container with a terminal (`tty: true`) has its terminal's output as stdout;
// attachers' resizes go to files.ttySize, which its monitor applies.
import { execFile } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import { open, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { promisify } from 'node:util';
import { parseCriLog } from './cri-log.js';
import type { ExecProcess, StreamOptions } from '../runtime.js';
import { files, writeFileAtomic } from './run-files.js';
import type { RunMeta } from './run-dir-runtime.js';

/** Makes the stdin FIFO of a run dir (before its monitor starts, which then holds it open); its path. */
export async function makeStdinFifo(dir: string): Promise<string> {
  const path = join(dir, files.stdin);
  await promisify(execFile)('mkfifo', ['-m', '0600', path]);
  return path;
}

export interface RunAttachTarget {
  /** The run's CRI log file. */
  logPath: string;
  /** The run's stdin FIFO, when the container has one. */
  stdinFifo?: string;
  /** A container with a terminal: where attachers' resizes go (files.ttySize, which its monitor applies). */
  ttySizeFile?: string;
  /** Where a session ending closes the stdin of a `stdinOnce` container (the marker file the monitor watches for). */
  stdinClosedMarker?: string;
  /** Whether the container still runs. */
  running(): boolean;
  /** How often the log is read again (default 100 ms). */
  pollMs?: number;
}

/** The attach target of a run dir and its container.json; `running` tells whether the container still runs. */
export function runAttachTarget(dir: string, meta: RunMeta, running: () => boolean): RunAttachTarget {
  const t: RunAttachTarget = { logPath: meta.logPath, running };
  if (meta.stdin) t.stdinFifo = join(dir, files.stdin);
  if (meta.stdin && meta.stdinOnce) t.stdinClosedMarker = join(dir, files.stdinClosed);
  if (meta.tty) t.ttySizeFile = join(dir, files.ttySize);
  return t;
}

/** Leaves the marker that has the monitor close the container's stdin (once; later calls do nothing). */
async function closeContainerStdin(marker: string): Promise<void> {
  await writeFile(marker, '', { flag: 'wx' }).catch(() => undefined);
}

async function sizeOf(fh: FileHandle): Promise<number> {
  return (await fh.stat()).size;
}

/** A writable onto the container's stdin FIFO (non-blocking open: the monitor holds the reading end). */
async function fifoWriter(path: string): Promise<Writable> {
  const fh = await open(path, constants.O_WRONLY | constants.O_NONBLOCK);
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      // The pipe is full while the container does not read: wait, as a blocking write would.
      const writeAll = async (rest: Buffer): Promise<void> => {
        while (rest.length > 0) {
          try {
            const { bytesWritten } = await fh.write(rest);
            rest = rest.subarray(bytesWritten);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
            await new Promise((r) => setTimeout(r, 20));
          }
        }
      };
      writeAll(chunk).then(() => done(), done);
    },
    final(done) {
      fh.close().then(() => done(), done);
    },
    destroy(_err, done) {
      fh.close().then(() => done(null), () => done(null));
    },
  });
}

export async function attachToRun(target: RunAttachTarget, opts: StreamOptions): Promise<ExecProcess> {
  const stdout = new PassThrough();
  const stderr = opts.tty ? undefined : new PassThrough();
  const marker = target.stdinClosedMarker;
  // stdinOnce: once closed, the container's stdin stays closed; the client's input goes nowhere.
  const stdinOpen = target.stdinFifo !== undefined && !(marker && existsSync(marker));
  const stdin = opts.stdin && stdinOpen ? await fifoWriter(target.stdinFifo!) : undefined;
  stdin?.on('error', () => {});
  // The session's end closes a stdinOnce container's stdin: the client ended its input, or detached.
  const closeStdin = stdin && marker ? () => closeContainerStdin(marker) : undefined;
  if (closeStdin) stdin!.once('finish', () => void closeStdin());
  const fh = await open(target.logPath, 'r').catch(() => undefined);
  let offset = fh ? await sizeOf(fh) : 0;
  let rest = '';
  let detached = false;
  const readMore = async (): Promise<void> => {
    if (!fh) return;
    const size = await sizeOf(fh);
    if (size <= offset) return;
    const buf = Buffer.alloc(size - offset);
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    offset += bytesRead;
    const text = rest + buf.subarray(0, bytesRead).toString('utf8');
    const nl = text.lastIndexOf('\n');
    rest = text.slice(nl + 1);
    for (const rec of parseCriLog(text.slice(0, nl + 1))) {
      const out = rec.stream === 'stderr' && stderr ? stderr : stdout;
      out.write(rec.content + (rec.tag === 'F' ? '\n' : ''));
    }
  };
  let wake: (() => void) | undefined;
  const exited = (async () => {
    try {
      for (;;) {
        const running = target.running();
        await readMore();
        if (!running || detached) return 0;
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, target.pollMs ?? 100);
        });
      }
    } finally {
      await fh?.close();
      stdout.end();
      stderr?.end();
      stdin?.destroy();
      await closeStdin?.();
    }
  })();
  return {
    stdin,
    stdout,
    stderr,
    resize: (cols, rows) => {
      if (!target.ttySizeFile || !opts.tty || !(cols > 0 && rows > 0)) return;
      try {
        writeFileAtomic(target.ttySizeFile, JSON.stringify({ cols, rows }));
      } catch {
        /* the run dir is gone: the container ended */
      }
    },
    exited,
    kill: () => {
      detached = true;
      wake?.();
    },
  };
}
