// The pod worker's image pull back-off: a start that fails with ErrImagePull shows ErrImagePull,
// then ImagePullBackOff (event BackOff "Back-off pulling image") until the back-off ends, then
// pulls again. Uses a stub runtime; nothing runs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PodWorker } from '../../src/agent/pod-worker.js';
import { ContainerStartError, type Runtime, type RuntimePod } from '../../src/agent/runtime.js';
import type { KubeObject } from '../../src/api/object.js';

describe('pod worker image pull back-off', () => {
  it('ErrImagePull, then ImagePullBackOff, then a new pull after the back-off', async () => {
    const uid = 'u1';
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid }, spec: { containers: [{ name: 'c', image: '127.0.0.1:1/x:1' }] }, status: {} } as unknown as KubeObject;
    let starts = 0;
    const rp: RuntimePod = { uid, namespace: 'default', name: 'p', sandbox: { id: 's', state: 'ready', ips: ['10.0.0.2'], createdAt: Date.now() }, containers: [] };
    const runtime = {
      type: 'stub', version: '0',
      runPodSandbox: async () => rp.sandbox!,
      startContainer: async () => {
        starts++;
        throw new ContainerStartError('ErrImagePull', 'failed to pull and unpack image "127.0.0.1:1/x:1": failed to resolve reference');
      },
      stopContainer: async () => {}, stopPodSandbox: async () => {}, removePod: async () => {},
      podStatus: async () => rp, listPods: async () => [rp], onPodEvent: () => {}, close: async () => {},
    } as unknown as Runtime;
    const statuses: Record<string, unknown>[] = [];
    const events: string[] = [];
    const requeues: (number | undefined)[] = [];
    const worker = new PodWorker({
      nodeName: 'n', hostIPs: ['127.0.0.1'], runtime, client: {} as never, limiter: {} as never,
      statusWriter: { baseStatus: () => ({}), set: async (_p: KubeObject, s: Record<string, unknown>) => { statuses.push(s); }, forget: () => {} } as never,
      getPod: () => pod,
      requeue: (_k, ms) => { requeues.push(ms); },
      backOff: { initialMs: 400, maxMs: 1000 },
      events: { record: async (_p: KubeObject, type: string, reason: string, message: string) => { events.push(`${type} ${reason} ${message}`); } } as never,
    });
    const waitingReason = () => {
      const cs = (statuses.at(-1)?.containerStatuses as { state: { waiting?: { reason: string; message?: string } } }[] | undefined)?.[0];
      return cs?.state.waiting;
    };
    const syncOnce = async () => {
      worker.sync('default/p');
      await worker.stop().then(() => { (worker as unknown as { stopped: boolean }).stopped = false; });
    };
    await syncOnce();
    assert.equal(starts, 1);
    assert.equal(waitingReason()?.reason, 'ErrImagePull');
    assert.equal(requeues.at(-1), 200, 'the next sync comes within the back-off');
    await syncOnce();
    assert.equal(starts, 1, 'no pull during the back-off');
    assert.deepEqual(waitingReason(), { reason: 'ImagePullBackOff', message: 'Back-off pulling image "127.0.0.1:1/x:1"' });
    assert.ok(events.includes('Normal BackOff Back-off pulling image "127.0.0.1:1/x:1"'), events.join('\n'));
    assert.ok(requeues.at(-1)! > 0 && requeues.at(-1)! <= 400);
    await new Promise((r) => setTimeout(r, 450));
    await syncOnce();
    assert.equal(starts, 2, 'pulls again after the back-off');
    assert.equal(waitingReason()?.reason, 'ErrImagePull');
    assert.equal(requeues.at(-1), 400, 'the back-off doubled');
  });
});
