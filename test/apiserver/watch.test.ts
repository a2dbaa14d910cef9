// Watch semantics through the real HTTPS API, checked against what
// kube-apiserver does: resuming from a resourceVersion, the initial-events-end
// bookmark of sendInitialEvents, 410 Gone for a resourceVersion that is no
// longer available, and objects leaving a selector arriving as DELETED.
//
// Each suite runs against a fresh server on 127.0.0.1:0, once per storage
// backend. Nothing here waits for a fixed time: "no other event arrived" is
// proven with a sentinel write, and every wait polls with a generous timeout.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeList, KubeObject } from '../../src/api/object.js';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/start.js';
import { loadKubeconfig, type ClientConfig } from '../../src/client/kubeconfig.js';
import { RestClient, type ResourcePath } from '../../src/client/rest.js';
import type { Backend } from '../../src/storage/backend.js';
import { openBackend } from '../../src/storage/open.js';

const waitTimeoutMs = 60_000;

interface WatchEvent {
  type: string;
  object: KubeObject & { kind?: string; code?: number; reason?: string; status?: string; message?: string };
}

/** Polls probe until it returns something other than undefined/false. */
async function eventually<T>(what: string, probe: () => T | undefined | false, describeState?: () => string): Promise<T> {
  const deadline = Date.now() + waitTimeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${describeState ? `; ${describeState()}` : ''}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A raw watch stream: the HTTP status and headers, and every event line as it arrives. */
class WatchStream {
  readonly events: WatchEvent[] = [];
  /** Everything the server sent, for responses that are not watch streams. */
  raw = '';
  ended = false;
  failure: Error | undefined;
  private buffered = '';

  constructor(
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
    private readonly res: IncomingMessage,
  ) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      this.raw += chunk;
      if (this.status !== 200) return;
      this.buffered += chunk;
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, nl).trim();
        this.buffered = this.buffered.slice(nl + 1);
        if (line) this.events.push(JSON.parse(line) as WatchEvent);
      }
    });
    res.on('end', () => (this.ended = true));
    res.on('close', () => (this.ended = true));
    res.on('error', (err) => (this.failure = err));
  }

  private state(): string {
    return `events so far: ${JSON.stringify(this.events.map(summary))}, ended: ${this.ended}`;
  }

  /** Waits for an event matching pred; returns every event before it (not including it). */
  async eventsBefore(what: string, pred: (ev: WatchEvent) => boolean): Promise<WatchEvent[]> {
    const idx = await eventually(
      what,
      () => {
        const i = this.events.findIndex(pred);
        if (i >= 0) return i;
        if (this.ended) throw new Error(`watch ended before ${what}; ${this.state()}`);
        return undefined;
      },
      () => this.state(),
    );
    return this.events.slice(0, idx);
  }

  async waitForCount(n: number): Promise<void> {
    await eventually(`${n} watch events`, () => this.events.length >= n, () => this.state());
  }

  async waitForEnd(): Promise<void> {
    await eventually('the server to end the watch', () => this.ended, () => this.state());
  }

  close(): void {
    this.res.destroy();
  }
}

function summary(ev: WatchEvent): string {
  return `${ev.type} ${ev.object.metadata?.name ?? ev.object.kind ?? '?'}@${ev.object.metadata?.resourceVersion ?? '?'}`;
}

function rv(obj: KubeObject): number {
  const v = obj.metadata.resourceVersion;
  assert.ok(v && /^[0-9]+$/.test(v), `resourceVersion ${String(v)} is a number`);
  return Number(v);
}

/** Events as "TYPE name" strings. */
function typesAndNames(events: WatchEvent[]): string[] {
  return events.map((e) => `${e.type} ${e.object.metadata.name}`);
}

function assertIncreasing(events: WatchEvent[]): void {
  for (let i = 1; i < events.length; i++) {
    assert.ok(rv(events[i]!.object) > rv(events[i - 1]!.object), `resourceVersions increase: ${events.map(summary).join(', ')}`);
  }
}

for (const storage of ['memory', 'sqlite'] as const) {
  describe(`watch through the HTTP API (${storage} storage)`, () => {
    let dataDir: string;
    let backend: Backend;
    let server: RunningApiServer;
    let config: ClientConfig;
    let client: RestClient;
    const streams = new Set<WatchStream>();

    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'nami-watch-test-'));
      backend = await openBackend(storage, join(dataDir, 'storage'));
      server = await startApiServer({ dataDir, host: '127.0.0.1', port: 0, backend, disableAdmissionPlugins: ['ServiceAccount'] });
      config = loadKubeconfig(server.kubeconfigPath);
      client = new RestClient(config, 'watch-test');
    });

    after(async () => {
      for (const s of streams) s.close();
      client?.close();
      await server?.close();
      await backend?.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    const cm = (namespace: string, name?: string): ResourcePath => ({ group: '', version: 'v1', plural: 'configmaps', namespace, name });
    const pods = (namespace: string, name?: string, subresource?: string): ResourcePath => ({ group: '', version: 'v1', plural: 'pods', namespace, name, subresource });

    async function createNamespace(name: string): Promise<void> {
      await client.create({ group: '', version: 'v1', plural: 'namespaces' }, { metadata: { name } });
    }

    function createConfigMap(ns: string, name: string, data: Record<string, string> = {}, labels?: Record<string, string>): Promise<KubeObject> {
      return client.create(cm(ns), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data });
    }

    /** Opens GET <path>?watch=true&... with the admin client certificate on its own connection. */
    function openWatch(path: ResourcePath, query: Record<string, string>): Promise<WatchStream> {
      const url = new URL(config.server);
      const root = path.group ? `/apis/${path.group}/${path.version}` : `/api/${path.version}`;
      const search = new URLSearchParams({ ...query, watch: 'true' });
      const fullPath = `${root}/namespaces/${path.namespace}/${path.plural}?${search.toString()}`;
      return new Promise((resolve, reject) => {
        const req = httpsRequest(
          {
            hostname: url.hostname,
            port: url.port,
            path: fullPath,
            method: 'GET',
            headers: { Accept: 'application/json' },
            ca: config.caPem,
            cert: config.certPem,
            key: config.keyPem,
            agent: false,
          },
          (res) => {
            const stream = new WatchStream(res.statusCode ?? 0, res.headers, res);
            streams.add(stream);
            resolve(stream);
          },
        );
        req.on('error', reject);
        req.end();
      });
    }

    function closeWatch(stream: WatchStream): void {
      stream.close();
      streams.delete(stream);
    }

    describe('resuming from a resourceVersion', () => {
      const ns = 'watch-resume';
      let listRV: number;
      let created: KubeObject;
      let updated: KubeObject;
      let deleted: KubeObject;
      let first: WatchEvent[];

      before(async () => {
        await createNamespace(ns);
        await createNamespace(`${ns}-other`);
        await createConfigMap(ns, 'before-list', { v: '0' });
        const list = await client.list<KubeList>(cm(ns));
        listRV = Number(list.metadata.resourceVersion);
        assert.deepEqual(list.items.map((i) => i.metadata.name), ['before-list']);
        created = await createConfigMap(ns, 'subject', { v: '1' });
        await createConfigMap(`${ns}-other`, 'elsewhere', { v: '1' });
        updated = await client.update(cm(ns, 'subject'), { ...created, data: { v: '2' } });
        deleted = await client.delete(cm(ns, 'subject'));
      });

      it('replays exactly the changes after the list resourceVersion, in order, then goes on live', async () => {
        const watch = await openWatch(cm(ns), { resourceVersion: String(listRV) });
        assert.equal(watch.status, 200);
        assert.match(String(watch.headers['content-type']), /^application\/json/);
        await watch.waitForCount(3);
        // A write made after the watch started proves nothing else was queued before it.
        const sentinel = await createConfigMap(ns, 'sentinel-1');
        first = await watch.eventsBefore('the sentinel', (e) => e.object.metadata.name === 'sentinel-1');
        assert.deepEqual(typesAndNames(first), ['ADDED subject', 'MODIFIED subject', 'DELETED subject']);
        const [added, modified, gone] = first as [WatchEvent, WatchEvent, WatchEvent];
        assert.equal(added.object.kind, 'ConfigMap');
        assert.equal(added.object.apiVersion, 'v1');
        assert.equal(added.object.metadata.namespace, ns);
        assert.deepEqual(added.object.data, { v: '1' });
        assert.deepEqual(modified.object.data, { v: '2' });
        // DELETED carries the last state of the object.
        assert.deepEqual(gone.object.data, { v: '2' });
        assert.equal(gone.object.metadata.uid, created.metadata.uid);
        assert.equal(rv(added.object), rv(created));
        assert.equal(rv(modified.object), rv(updated));
        assert.ok(rv(added.object) > listRV);
        assertIncreasing([...first, watch.events[3]!]);
        assert.equal(rv(watch.events[3]!.object), rv(sentinel));
        closeWatch(watch);
      });

      it('resumed from the resourceVersion of the middle event, delivers only what came after it', async () => {
        const middle = first[1]!;
        const watch = await openWatch(cm(ns), { resourceVersion: String(rv(middle.object)) });
        assert.equal(watch.status, 200);
        await watch.waitForCount(2);
        await createConfigMap(ns, 'sentinel-2');
        const events = await watch.eventsBefore('the second sentinel', (e) => e.object.metadata.name === 'sentinel-2');
        assert.deepEqual(typesAndNames(events), ['DELETED subject', 'ADDED sentinel-1']);
        assert.equal(rv(events[0]!.object), rv(first[2]!.object));
        assertIncreasing(events);
        closeWatch(watch);
      });

      it('resumed from the newest resourceVersion, replays nothing', async () => {
        const list = await client.list<KubeList>(cm(ns));
        const watch = await openWatch(cm(ns), { resourceVersion: list.metadata.resourceVersion! });
        const sentinel = await createConfigMap(ns, 'sentinel-3');
        const events = await watch.eventsBefore('the third sentinel', (e) => e.object.metadata.name === 'sentinel-3');
        assert.deepEqual(typesAndNames(events), []);
        assert.equal(rv(watch.events[0]!.object), rv(sentinel));
        closeWatch(watch);
      });

      it('the DELETE of a ConfigMap answers a Success Status naming it; the DELETED event carries the resourceVersion of the deletion', () => {
        assert.deepEqual(deleted, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: 'subject', kind: 'configmaps', uid: created.metadata.uid } });
        assert.ok(rv(first[2]!.object) > rv(updated), 'the deletion is a revision of its own');
      });
    });

    describe('bookmarks', () => {
      const ns = 'watch-bookmarks';

      it('sendInitialEvents=true sends the current objects, then a BOOKMARK marked k8s.io/initial-events-end, then changes', async () => {
        await createNamespace(ns);
        const a = await createConfigMap(ns, 'a', { v: '1' });
        const b = await createConfigMap(ns, 'b', { v: '1' });
        const watch = await openWatch(cm(ns), { sendInitialEvents: 'true', resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: 'true' });
        assert.equal(watch.status, 200);
        const initial = await watch.eventsBefore('the initial-events-end bookmark', (e) => e.type === 'BOOKMARK');
        assert.deepEqual(typesAndNames(initial).sort(), ['ADDED a', 'ADDED b']);
        assert.deepEqual(
          initial.map((e) => rv(e.object)).sort((x, y) => x - y),
          [rv(a), rv(b)],
        );
        const bookmark = watch.events[initial.length]!;
        assert.equal(bookmark.object.kind, 'ConfigMap');
        assert.equal(bookmark.object.apiVersion, 'v1');
        assert.deepEqual(bookmark.object.metadata.annotations, { 'k8s.io/initial-events-end': 'true' });
        const bookmarkRV = rv(bookmark.object);
        assert.ok(bookmarkRV >= rv(b), `bookmark resourceVersion ${bookmarkRV} is not older than the objects sent`);

        const changed = await client.update(cm(ns, 'a'), { ...a, data: { v: '2' } });
        const upToChange = await watch.eventsBefore('the change after the bookmark', (e) => e.type === 'MODIFIED');
        assert.equal(upToChange.length, initial.length + 1, 'nothing between the bookmark and the change');
        const modified = watch.events[upToChange.length]!;
        assert.equal(modified.object.metadata.name, 'a');
        assert.equal(rv(modified.object), rv(changed));
        assert.ok(rv(modified.object) > bookmarkRV);
        closeWatch(watch);
      });

      it('sendInitialEvents without resourceVersionMatch=NotOlderThan is rejected with a Status, not a stream', async () => {
        const watch = await openWatch(cm(ns), { sendInitialEvents: 'true', allowWatchBookmarks: 'true' });
        await watch.waitForEnd();
        assert.ok(watch.status >= 400 && watch.status < 500, `status ${watch.status}`);
        const status = JSON.parse(watch.raw) as { kind?: string; code?: number; message?: string };
        assert.equal(status.kind, 'Status');
        assert.equal(status.code, watch.status);
        assert.match(String(status.message), /sendInitialEvents/);
        closeWatch(watch);
      });

      it('that rejection is 422 Invalid on ListOptions, as kube-apiserver answers it', async () => {
        const watch = await openWatch(cm(ns), { sendInitialEvents: 'true', allowWatchBookmarks: 'true' });
        try {
          await watch.waitForEnd();
          assert.equal(watch.status, 422);
          const status = JSON.parse(watch.raw) as { reason?: string; details?: { kind?: string; group?: string } };
          assert.equal(status.reason, 'Invalid');
          assert.deepEqual({ kind: status.details?.kind, group: status.details?.group }, { kind: 'ListOptions', group: 'meta.k8s.io' });
        } finally {
          closeWatch(watch);
        }
      });

      it('without allowWatchBookmarks=true no BOOKMARK is sent', async () => {
        const watch = await openWatch(cm(ns), { sendInitialEvents: 'true', resourceVersionMatch: 'NotOlderThan' });
        try {
          assert.equal(watch.status, 200);
          await createConfigMap(ns, 'sentinel');
          const events = await watch.eventsBefore('the sentinel', (e) => e.object.metadata.name === 'sentinel');
          assert.deepEqual(events.filter((e) => e.type === 'BOOKMARK'), []);
        } finally {
          closeWatch(watch);
        }
      });
    });

    describe('410 Gone for a resourceVersion that is no longer available', () => {
      const ns = 'watch-expired';
      let oldRV: number;
      let recentRV: number;

      /** kube-apiserver answers such a watch with 200, one ERROR event carrying a 410 Expired Status, and the end of the stream. */
      async function assertExpiredWatch(fromRV: number): Promise<void> {
        const watch = await openWatch(cm(ns), { resourceVersion: String(fromRV) });
        assert.equal(watch.status, 200);
        assert.match(String(watch.headers['content-type']), /^application\/json/);
        await watch.waitForEnd();
        assert.equal(watch.events.length, 1, `one event: ${JSON.stringify(watch.events.map(summary))}`);
        const ev = watch.events[0]!;
        assert.equal(ev.type, 'ERROR');
        assert.equal(ev.object.kind, 'Status');
        assert.equal(ev.object.apiVersion, 'v1');
        assert.equal(ev.object.status, 'Failure');
        assert.equal(ev.object.code, 410);
        assert.equal(ev.object.reason, 'Expired');
        assert.match(String(ev.object.message), /too old resource version/);
        closeWatch(watch);
      }

      before(async () => {
        await createNamespace(ns);
        const old = await createConfigMap(ns, 'old', { v: '0' });
        oldRV = rv(old);
        // More configmap events than the watch cache keeps (2000), in a few parallel chains.
        const chains = 8;
        const perChain = 270;
        await Promise.all(
          Array.from({ length: chains }, async (_, c) => {
            let obj = await createConfigMap(ns, `churn-${c}`, { n: '0' });
            for (let n = 1; n < perChain; n++) obj = await client.update(cm(ns, `churn-${c}`), { ...obj, data: { n: String(n) } });
          }),
        );
        const list = await client.list<KubeList>(cm(ns));
        recentRV = Number(list.metadata.resourceVersion);
      });

      it('a watch from a resourceVersion storage still has but the watch cache no longer reaches gets the 410 ERROR event', async () => {
        assert.ok((await backend.compactedRevision()) < oldRV, 'storage has not been compacted yet');
        await assertExpiredWatch(oldRV);
      });

      it('after compaction, a watch from a compacted resourceVersion gets 200 and a single ERROR event with the 410 Expired Status', async () => {
        // Drop storage history up to the newest revision, as the periodic compactor would.
        await backend.compact(await backend.currentRevision());
        assert.ok((await backend.compactedRevision()) >= recentRV);
        await assertExpiredWatch(oldRV);
      });

      it('a watch opened before compaction keeps delivering events after it', async () => {
        const watch = await openWatch(cm(ns), { resourceVersion: String(recentRV) });
        assert.equal(watch.status, 200);
        await backend.compact(await backend.currentRevision());
        const next = await createConfigMap(ns, 'after-compaction');
        const events = await watch.eventsBefore('the write after compaction', (e) => e.object.metadata.name === 'after-compaction');
        assert.deepEqual(typesAndNames(events), []);
        assert.equal(rv(watch.events[0]!.object), rv(next));
        closeWatch(watch);
      });

      it('a list with resourceVersionMatch=Exact at a compacted resourceVersion gets 410 Expired', async () => {
        await assert.rejects(client.list(cm(ns), { resourceVersion: String(oldRV), resourceVersionMatch: 'Exact' }), (err: { code?: number; reason?: string }) => {
          assert.equal(err.code, 410);
          assert.equal(err.reason, 'Expired');
          return true;
        });
      });

      it('a list with resourceVersionMatch=Exact at a kept resourceVersion returns the state as of that resourceVersion', async () => {
        await createConfigMap(ns, 'before-exact'); // so the list below is newer than the compaction
        const earlier = await client.list<KubeList>(cm(ns));
        const earlierRV = earlier.metadata.resourceVersion!;
        await createConfigMap(ns, 'after-exact');
        const exact = await client.list<KubeList>(cm(ns), { resourceVersion: earlierRV, resourceVersionMatch: 'Exact' });
        assert.equal(exact.metadata.resourceVersion, earlierRV);
        assert.deepEqual(exact.items.map((i) => i.metadata.name), earlier.items.map((i) => i.metadata.name));
      });
    });

    describe('selector watches', () => {
      const ns = 'watch-selectors';

      it('an object modified out of a label selector is delivered as DELETED; one modified into it as ADDED', async () => {
        await createNamespace(ns);
        const x = await createConfigMap(ns, 'x', { v: '1' }, { app: 'web' });
        const y = await createConfigMap(ns, 'y', { v: '1' }, { app: 'db' });
        const list = await client.list<KubeList>(cm(ns), { labelSelector: 'app=web' });
        assert.deepEqual(list.items.map((i) => i.metadata.name), ['x']);
        const watch = await openWatch(cm(ns), { labelSelector: 'app=web', resourceVersion: list.metadata.resourceVersion! });
        assert.equal(watch.status, 200);

        const xOut = await client.update(cm(ns, 'x'), { ...x, metadata: { ...x.metadata, labels: { app: 'db' } } });
        const yIn = await client.update(cm(ns, 'y'), { ...y, metadata: { ...y.metadata, labels: { app: 'web' } } });
        const yChanged = await client.update(cm(ns, 'y'), { ...yIn, data: { v: '2' } });
        await client.update(cm(ns, 'x'), { ...xOut, data: { v: '2' } }); // outside the selector: not delivered
        await createConfigMap(ns, 'unrelated', {}, { app: 'db' }); // never matched: not delivered
        await client.delete(cm(ns, 'y'));
        await createConfigMap(ns, 'sentinel', {}, { app: 'web' });
        const events = await watch.eventsBefore('the sentinel', (e) => e.object.metadata.name === 'sentinel');
        assert.deepEqual(typesAndNames(events), ['DELETED x', 'ADDED y', 'MODIFIED y', 'DELETED y']);
        assert.equal(rv(events[0]!.object), rv(xOut), 'DELETED for leaving the selector has the resourceVersion of the update');
        assert.equal(rv(events[1]!.object), rv(yIn));
        assert.equal(rv(events[2]!.object), rv(yChanged));
        assert.deepEqual(events[1]!.object.metadata.labels, { app: 'web' });
        assertIncreasing(events);
        closeWatch(watch);
      });

      it('the DELETED event for an object leaving the selector carries its previous content', async () => {
        const z = await createConfigMap(ns, 'z', { v: '1' }, { tier: 'front' });
        const watch = await openWatch(cm(ns), { labelSelector: 'tier=front', resourceVersion: z.metadata.resourceVersion! });
        try {
          const zOut = await client.update(cm(ns, 'z'), { ...z, metadata: { ...z.metadata, labels: { tier: 'back' } }, data: { v: '2' } });
          await watch.waitForCount(1);
          const ev = watch.events[0]!;
          assert.equal(ev.type, 'DELETED');
          assert.equal(rv(ev.object), rv(zOut));
          assert.deepEqual(ev.object.metadata.labels, { tier: 'front' });
          assert.deepEqual(ev.object.data, { v: '1' });
        } finally {
          closeWatch(watch);
        }
      });

      it('a pod whose status.phase leaves a field selector is delivered as DELETED', async () => {
        const pod = await client.create(pods(ns), {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'p' },
          spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] },
        });
        assert.equal((pod.status as { phase?: string } | undefined)?.phase, 'Pending');
        const watch = await openWatch(pods(ns), { fieldSelector: 'status.phase=Pending', resourceVersion: pod.metadata.resourceVersion! });
        assert.equal(watch.status, 200);
        const running = await client.patch(pods(ns, 'p', 'status'), { status: { phase: 'Running' } }, 'merge');
        await client.create(pods(ns), {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'sentinel' },
          spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] },
        });
        const events = await watch.eventsBefore('the sentinel pod', (e) => e.object.metadata.name === 'sentinel');
        assert.deepEqual(typesAndNames(events), ['DELETED p']);
        assert.equal(rv(events[0]!.object), rv(running));
        closeWatch(watch);
      });
    });
  });
}
