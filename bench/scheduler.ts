// Scheduling at scale: `nami server` (API server, scheduler, controllers) and
// `nami hollow` nodes as separate processes, pods created by 64 clients, and
// for each pod the time from its create request to its binding (seen on a
// watch). Run alone with `node dist/bench/scheduler.js`.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { KubeObject } from '../src/api/object.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { RestClient } from '../src/client/rest.js';
import { createNamespace, measure, startNami, percentile, rssMb, startServer } from './common.js';

const nami = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'bin', 'nami');

async function startHollow(kubeconfig: string, nodes: number): Promise<ChildProcess> {
  return (await startNami(['hollow', '--kubeconfig', kubeconfig, '--nodes', String(nodes)], /registered \d+ hollow nodes/)).child;
}

function pod(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'sched-bench' } },
    spec: { containers: [{ name: 'main', image: 'busybox:1.36', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
  };
}

/**
 * `stream`: pods are created while the scheduler in `nami server` binds them.
 * `backlog`: pods are created first (no scheduler running), then `nami
 * scheduler` starts as a process of its own and drains them, as
 * scheduler_perf measures SchedulingThroughput.
 */
async function scenario(nodes: number, pods: number, mode: 'stream' | 'backlog'): Promise<void> {
  const server = await startServer('sqlite', mode === 'backlog' ? ['--no-scheduler'] : []);
  let scheduler: ChildProcess | undefined;
  const client = new RestClient(loadKubeconfig(server.kubeconfig), 'nami-bench');
  let hollow: ChildProcess | undefined;
  try {
    const t0 = performance.now();
    hollow = await startHollow(server.kubeconfig, nodes);
    const registered = (performance.now() - t0) / 1000;
    const namespace = `sched-${nodes}`;
    await createNamespace(client, namespace);
    const path = { group: '', version: 'v1', plural: 'pods', namespace };
    const sent = new Map<string, number>();
    const bound = new Map<string, number>();
    let allBound: () => void = () => undefined;
    const done = new Promise<void>((r) => (allBound = r));
    const watch = client.watch(path, {}, (type, obj) => {
      const name = obj.metadata.name!;
      if (type === 'ERROR' || type === 'BOOKMARK' || bound.has(name)) return;
      if ((obj.spec as { nodeName?: string } | undefined)?.nodeName) {
        bound.set(name, performance.now());
        if (bound.size === pods) allBound();
      }
    });
    await new Promise((r) => setTimeout(r, 500));
    let start = performance.now();
    const creates = await measure(pods, 64, async (i) => {
      const name = `p-${i}`;
      sent.set(name, performance.now());
      await client.create(path, pod(name));
    });
    if (mode === 'backlog') {
      start = performance.now();
      for (const name of sent.keys()) sent.set(name, start);
      scheduler = spawn(process.execPath, [nami, 'scheduler', '--kubeconfig', server.kubeconfig], { stdio: ['ignore', 'ignore', 'inherit'] });
    }
    const timeout = setTimeout(allBound, 300_000);
    await done;
    clearTimeout(timeout);
    watch.stop();
    const latencies = [...bound].map(([name, at]) => at - (sent.get(name) ?? at)).sort((a, b) => a - b);
    const last = Math.max(...bound.values());
    const seconds = (last - start) / 1000;
    if (mode === 'stream') {
      console.log(`${nodes} hollow nodes (registered in ${registered.toFixed(1)} s), ${pods} pods created at ${creates.perSecond.toFixed(0)}/s by 64 clients, scheduler in nami server:`);
      console.log(`  bound ${bound.size}/${pods} in ${seconds.toFixed(1)} s: ${(bound.size / seconds).toFixed(0)} pods/s`);
      console.log(`  create -> bound: p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms`);
    } else {
      console.log(`${nodes} hollow nodes, a backlog of ${pods} pending pods, then nami scheduler started as its own process:`);
      console.log(`  bound ${bound.size}/${pods} in ${seconds.toFixed(1)} s from its start: ${(bound.size / seconds).toFixed(0)} pods/s`);
    }
    console.log(`  RSS: control plane ${rssMb(server.pid).toFixed(0)} MB, hollow nodes ${rssMb(hollow.pid!).toFixed(0)} MB`);
  } finally {
    client.close();
    scheduler?.kill('SIGKILL');
    hollow?.kill('SIGKILL');
    await server.stop();
  }
}

export async function runSchedulerBench(): Promise<void> {
  console.log('\n== Scheduling on hollow nodes (nami server with its scheduler, nami hollow, one machine) ==');
  await scenario(1000, 10_000, 'stream');
  await scenario(1000, 10_000, 'backlog');
  await scenario(5000, 30_000, 'stream');
  await scenario(5000, 30_000, 'backlog');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runSchedulerBench();
}
