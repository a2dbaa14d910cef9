import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults } from '../../src/api/defaults/index.js';
import type { KubeObject } from '../../src/api/object.js';

const template = () => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } });

const defaultedTemplateSpec = {
  containers: [{ name: 'web', image: 'nginx:1.27', imagePullPolicy: 'IfNotPresent', resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' }],
  dnsPolicy: 'ClusterFirst',
  restartPolicy: 'Always',
  schedulerName: 'default-scheduler',
  securityContext: {},
  terminationGracePeriodSeconds: 30,
};

test('a deployment gets one replica, a 25%/25% rolling update and history and deadline limits', () => {
  const d: KubeObject = { metadata: { name: 'web', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } }, template: template() } };
  applyDefaults({ group: 'apps', version: 'v1', kind: 'Deployment' }, d);
  assert.deepEqual(d.spec, {
    replicas: 1,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
    revisionHistoryLimit: 10,
    progressDeadlineSeconds: 600,
    template: { metadata: { labels: { app: 'web' } }, spec: defaultedTemplateSpec },
  });
  assert.deepEqual(d['status'], {});
});

test('pod templates do not get pod-only defaults such as enableServiceLinks', () => {
  const d: KubeObject = { metadata: { name: 'web' }, spec: { template: template() } };
  applyDefaults({ group: 'apps', version: 'v1', kind: 'ReplicaSet' }, d);
  const spec = (d.spec as { template: { spec: Record<string, unknown> } }).template.spec;
  assert.equal(spec['enableServiceLinks'], undefined);
  assert.equal((d.spec as Record<string, unknown>)['replicas'], 1);
  assert.deepEqual(d['status'], { replicas: 0 });
});

test('a Recreate deployment gets no rolling update parameters', () => {
  const d: KubeObject = { metadata: { name: 'web' }, spec: { strategy: { type: 'Recreate' }, template: template() } };
  applyDefaults({ group: 'apps', version: 'v1', kind: 'Deployment' }, d);
  assert.deepEqual((d.spec as Record<string, unknown>)['strategy'], { type: 'Recreate' });
});

test('a statefulset gets ordered pod management, partition 0 and a Retain claim policy', () => {
  const s: KubeObject = {
    metadata: { name: 'db' },
    spec: {
      serviceName: 'db',
      selector: { matchLabels: { app: 'web' } },
      template: template(),
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  };
  applyDefaults({ group: 'apps', version: 'v1', kind: 'StatefulSet' }, s);
  const spec = s.spec as Record<string, unknown>;
  assert.equal(spec['podManagementPolicy'], 'OrderedReady');
  assert.deepEqual(spec['updateStrategy'], { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
  assert.deepEqual(spec['persistentVolumeClaimRetentionPolicy'], { whenDeleted: 'Retain', whenScaled: 'Retain' });
  assert.equal(spec['replicas'], 1);
  assert.equal(spec['revisionHistoryLimit'], 10);
  assert.deepEqual(spec['volumeClaimTemplates'], [
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem' },
      status: { phase: 'Pending' },
    },
  ]);
});

test('a daemonset rolls one node at a time without surge', () => {
  const ds: KubeObject = { metadata: { name: 'agent' }, spec: { selector: { matchLabels: { app: 'web' } }, template: template() } };
  applyDefaults({ group: 'apps', version: 'v1', kind: 'DaemonSet' }, ds);
  const spec = ds.spec as Record<string, unknown>;
  assert.deepEqual(spec['updateStrategy'], { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  assert.equal(spec['revisionHistoryLimit'], 10);
});

test('a replication controller takes its selector and labels from the template', () => {
  const rc: KubeObject = { metadata: { name: 'rc' }, spec: { template: template() } };
  applyDefaults({ group: '', version: 'v1', kind: 'ReplicationController' }, rc);
  assert.deepEqual((rc.spec as Record<string, unknown>)['selector'], { app: 'web' });
  assert.deepEqual(rc.metadata.labels, { app: 'web' });
});

test('a job runs once with six retries, NonIndexed, not suspended', () => {
  const job: KubeObject = { metadata: { name: 'pi' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl:5.34' }] } } } };
  applyDefaults({ group: 'batch', version: 'v1', kind: 'Job' }, job);
  const spec = job.spec as Record<string, unknown>;
  assert.equal(spec['completions'], 1);
  assert.equal(spec['parallelism'], 1);
  assert.equal(spec['backoffLimit'], 6);
  assert.equal(spec['completionMode'], 'NonIndexed');
  assert.equal(spec['suspend'], false);
  assert.equal(spec['podReplacementPolicy'], 'TerminatingOrFailed');
  assert.equal((spec['template'] as { spec: Record<string, unknown> }).spec['restartPolicy'], 'Never');
});

test('a job with parallelism only keeps completions unset', () => {
  const job: KubeObject = { metadata: { name: 'q' }, spec: { parallelism: 3, template: { spec: { restartPolicy: 'OnFailure', containers: [] } } } };
  applyDefaults({ group: 'batch', version: 'v1', kind: 'Job' }, job);
  assert.equal((job.spec as Record<string, unknown>)['completions'], undefined);
});

test('a cronjob allows concurrency and keeps three successful and one failed job', () => {
  const cj: KubeObject = {
    metadata: { name: 'hello' },
    spec: { schedule: '*/1 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'h', image: 'busybox:1.36' }] } } } } },
  };
  applyDefaults({ group: 'batch', version: 'v1', kind: 'CronJob' }, cj);
  const spec = cj.spec as Record<string, unknown>;
  assert.equal(spec['concurrencyPolicy'], 'Allow');
  assert.equal(spec['suspend'], false);
  assert.equal(spec['successfulJobsHistoryLimit'], 3);
  assert.equal(spec['failedJobsHistoryLimit'], 1);
  const jobTemplate = spec['jobTemplate'] as { metadata: unknown; spec: Record<string, unknown> };
  assert.deepEqual(jobTemplate.metadata, {});
  assert.equal(jobTemplate.spec['backoffLimit'], undefined, 'job defaults apply to Jobs, not to job templates');
});

test('an autoscaling/v2 HPA gets minReplicas 1 and an 80% CPU target', () => {
  const hpa: KubeObject = { metadata: { name: 'web' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5 } };
  applyDefaults({ group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler' }, hpa);
  const spec = hpa.spec as Record<string, unknown>;
  assert.equal(spec['minReplicas'], 1);
  assert.deepEqual(spec['metrics'], [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
});
