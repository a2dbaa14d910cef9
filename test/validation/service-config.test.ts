import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults } from '../../src/api/defaults/index.js';
import type { KubeObject } from '../../src/api/object.js';
import { gvks, invalidMessage } from './kubectl-messages.js';

function service(spec: Record<string, unknown>): KubeObject {
  return { metadata: { name: 'web', namespace: 'default' }, spec };
}

test('a ClusterIP service with a port passes', () => {
  assert.equal(invalidMessage(gvks.service, service({ selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] })), undefined);
});

test('a service needs ports unless it is headless', () => {
  assert.equal(invalidMessage(gvks.service, service({ selector: { app: 'web' } })), 'Service "web" is invalid: spec.ports: Required value');
  assert.equal(invalidMessage(gvks.service, service({ clusterIP: 'None', selector: { app: 'web' } })), undefined);
});

test('service ports must be in range and named when there are several', () => {
  assert.equal(
    invalidMessage(gvks.service, service({ ports: [{ port: 0 }, { port: 443, name: 'https' }] })),
    'Service "web" is invalid: [spec.ports[0].name: Required value, spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive, spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive]',
  );
});

test('an unknown service type lists the supported ones', () => {
  assert.equal(
    invalidMessage(gvks.service, service({ type: 'Internal', ports: [{ port: 80 }] })),
    'Service "web" is invalid: spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
  );
});

test('ClusterIP services may not set node ports', () => {
  assert.equal(
    invalidMessage(gvks.service, service({ ports: [{ port: 80, nodePort: 30080 }] })),
    "Service \"web\" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
  );
});

test('the cluster IP of an existing service may not change', () => {
  const old = service({ clusterIP: '10.96.0.10', ports: [{ port: 80 }] });
  old.metadata = { ...old.metadata, uid: 'u', resourceVersion: '2' };
  applyDefaults(gvks.service, old);
  const next = structuredClone(old);
  const spec = next['spec'] as Record<string, unknown>;
  spec['clusterIP'] = '10.96.0.11';
  spec['clusterIPs'] = ['10.96.0.11'];
  assert.equal(invalidMessage(gvks.service, next, old), 'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: ["10.96.0.11"]: may not change once set');
});

test('an ExternalName service needs a DNS name', () => {
  assert.equal(invalidMessage(gvks.service, service({ type: 'ExternalName' })), 'Service "web" is invalid: spec.externalName: Required value');
  assert.equal(invalidMessage(gvks.service, service({ type: 'ExternalName', externalName: 'db.example.com.' })), undefined);
});

test('config map keys must be valid file names', () => {
  assert.equal(
    invalidMessage(gvks.configMap, { metadata: { name: 'c', namespace: 'd' }, data: { 'my key': 'v' } }),
    `ConfigMap "c" is invalid: data[my key]: Invalid value: "my key": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
  );
});

test('config maps larger than 1 MiB are rejected as a whole', () => {
  assert.equal(
    invalidMessage(gvks.configMap, { metadata: { name: 'c', namespace: 'd' }, data: { big: 'x'.repeat(1024 * 1024 + 1) } }),
    'ConfigMap "c" is invalid: []: Too long: may not be more than 1048576 bytes',
  );
});

test('an immutable config map keeps its data', () => {
  const old: KubeObject = { metadata: { name: 'c', namespace: 'd', resourceVersion: '1' }, immutable: true, data: { a: '1' } };
  const next: KubeObject = { metadata: { name: 'c', namespace: 'd', resourceVersion: '1' }, immutable: true, data: { a: '2' } };
  assert.equal(invalidMessage(gvks.configMap, next, old), 'ConfigMap "c" is invalid: data: Forbidden: field is immutable when `immutable` is set');
});

test('a TLS secret needs a certificate and a key', () => {
  assert.equal(
    invalidMessage(gvks.secret, { metadata: { name: 's', namespace: 'd' }, type: 'kubernetes.io/tls', data: {} }),
    'Secret "s" is invalid: [data[tls.crt]: Required value, data[tls.key]: Required value]',
  );
});

test('a docker config secret must hold a JSON object, and the error quotes nothing of the secret', () => {
  const secret = (text: string): KubeObject => ({ metadata: { name: 's', namespace: 'd' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(text).toString('base64') } });
  const message = invalidMessage(gvks.secret, secret('hunter2-notjson'));
  assert.equal(message, `Secret "s" is invalid: data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": invalid character 'h' looking for beginning of value`);
  assert.doesNotMatch(message ?? '', /hunter2/);
  assert.match(invalidMessage(gvks.secret, secret('"auths"')) ?? '', /json: cannot unmarshal string into Go value of type map\[string\]interface \{\}$/);
  assert.equal(invalidMessage(gvks.secret, secret('{"auths":{}}')), undefined);
});

test('a secret type cannot change', () => {
  const old: KubeObject = { metadata: { name: 's', namespace: 'd', resourceVersion: '1' }, type: 'Opaque', data: {} };
  const next: KubeObject = { metadata: { name: 's', namespace: 'd', resourceVersion: '1' }, type: 'kubernetes.io/basic-auth', data: { username: 'YQ==' } };
  assert.equal(invalidMessage(gvks.secret, next, old), 'Secret "s" is invalid: type: Invalid value: "kubernetes.io/basic-auth": field is immutable');
});

test('a claim needs an access mode and a storage request', () => {
  assert.equal(
    invalidMessage(gvks.pvc, { metadata: { name: 'c', namespace: 'd' }, spec: {} }),
    'PersistentVolumeClaim "c" is invalid: [spec.accessModes: Required value: at least 1 access mode is required, spec.resources[storage]: Required value]',
  );
});
