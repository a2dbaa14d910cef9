// The work queue controllers run on: a key is queued once however often it is
// added, never handled by two workers at once, handled again when it changed
// while being handled, and retried with growing delays after failures.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runWorkers, WorkQueue } from '../../src/client/work-queue.js';

test('adds of a queued key collapse into one', async () => {
  const q = new WorkQueue();
  q.add('a');
  q.add('a');
  q.add('b');
  assert.equal(q.length, 2);
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  q.shutDown();
});

test('a key being handled is not handed out again until done, then once more if it changed meanwhile', async () => {
  const q = new WorkQueue();
  q.add('a');
  const first = await q.get();
  q.add('a');
  assert.equal(q.length, 0, 'held back while a worker has it');
  q.done(first!);
  assert.equal(q.length, 1);
  assert.equal(await q.get(), 'a');
  q.done('a');
  q.shutDown();
  assert.equal(await q.get(), undefined);
});

test('a failing key comes back after base x 2^failures, until forgotten', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const q = new WorkQueue(10, 1000);
  for (const delay of [10, 20, 40]) {
    q.addRateLimited('k');
    t.mock.timers.tick(delay - 1);
    assert.equal(q.length, 0, `not before ${delay} ms`);
    t.mock.timers.tick(1);
    assert.equal(q.length, 1, `back after ${delay} ms`);
    void q.get();
    q.done('k');
  }
  q.forget('k');
  q.addRateLimited('k');
  t.mock.timers.tick(10);
  assert.equal(q.length, 1, 'forgotten: the first delay again');
  q.shutDown();
});

test('runWorkers retries a failing key until it succeeds, never running it twice at once', async () => {
  const q = new WorkQueue(1, 10);
  let attempts = 0;
  let running = 0;
  let overlap = false;
  const done = runWorkers(q, 4, async () => {
    if (++running > 1) overlap = true;
    attempts++;
    await new Promise((r) => setTimeout(r, 2));
    running--;
    if (attempts < 4) throw new Error('not yet');
  });
  q.add('flaky');
  const deadline = Date.now() + 10_000;
  while (attempts < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 50));
  q.shutDown();
  await done;
  assert.equal(attempts, 4, 'retried until it succeeded, and not after');
  assert.equal(overlap, false);
});
