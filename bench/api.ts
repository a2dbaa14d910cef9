// API server benchmark: cold start, idle memory, and create/get/list/watch
// throughput and latency with 64 concurrent clients, through the sqlite
// store and through a real etcd in the same run.
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { RestClient, resourceUrlPath } from '../src/client/rest.js';
import type { KubeObject } from '../src/api/object.js';
import { etcdMissingMessage, findEtcd, startEtcd } from '../test/storage/etcd-server.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { cpuRow, createNamespace, measure, measureCpu, percentile, rssMb, row, startServer, type Figures } from './common.js';
import { findWrk, runWrk, wrkMissingMessage, wrkRow, type WrkFigures } from './wrk.js';
import { aimRows, type AimFigures } from './aims.js';

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

/** Untimed creates before the timed ones, on each server of runApiBench. */
const warmUpCreates = 10_000;
/** The timed creates (the get and patch figures then read and change these pods), and the creates whose watch events are timed. */
const timedCreates = 5000;
const watchedCreates = 1000;
/** The creates timed while fanOutWatchers clients watch their namespace. */
const fanOutCreates = 3000;
const fanOutWatchers = 10;

export async function runApiBench(opts: { pods?: number } = {}): Promise<void> {
  const aims: AimFigures = {};
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
  aims.readyMs = starts[1]!;

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
      if (b.label === 'sqlite') {
        aims.idleRssMb = rssMb(server.pid);
        console.log(`idle RSS after start: ${aims.idleRssMb.toFixed(1)} MB`);
      }
      // Open the 64 keep-alive connections (TLS handshakes) before anything is timed.
      await measure(4 * concurrency, concurrency, () => client.requestText('GET', '/version'));
      // Steady state: untimed creates first let the JIT compile the server's write path and the
      // heap grow to its working size. After 1,000, successive rounds of 5,000 still ran faster
      // (3,221, 3,697, then 4,334/s); after 10,000 they were level (5,002, 4,906, 5,031/s).
      await measure(warmUpCreates, concurrency, (i) => client.create(podsPath('kube-public'), pod(`jit-${i}`)));
      const creates = await measureCpu(server.pid, timedCreates, concurrency, (i) => client.create(podsPath('default'), pod(`warm-${b.label}-${i}`)));
      createRates[b.label] = creates.perSecond;
      console.log(row(`create pod (${b.label})`, creates));
      if (b.label !== 'sqlite') continue;
      // The figure least disturbed by other load on the machine (the client's share is not in it).
      console.log(cpuRow('  create pod', creates));
      console.log(row('get pod', await measure(10000, concurrency, (i) => client.get(podsPath('default', `warm-sqlite-${i % timedCreates}`)))));
      const updates = await measureCpu(server.pid, timedCreates, concurrency, (i) => client.patch(podsPath('default', `warm-sqlite-${i}`), { metadata: { labels: { touched: 'yes' } } }, 'merge'));
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
      await createNamespace(client, 'watched');
      await new Promise((r) => setTimeout(r, 300));
      await measure(watchedCreates, concurrency, async (i) => {
        const name = `w-${i}`;
        sent.set(name, performance.now());
        await client.create(podsPath('watched'), pod(name));
      });
      await new Promise((r) => setTimeout(r, 500));
      watch.stop();
      delays.sort((a, b) => a - b);
      console.log(`create sent -> watch event (${delays.length} events, 64 writers): p50 ${percentile(delays, 50).toFixed(2)} ms, p99 ${percentile(delays, 99).toFixed(2)} ms`);

      // Fan-out: creates while fanOutWatchers clients watch their namespace, each event written to every stream.
      await createNamespace(client, 'fanout');
      const fanOut = Array.from({ length: fanOutWatchers }, () => client.watch(podsPath('fanout'), { resourceVersion: '' }, () => undefined));
      await new Promise((r) => setTimeout(r, 300));
      const fanned = await measureCpu(server.pid, fanOutCreates, concurrency, (i) => client.create(podsPath('fanout'), pod(`f-${i}`)));
      for (const w of fanOut) w.stop();
      console.log(row(`create pod, ${fanOutWatchers} watchers`, fanned));
      console.log(cpuRow(`  create pod, ${fanOutWatchers} watchers`, fanned));

      // Lists of 10,000 pods from the watch cache.
      await createNamespace(client, 'big');
      await measure(listSize, concurrency, (i) => client.create(podsPath('big'), pod(`p-${i}`)));
      // Served: every byte received and decrypted, none kept (the server's and the wire's time);
      // kept: the body held as one text, as a client that reads it must first (a 16-MB copy or
      // two, whose fresh memory is a cost of the client's); parsed: JSON.parse in the client as well.
      const listPath = resourceUrlPath({ ...podsPath('big'), name: undefined });
      const served = await measureClientCpu(20, () => client.requestLength('GET', listPath));
      aims.listP50Ms = served.p50;
      console.log(listRow(`list ${listSize} pods, served`, served));
      console.log(listRow(`list ${listSize} pods, kept as text`, await measureClientCpu(20, () => client.requestText('GET', listPath))));
      console.log(listRow(`list ${listSize} pods, client-parsed`, await measureClientCpu(20, () => client.list(podsPath('big')))));
      const selected = await measure(20, 1, () => client.requestText('GET', listPath, { query: { labelSelector: 'shard=1' } }));
      console.log(row(`list ${listSize} pods, label selector`, selected));
      // What `kubectl get pods` asks for: a Table, 500 rows a page.
      const tableAccept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
      const tablePages = async () => {
        let next: string | undefined;
        do {
          const page = await client.request<{ metadata: { continue?: string } }>('GET', listPath, { accept: tableAccept, query: { limit: 500, continue: next } });
          next = page.metadata.continue;
        } while (next);
      };
      const tables = await measureCpu(server.pid, 10, 1, tablePages);
      console.log(`${row(`list ${listSize} pods as Table, 500 a page`, tables)}   server main thread ${(tables.mainUs / 1000).toFixed(0)} ms/list`);
      console.log(`RSS with ${warmUpCreates + timedCreates + watchedCreates + fanOutCreates + listSize} pods stored: ${rssMb(server.pid).toFixed(1)} MB`);
    } finally {
      client.close();
      await server.stop();
    }
  }
  if (createRates.etcd) {
    aims.sqliteOverEtcd = createRates.sqlite! / createRates.etcd;
    console.log(`creates through sqlite / through etcd: ${aims.sqliteOverEtcd.toFixed(2)}x`);
  }
  await etcd?.stop();
  const writes = await runWrkWrites(concurrency);
  console.log('\n== Aims ==');
  for (const line of aimRows({ ...aims, createP99Ms: writes?.createP99, patchP99Ms: writes?.patchP99, createCpuUs: writes?.createCpuUs, patchCpuUs: writes?.patchCpuUs })) console.log(line);
}

/**
 * Creates and label patches from wrk's 64 connections. Each round runs on a
 * fresh server (so the rounds are alike and the store stays at tens of
 * thousands of pods): a warm-up of both writes, then the timed creates and
 * patches. The rounds are printed one by one (their spread is the machine's
 * noise), then their medians.
 */
async function runWrkWrites(connections: number, rounds = 3, seconds = 4): Promise<{ createP99: number; patchP99: number; createCpuUs: number; patchCpuUs: number } | undefined> {
  console.log(`\n== API server writes from wrk (${connections} connections; ${rounds} rounds on fresh servers, ${seconds} s each) ==`);
  const wrk = findWrk();
  if (!wrk) {
    console.log(`${wrkMissingMessage}: figures skipped`);
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'nami-bench-tokens-'));
  const token = randomBytes(16).toString('hex');
  writeFileSync(join(dir, 'tokens.csv'), `${token},nami-bench,nami-bench,"system:masters"\n`, { mode: 0o600 });
  const creates: WrkFigures[] = [];
  const patches: WrkFigures[] = [];
  try {
    for (let r = 1; r <= rounds; r++) {
      const [create, patch] = await wrkRound(wrk, join(dir, 'tokens.csv'), token, connections, seconds);
      creates.push(create);
      patches.push(patch);
      console.log(wrkRow(`create pod, round ${r}`, create));
      console.log(wrkRow(`label patch, round ${r}`, patch));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
  /** Prints the rounds' medians; returns their p99's. */
  const summary = (label: string, fs: WrkFigures[]): number => {
    const p99 = median(fs.map((f) => f.p99));
    console.log(
      `${label}, median of ${rounds} rounds: ${median(fs.map((f) => f.perSecond)).toFixed(0)}/s, p50 ${median(fs.map((f) => f.p50)).toFixed(2)} ms, ` +
        `p99 ${p99.toFixed(2)} ms (lowest ${Math.min(...fs.map((f) => f.p99)).toFixed(2)} ms), server CPU ${median(fs.map((f) => f.cpuUs)).toFixed(0)} µs/op`,
    );
    return p99;
  };
  return {
    createP99: summary('create pod', creates),
    patchP99: summary('label patch', patches),
    createCpuUs: median(creates.map((f) => f.cpuUs)),
    patchCpuUs: median(patches.map((f) => f.cpuUs)),
  };
}

async function wrkRound(wrk: string, tokenFile: string, token: string, connections: number, seconds: number): Promise<[WrkFigures, WrkFigures]> {
  const server = await startServer('sqlite', [...apiServerOnly, '--token-auth-file', tokenFile]);
  const client = new RestClient(loadKubeconfig(server.kubeconfig), 'nami-bench');
  const targets = 2000;
  try {
    // The pods the patches change, in the warm-up's namespace and the timed one.
    for (const namespace of ['kube-public', 'default']) {
      await measure(targets, connections, (i) => client.create(podsPath(namespace), pod(`target-${i + 1}`)));
    }
    const run = (script: 'create' | 'patch', namespace: string, secs: number, prefix: string) =>
      runWrk(wrk, { url: server.url, pid: server.pid, token, connections, seconds: secs, script, env: { NS: namespace, PREFIX: prefix, TARGET: 'target', COUNT: String(targets) } });
    // Warm-up: the JIT compiles both write paths and the heap grows to its working size.
    await run('create', 'kube-public', 2, 'warm');
    await run('patch', 'kube-public', 2, 'warm');
    return [await run('create', 'default', seconds, 'timed'), await run('patch', 'default', seconds, 'timed')];
  } finally {
    client.close();
    await server.stop();
  }
}

/** One request at a time, with the benchmark process's own CPU per request (the client's share of a large answer). */
async function measureClientCpu(total: number, op: () => Promise<unknown>): Promise<Figures & { clientMs: number }> {
  const before = process.cpuUsage();
  const figures = await measure(total, 1, op);
  const used = process.cpuUsage(before);
  return { ...figures, clientMs: (used.user + used.system) / 1000 / total };
}

function listRow(label: string, f: Figures & { clientMs: number }): string {
  return `${row(label, f)}   client CPU ${f.clientMs.toFixed(1)} ms/list`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // `node dist/bench/api.js writes`: only the writes from wrk.
  if (process.argv[2] === 'writes') await runWrkWrites(64);
  else await runApiBench();
}
