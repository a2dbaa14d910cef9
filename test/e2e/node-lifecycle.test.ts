// Real containers on `nami agent` (runc) driven by real kubectl: lifecycle hooks (a postStart
// hook's output read by the main container, a preStop hook writing into a hostPath volume, a
// failing postStart), a persistentVolumeClaim that waits until it is bound, pod cgroups by QoS
// class, and usage figures through `kubectl get --raw .../proxy/stats/summary`.
// Bridge nami-h1, pod range 10.198.11.0/24.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cgroupDir, cgroupV2, sharesToWeight } from '../../src/agent/runtimes/runc/cgroups.js';
import { containerSkipReason, deleteLink, eventually, KubectlRunner, kubectlOrSkip, namiOk, startAgent, startNami, type RunningHollow, type RunningNami } from './harness.js';

const { kubectl, skip: noKubectl } = kubectlOrSkip('1.33');
const skip = noKubectl || containerSkipReason() || false;
const image = 'nami.dev/busybox:latest';
const node = 'node-h1';
type Json = Record<string, any>;

/** Sends bytes to host:port and closes. */
function send(host: string, port: number, bytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port }, () => sock.end(Buffer.alloc(bytes, 120)));
    sock.on('close', () => resolve());
    sock.on('error', reject);
    sock.setTimeout(5000, () => sock.destroy());
  });
}

describe('lifecycle hooks, claims, QoS cgroups and usage figures on nami agent (runc)', { skip }, () => {
  let nami: RunningNami;
  let agent: RunningHollow;
  let k: KubectlRunner;
  let nodeDir: string;
  let hostDir: string;

  before(async () => {
    nami = await startNami();
    nodeDir = mkdtempSync(join(tmpdir(), 'nami-node-h1-'));
    hostDir = mkdtempSync(join(tmpdir(), 'nami-h1-host-'));
    namiOk(['image', 'busybox', '--data-dir', nodeDir]);
    agent = await startAgent(nami.kubeconfig, ['--data-dir', nodeDir, '--name', node, '--bridge', 'nami-h1', '--pod-cidr', '10.198.11.0/24']);
    k = new KubectlRunner(kubectl!, nami.kubeconfig);
  });
  after(async () => {
    await k?.run(['delete', 'pods', '--all', '--wait=true', '--timeout=60s']);
    await agent?.stop();
    await nami?.stop();
    k?.cleanup();
    for (const d of [nodeDir, hostDir]) if (d) rmSync(d, { recursive: true, force: true });
    deleteLink('nami-h1');
  });

  const jsonpath = (pod: string, path: string) => k.ok(['get', 'pod', pod, '-o', `jsonpath=${path}`]);
  const apply = (name: string, obj: unknown) => k.ok(['apply', '-f', k.writeFile(`${name}.json`, JSON.stringify(obj))]);
  const pod = (name: string, spec: Json) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: node, ...spec } });

  test('postStart output reaches the main container; preStop writes into a hostPath before the stop', async () => {
    await apply('hooks', pod('hooks', {
      terminationGracePeriodSeconds: 10,
      volumes: [{ name: 'data', emptyDir: {} }, { name: 'out', hostPath: { path: hostDir } }],
      containers: [{
        name: 'main', image, imagePullPolicy: 'IfNotPresent',
        command: ['sh', '-c', 'trap "exit 0" TERM; while [ ! -f /data/started ]; do sleep 0.1; done; cat /data/started; while :; do sleep 1; done'],
        volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'out', mountPath: '/out' }],
        lifecycle: {
          postStart: { exec: { command: ['sh', '-c', 'echo post-start-ran > /data/started'] } },
          preStop: { exec: { command: ['sh', '-c', 'echo pre-stop-ran > /out/prestop'] } },
        },
      }],
    }));
    await eventually('hooks to run', async () => ((await jsonpath('hooks', '{.status.phase}')) === 'Running' ? true : undefined), 60_000);
    await eventually('the main container to read the postStart output', async () => ((await k.ok(['logs', 'hooks'])).trim() === 'post-start-ran' ? true : undefined), 30_000);
    assert.ok(!existsSync(join(hostDir, 'prestop')));
    await k.ok(['delete', 'pod', 'hooks', '--wait=true', '--timeout=60s']);
    assert.equal(readFileSync(join(hostDir, 'prestop'), 'utf8'), 'pre-stop-ran\n');
  });

  test('a failing postStart: FailedPostStartHook and the container killed', async () => {
    await apply('badhook', pod('badhook', {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'main', image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'], lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo nope; exit 1'] } } } }],
    }));
    await eventually('badhook to fail', async () => ((await jsonpath('badhook', '{.status.phase}')) === 'Failed' ? true : undefined), 60_000);
    const events = await k.ok(['get', 'events', '--field-selector', 'involvedObject.name=badhook', '-o', 'jsonpath={range .items[*]}{.reason}|{.message}{"\\n"}{end}']);
    assert.match(events, /^FailedPostStartHook\|PostStartHook failed$/m);
    assert.match(events, /^Killing\|FailedPostStartHook$/m);
    assert.notEqual(await jsonpath('badhook', '{.status.containerStatuses[0].state.terminated.exitCode}'), '0');
  });

  test('a persistentVolumeClaim: the container waits until the claim is bound, then mounts the volume', async () => {
    writeFileSync(join(hostDir, 'seed'), 'seeded\n');
    await apply('claim', { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'claim' }, spec: { storageClassName: '', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } } });
    await apply('claimer', pod('claimer', {
      restartPolicy: 'Never',
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'claim' } }],
      containers: [{ name: 'main', image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'cat /data/seed; echo from-pod > /data/out'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
    }));
    const message = await eventually('the container waiting for its claim', async () => (await jsonpath('claimer', '{.status.containerStatuses[0].state.waiting.message}')) || undefined, 60_000);
    assert.match(message, /error processing PVC default\/claim: PVC is not bound/);
    assert.equal(await jsonpath('claimer', '{.status.phase}'), 'Pending');
    await apply('pv', { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv-h1' }, spec: { storageClassName: '', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Mi' }, persistentVolumeReclaimPolicy: 'Retain', hostPath: { path: hostDir } } });
    await eventually('claimer to succeed', async () => ((await jsonpath('claimer', '{.status.phase}')) === 'Succeeded' ? true : undefined), 90_000);
    assert.equal((await k.ok(['logs', 'claimer'])).trim(), 'seeded');
    assert.equal(readFileSync(join(hostDir, 'out'), 'utf8'), 'from-pod\n');
  });

  test('a pod burning cpu: its QoS cgroup, and cpu, memory and network in /stats/summary', async () => {
    await apply('burner', pod('burner', {
      containers: [
        { name: 'burn', image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'while :; do :; done'], resources: { requests: { cpu: '100m', memory: '16Mi' } } },
        { name: 'listen', image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'while :; do nc -l -p 8080 > /dev/null; done'] },
      ],
    }));
    await eventually('burner to run', async () => ((await jsonpath('burner', '{.status.phase}')) === 'Running' ? true : undefined), 60_000);
    const uid = await jsonpath('burner', '{.metadata.uid}');
    const ip = await jsonpath('burner', '{.status.podIP}');
    assert.match(ip, /^10\.198\.11\.\d+$/);
    // Burstable: kubepods/burstable/pod<uid>, shares from the summed cpu requests (100m).
    const parent = `kubepods/burstable/pod${uid}`;
    if (cgroupV2()) assert.equal(readFileSync(join(cgroupDir(parent), 'cpu.weight'), 'utf8').trim(), String(sharesToWeight(102)));
    else assert.equal(readFileSync(join(cgroupDir(parent, 'cpu'), 'cpu.shares'), 'utf8').trim(), '102');

    const summary = async (): Promise<Json> => JSON.parse(await k.ok(['get', '--raw', `/api/v1/nodes/${node}/proxy/stats/summary`])) as Json;
    const burner = async (): Promise<Json | undefined> => (await summary()).pods.find((p: Json) => p.podRef.uid === uid);
    const busy = await eventually('burner using cpu and memory', async () => {
      const p = await burner();
      return p && p.cpu.usageNanoCores > 0 && p.memory.workingSetBytes > 0 ? p : undefined;
    }, 60_000);
    const burn = busy.containers.find((c: Json) => c.name === 'burn');
    assert.ok(burn.cpu.usageNanoCores > 0 && burn.cpu.usageCoreNanoSeconds > 0);
    assert.ok((await summary()).node.cpu.usageNanoCores > 0, 'the node is busy too');
    const rx0 = busy.network.rxBytes as number;
    const tx0 = busy.network.txBytes as number;
    await eventually('traffic to the pod to count', async () => {
      await send(ip, 8080, 64 * 1024).catch(() => undefined);
      const p = await burner();
      return p && p.network.rxBytes >= rx0 + 64 * 1024 && p.network.txBytes > tx0 ? true : undefined;
    }, 60_000);
  });
});
