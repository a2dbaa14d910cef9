// `nami server` runs Node's and V8's helper threads (the collector's, the
// compiler's, libuv's pool) 10 nice steps below itself, so that they give way
// to the threads that serve requests: the main thread and the workers it
// starts (TLS front, store writer, checkpointer, scheduler and controllers)
// keep the process's priority. V8 then scavenges on the main thread alone,
// not waiting for helpers that lost their core. Linux only: the threads are
// read from /proc.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, getPriority } from 'node:os';
import { startNami, type RunningNami } from './harness.js';

const helperThreadsModule = new URL('../../src/cli/helper-threads.js', import.meta.url).href;

/**
 * Runs a child that makes garbage, calling lowerHelperThreads first or not,
 * with V8 tracing every scavenge and each of its tasks: how many of each.
 */
function scavengeTasks(lowered: boolean): { scavenges: number; tasks: number } {
  const script = `
    const { lowerHelperThreads } = await import(${JSON.stringify(helperThreadsModule)});
    if (${lowered}) lowerHelperThreads();
    const kept = [];
    let batch = [];
    for (let i = 0; i < 3e6; i++) {
      batch.push({ i, s: 'x' + i });
      if (batch.length === 20000) { kept.push(batch.slice(0, 100)); batch = []; }
    }`;
  const out = execFileSync(process.execPath, ['--trace-gc', '--trace-parallel-scavenge', '--input-type=module', '-e', script], { encoding: 'utf8' });
  return { scavenges: out.match(/: Scavenge /g)?.length ?? 0, tasks: out.match(/ scavenge\[0x[0-9a-f]+\]: /g)?.length ?? 0 };
}

/** Each thread's nice value, by thread id (field 19 of /proc/PID/task/TID/stat). */
function niceByThread(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      out.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
    } catch {
      // The thread ended while listed.
    }
  }
  return out;
}

const skip = existsSync('/proc/self/task') ? false : 'needs Linux (/proc/PID/task)';

describe('the server\'s thread priorities', { skip }, () => {
  let nami: RunningNami;
  before(async () => {
    nami = await startNami();
  });
  after(async () => {
    await nami?.stop();
  });

  it('runs the helper threads 10 nice steps below the main thread and the workers', () => {
    const base = getPriority(process.pid);
    const helper = Math.min(19, base + 10);
    const pid = nami.process.pid!;
    const nice = niceByThread(pid);
    assert.equal(nice.get(pid), base, 'the main thread keeps the priority it was started with');
    const others = [...nice].filter(([tid]) => tid !== pid).map(([, n]) => n);
    // V8's platform threads alone are four by default.
    assert.ok(others.filter((n) => n === helper).length >= 4, `helper threads at nice ${helper}: ${JSON.stringify([...nice])}`);
    // The TLS front, the store's writer and checkpointer, the scheduler and controllers' worker.
    assert.ok(others.filter((n) => n === base).length >= 4, `worker threads at nice ${base}: ${JSON.stringify([...nice])}`);
    assert.deepEqual(
      others.filter((n) => n !== base && n !== helper),
      [],
      'no thread at any other priority',
    );
  });

  it('has V8 scavenge on the main thread alone once the helpers are lowered', () => {
    const lowered = scavengeTasks(true);
    assert.ok(lowered.scavenges > 5, `the child made too little garbage to tell: ${JSON.stringify(lowered)}`);
    assert.equal(lowered.tasks, lowered.scavenges, 'one task per scavenge');
    // Without the call, scavenges are split among the helpers (with more than one core to run them).
    if (availableParallelism() > 1) {
      const parallel = scavengeTasks(false);
      assert.ok(parallel.tasks > parallel.scavenges, `scavenges in more than one task each: ${JSON.stringify(parallel)}`);
    }
  });
});
