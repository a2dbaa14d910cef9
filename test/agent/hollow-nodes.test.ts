// Hollow nodes against a real (in-process) API server: registration as the
// kubelet registers, Lease heartbeats, and pods bound to a node run through
// the node agent's pod worker and fake runtime with the status the kubelet
// would report. Every wait polls; nothing asserts how long anything took.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeList, KubeObject } from '../../src/api/object.js';
import { hollowNodeLabel, startHollowNodes, type HollowNodes } from '../../src/agent/index.js';
import { startTestApiServer, type TestApiServer } from '../apiserver/harness.js';
import { condition, createBoundPod, eventually, getPod, listLeases, nodesPath, podsIn, statusOf } from './helpers.js';

const prefix = 'hn-';

describe('hollow nodes', () => {
  let api: TestApiServer;
  let hollow: HollowNodes;

  before(async () => {
    api = await startTestApiServer();
    hollow = await startHollowNodes(api.client, {
      nodes: 20,
      namePrefix: prefix,
      leaseRenewIntervalMs: 250,
      crashLoopBackOff: { initialMs: 5_000, maxMs: 10_000 },
      events: true,
    });
  });

  after(async () => {
    await hollow?.stop();
    await api?.close();
  });

  it('registers 20 nodes Ready, with the kubelet labels, capacity, allocatable, addresses and node info', async () => {
    assert.equal(hollow.nodes.length, 20);
    const list = await api.client.list<KubeList>(nodesPath, { labelSelector: `${hollowNodeLabel}=true` });
    assert.equal(list.items.length, 20);
    const node = list.items.find((n) => n.metadata.name === `${prefix}3`)!;
    assert.ok(node, 'node hn-3 is registered');
    const labels = node.metadata.labels ?? {};
    assert.equal(labels['kubernetes.io/hostname'], `${prefix}3`);
    assert.equal(labels['kubernetes.io/os'], 'linux');
    assert.ok(labels['kubernetes.io/arch']);
    const status = node.status as {
      capacity: Record<string, string>;
      allocatable: Record<string, string>;
      conditions: { type: string; status: string; reason: string; message: string; lastHeartbeatTime: string; lastTransitionTime: string }[];
      addresses: { type: string; address: string }[];
      daemonEndpoints: { kubeletEndpoint: { Port: number } };
      nodeInfo: Record<string, string>;
    };
    assert.deepEqual(
      { cpu: status.capacity.cpu, memory: status.capacity.memory, pods: status.capacity.pods, 'ephemeral-storage': status.capacity['ephemeral-storage'] },
      { cpu: '4', memory: '16Gi', pods: '110', 'ephemeral-storage': '100Gi' },
    );
    assert.deepEqual(status.allocatable, status.capacity);
    const byType = Object.fromEntries(status.conditions.map((c) => [c.type, c]));
    assert.deepEqual(
      Object.fromEntries(Object.entries(byType).map(([t, c]) => [t, [c.status, c.reason, c.message]])),
      {
        NetworkUnavailable: ['False', 'RouteCreated', 'RouteController created a route'],
        MemoryPressure: ['False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
        DiskPressure: ['False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
        PIDPressure: ['False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
        Ready: ['True', 'KubeletReady', 'kubelet is posting ready status'],
      },
    );
    for (const c of status.conditions) {
      assert.match(c.lastHeartbeatTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.match(c.lastTransitionTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
    assert.deepEqual(status.addresses.map((a) => a.type), ['InternalIP', 'Hostname']);
    assert.equal(status.addresses[1]!.address, `${prefix}3`);
    assert.equal(status.daemonEndpoints.kubeletEndpoint.Port, 10250);
    assert.equal(status.nodeInfo.operatingSystem, 'linux');
    assert.equal(status.nodeInfo.containerRuntimeVersion, 'fake://0.1.0');
    assert.match(status.nodeInfo.kubeletVersion!, /^v1\.\d+\.\d+/);
    const internalIPs = new Set(list.items.map((n) => (n.status as typeof status).addresses[0]!.address));
    assert.equal(internalIPs.size, 20, 'every node has its own InternalIP');
  });

  it('holds a Lease per node in kube-node-lease and renews it', async () => {
    const leases = await listLeases(api.client, prefix);
    assert.equal(leases.length, 20);
    const first = new Map(leases.map((l) => [l.metadata.name!, (l.spec as { renewTime: string }).renewTime]));
    for (const l of leases) {
      const spec = l.spec as { holderIdentity: string; leaseDurationSeconds: number; renewTime: string };
      assert.equal(spec.holderIdentity, l.metadata.name);
      assert.equal(spec.leaseDurationSeconds, 40);
      assert.match(spec.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      assert.deepEqual(
        l.metadata.ownerReferences?.map((o) => [o.apiVersion, o.kind, o.name]),
        [['v1', 'Node', l.metadata.name]],
      );
    }
    await eventually('every lease renewed', async () => {
      const now = await listLeases(api.client, prefix);
      return now.every((l) => Date.parse((l.spec as { renewTime: string }).renewTime) > Date.parse(first.get(l.metadata.name!)!));
    });
  });

  it('runs a bound pod: Running, Ready, with the container status the kubelet reports', async () => {
    const created = await createBoundPod(api.client, 'default', 'web', `${prefix}5`);
    const pod = await eventually('pod web Running and Ready', async () => {
      const p = await getPod(api.client, 'default', 'web');
      return statusOf(p).phase === 'Running' && condition(p, 'Ready')?.status === 'True' && p;
    });
    const status = statusOf(pod);
    assert.deepEqual(
      status.conditions.map((c) => [c.type, c.status]),
      [
        ['PodReadyToStartContainers', 'True'],
        ['Initialized', 'True'],
        ['Ready', 'True'],
        ['ContainersReady', 'True'],
        ['PodScheduled', 'True'],
      ],
    );
    for (const c of status.conditions) {
      assert.ok(c.lastTransitionTime, `${c.type} has a lastTransitionTime`);
      assert.equal(c.reason, undefined, `${c.type} has no reason once True`);
      assert.equal(c.message, undefined, `${c.type} has no message once True`);
    }
    const node = await api.client.get<KubeObject>({ ...nodesPath, name: `${prefix}5` });
    const nodeIP = (node.status as { addresses: { address: string }[] }).addresses[0]!.address;
    assert.equal(status.hostIP, nodeIP);
    assert.deepEqual(status.hostIPs, [{ ip: nodeIP }]);
    const podCIDR = (node.spec as { podCIDR: string }).podCIDR;
    assert.ok(status.podIP?.startsWith(podCIDR.replace(/0\/24$/, '')), `pod IP ${status.podIP} is in the node's range ${podCIDR}`);
    assert.deepEqual(status.podIPs, [{ ip: status.podIP }]);
    assert.match(status.startTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(status.qosClass, 'BestEffort');
    assert.equal(status.initContainerStatuses, undefined);
    const [cs] = status.containerStatuses ?? [];
    assert.ok(cs);
    assert.equal(cs.name, 'app');
    assert.equal(cs.image, 'docker.io/library/nginx:latest');
    assert.match(cs.imageID, /^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
    assert.match(cs.containerID ?? '', /^fake:\/\/[0-9a-f]{64}$/);
    assert.equal(cs.ready, true);
    assert.equal(cs.started, true);
    assert.equal(cs.restartCount, 0);
    assert.deepEqual(cs.lastState, {});
    assert.match(cs.state.running?.startedAt ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(pod.metadata.uid, created.metadata.uid);
    const started = await eventually('a Started event', async () => {
      const list = await api.client.list<KubeList>({ group: '', version: 'v1', plural: 'events', namespace: 'default' }, { fieldSelector: 'involvedObject.name=web,reason=Started' });
      return list.items[0];
    });
    assert.equal(started.message, 'Started container app');
    assert.deepEqual(started.source, { component: 'kubelet', host: `${prefix}5` });
  });

  it('finishes a graceful deletion: containers stop (exit 0, Completed), then the agent deletes the pod', async () => {
    await createBoundPod(api.client, 'default', 'doomed', `${prefix}7`);
    await eventually('pod doomed Running', async () => statusOf(await getPod(api.client, 'default', 'doomed')).phase === 'Running');
    const seen: { type: string; object: KubeObject }[] = [];
    const watch = api.client.watch(podsIn('default'), { fieldSelector: 'metadata.name=doomed' }, (type, object) => seen.push({ type, object }));
    try {
      await eventually('watch started', async () => seen.length > 0);
      const deleting = await api.client.delete<KubeObject>({ ...podsIn('default'), name: 'doomed' });
      assert.ok(deleting.metadata.deletionTimestamp, 'a pod on a node is deleted gracefully');
      await eventually('pod doomed gone', async () => (await getPod(api.client, 'default', 'doomed')) === undefined);
      await eventually('DELETED event', async () => seen.some((e) => e.type === 'DELETED'));
    } finally {
      watch.stop();
    }
    const beforeDelete = seen.filter((e) => e.type === 'MODIFIED').at(-1)!.object;
    const status = statusOf(beforeDelete);
    assert.equal(status.phase, 'Succeeded');
    const terminated = status.containerStatuses?.[0]?.state.terminated;
    assert.equal(terminated?.exitCode, 0);
    assert.equal(terminated?.reason, 'Completed');
    assert.match(terminated?.containerID ?? '', /^fake:\/\//);
    assert.equal(condition(beforeDelete, 'Ready')?.status, 'False');
    assert.equal(condition(beforeDelete, 'PodReadyToStartContainers')?.status, 'False');
  });

  it('ends a restartPolicy Never pod with the fake exit code: Failed for 3, Succeeded for 0', async () => {
    await createBoundPod(api.client, 'default', 'job-fail', `${prefix}8`, { restartPolicy: 'Never', annotations: { 'nami.dev/fake-exit-code': '3' } });
    await createBoundPod(api.client, 'default', 'job-ok', `${prefix}8`, { restartPolicy: 'Never', annotations: { 'nami.dev/fake-exit-code': '0', 'nami.dev/fake-exit-after-ms': '50' } });
    const failed = await eventually('job-fail Failed', async () => {
      const p = await getPod(api.client, 'default', 'job-fail');
      return statusOf(p).phase === 'Failed' && p;
    });
    const fs = statusOf(failed).containerStatuses![0]!;
    assert.equal(fs.state.terminated?.exitCode, 3);
    assert.equal(fs.state.terminated?.reason, 'Error');
    assert.equal(fs.ready, false);
    assert.equal(fs.restartCount, 0);
    assert.deepEqual([condition(failed, 'Ready')?.status, condition(failed, 'Ready')?.reason], ['False', 'PodFailed']);
    assert.deepEqual([condition(failed, 'ContainersReady')?.status, condition(failed, 'ContainersReady')?.reason], ['False', 'PodFailed']);
    // It ran for a moment, and is never seen Running: its status still keeps the IP its sandbox had, as the kubelet's does.
    assert.match(statusOf(failed).podIP ?? '', /^\d+\.\d+\.\d+\.\d+$/);
    assert.deepEqual(statusOf(failed).podIPs, [{ ip: statusOf(failed).podIP }]);
    const ok = await eventually('job-ok Succeeded', async () => {
      const p = await getPod(api.client, 'default', 'job-ok');
      return statusOf(p).phase === 'Succeeded' && p;
    });
    const os = statusOf(ok).containerStatuses![0]!;
    assert.equal(os.state.terminated?.exitCode, 0);
    assert.equal(os.state.terminated?.reason, 'Completed');
    assert.deepEqual([condition(ok, 'Ready')?.status, condition(ok, 'Ready')?.reason], ['False', 'PodCompleted']);
    assert.deepEqual([condition(ok, 'Initialized')?.status, condition(ok, 'Initialized')?.reason], ['True', 'PodCompleted']);
    // The sandbox goes once the pod has finished.
    await eventually('job-ok sandbox released', async () => condition(await getPod(api.client, 'default', 'job-ok'), 'PodReadyToStartContainers')?.status === 'False');
    // A finished pod is deleted at once by the API server: nothing left for the agent to do.
    await api.client.delete({ ...podsIn('default'), name: 'job-ok' });
    assert.equal(await getPod(api.client, 'default', 'job-ok'), undefined);
  });

  it('restarts an OnFailure container that fails, then backs off (CrashLoopBackOff)', async () => {
    const created = await createBoundPod(api.client, 'default', 'crasher', `${prefix}9`, { restartPolicy: 'OnFailure', annotations: { 'nami.dev/fake-exit-code': '1' } });
    const pod = await eventually('crasher in CrashLoopBackOff', async () => {
      const p = await getPod(api.client, 'default', 'crasher');
      return statusOf(p).containerStatuses?.[0]?.state.waiting?.reason === 'CrashLoopBackOff' && p;
    });
    const cs = statusOf(pod).containerStatuses![0]!;
    assert.equal(statusOf(pod).phase, 'Running');
    assert.equal(cs.restartCount, 1);
    assert.equal(cs.state.waiting?.message, `back-off 5s restarting failed container=app pod=crasher_default(${created.metadata.uid})`);
    assert.equal(cs.lastState.terminated?.exitCode, 1);
    assert.equal(cs.lastState.terminated?.reason, 'Error');
    assert.deepEqual([condition(pod, 'ContainersReady')?.status, condition(pod, 'ContainersReady')?.message], ['False', 'containers with unready status: [app]']);
    await api.client.delete({ ...podsIn('default'), name: 'crasher' });
    await eventually('crasher gone', async () => (await getPod(api.client, 'default', 'crasher')) === undefined);
  });

  it('runs init containers to completion before the regular ones', async () => {
    await createBoundPod(api.client, 'default', 'with-init', `${prefix}10`, { initContainers: [{ name: 'setup', image: 'busybox:1.36' }] });
    const pod = await eventually('with-init Running', async () => {
      const p = await getPod(api.client, 'default', 'with-init');
      return statusOf(p).phase === 'Running' && p;
    });
    const [init] = statusOf(pod).initContainerStatuses ?? [];
    assert.equal(init?.name, 'setup');
    assert.equal(init?.image, 'docker.io/library/busybox:1.36');
    assert.equal(init?.state.terminated?.exitCode, 0);
    assert.equal(init?.state.terminated?.reason, 'Completed');
    assert.equal(init?.ready, true);
    assert.equal(init?.started, false);
    assert.equal(condition(pod, 'Initialized')?.status, 'True');
    const running = statusOf(pod).containerStatuses![0]!;
    assert.ok(running.state.running);
    // A terminated init container started before the regular one.
    assert.ok(Date.parse(init!.state.terminated!.finishedAt) <= Date.parse(running.state.running!.startedAt));
  });

  it('rejects a pod beyond the node pod capacity with OutOfpods', { timeout: 120_000 }, async () => {
    // hn-19 takes 110 pods; the 111th is rejected by the agent's admission.
    const node = `${prefix}19`;
    for (let i = 0; i < 110; i++) await createBoundPod(api.client, 'default', `fill-${i}`, node);
    await eventually('110 pods Running on hn-19', async () => {
      const list = await api.client.list<KubeList>(podsIn('default'), { fieldSelector: `spec.nodeName=${node}` });
      return list.items.filter((p) => statusOf(p).phase === 'Running').length === 110;
    });
    await createBoundPod(api.client, 'default', 'one-too-many', node);
    const rejected = await eventually('one-too-many Failed', async () => {
      const p = await getPod(api.client, 'default', 'one-too-many');
      return statusOf(p).phase === 'Failed' && p;
    });
    assert.equal(statusOf(rejected).reason, 'OutOfpods');
    assert.equal(statusOf(rejected).message, "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 110, capacity: 110");
  });
});
