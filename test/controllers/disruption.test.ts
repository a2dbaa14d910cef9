// The disruption controller keeps PodDisruptionBudget status current, so the
// eviction API lets exactly as many pods go as the budget allows.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../src/api/object.js';
import { InformerFactory } from '../../src/client/informer.js';
import { budgetFigures, DisruptionController } from '../../src/controllers/disruption/controller.js';
import { startTestApiServer, type TestApiServer } from '../apiserver/harness.js';

const ready = (name: string, isReady = true): KubeObject => ({
  metadata: { name, labels: { app: 'db' } },
  status: { conditions: [{ type: 'Ready', status: isReady ? 'True' : 'False' }] },
});

describe('budget figures', () => {
  it('counts ready pods against minAvailable and maxUnavailable as Kubernetes does', () => {
    const pods = [ready('a'), ready('b'), ready('c', false)];
    assert.deepEqual(budgetFigures({ minAvailable: 1 }, pods, undefined, new Set()), { expectedPods: 3, desiredHealthy: 1, currentHealthy: 2, disruptionsAllowed: 1 });
    assert.deepEqual(budgetFigures({ minAvailable: '50%' }, pods, 4, new Set()), { expectedPods: 4, desiredHealthy: 2, currentHealthy: 2, disruptionsAllowed: 0 });
    assert.deepEqual(budgetFigures({ maxUnavailable: 1 }, pods, 3, new Set()), { expectedPods: 3, desiredHealthy: 2, currentHealthy: 2, disruptionsAllowed: 0 });
    assert.deepEqual(budgetFigures({ maxUnavailable: '34%' }, pods, 3, new Set(['a'])), { expectedPods: 3, desiredHealthy: 1, currentHealthy: 1, disruptionsAllowed: 0 });
  });
});

describe('disruption controller', () => {
  let api: TestApiServer;
  let factory: InformerFactory;
  before(async () => {
    api = await startTestApiServer();
    factory = new InformerFactory(api.client);
    await new DisruptionController(factory).start();
  });
  after(async () => {
    factory?.stop();
    await api?.close();
  });

  async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('lets one of three ready pods be evicted under minAvailable 2, then refuses', async () => {
    const pods = { group: '', version: 'v1', plural: 'pods', namespace: 'default' };
    for (const name of ['db-0', 'db-1', 'db-2']) {
      await api.client.create(pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'db' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
      await api.client.patch({ ...pods, name, subresource: 'status' }, { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }, 'merge');
    }
    const pdbs = { group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', namespace: 'default' };
    await api.client.create(pdbs, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'db' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'db' } } } });
    const status = await until('the budget status', async () => {
      const pdb = await api.client.get<{ status?: { currentHealthy?: number; disruptionsAllowed?: number; expectedPods?: number; conditions?: { type: string; status: string; reason: string }[] } }>({ ...pdbs, name: 'db' });
      return pdb.status?.currentHealthy === 3 ? pdb.status : undefined;
    });
    assert.equal(status.disruptionsAllowed, 1);
    assert.equal(status.expectedPods, 3);
    assert.deepEqual(status.conditions?.map((c) => [c.type, c.status, c.reason]), [['DisruptionAllowed', 'True', 'SufficientPods']]);
    const evict = (name: string) => api.raw('POST', `/api/v1/namespaces/default/pods/${name}/eviction`, { body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name } } });
    assert.equal((await evict('db-0')).status, 201);
    const refused = await evict('db-1');
    assert.equal(refused.status, 429, refused.text);
    await until('the budget to see two healthy pods', async () => {
      const pdb = await api.client.get<{ status?: { currentHealthy?: number; disruptionsAllowed?: number } }>({ ...pdbs, name: 'db' });
      return pdb.status?.currentHealthy === 2 && pdb.status.disruptionsAllowed === 0 ? true : undefined;
    });
  });
});
