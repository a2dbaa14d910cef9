// API server benchmark: cold start, idle memory, and create/get/list/watch
// throughput and latency with 64 concurrent clients, through the sqlite
// store and through a real etcd in the same run.
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { RestClient, resourceUrlPath } from '../src/client/rest.js';
import type { KubeObject } from '../src/api/object.js';
import { etcdMissingMessage, findEtcd, startEtcd } from '../test/storage/etcd-server.js';
import { cpuRow, measure, measureCpu, percentile, rssMb, row, startServer } from './common.js';

function pod(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'bench', shard: String(name.length % 4) } },
    spec: { containers: [{ name: 'main', image: 'busybox:1.36', command: ['sleep', '3600'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
  };
}

const podsPath = (namespace: string, name?: string) => ({ group: '', version: 'v1', plural: 'pods', namespace, name });

/** The API server alone: no scheduler or controllers reacting to the benchmark's pods. */
const apiServerOnly = ['--no-scheduler', '--no-controllers'];

export async function runApiBench(opts: { pods?: number } = {}): Promise<void> {
  const listSize = opts.pods ?? 10_000;
  const concurrency = 64;
  console.log(`\n== API server (${concurrency} concurrent clients) ==`);

  // Cold start: three fresh data dirs, process spawn to "ready" line.
  const starts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const s = await startServer('sqlite', apiServerOnly);
    starts.push(s.readyMs);
    await s.stop();
  }
  starts.sort((a, b) => a - b);
  console.log(`cold start to ready (fresh data dir, 3 runs): min ${starts[0]!.toFixed(0)} ms, median ${starts[1]!.toFixed(0)} ms`);

  const etcd = findEtcd() ? await startEtcd() : undefined;
  const backends: { label: string; spec: string }[] = [{ label: 'sqlite', spec: 'sqlite' }];
  if (etcd) backends.push({ label: 'etcd', spec: `etcd://${etcd.endpoint}` });
  else console.log(`${etcdMissingMessage}: etcd figures skipped`);

  const createRates: Record<string, number> = {};
  for (const b of backends) {
    const server = await startServer(b.spec, apiServerOnly);
    const client = new RestClient(loadKubeconfig(server.kubeconfig), 'nami-bench');
    try {
      await new Promise((r) => setTimeout(r, 1000));
      if (b.label === 'sqlite') console.log(`idle RSS after start: ${rssMb(server.pid).toFixed(1)} MB`);
      // Open the 64 keep-alive connections (TLS handshakes) before anything is timed.
      await measure(4 * concurrency, concurrency, () => client.requestText('GET', '/version'));
      // Steady state: 1,000 untimed creates let the JIT compile the server's write path first.
      await measure(1000, concurrency, (i) => client.create(podsPath('kube-public'), pod(`jit-${i}`)));
      const creates = await measureCpu(server.pid, 5000, concurrency, (i) => client.create(podsPath('default'), pod(`warm-${b.label}-${i}`)));
      createRates[b.label] = creates.perSecond;
      console.log(row(`create pod (${b.label})`, creates));
      if (b.label !== 'sqlite') continue;
      // The figure least disturbed by other load on the machine (the client's share is not in it).
      console.log(cpuRow('  create pod', creates));
      console.log(row('get pod', await measure(10000, concurrency, (i) => client.get(podsPath('default', `warm-sqlite-${i % 5000}`)))));
      const updates = await measureCpu(server.pid, 5000, concurrency, (i) => client.patch(podsPath('default', `warm-sqlite-${i}`), { metadata: { labels: { touched: 'yes' } } }, 'merge'));
      console.log(row('update (label patch)', updates));
      console.log(cpuRow('  update (label patch)', updates));

      // Watch delivery: time from sending a create to its event at a watcher
      // (the event often arrives before the create's own response does).
      const sent = new Map<string, number>();
      const delays: number[] = [];
      const watch = client.watch(podsPath('watched'), { resourceVersion: '' }, (type, obj) => {
        const t = sent.get(obj.metadata.name ?? '');
        if (type === 'ADDED' && t !== undefined) delays.push(performance.now() - t);
      });
      await client.create({ group: '', version: 'v1', plural: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'watched' } });
      await new Promise((r) => setTimeout(r, 300));
      await measure(1000, concurrency, async (i) => {
        const name = `w-${i}`;
        sent.set(name, performance.now());
        await client.create(podsPath('watched'), pod(name));
      });
      await new Promise((r) => setTimeout(r, 500));
      watch.stop();
      delays.sort((a, b) => a - b);
      console.log(`create sent -> watch event (${delays.length} events, 64 writers): p50 ${percentile(delays, 50).toFixed(2)} ms, p99 ${percentile(delays, 99).toFixed(2)} ms`);

      // Lists of 10,000 pods from the watch cache.
      await client.create({ group: '', version: 'v1', plural: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'big' } });
      await measure(listSize, concurrency, (i) => client.create(podsPath('big'), pod(`p-${i}`)));
      // Served: the whole body received; parsed: JSON.parse in the client as well.
      const listPath = resourceUrlPath({ ...podsPath('big'), name: undefined });
      console.log(row(`list ${listSize} pods, served`, await measure(20, 1, () => client.requestText('GET', listPath))));
      console.log(row(`list ${listSize} pods, client-parsed`, await measure(20, 1, () => client.list(podsPath('big')))));
      const selected = await measure(20, 1, () => client.requestText('GET', listPath, { query: { labelSelector: 'shard=1' } }));
      console.log(row(`list ${listSize} pods, label selector`, selected));
      console.log(`RSS with ${listSize + 7000} pods stored: ${rssMb(server.pid).toFixed(1)} MB`);
    } finally {
      client.close();
      await server.stop();
    }
  }
  if (createRates.etcd) console.log(`creates through sqlite / through etcd: ${(createRates.sqlite! / createRates.etcd).toFixed(2)}x`);
  await etcd?.stop();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runApiBench();
}
