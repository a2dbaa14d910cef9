import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { CompactedError } from '../../src/storage/backend.js';
import type { WriteResult } from '../../src/storage/backend.js';
import { SqliteBackend } from '../../src/storage/sqlite.js';
import { backendConformance } from './conformance.js';
import { durableValue } from './durability-child.js';
import { WatchRecorder } from './watch-recorder.js';
import { waitFor } from '../apiserver/harness.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nami-sqlite-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function fileSize(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

function modRevision(result: WriteResult): number {
  assert.ok(result.ok, `write failed: ${JSON.stringify(result)}`);
  return result.kv.modRevision;
}

describe('sqlite backend', () => {
  backendConformance(
    async () => {
      const dir = tempDir();
      let current = new SqliteBackend(dir);
      return {
        backend: current,
        reopen: async () => {
          await current.close();
          current = new SqliteBackend(dir);
          return current;
        },
        dispose: () => current.close(),
      };
    },
    { persistent: true },
  );

  it('keeps its state in state.db inside the data directory', async () => {
    const dir = join(tempDir(), 'nested', 'data');
    const backend = new SqliteBackend(dir);
    await backend.create('/a', 'a');
    await backend.close();
    assert.equal(backend.path, join(dir, 'state.db'));
    const db = new Database(join(dir, 'state.db'), { readonly: true });
    assert.deepEqual(db.prepare('SELECT name, value FROM kv').all(), [{ name: '/a', value: 'a' }]);
    db.close();
  });

  it('opens a state.db made with the former (name, id) index without it, and reads and writes its keys as before', async () => {
    const dir = tempDir();
    let backend = new SqliteBackend(dir);
    const v1 = modRevision(await backend.create('/old/a', 'v1'));
    await backend.create('/old/b', 'b');
    const v2 = modRevision(await backend.update('/old/a', 'v2', v1));
    const gone = (await backend.delete('/old/a', v2)).revision;
    const v3 = modRevision(await backend.create('/old/a', 'v3'));
    await backend.close();
    const raw = new Database(join(dir, 'state.db'));
    raw.exec('CREATE INDEX kv_name_id ON kv (name, id)');
    raw.close();

    backend = new SqliteBackend(dir);
    const indexes = new Database(join(dir, 'state.db'), { readonly: true });
    assert.deepEqual(indexes.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'kv' AND sql IS NOT NULL`).all(), [{ name: 'kv_name_prev_revision' }]);
    indexes.close();
    const at = async (revision: number) => (await backend.get('/old/a', { revision })).kv?.value;
    assert.deepEqual([await at(v1), await at(v2 - 1), await at(v2), await at(gone), await at(v3)], ['v1', 'v1', 'v2', undefined, 'v3']);
    assert.equal((await backend.get('/old/a')).kv?.modRevision, v3);
    assert.equal((await backend.update('/old/a', 'stale', v2)).ok, false);
    assert.equal((await backend.update('/old/a', 'v4', v3)).ok, true);
    assert.deepEqual((await backend.range('/old/')).kvs.map((kv) => [kv.key, kv.value]), [['/old/a', 'v4'], ['/old/b', 'b']]);
    await backend.close();
  });

  it('commits writes issued together as one batch, and a failed compare does not fail the others', async () => {
    const backend = new SqliteBackend(tempDir());
    const existing = modRevision(await backend.create('/batch/existing', 'old'));
    const recorder = new WatchRecorder(backend, '/batch/', existing);
    const pending: Promise<WriteResult>[] = [];
    for (let i = 0; i < 10; i++) pending.push(backend.create(`/batch/new-${i}`, 'v'));
    pending.push(backend.create('/batch/existing', 'again'));
    pending.push(backend.update('/batch/existing', 'stale', existing - 1));
    for (let i = 10; i < 20; i++) pending.push(backend.create(`/batch/new-${i}`, 'v'));
    const results = await Promise.all(pending);
    assert.deepEqual(
      results.map((r) => r.ok),
      [...Array(10).fill(true), false, false, ...Array(10).fill(true)],
    );
    await recorder.untilEvents(20);
    assert.equal(recorder.batches.length, 1, 'one transaction, so watchers receive one batch');
    assert.deepEqual(
      recorder.revisions,
      Array.from({ length: 20 }, (_, i) => existing + 1 + i),
    );
    recorder.cancel();
    await backend.close();
  });

  it('every acknowledged write survives kill -9, and the database passes integrity_check', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, [fileURLToPath(new URL('./durability-child.js', import.meta.url)), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acknowledged: string[] = [];
    let partial = '';
    let killed = false;
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      acknowledged.push(...lines);
      if (!killed && acknowledged.length >= 3000) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    assert.equal(signal, 'SIGKILL', `the writer exited on its own (code ${code})`);
    assert.ok(acknowledged.length >= 3000);

    const raw = new Database(join(dir, 'state.db'));
    assert.deepEqual(raw.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
    raw.close();

    const backend = new SqliteBackend(dir);
    const stored = new Map((await backend.range('/durable/')).kvs.map((kv) => [kv.key, kv.value]));
    const missing = acknowledged.filter((key) => stored.get(key) !== durableValue(key));
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${acknowledged.length} acknowledged writes were lost`);
    // The revision counter resumes after the last durable write.
    const before = await backend.currentRevision();
    assert.ok(before >= stored.size);
    assert.equal((await backend.create('/durable/after-restart', 'x')).revision, before + 1);
    await backend.close();
  });

  it('moves written values into the database file soon, long before the WAL reaches its checkpoint threshold', async () => {
    const backend = new SqliteBackend(tempDir());
    await backend.create('/wal/first', 'v');
    const before = fileSize(backend.path);
    // About 150 pages of 4 KiB: far below the 1000 pages at which a commit would checkpoint by itself.
    await Promise.all(Array.from({ length: 200 }, (_, i) => backend.create(`/wal/${i}`, 'x'.repeat(2048))));
    await waitFor(`state.db to hold the values (it is ${fileSize(backend.path)} bytes, was ${before})`, () => fileSize(backend.path) >= before + 400 * 1024);
    assert.equal((await backend.range('/wal/')).count, 201);
    await backend.close();
  });

  it('keeps db and WAL size proportional to live data under endless rewrites with periodic compaction', async () => {
    const dir = tempDir();
    const backend = new SqliteBackend(dir);
    const keys = Array.from({ length: 100 }, (_, i) => `/churn/${i}`);
    const valueFor = (key: string, round: number): string => JSON.stringify({ key, round, data: 'x'.repeat(1000) });
    const revisions = new Map<string, number>();
    for (const key of keys) revisions.set(key, modRevision(await backend.create(key, valueFor(key, 0))));
    const sizes: number[] = [];
    let writtenBytes = 0;
    for (let round = 1; round <= 200; round++) {
      await Promise.all(
        keys.map(async (key) => {
          const value = valueFor(key, round);
          writtenBytes += value.length;
          revisions.set(key, modRevision(await backend.update(key, value, revisions.get(key) ?? 0)));
        }),
      );
      if (round % 20 === 0) {
        await backend.compact(await backend.currentRevision());
        sizes.push(fileSize(backend.path) + fileSize(`${backend.path}-wal`));
      }
    }
    const liveBytes = keys.reduce((sum, key) => sum + key.length + valueFor(key, 200).length, 0);
    const bound = 4 * liveBytes;
    assert.ok(writtenBytes > 40 * bound, 'the churn writes far more than the bound');
    for (const size of sizes) assert.ok(size <= bound, `db + wal is ${size} bytes after compaction; live data is ${liveBytes} bytes (sizes: ${sizes.join(', ')})`);
    assert.equal((await backend.range('/churn/')).count, 100);
    assert.equal((await backend.get('/churn/7')).kv?.value, valueFor('/churn/7', 200));
    await backend.close();
  });

  it('compacts on its own when given a compaction schedule, keeping the newest revisions', async () => {
    const backend = new SqliteBackend(tempDir(), { compaction: { intervalMs: 20, retainRevisions: 5 } });
    let revision = 0;
    for (let i = 0; i < 30; i++) revision = modRevision(await backend.create(`/auto/${i}`, 'v'));
    const giveUp = Date.now() + 20_000;
    while ((await backend.compactedRevision()) < revision - 5) {
      assert.ok(Date.now() < giveUp, 'the automatic compactor never ran');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await assert.rejects(backend.get('/auto/0', { revision: 1 }), CompactedError);
    assert.equal((await backend.range('/auto/', { revision: revision - 5 })).count, 25);
    await backend.close();
  });
});
