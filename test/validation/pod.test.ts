import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults } from '../../src/api/defaults/index.js';
import { InvalidError } from '../../src/api/errors.js';
import { validateObject } from '../../src/api/validation/index.js';
import type { KubeObject } from '../../src/api/object.js';
import { container, gvks, invalidMessage, pod } from './kubectl-messages.js';

test('a well-formed pod passes', () => {
  assert.equal(invalidMessage(gvks.pod, pod({ containers: [container({ ports: [{ containerPort: 80, name: 'http' }] })] })), undefined);
});

test('a pod without containers is rejected', () => {
  assert.equal(invalidMessage(gvks.pod, pod({ containers: [] })), 'Pod "web" is invalid: spec.containers: Required value');
});

test('a container without an image is rejected', () => {
  assert.equal(invalidMessage(gvks.pod, pod({ containers: [{ name: 'web' }] })), 'Pod "web" is invalid: spec.containers[0].image: Required value');
});

test('container names must be unique', () => {
  assert.equal(invalidMessage(gvks.pod, pod({ containers: [container(), container()] })), 'Pod "web" is invalid: spec.containers[1].name: Duplicate value: "web"');
});

test('an init container may not reuse a container name', () => {
  assert.equal(
    invalidMessage(gvks.pod, pod({ containers: [container()], initContainers: [container()] })),
    'Pod "web" is invalid: spec.initContainers[0].name: Duplicate value: "web"',
  );
});

test('container ports must be in range', () => {
  assert.equal(
    invalidMessage(gvks.pod, pod({ containers: [container({ ports: [{ containerPort: 70000 }] })] })),
    'Pod "web" is invalid: spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
  );
});

test('a port name longer than 15 characters is rejected', () => {
  assert.equal(
    invalidMessage(gvks.pod, pod({ containers: [container({ ports: [{ containerPort: 80, name: 'a-very-long-port-name' }] })] })),
    'Pod "web" is invalid: spec.containers[0].ports[0].name: Invalid value: "a-very-long-port-name": must be no more than 15 characters',
  );
});

test('an unknown restart policy lists the supported ones', () => {
  assert.equal(
    invalidMessage(gvks.pod, pod({ restartPolicy: 'Sometimes', containers: [container()] })),
    'Pod "web" is invalid: spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
  );
});

test('requests above limits are rejected with the limit in the message', () => {
  assert.equal(
    invalidMessage(gvks.pod, pod({ containers: [container({ resources: { limits: { cpu: '500m' }, requests: { cpu: '1' } } })] })),
    'Pod "web" is invalid: spec.containers[0].resources.requests: Invalid value: "1": must be less than or equal to cpu limit of 500m',
  );
});

test('an unknown resource name is rejected twice, as Kubernetes does', () => {
  assert.equal(
    invalidMessage(gvks.pod, pod({ containers: [container({ resources: { limits: { cpus: '1' } } })] })),
    'Pod "web" is invalid: [spec.containers[0].resources.limits[cpus]: Invalid value: "cpus": must be a standard resource type or fully qualified, spec.containers[0].resources.limits[cpus]: Invalid value: "cpus": must be a standard resource for containers, spec.containers[0].resources.requests[cpus]: Invalid value: "cpus": must be a standard resource type or fully qualified, spec.containers[0].resources.requests[cpus]: Invalid value: "cpus": must be a standard resource for containers]',
  );
});

test('extended resources must be whole numbers', () => {
  assert.equal(
    invalidMessage(gvks.pod, pod({ containers: [container({ resources: { limits: { 'example.com/gpu': '500m' } } })] })),
    'Pod "web" is invalid: [spec.containers[0].resources.limits[example.com/gpu]: Invalid value: "500m": must be an integer, spec.containers[0].resources.requests[example.com/gpu]: Invalid value: "500m": must be an integer]',
  );
});

test('a mount must name a volume of the pod', () => {
  assert.equal(
    invalidMessage(gvks.pod, pod({ containers: [container({ volumeMounts: [{ name: 'data', mountPath: '/data' }] })] })),
    'Pod "web" is invalid: spec.containers[0].volumeMounts[0].name: Not found: "data"',
  );
});

test('volume names must be unique and the duplicate is not mountable', () => {
  assert.equal(
    invalidMessage(gvks.pod, pod({ containers: [container()], volumes: [{ name: 'data', emptyDir: {} }, { name: 'data', emptyDir: {} }] })),
    'Pod "web" is invalid: spec.volumes[1].name: Duplicate value: "data"',
  );
});

test('a volume with two sources is rejected', () => {
  assert.equal(
    invalidMessage(gvks.pod, pod({ containers: [container()], volumes: [{ name: 'v', emptyDir: {}, configMap: { name: 'c' } }] })),
    'Pod "web" is invalid: spec.volumes[0].configMap: Forbidden: may not specify more than 1 volume type',
  );
});

test('a secret volume needs a secret name', () => {
  assert.equal(invalidMessage(gvks.pod, pod({ containers: [container()], volumes: [{ name: 'v', secret: {} }] })), 'Pod "web" is invalid: spec.volumes[0].secret.secretName: Required value');
});

test('env vars may come from one source only', () => {
  const env = [{ name: 'A', value: 'x', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }];
  assert.equal(invalidMessage(gvks.pod, pod({ containers: [container({ env })] })), 'Pod "web" is invalid: spec.containers[0].env[0].valueFrom: Invalid value: "": may not be specified when `value` is not empty');
});

test('env names may not contain "="', () => {
  assert.equal(
    invalidMessage(gvks.pod, pod({ containers: [container({ env: [{ name: 'A=B', value: '1' }] })] })),
    `Pod "web" is invalid: spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='`,
  );
});

test('a downward API env var must use a supported field', () => {
  assert.equal(
    invalidMessage(gvks.pod, pod({ containers: [container({ env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'status.phase' } } }] })] })),
    'Pod "web" is invalid: spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "status.phase": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"',
  );
});

test('a liveness probe needs a handler and a success threshold of 1', () => {
  assert.equal(
    invalidMessage(gvks.pod, pod({ containers: [container({ livenessProbe: { successThreshold: 2 } })] })),
    'Pod "web" is invalid: [spec.containers[0].livenessProbe: Required value: must specify a handler type, spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1]',
  );
});

test('init containers may not have readiness probes', () => {
  assert.equal(
    invalidMessage(gvks.pod, pod({ containers: [container()], initContainers: [container({ name: 'init', readinessProbe: { exec: { command: ['true'] } } })] })),
    'Pod "web" is invalid: spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers',
  );
});

test('two containers may not claim the same host port', () => {
  assert.equal(
    invalidMessage(gvks.pod, pod({ containers: [container({ ports: [{ containerPort: 80, hostPort: 8080 }] }), container({ name: 'b', ports: [{ containerPort: 81, hostPort: 8080 }] })] })),
    'Pod "web" is invalid: spec.containers[1].ports[0].hostPort: Duplicate value: "/TCP/8080"',
  );
});

test('an image with surrounding whitespace is rejected for pods', () => {
  assert.equal(
    invalidMessage(gvks.pod, pod({ containers: [container({ image: ' nginx' })] })),
    'Pod "web" is invalid: spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace',
  );
});

test('a toleration without key must use Exists', () => {
  assert.equal(
    invalidMessage(gvks.pod, pod({ containers: [container()], tolerations: [{ operator: 'Equal', value: 'x' }] })),
    'Pod "web" is invalid: spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"',
  );
});

function existingPod(): KubeObject {
  const p = pod({ containers: [container()] });
  p.metadata = { ...p.metadata, uid: 'u1', resourceVersion: '7', creationTimestamp: '2024-01-01T00:00:00Z' };
  applyDefaults(gvks.pod, p);
  return p;
}

test('a pod image may be changed in place', () => {
  const old = existingPod();
  const next = structuredClone(old);
  (next['spec'] as { containers: { image: string }[] }).containers[0]!.image = 'nginx:1.28';
  assert.equal(invalidMessage(gvks.pod, next, old), undefined);
});

test('other pod spec changes are forbidden with Kubernetes message', () => {
  const old = existingPod();
  const next = structuredClone(old);
  (next['spec'] as { containers: Record<string, unknown>[] }).containers[0]!['command'] = ['sleep', '1'];
  const msg = invalidMessage(gvks.pod, next, old) ?? '';
  assert.ok(
    msg.startsWith(
      'Pod "web" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n',
    ),
    msg,
  );
  assert.match(msg, /containers\[0\]\.command/);
});

test('adding a container to a running pod is forbidden', () => {
  const old = existingPod();
  const next = structuredClone(old);
  (next['spec'] as { containers: unknown[] }).containers.push(container({ name: 'sidecar' }));
  assert.equal(invalidMessage(gvks.pod, next, old), 'Pod "web" is invalid: spec.containers: Forbidden: pod updates may not add or remove containers');
});

test('tolerations may be added to a pod but not changed', () => {
  const old = existingPod();
  const added = structuredClone(old);
  (added['spec'] as Record<string, unknown>)['tolerations'] = [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }];
  assert.equal(invalidMessage(gvks.pod, added, old), undefined);
});

/** A label-only update as a merge patch makes it: new top level and metadata, the old pod's very spec. */
function relabeled(old: KubeObject, labels: Record<string, string>): KubeObject {
  return { ...old, metadata: { ...old.metadata, labels: { ...old.metadata.labels, ...labels } } };
}

test('updates that keep the old spec object still check metadata, every time', () => {
  const old = existingPod();
  assert.equal(invalidMessage(gvks.pod, relabeled(old, { touched: 'one' }), old), undefined);
  // The second such update of the same spec skips its checks, but not the metadata's.
  assert.equal(
    invalidMessage(gvks.pod, relabeled(old, { touched: 'not a label value!' }), old),
    'Pod "web" is invalid: metadata.labels: Invalid value: "not a label value!": a valid label must be an empty string or consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character (e.g. \'MyValue\',  or \'my_value\',  or \'12345\', regex used for validation is \'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\')',
  );
  const renamed = relabeled(old, {});
  renamed.metadata = { ...renamed.metadata, uid: 'another' };
  assert.match(invalidMessage(gvks.pod, renamed, old) ?? '', /metadata\.uid: Invalid value: "another": field is immutable/);
});

test('a pod whose kept spec is invalid (stored before a rule existed) fails each update that keeps it', () => {
  const old = existingPod();
  (old['spec'] as { containers: { image?: string }[] }).containers[0]!.image = ' busybox ';
  const message = 'Pod "web" is invalid: spec.containers[0].image: Invalid value: " busybox ": must not have leading or trailing whitespace';
  assert.equal(invalidMessage(gvks.pod, relabeled(old, { touched: 'one' }), old), message);
  assert.equal(invalidMessage(gvks.pod, relabeled(old, { touched: 'two' }), old), message);
});

test('a spec that changes is checked in full after updates that kept it', () => {
  const old = existingPod();
  assert.equal(invalidMessage(gvks.pod, relabeled(old, { touched: 'one' }), old), undefined);
  const next = structuredClone(old);
  (next['spec'] as { containers: unknown[] }).containers.push(container({ name: 'sidecar' }));
  assert.equal(invalidMessage(gvks.pod, next, old), 'Pod "web" is invalid: spec.containers: Forbidden: pod updates may not add or remove containers');
});

test('an error found twice is named once in the message and kept twice in the causes, as Kubernetes does', () => {
  const old = existingPod();
  const next = relabeled(old, { touched: 'not a label value!' });
  const errs = validateObject(gvks.pod, next, old);
  const err = new InvalidError('Pod', '', 'web', errs);
  assert.equal(err.toStatus().details?.causes?.filter((c) => c.field === 'metadata.labels').length, 2);
  assert.equal(err.message.split('metadata.labels: Invalid value').length, 2);
});
