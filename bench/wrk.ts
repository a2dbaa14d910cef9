// Writes driven by wrk (Debian's `wrk`, a C load generator): 64 keep-alive
// connections, each sending its next request as soon as the last one is
// answered, as the Node client does, but at a small fraction of its CPU, so
// the figures are the API server's own on a machine of two cores.
import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findExecutable } from '../src/cli/executables.js';
import { cpuMs } from './common.js';

const scripts = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'wrk');

export function findWrk(): string | undefined {
  return findExecutable('wrk');
}

export const wrkMissingMessage = 'wrk not found (apt-get install wrk)';

export interface WrkFigures {
  requests: number;
  perSecond: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Server CPU per request (all threads, and the main thread alone), µs. */
  cpuUs: number;
  mainUs: number;
}

export interface WrkRun {
  url: string;
  pid: number;
  token: string;
  connections: number;
  seconds: number;
  /** create.lua or patch.lua, and the environment the script reads. */
  script: 'create' | 'patch';
  env: Record<string, string>;
}

function execWrk(wrk: string, run: WrkRun, connections: number, seconds: number, extraEnv: Record<string, string> = {}): Promise<string> {
  const args = ['-t', '1', '-c', String(connections), '-d', `${seconds}s`, '--timeout', '10s', '-s', join(scripts, `${run.script}.lua`), run.url];
  const env = { ...process.env, ...run.env, TOKEN: run.token, WRK_REPORT: join(scripts, 'report.lua'), ...extraEnv };
  return new Promise<string>((res, rej) =>
    execFile(wrk, args, { env }, (err, stdout, stderr) => (err ? rej(new Error(`wrk failed: ${err.message}\n${stdout}${stderr}`)) : res(stdout))),
  );
}

/**
 * Runs wrk once (one thread, `connections` connections) and reads its
 * figures; rejects on any error response, with the first error response of
 * each status from a short second run that records them.
 */
export async function runWrk(wrk: string, run: WrkRun): Promise<WrkFigures> {
  const before = cpuMs(run.pid);
  const out = await execWrk(wrk, run, run.connections, run.seconds);
  const after = cpuMs(run.pid);
  const line = /nami-wrk (.*)/.exec(out)?.[1];
  if (!line) throw new Error(`wrk printed no figures:\n${out}`);
  const f = Object.fromEntries(line.split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k!, Number(v)]));
  if (f.errors! > 0) {
    const why = await execWrk(wrk, run, 1, 1, { WRK_ERRORS: '1', PREFIX: `${run.env.PREFIX ?? 'wrk'}-why` }).catch((err: Error) => err.message);
    throw new Error(`wrk saw ${f.errors} failed requests:\n${out}\nA second run, recording error responses:\n${why}`);
  }
  const requests = f.requests!;
  return {
    requests,
    perSecond: requests / f.seconds!,
    p50: f.p50!,
    p90: f.p90!,
    p99: f.p99!,
    max: f.max!,
    cpuUs: ((after.all - before.all) * 1000) / requests,
    mainUs: ((after.main - before.main) * 1000) / requests,
  };
}

export function wrkRow(label: string, f: WrkFigures): string {
  const ms = (v: number) => v.toFixed(2).padStart(7);
  return `${label.padEnd(34)} ${f.perSecond.toFixed(0).padStart(8)}/s   p50 ${ms(f.p50)} ms   p90 ${ms(f.p90)} ms   p99 ${ms(f.p99)} ms   max ${ms(f.max)} ms   server CPU ${f.cpuUs.toFixed(0)} µs/op (main thread ${f.mainUs.toFixed(0)})`;
}
