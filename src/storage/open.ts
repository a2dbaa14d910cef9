import type { Backend } from './backend.js';
import { defaultCompaction } from './compactor.js';
import { MemoryBackend } from './memory.js';
import { SqliteBackend } from './sqlite.js';

/**
 * Opens the store a `--storage` flag names:
 *   "sqlite" (or "")             DIR/state.db, compacted every 5 minutes like kube-apiserver does
 *   "memory"                     in-process, lost on exit
 *   "etcd://h1:2379,h2:2379"     a real etcd v3 cluster, also compacted every 5 minutes
 * An etcd cluster must answer before this resolves, so a wrong address fails at startup.
 */
export async function openBackend(spec: string, dataDir: string): Promise<Backend> {
  const trimmed = spec.trim();
  if (trimmed === '' || trimmed === 'sqlite') return new SqliteBackend(dataDir, { compaction: defaultCompaction });
  if (trimmed === 'memory') return new MemoryBackend();
  if (trimmed.startsWith('etcd://')) {
    const endpoints = trimmed
      .slice('etcd://'.length)
      .split(',')
      .map((e) => e.trim().replace(/\/+$/, ''))
      .filter((e) => e !== '');
    if (endpoints.length === 0) throw new Error(`storage "${spec}" names no etcd endpoint; expected etcd://host:port[,host:port...]`);
    // Loaded only for etcd: its client (gRPC, protobuf) takes a good part of a cold start to load.
    const { EtcdBackend } = await import('./etcd.js');
    const backend = new EtcdBackend({ endpoints, compaction: defaultCompaction });
    try {
      await backend.currentRevision();
    } catch (err) {
      await backend.close();
      throw err;
    }
    return backend;
  }
  throw new Error(`unknown storage "${spec}": expected sqlite, memory or etcd://host:port[,host:port...]`);
}
