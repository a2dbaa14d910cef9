// The monitor of container runs: a detached process (like conmon or a containerd shim) that,
// for each run, runs what the run dir's monitor.json says: `runc run --keep` (runc runtime) or
// the container's command as a plain host process in a process group of its own (process
// runtime). It writes the container's stdout/stderr to the CRI log file (rotated by size),
// records when the container started (started.json) and how it ended (exit.json: code, time, OOM
// kill), then cleans up: runc deletes the runc container and unmounts its rootfs; a process's
// group is killed, as a pid namespace's processes die with its first one. It outlives the agent,
// so an agent restart finds running containers still monitored and exits recorded. A container
// with stdin gets the read end of the run's stdin FIFO, the monitor holding a write end until a
// stdinOnce container's first attach ends (files.stdinClosed); a runc container with a terminal
// runs under a host one (monitor-terminal.ts). Two ways to
// run it:
//   node container-monitor.js <run dir>         one run; says `started` on its stdout once the
//                                               container started (or failed to), exits when the
//                                               run ends
//   node container-monitor.js --serve <socket>  the node's shim (RuncRuntime's default): takes
//                                               run dirs on a unix socket, one a connection,
//                                               answers `started` the same way; one process for
//                                               all containers instead of a Node.js process
//                                               (~75 ms of CPU to start) each. It exits when idle.
import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeSync, watch, type FSWatcher } from 'node:fs';
import { createServer } from 'node:net';
import { isAbsolute, join } from 'node:path';
import type { Readable } from 'node:stream';
import { CriLineSplitter } from './cri-log.js';
import { runInTerminal, type TerminalRun } from './monitor-terminal.js';
import { defaultContainerLogMaxBytes, defaultContainerLogMaxFiles, RotatingLogFile } from './rotating-log.js';
import { files, lastRuncError, oomKillCount, readRecord, writeFileAtomic, type ExitRecord, type MonitorConfig, type StartedRecord } from './run-files.js';

const signals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

function quietly(file: string, args: string[]): Promise<void> {
  return new Promise((resolve) => execFile(file, args, () => resolve()));
}

/** The serving monitor exits after this long without runs. */
const idleExitMs = 5000;

function watchDir(dir: string, onChange: () => void): FSWatcher | undefined {
  try {
    return watch(dir, onChange);
  } catch {
    return undefined;
  }
}

/** One container run, from `runc run` to its exit record; `noticeToAgent` is called once, when it started or failed to. */
async function superviseRun(dir: string, notice: () => void): Promise<void> {
  let noticed = false;
  const noticeToAgent = () => {
    if (noticed) return;
    noticed = true;
    notice();
  };
  const cfg = readRecord<MonitorConfig>(dir, files.monitorConfig);
  if (!cfg) throw new Error(`no ${files.monitorConfig} in ${dir}`);
  writeFileAtomic(join(dir, files.monitorPid), `${process.pid}\n`);

  const log = new RotatingLogFile(cfg.logPath, { maxBytes: cfg.logMaxBytes ?? defaultContainerLogMaxBytes, maxFiles: cfg.logMaxFiles ?? defaultContainerLogMaxFiles });
  const write = (line: string) => log.write(line);
  const out = new CriLineSplitter('stdout', write);
  const err = new CriLineSplitter('stderr', write);
  const pidFile = join(dir, files.containerPid);
  const stdinFifo = cfg.stdin ? openStdinFifo(dir) : undefined;
  const stdin = stdinFifo?.reader ?? 'ignore';
  // A stdinOnce container's first attach session left the marker when it ended: the container reads
  // end-of-file once no attacher writes either.
  const checkStdinClosed = () => {
    if (stdinFifo?.writer !== undefined && existsSync(join(dir, files.stdinClosed))) stdinFifo.closeWriter();
  };
  checkStdinClosed();
  let child: ChildProcessByStdio<null, Readable, Readable> | undefined;
  let term: TerminalRun | undefined;
  if (cfg.runc) {
    const args = ['--root', cfg.runc.root, '--log', join(dir, files.runcLog), '--log-format', 'json', 'run', '--keep', '--bundle', dir, '--pid-file', pidFile, cfg.id];
    if (cfg.tty) term = await runInTerminal(cfg.runc.bin, args, { dir, stdin: cfg.stdin === true, output: (c) => out.push(c) });
    else child = spawn(cfg.runc.bin, args, { cwd: dir, stdio: [stdin, 'pipe', 'pipe'] }) as ChildProcessByStdio<null, Readable, Readable>;
  } else if (cfg.process) {
    const p = cfg.process;
    const c = spawn(p.file, p.argv.slice(1), { argv0: p.argv[0], cwd: p.cwd, env: p.env, detached: true, stdio: [stdin, 'pipe', 'pipe'] }) as ChildProcessByStdio<null, Readable, Readable>;
    c.once('spawn', () => writeFileAtomic(pidFile, `${c.pid}\n`));
    child = c;
  } else throw new Error(`${files.monitorConfig} in ${dir} names nothing to run`);
  let started = false;
  const checkStarted = () => {
    if (started || !existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!pid) return;
    started = true;
    const rec: StartedRecord = { startedAt: Date.now(), pid };
    writeFileAtomic(join(dir, files.started), JSON.stringify(rec));
    noticeToAgent();
  };
  // runc writes the pid file once the container exists: inotify tells at once, the poll is a fallback.
  const check = () => {
    checkStarted();
    checkStdinClosed();
    term?.checkSize();
  };
  const watcher = watchDir(dir, check);
  const poll = setInterval(check, 100);
  const streamsDone = term
    ? Promise.resolve()
    : Promise.all([
        new Promise<void>((resolve) => {
          child!.stdout.on('data', (c: Buffer) => out.push(c));
          child!.stdout.on('close', () => resolve());
        }),
        new Promise<void>((resolve) => {
          child!.stderr.on('data', (c: Buffer) => err.push(c));
          child!.stderr.on('close', () => resolve());
        }),
      ]);
  const status = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    if (term) {
      void term.exited.then((code) => resolve({ code, signal: null }));
      return;
    }
    child!.on('error', (e) => resolve({ code: null, signal: null, error: e }));
    child!.on('exit', (code, signal) => resolve({ code, signal }));
  });
  term?.close();
  const finishedAt = Date.now();
  clearInterval(poll);
  watcher?.close();
  checkStarted();
  // Background processes of the container die with its pid namespace (runc) or its process group
  // (killed here), so the pipes close.
  if (cfg.process && started) killGroup(Number(readFileSync(pidFile, 'utf8').trim()));
  await Promise.race([streamsDone, new Promise((r) => setTimeout(r, 2000))]);
  out.end();
  err.end();
  log.close();
  stdinFifo?.close();
  const exitCode = status.code ?? (status.signal ? 128 + (signals[status.signal] ?? 0) : 255);
  const rec: ExitRecord = { exitCode, finishedAt, oomKilled: cfg.runc !== undefined && started && oomKillCount(cfg.runc.root, cfg.id) > 0 };
  if (!started) rec.startError = (cfg.runc ? lastRuncError(dir) : undefined) ?? status.error?.message ?? `the container exited with status ${exitCode} before it started`;
  writeFileAtomic(join(dir, files.exit), JSON.stringify(rec));
  noticeToAgent();
  if (cfg.runc) {
    // Not spawnSync: the shim's other runs go on meanwhile.
    await quietly(cfg.runc.bin, ['--root', cfg.runc.root, 'delete', '--force', cfg.id]);
    await quietly('umount', [join(dir, files.rootfs)]);
  }
}

/**
 * The stdin FIFO's ends: `reader` for the container, `writer` held by the monitor so that the
 * container sees no end-of-file while attachers come and go. The monitor keeps its read end too,
 * so an attacher can open the FIFO even after the container closed its stdin. Opened in an order
 * that never blocks: read-write first (a FIFO open for reading waits for a writer and the other
 * way round), then the two ends, then the read-write one closed.
 */
function openStdinFifo(dir: string): { reader: number; writer: number | undefined; closeWriter(): void; close(): void } {
  const path = join(dir, files.stdin);
  const both = openSync(path, 'r+');
  const reader = openSync(path, 'r');
  const writer = openSync(path, 'w');
  closeSync(both);
  const fifo = {
    reader,
    writer: writer as number | undefined,
    closeWriter() {
      if (fifo.writer !== undefined) closeSync(fifo.writer);
      fifo.writer = undefined;
    },
    close() {
      fifo.closeWriter();
      closeSync(reader);
    },
  };
  return fifo;
}

/** SIGKILL to what is left of a process group. */
function killGroup(pgid: number): void {
  if (!(pgid > 0)) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    /* the group is gone */
  }
}

/** The shim: run dirs arrive on the socket, one line a connection; `started` goes back on it. */
function serve(socketPath: string): void {
  let active = 0;
  let conns = 0;
  let idle: NodeJS.Timeout | undefined;
  // Idle: no run going and no agent connected (one that connected may be about to send a run).
  const armIdle = () => {
    if (active === 0 && conns === 0 && !idle) idle = setTimeout(stop, idleExitMs);
  };
  const server = createServer((conn) => {
    conns++;
    if (idle) clearTimeout(idle);
    idle = undefined;
    let buf = '';
    conn.on('error', () => undefined);
    conn.on('close', () => {
      conns--;
      armIdle();
    });
    conn.on('data', (c: Buffer) => {
      if (buf.includes('\n')) return;
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const dir = buf.slice(0, nl);
      if (!isAbsolute(dir)) {
        conn.end('error: not an absolute run dir\n');
        return;
      }
      active++;
      superviseRun(dir, () => conn.end('started\n'))
        .catch((e: unknown) => {
          process.stderr.write(`${new Date().toISOString()} ${dir}: ${(e as Error).stack ?? String(e)}\n`);
          conn.destroy();
        })
        .finally(() => {
          active--;
          armIdle();
        });
    });
  });
  const stop = () => {
    // Takes no new runs from here on: an agent connecting now starts a new shim.
    server.close();
    try {
      unlinkSync(socketPath);
    } catch {
      /* gone */
    }
    if (active === 0) process.exit(0);
  };
  server.on('error', (e) => {
    process.stderr.write(`${new Date().toISOString()} ${socketPath}: ${e.message}\n`);
    process.exit(1);
  });
  server.listen(socketPath, () => {
    armIdle();
    try {
      writeSync(1, 'ready\n');
    } catch {
      /* the agent went away */
    }
  });
}

// The agent may go away; this process must not die with it.
for (const s of ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGPIPE'] as const) process.on(s, () => {});
const [arg, socketPath] = process.argv.slice(2);
if (arg === '--serve' && socketPath) {
  serve(socketPath);
} else if (arg && !arg.startsWith('-')) {
  superviseRun(arg, () => {
    try {
      writeSync(1, 'started\n');
    } catch {
      /* the agent went away: it reads the records */
    }
  }).then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
} else {
  process.stderr.write('usage: container-monitor.js <container run dir> | container-monitor.js --serve <socket>\n');
  process.exit(2);
}
