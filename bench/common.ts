// What the benchmarks share: a `nami server` process of their own, memory
// of a process, and latency distributions.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RestClient } from '../src/client/rest.js';
import { ApiError } from '../src/api/errors.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const nami = join(repoRoot, 'bin', 'nami');

/**
 * Runs `bin/nami ARGS` (stderr passed through) until its stdout matches `ready`; rejects with its output if it exits first.
 * For looking inside a benchmark's server: NAMI_BENCH_NODE_FLAGS gives node flags (`--trace-gc-nvp`, `--cpu-prof` ...),
 * and NAMI_BENCH_SERVER_OUT a file that gets the server's standard output once it is ready (where V8's traces go).
 */
export async function startNami(args: string[], ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const flags = (process.env.NAMI_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...flags, nami, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const match = await new Promise<RegExpExecArray>((res, rej) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = ready.exec(out);
      if (m) res(m);
    });
    child.once('exit', (code) => rej(new Error(`nami ${args[0]} exited ${code}: ${out}`)));
  });
  child.removeAllListeners('exit');
  const traceFile = process.env.NAMI_BENCH_SERVER_OUT;
  if (traceFile) {
    child.stdout!.removeAllListeners('data');
    child.stdout!.on('data', (c: Buffer) => appendFileSync(traceFile, c));
  }
  return { child, match };
}

export interface Server {
  url: string;
  kubeconfig: string;
  pid: number;
  readyMs: number;
  stop(): Promise<void>;
}

export async function startServer(storage: string, extraArgs: string[] = []): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'nami-bench-'));
  const t0 = performance.now();
  const { child, match } = await startNami(['server', '--data-dir', dir, '--listen', '127.0.0.1:0', '--storage', storage, ...extraArgs], /ready at (\S+)/).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true }); // a server that never started leaves no data dir behind
    throw err;
  });
  const url = match[1]!;
  const readyMs = performance.now() - t0;
  return {
    url,
    kubeconfig: join(dir, 'admin.kubeconfig'),
    pid: child.pid!,
    readyMs,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/**
 * CPU seconds (user + system) used so far by a process and everything below it:
 * its live descendants (found through /proc) and the children it already reaped.
 */
export function treeCpuSeconds(rootPid: number): number {
  const tick = 100; // USER_HZ on Linux
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields after the command: state ppid ... utime(14) stime(15) cutime(16) cstime(17), 1-based from pid
      parent.set(Number(name), Number(f[1]));
      ticks.set(Number(name), Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]));
    } catch {
      /* gone */
    }
  }
  let total = 0;
  for (const [pid, t] of ticks) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parent.get(p)) {
      if (p === rootPid) {
        total += t;
        break;
      }
    }
  }
  return total / tick;
}

/** CPU time (user + system) a process has used, in ms: all its threads, and its main thread alone (Linux). */
export function cpuMs(pid: number): { all: number; main: number } {
  const ticks = (stat: string) => {
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  };
  return { all: ticks(readFileSync(`/proc/${pid}/stat`, 'utf8')), main: mainThreadMs(pid) ?? ticks(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8')) };
}

/** The main thread's time on CPU to the nanosecond (schedstat), where the kernel keeps it; the clock ticks of stat are 10 ms. */
function mainThreadMs(pid: number): number | undefined {
  try {
    const ns = Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]);
    return ns > 0 ? ns / 1e6 : undefined;
  } catch {
    return undefined;
  }
}

/** Runs op and reports the server's CPU per operation, in µs, besides the latency figures. */
export async function measureCpu(pid: number, total: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<Figures & { cpuUs: number; mainUs: number }> {
  const before = cpuMs(pid);
  const figures = await measure(total, concurrency, op);
  const after = cpuMs(pid);
  return { ...figures, cpuUs: ((after.all - before.all) * 1000) / total, mainUs: ((after.main - before.main) * 1000) / total };
}

export function cpuRow(label: string, f: { cpuUs: number; mainUs: number }): string {
  return `${label.padEnd(34)} server CPU ${f.cpuUs.toFixed(0).padStart(4)} µs/op, of which main thread ${f.mainUs.toFixed(0).padStart(4)} µs/op`;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export interface Figures {
  ops: number;
  perSecond: number;
  p50: number;
  p99: number;
}

export async function measure(total: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<Figures> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        const t = performance.now();
        await op(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { ops: total, perSecond: total / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

export function row(label: string, f: Figures): string {
  return `${label.padEnd(34)} ${f.perSecond.toFixed(0).padStart(8)}/s   p50 ${f.p50.toFixed(2).padStart(7)} ms   p99 ${f.p99.toFixed(2).padStart(7)} ms`;
}

/**
 * Creates a namespace with its default ServiceAccount, as the service
 * account controller would make it (the API benchmark's server runs without
 * controllers): pods created in it are then admitted at once.
 */
export async function createNamespace(client: RestClient, name: string): Promise<void> {
  await client.create({ group: '', version: 'v1', plural: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  try {
    await client.create({ group: '', version: 'v1', plural: 'serviceaccounts', namespace: name }, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
  } catch (err) {
    // The controller, where one runs, may have been first.
    if (!(err instanceof ApiError && err.code === 409)) throw err;
  }
}
