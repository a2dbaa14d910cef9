// The files a container run's directory holds, shared by the runtimes (runc, process) and the monitor process.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Written by the runtime before it starts the monitor: what to run, one of runc or process. */
export interface MonitorConfig {
  /** The container's ID (runc's container ID). */
  id: string;
  /** The CRI log file (appended to). */
  logPath: string;
  /** Rotate the log before it exceeds this size (default 10 MiB, the kubelet's containerLogMaxSize; 0: never). */
  logMaxBytes?: number;
  /** Log files kept, the current one included (default 5, the kubelet's containerLogMaxFiles). */
  logMaxFiles?: number;
  /** The container has a stdin (spec `stdin: true`): the FIFO files.stdin, which `attach` writes to. */
  stdin?: boolean;
  /** Spec `tty: true` (runc): `runc run` under a host terminal whose output is the container's stdout (monitor-terminal.ts). */
  tty?: boolean;
  /** `runc run` of the OCI bundle in the run dir (runc --root `root`). */
  runc?: { bin: string; root: string };
  /** A plain host process, in a process group of its own (the process runtime). */
  process?: ProcessLaunch;
}

/** The container's process for the process runtime: an executable already resolved, argv, env, working dir. */
export interface ProcessLaunch {
  /** The executable (an absolute host path). */
  file: string;
  /** argv, argv[0] as the pod spec gave it (busybox picks its applet by it). */
  argv: string[];
  env: Record<string, string>;
  cwd: string;
}

/** Written by the monitor once runc has created the container. */
export interface StartedRecord {
  startedAt: number;
  pid: number;
  /** The process's start time (/proc/<pid>/stat), so a reused pid is not taken for it. */
  pidStartTime?: string;
}

/** Written by the monitor when the container's process is gone. */
export interface ExitRecord {
  exitCode: number;
  finishedAt: number;
  oomKilled: boolean;
  /** runc could not create or start the container: its error. */
  startError?: string;
  /** Set when the exit status was not seen (the monitor died). */
  message?: string;
}

export const files = {
  monitorConfig: 'monitor.json',
  monitorPid: 'monitor.pid',
  monitorLog: 'monitor.log',
  runcLog: 'runc.log',
  containerPid: 'container.pid',
  stdin: 'stdin.fifo',
  /** Left by an attach session of a `stdinOnce` container when it ended: the monitor closes its write end of the stdin FIFO. */
  stdinClosed: 'stdin-closed',
  /** The terminal size the last attacher asked for (a tty container): {cols, rows}. */
  ttySize: 'tty-size.json',
  started: 'started.json',
  exit: 'exit.json',
  meta: 'container.json',
  config: 'config.json',
  rootfs: 'rootfs',
  upper: 'upper',
  work: 'work',
} as const;

/**
 * Writes a file so that readers see the old or the new content, never a part. With `durable` it
 * also survives a machine crash (fsync); most run state need not, as its containers do not either.
 */
export function writeFileAtomic(path: string, data: string, opts: { mode?: number; durable?: boolean } = {}): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', opts.mode ?? 0o644);
  try {
    writeSync(fd, data);
    if (opts.durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function readRecord<T>(dir: string, name: string): T | undefined {
  return readJson<T>(join(dir, name));
}

/** The last error runc logged (its --log file, JSON lines). */
export function lastRuncError(dir: string): string | undefined {
  let text = '';
  try {
    text = readFileSync(join(dir, files.runcLog), 'utf8');
  } catch {
    return undefined;
  }
  let msg: string | undefined;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const l = JSON.parse(line) as { level?: string; msg?: string };
      if ((l.level === 'error' || l.level === 'fatal') && l.msg) msg = l.msg;
    } catch {
      msg = line;
    }
  }
  return msg;
}

function isShim(args: string[]): boolean {
  return args.includes('--serve') && args.some((a) => a.endsWith('monitor.js'));
}

/** Whether the run's monitor is the node's shim (which watches other runs too), not a process of its own. */
export function monitorIsShim(dir: string): boolean {
  try {
    const pid = Number(readFileSync(join(dir, files.monitorPid), 'utf8').trim());
    return isShim(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'));
  } catch {
    return false;
  }
}

/** Whether the monitor of this run directory is still alive (pid checked against its command line). */
export function monitorAlive(dir: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dir, files.monitorPid), 'utf8').trim());
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (!args.includes(dir) && !isShim(args)) return false;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

/** The start time field of a /proc/<pid>/stat text (clock ticks since boot). */
export function statStartTime(stat: string): string | undefined {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

export function processStartTime(pid: number): string | undefined {
  try {
    return statStartTime(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The OOM kill count of a cgroup (v1 memory.oom_control, v2 memory.events), from runc's state.json. */
export function oomKillCount(runcRoot: string, id: string): number {
  const state = readJson<{ cgroup_paths?: Record<string, string> }>(join(runcRoot, id, 'state.json'));
  const paths = state?.cgroup_paths ?? {};
  const candidates: string[] = [];
  if (paths.memory) candidates.push(join(paths.memory, 'memory.oom_control'));
  if (paths['']) candidates.push(join(paths[''], 'memory.events'));
  for (const file of candidates) {
    try {
      const m = /^oom_kill (\d+)$/m.exec(readFileSync(file, 'utf8'));
      if (m) return Number(m[1]);
    } catch {
      /* next */
    }
  }
  return 0;
}
