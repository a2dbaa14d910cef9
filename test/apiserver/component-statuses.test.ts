// ComponentStatus health from the scheduler's and controller manager's
// Leases and from the store (src/apiserver/component-statuses.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { componentNames, componentStatusOf, leaseCondition } from '../../src/apiserver/component-statuses.js';
import { MemoryBackend } from '../../src/storage/memory.js';
import type { Backend, StorageServer } from '../../src/storage/backend.js';
import type { KubeObject } from '../../src/api/object.js';

const now = Date.parse('2026-12-02T10:00:00Z');

function lease(spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'kube-scheduler', namespace: 'kube-system' }, spec };
}

describe('a leader-elected component', () => {
  it('is healthy while its Lease was renewed within the lease duration', () => {
    const held = lease({ holderIdentity: 'node-a_1', leaseDurationSeconds: 15, renewTime: '2026-12-02T09:59:50.000000Z' });
    assert.deepEqual(leaseCondition('kube-scheduler', held, now), { type: 'Healthy', status: 'True', message: 'ok' });
  });

  it('is unhealthy once the Lease outlived its duration, with when it was last renewed', () => {
    const stale = lease({ holderIdentity: 'node-a_1', leaseDurationSeconds: 15, renewTime: '2026-12-02T09:59:00.000000Z' });
    const c = leaseCondition('kube-scheduler', stale, now);
    assert.equal(c.status, 'False');
    assert.equal(c.error, 'the kube-system/kube-scheduler Lease held by node-a_1 was last renewed 60s ago (lease duration 15s)');
  });

  it('is unhealthy when nobody holds its Lease, or there is none', () => {
    for (const l of [undefined, lease({ holderIdentity: '', renewTime: '2026-12-02T09:59:59.000000Z' }), lease({})]) {
      const c = leaseCondition('kube-scheduler', l, now);
      assert.equal(c.status, 'False');
      assert.match(c.error ?? '', /no leader holds the kube-system\/kube-scheduler Lease/);
    }
  });

  it('is of unknown health when its holder never wrote a renewTime', () => {
    assert.equal(leaseCondition('kube-scheduler', lease({ holderIdentity: 'x' }), now).status, 'Unknown');
  });

  it('is read from the Lease of its own name', async () => {
    const asked: string[] = [];
    const status = await componentStatusOf('controller-manager', {
      backend: new MemoryBackend(),
      lease: async (name) => {
        asked.push(name);
        return undefined;
      },
      now: () => now,
    });
    assert.deepEqual(asked, ['kube-controller-manager']);
    assert.equal(status?.metadata.name, 'controller-manager');
    assert.equal(status?.conditions[0]!.status, 'False');
  });
});

const noLeases = { lease: async () => undefined };

describe('the store', () => {
  it('of this process (sqlite, memory) is etcd-0, healthy when it answers a read', async () => {
    const backend = new MemoryBackend();
    assert.deepEqual(componentNames(backend), ['scheduler', 'controller-manager', 'etcd-0']);
    assert.deepEqual((await componentStatusOf('etcd-0', { backend, ...noLeases }))?.conditions, [{ type: 'Healthy', status: 'True', message: 'ok' }]);
    assert.equal(await componentStatusOf('etcd-1', { backend, ...noLeases }), undefined);
  });

  it('is unhealthy with the read error when a read fails', async () => {
    const broken = { currentRevision: () => Promise.reject(new Error('database is locked')) } as unknown as Backend;
    assert.deepEqual((await componentStatusOf('etcd-0', { backend: broken, ...noLeases }))?.conditions, [{ type: 'Healthy', status: 'False', error: 'database is locked' }]);
  });

  it('of servers is etcd-0, etcd-1 ... each checked on its own', async () => {
    const servers: StorageServer[] = [
      { endpoint: 'http://a:2379', check: async () => undefined },
      { endpoint: 'http://b:2379', check: () => Promise.reject(new Error('connection refused')) },
    ];
    const backend = { servers: () => servers, currentRevision: () => Promise.reject(new Error('not asked')) } as unknown as Backend;
    assert.deepEqual(componentNames(backend), ['scheduler', 'controller-manager', 'etcd-0', 'etcd-1']);
    assert.equal((await componentStatusOf('etcd-0', { backend, ...noLeases }))?.conditions[0]?.status, 'True');
    assert.deepEqual((await componentStatusOf('etcd-1', { backend, ...noLeases }))?.conditions, [{ type: 'Healthy', status: 'False', error: 'connection refused' }]);
    assert.equal(await componentStatusOf('etcd-2', { backend, ...noLeases }), undefined);
    assert.equal(await componentStatusOf('etcd-01', { backend, ...noLeases }), undefined);
  });
});
