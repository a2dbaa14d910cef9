// Objects in the JSON form Kubernetes writes survive encoding to protobuf and
// decoding back unchanged, including the fields whose JSON form is not their
// message structure (times, quantities, int-or-string, bytes, raw JSON, inline structs).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeKubernetesProtobuf, encodeKubernetesProtobuf } from '../../src/api/protobuf/index.js';
import type { KubeObject } from '../../src/api/object.js';

/** JSON as kubectl sends it, where creationTimestamp may be null (KubeObject's type has no null). */
type Fixture = Record<string, unknown>;

function roundTrip(obj: Fixture): KubeObject {
  return decodeKubernetesProtobuf(encodeKubernetesProtobuf(obj as KubeObject));
}

const created = '2026-01-02T03:04:05Z';

const fixtures: Record<string, Fixture> = {
  Namespace: {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: 'team-a',
      uid: '0b7f7a0e-2b7c-4a53-8d0c-1f0b1d7e9a01',
      resourceVersion: '17',
      creationTimestamp: created,
      labels: { 'kubernetes.io/metadata.name': 'team-a' },
      annotations: { owner: 'alice' },
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  },
  ConfigMap: {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'settings', namespace: 'default', creationTimestamp: null },
    data: { 'app.properties': 'color=blue\nsize=3\n', empty: '' },
    binaryData: { 'logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0xff]).toString('base64') },
    immutable: false,
  },
  Secret: {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: 'db',
      namespace: 'default',
      creationTimestamp: created,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u-1', controller: false, blockOwnerDeletion: true }],
    },
    type: 'Opaque',
    data: { password: Buffer.from('s3cr3t').toString('base64'), none: '' },
  },
  Deployment: {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'default',
      generation: 3,
      creationTimestamp: created,
      labels: { app: 'web' },
      managedFields: [
        {
          manager: 'kubectl-client-side-apply',
          operation: 'Update',
          apiVersion: 'apps/v1',
          time: created,
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:spec': { 'f:replicas': {}, 'f:template': { 'f:spec': { 'k:{"name":"web"}': { '.': {} } } } } },
        },
      ],
    },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }] },
      template: {
        metadata: { creationTimestamp: null, labels: { app: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 0,
          securityContext: { runAsNonRoot: false, runAsUser: 1000 },
          volumes: [
            { name: 'config', configMap: { name: 'settings', defaultMode: 420, items: [{ key: 'a', path: 'a.txt' }] } },
            { name: 'scratch', emptyDir: { sizeLimit: '1Gi' } },
          ],
          containers: [
            {
              name: 'web',
              image: 'nginx:1.27',
              ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
              env: [
                { name: 'MODE', value: 'prod' },
                { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'settings', key: 'color', optional: true } } },
              ],
              resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '250m', 'nvidia.com/gpu': '1' } },
              readinessProbe: { httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' }, periodSeconds: 5 },
              livenessProbe: { tcpSocket: { port: 8080 }, initialDelaySeconds: 3 },
              volumeMounts: [{ name: 'config', mountPath: '/etc/app', readOnly: true }],
            },
          ],
        },
      },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: {
      observedGeneration: 3,
      replicas: 2,
      conditions: [
        { type: 'Progressing', status: 'True', lastUpdateTime: created, lastTransitionTime: created, reason: 'NewReplicaSetAvailable', message: 'ok' },
      ],
    },
  },
  Service: {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default', creationTimestamp: null },
    spec: {
      ports: [
        { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 },
        { name: 'https', protocol: 'TCP', port: 443, targetPort: 'https', nodePort: 30443 },
      ],
      selector: { app: 'web' },
      type: 'NodePort',
      sessionAffinity: 'None',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      allocateLoadBalancerNodePorts: false,
    },
    status: { loadBalancer: {} },
  },
  Job: {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'pi', namespace: 'default', creationTimestamp: created },
    spec: {
      backoffLimit: 0,
      completions: 1,
      parallelism: 1,
      ttlSecondsAfterFinished: 0,
      template: {
        metadata: { creationTimestamp: null },
        spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl', command: ['perl', '-e', 'print 1'], resources: {} }] },
      },
    },
    status: {
      startTime: created,
      completionTime: '2026-01-02T03:05:00Z',
      succeeded: 1,
      conditions: [{ type: 'Complete', status: 'True', lastProbeTime: created, lastTransitionTime: created }],
    },
  },
  CronJob: {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'nightly', namespace: 'default', creationTimestamp: null },
    spec: {
      schedule: '0 3 * * *',
      timeZone: 'Etc/UTC',
      concurrencyPolicy: 'Forbid',
      suspend: false,
      successfulJobsHistoryLimit: 0,
      jobTemplate: {
        metadata: { creationTimestamp: null },
        spec: {
          template: {
            metadata: { creationTimestamp: null },
            spec: { restartPolicy: 'OnFailure', containers: [{ name: 'backup', image: 'busybox', args: ['sh', '-c', 'date'], resources: {} }] },
          },
        },
      },
    },
    status: { lastScheduleTime: created },
  },
  RoleBinding: {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'readers', namespace: 'default', creationTimestamp: null },
    subjects: [
      { kind: 'ServiceAccount', name: 'builder', namespace: 'ci' },
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' },
    ],
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
  },
  Lease: {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'node-1', namespace: 'kube-node-lease', creationTimestamp: created },
    spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40, renewTime: '2026-01-02T03:04:05.123456Z', acquireTime: '2026-01-02T03:00:00.000000Z' },
  },
  ControllerRevision: {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: { name: 'web-5d4b', namespace: 'default', creationTimestamp: created },
    data: { spec: { template: { $patch: 'replace', spec: { containers: [{ name: 'web', image: 'nginx' }] } } } },
    revision: 2,
  },
  PodWithEphemeralContainer: {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'debugged', namespace: 'default', creationTimestamp: created },
    spec: {
      containers: [{ name: 'app', image: 'busybox', resources: {} }],
      ephemeralContainers: [{ name: 'debugger', image: 'busybox', stdin: true, tty: true, resources: {}, targetContainerName: 'app' }],
      volumes: [{ name: 'token', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }, { configMap: { name: 'ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }] } }],
    },
    status: { phase: 'Running', podIP: '10.244.0.5', podIPs: [{ ip: '10.244.0.5' }], startTime: created },
  },
  EventsV1Event: {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: 'web.1', namespace: 'default', creationTimestamp: created },
    eventTime: '2026-01-02T03:04:05.000001Z',
    series: { count: 2, lastObservedTime: '2026-01-02T03:04:06.500000Z' },
    reportingController: 'nami-scheduler',
    reportingInstance: 'nami-scheduler-1',
    action: 'Scheduling',
    reason: 'FailedScheduling',
    regarding: { kind: 'Pod', namespace: 'default', name: 'web-1' },
    note: '0/1 nodes are available',
    type: 'Warning',
  },
};

describe('objects encoded as protobuf and decoded back', () => {
  for (const [name, obj] of Object.entries(fixtures)) {
    it(`${name} comes back as the same JSON`, () => {
      assert.deepEqual(roundTrip(obj), obj);
    });
  }

  it('keeps zero values of pointer fields (replicas 0, suspend false, immutable false)', () => {
    const deployment = roundTrip(fixtures['Deployment']!);
    assert.equal((deployment['spec'] as { replicas: number }).replicas, 0);
    assert.equal((roundTrip(fixtures['CronJob']!)['spec'] as { suspend: boolean }).suspend, false);
    assert.equal(roundTrip(fixtures['ConfigMap']!)['immutable'], false);
  });

  it('drops zero values of omitempty fields, as Kubernetes JSON does', () => {
    const obj: Fixture = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: '', labels: {} },
      spec: { minReadySeconds: 0, paused: false, template: { spec: { containers: [], hostname: '' } } },
    };
    assert.deepEqual(roundTrip(obj), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { template: { spec: {} } },
    });
  });

  it('writes fields without omitempty even when zero (a service port of 0)', () => {
    const svc = roundTrip({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 0, targetPort: 0 }] } });
    assert.deepEqual((svc['spec'] as { ports: unknown[] }).ports, [{ port: 0, targetPort: 0 }]);
  });

  it('keeps fractional seconds only for MicroTime fields, as Go formats them', () => {
    const pod = roundTrip({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', creationTimestamp: '2026-01-02T05:04:05.999+02:00' } });
    assert.equal(pod.metadata.creationTimestamp, '2026-01-02T03:04:05Z');
    const lease = roundTrip({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' }, spec: { renewTime: '2026-01-02T03:04:05.5Z' } });
    assert.equal((lease['spec'] as { renewTime: string }).renewTime, '2026-01-02T03:04:05.500000Z');
  });

  it('reads DeleteOptions sent with any group version, as meta/v1 DeleteOptions', () => {
    const options = { apiVersion: 'apps/v1', kind: 'DeleteOptions', propagationPolicy: 'Foreground', gracePeriodSeconds: 0, preconditions: { uid: 'u-1' } };
    assert.deepEqual(roundTrip(options), options);
  });

  it('encodes a Status the way kube-apiserver answers errors', () => {
    const status = {
      apiVersion: 'v1',
      kind: 'Status',
      metadata: {},
      status: 'Failure',
      message: 'pods "x" not found',
      reason: 'NotFound',
      details: { name: 'x', kind: 'pods' },
      code: 404,
    };
    assert.deepEqual(roundTrip(status), status);
  });
});
