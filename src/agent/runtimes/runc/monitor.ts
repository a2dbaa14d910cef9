// The monitor of one container run: a detached process (one per container, like conmon or a
// containerd shim) started by RuncRuntime as `node monitor.js <run dir>`. It runs
// `runc run --keep`, writes the container's stdout/stderr to the CRI log file (rotated by size), records when the
// container started (started.json; also a line on its stdout for the agent) and how it ended (exit.json: code, time, OOM kill), then
// deletes the runc container and unmounts its rootfs. It outlives the agent, so an agent restart
// finds running containers still monitored and exits recorded.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { CriLineSplitter } from './cri-log.js';
import { defaultContainerLogMaxBytes, defaultContainerLogMaxFiles, RotatingLogFile } from './rotating-log.js';
import { files, lastRuncError, oomKillCount, readRecord, writeFileAtomic, type ExitRecord, type MonitorConfig, type StartedRecord } from './state-files.js';

const signals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

let noticed = false;

/** Tells the agent that started us (our stdout, a pipe) that the container started or failed to; once. */
function noticeToAgent(): void {
  if (noticed) return;
  noticed = true;
  try {
    writeSync(1, 'started\n');
  } catch {
    /* the agent went away: it reads the records */
  }
}

function watchDir(dir: string, onChange: () => void): FSWatcher | undefined {
  try {
    return watch(dir, onChange);
  } catch {
    return undefined;
  }
}

async function main(dir: string): Promise<void> {
  const cfg = readRecord<MonitorConfig>(dir, files.monitorConfig);
  if (!cfg) throw new Error(`no ${files.monitorConfig} in ${dir}`);
  writeFileAtomic(join(dir, files.monitorPid), `${process.pid}\n`);
  // The agent may go away; this process must not die with it.
  for (const s of ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGPIPE'] as const) process.on(s, () => {});

  const log = new RotatingLogFile(cfg.logPath, { maxBytes: cfg.logMaxBytes ?? defaultContainerLogMaxBytes, maxFiles: cfg.logMaxFiles ?? defaultContainerLogMaxFiles });
  const write = (line: string) => log.write(line);
  const out = new CriLineSplitter('stdout', write);
  const err = new CriLineSplitter('stderr', write);
  const pidFile = join(dir, files.containerPid);
  const child = spawn(cfg.runc, ['--root', cfg.runcRoot, '--log', join(dir, files.runcLog), '--log-format', 'json', 'run', '--keep', '--bundle', dir, '--pid-file', pidFile, cfg.id], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
  const watcher = watchDir(dir, checkStarted);
  const poll = setInterval(checkStarted, 100);
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
  watcher?.close();
  checkStarted();
  // Background processes of the container die with its pid namespace, so the pipes close.
  await Promise.race([streamsDone, new Promise((r) => setTimeout(r, 2000))]);
  out.end();
  err.end();
  log.close();
  const exitCode = status.code ?? (status.signal ? 128 + (signals[status.signal] ?? 0) : 255);
  const rec: ExitRecord = { exitCode, finishedAt, oomKilled: started && oomKillCount(cfg.runcRoot, cfg.id) > 0 };
  if (!started) rec.startError = lastRuncError(dir) ?? status.error?.message ?? `runc exited with status ${exitCode} before the container started`;
  writeFileAtomic(join(dir, files.exit), JSON.stringify(rec));
  noticeToAgent();
  spawnSync(cfg.runc, ['--root', cfg.runcRoot, 'delete', '--force', cfg.id], { stdio: 'ignore' });
  spawnSync('umount', [join(dir, files.rootfs)], { stdio: 'ignore' });
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
