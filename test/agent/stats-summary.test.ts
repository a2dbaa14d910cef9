// The Summary API: rates from two cpu readings, the shape of node and pod figures, /proc parsers;
// then GET /stats/summary through the API server's node proxy to an agent with the fake runtime,
// and the agent's client-certificate rule.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeRuntime, localNodeConfig, startNodeAgent, type NodeAgentGroup } from '../../src/agent/index.js';
import { parseNetDev } from '../../src/agent/proc-stats.js';
import type { PodUsage, Runtime } from '../../src/agent/runtime.js';
import { startKubeletServer, type RunningKubeletServer } from '../../src/agent/server/kubelet-server.js';
import { selfSignedServingCert } from '../../src/agent/server/serving-cert.js';
import { StatsSummary } from '../../src/agent/server/stats-summary.js';
import { startTestApiServer, type TestApiServer } from '../apiserver/harness.js';
import { createBoundPod, eventually, getPod } from './helpers.js';

// The summary is read loosely: its shape is what the assertions check.
type Json = Record<string, any>;

/** A runtime whose one pod burns half a core in its one container (cpu time grows with the clock) and holds 10 MiB. */
function burningRuntime(): Runtime {
  const start = Date.now();
  const figures = (now: number) => ({ time: now, cpuUsageNanoSeconds: (now - start) * 500_000, memoryUsageBytes: 12 << 20, memoryWorkingSetBytes: 10 << 20, memoryRssBytes: 8 << 20 });
  return {
    usage: async (): Promise<PodUsage[]> => {
      const now = Date.now();
      return [{
        ...figures(now), uid: 'u1', namespace: 'default', name: 'burn', createdAt: start,
        containers: [{ ...figures(now), name: 'c', id: 'c1', startedAt: start, rootfsUsedBytes: 4096, logsUsedBytes: 100 }],
        network: [{ name: 'eth0', rxBytes: 1000, rxErrors: 0, txBytes: 2000, txErrors: 0 }],
        volumes: [{ name: 'scratch', usedBytes: 8192 }],
      }];
    },
  } as unknown as Runtime;
}

describe('stats summary', () => {
  it('reports usageNanoCores from two readings, even on the first request, with the kubelet Summary shape', async () => {
    const s = new StatsSummary({ nodeName: 'n1', runtime: burningRuntime(), fsPath: tmpdir() });
    const first = (await s.summary()) as Json;
    assert.equal(first.node.nodeName, 'n1');
    assert.ok(first.node.cpu.usageCoreNanoSeconds > 0);
    assert.ok(Number.isInteger(first.node.cpu.usageNanoCores), 'the node has a cpu rate');
    assert.ok(first.node.memory.workingSetBytes > 0 && first.node.memory.usageBytes >= first.node.memory.workingSetBytes);
    assert.ok(first.node.fs.capacityBytes > 0);
    const pod = first.pods[0];
    assert.deepEqual(pod.podRef, { name: 'burn', namespace: 'default', uid: 'u1' });
    assert.equal(pod.cpu.usageNanoCores, 500_000_000, 'half a core');
    assert.equal(pod.containers[0].cpu.usageNanoCores, 500_000_000);
    assert.equal(pod.memory.workingSetBytes, 10 << 20);
    assert.equal(pod.containers[0].memory.rssBytes, 8 << 20);
    assert.equal(pod.containers[0].rootfs.usedBytes, 4096);
    assert.equal(pod.containers[0].logs.usedBytes, 100);
    assert.deepEqual([pod.network.name, pod.network.rxBytes, pod.network.txBytes], ['eth0', 1000, 2000]);
    assert.deepEqual(pod.volume.map((v: Json) => [v.name, v.usedBytes]), [['scratch', 8192]]);
    assert.equal(pod['ephemeral-storage'].usedBytes, 4096 + 100 + 8192);
    const only = (await s.summary(true)) as Json;
    assert.equal(only.pods[0].network, undefined, 'only_cpu_and_memory leaves the rest out');
    assert.equal(only.pods[0].cpu.usageNanoCores, 500_000_000);
  });

  it('parses /proc/net/dev without loopback', () => {
    const text = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0
  eth0:    5000      40    2    0    0     0          0         0     7000      50    3    0    0     0       0          0
`;
    assert.deepEqual(parseNetDev(text), [{ name: 'eth0', rxBytes: 5000, rxErrors: 2, txBytes: 7000, txErrors: 3 }]);
  });
});

describe('stats summary through the node proxy', () => {
  let api: TestApiServer;
  let agent: NodeAgentGroup;
  let kubelet: RunningKubeletServer;
  const dir = mkdtempSync(join(tmpdir(), 'nami-stats-'));

  before(async () => {
    api = await startTestApiServer();
    const runtime = new FakeRuntime({ podCidr: '10.252.0.0/24' });
    const serving = selfSignedServingCert('stats-node', ['localhost'], ['127.0.0.1']);
    kubelet = await startKubeletServer({ runtime, clientCaPem: api.config.caPem!, ...serving, host: '127.0.0.1', port: 0, nodeName: 'stats-node', fsPath: dir });
    agent = await startNodeAgent(api.client, localNodeConfig({ name: 'stats-node', internalIP: '127.0.0.1', kubeletPort: kubelet.port, podCIDR: '10.252.0.0/24' }), runtime, {});
  });

  after(async () => {
    await agent?.stop();
    await kubelet?.close();
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kubectl get --raw /api/v1/nodes/<node>/proxy/stats/summary reaches the agent', async () => {
    await createBoundPod(api.client, 'default', 'idle', 'stats-node');
    await eventually('idle to run', async () => ((await getPod(api.client, 'default', 'idle'))?.status as { phase?: string } | undefined)?.phase === 'Running');
    const res = await api.raw('GET', '/api/v1/nodes/stats-node/proxy/stats/summary');
    assert.equal(res.status, 200, res.text);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const summary = JSON.parse(res.text) as Json;
    assert.equal(summary.node.nodeName, 'stats-node');
    const pod = summary.pods.find((p: Json) => p.podRef.name === 'idle');
    assert.ok(pod, 'the running pod is listed');
    assert.equal(pod.containers[0].name, 'app');
    assert.equal(pod.cpu.usageNanoCores, 0, 'the fake runtime runs nothing');
    const missing = await api.raw('GET', '/api/v1/nodes/stats-node/proxy/nothing/here');
    assert.equal(missing.status, 404);
    const noNode = await api.raw('GET', '/api/v1/nodes/nope/proxy/stats/summary');
    assert.equal(noNode.status, 404);
  });

  it('turns away callers without a cluster-signed client certificate', async () => {
    const code = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest({ hostname: '127.0.0.1', port: kubelet.port, path: '/stats/summary', rejectUnauthorized: false, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(code, 401);
  });
});
