// The pod network with real runc: pods on a test bridge get addresses of a test CIDR, talk to
// each other and are reachable from the host; addresses are freed on removal and survive a
// runtime restart; the masquerade rule is idempotent and removable.
// Needs root, runc, busybox, ip, nsenter and iptables; skips otherwise (fails under CI=true).
// Uses its own bridge (nami-t<pid>) and CIDR (10.199.X.0/24) and removes them afterwards.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImageStore, buildBusyboxImage } from '../../../src/agent/images/index.js';
import { contains, hostVethName, parseCidr, PodNetwork } from '../../../src/agent/network/index.js';
import { RuncRuntime, mountsUnder, parseCriLog } from '../../../src/agent/runtimes/runc/index.js';
import type { KubeObject } from '../../../src/api/object.js';
import type { PodSandboxConfig, RuntimeContainer } from '../../../src/agent/runtime.js';
import { waitFor } from '../../apiserver/harness.js';

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}
const runcBin = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => existsSync(p)) ?? (spawnSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).stdout.trim() || undefined);
const missing =
  process.getuid?.() !== 0 ? 'not root'
  : !runcBin ? 'runc not found'
  : !existsSync('/bin/busybox') ? '/bin/busybox (busybox-static) missing'
  : (['ip', 'nsenter', 'iptables'].find((c) => !onPath(c)) ?? '') !== '' ? `${['ip', 'nsenter', 'iptables'].find((c) => !onPath(c))} not found`
  : undefined;
if (missing && process.env.CI === 'true') throw new Error(`pod network tests cannot run under CI: ${missing}`);
const skip = missing ? `needs root, runc, busybox-static, ip, nsenter, iptables: ${missing}` : false;

const image = 'nami.dev/busybox:latest';
const bridge = `nami-t${process.pid % 10000}`;
const podCidr = `10.199.${20 + (process.pid % 200)}.0/24`;
let seq = 0;

function podConfig(name: string): PodSandboxConfig {
  const uid = `n${process.pid}-${Date.now().toString(36)}-${seq++}`;
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid }, spec: { containers: [] } } as unknown as KubeObject;
  return { uid, namespace: 'default', name, hostname: name, hostNetwork: false, labels: {}, annotations: {}, pod };
}

function sh(script: string): Record<string, unknown> {
  return { name: 'c', image, command: ['sh', '-c', script] };
}


function linkExists(name: string): boolean {
  return spawnSync('ip', ['link', 'show', 'dev', name], { stdio: 'ignore' }).status === 0;
}

/** An HTTP GET from the test process (the host) over TCP. */
function httpGet(ip: string, port: number, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: ip, port });
    let data = '';
    s.setTimeout(timeoutMs, () => s.destroy(new Error(`timeout talking to ${ip}:${port}`)));
    s.on('connect', () => s.write(`GET / HTTP/1.0\r\nHost: ${ip}\r\n\r\n`));
    s.on('data', (d) => (data += d.toString()));
    s.on('end', () => resolve(data));
    s.on('error', reject);
  });
}

describe('pod network (real runc)', { skip, concurrency: false }, () => {
  let root: string;
  let images: ImageStore;
  let rt: RuncRuntime;
  const runtimes: RuncRuntime[] = [];
  const uids: string[] = [];
  const network = { podCidr, bridge };
  let a: { uid: string; ip: string };
  let b: { uid: string; ip: string };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'nami-net-'));
    images = await ImageStore.open(join(root, 'images'));
    await buildBusyboxImage(images, { tags: [image] });
    rt = await RuncRuntime.open({ root: join(root, 'state'), images, runc: runcBin, pollMs: 100, network });
    runtimes.push(rt);
  });

  after(async () => {
    for (const r of runtimes) for (const uid of uids) await r.removePod(uid).catch(() => undefined);
    for (const r of runtimes) await r.close().catch(() => undefined);
    for (const uid of uids) if (linkExists(hostVethName(uid))) spawnSync('ip', ['link', 'del', 'dev', hostVethName(uid)]);
    await rt?.network?.removeNodeNetwork().catch(() => undefined);
    if (linkExists(bridge)) spawnSync('ip', ['link', 'del', 'dev', bridge]);
    if (root) {
      for (const m of mountsUnder(root)) spawnSync('umount', ['-l', m]);
      await rm(root, { recursive: true, force: true });
    }
  });

  async function newPod(r: RuncRuntime, name: string): Promise<{ uid: string; ip: string }> {
    const cfg = podConfig(name);
    uids.push(cfg.uid);
    const sb = await r.runPodSandbox(cfg);
    assert.equal(sb.state, 'ready');
    assert.equal(sb.ips.length, 1, `one pod IP: ${JSON.stringify(sb.ips)}`);
    return { uid: cfg.uid, ip: sb.ips[0]! };
  }

  async function exited(r: RuncRuntime, uid: string, id: string, ms?: number): Promise<RuntimeContainer> {
    return waitFor(`container ${id} to exit`, async () => (await r.podStatus(uid))?.containers.find((c) => c.id === id && c.state === 'exited'), ms);
  }

  function log(r: RuncRuntime, uid: string, name: string, attempt = 0): string[] {
    return parseCriLog(readFileSync(r.containerLogPath(uid, name, attempt), 'utf8')).map((l) => l.content);
  }

  it('two pods get different addresses of the CIDR, eth0 with a default route via the gateway, and their IP in /etc/hosts', async () => {
    assert.ok(linkExists(bridge), 'the bridge exists');
    const br = spawnSync('ip', ['-o', '-4', 'addr', 'show', 'dev', bridge], { encoding: 'utf8' }).stdout;
    const gw = podCidr.replace(/\.0\/24$/, '.1');
    assert.match(br, new RegExp(` ${gw.replace(/\./g, '\\.')}/24 `));
    a = await newPod(rt, 'pod-a');
    b = await newPod(rt, 'pod-b');
    const cidr = parseCidr(podCidr);
    for (const p of [a, b]) {
      assert.ok(contains(cidr, p.ip), `${p.ip} in ${podCidr}`);
      assert.ok(!/\.(0|1|255)$/.test(p.ip), p.ip);
      assert.ok(linkExists(hostVethName(p.uid)), 'the host end of the veth');
    }
    assert.notEqual(a.ip, b.ip);
    const c = await rt.startContainer(a.uid, { name: 'show', image, kind: 'regular', attempt: 0, spec: sh('ip -o -4 addr show dev eth0; ip route; grep pod-a /etc/hosts') });
    assert.equal((await exited(rt, a.uid, c.id)).exitCode, 0, log(rt, a.uid, 'show').join('\n'));
    const out = log(rt, a.uid, 'show').join('\n');
    assert.match(out, new RegExp(`eth0\\s+inet ${a.ip.replace(/\./g, '\\.')}/24 `));
    assert.match(out, new RegExp(`^default via ${gw.replace(/\./g, '\\.')} dev eth0`, 'm'));
    assert.match(out, new RegExp(`^${a.ip.replace(/\./g, '\\.')}\\tpod-a$`, 'm'));
  });

  it('httpd in pod A answers an HTTP GET (nc) from pod B on A\'s pod IP, and the host reaches it too', async () => {
    await rt.startContainer(a.uid, { name: 'web', image, kind: 'regular', attempt: 0, spec: sh('mkdir -p /tmp/www && echo hello-from-a > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www') });
    const client = await rt.startContainer(b.uid, {
      name: 'client', image, kind: 'regular', attempt: 0,
      // busybox wget crashes on some builds (Debian 1.35 static): plain HTTP over nc.
      spec: sh(`for i in $(seq 1 50); do r=$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc ${a.ip} 8080) && case "$r" in *hello-from-a*) echo "$r" | tail -n 1; exit 0;; esac; sleep 0.2; done; exit 1`),
    });
    const done = await exited(rt, b.uid, client.id, 30_000);
    assert.equal(done.exitCode, 0, log(rt, b.uid, 'client').join('\n'));
    assert.deepEqual(log(rt, b.uid, 'client'), ['hello-from-a']);
    const resp = await httpGet(a.ip, 8080);
    assert.match(resp, /^HTTP\/1\.[01] 200/);
    assert.match(resp, /hello-from-a/);
  });

  it('removing a pod deletes its veth and frees its address; allocated ones are not handed out again', async () => {
    const net = rt.network!;
    const c = await newPod(rt, 'pod-c');
    assert.ok(![a.ip, b.ip].includes(c.ip));
    await rt.stopPodSandbox(c.uid, 0);
    const st = await rt.podStatus(c.uid);
    assert.equal(st?.sandbox?.state, 'notready');
    assert.deepEqual(st?.sandbox?.ips, []);
    assert.equal(net.addressOf(c.uid), undefined, 'stopping the sandbox frees the address');
    assert.ok(!linkExists(hostVethName(c.uid)));
    await rt.removePod(b.uid);
    assert.equal(net.addressOf(b.uid), undefined, 'removal frees the address');
    assert.ok(!linkExists(hostVethName(b.uid)), 'removal deletes the veth');
    assert.ok(!Object.keys(net.ipam.allocations()).includes(b.ip));
    const d = await newPod(rt, 'pod-d');
    assert.notEqual(d.ip, a.ip, 'A\'s address is still allocated');
    assert.deepEqual(Object.values(net.ipam.allocations()).sort(), [a.uid, d.uid].sort());
    b = d;
  });

  it('a new runtime over the same state keeps the allocations and the pods\' network', async () => {
    const rt2 = await RuncRuntime.open({ root: join(root, 'state'), images, runc: runcBin, pollMs: 100, network });
    runtimes.push(rt2);
    assert.deepEqual((await rt2.podStatus(a.uid))?.sandbox?.ips, [a.ip]);
    assert.equal(rt2.network!.addressOf(a.uid), a.ip);
    assert.equal(rt2.network!.addressOf(b.uid), b.ip);
    const e = await newPod(rt2, 'pod-e');
    assert.ok(![a.ip, b.ip].includes(e.ip), `${e.ip} is new`);
    assert.match(await httpGet(a.ip, 8080), /hello-from-a/);
    await rt2.close();
  });

  it('the masquerade rule is added once and removed', async () => {
    const mBridge = `nami-m${process.pid % 10000}`;
    const mCidr = `10.198.${20 + (process.pid % 200)}.0/24`;
    const comment = `nami pod masquerade ${mBridge}`;
    const count = () => spawnSync('iptables', ['-w', '-t', 'nat', '-S', 'POSTROUTING'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(comment)).length;
    const opts = { podCidr: mCidr, bridge: mBridge, stateDir: join(root, 'mnet'), masquerade: true };
    const n1 = await PodNetwork.open(opts);
    try {
      await PodNetwork.open(opts);
      assert.equal(count(), 1);
      assert.ok(await n1.masquerading());
    } finally {
      await n1.removeNodeNetwork();
    }
    assert.equal(count(), 0);
    assert.ok(!linkExists(mBridge));
  });
});
