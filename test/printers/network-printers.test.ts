import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/object.js';
import { tableFor } from '../../src/apiserver/printers/index.js';
import { now, object } from './fixtures.js';

function cells(group: string, kind: string, obj: KubeObject): unknown[] {
  return tableFor({ group, kind }, [obj], now).rows[0]?.cells ?? [];
}

function service(name: string, spec: Record<string, unknown>, status: Record<string, unknown> = {}): KubeObject {
  return object('Service', name, { spec, status });
}

test('the service table has NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE and a wide SELECTOR', () => {
  const defs = tableFor({ group: '', kind: 'Service' }, [], now).columnDefinitions;
  assert.deepEqual(defs.map((c) => [c.name, c.priority]), [
    ['Name', 0], ['Type', 0], ['Cluster-IP', 0], ['External-IP', 0], ['Port(s)', 0], ['Age', 0], ['Selector', 1],
  ]);
});

test('a cluster IP service shows <none> as external IP and port/protocol pairs', () => {
  const svc = service('web', {
    type: 'ClusterIP',
    clusterIP: '10.96.0.10',
    clusterIPs: ['10.96.0.10'],
    ports: [{ port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }],
    selector: { app: 'web' },
  });
  assert.deepEqual(cells('', 'Service', svc), ['web', 'ClusterIP', '10.96.0.10', '<none>', '80/TCP,53/UDP', '10m', 'app=web']);
});

test('a node port service shows port:nodePort/protocol', () => {
  const svc = service('np', { type: 'NodePort', clusterIP: '10.96.1.1', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }] });
  assert.deepEqual(cells('', 'Service', svc).slice(1, 5), ['NodePort', '10.96.1.1', '<none>', '80:30080/TCP']);
});

test('external IPs of a cluster IP service are listed', () => {
  const svc = service('ext', { type: 'ClusterIP', clusterIP: '10.96.1.2', externalIPs: ['192.0.2.1', '192.0.2.2'], ports: [] });
  assert.deepEqual(cells('', 'Service', svc).slice(3, 5), ['192.0.2.1,192.0.2.2', '<none>']);
});

// Cases of Kubernetes' TestPrintServiceLoadBalancer (server-side printing is always wide, so nothing is clipped).
test('a load balancer shows its ingress addresses sorted, or <pending> without them', () => {
  const lb = service('service1', { type: 'LoadBalancer', clusterIPs: ['1.2.3.4'], ports: [{ port: 80, protocol: 'TCP' }] }, {
    loadBalancer: { ingress: [{ ip: '3.4.5.6' }, { ip: '2.3.4.5' }] },
  });
  assert.deepEqual(cells('', 'Service', lb).slice(1, 5), ['LoadBalancer', '1.2.3.4', '2.3.4.5,3.4.5.6', '80/TCP']);

  const pending = service('service2', {
    type: 'LoadBalancer',
    clusterIPs: ['1.3.4.5'],
    ports: [{ port: 80, protocol: 'TCP' }, { port: 8090, protocol: 'UDP' }, { port: 8000, protocol: 'TCP' }, { port: 7777, protocol: 'SCTP' }],
  });
  assert.deepEqual(cells('', 'Service', pending).slice(3, 5), ['<pending>', '80/TCP,8090/UDP,8000/TCP,7777/SCTP']);

  const long = service('service4', { type: 'LoadBalancer', clusterIPs: ['1.5.6.7'], ports: [{ port: 80, protocol: 'TCP' }], selector: { foo: 'bar' } }, {
    loadBalancer: { ingress: [{ ip: '2.3.4.5' }, { ip: '3.4.5.6' }, { ip: '5.6.7.8', hostname: 'host5678' }] },
  });
  assert.deepEqual(cells('', 'Service', long).slice(3), ['2.3.4.5,3.4.5.6,5.6.7.8', '80/TCP', '10m', 'foo=bar']);

  const named = service('lbhost', { type: 'LoadBalancer', clusterIP: '10.0.0.9', externalIPs: ['192.0.2.9'], ports: [] }, {
    loadBalancer: { ingress: [{ hostname: 'lb.example.com' }] },
  });
  assert.equal(cells('', 'Service', named)[3], 'lb.example.com,192.0.2.9');
});

test('external name and headless services show what Kubernetes shows', () => {
  const ext = service('db', { type: 'ExternalName', externalName: 'db.example.com' });
  assert.deepEqual(cells('', 'Service', ext).slice(1, 5), ['ExternalName', '<none>', 'db.example.com', '<none>']);
  const headless = service('peers', { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 5432, protocol: 'TCP' }] });
  assert.deepEqual(cells('', 'Service', headless).slice(2, 4), ['None', '<none>']);
});

test('endpoints list the first three ip:port pairs then how many more', () => {
  const ep = object('Endpoints', 'web', {
    subsets: [
      { addresses: [{ ip: '10.1.0.1' }, { ip: '10.1.0.2' }], ports: [{ port: 80 }, { port: 443 }] },
      { addresses: [{ ip: 'fd00::1' }], ports: [{ port: 8080 }] },
    ],
  });
  assert.deepEqual(cells('', 'Endpoints', ep), ['web', '10.1.0.1:80,10.1.0.2:80,10.1.0.1:443 + 2 more...', '10m']);
  const v6 = object('Endpoints', 'v6', { subsets: [{ addresses: [{ ip: 'fd00::1' }], ports: [{ port: 8080 }] }] });
  assert.equal(cells('', 'Endpoints', v6)[1], '[fd00::1]:8080');
  const headless = object('Endpoints', 'h', { subsets: [{ addresses: [{ ip: '10.1.0.5' }] }] });
  assert.equal(cells('', 'Endpoints', headless)[1], '10.1.0.5');
  assert.equal(cells('', 'Endpoints', object('Endpoints', 'none'))[1], '<none>');
});

test('endpoint slices show address type, ports and addresses', () => {
  const slice = object('EndpointSlice', 'web-abc', {
    addressType: 'IPv4',
    ports: [{ port: 80, name: 'http' }, { name: 'named' }, {}],
    endpoints: [{ addresses: ['10.1.0.1'] }, { addresses: ['10.1.0.2', '10.1.0.3'] }, { addresses: ['10.1.0.4'] }],
  });
  assert.deepEqual(cells('discovery.k8s.io', 'EndpointSlice', slice), ['web-abc', 'IPv4', '80,named,*', '10.1.0.1,10.1.0.2,10.1.0.3 + 1 more...', '10m']);
  const empty = object('EndpointSlice', 'empty', { addressType: 'IPv6', endpoints: [] });
  assert.deepEqual(cells('discovery.k8s.io', 'EndpointSlice', empty).slice(2, 4), ['<unset>', '<unset>']);
});

test('an ingress shows class, hosts, address and the ports TLS opens', () => {
  const ing = object('Ingress', 'site', {
    spec: { ingressClassName: 'web', rules: [{ host: 'a.example.com' }, { host: 'b.example.com' }], tls: [{ hosts: ['a.example.com'] }] },
    status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } },
  });
  assert.deepEqual(cells('networking.k8s.io', 'Ingress', ing), ['site', 'web', 'a.example.com,b.example.com', '192.0.2.10', '80, 443', '10m']);
  const catchAll = object('Ingress', 'any', { spec: { rules: [{ http: {} }] } });
  assert.deepEqual(cells('networking.k8s.io', 'Ingress', catchAll).slice(1, 5), ['<none>', '*', '', '80']);
  const many = object('Ingress', 'many', { spec: { rules: ['a', 'b', 'c', 'd', 'e'].map((h) => ({ host: `${h}.io` })) } });
  assert.equal(cells('networking.k8s.io', 'Ingress', many)[2], 'a.io,b.io,c.io + 2 more...');
});

// Cases of Kubernetes' TestPrintIngressClass.
test('an ingress class shows its controller and parameters reference', () => {
  const withGroup = object('IngressClass', 'test1', {
    spec: { controller: 'example.com/controller', parameters: { apiGroup: 'example.com', kind: 'customgroup', name: 'example' } },
  });
  assert.deepEqual(cells('networking.k8s.io', 'IngressClass', withGroup), ['test1', 'example.com/controller', 'customgroup.example.com/example', '10m']);
  const noGroup = object('IngressClass', 'test1', { spec: { controller: 'example.com/controller', parameters: { kind: 'customgroup', name: 'example' } } });
  assert.equal(cells('networking.k8s.io', 'IngressClass', noGroup)[2], 'customgroup/example');
  const none = object('IngressClass', 'test2', { spec: { controller: 'example.com/controller2' } });
  assert.equal(cells('networking.k8s.io', 'IngressClass', none)[2], '<none>');
});

test('a network policy shows its pod selector, <none> when it selects every pod', () => {
  const np = object('NetworkPolicy', 'deny', { spec: { podSelector: { matchLabels: { app: 'db' } } } });
  assert.deepEqual(cells('networking.k8s.io', 'NetworkPolicy', np), ['deny', 'app=db', '10m']);
  const all = object('NetworkPolicy', 'all', { spec: { podSelector: {} } });
  assert.equal(cells('networking.k8s.io', 'NetworkPolicy', all)[1], '<none>');
});
