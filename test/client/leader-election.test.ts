// Leader election on a Lease: one leader at a time, takeover when the leader
// stops or goes silent, as client-go's leaderelection behaves.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { LeaderElector } from '../../src/client/leader-election.js';
import { startTestApiServer, waitUntil, type TestApiServer } from '../apiserver/harness.js';

let api: TestApiServer;
before(async () => {
  api = await startTestApiServer();
});
after(async () => {
  await api?.close();
});

function candidate(identity: string, events: string[]): LeaderElector {
  return new LeaderElector(api.client, { name: 'test-lock', identity, leaseDurationSeconds: 1, renewDeadlineMs: 600, retryPeriodMs: 100 }, {
    onStartedLeading: () => void events.push(`${identity} started`),
    onStoppedLeading: () => void events.push(`${identity} stopped`),
  });
}

test('one candidate leads; another takes over when it stops, and the lease records the transition', async () => {
  const events: string[] = [];
  const a = candidate('a', events);
  const b = candidate('b', events);
  a.start();
  await waitUntil('a to lead', () => a.isLeader);
  b.start();
  // b keeps trying while a renews: several retry periods pass without b leading.
  const before = Date.now();
  await waitUntil('b to have tried for a while', () => Date.now() - before > 1500);
  assert.equal(b.isLeader, false);
  assert.equal(a.isLeader, true);
  await a.stop();
  await waitUntil('b to lead', () => b.isLeader);
  assert.deepEqual(events, ['a started', 'a stopped', 'b started']);
  const lease = await api.client.get<{ spec: { holderIdentity: string; leaseTransitions: number } }>({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: 'kube-system', name: 'test-lock' });
  assert.equal(lease.spec.holderIdentity, 'b');
  assert.equal(lease.spec.leaseTransitions, 1);
  await b.stop();
});
