// The behaviour every Backend shares, run against memory, SQLite and a real
// etcd. Tests only assume what etcd guarantees: revisions grow with every
// successful write, but do not necessarily start at 1 or belong to one test.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { CompactedError } from '../../src/storage/backend.js';
import type { Backend, KeyValue, WatchEvent, WriteResult } from '../../src/storage/backend.js';
import { FutureRevisionError } from '../../src/storage/errors.js';
import { WatchRecorder } from './watch-recorder.js';

export interface BackendUnderTest {
  backend: Backend;
  /** Closes the store and opens the same one again (persistent backends only). */
  reopen?: () => Promise<Backend>;
  dispose(): Promise<void>;
}

export interface ConformanceOptions {
  /** The store survives close(); run the reopen tests. */
  persistent: boolean;
}

function written(result: WriteResult): KeyValue {
  if (!result.ok) assert.fail(`expected the write to succeed, got ${JSON.stringify(result)}`);
  return result.kv;
}

function revisionOf(result: WriteResult): number {
  written(result);
  return result.revision;
}

/** Creates keys from n writers at once; returns their revisions. */
async function createMany(b: Backend, prefix: string, from: number, n: number): Promise<number[]> {
  const writers = 32;
  const perWriter = await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const revisions: number[] = [];
      for (let i = from + w; i < from + n; i += writers) revisions.push(revisionOf(await b.create(`${prefix}${String(i).padStart(5, '0')}`, 'x')));
      return revisions;
    }),
  );
  return perWriter.flat();
}

/** Registers the shared tests in the enclosing describe(). */
export function backendConformance(open: () => Promise<BackendUnderTest>, opts: ConformanceOptions): void {
  const test = (name: string, body: (b: Backend, under: BackendUnderTest) => Promise<void>): void => {
    it(name, async () => {
      const under = await open();
      try {
        await body(under.backend, under);
      } finally {
        await under.dispose();
      }
    });
  };

  test('a created key reads back with its create and mod revision set to the write revision', async (b) => {
    const before = await b.currentRevision();
    const result = await b.create('/things/a', '{"n":1}');
    const kv = written(result);
    assert.ok(result.revision > before);
    assert.deepEqual(kv, { key: '/things/a', value: '{"n":1}', createRevision: result.revision, modRevision: result.revision });
    const got = await b.get('/things/a');
    assert.deepEqual(got.kv, kv);
    assert.equal(got.revision, await b.currentRevision());
    assert.equal((await b.get('/things/missing')).kv, undefined);
  });

  test('creating a key that exists fails and returns the current value', async (b) => {
    const first = written(await b.create('/things/a', 'one'));
    const second = await b.create('/things/a', 'two');
    assert.equal(second.ok, false);
    assert.deepEqual(!second.ok && second.current, first);
    assert.equal((await b.get('/things/a')).kv?.value, 'one');
  });

  test('an update succeeds only at the key’s current mod revision', async (b) => {
    const created = written(await b.create('/things/a', 'v1'));
    const updated = written(await b.update('/things/a', 'v2', created.modRevision));
    assert.equal(updated.createRevision, created.createRevision);
    assert.ok(updated.modRevision > created.modRevision);
    const stale = await b.update('/things/a', 'v3', created.modRevision);
    assert.equal(stale.ok, false);
    assert.deepEqual(!stale.ok && stale.current, updated);
    assert.equal((await b.get('/things/a')).kv?.value, 'v2');
  });

  test('updating a key that does not exist fails without a current value', async (b) => {
    for (const expected of [0, 5]) {
      const result = await b.update('/things/nobody', 'v', expected);
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.current, undefined);
    }
    assert.equal((await b.get('/things/nobody')).kv, undefined);
  });

  test('a delete honours the expected mod revision, and 0 deletes whatever is there', async (b) => {
    const a = written(await b.create('/things/a', 'a'));
    written(await b.create('/things/b', 'b'));
    const stale = await b.delete('/things/a', a.modRevision + 100);
    assert.equal(stale.ok, false);
    assert.deepEqual(!stale.ok && stale.current, a);
    const deleted = await b.delete('/things/a', a.modRevision);
    assert.deepEqual(written(deleted), a, 'a delete reports the value it removed');
    assert.ok(deleted.revision > a.modRevision);
    written(await b.delete('/things/b', 0));
    assert.equal((await b.range('/things/')).count, 0);
    const again = await b.delete('/things/a', 0);
    assert.equal(again.ok, false);
    assert.equal(!again.ok && again.current, undefined);
  });

  test('a deleted key can be created again, with a new create revision', async (b) => {
    const first = written(await b.create('/things/a', 'first'));
    written(await b.delete('/things/a', first.modRevision));
    const second = written(await b.create('/things/a', 'second'));
    assert.ok(second.createRevision > first.createRevision);
    assert.equal(second.createRevision, second.modRevision);
  });

  test('failed compares leave the revision where it was', async (b) => {
    const kv = written(await b.create('/things/a', 'a'));
    const before = await b.currentRevision();
    const results = [await b.create('/things/a', 'x'), await b.update('/things/a', 'x', kv.modRevision + 100), await b.delete('/things/zz', 0)];
    for (const r of results) {
      assert.equal(r.ok, false);
      assert.equal(r.revision, before);
    }
    assert.equal(await b.currentRevision(), before);
  });

  test('range lists the keys under a prefix in key order, and not keys that only share leading characters', async (b) => {
    for (const key of ['/r/b', '/r/a', '/r', '/ra', '/r/c/deep', '/q/a', '/s']) written(await b.create(key, key));
    const result = await b.range('/r/');
    assert.deepEqual(
      result.kvs.map((kv) => kv.key),
      ['/r/a', '/r/b', '/r/c/deep'],
    );
    assert.equal(result.count, 3);
    assert.equal(result.more, false);
    assert.equal(result.revision, await b.currentRevision());
  });

  test('keys sort by their UTF-8 bytes, as etcd orders them', async (b) => {
    const keys = ['/u/😀', '/u/\uffee', '/u/é', '/u/a', '/u/Z'];
    for (const key of keys) written(await b.create(key, 'v'));
    const listed = (await b.range('/u/')).kvs.map((kv) => kv.key);
    assert.deepEqual(listed, ['/u/Z', '/u/a', '/u/é', '/u/\uffee', '/u/😀']);
  });

  test('limit and startKey page through a prefix, with more and count telling what is left', async (b) => {
    for (let i = 0; i < 7; i++) written(await b.create(`/p/${i}`, `v${i}`));
    const pages: string[][] = [];
    let startKey: string | undefined;
    let revision: number | undefined;
    for (;;) {
      const page = await b.range('/p/', { limit: 3, ...(startKey ? { startKey } : {}), ...(revision ? { revision } : {}) });
      revision ??= page.revision;
      pages.push(page.kvs.map((kv) => kv.key));
      const expectedLeft = 7 - pages.flat().length + page.kvs.length;
      assert.equal(page.count, expectedLeft, 'count covers the keys from startKey on');
      if (!page.more) break;
      startKey = `${page.kvs[page.kvs.length - 1]?.key}\0`;
    }
    assert.deepEqual(pages, [
      ['/p/0', '/p/1', '/p/2'],
      ['/p/3', '/p/4', '/p/5'],
      ['/p/6'],
    ]);
    const counted = await b.range('/p/', { countOnly: true });
    assert.deepEqual(counted.kvs, []);
    assert.equal(counted.count, 7);
    assert.equal(counted.more, false);
  });

  test('get and range at an earlier revision show the store as it was then', async (b) => {
    const a1 = written(await b.create('/h/a', 'a1'));
    const b1 = written(await b.create('/h/b', 'b1'));
    const a2 = written(await b.update('/h/a', 'a2', a1.modRevision));
    written(await b.delete('/h/b', b1.modRevision));
    written(await b.create('/h/c', 'c1'));

    const atB1 = await b.range('/h/', { revision: b1.modRevision });
    assert.equal(atB1.revision, b1.modRevision);
    assert.deepEqual(atB1.kvs, [a1, b1]);
    const atA2 = await b.range('/h/', { revision: a2.modRevision });
    assert.deepEqual(atA2.kvs, [a2, b1]);
    assert.deepEqual((await b.get('/h/a', { revision: a1.modRevision })).kv, a1);
    assert.deepEqual(await b.get('/h/b', { revision: b1.modRevision }), { kv: b1, revision: b1.modRevision });
    assert.equal((await b.get('/h/b')).kv, undefined);
    assert.deepEqual(
      (await b.range('/h/')).kvs.map((kv) => kv.value),
      ['a2', 'c1'],
    );
  });

  test('reading at a revision the store has not reached fails with FutureRevisionError', async (b) => {
    written(await b.create('/f/a', 'a'));
    const future = (await b.currentRevision()) + 1000;
    await assert.rejects(b.get('/f/a', { revision: future }), FutureRevisionError);
    await assert.rejects(b.range('/f/', { revision: future }), FutureRevisionError);
  });

  test('concurrent creates of one key: exactly one wins and the others see the winner', async (b) => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => b.create('/race/key', `writer-${i}`)));
    const winners = results.filter((r) => r.ok);
    assert.equal(winners.length, 1);
    const winner = written(winners[0] as WriteResult);
    for (const r of results.filter((r) => !r.ok)) assert.deepEqual(!r.ok && r.current, winner);
  });

  test('concurrent updates from the same mod revision: exactly one wins', async (b) => {
    const base = written(await b.create('/race/key', 'base'));
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => b.update('/race/key', `writer-${i}`, base.modRevision)));
    assert.equal(results.filter((r) => r.ok).length, 1);
    const winner = written(results.find((r) => r.ok) as WriteResult);
    assert.deepEqual((await b.get('/race/key')).kv, winner);
  });

  test('a watch replays history after its revision, then goes live, with every event once and in order', async (b) => {
    const a = written(await b.create('/w/a', 'a1'));
    const start = a.modRevision;
    const expected: number[] = [];
    expected.push(revisionOf(await b.update('/w/a', 'a2', a.modRevision)));
    expected.push(revisionOf(await b.create('/w/b', 'b1')));
    const recorder = new WatchRecorder(b, '/w/', start);
    expected.push(revisionOf(await b.create('/w/c', 'c1')));
    expected.push(revisionOf(await b.delete('/w/b', 0)));
    await recorder.untilEvents(expected.length);
    expected.push(revisionOf(await b.create('/w/d', 'd1')));
    await recorder.untilEvents(expected.length);
    assert.deepEqual(recorder.revisions, expected);
    assert.deepEqual(recorder.keys, ['/w/a', '/w/b', '/w/c', '/w/b', '/w/d']);
    assert.equal(recorder.error, undefined);
    recorder.cancel();
  });

  test('a watch that starts far behind replays a long history while writes continue, missing and repeating nothing', async (b) => {
    const start = await b.currentRevision();
    const early = await createMany(b, '/long/', 0, 1200);
    const recorder = new WatchRecorder(b, '/long/', start);
    const late = await createMany(b, '/long/', 1200, 300);
    await recorder.untilEvents(1500);
    const expected = [...early, ...late].sort((x, y) => x - y);
    assert.deepEqual(recorder.revisions, expected);
    recorder.cancel();
  });

  test('a watch overtaken by compaction while replaying history either finishes or fails with CompactedError, never skipping events', async (b) => {
    const start = await b.currentRevision();
    const expected = (await createMany(b, '/over/', 0, 1500)).sort((x, y) => x - y);
    const recorder = new WatchRecorder(b, '/over/', start);
    await b.compact(await b.currentRevision());
    await recorder.until(() => recorder.events.length === expected.length || recorder.error !== undefined, 'every event or an error', { acceptError: true });
    assert.deepEqual(recorder.revisions, expected.slice(0, recorder.events.length));
    if (recorder.error) assert.ok(recorder.error instanceof CompactedError, `expected CompactedError, got ${String(recorder.error)}`);
    recorder.cancel();
  });

  test('watch events carry the previous value for updates (when asked, as prev_kv) and deletes', async (b) => {
    const start = await b.currentRevision();
    const v1 = written(await b.create('/e/a', 'v1'));
    const v2 = written(await b.update('/e/a', 'v2', v1.modRevision));
    const del = await b.delete('/e/a', v2.modRevision);
    const replayed = new WatchRecorder(b, '/e/', start, { prevKv: true });
    const replayedPlain = new WatchRecorder(b, '/e/', start);
    await replayed.untilEvents(3);
    await replayedPlain.untilEvents(3);
    replayed.cancel();
    replayedPlain.cancel();
    // Live, a watch that asks for previous values beside one that does not.
    const live = new WatchRecorder(b, '/e/', del.revision, { prevKv: true });
    const livePlain = new WatchRecorder(b, '/e/', del.revision);
    const v3 = written(await b.create('/e/a', 'v3'));
    const v4 = written(await b.update('/e/a', 'v4', v3.modRevision));
    const del2 = await b.delete('/e/a', 0);
    await live.untilEvents(3);
    await livePlain.untilEvents(3);
    const expected = (c: KeyValue, u: KeyValue, d: number): WatchEvent[] => [
      { type: 'put', kv: c },
      { type: 'put', kv: u, prev: c },
      { type: 'delete', key: '/e/a', revision: d, prev: u },
    ];
    const withoutPrev = (c: KeyValue, u: KeyValue, d: number): WatchEvent[] => [
      { type: 'put', kv: c },
      { type: 'put', kv: u },
      { type: 'delete', key: '/e/a', revision: d, prev: u },
    ];
    assert.deepEqual(replayed.events, expected(v1, v2, del.revision));
    assert.deepEqual(live.events, expected(v3, v4, del2.revision));
    assert.deepEqual(replayedPlain.events, withoutPrev(v1, v2, del.revision));
    assert.deepEqual(livePlain.events, withoutPrev(v3, v4, del2.revision));
    live.cancel();
    livePlain.cancel();
    // Once no watch asks for them, none are read; asking again brings them back.
    const afterCancel = new WatchRecorder(b, '/e/', del2.revision);
    const v5 = written(await b.create('/e/a', 'v5'));
    const v6 = written(await b.update('/e/a', 'v6', v5.modRevision));
    await afterCancel.untilEvents(2);
    assert.deepEqual(afterCancel.events, [{ type: 'put', kv: v5 }, { type: 'put', kv: v6 }]);
    const again = new WatchRecorder(b, '/e/', v6.modRevision, { prevKv: true });
    const v7 = written(await b.update('/e/a', 'v7', v6.modRevision));
    await again.untilEvents(1);
    assert.deepEqual(again.events, [{ type: 'put', kv: v7, prev: v6 }]);
    afterCancel.cancel();
    again.cancel();
  });

  test('a watch sees only keys under its prefix', async (b) => {
    const start = await b.currentRevision();
    const recorder = new WatchRecorder(b, '/iso/a/', start);
    for (const key of ['/iso/a/x', '/iso/ab', '/iso/a', '/iso/b/x', '/iso/a/y']) written(await b.create(key, key));
    await recorder.untilEvents(2);
    const other = new WatchRecorder(b, '/iso/b/', start);
    await other.untilEvents(1);
    assert.deepEqual(recorder.keys, ['/iso/a/x', '/iso/a/y']);
    assert.deepEqual(other.keys, ['/iso/b/x']);
    recorder.cancel();
    other.cancel();
  });

  test('a cancelled watch delivers nothing more', async (b) => {
    const start = await b.currentRevision();
    const cancelled = new WatchRecorder(b, '/c/', start);
    const witness = new WatchRecorder(b, '/c/', start);
    written(await b.create('/c/1', '1'));
    await cancelled.untilEvents(1);
    cancelled.cancel();
    cancelled.cancel();
    written(await b.create('/c/2', '2'));
    written(await b.create('/c/3', '3'));
    await witness.untilEvents(3);
    assert.deepEqual(cancelled.keys, ['/c/1']);
    assert.equal(cancelled.error, undefined);
    witness.cancel();
  });

  test('compaction keeps each key’s value at the compacted revision; older reads and watches fail with CompactedError', async (b) => {
    const start = await b.currentRevision();
    const a1 = written(await b.create('/k/a', 'a1'));
    const a2 = written(await b.update('/k/a', 'a2', a1.modRevision));
    const b1 = written(await b.create('/k/b', 'b1'));
    const gone = await b.delete('/k/b', b1.modRevision);
    const a3 = written(await b.update('/k/a', 'a3', a2.modRevision));
    const c1 = written(await b.create('/k/c', 'c1'));
    const target = a3.modRevision;

    await b.compact(target);
    assert.equal(await b.compactedRevision(), target);

    const old = await b.get('/k/a', { revision: a2.modRevision }).catch((e: unknown) => e);
    assert.ok(old instanceof CompactedError, `expected CompactedError, got ${String(old)}`);
    assert.equal(old.requested, a2.modRevision);
    assert.equal(old.compacted, target);
    await assert.rejects(b.range('/k/', { revision: gone.revision }), CompactedError);

    assert.deepEqual((await b.range('/k/', { revision: target })).kvs, [a3]);
    assert.deepEqual((await b.range('/k/')).kvs, [a3, c1]);

    const tooOld = new WatchRecorder(b, '/k/', start);
    const err = await tooOld.untilError();
    assert.ok(err instanceof CompactedError, `expected CompactedError, got ${String(err)}`);
    assert.equal(tooOld.events.length, 0);
    assert.equal(tooOld.errorCount, 1);

    const fromTarget = new WatchRecorder(b, '/k/', target);
    const d1 = written(await b.create('/k/d', 'd1'));
    await fromTarget.untilEvents(2);
    assert.deepEqual(fromTarget.revisions, [c1.modRevision, d1.modRevision]);
    fromTarget.cancel();

    await b.compact(a1.modRevision);
    assert.equal(await b.compactedRevision(), target, 'compacting to an older revision changes nothing');
  });

  test('compacting to a revision not reached yet fails with FutureRevisionError', async (b) => {
    written(await b.create('/k/a', 'a'));
    await assert.rejects(b.compact((await b.currentRevision()) + 1000), FutureRevisionError);
  });

  if (opts.persistent) {
    test('after reopening, revisions continue where they were and compacted history stays compacted', async (b, under) => {
      const a = written(await b.create('/re/a', 'a'));
      const last = await b.delete('/re/a', a.modRevision);
      // Compaction removes the newest row (the tombstone); the revision must still not go back.
      await b.compact(last.revision);
      const reopened = await (under.reopen as () => Promise<Backend>)();
      assert.equal(await reopened.currentRevision(), last.revision);
      assert.equal(await reopened.compactedRevision(), last.revision);
      await assert.rejects(reopened.get('/re/a', { revision: a.modRevision }), CompactedError);
      const next = await reopened.create('/re/b', 'b');
      assert.equal(next.revision, last.revision + 1);
      assert.deepEqual((await reopened.range('/re/')).kvs.map((kv) => kv.key), ['/re/b']);
    });

    test('acknowledged writes and their history survive reopening', async (b, under) => {
      const start = await b.currentRevision();
      const v1 = written(await b.create('/re/x', 'v1'));
      const v2 = written(await b.update('/re/x', 'v2', v1.modRevision));
      const reopened = await (under.reopen as () => Promise<Backend>)();
      assert.deepEqual((await reopened.get('/re/x')).kv, v2);
      const recorder = new WatchRecorder(reopened, '/re/', start, { prevKv: true });
      await recorder.untilEvents(2);
      assert.deepEqual(recorder.events, [
        { type: 'put', kv: v1 },
        { type: 'put', kv: v2, prev: v1 },
      ]);
      recorder.cancel();
    });
  }
}
