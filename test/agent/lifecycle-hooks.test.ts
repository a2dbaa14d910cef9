// Container lifecycle hooks in the pod worker, with the fake runtime and a recordable exec:
// postStart before the container counts as running, a failing postStart killing and restarting
// the container, preStop before the stop signal and within the grace period. The handler runner
// itself against a local HTTP server (httpGet) and with sleep.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import { FakeRuntime } from '../../src/agent/fake-runtime.js';
import { graceAfterPreStop, lifecycleHandlerOf, realHookRunner } from '../../src/agent/lifecycle-hooks.js';
import { PodWorker, type PodWorkerDeps } from '../../src/agent/pod-worker.js';
import type { ContainerSpec } from '../../src/agent/pod-spec.js';
import type { KubeObject } from '../../src/api/object.js';
import { eventually, type ContainerStatusView, type PodStatusView } from './helpers.js';

type ExecAnswer = { exitCode: number; output: string };

/** A pod worker over a fake runtime whose exec answers from `answer`; it records exec calls, stops, events, statuses and deletes. */
function setup(container: ContainerSpec, answer: (command: string[]) => Promise<ExecAnswer>, podExtra: Record<string, unknown> = {}, workerExtra: Partial<PodWorkerDeps> = {}) {
  const execs: { containerId: string; command: string[] }[] = [];
  const stops: { containerId: string; grace: number }[] = [];
  const events: string[] = [];
  const statuses: PodStatusView[] = [];
  const deletes: string[] = [];
  const runtime = new FakeRuntime({
    podCidr: '10.128.0.0/24',
    exec: async (_uid, containerId, command) => {
      execs.push({ containerId, command });
      return answer(command);
    },
  });
  const stop = runtime.stopContainer.bind(runtime);
  runtime.stopContainer = async (uid: string, containerId: string, grace?: number) => {
    stops.push({ containerId, grace: grace ?? -1 });
    return stop(uid, containerId);
  };
  let pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec: { containers: [container], ...podExtra }, status: {} } as unknown as KubeObject;
  const worker: PodWorker = new PodWorker({
    nodeName: 'n',
    hostIPs: ['127.0.0.1'],
    runtime,
    client: { delete: async (path: { name: string }) => void deletes.push(path.name) } as never,
    limiter: { run: <T>(fn: () => Promise<T>) => fn() } as never,
    statusWriter: { baseStatus: () => ({}), set: async (_p: KubeObject, s: Record<string, unknown>) => void statuses.push(s as unknown as PodStatusView), forget: () => undefined } as never,
    getPod: () => pod,
    requeue: (key, afterMs = 0) => void setTimeout(() => worker.sync(key), afterMs).unref(),
    probes: false,
    backOff: { initialMs: 60_000, maxMs: 60_000 },
    events: { record: async (_p: KubeObject, type: string, reason: string, message: string) => void events.push(`${type} ${reason} ${message}`) } as never,
    ...workerExtra,
  });
  const app = (s: PodStatusView | undefined): ContainerStatusView | undefined => s?.containerStatuses?.[0];
  return {
    execs, stops, events, statuses, deletes, runtime, worker, app,
    latest: () => app(statuses.at(-1)),
    setPod: (p: KubeObject) => (pod = p),
    pod: () => pod,
    sync: () => worker.sync('default/p'),
  };
}

/** A promise with its resolve, to hold a hook until the test lets it go. */
function gate<T>(): { promise: Promise<T>; open: (v: T) => void } {
  let open!: (v: T) => void;
  const promise = new Promise<T>((r) => (open = r));
  return { promise, open };
}

describe('lifecycle hooks in the pod worker', () => {
  it('postStart runs in the started container before it is reported running', async () => {
    const hold = gate<ExecAnswer>();
    const t = setup({ name: 'app', image: 'busybox', lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo hi > /tmp/started'] } } } }, () => hold.promise);
    t.sync();
    await eventually('the postStart hook', async () => t.execs.length === 1);
    assert.deepEqual(t.execs[0]!.command, ['sh', '-c', 'echo hi > /tmp/started']);
    const rp = await t.runtime.podStatus('u1');
    assert.equal(t.execs[0]!.containerId, rp?.containers[0]?.id, 'in the container just started');
    assert.ok(t.statuses.every((s) => !t.app(s)?.state.running), 'not reported running while postStart runs');
    hold.open({ exitCode: 0, output: '' });
    const cs = await eventually('the container running', async () => (t.latest()?.state.running ? t.latest() : undefined));
    assert.equal(cs.ready, true);
    assert.equal(cs.restartCount, 0);
    await t.worker.stop();
  });

  it('a failing postStart: FailedPostStartHook, the container killed, PostStartHookError with the message, then restarted', async () => {
    let calls = 0;
    const t = setup(
      { name: 'app', image: 'busybox', lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo boom; exit 3'] } } } },
      async () => (++calls === 1 ? { exitCode: 3, output: 'boom\n' } : { exitCode: 0, output: '' }),
      { terminationGracePeriodSeconds: 7 },
    );
    t.sync();
    await eventually('the restarted container running', async () => (t.latest()?.state.running && t.latest()?.restartCount === 1 ? true : undefined));
    assert.ok(t.events.includes('Warning FailedPostStartHook PostStartHook failed'), t.events.join('\n'));
    assert.ok(t.events.includes('Normal Killing FailedPostStartHook'));
    assert.ok(!t.events.some((e) => e.includes('boom')), 'the hook output stays out of events');
    assert.equal(t.stops.length, 1);
    assert.equal(t.stops[0]!.grace, 7, 'killed with the pod\'s grace period');
    const waiting = t.statuses.map((s) => t.app(s)?.state.waiting).find((w) => w?.reason === 'PostStartHookError');
    assert.equal(waiting?.message, `Exec lifecycle hook ([sh -c echo boom; exit 3]) for Container "app" in Pod "p_default(u1)" failed - error: command 'sh -c echo boom; exit 3' exited with 3: , message: "boom\\n"`);
    assert.ok(t.latest()?.lastState.terminated, 'the killed run is the last state');
    await t.worker.stop();
  });

  it('preStop runs before the stop signal on deletion; the pod is then deleted', async () => {
    const hold = gate<ExecAnswer>();
    const t = setup({ name: 'app', image: 'busybox', lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo bye > /data/bye'] } } } }, () => hold.promise);
    t.sync();
    await eventually('the container running', async () => t.latest()?.state.running);
    t.setPod({ ...t.pod(), metadata: { ...t.pod().metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 30 } });
    t.sync();
    await eventually('the preStop hook', async () => t.execs.length === 1);
    assert.deepEqual(t.execs[0]!.command, ['sh', '-c', 'echo bye > /data/bye']);
    assert.equal(t.stops.length, 0, 'no stop signal while preStop runs');
    hold.open({ exitCode: 0, output: '' });
    await eventually('the pod deleted', async () => t.deletes.includes('p'));
    assert.equal(t.stops.length, 1);
    assert.ok(t.stops[0]!.grace <= 30 && t.stops[0]!.grace >= 2, 'the grace period left after the hook');
    assert.ok(t.events.includes('Normal Killing Stopping container app'));
    await t.worker.stop();
  });

  it('a preStop that outlasts the grace period: the stop comes anyway, with the 2 s minimum; a failing one is FailedPreStopHook', async () => {
    const t = setup({ name: 'app', image: 'busybox', lifecycle: { preStop: { exec: { command: ['sleep', '3600'] } } } }, () => new Promise<ExecAnswer>(() => undefined));
    t.sync();
    await eventually('the container running', async () => t.latest()?.state.running);
    t.setPod({ ...t.pod(), metadata: { ...t.pod().metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 1 } });
    t.sync();
    await eventually('the pod deleted', async () => t.deletes.includes('p'));
    assert.deepEqual(t.stops.map((s) => s.grace), [2]);
    await t.worker.stop();

    const f = setup({ name: 'app', image: 'busybox', lifecycle: { preStop: { exec: { command: ['false'] } } } }, async () => ({ exitCode: 1, output: 'secret output' }));
    f.sync();
    await eventually('the container running', async () => f.latest()?.state.running);
    f.setPod({ ...f.pod(), metadata: { ...f.pod().metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 30 } });
    f.sync();
    await eventually('the pod deleted', async () => f.deletes.includes('p'));
    assert.ok(f.events.includes('Warning FailedPreStopHook PreStopHook failed'), f.events.join('\n'));
    assert.ok(!f.events.some((e) => e.includes('secret output')), 'the hook output stays out of events');
    assert.equal(f.stops.length, 1);
    await f.worker.stop();
  });

  it('a container killed for a failed liveness probe runs its preStop first', async () => {
    const t = setup(
      { name: 'app', image: 'busybox', livenessProbe: { exec: { command: ['check'] }, periodSeconds: 1, failureThreshold: 1 }, lifecycle: { preStop: { exec: { command: ['drain'] } } } },
      async () => ({ exitCode: 0, output: '' }),
      { terminationGracePeriodSeconds: 20 },
      { probes: true, prober: async () => ({ result: 'failure', output: 'unhealthy' }) },
    );
    t.sync();
    await eventually('the container killed', async () => t.stops.length >= 1);
    assert.deepEqual(t.execs[0]?.command, ['drain'], 'preStop ran');
    assert.ok(t.stops[0]!.grace <= 20 && t.stops[0]!.grace >= 2);
    assert.ok(t.events.includes('Normal Killing Container app failed liveness probe, will be restarted'));
    await t.worker.stop();
  });

  it('deletion without a grace period skips preStop', async () => {
    const t = setup({ name: 'app', image: 'busybox', lifecycle: { preStop: { exec: { command: ['drain'] } } } }, async () => ({ exitCode: 0, output: '' }));
    t.sync();
    await eventually('the container running', async () => t.latest()?.state.running);
    t.setPod({ ...t.pod(), metadata: { ...t.pod().metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 0 } });
    t.sync();
    await eventually('the pod deleted', async () => t.deletes.includes('p'));
    assert.deepEqual(t.execs, [], 'no preStop without a grace period to run it in');
    assert.deepEqual(t.stops.map((s) => s.grace), [0]);
    await t.worker.stop();
  });
});

describe('lifecycle handlers', () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u' } } as unknown as KubeObject;
  it('knows exec, httpGet and sleep; tcpSocket is ignored', () => {
    const c = (h: Record<string, unknown>): ContainerSpec => ({ name: 'c', image: 'i', lifecycle: { preStop: h } });
    assert.ok(lifecycleHandlerOf(c({ exec: { command: ['x'] } }), 'preStop'));
    assert.ok(lifecycleHandlerOf(c({ sleep: { seconds: 1 } }), 'preStop'));
    assert.equal(lifecycleHandlerOf(c({ tcpSocket: { port: 80 } }), 'preStop'), undefined);
    assert.equal(lifecycleHandlerOf(c({ exec: { command: ['x'] } }), 'postStart'), undefined);
    assert.equal(graceAfterPreStop(30, 5), 25);
    assert.equal(graceAfterPreStop(3, 5), 2);
  });

  it('httpGet: any response succeeds, a failed request fails with the kubelet\'s message', async () => {
    const paths: { path?: string; agent?: string }[] = [];
    const server = createServer((req, res) => {
      paths.push({ path: req.url, agent: req.headers['user-agent'] });
      res.writeHead(500).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const run = realHookRunner(undefined);
    const container: ContainerSpec = { name: 'web', image: 'i', ports: [{ name: 'http', containerPort: port }] };
    const target = { pod, container, containerId: 'x', podIP: '127.0.0.1' };
    try {
      assert.equal(await run('postStart', { httpGet: { path: '/started', port: 'http' } }, target, 5000), undefined);
      assert.deepEqual(paths, [{ path: '/started', agent: 'kube-lifecycle/1.33' }]);
    } finally {
      await new Promise((r) => server.close(r));
    }
    const failed = await run('postStart', { httpGet: { path: '/started', port } }, target, 5000);
    assert.match(failed ?? '', new RegExp(`^HTTP lifecycle hook \\(/started\\) for Container "web" in Pod "p_ns\\(u\\)" failed - error: Get "http://127\\.0\\.0\\.1:${port}/started": connect ECONNREFUSED`));
  });

  it('sleep waits its seconds, cut short by the timeout', async () => {
    const run = realHookRunner(undefined);
    const target = { pod, container: { name: 'c', image: 'i' }, containerId: 'x', podIP: undefined };
    assert.equal(await run('preStop', { sleep: { seconds: 3600 } }, target, 50), undefined);
    assert.equal(await run('preStop', { sleep: { seconds: 0 } }, target, 50), undefined);
  });
});
