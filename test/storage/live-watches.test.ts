// LiveWatches hands each watch of a backend's live feed exactly the events
// under its prefix (whatever the prefix looks like), in order, and the
// batch's revision to every watch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WatchEvent } from '../../src/storage/backend.js';
import { LiveWatches, WatchSubscription } from '../../src/storage/watch-subscription.js';

function put(key: string, revision: number): WatchEvent {
  return { type: 'put', kv: { key, value: `v${revision}`, createRevision: revision, modRevision: revision } };
}

function del(key: string, revision: number): WatchEvent {
  return { type: 'delete', key, revision, prev: { key, value: 'old', createRevision: 1, modRevision: 1 } };
}

test('each live watch gets the events under its prefix, in order, and every watch the batch revision', () => {
  const prefixes = ['', '/', '/registry/', '/registry/pods/', '/registry/pods/default/', '/registry/pods/default/a', '/registry/po', '/registry/apps/deployments/', '/other/', '/registry/pods/'];
  const watches = new LiveWatches();
  const seen = new Map<number, { events: WatchEvent[]; progress: number[] }>();
  const subs = prefixes.map((prefix, i) => {
    const got = { events: [] as WatchEvent[], progress: [] as number[] };
    seen.set(i, got);
    const sub = new WatchSubscription(prefix, 10, (events) => got.events.push(...events), (err) => assert.fail(err), (revision) => got.progress.push(revision));
    watches.add(sub);
    return sub;
  });
  const batches = [
    [put('/registry/pods/default/a', 11), put('/registry/pods/default/ab', 12), put('/registry/apps/deployments/x/y', 13), del('/registry/pods/kube-system/b', 14)],
    [put('/registry/services/default/s', 15)],
    [put('/registry/pods/default/a', 16), put('/other', 17), put('noslash', 18)],
  ];
  for (const batch of batches) watches.deliver(batch);
  const all = batches.flat();
  const keyOf = (e: WatchEvent) => (e.type === 'put' ? e.kv.key : e.key);
  for (const [i, prefix] of prefixes.entries()) {
    const got = seen.get(i)!;
    assert.deepEqual(got.events, all.filter((e) => keyOf(e).startsWith(prefix)), `events of watch on ${JSON.stringify(prefix)}`);
    assert.equal(subs[i]!.cursor, 18, `cursor of watch on ${JSON.stringify(prefix)}`);
  }
  // A watch that saw nothing of a batch learns its revision as progress.
  assert.deepEqual(seen.get(prefixes.indexOf('/other/'))!.progress, [14, 15, 18]);
  // A watch removed gets nothing more; one added later only what follows.
  watches.delete(subs[1]!);
  const late = { events: [] as WatchEvent[] };
  watches.add(new WatchSubscription('/registry/', 18, (events) => late.events.push(...events), (err) => assert.fail(err)));
  watches.deliver([put('/registry/pods/default/c', 19)]);
  assert.equal(seen.get(1)!.events.length, all.filter((e) => keyOf(e).startsWith('/')).length);
  assert.deepEqual(late.events, [put('/registry/pods/default/c', 19)]);
  assert.equal([...watches].length, prefixes.length);
});
