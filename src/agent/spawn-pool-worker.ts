// A thread of the spawn pool (spawn-pool.ts): starts the processes it is asked to. Starting a
// process blocks the starting thread until the child has exec'd (fork, then waiting for the
// child to get a CPU), tens of milliseconds on a busy node; here that blocks this thread only.
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { SpawnReply, SpawnRequest } from './spawn-pool.js';

const port = parentPort;
if (!port) throw new Error('spawn-pool-worker.js runs as a worker thread of the spawn pool');

function reply(m: SpawnReply): void {
  port!.postMessage(m);
}

function exec(m: Extract<SpawnRequest, { type: 'exec' }>): void {
  execFile(m.file, m.args, { maxBuffer: m.maxBuffer, encoding: 'utf8', cwd: m.cwd }, (err, stdout, stderr) => {
    if (!err) return reply({ id: m.id, type: 'done', stdout, stderr });
    const e = err as NodeJS.ErrnoException & { code?: number | string; signal?: string };
    reply({ id: m.id, type: 'failed', message: e.message, code: e.code ?? null, signal: e.signal ?? null, stdout, stderr });
  });
}

/** A detached child whose stdout (a pipe) gets one line when it has got going; its exit also counts. */
function detached(m: Extract<SpawnRequest, { type: 'detached' }>): void {
  let errFd: number | undefined;
  try {
    errFd = openSync(m.stderrFile, 'a');
    const child = spawn(m.file, m.args, { detached: true, stdio: ['ignore', 'pipe', errFd], cwd: m.cwd });
    child.unref();
    let told = false;
    const notice = (exited: boolean) => {
      if (told) return;
      told = true;
      child.stdout?.destroy();
      reply({ id: m.id, type: 'notice', exited });
    };
    child.once('error', (e) => {
      if (child.pid === undefined) reply({ id: m.id, type: 'failed', message: e.message, code: (e as NodeJS.ErrnoException).code ?? null, signal: null, stdout: '', stderr: '' });
      else notice(true);
    });
    child.once('exit', () => notice(true));
    child.stdout?.once('data', () => notice(false));
    if (child.pid !== undefined) reply({ id: m.id, type: 'spawned', pid: child.pid });
  } catch (e) {
    reply({ id: m.id, type: 'failed', message: (e as Error).message, code: (e as NodeJS.ErrnoException).code ?? null, signal: null, stdout: '', stderr: '' });
  } finally {
    if (errFd !== undefined) closeSync(errFd);
  }
}

port.on('message', (m: SpawnRequest) => {
  if (m.type === 'exec') exec(m);
  else detached(m);
});
