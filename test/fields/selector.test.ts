import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BadRequestError } from '../../src/api/errors.js';
import { convertFieldSelector, fieldsOf, parseFieldSelector } from '../../src/api/fields/index.js';
import type { KubeObject } from '../../src/api/object.js';

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof BadRequestError);
    return e.message;
  }
  assert.fail('expected a BadRequest');
}

test('=, == and != select on field values, missing fields reading as empty', () => {
  const s = parseFieldSelector('status.phase=Running,spec.nodeName!=,metadata.name==web');
  assert.equal(s.matches({ 'status.phase': 'Running', 'spec.nodeName': 'n1', 'metadata.name': 'web' }), true);
  assert.equal(s.matches({ 'status.phase': 'Running', 'metadata.name': 'web' }), false, 'unscheduled pods have spec.nodeName=""');
  assert.equal(s.toString(), 'metadata.name=web,spec.nodeName!=,status.phase=Running');
});

test('escaped commas and equals signs are part of the value', () => {
  const s = parseFieldSelector('metadata.name=a\\,b\\=c\\\\d');
  assert.equal(s.requirements[0]?.value, 'a,b=c\\d');
  assert.equal(s.toString(), 'metadata.name=a\\,b\\=c\\\\d');
});

test('a term without an operator is rejected with kube-apiserver message', () => {
  assert.equal(errorOf(() => parseFieldSelector('status.phase')), "invalid selector: 'status.phase'; can't understand 'status.phase'");
});

test('an unknown escape sequence is rejected', () => {
  assert.equal(errorOf(() => parseFieldSelector('a=b\\c')), 'invalid field selector: invalid escape sequence: \\c');
});

test('an unescaped equals sign in a value is rejected with its code point, as Go prints it', () => {
  assert.equal(errorOf(() => parseFieldSelector('a=b=c')), 'invalid field selector: unescaped character in value: 61');
});

test('pods can be selected by node, phase and the other fields kubelet and kubectl use', () => {
  const pod: KubeObject = {
    metadata: { name: 'web-1', namespace: 'default' },
    spec: { nodeName: 'node-a', restartPolicy: 'Always', schedulerName: 'default-scheduler', serviceAccountName: 'default', hostNetwork: true },
    status: { phase: 'Running', podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }] },
  };
  assert.deepEqual(fieldsOf('', 'Pod', pod), {
    'spec.nodeName': 'node-a',
    'spec.restartPolicy': 'Always',
    'spec.schedulerName': 'default-scheduler',
    'spec.serviceAccountName': 'default',
    'spec.hostNetwork': 'true',
    'status.phase': 'Running',
    'status.podIP': '10.0.0.5',
    'status.nominatedNodeName': '',
    'metadata.name': 'web-1',
    'metadata.namespace': 'default',
  });
});

test('cluster-scoped objects have no metadata.namespace field', () => {
  const fields = fieldsOf('', 'Node', { metadata: { name: 'n1' }, spec: { unschedulable: true } });
  assert.deepEqual(fields, { 'spec.unschedulable': 'true', 'metadata.name': 'n1' });
});

test('events select by involved object, reason and source', () => {
  const ev: KubeObject = {
    metadata: { name: 'e', namespace: 'ns' },
    involvedObject: { kind: 'Pod', name: 'web', namespace: 'ns', uid: 'u1' },
    reason: 'Scheduled',
    source: { component: 'default-scheduler' },
    type: 'Normal',
  };
  const fields = fieldsOf('', 'Event', ev);
  assert.equal(fields['involvedObject.name'], 'web');
  assert.equal(fields['source'], 'default-scheduler');
  assert.equal(parseFieldSelector('involvedObject.kind=Pod,type=Normal').matches(fields), true);
});

test('events.k8s.io Events select by their own names for the same fields, and not by the core ones', () => {
  const ev: KubeObject = {
    metadata: { name: 'e', namespace: 'ns' },
    regarding: { kind: 'Pod', name: 'web', namespace: 'ns' },
    reason: 'Scheduled',
    reportingController: 'default-scheduler',
    type: 'Normal',
  };
  const fields = fieldsOf('events.k8s.io', 'Event', ev);
  const select = (s: string) => convertFieldSelector('events.k8s.io', 'Event', parseFieldSelector(s));
  assert.equal(select('regarding.kind=Pod,regarding.name=web').toString(), 'involvedObject.kind=Pod,involvedObject.name=web');
  assert.equal(select('regarding.kind=Pod,reason=Scheduled,type=Normal,reportingController=default-scheduler').matches(fields), true);
  assert.equal(select('regarding.name=db').matches(fields), false);
  assert.equal(errorOf(() => select('involvedObject.kind=Pod')), 'field label not supported: involvedObject.kind');
  assert.equal(errorOf(() => select('source=x')), 'field label not supported: source');
});

test('jobs select by the number of succeeded pods and secrets by type', () => {
  assert.equal(fieldsOf('batch', 'Job', { metadata: { name: 'j' }, status: { succeeded: 2 } })['status.successful'], '2');
  assert.equal(fieldsOf('', 'Secret', { metadata: { name: 's' }, type: 'kubernetes.io/tls' })['type'], 'kubernetes.io/tls');
});

test('an unsupported pod field is a 400 "field label not supported"', () => {
  assert.equal(errorOf(() => convertFieldSelector('', 'Pod', parseFieldSelector('spec.foo=bar'))), 'field label not supported: spec.foo');
});

test('spec.host is still accepted for pods and means spec.nodeName', () => {
  assert.equal(convertFieldSelector('', 'Pod', parseFieldSelector('spec.host=n1')).toString(), 'spec.nodeName=n1');
});

test('kinds without their own fields only accept metadata fields', () => {
  assert.equal(convertFieldSelector('', 'ConfigMap', parseFieldSelector('metadata.name=a')).toString(), 'metadata.name=a');
  assert.equal(
    errorOf(() => convertFieldSelector('apps', 'Deployment', parseFieldSelector('spec.replicas=1'))),
    '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"',
  );
});

test('services select by cluster IP and type', () => {
  assert.equal(convertFieldSelector('', 'Service', parseFieldSelector('spec.clusterIP=None')).toString(), 'spec.clusterIP=None');
  assert.equal(fieldsOf('', 'Service', { metadata: { name: 's', namespace: 'd' }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.1' } })['spec.type'], 'ClusterIP');
});

test('custom resources select by the CRD selectable fields', () => {
  const options = { selectableFields: ['.spec.color'] };
  assert.equal(fieldsOf('example.com', 'Widget', { metadata: { name: 'w', namespace: 'd' }, spec: { color: 'red' } }, options)['spec.color'], 'red');
  assert.equal(convertFieldSelector('example.com', 'Widget', parseFieldSelector('spec.color=red'), options).toString(), 'spec.color=red');
  assert.equal(errorOf(() => convertFieldSelector('example.com', 'Widget', parseFieldSelector('spec.size=1'), options)), 'field label not supported: spec.size');
});
