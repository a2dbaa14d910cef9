// Routes to other nodes' pod ranges: which routes a node wants from the Node
// objects, and a sync that adds, changes and deletes only Nami's own routes,
// run in a network namespace of the test's own (root needed).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../../src/api/object.js';
import { desiredRoutes, RouteSync } from '../../../src/agent/network/index.js';

function node(name: string, ip: string | undefined, podCIDR?: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {},
    status: ip ? { addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }] } : {},
  };
}

describe('desired pod routes', () => {
  it('routes every other node\'s pod range via its InternalIP', () => {
    const nodes = [node('a', '172.31.9.1', '10.200.0.0/24'), node('b', '172.31.9.2', '10.200.1.0/24'), node('c', '172.31.9.3', '10.200.2.0/24')];
    assert.deepEqual(desiredRoutes(nodes, 'a', '172.31.9.1'), [
      { cidr: '10.200.1.0/24', via: '172.31.9.2', node: 'b' },
      { cidr: '10.200.2.0/24', via: '172.31.9.3', node: 'c' },
    ]);
  });

  it('skips nodes without a range or address, on loopback or on this node\'s address, and malformed ranges', () => {
    const nodes = [node('b', undefined, '10.200.1.0/24'), node('c', '172.31.9.3'), node('d', '127.0.0.1', '10.200.3.0/24'), node('e', '172.31.9.1', '10.200.4.0/24'), node('f', '172.31.9.6', 'nonsense')];
    assert.deepEqual(desiredRoutes(nodes, 'a', '172.31.9.1'), []);
  });
});

const ns = `nami-rt-${process.pid}`;
const root = process.getuid?.() === 0 && spawnSync('ip', ['-V']).status === 0;
const skip = root ? false : 'needs root and iproute2 (ip) to make a network namespace';
if (skip && process.env.CI === 'true') throw new Error(`routes test cannot run in CI: ${skip}`);

describe('route sync in a network namespace', { skip }, () => {
  const ip = (...args: string[]) => execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8' });
  before(() => {
    execFileSync('ip', ['netns', 'add', ns]);
    // The "node network": a veth pair inside the namespace, one end with this node's address.
    ip('link', 'add', 'nodes0', 'type', 'veth', 'peer', 'name', 'nodes1');
    ip('addr', 'add', '172.31.9.1/24', 'dev', 'nodes0');
    ip('link', 'set', 'nodes0', 'up');
    ip('link', 'set', 'nodes1', 'up');
    // A route of someone else's, which the sync must leave alone.
    ip('route', 'add', '10.201.0.0/24', 'via', '172.31.9.50');
  });
  after(() => {
    spawnSync('ip', ['netns', 'del', ns]);
  });

  it('adds, moves and deletes Nami routes and nothing else', async () => {
    const sync = new RouteSync({ netns: ns });
    const a = node('a', '172.31.9.1', '10.200.0.0/24');
    let r = await sync.sync(desiredRoutes([a, node('b', '172.31.9.2', '10.200.1.0/24'), node('c', '172.31.9.3', '10.200.2.0/24')], 'a', '172.31.9.1'));
    assert.deepEqual(r.added, ['10.200.1.0/24 via 172.31.9.2', '10.200.2.0/24 via 172.31.9.3']);
    assert.match(ip('route', 'get', '10.200.1.7'), /via 172\.31\.9\.2/);
    // Node c moved to another address; node b left the cluster.
    r = await sync.sync(desiredRoutes([a, node('c', '172.31.9.4', '10.200.2.0/24')], 'a', '172.31.9.1'));
    assert.deepEqual(r.added, ['10.200.2.0/24 via 172.31.9.4']);
    assert.deepEqual(r.removed, ['10.200.1.0/24 via 172.31.9.2']);
    assert.deepEqual(await sync.current(), [{ cidr: '10.200.2.0/24', via: '172.31.9.4' }]);
    assert.match(ip('route', 'show'), /10\.201\.0\.0\/24 via 172\.31\.9\.50/);
    // An unreachable gateway is reported, not thrown.
    r = await sync.sync([{ cidr: '10.200.9.0/24', via: '192.0.2.1', node: 'far' }]);
    assert.deepEqual(r.failed, ['10.200.9.0/24 via 192.0.2.1']);
  });
});
