// CRI container log lines as the kubelet reads them (containerd's cri logger):
//   <RFC3339Nano, 9 fraction digits, UTC> <stdout|stderr> <F|P> <content>
// F ends a line; a line longer than maxLineBytes is cut into P parts and a last F part.

/** containerd's default max container log line size. */
export const defaultMaxLineBytes = 16 * 1024;

const hrBase = { wall: BigInt(Date.now()) * 1_000_000n, mono: process.hrtime.bigint() };

/** Nanoseconds since the epoch (wall clock at load time, advanced by the monotonic clock). */
export function nowNanos(): bigint {
  return hrBase.wall + (process.hrtime.bigint() - hrBase.mono);
}

/** 2024-01-02T03:04:05.123456789Z */
export function criTimestamp(nanos: bigint = nowNanos()): string {
  const ms = Number(nanos / 1_000_000n);
  const iso = new Date(ms).toISOString(); // ...:05.123Z
  const frac = (nanos % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}

export type CriStream = 'stdout' | 'stderr';

/** Splits one stream's bytes into CRI log lines. */
export class CriLineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly stream: CriStream,
    private readonly write: (line: string) => void,
    private readonly maxLineBytes = defaultMaxLineBytes,
    private readonly now: () => string = () => criTimestamp(),
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      const end = nl < 0 ? chunk.length : nl;
      let piece = chunk.subarray(start, end);
      while (this.pendingBytes + piece.length > this.maxLineBytes) {
        const take = this.maxLineBytes - this.pendingBytes;
        this.pending.push(piece.subarray(0, take));
        this.pendingBytes += take;
        this.emit('P');
        piece = piece.subarray(take);
      }
      if (piece.length > 0) {
        this.pending.push(piece);
        this.pendingBytes += piece.length;
      }
      if (nl < 0) return;
      this.emit('F');
      start = nl + 1;
    }
  }

  /** The stream ended: a last line without a newline is still a full line. */
  end(): void {
    if (this.pendingBytes > 0) this.emit('F');
  }

  private emit(tag: 'F' | 'P'): void {
    const content = Buffer.concat(this.pending).toString('utf8');
    this.pending = [];
    this.pendingBytes = 0;
    this.write(`${this.now()} ${this.stream} ${tag} ${content}\n`);
  }
}

export interface CriLogLine {
  time: string;
  stream: CriStream;
  tag: 'F' | 'P';
  content: string;
}

const lineRe = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) (stdout|stderr) (F|P) (.*)$/s;

/** Parses a CRI log file's text (for tests and `logs`). */
export function parseCriLog(text: string): CriLogLine[] {
  const out: CriLogLine[] = [];
  for (const l of text.split('\n')) {
    const m = lineRe.exec(l);
    if (m) out.push({ time: m[1]!, stream: m[2] as CriStream, tag: m[3] as 'F' | 'P', content: m[4]! });
  }
  return out;
}
