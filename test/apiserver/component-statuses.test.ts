// ComponentStatus health from the scheduler's and controller manager's
// Leases and from the store (src/apiserver/component-statuses.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { componentStatusOf, leaseCondition, storageCondition } from '../../src/apiserver/component-statuses.js';
import { MemoryBackend } from '../../src/storage/memory.js';
import type { Backend } from '../../src/storage/backend.js';
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
    assert.equal(status.metadata.name, 'controller-manager');
    assert.equal(status.conditions[0]!.status, 'False');
  });
});

describe('the store (etcd-0)', () => {
  it('is healthy when it answers a read', async () => {
    assert.deepEqual(await storageCondition(new MemoryBackend()), { type: 'Healthy', status: 'True', message: 'ok' });
  });

  it('is unhealthy with the read error when it fails', async () => {
    const broken = { currentRevision: () => Promise.reject(new Error('database is locked')) } as unknown as Backend;
    assert.deepEqual(await storageCondition(broken), { type: 'Healthy', status: 'False', error: 'database is locked' });
  });
});
