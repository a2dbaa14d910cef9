// The API server's aims, each beside the figure this run measured for it,
// printed at the end of `node dist/bench/api.js` (and `npm run bench`).

/** The run's figures the aims are about; a figure is absent when its benchmark could not run (no etcd, no wrk). */
export interface AimFigures {
  /** Median of the cold starts to ready, ms. */
  readyMs?: number;
  idleRssMb?: number;
  /** p50 of a list of the 10,000-pod namespace served from the watch cache, read to its end by the client (not kept), ms. */
  listP50Ms?: number;
  /** Creates a second through the sqlite store over those through etcd, same server and clients. */
  sqliteOverEtcd?: number;
  /** wrk at 64 connections, median of the rounds' p99, ms. */
  createP99Ms?: number;
  patchP99Ms?: number;
  /**
   * The server's CPU a write in those rounds (median, µs), shown beside the
   * p99s: the same code's tail follows it, and the machine's share of its
   * cores moves it from run to run.
   */
  createCpuUs?: number;
  patchCpuUs?: number;
}

interface Aim {
  label: string;
  figure: number | undefined;
  text: (figure: number) => string;
  aim: string;
  met: (figure: number) => boolean;
  /** Why the figure may be missing. */
  missing?: string;
  /** Said after the verdict. */
  note?: string;
}

function cpuNote(us: number | undefined): string | undefined {
  return us === undefined ? undefined : `(server CPU ${us.toFixed(0)} µs a write)`;
}

export function aimRows(f: AimFigures): string[] {
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  const aims: Aim[] = [
    { label: 'creates through sqlite / through etcd', figure: f.sqliteOverEtcd, text: (x) => `${x.toFixed(2)}x`, aim: 'at least 1.5x', met: (x) => x >= 1.5, missing: 'no etcd' },
    { label: 'create p99, wrk at 64 clients (median of rounds)', figure: f.createP99Ms, text: ms, aim: 'under 20 ms', met: (x) => x < 20, missing: 'no wrk', note: cpuNote(f.createCpuUs) },
    { label: 'label patch p99, wrk at 64 clients (median of rounds)', figure: f.patchP99Ms, text: ms, aim: 'under 20 ms', met: (x) => x < 20, missing: 'no wrk', note: cpuNote(f.patchCpuUs) },
    { label: 'list of 10,000 pods from the watch cache, p50', figure: f.listP50Ms, text: ms, aim: 'under 100 ms', met: (x) => x < 100 },
    { label: 'idle RSS', figure: f.idleRssMb, text: (x) => `${x.toFixed(1)} MB`, aim: 'under 150 MB', met: (x) => x < 150 },
    { label: 'cold start to ready, median', figure: f.readyMs, text: (x) => `${x.toFixed(0)} ms`, aim: 'under 1 s', met: (x) => x < 1000 },
  ];
  return aims.map((a) => {
    const outcome =
      a.figure === undefined ? `not measured${a.missing ? ` (${a.missing})` : ''}` : `${a.text(a.figure).padStart(9)}   ${a.met(a.figure) ? 'met' : 'MISSED'}${a.note ? `   ${a.note}` : ''}`;
    return `${a.label.padEnd(55)} aim ${a.aim.padEnd(13)} ${outcome}`;
  });
}
