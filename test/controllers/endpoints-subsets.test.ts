// The Endpoints the endpoints controller computes for a Service and its pods.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { desiredSubsets, packSubsets, truncateSubsets } from '../../src/controllers/endpoints/subsets.js';
import { findPort, serviceSelector, type Pod, type Service } from '../../src/controllers/endpoints/pods.js';

function svc(spec: Record<string, unknown>, name = 'web'): Service {
  return { metadata: { name, namespace: 'ns' }, spec: { clusterIP: '10.0.0.10', selector: { app: 'web' }, ...spec } } as Service;
}

function pod(name: string, ip: string, opts: { ready?: boolean; ports?: { name?: string; containerPort: number; protocol?: string }[]; deleting?: boolean; phase?: string; node?: string; hostname?: string; subdomain?: string } = {}): Pod {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, labels: { app: 'web' }, ...(opts.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
    spec: { nodeName: opts.node ?? 'node-1', hostname: opts.hostname, subdomain: opts.subdomain, containers: [{ name: 'c', ports: opts.ports ?? [] }] },
    status: { phase: opts.phase ?? 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  } as Pod;
}

describe('endpoints of a service', () => {
  it('lists ready pods as addresses and unready ones as notReadyAddresses, with targetRef and nodeName', () => {
    const s = svc({ ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] });
    const { subsets, truncated } = desiredSubsets(s, [pod('b', '10.1.0.2'), pod('a', '10.1.0.1'), pod('c', '10.1.0.3', { ready: false })]);
    assert.equal(truncated, false);
    assert.deepEqual(subsets, [
      {
        addresses: [
          { ip: '10.1.0.1', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'a', uid: 'uid-a' } },
          { ip: '10.1.0.2', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'b', uid: 'uid-b' } },
        ],
        notReadyAddresses: [{ ip: '10.1.0.3', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'c', uid: 'uid-c' } }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ]);
  });

  it('resolves named target ports per pod, and leaves out pods without the port', () => {
    const s = svc({ ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }] });
    const a = pod('a', '10.1.0.1', { ports: [{ name: 'web', containerPort: 8080, protocol: 'TCP' }] });
    const b = pod('b', '10.1.0.2', { ports: [{ name: 'web', containerPort: 9090, protocol: 'TCP' }] });
    const c = pod('c', '10.1.0.3', { ports: [{ name: 'other', containerPort: 7070, protocol: 'TCP' }] });
    const udp = pod('d', '10.1.0.4', { ports: [{ name: 'web', containerPort: 5353, protocol: 'UDP' }] });
    const { subsets } = desiredSubsets(s, [a, b, c, udp]);
    assert.equal(subsets.length, 2);
    assert.deepEqual(
      subsets.map((x) => [x.addresses?.map((ad) => ad.ip), x.ports?.map((p) => p.port)]),
      [
        [['10.1.0.1'], [8080]],
        [['10.1.0.2'], [9090]],
      ],
    );
    assert.equal(findPort(c, { targetPort: 'web', protocol: 'TCP' }), undefined);
    assert.equal(findPort(a, { port: 80, targetPort: 8081 }), 8081);
  });

  it('publishNotReadyAddresses puts every pod, also terminating ones, among the ready addresses', () => {
    const s = svc({ publishNotReadyAddresses: true, ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }] });
    const { subsets } = desiredSubsets(s, [pod('a', '10.1.0.1', { ready: false }), pod('b', '10.1.0.2', { deleting: true })]);
    assert.deepEqual(
      subsets.map((x) => [x.addresses?.map((ad) => ad.ip), x.notReadyAddresses]),
      [[['10.1.0.1', '10.1.0.2'], undefined]],
    );
  });

  it('leaves out terminating, finished and address-less pods', () => {
    const s = svc({ ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }] });
    const noIp = pod('d', '');
    const { subsets } = desiredSubsets(s, [pod('a', '10.1.0.1', { deleting: true }), pod('b', '10.1.0.2', { phase: 'Succeeded' }), pod('c', '10.1.0.3', { phase: 'Failed' }), noIp]);
    assert.deepEqual(subsets, []);
  });

  it('sets the hostname of pods whose subdomain is the service', () => {
    const s = svc({ clusterIP: 'None', ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }] });
    const { subsets } = desiredSubsets(s, [pod('a', '10.1.0.1', { hostname: 'a-0', subdomain: 'web' }), pod('b', '10.1.0.2', { hostname: 'b-0', subdomain: 'other' })]);
    assert.deepEqual(
      subsets[0]!.addresses!.map((ad) => ad.hostname),
      ['a-0', undefined],
    );
  });

  it('gives a headless service without ports port-less subsets, and a service with ports but no pod port none', () => {
    const headless = svc({ clusterIP: 'None' });
    assert.deepEqual(desiredSubsets(headless, [pod('a', '10.1.0.1')]).subsets, [
      { addresses: [{ ip: '10.1.0.1', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'a', uid: 'uid-a' } }] },
    ]);
    assert.deepEqual(desiredSubsets(svc({}), [pod('a', '10.1.0.1')]).subsets, []);
  });

  it('groups ports by the addresses that offer them', () => {
    const s = svc({
      ports: [
        { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
        { name: 'metrics', port: 9000, targetPort: 9000, protocol: 'TCP' },
      ],
    });
    const a = pod('a', '10.1.0.1', { ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] });
    const b = pod('b', '10.1.0.2', { ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] });
    const c = pod('c', '10.1.0.3');
    assert.deepEqual(packSubsets([]), []);
    const { subsets } = desiredSubsets(s, [a, b, c]);
    assert.deepEqual(
      subsets.map((x) => [x.addresses?.map((ad) => ad.ip), x.ports?.map((p) => `${p.name}:${p.port}`)]),
      [
        [['10.1.0.1', '10.1.0.2'], ['http:8080']],
        [['10.1.0.1', '10.1.0.2', '10.1.0.3'], ['metrics:9000']],
      ],
    );
  });

  it('truncates past 1000 addresses, ready ones first', () => {
    const ready = Array.from({ length: 900 }, (_, i) => ({ ip: `10.2.${Math.floor(i / 250)}.${i % 250}` }));
    const notReady = Array.from({ length: 300 }, (_, i) => ({ ip: `10.3.${Math.floor(i / 250)}.${i % 250}` }));
    const { subsets, truncated } = truncateSubsets([{ addresses: ready, notReadyAddresses: notReady, ports: [{ port: 80, protocol: 'TCP' }] }]);
    assert.equal(truncated, true);
    assert.equal(subsets[0]!.addresses!.length, 900);
    assert.equal(subsets[0]!.notReadyAddresses!.length, 100);
  });

  it('computes nothing for services without a selector, ExternalName services and the kubernetes Service', () => {
    assert.equal(serviceSelector(svc({ selector: undefined })), undefined);
    assert.equal(serviceSelector(svc({ selector: {} })), undefined);
    assert.equal(serviceSelector(svc({ type: 'ExternalName', externalName: 'example.com' })), undefined);
    assert.equal(serviceSelector({ metadata: { name: 'kubernetes', namespace: 'default' }, spec: { selector: { a: 'b' } } } as Service), undefined);
    assert.ok(serviceSelector(svc({}))?.matches({ app: 'web' }));
  });
});
