// The EndpointSlices the endpointslice controller wants for a Service, and the
// writes it plans from the slices that exist.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod, Service } from '../../src/controllers/endpoints/pods.js';
import { desiredEndpointGroups, planSlices, type SliceEndpoint, type SlicePort, type SliceState } from '../../src/controllers/endpointslice/slices.js';

function svc(spec: Record<string, unknown> = {}): Service {
  return { metadata: { name: 'web', namespace: 'ns' }, spec: { clusterIP: '10.0.0.10', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], ...spec } } as Service;
}

function pod(name: string, ip: string, opts: { ready?: boolean; deleting?: boolean; node?: string } = {}): Pod {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, labels: { app: 'web' }, ...(opts.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
    spec: { nodeName: opts.node ?? 'node-1', containers: [{ name: 'c' }] },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  } as Pod;
}

const http: SlicePort[] = [{ name: 'http', port: 8080, protocol: 'TCP' }];
const ep = (n: number): SliceEndpoint => ({
  addresses: [`10.1.${Math.floor(n / 250)}.${n % 250}`],
  conditions: { ready: true, serving: true, terminating: false },
  targetRef: { kind: 'Pod', namespace: 'ns', name: `p${n}`, uid: `uid-${n}` },
  nodeName: 'node-1',
});

describe('endpoints of a slice', () => {
  it('keeps terminating pods with ready=false, serving as the pod is, terminating=true', () => {
    const groups = desiredEndpointGroups(svc(), [pod('a', '10.1.0.1'), pod('b', '10.1.0.2', { ready: false }), pod('c', '10.1.0.3', { deleting: true })], (node) => (node === 'node-1' ? 'zone-a' : undefined));
    assert.equal(groups.length, 1);
    assert.deepEqual(groups[0]!.ports, http);
    assert.deepEqual(
      groups[0]!.endpoints.map((e) => [e.addresses[0], e.conditions, e.zone, e.nodeName, e.targetRef?.name]),
      [
        ['10.1.0.1', { ready: true, serving: true, terminating: false }, 'zone-a', 'node-1', 'a'],
        ['10.1.0.2', { ready: false, serving: false, terminating: false }, 'zone-a', 'node-1', 'b'],
        ['10.1.0.3', { ready: false, serving: true, terminating: true }, 'zone-a', 'node-1', 'c'],
      ],
    );
  });

  it('publishNotReadyAddresses makes every endpoint ready', () => {
    const groups = desiredEndpointGroups(svc({ publishNotReadyAddresses: true }), [pod('b', '10.1.0.2', { ready: false }), pod('c', '10.1.0.3', { deleting: true })]);
    assert.deepEqual(
      groups[0]!.endpoints.map((e) => e.conditions.ready),
      [true, true],
    );
  });
});

describe('planning slices', () => {
  it('creates one placeholder slice for a service without endpoints, and keeps it', () => {
    assert.deepEqual(planSlices([], []), { create: [{ ports: undefined, endpoints: [] }], update: [], delete: [] });
    assert.deepEqual(planSlices([{ name: 'web-abc', ports: undefined, endpoints: [] }], []), { create: [], update: [], delete: [] });
  });

  it('turns the placeholder into the first slice when endpoints appear', () => {
    const plan = planSlices([{ name: 'web-abc', ports: undefined, endpoints: [] }], [{ ports: http, endpoints: [ep(1)] }]);
    assert.deepEqual(plan, { create: [], update: [{ name: 'web-abc', ports: http, endpoints: [ep(1)] }], delete: [] });
  });

  it('puts at most 100 endpoints in a slice', () => {
    const endpoints = Array.from({ length: 250 }, (_, i) => ep(i));
    const plan = planSlices([], [{ ports: http, endpoints }]);
    assert.deepEqual(
      plan.create.map((c) => c.endpoints.length),
      [100, 100, 50],
    );
    assert.equal(planSlices([], [{ ports: http, endpoints }], 1000).create.length, 1);
  });

  it('writes nothing when the slices are right', () => {
    const existing: SliceState[] = [{ name: 'web-1', ports: http, endpoints: [ep(1), ep(2)] }];
    assert.deepEqual(planSlices(existing, [{ ports: http, endpoints: [ep(2), ep(1)] }]), { create: [], update: [], delete: [] });
  });

  it('updates endpoints in the slice they are in, adds new ones to slices with room, deletes emptied slices', () => {
    const changed = { ...ep(2), conditions: { ready: false, serving: false, terminating: false } };
    const existing: SliceState[] = [
      { name: 'web-1', ports: http, endpoints: [ep(1), ep(2)] },
      { name: 'web-2', ports: http, endpoints: [ep(3)] },
    ];
    const plan = planSlices(existing, [{ ports: http, endpoints: [ep(1), changed, ep(4)] }]);
    assert.deepEqual(plan, { create: [], update: [{ name: 'web-1', ports: http, endpoints: [ep(1), changed, ep(4)] }], delete: ['web-2'] });
  });

  it('deletes slices of ports the service no longer offers and reuses them before creating', () => {
    const other: SlicePort[] = [{ name: 'http', port: 9090, protocol: 'TCP' }];
    const plan = planSlices([{ name: 'web-1', ports: other, endpoints: [ep(1)] }], [{ ports: http, endpoints: [ep(1)] }]);
    assert.deepEqual(plan, { create: [{ ports: http, endpoints: [ep(1)] }], update: [], delete: ['web-1'] });
    const emptied = planSlices(
      [
        { name: 'web-1', ports: http, endpoints: [ep(1)] },
        { name: 'web-2', ports: other, endpoints: [ep(2)] },
      ],
      [{ ports: other, endpoints: [ep(2)] }, { ports: http, endpoints: [ep(3)] }],
    );
    assert.deepEqual(emptied, { create: [], update: [{ name: 'web-1', ports: http, endpoints: [ep(3)] }], delete: [] });
  });
});
