import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/object.js';
import { tableFor } from '../../src/apiserver/printers/index.js';
import { ago, day, hour, minute, now, object, second } from './fixtures.js';

function cells(group: string, kind: string, obj: KubeObject): unknown[] {
  return tableFor({ group, kind }, [obj], now).rows[0]?.cells ?? [];
}

function headers(group: string, kind: string): string[] {
  return tableFor({ group, kind }, [], now).columnDefinitions.map((c) => (c.priority ? `(${c.name})` : c.name));
}

const template = {
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'web', image: 'registry.local/web:1.27' }, { name: 'sidecar', image: 'tools' }] },
};

test('a deployment shows READY as ready/desired, then up-to-date and available counts', () => {
  const d = object('Deployment', 'web', {
    spec: { replicas: 3, selector: { matchLabels: { app: 'web', tier: 'front' } }, template },
    status: { replicas: 3, updatedReplicas: 3, readyReplicas: 2, availableReplicas: 2 },
  });
  assert.deepEqual(headers('apps', 'Deployment'), ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', '(Containers)', '(Images)', '(Selector)']);
  assert.deepEqual(cells('apps', 'Deployment', d), ['web', '2/3', 3, 2, '10m', 'web,sidecar', 'registry.local/web:1.27,tools', 'app=web,tier=front']);
});

test('a new deployment without status shows 0/desired', () => {
  const d = object('Deployment', 'web', { spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template } });
  assert.deepEqual(cells('apps', 'Deployment', d).slice(0, 4), ['web', '0/1', 0, 0]);
});

test('deployment selectors print expressions sorted by key, and invalid ones as <invalid>', () => {
  const d = object('Deployment', 'web', {
    spec: {
      replicas: 1,
      template,
      selector: {
        matchLabels: { tier: 'front' },
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['prod', 'dev'] },
          { key: 'canary', operator: 'DoesNotExist' },
          { key: 'zone', operator: 'NotIn', values: ['b'] },
          { key: 'app', operator: 'Exists' },
        ],
      },
    },
  });
  assert.equal(cells('apps', 'Deployment', d)[7], 'app,!canary,env in (dev,prod),tier=front,zone notin (b)');
  const bad = object('Deployment', 'bad', { spec: { replicas: 1, template, selector: { matchExpressions: [{ key: 'a', operator: 'Near' }] } } });
  assert.equal(cells('apps', 'Deployment', bad)[7], '<invalid>');
});

test('a replica set shows desired, current and ready counts and its selector', () => {
  const rs = object('ReplicaSet', 'web-5d8f', {
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template },
    status: { replicas: 3, readyReplicas: 1 },
  });
  assert.deepEqual(headers('apps', 'ReplicaSet'), ['Name', 'Desired', 'Current', 'Ready', 'Age', '(Containers)', '(Images)', '(Selector)']);
  assert.deepEqual(cells('apps', 'ReplicaSet', rs), ['web-5d8f', 3, 3, 1, '10m', 'web,sidecar', 'registry.local/web:1.27,tools', 'app=web']);
});

test('a replication controller shows its map selector', () => {
  const rc = object('ReplicationController', 'legacy', { spec: { replicas: 2, selector: { app: 'legacy' }, template }, status: { replicas: 2, readyReplicas: 2 } });
  assert.deepEqual(cells('', 'ReplicationController', rc), ['legacy', 2, 2, 2, '10m', 'web,sidecar', 'registry.local/web:1.27,tools', 'app=legacy']);
});

test('a stateful set shows READY as ready/desired', () => {
  const sts = object('StatefulSet', 'db', { spec: { replicas: 3, template }, status: { readyReplicas: 3 } });
  assert.deepEqual(headers('apps', 'StatefulSet'), ['Name', 'Ready', 'Age', '(Containers)', '(Images)']);
  assert.deepEqual(cells('apps', 'StatefulSet', sts), ['db', '3/3', '10m', 'web,sidecar', 'registry.local/web:1.27,tools']);
});

test('a daemon set shows its scheduling counts and node selector', () => {
  const ds = object('DaemonSet', 'agent', {
    spec: { selector: { matchLabels: { app: 'agent' } }, template: { spec: { nodeSelector: { 'kubernetes.io/os': 'linux' }, containers: [{ name: 'a', image: 'agent:1' }] } } },
    status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2 },
  });
  assert.deepEqual(cells('apps', 'DaemonSet', ds), ['agent', 3, 3, 2, 3, 2, 'kubernetes.io/os=linux', '10m', 'a', 'agent:1', 'app=agent']);
  const anywhere = object('DaemonSet', 'x', { spec: { template: { spec: { containers: [] } } } });
  assert.equal(cells('apps', 'DaemonSet', anywhere)[6], '<none>');
});

test('jobs show their status, completions and how long they ran', () => {
  assert.deepEqual(headers('batch', 'Job'), ['Name', 'Status', 'Completions', 'Duration', 'Age', '(Containers)', '(Images)', '(Selector)']);
  const done = object('Job', 'pi', {
    spec: { completions: 1, parallelism: 1, selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'abc' } }, template },
    status: { succeeded: 1, startTime: ago(hour), completionTime: ago(hour - 90 * second), conditions: [{ type: 'Complete', status: 'True' }] },
  });
  assert.deepEqual(cells('batch', 'Job', done), ['pi', 'Complete', '1/1', '90s', '10m', 'web,sidecar', 'registry.local/web:1.27,tools', 'batch.kubernetes.io/controller-uid=abc']);

  const runningJob = object('Job', 'work', { spec: { completions: 5, template }, status: { succeeded: 2, startTime: ago(3 * minute) } });
  assert.deepEqual(cells('batch', 'Job', runningJob).slice(1, 4), ['Running', '2/5', '3m']);

  const queue = object('Job', 'queue', { spec: { parallelism: 3, template }, status: {} });
  assert.deepEqual(cells('batch', 'Job', queue).slice(1, 4), ['Running', '0/1 of 3', '']);

  const single = object('Job', 'one', { spec: { parallelism: 1, template }, status: { succeeded: 0 } });
  assert.equal(cells('batch', 'Job', single)[2], '0/1');
});

test('job status prefers Complete, then Failed, Terminating, Suspended and FailureTarget', () => {
  const job = (conditions: { type: string; status: string }[], metadata: Record<string, unknown> = {}) =>
    cells('batch', 'Job', object('Job', 'j', { spec: { completions: 1, template }, status: { conditions } }, metadata))[1];
  assert.equal(job([{ type: 'Failed', status: 'True' }]), 'Failed');
  assert.equal(job([{ type: 'Failed', status: 'False' }]), 'Running');
  assert.equal(job([{ type: 'Suspended', status: 'True' }], { deletionTimestamp: ago(second) }), 'Terminating');
  assert.equal(job([{ type: 'Suspended', status: 'True' }]), 'Suspended');
  assert.equal(job([{ type: 'FailureTarget', status: 'True' }]), 'FailureTarget');
  assert.equal(job([{ type: 'FailureTarget', status: 'True' }, { type: 'Complete', status: 'True' }]), 'Complete');
});

test('a cron job shows schedule, time zone, suspension, active jobs and last schedule', () => {
  assert.deepEqual(headers('batch', 'CronJob'), [
    'Name', 'Schedule', 'Timezone', 'Suspend', 'Active', 'Last Schedule', 'Age', '(Containers)', '(Images)', '(Selector)',
  ]);
  const cj = object('CronJob', 'hello', {
    spec: { schedule: '*/5 * * * *', suspend: false, jobTemplate: { spec: { template } } },
    status: { active: [{ name: 'hello-1' }], lastScheduleTime: ago(2 * minute + 30 * second) },
  });
  assert.deepEqual(cells('batch', 'CronJob', cj), ['hello', '*/5 * * * *', '<none>', 'False', 1, '2m30s', '10m', 'web,sidecar', 'registry.local/web:1.27,tools', '<none>']);
  const zoned = object('CronJob', 'tz', { spec: { schedule: '0 0 * * *', timeZone: 'Etc/UTC', jobTemplate: { spec: { template } } } });
  assert.deepEqual(cells('batch', 'CronJob', zoned).slice(1, 6), ['0 0 * * *', 'Etc/UTC', '<unset>', 0, '<none>']);
});

test('a controller revision names its controller as kind.group/name', () => {
  const rev = object('ControllerRevision', 'web-7d9c', { revision: 3 }, {
    ownerReferences: [
      { apiVersion: 'v1', kind: 'Pod', name: 'other', uid: 'u1' },
      { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u2', controller: true },
    ],
  });
  assert.deepEqual(cells('apps', 'ControllerRevision', rev), ['web-7d9c', 'statefulset.apps/web', 3, '10m']);
  assert.equal(cells('apps', 'ControllerRevision', object('ControllerRevision', 'orphan', { revision: 1 }))[1], '<none>');
});

test('a pod template shows containers, images and pod labels', () => {
  const pt = object('PodTemplate', 'tmpl', { template });
  assert.deepEqual(cells('', 'PodTemplate', pt), ['tmpl', 'web,sidecar', 'registry.local/web:1.27,tools', 'app=web']);
});

test('ages are relative to the given clock', () => {
  const d = object('Deployment', 'old', { spec: { replicas: 1, template } }, { creationTimestamp: ago(3 * day + 4 * hour) });
  assert.equal(cells('apps', 'Deployment', d)[4], '3d4h');
});
