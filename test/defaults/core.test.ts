import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults, prepareNamespaceForCreate } from '../../src/api/defaults/index.js';
import type { KubeObject } from '../../src/api/object.js';

const core = (kind: string) => ({ group: '', version: 'v1', kind });

test('a service defaults to ClusterIP, no affinity, TCP ports targeting the same port, single-stack IPv4', () => {
  const svc: KubeObject = { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }, { port: 443, targetPort: 'https' }] } };
  applyDefaults(core('Service'), svc);
  assert.deepEqual(svc.spec, {
    selector: { app: 'web' },
    ports: [
      { port: 80, protocol: 'TCP', targetPort: 80 },
      { port: 443, targetPort: 'https', protocol: 'TCP' },
    ],
    sessionAffinity: 'None',
    type: 'ClusterIP',
    internalTrafficPolicy: 'Cluster',
    ipFamilyPolicy: 'SingleStack',
    ipFamilies: ['IPv4'],
  });
  assert.deepEqual(svc['status'], { loadBalancer: {} });
});

test('NodePort and LoadBalancer services get an external traffic policy; load balancers allocate node ports', () => {
  const svc: KubeObject = { metadata: { name: 'lb' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } };
  applyDefaults(core('Service'), svc);
  const spec = svc.spec as Record<string, unknown>;
  assert.equal(spec['externalTrafficPolicy'], 'Cluster');
  assert.equal(spec['allocateLoadBalancerNodePorts'], true);
});

test('ClientIP affinity gets the three-hour timeout', () => {
  const svc: KubeObject = { metadata: { name: 's' }, spec: { sessionAffinity: 'ClientIP', ports: [{ port: 80 }] } };
  applyDefaults(core('Service'), svc);
  assert.deepEqual((svc.spec as Record<string, unknown>)['sessionAffinityConfig'], { clientIP: { timeoutSeconds: 10800 } });
});

test('ExternalName services get no IP family fields', () => {
  const svc: KubeObject = { metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.com' } };
  applyDefaults(core('Service'), svc);
  const spec = svc.spec as Record<string, unknown>;
  assert.equal(spec['ipFamilies'], undefined);
  assert.equal(spec['ipFamilyPolicy'], undefined);
});

test('a secret is Opaque and stringData is folded into base64 data', () => {
  const secret: KubeObject = { metadata: { name: 's' }, data: { a: 'eA==' }, stringData: { password: 'hunter2' } };
  applyDefaults(core('Secret'), secret);
  assert.equal(secret['type'], 'Opaque');
  assert.deepEqual(secret['data'], { a: 'eA==', password: 'aHVudGVyMg==' });
  assert.equal(secret['stringData'], undefined);
});

test('a namespace carries its name label, and on create the kubernetes finalizer and phase Active', () => {
  const ns: KubeObject = { metadata: { name: 'team-a' } };
  applyDefaults(core('Namespace'), ns);
  assert.deepEqual(ns.metadata.labels, { 'kubernetes.io/metadata.name': 'team-a' });
  prepareNamespaceForCreate(ns as unknown as Record<string, unknown>);
  assert.deepEqual(ns['spec'], { finalizers: ['kubernetes'] });
  assert.deepEqual(ns['status'], { phase: 'Active' });
});

test('claims and volumes default to Filesystem mode, volumes to Retain', () => {
  const pvc: KubeObject = { metadata: { name: 'c' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1000Mi' } } } };
  applyDefaults(core('PersistentVolumeClaim'), pvc);
  assert.equal((pvc.spec as Record<string, unknown>)['volumeMode'], 'Filesystem');
  assert.deepEqual(pvc['status'], { phase: 'Pending' });
  const pv: KubeObject = { metadata: { name: 'v' }, spec: { capacity: { storage: '1024Mi' }, hostPath: { path: '/data' } } };
  applyDefaults(core('PersistentVolume'), pv);
  assert.deepEqual(pv.spec, { capacity: { storage: '1Gi' }, hostPath: { path: '/data', type: '' }, persistentVolumeReclaimPolicy: 'Retain', volumeMode: 'Filesystem' });
});

test('container limit ranges default limits to max and requests to limits', () => {
  const lr: KubeObject = { metadata: { name: 'l' }, spec: { limits: [{ type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' } }] } };
  applyDefaults(core('LimitRange'), lr);
  assert.deepEqual((lr.spec as { limits: unknown[] }).limits[0], {
    type: 'Container',
    max: { cpu: '2' },
    min: { memory: '64Mi' },
    default: { cpu: '2' },
    defaultRequest: { cpu: '2', memory: '64Mi' },
  });
});

test('cluster objects of other groups get their defaults', () => {
  const sc: KubeObject = { metadata: { name: 'local' }, provisioner: 'example.com/local' };
  applyDefaults({ group: 'storage.k8s.io', version: 'v1', kind: 'StorageClass' }, sc);
  assert.equal(sc['reclaimPolicy'], 'Delete');
  assert.equal(sc['volumeBindingMode'], 'Immediate');
  const pc: KubeObject = { metadata: { name: 'high' }, value: 1000 };
  applyDefaults({ group: 'scheduling.k8s.io', version: 'v1', kind: 'PriorityClass' }, pc);
  assert.equal(pc['preemptionPolicy'], 'PreemptLowerPriority');
  const np: KubeObject = { metadata: { name: 'n' }, spec: { podSelector: {}, egress: [{ ports: [{ port: 53 }] }] } };
  applyDefaults({ group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' }, np);
  assert.deepEqual((np.spec as Record<string, unknown>)['policyTypes'], ['Ingress', 'Egress']);
  const rb: KubeObject = { metadata: { name: 'rb' }, roleRef: { kind: 'Role', name: 'r' }, subjects: [{ kind: 'User', name: 'alice' }, { kind: 'ServiceAccount', name: 'default', namespace: 'x' }] };
  applyDefaults({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding' }, rb);
  assert.deepEqual(rb['roleRef'], { kind: 'Role', name: 'r', apiGroup: 'rbac.authorization.k8s.io' });
  assert.deepEqual(rb['subjects'], [
    { kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' },
    { kind: 'ServiceAccount', name: 'default', namespace: 'x' }, // apiGroup "" is left out, as Go's omitempty writes it
  ]);
});

test('kinds without defaults are left untouched', () => {
  const cm: KubeObject = { metadata: { name: 'c' }, data: { a: 'b' } };
  applyDefaults(core('ConfigMap'), cm);
  assert.deepEqual(cm, { metadata: { name: 'c' }, data: { a: 'b' } });
});
