// The pod status the agent computes, case by case against the kubelet's
// rules (getPhase, the condition generators, the status manager's transition
// times), plus the fake runtime's image names and the write limiter's order.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../src/api/object.js';
import { FakeRuntime, normalizeImage } from '../../src/agent/fake-runtime.js';
import { generatePodStatus, podPhase, statusPatch, type Json } from '../../src/agent/pod-status.js';
import type { RuntimePod } from '../../src/agent/runtime.js';
import { goDuration, microTime } from '../../src/agent/timestamps.js';
import { WriteLimiter } from '../../src/agent/write-limiter.js';

function pod(spec: Json = {}, status: Json = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns', uid: 'u-1' },
    spec: { containers: [{ name: 'app', image: 'nginx' }], nodeName: 'n1', ...spec },
    status: { phase: 'Pending', qosClass: 'BestEffort', conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2024-01-01T00:00:00Z' }], ...status },
  };
}

const running = (name: string, attempt = 0) => ({ id: `${name}-${attempt}`, name, attempt, image: 'docker.io/library/nginx:latest', imageRef: 'docker.io/library/nginx@sha256:00', state: 'running' as const, createdAt: 1000, startedAt: 1000 });
const exited = (name: string, exitCode: number, attempt = 0) => ({ ...running(name, attempt), state: 'exited' as const, exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', finishedAt: 2000 });

function runtimePod(containers: RuntimePod['containers'], ready = true): RuntimePod {
  return { uid: 'u-1', namespace: 'ns', name: 'p', sandbox: { id: 's', state: ready ? 'ready' : 'notready', ips: ['10.0.0.2'], createdAt: 1000 }, containers };
}

function generate(p: KubeObject, rp: RuntimePod | undefined, podIsTerminal = false, now = 5000): Json & { conditions: Json[]; containerStatuses: Json[] } {
  return generatePodStatus({ pod: p, oldStatus: p.status as Json, runtimePod: rp, runtimeType: 'fake', hostIPs: ['192.168.1.1'], podIsTerminal, now }) as Json & { conditions: Json[]; containerStatuses: Json[] };
}

function conditionsOf(status: { conditions: Json[] }): [unknown, unknown, unknown, unknown][] {
  return status.conditions.map((c) => [c.type, c.status, c.reason, c.message]);
}

describe('pod status as the kubelet reports it', () => {
  it('a pod whose sandbox is not there yet is Pending with containers ContainerCreating', () => {
    const s = generate(pod(), undefined);
    assert.equal(s.phase, 'Pending');
    assert.deepEqual(conditionsOf(s), [
      ['PodReadyToStartContainers', 'False', undefined, undefined],
      ['Initialized', 'True', undefined, undefined],
      ['Ready', 'False', 'ContainersNotReady', 'containers with unready status: [app]'],
      ['ContainersReady', 'False', 'ContainersNotReady', 'containers with unready status: [app]'],
      ['PodScheduled', 'True', undefined, undefined],
    ]);
    assert.deepEqual(s.containerStatuses[0], { name: 'app', state: { waiting: { reason: 'ContainerCreating' } }, lastState: {}, ready: false, restartCount: 0, image: 'nginx', imageID: '', started: false });
    assert.equal(s.hostIP, '192.168.1.1');
    assert.equal(s.podIP, undefined);
  });

  it('with init containers, everything waits as PodInitializing and Initialized names the incomplete ones', () => {
    const s = generate(pod({ initContainers: [{ name: 'a', image: 'busybox' }, { name: 'b', image: 'busybox' }] }), runtimePod([exited('a', 0)]));
    assert.equal(s.phase, 'Pending');
    const initialized = s.conditions.find((c) => c.type === 'Initialized')!;
    assert.deepEqual([initialized.status, initialized.reason, initialized.message], ['False', 'ContainersNotInitialized', 'containers with incomplete status: [b]']);
    assert.deepEqual((s.containerStatuses[0]!.state as Json).waiting, { reason: 'PodInitializing' });
  });

  it('keeps a condition transition time while its status stays, and the scheduler’s for PodScheduled', () => {
    const p = pod({}, { conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z' }, { type: 'Ready', status: 'False', lastTransitionTime: '2024-01-01T00:00:05Z' }] });
    const s = generate(p, runtimePod([running('app')]), false, Date.parse('2024-01-01T00:01:00Z'));
    const at = Object.fromEntries(s.conditions.map((c) => [c.type, c.lastTransitionTime]));
    assert.equal(at.PodScheduled, '2024-01-01T00:00:00Z');
    assert.equal(at.Ready, '2024-01-01T00:01:00Z', 'Ready turned True now');
    const again = generatePodStatus({ pod: p, oldStatus: s, runtimePod: runtimePod([running('app')]), runtimeType: 'fake', hostIPs: [], podIsTerminal: false, now: Date.parse('2024-01-01T00:02:00Z') });
    assert.equal((again.conditions as Json[]).find((c) => c.type === 'Ready')!.lastTransitionTime, '2024-01-01T00:01:00Z');
  });

  it('a readiness gate that is not True keeps the pod not Ready though its containers are', () => {
    const p = pod({ readinessGates: [{ conditionType: 'example.com/lb' }] });
    const s = generate(p, runtimePod([running('app')]));
    const ready = s.conditions.find((c) => c.type === 'Ready')!;
    assert.deepEqual([ready.status, ready.reason, ready.message], ['False', 'ReadinessGatesNotReady', 'corresponding condition of pod readiness gate "example.com/lb" does not exist.']);
    assert.equal(s.conditions.find((c) => c.type === 'ContainersReady')!.status, 'True');
  });

  it('a restarted container reports its restart count and the run before as lastState', () => {
    const s = generate(pod(), runtimePod([exited('app', 1, 0), running('app', 1)]));
    const cs = s.containerStatuses[0]!;
    assert.equal(cs.restartCount, 1);
    assert.equal(cs.containerID, 'fake://app-1');
    assert.deepEqual((cs.lastState as { terminated: Json }).terminated.exitCode, 1);
    assert.equal(s.phase, 'Running');
  });

  it('the phase follows getPhase for each restart policy', () => {
    const statuses = (...codes: (number | 'running')[]) =>
      codes.map((c, i) => ({ name: `c${i}`, state: c === 'running' ? { running: {} } : { terminated: { exitCode: c } } }));
    const spec = (policy: string, n = 2) => pod({ restartPolicy: policy, containers: Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: 'x' })) });
    assert.equal(podPhase(spec('Always'), statuses(0, 1), false, true), 'Running');
    assert.equal(podPhase(spec('OnFailure'), statuses(0, 1), false, true), 'Running');
    assert.equal(podPhase(spec('OnFailure'), statuses(0, 0), false, true), 'Succeeded');
    assert.equal(podPhase(spec('Never'), statuses(0, 1), false, true), 'Failed');
    assert.equal(podPhase(spec('Never'), statuses(0, 'running'), false, true), 'Running');
    assert.equal(podPhase(spec('Always'), statuses(0, 0), true, true), 'Succeeded', 'a terminal pod ends whatever its policy');
    assert.equal(podPhase(spec('Always'), statuses(0, 137), true, true), 'Failed');
    assert.equal(podPhase(spec('Always'), statuses(0), false, true), 'Pending', 'a container without status is unknown');
    const initFailed = pod({ restartPolicy: 'Never', initContainers: [{ name: 'i', image: 'x' }] });
    assert.equal(podPhase(initFailed, [{ name: 'i', state: { terminated: { exitCode: 2 } } }], false, false), 'Failed');
  });

  it('a finished pod is not Ready for PodCompleted or PodFailed reasons, and Initialized says PodCompleted', () => {
    const done = generate(pod({ restartPolicy: 'Never' }), runtimePod([exited('app', 0)], false));
    assert.equal(done.phase, 'Succeeded');
    assert.deepEqual(conditionsOf(done).slice(0, 4), [
      ['PodReadyToStartContainers', 'False', undefined, undefined],
      ['Initialized', 'True', 'PodCompleted', undefined],
      ['Ready', 'False', 'PodCompleted', undefined],
      ['ContainersReady', 'False', 'PodCompleted', undefined],
    ]);
    const failed = generate(pod({ restartPolicy: 'Never' }), runtimePod([exited('app', 2)], false));
    assert.equal(failed.phase, 'Failed');
    assert.equal(failed.conditions.find((c) => c.type === 'Ready')!.reason, 'PodFailed');
  });

  it('a pod torn down before anything ran ends Failed, and a terminal phase never goes back', () => {
    assert.equal(generate(pod(), undefined, true).phase, 'Failed');
    assert.equal(generate(pod({}, { phase: 'Succeeded' }), runtimePod([running('app')])).phase, 'Succeeded');
  });

  it('a host-network pod takes the node IP as its pod IP', () => {
    const s = generate(pod({ hostNetwork: true }), { ...runtimePod([running('app')]), sandbox: { id: 's', state: 'ready', ips: [], createdAt: 0 } });
    assert.equal(s.podIP, '192.168.1.1');
    assert.equal(s.conditions[0]!.status, 'True');
  });

  it('ephemeral containers get statuses of their own, never ready, and leave the phase and readiness alone', () => {
    const p = pod({ ephemeralContainers: [{ name: 'debugger', image: 'busybox', targetContainerName: 'app' }, { name: 'later', image: 'busybox' }] });
    const s = generate(p, runtimePod([running('app'), exited('debugger', 1)]));
    assert.equal(s.phase, 'Running', 'an ephemeral container that failed does not fail the pod');
    assert.deepEqual(s.containerStatuses.map((c) => c.name), ['app']);
    const ephemeral = s.ephemeralContainerStatuses as Json[];
    assert.deepEqual(ephemeral.map((c) => [c.name, Object.keys(c.state as Json)[0], c.ready, c.started]), [
      ['debugger', 'terminated', false, false],
      ['later', 'waiting', false, false],
    ]);
    assert.equal(s.conditions.find((c) => c.type === 'Ready')?.status, 'True', 'the pod is ready with app: its debugger counts for nothing');
    const withRunning = generate(p, runtimePod([running('app'), running('debugger')]));
    assert.deepEqual((withRunning.ephemeralContainerStatuses as Json[])[0], { ...(withRunning.ephemeralContainerStatuses as Json[])[0], ready: false, started: true });
    assert.equal(generate(pod(), runtimePod([running('app')])).ephemeralContainerStatuses, undefined, 'no list for a pod without ephemeral containers');
  });

  it('the status patch removes reasons and messages that no longer apply', () => {
    const patch = statusPatch('u-1', { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: 't' }] }) as { metadata: Json; status: { conditions: Json[] } };
    assert.deepEqual(patch.metadata, { uid: 'u-1' });
    assert.deepEqual(patch.status.conditions[0], { type: 'Ready', status: 'True', lastTransitionTime: 't', reason: null, message: null });
  });
});

describe('fake runtime', () => {
  it('names images as containerd reports them', () => {
    assert.equal(normalizeImage('nginx'), 'docker.io/library/nginx:latest');
    assert.equal(normalizeImage('nginx:1.25'), 'docker.io/library/nginx:1.25');
    assert.equal(normalizeImage('bitnami/redis'), 'docker.io/bitnami/redis:latest');
    assert.equal(normalizeImage('registry.k8s.io/pause:3.9'), 'registry.k8s.io/pause:3.9');
    assert.equal(normalizeImage('localhost:5000/app'), 'localhost:5000/app:latest');
    assert.equal(normalizeImage('nginx@sha256:abc'), 'docker.io/library/nginx@sha256:abc');
  });

  it('hands out pod IPs from the node range and takes them back', async () => {
    const rt = new FakeRuntime({ podCidr: '10.9.8.0/30' });
    const config = (uid: string) => ({ uid, namespace: 'ns', name: uid, hostname: uid, hostNetwork: false, labels: {}, annotations: {}, pod: pod() });
    const a = await rt.runPodSandbox(config('a'));
    assert.deepEqual(a.ips, ['10.9.8.2']);
    await assert.rejects(rt.runPodSandbox(config('b')), /no IP addresses available/);
    await rt.removePod('a');
    assert.deepEqual((await rt.runPodSandbox(config('b'))).ips, ['10.9.8.2']);
    await rt.close();
  });

  it('runs containers at once and stops them cleanly', async () => {
    const rt = new FakeRuntime({ podCidr: '10.9.8.0/24' });
    const p = pod();
    await rt.runPodSandbox({ uid: 'u-1', namespace: 'ns', name: 'p', hostname: 'p', hostNetwork: false, labels: {}, annotations: {}, pod: p });
    const c = await rt.startContainer('u-1', { name: 'app', image: 'nginx', kind: 'regular', attempt: 0, spec: {} });
    assert.equal(c.state, 'running');
    await rt.stopContainer('u-1', c.id);
    const after = (await rt.podStatus('u-1'))!.containers[0]!;
    assert.deepEqual([after.state, after.exitCode, after.reason], ['exited', 0, 'Completed']);
    await rt.close();
  });
});

describe('small pieces', () => {
  it('formats durations as Go does and times as the API does', () => {
    assert.deepEqual([10_000, 80_000, 300_000, 3_600_000].map(goDuration), ['10s', '1m20s', '5m0s', '1h0m0s']);
    assert.equal(microTime(Date.parse('2024-01-02T03:04:05.678Z')), '2024-01-02T03:04:05.678000Z');
  });

  it('the write limiter keeps to its concurrency and serves heartbeats first', async () => {
    const limiter = new WriteLimiter(1);
    const order: string[] = [];
    let release!: () => void;
    const blocker = limiter.run(() => new Promise<void>((r) => (release = r)));
    const writes = [limiter.run(async () => order.push('pod-1')), limiter.run(async () => order.push('lease'), 'heartbeat'), limiter.run(async () => order.push('pod-2'))];
    assert.equal(limiter.inFlight, 1);
    assert.equal(limiter.queued, 3);
    release();
    await Promise.all([blocker, ...writes]);
    assert.deepEqual(order, ['lease', 'pod-1', 'pod-2']);
    await limiter.close();
    await assert.rejects(limiter.run(async () => 1), /closed/);
  });
});
