import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EtcdBackend } from '../../src/storage/etcd.js';
import { openBackend } from '../../src/storage/open.js';
import { backendConformance } from './conformance.js';
import { etcdMissingMessage, etcdSkipReason, findEtcd, startEtcd } from './etcd-server.js';
import type { EtcdServer } from './etcd-server.js';

const skip = etcdSkipReason();

describe('etcd backend (real etcd)', skip ? { skip } : {}, () => {
  let server: EtcdServer | undefined;
  let tests = 0;
  before(async () => {
    // Under CI a missing etcd fails here instead of skipping.
    assert.ok(findEtcd(), etcdMissingMessage);
    server = await startEtcd();
  });
  after(async () => {
    await server?.stop();
  });
  const endpoint = (): string => {
    assert.ok(server, 'etcd did not start');
    return server.endpoint;
  };

  // Each test gets its own key prefix; revisions and compaction are the cluster's.
  backendConformance(
    async () => {
      const backend = new EtcdBackend({ endpoints: [endpoint()], keyPrefix: `/nami-test-${++tests}` });
      return { backend, dispose: () => backend.close() };
    },
    { persistent: false },
  );

  it('stores keys under the key prefix and reports them without it', async () => {
    const prefixed = new EtcdBackend({ endpoints: [endpoint()], keyPrefix: '/tenant-a' });
    const whole = new EtcdBackend({ endpoints: [`http://${endpoint()}`] });
    try {
      const created = await prefixed.create('/registry/pods/default/p', '{}');
      assert.ok(created.ok);
      assert.deepEqual(
        (await whole.range('/tenant-a/registry/')).kvs.map((kv) => kv.key),
        ['/tenant-a/registry/pods/default/p'],
      );
      assert.deepEqual(
        (await prefixed.range('/registry/')).kvs.map((kv) => kv.key),
        ['/registry/pods/default/p'],
      );
    } finally {
      await prefixed.close();
      await whole.close();
    }
  });

  it('openBackend connects to an etcd:// address', async () => {
    const backend = await openBackend(`etcd://${endpoint()}`, '');
    try {
      assert.equal(backend.name, 'etcd');
      assert.ok((await backend.currentRevision()) > 0);
    } finally {
      await backend.close();
    }
  });
});
