// Pod startup on a real node: `nami server` and `nami agent` (runc) as
// separate processes, pods whose image is already on the node, each timed from
// its create request to the watch event that shows it Running: 100 created at
// once (a burst), then 100 created at a steady 5 per second. Needs root and
// runc. Run alone with `node dist/bench/pods.js [pods] [pods per second]`.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { KubeObject } from '../src/api/object.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { RestClient } from '../src/client/rest.js';
import { measure, startNami, percentile, startServer, treeCpuSeconds } from './common.js';

const nami = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'bin', 'nami');
const bridge = 'nami-bench0';

async function startAgent(kubeconfig: string, dataDir: string): Promise<ChildProcess> {
  return (await startNami(['agent', '--kubeconfig', kubeconfig, '--data-dir', dataDir, '--name', 'bench-node', '--bridge', bridge, '--pod-cidr', '10.197.0.0/24'], /registered/)).child;
}

function pod(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'startup-bench' } },
    spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'nami.dev/busybox:1', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] },
  };
}

/**
 * Whatever a failed run left on the node: runc containers still running under
 * its runtime root, and mounts below its directory (deepest first).
 */
function removeNodeLeftovers(nodeDir: string): void {
  const runcRoot = join(nodeDir, 'runtime', 'runc');
  const ids = spawnSync('runc', ['--root', runcRoot, 'list', '-q'], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean) ?? [];
  for (const id of ids) spawnSync('runc', ['--root', runcRoot, 'kill', id, 'KILL']);
  for (const id of ids) spawnSync('runc', ['--root', runcRoot, 'delete', '-f', id]);
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(nodeDir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['-l', m]);
}

/** Whether the node still has pods' containers or directories. */
function nodeBusy(nodeDir: string): boolean {
  const runcRoot = join(nodeDir, 'runtime', 'runc');
  const ids = spawnSync('runc', ['--root', runcRoot, 'list', '-q'], { encoding: 'utf8' }).stdout?.trim() ?? '';
  let pods: string[] = [];
  try {
    pods = readdirSync(join(nodeDir, 'runtime', 'pods'));
  } catch {
    /* none yet */
  }
  return ids !== '' || pods.length > 0;
}

export async function runPodsBench(count = 100, rate = 5): Promise<void> {
  console.log(`\n== Pod startup on a runc node (${count} pods a phase, image present) ==`);
  const runc = spawnSync('sh', ['-c', 'command -v runc']).status === 0;
  if (process.getuid?.() !== 0 || !runc) {
    console.log('skipped: needs root and runc (Debian package runc)');
    return;
  }
  const server = await startServer('sqlite');
  const nodeDir = mkdtempSync(join(tmpdir(), 'nami-bench-node-'));
  const client = new RestClient(loadKubeconfig(server.kubeconfig), 'nami-bench');
  let agent: ChildProcess | undefined;
  try {
    spawnSync(process.execPath, [nami, 'image', 'busybox', '--data-dir', nodeDir, '--tag', 'nami.dev/busybox:1']);
    agent = await startAgent(server.kubeconfig, nodeDir);
    const path = { group: '', version: 'v1', plural: 'pods', namespace: 'default' };
    /** Creates `count` pods (at `perSecond`, or as fast as 16 clients go) and times each to Running. */
    const phase = async (label: string, prefix: string, perSecond?: number) => {
      const sent = new Map<string, number>();
      const running = new Map<string, number>();
      let allRunning: () => void = () => undefined;
      const done = new Promise<void>((r) => (allRunning = r));
      const watch = client.watch(path, { labelSelector: 'app=startup-bench' }, (type, obj) => {
        const name = obj.metadata.name!;
        if (type === 'ERROR' || type === 'BOOKMARK' || running.has(name) || !sent.has(name)) return;
        if ((obj.status as { phase?: string } | undefined)?.phase === 'Running') {
          running.set(name, performance.now());
          if (running.size === count) allRunning();
        }
      });
      await new Promise((r) => setTimeout(r, 300));
      const cpuBefore = { agent: treeCpuSeconds(agent!.pid!), server: treeCpuSeconds(server.pid) };
      const start = performance.now();
      const create = async (i: number) => {
        const name = `${prefix}-${i}`;
        sent.set(name, performance.now());
        await client.create(path, pod(name));
      };
      if (perSecond) {
        const creates: Promise<void>[] = [];
        for (let i = 0; i < count; i++) {
          const wait = start + (i * 1000) / perSecond - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          creates.push(create(i));
        }
        await Promise.all(creates);
      } else {
        await measure(count, 16, create);
      }
      const timeout = setTimeout(allRunning, 300_000);
      await done;
      clearTimeout(timeout);
      const cpu = { agent: treeCpuSeconds(agent!.pid!) - cpuBefore.agent, server: treeCpuSeconds(server.pid) - cpuBefore.server };
      watch.stop();
      const latencies = [...running].map(([name, at]) => at - (sent.get(name) ?? at)).sort((a, b) => a - b);
      const seconds = (Math.max(...running.values()) - start) / 1000;
      console.log(`${label}:`);
      console.log(`  create -> Running: p50 ${percentile(latencies, 50).toFixed(0)} ms, p90 ${percentile(latencies, 90).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms, max ${latencies[latencies.length - 1]?.toFixed(0)} ms (${running.size}/${count} pods)`);
      console.log(`  pods started: ${(running.size / seconds).toFixed(1)}/s (${running.size} in ${seconds.toFixed(1)} s)`);
      // The agent's figure includes its monitors, runc and every command it ran.
      console.log(`  CPU while starting: agent and its processes ${cpu.agent.toFixed(1)} s (${((cpu.agent / running.size) * 1000).toFixed(0)} ms a pod), API server ${cpu.server.toFixed(1)} s`);
      // Clean up: the pods go before the next phase.
      await client.request('DELETE', '/api/v1/namespaces/default/pods', { query: { labelSelector: 'app=startup-bench', gracePeriodSeconds: 0 } });
      const deadline = Date.now() + 300_000;
      const t0 = performance.now();
      while (Date.now() < deadline && ((await client.list(path, { labelSelector: 'app=startup-bench' })).items.length > 0 || nodeBusy(nodeDir))) await new Promise((r) => setTimeout(r, 500));
      console.log(`  all gone from the API and the node ${((performance.now() - t0) / 1000).toFixed(1)} s after the delete`);
    };
    await phase(`burst: ${count} pods created at once (16 clients)`, 'burst');
    await phase(`paced: ${count} pods created at ${rate}/s`, 'paced', rate);
  } finally {
    client.close();
    if (agent) {
      const exited = new Promise((r) => agent!.once('exit', r));
      agent.kill('SIGTERM');
      await exited;
    }
    await server.stop();
    removeNodeLeftovers(nodeDir);
    spawnSync('ip', ['link', 'del', bridge]);
    rmSync(nodeDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runPodsBench(Number(process.argv[2] ?? 100) || 100, Number(process.argv[3] ?? 5) || 5);
}
