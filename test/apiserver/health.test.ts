// /healthz, /livez and /readyz as kube-apiserver serves them: every check
// named with ?verbose, ?exclude, each check on its own path, and a store
// that stops answering (a real etcd, stopped) failing the etcd check with
// its reason withheld, and showing in ComponentStatus.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer, type TestApiServer } from './harness.js';
import { etcdSkipReason, freePort, startEtcd, type EtcdServer } from '../storage/etcd-server.js';

describe('health endpoints on a working server', () => {
  let api: TestApiServer;
  before(async () => {
    api = await startTestApiServer();
  });
  after(() => api?.close());

  it('answers ok, or with ?verbose each check and the verdict', async () => {
    for (const path of ['/healthz', '/livez', '/readyz']) {
      const r = await api.raw('GET', path);
      assert.equal(r.status, 200);
      assert.equal(r.text, 'ok');
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
    }
    assert.equal((await api.raw('GET', '/readyz?verbose')).text, '[+]ping ok\n[+]etcd ok\n[+]informer-sync ok\n[+]shutdown ok\nreadyz check passed\n');
    assert.equal((await api.raw('GET', '/livez?verbose')).text, '[+]ping ok\n[+]etcd ok\nlivez check passed\n');
    assert.equal((await api.raw('GET', '/healthz?verbose')).text, '[+]ping ok\n[+]etcd ok\nhealthz check passed\n');
  });

  it('serves each check on its own path, and 404 for a check it does not have', async () => {
    for (const path of ['/readyz/etcd', '/readyz/ping', '/readyz/informer-sync', '/readyz/shutdown', '/livez/etcd', '/healthz/ping']) {
      const r = await api.raw('GET', path);
      assert.equal(r.status, 200, path);
      assert.equal(r.text, 'ok');
    }
    assert.equal((await api.raw('GET', '/livez/informer-sync')).status, 404);
    assert.equal((await api.raw('GET', '/readyz/nope')).json?.reason, 'NotFound');
  });

  it('skips the checks ?exclude names, and warns of names it has no check for', async () => {
    const r = await api.raw('GET', '/readyz?verbose&exclude=etcd&exclude=zeta&exclude=alpha');
    assert.equal(r.status, 200);
    assert.equal(r.text, '[+]ping ok\n[+]etcd excluded: ok\n[+]informer-sync ok\n[+]shutdown ok\nwarn: some health checks cannot be excluded: no matches for "alpha","zeta"\nreadyz check passed\n');
  });
});

describe('health endpoints when the store stops answering', { skip: etcdSkipReason() }, () => {
  let etcd: EtcdServer;
  let api: TestApiServer;
  before(async () => {
    etcd = await startEtcd();
    api = await startTestApiServer(`etcd://${etcd.endpoint}`);
  });
  after(async () => {
    await api?.close();
    await etcd?.stop();
  });

  it('fail the etcd check, withholding the reason on the lists and giving it on the check of its own', async () => {
    assert.equal((await api.raw('GET', '/readyz')).text, 'ok');
    await etcd.stop();
    const [readyz, livez, own, excluded, component] = await Promise.all([
      api.raw('GET', '/readyz'),
      api.raw('GET', '/livez'),
      api.raw('GET', '/readyz/etcd'),
      api.raw('GET', '/readyz?exclude=etcd'),
      api.raw('GET', '/api/v1/componentstatuses/etcd-0'),
    ]);
    assert.equal(readyz.status, 500);
    assert.equal(readyz.text, '[+]ping ok\n[-]etcd failed: reason withheld\n[+]informer-sync ok\n[+]shutdown ok\nreadyz check failed\n');
    assert.equal(livez.status, 500);
    assert.equal(livez.text, '[+]ping ok\n[-]etcd failed: reason withheld\nlivez check failed\n');
    assert.equal(own.status, 500);
    assert.match(own.text, /^internal server error: .+\n$/);
    assert.equal(excluded.status, 200);
    assert.equal(excluded.text, 'ok');
    assert.equal(component.status, 200);
    const [condition] = (component.json?.conditions ?? []) as { type: string; status: string; error?: string }[];
    assert.equal(condition?.type, 'Healthy');
    assert.equal(condition?.status, 'False');
    assert.ok(condition?.error, 'the condition says why');
  });
});

describe('component statuses of an etcd cluster with a member down', { skip: etcdSkipReason() }, () => {
  let etcd: EtcdServer;
  let api: TestApiServer;
  before(async () => {
    etcd = await startEtcd();
    api = await startTestApiServer(`etcd://${etcd.endpoint},127.0.0.1:${await freePort()}`);
  });
  after(async () => {
    await api?.close();
    await etcd?.stop();
  });

  it('lists each member as etcd-N, the one that answers healthy and the other not, while the store serves', async () => {
    const list = await api.raw('GET', '/api/v1/componentstatuses');
    assert.equal(list.status, 200, list.text);
    const items = (list.json?.items ?? []) as { metadata: { name: string }; conditions: { status: string; error?: string }[] }[];
    assert.deepEqual(items.map((i) => i.metadata.name), ['scheduler', 'controller-manager', 'etcd-0', 'etcd-1']);
    const etcd0 = items.find((i) => i.metadata.name === 'etcd-0')!;
    const etcd1 = items.find((i) => i.metadata.name === 'etcd-1')!;
    assert.equal(etcd0.conditions[0]?.status, 'True');
    assert.equal(etcd1.conditions[0]?.status, 'False');
    assert.ok(etcd1.conditions[0]?.error);
    assert.equal((await api.raw('GET', '/readyz')).text, 'ok');
  });
});
