// RuncRuntime with real runc and the busybox image: exits and reasons, CRI logs, pod networking
// over loopback, hostname, graceful stop, OOM kills, agent restarts and cleanup.
// Needs root, runc and /bin/busybox; skips otherwise (fails under CI=true).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImageStore } from '../../../src/agent/images/index.js';
import { RuncRuntime, mountsUnder, parseCriLog } from '../../../src/agent/runtimes/runc/index.js';
import type { KubeObject } from '../../../src/api/object.js';
import type { PodSandboxConfig, RuntimeContainer } from '../../../src/agent/runtime.js';
import { waitFor } from '../../apiserver/harness.js';
import { closeTestRuntime, openTestRuntime, runcBin, runcSkip } from './runc-fixture.js';

const skip = runcSkip('runc runtime tests');

const image = 'nami.dev/busybox:latest';
let seq = 0;

function podConfig(name: string, extra: { hostname?: string; hostNetwork?: boolean } = {}): PodSandboxConfig {
  const uid = `t${process.pid}-${Date.now().toString(36)}-${seq++}`;
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid }, spec: { containers: [] } } as unknown as KubeObject;
  return { uid, namespace: 'default', name, hostname: extra.hostname ?? name, hostNetwork: extra.hostNetwork ?? false, labels: {}, annotations: {}, pod };
}

function sh(script: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'c', image, command: ['sh', '-c', script], ...extra };
}


describe('RuncRuntime (real runc)', { skip, concurrency: false }, () => {
  let root: string;
  let rt: RuncRuntime;
  const uids: string[] = [];

  before(async () => {
    ({ root, rt } = await openTestRuntime('nami-runc-', image));
  });

  after(() => closeTestRuntime(root, rt, uids));

  async function newPod(name: string, extra?: { hostname?: string; hostNetwork?: boolean }): Promise<string> {
    const cfg = podConfig(name, extra);
    uids.push(cfg.uid);
    const sb = await rt.runPodSandbox(cfg);
    assert.equal(sb.state, 'ready');
    return cfg.uid;
  }

  async function exited(uid: string, id: string, ms?: number): Promise<RuntimeContainer> {
    return waitFor(`container ${id} to exit`, async () => (await rt.podStatus(uid))?.containers.find((c) => c.id === id && c.state === 'exited'), ms);
  }

  function log(uid: string, name: string, attempt = 0, runtime = rt) {
    return parseCriLog(readFileSync(runtime.containerLogPath(uid, name, attempt), 'utf8'));
  }

  it('runs echo hello: exit 0, Completed, CRI log line', async () => {
    const uid = await newPod('echo');
    const c = await rt.startContainer(uid, { name: 'c', image, kind: 'regular', attempt: 0, spec: sh('echo hello; echo oops >&2') });
    assert.match(c.id, /^[0-9a-f]{64}$/);
    assert.equal(c.image, image);
    assert.match(c.imageRef, /^nami\.dev\/busybox@sha256:[0-9a-f]{64}$/);
    const done = await exited(uid, c.id);
    assert.equal(done.exitCode, 0);
    assert.equal(done.reason, 'Completed');
    assert.ok(done.startedAt! >= done.createdAt && done.finishedAt! >= done.startedAt!);
    const text = readFileSync(rt.containerLogPath(uid, 'c', 0), 'utf8');
    assert.match(text, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F hello$/m);
    assert.deepEqual(log(uid, 'c').map((l) => `${l.stream} ${l.tag} ${l.content}`).sort(), ['stderr F oops', 'stdout F hello']);
  });

  it('exit 3 gives exit code 3 and reason Error', async () => {
    const uid = await newPod('exit3');
    const c = await rt.startContainer(uid, { name: 'c', image, kind: 'regular', attempt: 0, spec: sh('exit 3') });
    const done = await exited(uid, c.id);
    assert.equal(done.exitCode, 3);
    assert.equal(done.reason, 'Error');
  });

  it('a missing executable is a start error', async () => {
    const uid = await newPod('noexec');
    await assert.rejects(rt.startContainer(uid, { name: 'c', image, kind: 'regular', attempt: 0, spec: { name: 'c', image, command: ['/no/such/thing'] } }), (e: Error & { reason?: string }) => {
      assert.equal(e.reason, 'RunContainerError');
      assert.match(e.message, /no\/such\/thing|no such file/i);
      return true;
    });
    assert.deepEqual((await rt.podStatus(uid))?.containers, []);
  });

  it('containers of one pod talk over 127.0.0.1 and see the pod hostname and env', async () => {
    const uid = await newPod('net', { hostname: 'my-host' });
    const server = await rt.startContainer(uid, { name: 'server', image, kind: 'regular', attempt: 0, spec: sh('echo from-server | nc -l -p 8080; echo served') });
    const client = await rt.startContainer(uid, {
      name: 'client',
      image,
      kind: 'regular',
      attempt: 0,
      spec: sh('hostname; echo "v=$FOO"; for i in 1 2 3 4 5 6 7 8 9 10; do nc 127.0.0.1 8080 </dev/null && exit 0; sleep 0.3; done; exit 1', { env: [{ name: 'FOO', value: 'bar' }] }),
    });
    const c = await exited(uid, client.id);
    assert.equal(c.exitCode, 0, JSON.stringify(log(uid, 'client')));
    const lines = log(uid, 'client').map((l) => l.content);
    assert.deepEqual(lines, ['my-host', 'v=bar', 'from-server']);
    const s = await exited(uid, server.id);
    assert.equal(s.exitCode, 0);
  });

  it('securityContext: runAsUser/runAsGroup and readOnlyRootFilesystem; host network sees the host name', async () => {
    const uid = await newPod('sec');
    const c = await rt.startContainer(uid, {
      name: 'c', image, kind: 'regular', attempt: 0,
      spec: sh('id -u; id -g; touch /x 2>/dev/null && echo rw || echo ro; cat /etc/hostname', { securityContext: { runAsUser: 1234, runAsGroup: 567, readOnlyRootFilesystem: true } }),
    });
    assert.equal((await exited(uid, c.id)).exitCode, 0);
    assert.deepEqual(log(uid, 'c').map((l) => l.content), ['1234', '567', 'ro', 'sec']);
    const hn = await newPod('hostnet', { hostNetwork: true });
    const h = await rt.startContainer(hn, { name: 'c', image, kind: 'regular', attempt: 0, spec: sh('hostname') });
    assert.equal((await exited(hn, h.id)).exitCode, 0);
    assert.deepEqual(log(hn, 'c').map((l) => l.content), [readFileSync('/proc/sys/kernel/hostname', 'utf8').trim()]);
  });

  it('stop sends SIGTERM, then the container exits', async () => {
    const uid = await newPod('stop');
    const c = await rt.startContainer(uid, { name: 'c', image, kind: 'regular', attempt: 0, spec: sh('trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 1000 & wait $!; done') });
    await waitFor('ready', async () => (log(uid, 'c').some((l) => l.content === 'ready') ? true : undefined));
    await rt.stopContainer(uid, c.id, 10);
    const done = await exited(uid, c.id);
    assert.equal(done.exitCode, 7, 'the trap ran: a kill after the grace period would be 137');
    assert.ok(log(uid, 'c').some((l) => l.content === 'got-term'));
  });

  it('stop kills a container that ignores SIGTERM after the grace period', async () => {
    const uid = await newPod('kill');
    const c = await rt.startContainer(uid, { name: 'c', image, kind: 'regular', attempt: 0, spec: sh('trap "" TERM; echo ready; while :; do sleep 1; done') });
    await waitFor('ready', async () => (log(uid, 'c').some((l) => l.content === 'ready') ? true : undefined));
    await rt.stopContainer(uid, c.id, 1);
    const done = await exited(uid, c.id);
    assert.equal(done.exitCode, 137);
    assert.equal(done.reason, 'Error');
  });

  it('a memory hog under a 16Mi limit ends OOMKilled', async () => {
    const uid = await newPod('oom');
    const c = await rt.startContainer(uid, { name: 'c', image, kind: 'regular', attempt: 0, spec: sh('x=a; while true; do x=$x$x; done', { resources: { limits: { memory: '16Mi' } } }) });
    const done = await exited(uid, c.id, 60_000);
    assert.equal(done.reason, 'OOMKilled');
    assert.equal(done.exitCode, 137);
  });

  it('a container writing a lot gets its log rotated by size: <n>.log.<timestamp> files, at most containerLogMaxFiles', async () => {
    const small = await RuncRuntime.open({ root: join(root, 'state-rotate'), images: await ImageStore.open(join(root, 'images')), runc: runcBin, pollMs: 100, containerLogMaxSize: 4096, containerLogMaxFiles: 3 });
    const cfg = podConfig('chatty');
    try {
      await small.runPodSandbox(cfg);
      // About 60 KB of CRI log: many rotations of 4 KiB files.
      const c = await small.startContainer(cfg.uid, { name: 'c', image, kind: 'regular', attempt: 0, spec: sh('seq 1 1500') });
      await waitFor('the chatty container to exit', async () => (await small.podStatus(cfg.uid))?.containers.find((x) => x.id === c.id && x.state === 'exited'));
      const path = small.containerLogPath(cfg.uid, 'c', 0);
      const dir = join(path, '..');
      const names = readdirSync(dir).sort();
      assert.equal(names.length, 3, names.join(' '));
      assert.ok(names.includes('0.log'));
      for (const n of names.filter((n) => n !== '0.log')) assert.match(n, /^0\.log\.\d{8}-\d{6}(\.\d+)?$/);
      for (const n of names) assert.ok(statSync(join(dir, n)).size <= 4096, `${n}: ${statSync(join(dir, n)).size} bytes`);
      // The newest lines are in the current file, which kubectl logs reads.
      const lines = parseCriLog(readFileSync(path, 'utf8')).map((l) => l.content);
      assert.equal(lines[lines.length - 1], '1500');
      assert.deepEqual(lines, Array.from({ length: lines.length }, (_, i) => String(1501 - lines.length + i)));
    } finally {
      await small.removePod(cfg.uid);
      await small.close();
    }
  });

  it('one monitor shim watches the containers of several pods and goes away once they are gone', async () => {
    const shimRoot = join(root, 'state-shim');
    const own = await RuncRuntime.open({ root: shimRoot, images: await ImageStore.open(join(root, 'images')), runc: runcBin, pollMs: 100 });
    const socket = join(shimRoot, 'monitor.sock');
    const shims = () =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(socket);
          } catch {
            return false;
          }
        });
    const pods = [podConfig('shim-a'), podConfig('shim-b')];
    try {
      for (const cfg of pods) {
        await own.runPodSandbox(cfg);
        await own.startContainer(cfg.uid, { name: 'c', image, kind: 'regular', attempt: 0, spec: sh('echo up; exec sleep 3600') });
      }
      assert.equal(shims().length, 1);
      const pids = pods.map((cfg) => readFileSync(join(own.podDir(cfg.uid), 'c-0', 'monitor.pid'), 'utf8').trim());
      assert.deepEqual(pids, [shims()[0], shims()[0]]);
      // The shim copies each container's output into its log; the container may not have written yet.
      for (const cfg of pods) {
        const said = await waitFor(`${cfg.name}'s output in its log`, async () => {
          const lines = log(cfg.uid, 'c', 0, own).map((l) => l.content);
          return lines.length > 0 ? lines : undefined;
        });
        assert.deepEqual(said, ['up']);
      }
    } finally {
      for (const cfg of pods) {
        await own.stopPodSandbox(cfg.uid, 0);
        await own.removePod(cfg.uid);
      }
      await own.close();
    }
    await waitFor('the shim to exit', async () => shims().length === 0 || undefined, 30_000);
  });

  it('a new runtime over the same root finds a running container; removal leaves no mounts and no runc containers', async () => {
    const uid = await newPod('restart');
    const c = await rt.startContainer(uid, { name: 'c', image, kind: 'regular', attempt: 0, spec: sh('sleep 1000') });
    const images = await ImageStore.open(join(root, 'images'));
    const rt2 = await RuncRuntime.open({ root: join(root, 'state'), images, runc: runcBin, pollMs: 100 });
    try {
      const pods = await rt2.listPods();
      const p = pods.find((x) => x.uid === uid);
      assert.ok(p, 'pod found again');
      assert.equal(p.sandbox?.state, 'ready');
      assert.equal(p.containers.length, 1);
      assert.equal(p.containers[0]!.id, c.id);
      assert.equal(p.containers[0]!.state, 'running');
      await rt2.stopPodSandbox(uid, 0);
      const after = await rt2.podStatus(uid);
      assert.equal(after?.sandbox?.state, 'notready');
      assert.equal(after?.containers[0]?.state, 'exited');
      assert.equal(after?.containers[0]?.exitCode, 137);
      await rt2.removePod(uid);
      assert.equal(await rt2.podStatus(uid), undefined);
      assert.deepEqual(mountsUnder(rt2.podDir(uid)), []);
      assert.ok(!existsSync(rt2.podDir(uid)));
      const list = spawnSync(runcBin!, ['--root', join(root, 'state', 'runc'), 'list', '-q'], { encoding: 'utf8' });
      const ids = list.stdout.split('\n').filter(Boolean);
      assert.ok(!ids.includes(c.id), `runc still lists ${c.id}`);
    } finally {
      await rt2.close();
    }
  });
});
