import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BadRequestError } from '../../src/api/errors.js';
import { applyDefaults, imageTag } from '../../src/api/defaults/index.js';
import { deepFreeze, type KubeObject } from '../../src/api/object.js';

const podGvk = { group: '', version: 'v1', kind: 'Pod' };

test('a minimal pod reads back with the fields a cluster fills in', () => {
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default' },
    spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }] }] },
  };
  applyDefaults(podGvk, pod);
  assert.deepEqual(pod.spec, {
    containers: [
      {
        name: 'web',
        image: 'nginx',
        imagePullPolicy: 'Always',
        ports: [{ containerPort: 80, protocol: 'TCP' }],
        resources: {},
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
      },
    ],
    dnsPolicy: 'ClusterFirst',
    enableServiceLinks: true,
    restartPolicy: 'Always',
    schedulerName: 'default-scheduler',
    securityContext: {},
    terminationGracePeriodSeconds: 30,
  });
});

test('pull policy is Always only for :latest or untagged images', () => {
  assert.equal(imageTag('nginx'), 'latest');
  assert.equal(imageTag('nginx:latest'), 'latest');
  assert.equal(imageTag('nginx:1.27'), '1.27');
  assert.equal(imageTag('localhost:5000/team/app'), 'latest');
  assert.equal(imageTag('registry.example.com:5000/app:v2'), 'v2');
  assert.equal(imageTag('nginx@sha256:' + 'a'.repeat(64)), '');
  assert.equal(imageTag('Nginx'), '', 'an invalid reference has no tag');
  const pod: KubeObject = { metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'busybox:1.36' }, { name: 'b', image: 'busybox:latest' }] } };
  applyDefaults(podGvk, pod);
  const containers = (pod.spec as { containers: { imagePullPolicy: string }[] }).containers;
  assert.deepEqual(
    containers.map((c) => c.imagePullPolicy),
    ['IfNotPresent', 'Always'],
  );
});

test('probes get timeouts, periods and thresholds, and httpGet a path and scheme', () => {
  const pod: KubeObject = {
    metadata: { name: 'p' },
    spec: { containers: [{ name: 'a', image: 'x:1', livenessProbe: { httpGet: { port: 8080 } }, readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 5 } }] },
  };
  applyDefaults(podGvk, pod);
  const c = (pod.spec as { containers: Record<string, unknown>[] }).containers[0];
  assert.deepEqual(c?.['livenessProbe'], { httpGet: { port: 8080, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  assert.deepEqual(c?.['readinessProbe'], { tcpSocket: { port: 80 }, periodSeconds: 5, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
});

test('limits without requests make the requests equal to the limits, in canonical form', () => {
  const pod: KubeObject = {
    metadata: { name: 'p' },
    spec: { containers: [{ name: 'a', image: 'x:1', resources: { limits: { cpu: '1000m', memory: '1.5Gi' }, requests: { cpu: 0.25 } } }] },
  };
  applyDefaults(podGvk, pod);
  const c = (pod.spec as { containers: Record<string, unknown>[] }).containers[0];
  assert.deepEqual(c?.['resources'], { limits: { cpu: '1', memory: '1536Mi' }, requests: { cpu: '250m', memory: '1536Mi' } });
});

test('resource amounts finer than a milli round up, as SetDefaults_ResourceList does', () => {
  const pod: KubeObject = { metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'x:1', resources: { requests: { cpu: '100u' } } }] } };
  applyDefaults(podGvk, pod);
  const c = (pod.spec as { containers: { resources: unknown }[] }).containers[0];
  assert.deepEqual(c?.resources, { requests: { cpu: '1m' } });
});

test('a malformed quantity is a 400 worded like the kube-apiserver decoder', () => {
  const pod: KubeObject = { metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'x:1', resources: { limits: { memory: '1GB' } } }] } };
  assert.throws(
    () => applyDefaults(podGvk, pod),
    (e: unknown) =>
      e instanceof BadRequestError &&
      e.message === `Pod in version "v1" cannot be handled as a Pod: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
  );
});

test('volumes get default modes and a volume without a source becomes an emptyDir', () => {
  const pod: KubeObject = {
    metadata: { name: 'p' },
    spec: {
      containers: [{ name: 'a', image: 'x:1' }],
      volumes: [
        { name: 'cfg', configMap: { name: 'c' } },
        { name: 'sec', secret: { secretName: 's' } },
        { name: 'scratch' },
        { name: 'host', hostPath: { path: '/var/log' } },
        { name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 'token' } }, { downwardAPI: { items: [{ path: 'n', fieldRef: { fieldPath: 'metadata.name' } }] } }] } },
      ],
    },
  };
  applyDefaults(podGvk, pod);
  assert.deepEqual((pod.spec as { volumes: unknown }).volumes, [
    { name: 'cfg', configMap: { name: 'c', defaultMode: 420 } },
    { name: 'sec', secret: { secretName: 's', defaultMode: 420 } },
    { name: 'scratch', emptyDir: {} },
    { name: 'host', hostPath: { path: '/var/log', type: '' } },
    {
      name: 'tok',
      projected: {
        defaultMode: 420,
        sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }, { downwardAPI: { items: [{ path: 'n', fieldRef: { fieldPath: 'metadata.name', apiVersion: 'v1' } }] } }],
      },
    },
  ]);
});

test('env from the downward API gets apiVersion v1 and a zero divisor', () => {
  const pod: KubeObject = {
    metadata: { name: 'p' },
    spec: {
      containers: [
        {
          name: 'a',
          image: 'x:1',
          env: [
            { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
          ],
        },
      ],
    },
  };
  applyDefaults(podGvk, pod);
  const env = (pod.spec as { containers: { env: unknown }[] }).containers[0]?.env;
  assert.deepEqual(env, [
    { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName', apiVersion: 'v1' } } },
    { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '0' } } },
  ]);
});

test('host-network pods publish container ports on the host', () => {
  const pod: KubeObject = { metadata: { name: 'p' }, spec: { hostNetwork: true, containers: [{ name: 'a', image: 'x:1', ports: [{ containerPort: 9100 }] }] } };
  applyDefaults(podGvk, pod);
  const ports = (pod.spec as { containers: { ports: unknown }[] }).containers[0]?.ports;
  assert.deepEqual(ports, [{ containerPort: 9100, protocol: 'TCP', hostPort: 9100 }]);
});

test('the deprecated serviceAccount field mirrors serviceAccountName', () => {
  const pod: KubeObject = { metadata: { name: 'p' }, spec: { serviceAccountName: 'builder', containers: [{ name: 'a', image: 'x:1' }] } };
  applyDefaults(podGvk, pod);
  assert.equal((pod.spec as Record<string, unknown>)['serviceAccount'], 'builder');
});

test('defaulting twice changes nothing', () => {
  const pod: KubeObject = { metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'x', resources: { limits: { cpu: '2' } } }], volumes: [{ name: 'v' }] } };
  applyDefaults(podGvk, pod);
  const once = JSON.stringify(pod);
  applyDefaults(podGvk, pod);
  assert.equal(JSON.stringify(pod), once);
});

test('an update defaults the spec it brings, and never writes into the spec it shares with the pod it replaces', () => {
  // The pod as kept by the server (frozen: a write into it throws), stored before enableServiceLinks had a default.
  const kept = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } as KubeObject;
  applyDefaults(podGvk, kept);
  delete (kept.spec as Record<string, unknown>).enableServiceLinks;
  const current = deepFreeze(kept);
  // A label patch's result: new top level and metadata, the kept pod's very spec.
  const relabeled = { ...current, metadata: { ...current.metadata, labels: { a: 'b' } } } as KubeObject;
  applyDefaults(podGvk, relabeled, current);
  assert.equal(relabeled.spec, current.spec);
  // A spec of its own is defaulted in full.
  const replaced = { ...current, spec: { containers: [{ name: 'c', image: 'busybox' }] } } as KubeObject;
  applyDefaults(podGvk, replaced, current);
  assert.equal((replaced.spec as Record<string, unknown>).enableServiceLinks, true);
});
