// Storage write throughput: creates of ~1 KB values against the SQLite
// backend and a real etcd (default, fsync-on-commit settings), from 1 and
// from 64 concurrent writers. Run alone with `node dist/bench/storage.js`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Backend } from '../src/storage/backend.js';
import { EtcdBackend } from '../src/storage/etcd.js';
import { SqliteBackend } from '../src/storage/sqlite.js';
import { etcdMissingMessage, findEtcd, startEtcd } from '../test/storage/etcd-server.js';

const value = JSON.stringify({ kind: 'ConfigMap', data: { payload: 'x'.repeat(1000) } });
const concurrencies = [1, 64] as const;
/** Writes per measurement: enough for a stable figure, few enough for a 2-core machine. */
const writesAt: Record<(typeof concurrencies)[number], number> = { 1: 1000, 64: 10_000 };

interface Row {
  backend: string;
  concurrency: number;
  writesPerSecond?: number;
  note?: string;
}

async function measure(backend: Backend, run: string, concurrency: number, total: number): Promise<number> {
  let next = 0;
  const writer = async (): Promise<void> => {
    while (next < total) {
      const key = `/bench/${run}/${String(next++).padStart(7, '0')}`;
      const result = await backend.create(key, value);
      if (!result.ok) throw new Error(`create of ${key} failed`);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, writer));
  return total / ((performance.now() - started) / 1000);
}

async function benchBackend(name: string, backend: Backend): Promise<Row[]> {
  const rows: Row[] = [];
  await measure(backend, 'warmup', 8, 200);
  for (const concurrency of concurrencies) {
    const writesPerSecond = await measure(backend, `c${concurrency}`, concurrency, writesAt[concurrency]);
    rows.push({ backend: name, concurrency, writesPerSecond });
  }
  return rows;
}

function printTable(rows: Row[]): void {
  const header = ['backend', 'writers', 'writes/s'];
  const lines = rows.map((r) => [r.backend, String(r.concurrency), r.writesPerSecond !== undefined ? Math.round(r.writesPerSecond).toLocaleString('en-US') : (r.note ?? '-')]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const format = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  console.log(format(header));
  for (const line of lines) console.log(format(line));
}

export async function runStorageBench(): Promise<void> {
  console.log('\nstorage: create of ~1 KB values, acknowledged only when durable');
  const rows: Row[] = [];

  const dir = mkdtempSync(join(tmpdir(), 'nami-bench-sqlite-'));
  const sqlite = new SqliteBackend(dir);
  try {
    rows.push(...(await benchBackend('sqlite', sqlite)));
  } finally {
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }

  if (!findEtcd()) {
    for (const concurrency of concurrencies) rows.push({ backend: 'etcd', concurrency, note: etcdMissingMessage });
  } else {
    const server = await startEtcd();
    const etcd = new EtcdBackend({ endpoints: [server.endpoint] });
    try {
      rows.push(...(await benchBackend('etcd', etcd)));
    } finally {
      await etcd.close();
      await server.stop();
    }
  }
  printTable(rows);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runStorageBench();
}
