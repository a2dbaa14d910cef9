import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BackendUnavailableError } from '../../src/storage/backend.js';
import { openBackend } from '../../src/storage/open.js';

describe('openBackend', () => {
  it('opens SQLite in the data directory by default and for "sqlite"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nami-open-'));
    try {
      for (const spec of ['', 'sqlite']) {
        const backend = await openBackend(spec, dir);
        assert.equal(backend.name, 'sqlite');
        await backend.create(`/spec/${spec || 'default'}`, 'v');
        await backend.close();
      }
      assert.ok(existsSync(join(dir, 'state.db')));
      const backend = await openBackend('sqlite', dir);
      assert.equal((await backend.range('/spec/')).count, 2);
      await backend.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens an empty in-process store for "memory"', async () => {
    const backend = await openBackend('memory', '');
    assert.equal(backend.name, 'memory');
    assert.equal(await backend.currentRevision(), 0);
    await backend.close();
  });

  it('fails at once with BackendUnavailableError when no etcd answers at the address', async () => {
    // Port 1 on loopback refuses connections.
    await assert.rejects(openBackend('etcd://127.0.0.1:1', ''), BackendUnavailableError);
  });

  it('rejects an unknown storage name, saying what is accepted', async () => {
    await assert.rejects(openBackend('postgres://db', ''), /unknown storage "postgres:\/\/db": expected sqlite, memory or etcd:\/\//);
    await assert.rejects(openBackend('etcd://', ''), /names no etcd endpoint/);
  });
});
