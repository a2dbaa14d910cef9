// Pod cgroups by QoS class: the pure part (class, layout, pod-level config, v2 weights), then real
// runc pods whose cgroup files are read back: the pod cgroup under kubepods[/burstable|/besteffort]
// with the pod-level limits, each container in its own cgroup below it with shares from its
// request. Needs root, runc and /bin/busybox; skips otherwise (fails under CI=true).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cgroupDir, cgroupV2, milliCpuToShares, podCgroupConfig, podCgroupParent, qosClassOf, sharesToWeight } from '../../../src/agent/runtimes/runc/cgroups.js';
import { RuncRuntime } from '../../../src/agent/runtimes/runc/index.js';
import type { PodSandboxConfig } from '../../../src/agent/runtime.js';
import type { KubeObject } from '../../../src/api/object.js';
import { closeTestRuntime, openTestRuntime, runcSkip } from './runc-fixture.js';

const image = 'nami.dev/busybox:latest';

function pod(uid: string, containers: Record<string, unknown>[]): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: uid, namespace: 'default', uid }, spec: { containers } } as unknown as KubeObject;
}
const res = (requests: Record<string, string>, limits: Record<string, string> = {}) => ({ resources: { requests, limits } });
const guaranteed = [
  { name: 'a', image, ...res({ cpu: '250m', memory: '32Mi' }, { cpu: '250m', memory: '32Mi' }) },
  { name: 'b', image, ...res({ cpu: '500m', memory: '16Mi' }, { cpu: '500m', memory: '16Mi' }) },
];
const burstable = [{ name: 'a', image, ...res({ cpu: '100m' }, { memory: '64Mi' }) }, { name: 'b', image, ...res({ cpu: '300m' }) }];
const bestEffort = [{ name: 'a', image }];

describe('pod cgroups by QoS class', () => {
  it('classes pods and lays their cgroups out as the kubelet does', () => {
    assert.equal(qosClassOf(pod('g', guaranteed)), 'Guaranteed');
    assert.equal(qosClassOf(pod('b', burstable)), 'Burstable');
    assert.equal(qosClassOf(pod('e', bestEffort)), 'BestEffort');
    assert.equal(podCgroupParent('Guaranteed', 'u1'), 'kubepods/podu1');
    assert.equal(podCgroupParent('Burstable', 'u1'), 'kubepods/burstable/podu1');
    assert.equal(podCgroupParent('BestEffort', 'u1'), 'kubepods/besteffort/podu1');
  });

  it('pod-level limits: summed requests as shares, quota and memory only when every container has a limit', () => {
    assert.deepEqual(podCgroupConfig(pod('g', guaranteed)), { cpuShares: 768, cpuQuotaUs: 75_000, memoryLimitBytes: 48 * 1024 * 1024 });
    assert.deepEqual(podCgroupConfig(pod('b', burstable)), { cpuShares: 409 });
    assert.deepEqual(podCgroupConfig(pod('e', bestEffort)), { cpuShares: 2 });
    assert.equal(milliCpuToShares(1), 2);
    assert.equal(milliCpuToShares(1000), 1024);
    // cgroup v2 weights (runc's conversion): the minimum shares is weight 1, the default 1024 is 39.
    assert.deepEqual([sharesToWeight(2), sharesToWeight(1024), sharesToWeight(262144)], [1, 39, 10000]);
  });
});

const skip = runcSkip('runc QoS cgroup tests');

describe('RuncRuntime pod cgroups (real runc)', { skip, concurrency: false }, () => {
  let root: string;
  let rt: RuncRuntime;
  const uids: string[] = [];

  before(async () => {
    ({ root, rt } = await openTestRuntime('nami-qos-', image));
  });

  after(() => closeTestRuntime(root, rt, uids));

  /** A cgroup file of a relative cgroup path: the v1 cpu or memory hierarchy, or the v2 one. */
  const read = (relative: string, file: string, v1Controller: string) => readFileSync(join(cgroupV2() ? cgroupDir(relative) : cgroupDir(relative, v1Controller), file), 'utf8').trim();

  async function runPod(name: string, containers: Record<string, unknown>[]): Promise<{ uid: string; ids: string[] }> {
    const uid = `q${process.pid}-${Date.now().toString(36)}-${name}`;
    const p = pod(uid, containers);
    const cfg: PodSandboxConfig = { uid, namespace: 'default', name, hostname: name, hostNetwork: false, labels: {}, annotations: {}, pod: p };
    uids.push(uid);
    await rt.runPodSandbox(cfg);
    const ids: string[] = [];
    for (const c of containers) {
      const started = await rt.startContainer(uid, { name: String(c.name), image, kind: 'regular', attempt: 0, spec: { ...c, command: ['sleep', '600'] } });
      ids.push(started.id);
    }
    return { uid, ids };
  }

  it('Guaranteed: kubepods/pod<uid> with the summed limits; containers below it with their own shares and quota', async () => {
    const { uid, ids } = await runPod('guaranteed', guaranteed);
    const parent = `kubepods/pod${uid}`;
    if (cgroupV2()) {
      assert.equal(read(parent, 'cpu.weight', 'cpu'), String(sharesToWeight(768)));
      assert.equal(read(parent, 'cpu.max', 'cpu'), '75000 100000');
      assert.equal(read(parent, 'memory.max', 'memory'), String(48 * 1024 * 1024));
    } else {
      assert.equal(read(parent, 'cpu.shares', 'cpu'), '768');
      assert.equal(read(parent, 'cpu.cfs_quota_us', 'cpu'), '75000');
      assert.equal(read(parent, 'memory.limit_in_bytes', 'memory'), String(48 * 1024 * 1024));
      assert.equal(read(`${parent}/${ids[0]}`, 'cpu.shares', 'cpu'), '256');
      assert.equal(read(`${parent}/${ids[1]}`, 'cpu.cfs_quota_us', 'cpu'), '50000');
      assert.equal(read(`${parent}/${ids[1]}`, 'memory.limit_in_bytes', 'memory'), String(16 * 1024 * 1024));
    }
    assert.notEqual(read(`${parent}/${ids[0]}`, 'cgroup.procs', 'cpu'), '', 'the container runs in its cgroup under the pod');
    await rt.stopPodSandbox(uid, 0);
    await rt.removePod(uid);
    assert.ok(!existsSync(cgroupV2() ? cgroupDir(parent) : cgroupDir(parent, 'cpu')), 'the pod cgroup goes with the pod');
  });

  it('Burstable and BestEffort: under their QoS level, shares from requests, the minimum for best effort', async () => {
    const b = await runPod('burstable', burstable);
    const e = await runPod('besteffort', bestEffort);
    const bParent = `kubepods/burstable/pod${b.uid}`;
    const eParent = `kubepods/besteffort/pod${e.uid}`;
    if (cgroupV2()) {
      assert.equal(read(bParent, 'cpu.weight', 'cpu'), String(sharesToWeight(409)));
      assert.equal(read(bParent, 'cpu.max', 'cpu'), 'max 100000');
      assert.equal(read(eParent, 'cpu.weight', 'cpu'), '1');
    } else {
      assert.equal(read(bParent, 'cpu.shares', 'cpu'), '409');
      assert.equal(read(bParent, 'cpu.cfs_quota_us', 'cpu'), '-1', 'no pod cpu limit: one container has none');
      assert.equal(read(`${bParent}/${b.ids[0]}`, 'cpu.shares', 'cpu'), '102');
      assert.equal(read(`${bParent}/${b.ids[0]}`, 'memory.limit_in_bytes', 'memory'), String(64 * 1024 * 1024));
      assert.equal(read(eParent, 'cpu.shares', 'cpu'), '2');
      assert.equal(read('kubepods/besteffort', 'cpu.shares', 'cpu'), '2');
      assert.equal(read(`${eParent}/${e.ids[0]}`, 'cpu.shares', 'cpu'), '2');
    }
    assert.notEqual(read(`${eParent}/${e.ids[0]}`, 'cgroup.procs', 'cpu'), '');
  });
});
