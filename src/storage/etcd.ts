// A real etcd v3 cluster as the store, used the way kube-apiserver uses it:
// every write is a transaction comparing the key's mod_revision (or
// create_revision for creates), and watches ask for prev_kv so events carry
// the object they replace.

import { CompareResult, CompareTarget, Etcd3 } from 'etcd3';
import type { IDuplexStream, IKeyValue, IRangeRequest, ITxnResponse, IWatchRequest, IWatchResponse } from 'etcd3';
import { BackendUnavailableError, CompactedError } from './backend.js';
import type { Backend, KeyValue, RangeOptions, RangeResult, StorageServer, Watch, WatchEvent, WatchOptions, WriteResult } from './backend.js';
import { Compactor } from './compactor.js';
import type { CompactorOptions } from './compactor.js';
import { FutureRevisionError } from './errors.js';
import { compareKeys } from './key-order.js';
import { WatchSubscription } from './watch-subscription.js';

export interface EtcdBackendOptions {
  /** Client URLs or host:port pairs of the cluster members. */
  endpoints: string[];
  /** Stored in front of every key, so several users can share one cluster; keys reported back are without it. */
  keyPrefix?: string;
  /** How long to wait for a connection before a request fails. */
  dialTimeoutMs?: number;
  /** Compact periodically, as kube-apiserver does; off unless given (openBackend turns it on). */
  compaction?: CompactorOptions;
}

const compactedMessage = 'required revision has been compacted';
const futureMessage = 'required revision is a future revision';
/** A key nothing writes: a cheap target for reads that only want the header. */
const probeKey = Buffer.from('\0nami-revision-probe');
/** etcd's range_end of "\0" means "to the end of the key space". */
const wholeKeySpace = Buffer.from([0]);

export class EtcdBackend implements Backend {
  readonly name = 'etcd';
  private readonly client: Etcd3;
  private readonly keyPrefix: Buffer;
  private knownCompacted = 0;
  private readonly openWatches = new Set<() => void>();
  private closed = false;
  private readonly compactor: Compactor | undefined;
  private readonly hosts: string[];
  /** A client of its own per member, for its health (servers()); made when first asked. */
  private readonly memberClients = new Map<string, Etcd3>();

  constructor(private readonly opts: EtcdBackendOptions) {
    if (opts.endpoints.length === 0) throw new Error('etcd storage needs at least one endpoint');
    this.keyPrefix = Buffer.from(opts.keyPrefix ?? '');
    this.hosts = opts.endpoints.map((e) => (/^[a-z]+:\/\//.test(e) ? e : `http://${e}`));
    this.client = this.clientOf(this.hosts);
    if (opts.compaction) {
      this.compactor = new Compactor(this, opts.compaction);
      this.compactor.start();
    }
  }

  private clientOf(hosts: string[]): Etcd3 {
    return new Etcd3({ hosts, ...(this.opts.dialTimeoutMs !== undefined ? { dialTimeout: this.opts.dialTimeoutMs } : {}) });
  }

  /** Each member on its own: healthy when it answers a status request. */
  servers(): StorageServer[] {
    return this.hosts.map((host) => ({
      endpoint: host,
      check: async () => {
        if (this.closed) throw new BackendUnavailableError('the etcd client is closed');
        let client = this.memberClients.get(host);
        if (!client) this.memberClients.set(host, (client = this.clientOf([host])));
        try {
          await client.maintenance.status();
        } catch (err) {
          throw this.unavailable(err);
        }
      },
    }));
  }

  async currentRevision(): Promise<number> {
    const res = await this.call(() => this.client.kv.range({ key: probeKey, count_only: true }));
    return Number(res.header.revision);
  }

  /**
   * etcd does not report its compacted revision directly. A read at revision
   * 1 succeeds until the first compaction; after it, a watch from revision 1
   * is refused with the compacted revision in the reply.
   */
  async compactedRevision(): Promise<number> {
    try {
      await this.client.kv.range({ key: probeKey, revision: 1, count_only: true });
      return 0;
    } catch (err) {
      if (!messageOf(err).includes(compactedMessage)) throw this.unavailable(err);
    }
    const compacted = await this.probeCompactedRevision();
    this.knownCompacted = Math.max(this.knownCompacted, compacted);
    return this.knownCompacted;
  }

  async get(key: string, opts?: { revision?: number }): Promise<{ kv?: KeyValue; revision: number }> {
    const request: IRangeRequest = { key: this.encode(key) };
    if (opts?.revision) request.revision = opts.revision;
    const res = await this.call(() => this.client.kv.range(request), opts?.revision);
    const raw = res.kvs[0];
    const revision = opts?.revision || Number(res.header.revision);
    return raw ? { kv: this.decode(raw), revision } : { revision };
  }

  async range(prefix: string, opts: RangeOptions = {}): Promise<RangeResult> {
    const start = opts.startKey !== undefined && compareKeys(opts.startKey, prefix) > 0 ? opts.startKey : prefix;
    const request: IRangeRequest = { key: this.encode(start), range_end: this.prefixEnd(prefix) };
    if (request.key?.length === 0) request.key = wholeKeySpace;
    if (opts.revision) request.revision = opts.revision;
    if (opts.limit && opts.limit > 0) request.limit = opts.limit;
    if (opts.countOnly) request.count_only = true;
    const res = await this.call(() => this.client.kv.range(request), opts.revision);
    const kvs = opts.countOnly ? [] : res.kvs.map((raw) => this.decode(raw));
    return { kvs, revision: opts.revision || Number(res.header.revision), more: !opts.countOnly && res.more, count: Number(res.count) };
  }

  async create(key: string, value: string): Promise<WriteResult> {
    const k = this.encode(key);
    const res = await this.call(() =>
      this.client.kv.txn({
        compare: [{ key: k, target: CompareTarget.Create, result: CompareResult.Equal, create_revision: 0 }],
        success: [{ request_put: { key: k, value: Buffer.from(value) } }],
        failure: [{ request_range: { key: k } }],
      }),
    );
    const revision = Number(res.header.revision);
    if (!res.succeeded) return this.failed(res);
    return { ok: true, revision, kv: { key, value, createRevision: revision, modRevision: revision } };
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<WriteResult> {
    const k = this.encode(key);
    const res = await this.call(() =>
      this.client.kv.txn({
        compare: [
          // mod_revision 0 also matches an absent key; an update needs the key to exist.
          { key: k, target: CompareTarget.Create, result: CompareResult.NotEqual, create_revision: 0 },
          { key: k, target: CompareTarget.Mod, result: CompareResult.Equal, mod_revision: expectedModRevision },
        ],
        success: [{ request_put: { key: k, value: Buffer.from(value), prev_kv: true } }],
        failure: [{ request_range: { key: k } }],
      }),
    );
    if (!res.succeeded) return this.failed(res);
    const revision = Number(res.header.revision);
    const prev = res.responses[0]?.response_put?.prev_kv;
    const createRevision = prev ? Number(prev.create_revision) : revision;
    return { ok: true, revision, kv: { key, value, createRevision, modRevision: revision } };
  }

  async delete(key: string, expectedModRevision: number): Promise<WriteResult> {
    const k = this.encode(key);
    const res = await this.call(() =>
      this.client.kv.txn({
        compare:
          expectedModRevision === 0
            ? [{ key: k, target: CompareTarget.Create, result: CompareResult.NotEqual, create_revision: 0 }]
            : [{ key: k, target: CompareTarget.Mod, result: CompareResult.Equal, mod_revision: expectedModRevision }],
        success: [{ request_delete_range: { key: k, prev_kv: true } }],
        failure: [{ request_range: { key: k } }],
      }),
    );
    if (!res.succeeded) return this.failed(res);
    const revision = Number(res.header.revision);
    const prev = res.responses[0]?.response_delete_range?.prev_kvs?.[0];
    if (!prev) throw new BackendUnavailableError(`etcd deleted ${key} without returning its previous value`);
    return { ok: true, revision, kv: this.decode(prev) };
  }

  watch(prefix: string, opts: WatchOptions, onEvents: (events: WatchEvent[]) => void, onError: (err: Error) => void): Watch {
    // etcd sends previous values for puts too (deletes need theirs); the subscription leaves them out unless asked.
    const sub = new WatchSubscription(prefix, opts.afterRevision, onEvents, onError, undefined, opts.prevKv);
    if (this.closed) {
      queueMicrotask(() => sub.fail(new BackendUnavailableError('etcd storage is closed')));
      return sub;
    }
    let stream: IDuplexStream<IWatchRequest, IWatchResponse> | undefined;
    const stop = (): void => {
      sub.cancel();
      stream?.cancel();
      this.openWatches.delete(stop);
    };
    const fail = (err: Error): void => {
      sub.fail(err);
      stop();
    };
    this.openWatches.add(stop);
    this.client.watchClient.watch().then(
      (s) => {
        if (!sub.active) {
          s.cancel();
          return;
        }
        stream = s;
        s.on('data', (res) => {
          if (!sub.active) return;
          if (res.canceled) {
            const compacted = Number(res.compact_revision);
            if (compacted > 0) {
              this.knownCompacted = Math.max(this.knownCompacted, compacted);
              fail(new CompactedError(sub.cursor, compacted));
            } else fail(new BackendUnavailableError(`etcd cancelled the watch: ${res.cancel_reason || 'no reason given'}`));
            return;
          }
          if (!res.events || res.events.length === 0) return;
          const events: WatchEvent[] = [];
          for (const e of res.events) {
            const kv = this.decode(e.kv);
            const prev = e.prev_kv ? this.decode(e.prev_kv) : undefined;
            if (e.type === 'Put') events.push(prev ? { type: 'put', kv, prev } : { type: 'put', kv });
            else if (prev) events.push({ type: 'delete', key: kv.key, revision: kv.modRevision, prev });
            else {
              // Kubernetes refuses such an event too: a delete must say what it deleted.
              fail(new BackendUnavailableError(`etcd sent a delete event without its previous value (key ${kv.key}, revision ${kv.modRevision})`));
              return;
            }
          }
          sub.deliver(events);
        });
        s.on('error', (err) => {
          if (sub.active) fail(this.unavailable(err));
        });
        s.on('end', () => {
          if (sub.active) fail(new BackendUnavailableError('etcd ended the watch stream'));
        });
        s.write({
          create_request: {
            key: this.encode(prefix).length > 0 ? this.encode(prefix) : wholeKeySpace,
            range_end: this.prefixEnd(prefix),
            start_revision: opts.afterRevision + 1,
            prev_kv: true,
          },
        });
      },
      (err: unknown) => fail(this.unavailable(err)),
    );
    return { cancel: stop };
  }

  async compact(revision: number): Promise<void> {
    try {
      await this.client.kv.compact({ revision });
      this.knownCompacted = Math.max(this.knownCompacted, revision);
    } catch (err) {
      const message = messageOf(err);
      // Compacting to an already compacted revision is a no-op, as for the other backends.
      if (message.includes(compactedMessage)) return;
      if (message.includes(futureMessage)) throw new FutureRevisionError(revision, await this.currentRevision());
      throw this.unavailable(err);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.compactor?.stop();
    this.closed = true;
    for (const stop of [...this.openWatches]) stop();
    this.client.close();
    for (const client of this.memberClients.values()) client.close();
    this.memberClients.clear();
  }

  private encode(key: string): Buffer {
    return Buffer.concat([this.keyPrefix, Buffer.from(key)]);
  }

  private decode(raw: IKeyValue): KeyValue {
    return {
      key: raw.key.subarray(this.keyPrefix.length).toString('utf8'),
      value: raw.value.toString('utf8'),
      createRevision: Number(raw.create_revision),
      modRevision: Number(raw.mod_revision),
    };
  }

  /** etcd's GetPrefixRangeEnd, applied to the stored (prefixed) key. */
  private prefixEnd(prefix: string): Buffer {
    const end = Buffer.from(this.encode(prefix));
    for (let i = end.length - 1; i >= 0; i--) {
      if ((end[i] as number) < 0xff) {
        end[i] = (end[i] as number) + 1;
        return end.subarray(0, i + 1);
      }
    }
    return wholeKeySpace;
  }

  private failed(res: ITxnResponse): WriteResult {
    const revision = Number(res.header.revision);
    const raw = res.responses[0]?.response_range?.kvs?.[0];
    return raw ? { ok: false, revision, current: this.decode(raw) } : { ok: false, revision };
  }

  private async call<T>(fn: () => Promise<T>, requestedRevision?: number): Promise<T> {
    if (this.closed) throw new BackendUnavailableError('etcd storage is closed');
    try {
      return await fn();
    } catch (err) {
      const message = messageOf(err);
      if (requestedRevision && message.includes(compactedMessage)) {
        throw new CompactedError(requestedRevision, await this.compactedRevision().catch(() => this.knownCompacted));
      }
      if (requestedRevision && message.includes(futureMessage)) {
        throw new FutureRevisionError(requestedRevision, await this.currentRevision().catch(() => 0));
      }
      throw this.unavailable(err);
    }
  }

  private unavailable(err: unknown): BackendUnavailableError {
    if (err instanceof BackendUnavailableError) return err;
    return new BackendUnavailableError(`etcd request failed: ${messageOf(err)}`, { cause: err });
  }

  private probeCompactedRevision(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.client.watchClient.watch().then((stream) => {
        const timer = setTimeout(() => {
          stream.cancel();
          reject(new BackendUnavailableError('etcd did not report its compacted revision in time'));
        }, 10_000);
        const finish = (fn: () => void): void => {
          clearTimeout(timer);
          stream.cancel();
          fn();
        };
        stream.on('data', (res) => {
          if (res.canceled) finish(() => resolve(Number(res.compact_revision) || this.knownCompacted));
        });
        stream.on('error', (err) => finish(() => reject(this.unavailable(err))));
        stream.write({ create_request: { key: probeKey, start_revision: 1 } });
      }, (err: unknown) => reject(this.unavailable(err)));
    });
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
