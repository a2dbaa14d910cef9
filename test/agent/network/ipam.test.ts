// Pod CIDR arithmetic and host-local IP allocation (no root needed).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { broadcast, gateway, HostLocalIpam, intToIp, IpamExhaustedError, parseCidr, podRange } from '../../../src/agent/network/index.js';

describe('pod CIDR', () => {
  it('normalizes and finds the gateway, the pod range and the broadcast address', () => {
    const c = parseCidr('10.244.3.77/24');
    assert.equal(c.text, '10.244.3.0/24');
    assert.equal(gateway(c), '10.244.3.1');
    const r = podRange(c);
    assert.equal(intToIp(r.first), '10.244.3.2');
    assert.equal(intToIp(r.last), '10.244.3.254');
    assert.equal(intToIp(broadcast(c)), '10.244.3.255');
    assert.equal(parseCidr('10.0.0.0/8').text, '10.0.0.0/8');
  });

  it('rejects what is not an IPv4 CIDR or too small', () => {
    for (const bad of ['10.244.0.0', '10.244.0.256/24', 'fd00::/64', '10.0.0.0/31', '10.0.0.0/33']) assert.throws(() => parseCidr(bad), bad);
  });
});

describe('HostLocalIpam', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nami-ipam-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('hands out distinct addresses, never .0, .1 or broadcast, and runs out', () => {
    const ipam = new HostLocalIpam(join(dir, 'small.json'), '10.199.0.0/29');
    const got = ['a', 'b', 'c', 'd', 'e'].map((o) => ipam.allocate(o));
    assert.deepEqual([...got].sort(), ['10.199.0.2', '10.199.0.3', '10.199.0.4', '10.199.0.5', '10.199.0.6']);
    assert.throws(() => ipam.allocate('f'), IpamExhaustedError);
    assert.equal(ipam.allocate('c'), got[2], 'an owner keeps its address');
  });

  it('released addresses come back, but not before the others', () => {
    const ipam = new HostLocalIpam(join(dir, 'rr.json'), '10.199.1.0/29');
    const a = ipam.allocate('a');
    assert.equal(ipam.release('a'), a);
    assert.equal(ipam.release('a'), undefined);
    const b = ipam.allocate('b');
    assert.notEqual(b, a, 'round-robin: not reused at once');
    for (const o of ['c', 'd', 'e']) ipam.allocate(o);
    assert.equal(ipam.allocate('g'), a, 'the freed address when it is the only one left');
    assert.throws(() => ipam.allocate('h'), IpamExhaustedError);
  });

  it('allocations survive a new instance over the same file', () => {
    const file = join(dir, 'persist.json');
    const one = new HostLocalIpam(file, '10.199.2.0/24');
    const a = one.allocate('pod-a');
    const b = one.allocate('pod-b');
    const two = new HostLocalIpam(file, '10.199.2.0/24');
    assert.equal(two.get('pod-a'), a);
    assert.equal(two.allocate('pod-b'), b);
    const c = two.allocate('pod-c');
    assert.ok(c !== a && c !== b);
    assert.deepEqual(two.allocations(), { [a]: 'pod-a', [b]: 'pod-b', [c]: 'pod-c' });
  });

  it('drops allocations outside a changed CIDR', () => {
    const file = join(dir, 'moved.json');
    new HostLocalIpam(file, '10.199.3.0/24').allocate('old');
    const moved = new HostLocalIpam(file, '10.199.4.0/24');
    assert.equal(moved.get('old'), undefined);
    assert.equal(moved.allocate('new'), '10.199.4.2');
  });
});
