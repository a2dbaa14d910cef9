// The node lifecycle controller against a real API server, with nodes
// simulated by Node objects and Leases the test renews (or stops renewing).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeList, KubeObject } from '../../src/api/object.js';
import { NodeLifecycleController } from '../../src/controllers/nodelifecycle/index.js';
import { condition, core, createNamespace, getOrUndefined, podManifest, setPodStatus, startControllerEnv, testLog, waitFor, type ControllerEnv } from './core-controllers-env.js';

const ns = 'nodelifecycle-test';
const leases = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: 'kube-node-lease' };

let env: ControllerEnv;
let controller: NodeLifecycleController;

function seconds(t = Date.now()): string {
  return new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
}
function micro(t = Date.now()): string {
  return new Date(t).toISOString().replace(/Z$/, '000Z');
}

type Taint = { key: string; effect: string; timeAdded?: string };
const taintsOf = (node: KubeObject | undefined) => (((node?.spec as { taints?: Taint[] } | undefined)?.taints ?? []) as Taint[]).map((t) => `${t.key}:${t.effect}`).sort();

/** A simulated node agent: posts Ready status and renews the node's Lease. */
class FakeKubelet {
  private timer: NodeJS.Timeout | undefined;
  constructor(readonly name: string) {}

  async register(): Promise<void> {
    await env.client.create(core('nodes'), { apiVersion: 'v1', kind: 'Node', metadata: { name: this.name, labels: { 'kubernetes.io/hostname': this.name } } });
    await this.postStatus('True');
    await env.client.create(leases, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: 'kube-node-lease' },
      spec: { holderIdentity: this.name, leaseDurationSeconds: 40, renewTime: micro() },
    });
  }

  async postStatus(ready: 'True' | 'False'): Promise<void> {
    const now = seconds();
    const conditions = [
      { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available', lastHeartbeatTime: now, lastTransitionTime: now },
      { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure', lastHeartbeatTime: now, lastTransitionTime: now },
      { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available', lastHeartbeatTime: now, lastTransitionTime: now },
      ready === 'True'
        ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }
        : { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'container runtime network not ready', lastHeartbeatTime: now, lastTransitionTime: now },
    ];
    await env.client.patch(core('nodes', undefined, this.name, 'status'), { status: { conditions } }, 'merge');
  }

  async renew(): Promise<void> {
    await env.client.patch({ ...leases, name: this.name }, { spec: { renewTime: micro() } }, 'merge');
  }

  startRenewing(): void {
    this.timer = setInterval(() => void this.renew().catch(() => undefined), 200);
  }

  stopRenewing(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

before(async () => {
  env = await startControllerEnv();
  await createNamespace(env.client, ns);
  controller = new NodeLifecycleController(env.factory, {
    log: testLog,
    nodeMonitorGracePeriodMs: 3000,
    nodeStartupGracePeriodMs: 2000,
    nodeMonitorPeriodMs: 500,
  });
  await env.factory.start();
  await controller.start();
});

after(async () => {
  controller?.stop();
  await env?.close();
});

async function events(reason: string): Promise<KubeObject[]> {
  const list = await env.client.list<KubeList>(core('events', ns));
  return list.items.filter((e) => e.reason === reason);
}

const unreachableFor = (seconds?: number) => ({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', ...(seconds === undefined ? {} : { tolerationSeconds: seconds }) });

describe('a node whose Lease stops being renewed', () => {
  const kubelet = new FakeKubelet('node-a');

  it('is left untainted while its Lease is renewed', async () => {
    await kubelet.register();
    kubelet.startRenewing();
    for (const [name, tolerations] of [
      // The API server gives pods without one a 300 s toleration (DefaultTolerationSeconds); 0 s tolerates nothing.
      ['plain', [unreachableFor(0)]],
      ['brief', [unreachableFor(2)]],
      ['patient', [unreachableFor(600)]],
      ['forever', [unreachableFor()]],
    ] as const) {
      await env.client.create(core('pods', ns), podManifest(name, { nodeName: 'node-a', tolerations: [...tolerations] as Record<string, unknown>[] }));
    }
    for (const [i, name] of ['plain', 'brief', 'patient', 'forever'].entries()) await setPodStatus(env.client, ns, name, `10.244.1.${i + 1}`, true);
    // The controller has seen the node once it recorded it (RegisteredNode).
    await waitFor('the node registered', async () => {
      const list = await env.client.list<KubeList>(core('events', 'default'));
      return list.items.some((e) => e.reason === 'RegisteredNode' && (e.involvedObject as { name?: string }).name === 'node-a');
    });
    await controller.sync('node-a');
    const node = await env.client.get(core('nodes', undefined, 'node-a'));
    assert.deepEqual(taintsOf(node), []);
    assert.equal(condition(node, 'Ready')?.status, 'True');
  });

  it('turns Ready=Unknown with the unreachable taints', async () => {
    kubelet.stopRenewing();
    const node = await waitFor('node-a Ready=Unknown', async () => {
      const n = await env.client.get(core('nodes', undefined, 'node-a'));
      return condition(n, 'Ready')?.status === 'Unknown' ? n : undefined;
    });
    assert.equal(condition(node, 'Ready')?.reason, 'NodeStatusUnknown');
    assert.equal(condition(node, 'Ready')?.message, 'Kubelet stopped posting node status.');
    for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) {
      assert.equal(condition(node, type)?.status, 'Unknown', type);
      assert.equal(condition(node, type)?.reason, 'NodeStatusUnknown', type);
    }
    const tainted = await waitFor('the unreachable taints', async () => {
      const n = await env.client.get(core('nodes', undefined, 'node-a'));
      return taintsOf(n).join() === 'node.kubernetes.io/unreachable:NoExecute,node.kubernetes.io/unreachable:NoSchedule' ? n : undefined;
    });
    for (const t of (tainted.spec as { taints: Taint[] }).taints) assert.ok(t.timeAdded, `${t.key}:${t.effect} has timeAdded`);
    const notReady = await waitFor('a NodeNotReady event', async () => {
      const list = await env.client.list<KubeList>(core('events', 'default'));
      return list.items.find((e) => e.reason === 'NodeNotReady' && (e.involvedObject as { name?: string }).name === 'node-a');
    });
    assert.equal(notReady.message, 'Node node-a status is now: NodeNotReady');
  });

  it('has its pods that do not tolerate the taint deleted at once, and all marked not ready', async () => {
    const plain = await waitFor('the untolerating pod being deleted', async () => {
      const p = await getOrUndefined(env.client, core('pods', ns, 'plain'));
      return p === undefined || p.metadata.deletionTimestamp ? (p ?? ({} as KubeObject)) : undefined;
    });
    if (plain.metadata) assert.equal(condition(plain, 'DisruptionTarget')?.reason, 'DeletionByTaintManager');
    const marked = await waitFor('the eviction event', async () => (await events('TaintManagerEviction')).find((e) => e.message === `Marking for deletion Pod ${ns}/plain`));
    assert.equal((marked.involvedObject as { kind?: string }).kind, 'Pod');
    for (const name of ['patient', 'forever']) {
      await waitFor(`${name} marked not ready`, async () => condition(await env.client.get(core('pods', ns, name)), 'Ready')?.status === 'False');
    }
    // Marking pods not ready is the node lifecycle controller's own doing (MarkPodsNotReady), reported as node-controller.
    const notReady = await waitFor('a pod NodeNotReady event', async () => (await events('NodeNotReady')).find((e) => (e.involvedObject as { kind?: string }).kind === 'Pod'));
    assert.deepEqual([notReady.message, (notReady.source as { component?: string } | undefined)?.component], ['Node is not ready', 'node-controller']);
  });

  it('has a pod tolerating the taint for a while deleted once tolerationSeconds have passed', async () => {
    await waitFor('the briefly tolerating pod being deleted', async () => {
      const p = await getOrUndefined(env.client, core('pods', ns, 'brief'));
      return p === undefined || !!p.metadata.deletionTimestamp;
    });
    await waitFor('its eviction event', async () => (await events('TaintManagerEviction')).some((e) => e.message === `Marking for deletion Pod ${ns}/brief`));
    // Only after that pod went (its 2 s were over); the others tolerate longer or for ever.
    for (const name of ['patient', 'forever']) assert.equal((await env.client.get(core('pods', ns, name))).metadata.deletionTimestamp, undefined, name);
  });

  it('comes back when the Lease is renewed and the status is Ready again', async () => {
    await kubelet.renew();
    await kubelet.postStatus('True');
    kubelet.startRenewing();
    const node = await waitFor('the taints removed', async () => {
      const n = await env.client.get(core('nodes', undefined, 'node-a'));
      return taintsOf(n).length === 0 ? n : undefined;
    });
    assert.equal(condition(node, 'Ready')?.status, 'True');
    await waitFor('the patient pod’s deletion cancelled', async () => (await events('TaintManagerEviction')).some((e) => e.message === `Cancelling deletion of Pod ${ns}/patient`));
    await controller.sync('node-a');
    for (const name of ['patient', 'forever']) assert.equal((await env.client.get(core('pods', ns, name))).metadata.deletionTimestamp, undefined, name);
    assert.deepEqual(taintsOf(await env.client.get(core('nodes', undefined, 'node-a'))), []);
    kubelet.stopRenewing();
  });
});

describe('node taints from status and spec', () => {
  it('a node reporting Ready=False gets the not-ready taints, and loses them when Ready', async () => {
    const kubelet = new FakeKubelet('node-b');
    await kubelet.register();
    kubelet.startRenewing();
    try {
      await kubelet.postStatus('False');
      await waitFor('the not-ready taints', async () => taintsOf(await env.client.get(core('nodes', undefined, 'node-b'))).join() === 'node.kubernetes.io/not-ready:NoExecute,node.kubernetes.io/not-ready:NoSchedule');
      await kubelet.postStatus('True');
      await waitFor('no taints', async () => taintsOf(await env.client.get(core('nodes', undefined, 'node-b'))).length === 0);

      // kubectl cordon / uncordon
      await env.client.patch(core('nodes', undefined, 'node-b'), { spec: { unschedulable: true } }, 'strategic');
      await waitFor('the unschedulable taint', async () => taintsOf(await env.client.get(core('nodes', undefined, 'node-b'))).join() === 'node.kubernetes.io/unschedulable:NoSchedule');
      await env.client.patch(core('nodes', undefined, 'node-b'), { spec: { unschedulable: null } }, 'strategic');
      await waitFor('the unschedulable taint gone', async () => taintsOf(await env.client.get(core('nodes', undefined, 'node-b'))).length === 0);
    } finally {
      kubelet.stopRenewing();
    }
  });

  it('a node that never posts status is marked Unknown after the startup grace period', async () => {
    await env.client.create(core('nodes'), { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-silent' }, spec: { taints: [{ key: 'example.com/dedicated', value: 'db', effect: 'NoSchedule' }] } });
    const node = await waitFor('node-silent Ready=Unknown', async () => {
      const n = await env.client.get(core('nodes', undefined, 'node-silent'));
      return condition(n, 'Ready')?.status === 'Unknown' ? n : undefined;
    });
    assert.equal(condition(node, 'Ready')?.reason, 'NodeStatusNeverUpdated');
    assert.equal(condition(node, 'Ready')?.message, 'Kubelet never posted node status.');
    await waitFor('the unreachable taints beside the user’s', async () =>
      taintsOf(await env.client.get(core('nodes', undefined, 'node-silent'))).join() === 'example.com/dedicated:NoSchedule,node.kubernetes.io/unreachable:NoExecute,node.kubernetes.io/unreachable:NoSchedule',
    );
  });
});
