// ProcessRuntime with the busybox image: containers as host processes, their exit codes and CRI
// logs, the rootfs-first command lookup, graceful stop, exec, what it refuses, and a new runtime
// over the same root taking running containers back. Needs /bin/busybox (busybox-static); skips
// without it (fails under CI=true). Runs as any user.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImageStore, buildBusyboxImage } from '../../../../src/agent/images/index.js';
import { ProcessRuntime, volumePathsAnnotation } from '../../../../src/agent/runtimes/process/index.js';
import { parseCriLog } from '../../../../src/agent/runtimes/cri-log.js';
import type { KubeObject } from '../../../../src/api/object.js';
import type { PodSandboxConfig, RuntimeContainer } from '../../../../src/agent/runtime.js';
import { waitFor } from '../../../apiserver/harness.js';

const missing = !existsSync('/bin/busybox') ? '/bin/busybox (busybox-static) missing' : undefined;
if (missing && process.env.CI === 'true') throw new Error(`process runtime tests cannot run under CI: ${missing}`);
const skip = missing ? `needs busybox-static: ${missing}` : false;

const image = 'nami.dev/busybox:latest';
let seq = 0;

function podConfig(name: string, spec: Record<string, unknown> = {}, annotations: Record<string, string> = {}): PodSandboxConfig {
  const uid = `p${process.pid}-${Date.now().toString(36)}-${seq++}`;
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid, annotations }, spec: { containers: [], ...spec } } as unknown as KubeObject;
  return { uid, namespace: 'default', name, hostname: name, hostNetwork: false, labels: {}, annotations, pod };
}

function sh(script: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'c', image, command: ['sh', '-c', script], ...extra };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('ProcessRuntime (host processes)', { skip, concurrency: false }, () => {
  let root: string;
  let images: ImageStore;
  let rt: ProcessRuntime;
  const uids: string[] = [];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'nami-process-'));
    images = await ImageStore.open(join(root, 'images'));
    await buildBusyboxImage(images, { tags: [image] });
    rt = await ProcessRuntime.open({ root: join(root, 'state'), images, pollMs: 100, nodeIP: '127.0.0.1' });
  });

  after(async () => {
    for (const uid of uids) await rt?.removePod(uid).catch(() => undefined);
    await rt?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  async function newPod(name: string, spec?: Record<string, unknown>, annotations?: Record<string, string>): Promise<string> {
    const cfg = podConfig(name, spec, annotations);
    uids.push(cfg.uid);
    const sb = await rt.runPodSandbox(cfg);
    assert.equal(sb.state, 'ready');
    assert.deepEqual(sb.ips, ['127.0.0.1'], 'pods have the node IP');
    return cfg.uid;
  }

  async function exited(r: ProcessRuntime, uid: string, id: string): Promise<RuntimeContainer> {
    return waitFor(`container ${id} to exit`, async () => (await r.podStatus(uid))?.containers.find((c) => c.id === id && c.state === 'exited'));
  }

  const lines = (uid: string, name = 'c', attempt = 0) => parseCriLog(readFileSync(rt.containerLogPath(uid, name, attempt), 'utf8'));

  it('runs sh -c from the image: exit 0, Completed, stdout and stderr in the CRI log', async () => {
    const uid = await newPod('echo');
    const c = await rt.startContainer(uid, { name: 'c', image, kind: 'regular', attempt: 0, spec: sh('echo hello; echo oops >&2; echo "uid=$(id -u) host=$HOSTNAME"') });
    assert.match(c.id, /^[0-9a-f]{64}$/);
    assert.match(c.imageRef, /^nami\.dev\/busybox@sha256:[0-9a-f]{64}$/);
    const done = await exited(rt, uid, c.id);
    assert.equal(done.exitCode, 0);
    assert.equal(done.reason, 'Completed');
    assert.ok(done.startedAt! >= done.createdAt && done.finishedAt! >= done.startedAt!);
    assert.deepEqual(lines(uid).map((l) => `${l.stream} ${l.content}`).sort(), ['stderr oops', 'stdout hello', `stdout uid=${process.getuid!()} host=echo`]);
  });

  it('exit 3 gives exit code 3 and reason Error', async () => {
    const uid = await newPod('exit3');
    const c = await rt.startContainer(uid, { name: 'c', image, kind: 'regular', attempt: 0, spec: sh('exit 3') });
    const done = await exited(rt, uid, c.id);
    assert.equal(done.exitCode, 3);
    assert.equal(done.reason, 'Error');
  });

  it('an absolute command is the image\'s first, PATH lists the image before the node, workingDir is inside the image', async () => {
    const uid = await newPod('paths');
    const c = await rt.startContainer(uid, { name: 'c', image, kind: 'regular', attempt: 0, spec: { name: 'c', image, workingDir: '/tmp/work', command: ['/bin/sh', '-c', 'pwd; echo "$PATH"; which id'] } });
    const done = await exited(rt, uid, c.id);
    assert.equal(done.exitCode, 0, JSON.stringify(lines(uid)));
    const [pwd, path, id] = lines(uid).map((l) => l.content);
    assert.ok(pwd!.endsWith('/rootfs/tmp/work'), pwd);
    const rootfs = pwd!.slice(0, -'/tmp/work'.length);
    assert.ok(path!.startsWith(`${rootfs}/usr/local/sbin:`), path);
    assert.ok(path!.endsWith(':/sbin:/bin'), path);
    assert.ok(id!.startsWith(`${rootfs}/`) && id!.endsWith('/id'), id);
  });

  it('env from the spec with $(VAR) expansion and fieldRefs; the pod IP is the node\'s', async () => {
    const uid = await newPod('env');
    const env = [
      { name: 'A', value: 'x' },
      { name: 'B', value: '$(A)-y' },
      { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    ];
    const c = await rt.startContainer(uid, { name: 'c', image, kind: 'regular', attempt: 0, spec: sh('echo "$B $NAME $IP"', { env }) });
    await exited(rt, uid, c.id);
    assert.deepEqual(lines(uid).map((l) => l.content), ['x-y env 127.0.0.1']);
  });

  it('a missing executable is a start error naming it', async () => {
    const uid = await newPod('noexec');
    await assert.rejects(rt.startContainer(uid, { name: 'c', image, kind: 'regular', attempt: 0, spec: { name: 'c', image, command: ['/no/such/thing'] } }), (e: Error & { reason?: string }) => {
      assert.equal(e.reason, 'RunContainerError');
      assert.match(e.message, /"\/no\/such\/thing": executable file not found/);
      return true;
    });
    assert.deepEqual((await rt.podStatus(uid))?.containers, []);
  });

  it('volume mounts and other users are refused with CreateContainerError, unless the pod takes volume paths as env', async () => {
    const volumes = [{ name: 'data', emptyDir: {} }];
    const uid = await newPod('vol', { volumes });
    const mounted = sh('true', { volumeMounts: [{ name: 'data', mountPath: '/data' }] });
    await assert.rejects(rt.startContainer(uid, { name: 'c', image, kind: 'regular', attempt: 0, spec: mounted }), (e: Error & { reason?: string }) => {
      assert.equal(e.reason, 'CreateContainerError');
      assert.match(e.message, /process runtime.*volume "data" cannot be mounted at \/data.*nami\.dev\/process-volume-paths=env.*\$NAMI_VOLUME_DATA/);
      return true;
    });
    const other = sh('true', { securityContext: { runAsUser: process.getuid!() + 1 } });
    await assert.rejects(rt.startContainer(uid, { name: 'c', image, kind: 'regular', attempt: 0, spec: other }), /runAsUser \d+: processes run as the agent's user/);

    const ok = await newPod('vol-env', { volumes }, { [volumePathsAnnotation]: 'env' });
    const c = await rt.startContainer(ok, { name: 'c', image, kind: 'regular', attempt: 0, spec: sh('echo hi > "$NAMI_VOLUME_DATA/f"; cat "$NAMI_VOLUME_DATA/f"', { volumeMounts: [{ name: 'data', mountPath: '/data' }] }) });
    assert.equal((await exited(rt, ok, c.id)).exitCode, 0);
    assert.deepEqual(lines(ok).map((l) => l.content), ['hi']);
  });

  it('stop sends SIGTERM to the process group; a container ignoring it is killed after the grace period', async () => {
    const uid = await newPod('stop');
    const polite = await rt.startContainer(uid, { name: 'polite', image, kind: 'regular', attempt: 0, spec: sh('trap "echo bye; exit 0" TERM; echo up; while :; do sleep 0.1; done', { name: 'polite' }) });
    await waitFor('polite to be up', () => (lines(uid, 'polite').length > 0 ? true : undefined));
    await rt.stopContainer(uid, polite.id, 10);
    const p = (await rt.podStatus(uid))!.containers.find((c) => c.id === polite.id)!;
    assert.equal(p.state, 'exited');
    assert.equal(p.exitCode, 0);
    // The whole group gets SIGTERM: the shell's sleep too, which the shell may report on stderr.
    // stdout and stderr are two pipes, so only each stream's own order is certain.
    const said = lines(uid, 'polite').filter((l) => l.stream === 'stdout').map((l) => l.content);
    assert.equal(said[0], 'up');
    assert.equal(said.at(-1), 'bye');

    const stubborn = await rt.startContainer(uid, { name: 'stubborn', image, kind: 'regular', attempt: 0, spec: sh('trap "" TERM; sleep 600 & echo $!; wait', { name: 'stubborn' }) });
    const child = Number(await waitFor('the background pid', () => lines(uid, 'stubborn')[0]?.content));
    await rt.stopContainer(uid, stubborn.id, 1);
    const s = (await rt.podStatus(uid))!.containers.find((c) => c.id === stubborn.id)!;
    assert.equal(s.state, 'exited');
    assert.equal(s.exitCode, 137);
    await waitFor('the background process to die with its group', () => (alive(child) ? undefined : true));
  });

  it('exec runs in the container\'s context: its env, working dir and the image\'s commands', async () => {
    const uid = await newPod('exec');
    const c = await rt.startContainer(uid, { name: 'c', image, kind: 'regular', attempt: 0, spec: sh('exec sleep 600', { env: [{ name: 'GREETING', value: 'hi' }], workingDir: '/tmp' }) });
    const r = await rt.exec(uid, c.id, ['sh', '-c', 'echo $GREETING; pwd; exit 4'], 5000);
    assert.equal(r.exitCode, 4);
    const [greeting, pwd] = r.output.split('\n');
    assert.equal(greeting, 'hi');
    assert.ok(pwd!.endsWith('/rootfs/tmp'), pwd);
    await assert.rejects(rt.exec(uid, c.id, ['sleep', '60'], 300), /timed out/);
    await rt.stopPodSandbox(uid, 0);
    const sb = (await rt.podStatus(uid))!.sandbox!;
    assert.equal(sb.state, 'notready');
  });

  it('a new runtime over the same root takes running containers back and sees their exits; removal leaves nothing', async () => {
    const uid = await newPod('adopt');
    // The container sees the node's files: it ends once the test creates this one.
    const go = join(root, 'go');
    const c = await rt.startContainer(uid, { name: 'c', image, kind: 'regular', attempt: 0, spec: sh(`echo started; while [ ! -e ${go} ]; do sleep 0.1; done; echo ending; exit 7`) });
    await waitFor('the container to run', async () => (await rt.podStatus(uid))?.containers.find((x) => x.state === 'running'));
    const { pid } = JSON.parse(readFileSync(join(rt.podDir(uid), 'c-0', 'started.json'), 'utf8')) as { pid: number };
    await rt.close();
    rt = await ProcessRuntime.open({ root: join(root, 'state'), images, pollMs: 100, nodeIP: '127.0.0.1' });
    const events: string[] = [];
    rt.onPodEvent((u) => events.push(u));
    const pods = await rt.listPods();
    const back = pods.find((p) => p.uid === uid)!;
    assert.equal(back.containers[0]!.id, c.id);
    assert.equal(back.containers[0]!.state, 'running');
    assert.ok(alive(pid));
    writeFileSync(go, '');
    const done = await exited(rt, uid, c.id);
    assert.equal(done.exitCode, 7);
    await waitFor('an exit event', () => (events.includes(uid) ? true : undefined));
    assert.deepEqual(lines(uid).map((l) => l.content), ['started', 'ending']);
    await rt.removePod(uid);
    assert.equal(existsSync(rt.podDir(uid)), false);
    assert.equal(await rt.podStatus(uid), undefined);
  });
});
