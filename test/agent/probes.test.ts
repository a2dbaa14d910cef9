// The probe manager's scheduling and thresholds with a fake clock and a scripted prober; the
// HTTP and TCP probers against local servers; the pod worker killing a container whose
// liveness probe failed (stub runtime, nothing runs).
import assert from 'node:assert/strict';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { after, describe, it } from 'node:test';
import { PodWorker } from '../../src/agent/pod-worker.js';
import { ProbeManager, probeSpecOf, realProber, resolvePort, type ContainerView, type ProbeClock, type ProbeOutcome, type ProbeType } from '../../src/agent/probes.js';
import type { Runtime, RuntimeContainer, RuntimePod } from '../../src/agent/runtime.js';
import type { ContainerSpec } from '../../src/agent/pod-spec.js';
import type { KubeObject } from '../../src/api/object.js';

class FakeClock implements ProbeClock {
  t = 1_000_000;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  now = (): number => this.t;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  clearTimeout = (h: unknown): void => {
    this.timers.delete(h as number);
  };
  /** Moves time on, firing due timers in order and letting the probes they start finish. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await new Promise((r) => setImmediate(r));
      const next = [...this.timers.entries()].filter(([, v]) => v.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = end;
    await new Promise((r) => setImmediate(r));
  }
}

function podWith(containers: ContainerSpec[], uid = 'u1'): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid }, spec: { containers } } as unknown as KubeObject;
}

/** A manager whose prober answers from a script per probe kind (default success), recording the times it probes. */
function setup(container: ContainerSpec) {
  const clock = new FakeClock();
  const answers: Record<ProbeType, ('success' | 'failure')[]> = { liveness: [], readiness: [], startup: [] };
  const next: Record<ProbeType, 'success' | 'failure'> = { liveness: 'success', readiness: 'success', startup: 'success' };
  const calls: { type: ProbeType; at: number }[] = [];
  const changes: string[] = [];
  const unhealthy: string[] = [];
  const m = new ProbeManager({
    clock,
    prober: async (type): Promise<ProbeOutcome> => {
      calls.push({ type, at: clock.t });
      const r = answers[type].shift() ?? next[type];
      return { result: r, output: r === 'failure' ? 'boom' : '' };
    },
    onChange: (uid) => changes.push(uid),
    onUnhealthy: (_pod, msg) => unhealthy.push(msg),
  });
  const pod = podWith([container]);
  const view = (id: string, running = true, startedAt = clock.t): ReadonlyMap<string, ContainerView> => new Map([[container.name, { id, running, startedAt }]]);
  const state = (id: string) => m.containerState(container, id, true);
  return { clock, answers, next, calls, changes, unhealthy, m, pod, view, state, sync: (v: ReadonlyMap<string, ContainerView>) => m.sync(pod, [container], v, '10.0.0.9') };
}

describe('probe manager', () => {
  it('applies the API defaults to a probe spec', () => {
    const s = probeSpecOf({ name: 'c', image: 'i', livenessProbe: { exec: { command: ['true'] }, successThreshold: 5 } }, 'liveness')!;
    assert.deepEqual([s.initialDelaySeconds, s.periodSeconds, s.timeoutSeconds, s.successThreshold, s.failureThreshold], [0, 10, 1, 1, 3]);
    assert.equal(probeSpecOf({ name: 'c', image: 'i', readinessProbe: { successThreshold: 2 } }, 'readiness')!.successThreshold, 2);
    assert.equal(probeSpecOf({ name: 'c', image: 'i' }, 'readiness'), undefined);
    const c = { name: 'c', image: 'i', ports: [{ name: 'http', containerPort: 8080 }] };
    assert.deepEqual([resolvePort('http', c), resolvePort(81, c), resolvePort('82', c), resolvePort('nope', c)], [8080, 81, 82, undefined]);
  });

  it('readiness: not ready until the probe passes, after initialDelaySeconds, every periodSeconds, successThreshold in a row', async () => {
    const t = setup({ name: 'c', image: 'i', readinessProbe: { exec: { command: ['x'] }, initialDelaySeconds: 5, periodSeconds: 2, successThreshold: 2, failureThreshold: 2 } });
    t.answers.readiness.push('failure');
    t.sync(t.view('a'));
    assert.deepEqual(t.state('a'), { started: true, ready: false });
    await t.clock.advance(4_999);
    assert.equal(t.calls.length, 0, 'nothing before initialDelaySeconds');
    await t.clock.advance(1);
    assert.deepEqual(t.calls.map((c) => c.at - 1_000_000), [5_000]);
    assert.equal(t.unhealthy[0], 'Readiness probe failed: boom');
    await t.clock.advance(2_000); // success 1 of 2
    assert.equal(t.state('a').ready, false);
    await t.clock.advance(2_000); // success 2 of 2
    assert.deepEqual(t.calls.map((c) => c.at - 1_000_000), [5_000, 7_000, 9_000]);
    assert.equal(t.state('a').ready, true);
    assert.ok(t.changes.length >= 1);
    // One failure is below failureThreshold 2; the second makes it unready.
    t.next.readiness = 'failure';
    await t.clock.advance(2_000);
    assert.equal(t.state('a').ready, true);
    await t.clock.advance(2_000);
    assert.equal(t.state('a').ready, false);
  });

  it('liveness: failureThreshold failures in a row mark it failed, then the worker holds until a new container run', async () => {
    const c: ContainerSpec = { name: 'c', image: 'i', livenessProbe: { exec: { command: ['x'] }, periodSeconds: 1, failureThreshold: 3 } };
    const t = setup(c);
    t.sync(t.view('a'));
    await t.clock.advance(0);
    assert.equal(t.m.shouldKill(c, 'a'), undefined);
    t.answers.liveness.push('failure', 'failure', 'success', 'failure', 'failure');
    t.next.liveness = 'failure';
    await t.clock.advance(5_000); // f f s f f: a success in between resets the count
    assert.equal(t.m.shouldKill(c, 'a'), undefined);
    await t.clock.advance(1_000); // third failure in a row
    assert.equal(t.m.shouldKill(c, 'a')?.type, 'liveness');
    const n = t.calls.length;
    await t.clock.advance(10_000);
    assert.equal(t.calls.length, n, 'on hold: no more probes of the failed run');
    // The container was killed and restarted: a new run starts over as healthy.
    t.next.liveness = 'success';
    t.sync(t.view('b'));
    await t.clock.advance(0);
    assert.equal(t.calls.length, n + 1);
    assert.equal(t.m.shouldKill(c, 'b'), undefined);
    assert.equal(t.m.result('liveness', 'a'), undefined, 'results of the old run are dropped');
  });

  it('startup: liveness and readiness wait until it succeeds; started reports it; it stops once passed', async () => {
    const c: ContainerSpec = {
      name: 'c', image: 'i',
      startupProbe: { exec: { command: ['x'] }, periodSeconds: 1, failureThreshold: 10 },
      livenessProbe: { exec: { command: ['x'] }, periodSeconds: 3 },
      readinessProbe: { exec: { command: ['x'] }, periodSeconds: 3 },
    };
    const t = setup(c);
    t.answers.startup.push('failure', 'failure');
    t.sync(t.view('a'));
    await t.clock.advance(1_500);
    assert.deepEqual(t.state('a'), { started: false, ready: false });
    assert.deepEqual(t.calls.map((x) => x.type), ['startup', 'startup']);
    await t.clock.advance(1_000); // startup passes at 2000
    assert.deepEqual(t.state('a'), { started: true, ready: true });
    const types = t.calls.map((x) => x.type);
    assert.deepEqual(types.slice(0, 3), ['startup', 'startup', 'startup']);
    assert.ok(types.includes('liveness') && types.includes('readiness'), 'liveness and readiness run right after startup passed');
    await t.clock.advance(10_000);
    assert.equal(t.calls.filter((x) => x.type === 'startup').length, 3, 'no startup probes once started');
  });

  it('startup: failureThreshold failures mark the run for a kill', async () => {
    const c: ContainerSpec = { name: 'c', image: 'i', startupProbe: { exec: { command: ['x'] }, periodSeconds: 1, failureThreshold: 2 }, livenessProbe: { exec: { command: ['x'] } } };
    const t = setup(c);
    t.next.startup = 'failure';
    t.sync(t.view('a'));
    await t.clock.advance(1_000);
    assert.equal(t.m.shouldKill(c, 'a')?.type, 'startup');
    assert.equal(t.calls.filter((x) => x.type === 'liveness').length, 0);
  });

  it('an exited container is not ready; removing the pod stops its workers', async () => {
    const c: ContainerSpec = { name: 'c', image: 'i', readinessProbe: { exec: { command: ['x'] }, periodSeconds: 1 } };
    const t = setup(c);
    t.sync(t.view('a'));
    await t.clock.advance(0);
    assert.equal(t.m.result('readiness', 'a'), 'success');
    t.sync(t.view('a', false));
    await t.clock.advance(0);
    assert.equal(t.m.result('readiness', 'a'), 'failure');
    t.sync(t.view('b'));
    t.m.removePod('u1');
    const n = t.calls.length;
    await t.clock.advance(5_000);
    assert.equal(t.calls.length, n);
  });
});

describe('HTTP and TCP probers', () => {
  const servers: Server[] = [];
  after(() => servers.forEach((s) => s.close()));
  const listen = (handler: RequestListener): Promise<number> =>
    new Promise((done) => {
      const s = createServer(handler);
      servers.push(s);
      s.listen(0, '127.0.0.1', () => done((s.address() as { port: number }).port));
    });

  it('httpGet: 200-399 succeed, other codes fail with the status code, headers are sent, named ports resolve', async () => {
    let seen: Record<string, unknown> = {};
    const port = await listen((req, res) => {
      seen = { path: req.url, agent: req.headers['user-agent'], x: req.headers['x-probe'] };
      res.statusCode = req.url === '/bad' ? 500 : req.url === '/moved' ? 302 : 200;
      res.end('ok');
    });
    const prober = realProber(undefined);
    const container: ContainerSpec = { name: 'c', image: 'i', ports: [{ name: 'web', containerPort: port }] };
    const target = { podUid: 'u', pod: podWith([container]), container, containerId: 'x', podIP: '127.0.0.1' };
    const probe = (httpGet: Record<string, unknown>) => prober('readiness', probeSpecOf({ name: 'c', image: 'i', readinessProbe: { httpGet } }, 'readiness')!, target);
    assert.equal((await probe({ port: 'web', path: '/healthz', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] })).result, 'success');
    assert.deepEqual(seen, { path: '/healthz', agent: 'kube-probe/1.33', x: 'yes' });
    assert.equal((await probe({ port, path: '/moved' })).result, 'success');
    assert.deepEqual(await probe({ port, path: '/bad' }), { result: 'failure', output: 'HTTP probe failed with statuscode: 500' });
    const refused = await probe({ port: 1, path: '/' });
    assert.equal(refused.result, 'failure');
    assert.match(refused.output, /^Get "http:\/\/127\.0\.0\.1:1\/": connect ECONNREFUSED/);
  });

  it('tcpSocket: a connection succeeds, a refused one fails', async () => {
    const s = createTcpServer((sock) => sock.end());
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as { port: number }).port;
    const container: ContainerSpec = { name: 'c', image: 'i' };
    const target = { podUid: 'u', pod: podWith([container]), container, containerId: 'x', podIP: '127.0.0.1' };
    const prober = realProber(undefined);
    const probe = (p: number) => prober('liveness', probeSpecOf({ name: 'c', image: 'i', livenessProbe: { tcpSocket: { port: p } } }, 'liveness')!, target);
    assert.equal((await probe(port)).result, 'success');
    s.close();
    const r = await probe(1);
    assert.equal(r.result, 'failure');
    assert.match(r.output, /^dial tcp 127\.0\.0\.1:1: connect ECONNREFUSED/);
  });
});

describe('pod worker with probes', () => {
  it('kills a container whose liveness probe failed, restarts it, and reports ready per the readiness probe', async () => {
    const uid = 'u1';
    const container: ContainerSpec = {
      name: 'c', image: 'i',
      livenessProbe: { exec: { command: ['check'] }, periodSeconds: 1, failureThreshold: 1, terminationGracePeriodSeconds: 2 },
      readinessProbe: { exec: { command: ['ready'] }, periodSeconds: 1 },
    };
    const pod = { ...podWith([container], uid), spec: { containers: [container], terminationGracePeriodSeconds: 30 }, status: {} } as unknown as KubeObject;
    const runs: RuntimeContainer[] = [];
    const rp: RuntimePod = { uid, namespace: 'default', name: 'p', sandbox: { id: 's', state: 'ready', ips: ['10.0.0.2'], createdAt: Date.now() }, containers: runs };
    const stops: string[] = [];
    const runtime = {
      type: 'stub', version: '0',
      runPodSandbox: async () => rp.sandbox!,
      startContainer: async (_uid: string, cfg: { name: string; attempt: number }) => {
        const c: RuntimeContainer = { id: `id${cfg.attempt}`, name: cfg.name, attempt: cfg.attempt, image: 'i', imageRef: 'i', state: 'running', createdAt: Date.now(), startedAt: Date.now() };
        runs.push(c);
        return c;
      },
      stopContainer: async (_uid: string, id: string, grace: number) => {
        stops.push(`${id}/${grace}`);
        const c = runs.find((r) => r.id === id)!;
        Object.assign(c, { state: 'exited', exitCode: 137, reason: 'Error', finishedAt: Date.now() });
      },
      stopPodSandbox: async () => {}, removePod: async () => {},
      podStatus: async () => rp, listPods: async () => [rp], onPodEvent: () => {}, close: async () => {},
    } as unknown as Runtime;
    const clock = new FakeClock();
    clock.t = Date.now();
    let healthy = true;
    let ready = false;
    const statuses: Record<string, unknown>[] = [];
    const events: string[] = [];
    let requeued = 0;
    const worker = new PodWorker({
      nodeName: 'n', hostIPs: ['127.0.0.1'], runtime, client: {} as never, limiter: {} as never,
      statusWriter: { baseStatus: () => ({}), set: async (_p: KubeObject, s: Record<string, unknown>) => { statuses.push(s); }, forget: () => {} } as never,
      getPod: () => pod,
      requeue: () => { requeued++; },
      probes: true,
      probeClock: clock,
      prober: async (type) => ({ result: (type === 'liveness' ? healthy : ready) ? 'success' : 'failure', output: type === 'liveness' ? 'cat: /tmp/healthy: No such file or directory' : 'not yet' }),
      events: { record: async (_p: KubeObject, type: string, reason: string, message: string) => { events.push(`${type} ${reason} ${message}`); } } as never,
    });
    const settle = async () => {
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    };
    const cs = () => (statuses.at(-1)?.containerStatuses as Record<string, unknown>[])[0]!;
    const cond = (type: string) => (statuses.at(-1)?.conditions as { type: string; status: string }[]).find((c) => c.type === type)?.status;
    worker.sync('default/p');
    await settle();
    await clock.advance(100);
    assert.equal(cs().ready, false, 'not ready before the readiness probe passed');
    assert.equal(cond('Ready'), 'False');
    assert.ok(events.includes('Warning Unhealthy Readiness probe failed: not yet'));
    ready = true;
    await clock.advance(1_000);
    worker.sync('default/p');
    await settle();
    assert.equal(cs().ready, true);
    assert.equal(cond('Ready'), 'True');
    assert.equal(cond('ContainersReady'), 'True');
    healthy = false;
    const before = requeued;
    await clock.advance(1_000);
    assert.ok(requeued > before, 'a liveness failure asks for a sync');
    worker.sync('default/p');
    await settle();
    assert.deepEqual(stops, ['id0/2'], 'killed with the probe\'s terminationGracePeriodSeconds');
    assert.ok(events.includes('Warning Unhealthy Liveness probe failed: cat: /tmp/healthy: No such file or directory'));
    assert.ok(events.includes('Normal Killing Container c failed liveness probe, will be restarted'));
    assert.equal(cs().restartCount, 1);
    assert.equal((cs().lastState as { terminated: { exitCode: number } }).terminated.exitCode, 137);
    assert.equal(cs().ready, false, 'the new run is not ready until its readiness probe passes');
    await worker.stop();
  });
});
