import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateObject, validateObjectMetaUpdate } from '../../src/api/validation/index.js';
import { formatFieldError } from '../../src/api/errors.js';
import { gvks, invalidMessage } from './kubectl-messages.js';

const subdomainRule =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

test('an uppercase name is rejected with the RFC 1123 subdomain rule', () => {
  assert.equal(
    invalidMessage(gvks.configMap, { metadata: { name: 'My_Config', namespace: 'default' } }),
    `ConfigMap "My_Config" is invalid: metadata.name: Invalid value: "My_Config": ${subdomainRule}`,
  );
});

test('a missing name asks for name or generateName', () => {
  assert.equal(invalidMessage(gvks.configMap, { metadata: { namespace: 'default' } }), 'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required');
});

test('generateName may end with a dash', () => {
  assert.deepEqual(validateObject(gvks.configMap, { metadata: { name: 'web-x7k2p', generateName: 'web-', namespace: 'default' } }), []);
});

test('namespace names are RFC 1123 labels', () => {
  assert.equal(
    invalidMessage(gvks.namespace, { metadata: { name: 'team.a' } }),
    'Namespace "team.a" is invalid: metadata.name: Invalid value: "team.a": must not contain dots',
  );
  assert.equal(
    invalidMessage(gvks.namespace, { metadata: { name: 'Team' } }),
    `Namespace "Team" is invalid: metadata.name: Invalid value: "Team": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
  );
});

test('service names are DNS-1035 labels and must start with a letter', () => {
  const msg = invalidMessage(gvks.service, { metadata: { name: '1web', namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
  assert.equal(
    msg,
    `Service "1web" is invalid: metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
  );
});

test('a namespaced object needs a namespace, a cluster object must not have one', () => {
  const errs = validateObject(gvks.configMap, { metadata: { name: 'c' } });
  assert.deepEqual(errs.map(formatFieldError), ['metadata.namespace: Required value']);
  const nsErrs = validateObject({ group: 'storage.k8s.io', version: 'v1', kind: 'StorageClass' }, { metadata: { name: 'sc', namespace: 'x' }, provisioner: 'a.b/c' });
  assert.deepEqual(nsErrs.map(formatFieldError), ['metadata.namespace: Forbidden: not allowed on this type']);
});

test('bad label keys and values are reported under metadata.labels', () => {
  const errs = validateObject(gvks.configMap, { metadata: { name: 'c', namespace: 'd', labels: { 'app/x/y': 'ok', tier: 'front end' } } });
  assert.deepEqual(errs.map(formatFieldError), [
    `metadata.labels: Invalid value: "app/x/y": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    `metadata.labels: Invalid value: "front end": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
  ]);
});

test('a label value longer than 63 characters is too long', () => {
  const errs = validateObject(gvks.configMap, { metadata: { name: 'c', namespace: 'd', labels: { a: 'x'.repeat(64) } } });
  assert.equal(formatFieldError(errs[0]!), `metadata.labels: Invalid value: "${'x'.repeat(64)}": must be no more than 63 characters`);
});

test('annotations over 256 KiB in total are too long', () => {
  const errs = validateObject(gvks.configMap, { metadata: { name: 'c', namespace: 'd', annotations: { big: 'x'.repeat(262145) } } });
  assert.deepEqual(errs.map(formatFieldError), ['metadata.annotations: Too long: may not be more than 262144 bytes']);
});

test('two controller owner references are rejected', () => {
  const owner = (name: string) => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name, uid: name, controller: true });
  const errs = validateObject(gvks.configMap, { metadata: { name: 'c', namespace: 'd', ownerReferences: [owner('a'), owner('b')] } });
  assert.equal(errs.length, 1);
  assert.equal(errs[0]?.detail, 'Only one reference can have Controller set to true. Found "true" in references for ReplicaSet/a and ReplicaSet/b');
});

test('updates may not rename, move or re-identify an object, and need a resourceVersion', () => {
  const old = { name: 'a', namespace: 'd', uid: 'u1', resourceVersion: '5', creationTimestamp: '2024-01-01T00:00:00Z' };
  assert.deepEqual(validateObjectMetaUpdate({ ...old, resourceVersion: '5' }, old), []);
  const errs = validateObjectMetaUpdate({ name: 'a', namespace: 'd', uid: 'u2', creationTimestamp: '2024-01-01T00:00:00Z' }, old);
  assert.deepEqual(errs.map(formatFieldError), ['metadata.resourceVersion: Invalid value: "": must be specified for an update', 'metadata.uid: Invalid value: "u2": field is immutable']);
});

test('no finalizer may be added to an object being deleted', () => {
  const old = { name: 'a', resourceVersion: '1', deletionTimestamp: '2024-01-01T00:00:00Z', finalizers: ['a.io/x'] };
  const errs = validateObjectMetaUpdate({ ...old, finalizers: ['a.io/x', 'b.io/y'] }, old);
  assert.deepEqual(errs.map(formatFieldError), ['metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"b.io/y"}']);
});

test('custom resources get metadata validation with the scope they are given', () => {
  const gvk = { group: 'example.com', version: 'v1', kind: 'Widget' };
  assert.deepEqual(validateObject(gvk, { metadata: { name: 'w' } }, undefined, { namespaced: true }).map(formatFieldError), ['metadata.namespace: Required value']);
  assert.deepEqual(validateObject(gvk, { metadata: { name: 'w', namespace: 'd' } }, undefined, { namespaced: true }), []);
});
