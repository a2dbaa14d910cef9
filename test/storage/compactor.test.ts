import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Compactor } from '../../src/storage/compactor.js';
import { MemoryBackend } from '../../src/storage/memory.js';

async function writeUntil(backend: MemoryBackend, revision: number): Promise<void> {
  while ((await backend.currentRevision()) < revision) await backend.create(`/k/${await backend.currentRevision()}`, 'v');
}

describe('compactor', () => {
  it('compacts to the revision seen one retention period ago, as kube-apiserver does', async () => {
    const backend = new MemoryBackend();
    let now = 0;
    const compactor = new Compactor(backend, { intervalMs: 300_000, now: () => now });
    await writeUntil(backend, 10);
    assert.equal(await compactor.runOnce(), undefined, 'nothing is old enough at the first round');
    now = 120_000;
    await writeUntil(backend, 20);
    assert.equal(await compactor.runOnce(), undefined);
    now = 300_000;
    await writeUntil(backend, 30);
    assert.equal(await compactor.runOnce(), 10);
    now = 600_000;
    await writeUntil(backend, 40);
    assert.equal(await compactor.runOnce(), 30);
    assert.equal(await backend.compactedRevision(), 30);
  });

  it('keeps the newest revisions when given a revision count', async () => {
    const backend = new MemoryBackend();
    const compactor = new Compactor(backend, { intervalMs: 1000, retainRevisions: 15 });
    await writeUntil(backend, 10);
    assert.equal(await compactor.runOnce(), undefined);
    await writeUntil(backend, 40);
    assert.equal(await compactor.runOnce(), 25);
  });

  it('keeps whichever history is longer when given both a count and a period', async () => {
    const backend = new MemoryBackend();
    let now = 0;
    const compactor = new Compactor(backend, { intervalMs: 1000, retainRevisions: 5, retainMs: 1000, now: () => now });
    await writeUntil(backend, 10);
    await compactor.runOnce();
    now = 1000;
    await writeUntil(backend, 50);
    assert.equal(await compactor.runOnce(), 10);
    now = 2000;
    await writeUntil(backend, 52);
    assert.equal(await compactor.runOnce(), 47);
  });
});
