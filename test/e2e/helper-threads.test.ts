// `nami server` runs Node's and V8's helper threads (the collector's, the
// compiler's, libuv's pool) 10 nice steps below itself, so that they give way
// to the threads that serve requests: the main thread and the workers it
// starts (TLS front, store writer, checkpointer, scheduler and controllers)
// keep the process's priority. Linux only: the threads are read from /proc.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { startNami, type RunningNami } from './harness.js';

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
});
