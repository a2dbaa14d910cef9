// Reads a container run's CRI log file (see runtimes/cri-log.ts) the way
// the kubelet's `containerLogs` endpoint does (pkg/kubelet/kuberuntime/logs):
// partial (P) records are joined into one line, `timestamps` prefixes each line
// with the time of its first record (RFC3339Nano, trailing zeros trimmed),
// tailLines, sinceTime and limitBytes cut the output, and `follow` keeps
// reading new records until the container stops or the reader goes away,
// going on in the new file when the log is rotated (runtimes/runc/rotating-log.ts).
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { rotatedFiles } from '../runtimes/rotating-log.js';

export interface ContainerLogOptions {
  /** Only the last N lines (before following). */
  tailLines?: number;
  /** Only records at or after this time (epoch ms). */
  sinceMs?: number;
  timestamps?: boolean;
  /** Stop after this many bytes of output. */
  limitBytes?: number;
  follow?: boolean;
  /** While following: whether more output may still come (the container runs). */
  stillRunning?: () => Promise<boolean>;
  /** How often a followed file is read again. */
  pollMs?: number;
}

/** Where the decoded log goes; false from write means stop (the reader is gone). */
export interface LogSink {
  write(text: string): boolean | void;
  closed(): boolean;
}

interface LogRecord {
  time: string;
  stream: string;
  full: boolean;
  content: string;
}

const recordRe = /^(\S+) (stdout|stderr) (F|P) (.*)$/s;

function parseRecord(line: string): LogRecord | undefined {
  const m = recordRe.exec(line);
  if (m) return { time: m[1]!, stream: m[2]!, full: m[3] === 'F', content: m[4]! };
  // Old docker-style records without a tag are full lines.
  const old = /^(\S+) (stdout|stderr) (.*)$/s.exec(line);
  return old ? { time: old[1]!, stream: old[2]!, full: true, content: old[3]! } : undefined;
}

/** Epoch milliseconds of an RFC3339 time (fraction digits beyond ms ignored); NaN when unreadable. */
export function timeMs(rfc3339: string): number {
  return Date.parse(rfc3339.replace(/(\.\d{3})\d+/, '$1'));
}

/** Go's RFC3339Nano as the kubelet prints it: trailing zeros of the fraction dropped. */
export function rfc3339Nano(criTime: string): string {
  return criTime.replace(/\.(\d*?)0+(Z|[+-]\d\d:\d\d)$/, (_m, digits: string, zone: string) => (digits ? `.${digits}${zone}` : zone));
}

/** Turns records into output text, joining partial records per stream. */
class Decoder {
  /** Streams in the middle of a line (after P records). */
  private readonly open = new Set<string>();
  constructor(private readonly timestamps: boolean) {}

  decode(r: LogRecord): string {
    const atStart = !this.open.has(r.stream);
    if (r.full) this.open.delete(r.stream);
    else this.open.add(r.stream);
    return (this.timestamps && atStart ? `${rfc3339Nano(r.time)} ` : '') + r.content + (r.full ? '\n' : '');
  }
}

/** Splits buffered bytes into complete text lines, keeping an unfinished last line. */
class LineBuffer {
  private rest = Buffer.alloc(0);
  push(chunk: Buffer): string[] {
    const buf = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) break;
      lines.push(buf.subarray(start, nl).toString('utf8'));
      start = nl + 1;
    }
    this.rest = Buffer.from(buf.subarray(start));
    return lines;
  }
}

async function readFrom(fh: FileHandle, offset: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let pos = offset;
  for (;;) {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) break;
    chunks.push(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return Buffer.concat(chunks);
}

async function openIfExists(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Whether `path` now names another file than the open one (the log was rotated). */
async function replaced(fh: FileHandle, path: string): Promise<boolean> {
  const now = await stat(path).catch(() => undefined);
  if (!now) return false; // between the rename and the new file: next time
  const was = await fh.stat();
  return now.ino !== was.ino || now.dev !== was.dev;
}

/** Writes the decoded log of one container run to sink; resolves when done (or the sink closed). */
export async function streamContainerLog(path: string, opts: ContainerLogOptions, sink: LogSink): Promise<void> {
  const decoder = new Decoder(opts.timestamps ?? false);
  let budget = opts.limitBytes ?? Infinity;
  /** False once output must stop. */
  const emit = (text: string): boolean => {
    if (sink.closed() || budget <= 0) return false;
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length > budget) {
      sink.write(bytes.subarray(0, budget).toString('utf8'));
      budget = 0;
      return false;
    }
    budget -= bytes.length;
    sink.write(text);
    return true;
  };
  const wanted = (r: LogRecord) => opts.sinceMs === undefined || !(timeMs(r.time) < opts.sinceMs);

  let fh = await openIfExists(path);
  let offset = 0;
  const lines = new LineBuffer();
  try {
    // What is there now: tailLines counts whole lines (a run of P records and their F).
    const first = fh ? await readFrom(fh, 0) : Buffer.alloc(0);
    offset = first.length;
    const records = lines.push(first).map(parseRecord).filter((r): r is LogRecord => r !== undefined && wanted(r));
    let from = 0;
    if (opts.tailLines !== undefined) {
      let count = 0;
      from = records.length;
      for (let i = records.length - 1; i >= 0; i--) {
        if (records[i]!.full) {
          if (count === opts.tailLines) break;
          count++;
        }
        from = i;
      }
      if (opts.tailLines === 0) from = records.length;
    }
    for (let i = from; i < records.length; i++) if (!emit(decoder.decode(records[i]!))) return;
    if (!opts.follow) return;

    const pollMs = opts.pollMs ?? 100;
    for (;;) {
      if (sink.closed()) return;
      // Read the running state before the file, so that output written just before the exit is not lost.
      const running = opts.stillRunning ? await opts.stillRunning() : false;
      fh ??= await openIfExists(path);
      let more = fh ? await readFrom(fh, offset) : Buffer.alloc(0);
      offset += more.length;
      if (fh && (await replaced(fh, path))) {
        // The writer rotated the log: the rest of the old file, files rotated since (fast
        // writers), then the new one from its start.
        const parts = [more, await readFrom(fh, offset)];
        const { ino } = await fh.stat();
        await fh.close();
        const rotated = rotatedFiles(path);
        const inodes = await Promise.all(rotated.map((f) => stat(f).then((st) => st.ino, () => -1)));
        const at = inodes.indexOf(ino);
        for (const f of at < 0 ? [] : rotated.slice(at + 1)) parts.push(await readFile(f).catch(() => Buffer.alloc(0)));
        fh = await openIfExists(path);
        const fresh = fh ? await readFrom(fh, 0) : Buffer.alloc(0);
        offset = fresh.length;
        more = Buffer.concat([...parts, fresh]);
      }
      for (const line of lines.push(more)) {
        const r = parseRecord(line);
        if (r && wanted(r) && !emit(decoder.decode(r))) return;
      }
      if (!running) return;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  } finally {
    await fh?.close();
  }
}
