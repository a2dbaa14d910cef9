// The monitor of one container run: a detached process (one per container, like conmon or a
// containerd shim) started by a runtime as `node container-monitor.js <run dir>`. It runs what
// monitor.json says: `runc run --keep` (runc runtime) or the container's command as a plain host
// process in a process group of its own (process runtime). It writes the container's
// stdout/stderr to the CRI log file, records when the container started (started.json) and how it
// ended (exit.json: code, time, OOM kill), then cleans up: runc deletes the runc container and
// unmounts its rootfs; a process's group is killed, as a pid namespace's processes die with its
// first one. It outlives the agent, so an agent restart finds running containers still monitored
// and exits recorded.
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { existsSync, openSync, readFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { CriLineSplitter } from './cri-log.js';
import { files, lastRuncError, oomKillCount, readRecord, writeFileAtomic, type ExitRecord, type MonitorConfig, type StartedRecord } from './run-files.js';

const signals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

async function main(dir: string): Promise<void> {
  const cfg = readRecord<MonitorConfig>(dir, files.monitorConfig);
  if (!cfg) throw new Error(`no ${files.monitorConfig} in ${dir}`);
  writeFileAtomic(join(dir, files.monitorPid), `${process.pid}\n`);
  // The agent may go away; this process must not die with it.
  for (const s of ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGPIPE'] as const) process.on(s, () => {});

  const logFd = openSync(cfg.logPath, 'a', 0o640);
  const write = (line: string) => {
    try {
      writeSync(logFd, line);
    } catch {
      /* disk full: drop */
    }
  };
  const out = new CriLineSplitter('stdout', write);
  const err = new CriLineSplitter('stderr', write);
  const pidFile = join(dir, files.containerPid);
  // Held open read-write, a stdin FIFO never reaches end-of-file: attachers come and go.
  const stdin = cfg.stdin ? openSync(join(dir, files.stdin), 'r+') : 'ignore';
  let child: ChildProcessByStdio<null, Readable, Readable>;
  if (cfg.runc) {
    child = spawn(cfg.runc.bin, ['--root', cfg.runc.root, '--log', join(dir, files.runcLog), '--log-format', 'json', 'run', '--keep', '--bundle', dir, '--pid-file', pidFile, cfg.id], {
      cwd: dir,
      stdio: [stdin, 'pipe', 'pipe'],
    }) as ChildProcessByStdio<null, Readable, Readable>;
  } else if (cfg.process) {
    const p = cfg.process;
    child = spawn(p.file, p.argv.slice(1), { argv0: p.argv[0], cwd: p.cwd, env: p.env, detached: true, stdio: [stdin, 'pipe', 'pipe'] }) as ChildProcessByStdio<null, Readable, Readable>;
    child.once('spawn', () => writeFileAtomic(pidFile, `${child.pid}\n`));
  } else throw new Error(`${files.monitorConfig} in ${dir} names nothing to run`);
  let started = false;
  const checkStarted = () => {
    if (started || !existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!pid) return;
    started = true;
    const rec: StartedRecord = { startedAt: Date.now(), pid };
    writeFileAtomic(join(dir, files.started), JSON.stringify(rec));
  };
  const poll = setInterval(checkStarted, 10);
  const streamsDone = Promise.all([
    new Promise<void>((resolve) => {
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stdout.on('close', () => resolve());
    }),
    new Promise<void>((resolve) => {
      child.stderr.on('data', (c: Buffer) => err.push(c));
      child.stderr.on('close', () => resolve());
    }),
  ]);
  const status = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.on('error', (e) => resolve({ code: null, signal: null, error: e }));
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const finishedAt = Date.now();
  clearInterval(poll);
  checkStarted();
  // Background processes of the container die with its pid namespace (runc) or its process group
  // (killed here), so the pipes close.
  if (cfg.process && started) killGroup(Number(readFileSync(pidFile, 'utf8').trim()));
  await Promise.race([streamsDone, new Promise((r) => setTimeout(r, 2000))]);
  out.end();
  err.end();
  closeSync(logFd);
  const exitCode = status.code ?? (status.signal ? 128 + (signals[status.signal] ?? 0) : 255);
  const rec: ExitRecord = { exitCode, finishedAt, oomKilled: cfg.runc !== undefined && started && oomKillCount(cfg.runc.root, cfg.id) > 0 };
  if (!started) rec.startError = (cfg.runc ? lastRuncError(dir) : undefined) ?? status.error?.message ?? `the container exited with status ${exitCode} before it started`;
  writeFileAtomic(join(dir, files.exit), JSON.stringify(rec));
  if (cfg.runc) {
    spawnSync(cfg.runc.bin, ['--root', cfg.runc.root, 'delete', '--force', cfg.id], { stdio: 'ignore' });
    spawnSync('umount', [join(dir, files.rootfs)], { stdio: 'ignore' });
  }
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

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: monitor.js <container run dir>\n');
  process.exit(2);
}
main(dir).then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
