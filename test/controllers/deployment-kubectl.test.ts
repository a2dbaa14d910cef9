// Real kubectl 1.20, 1.27 and 1.33 drive rollouts against the in-process API
// server with the Deployment, ReplicaSet and garbage collector controllers:
// rollout status, set image, history, undo (kubectl's client-side rollback
// from the ReplicaSets' revision annotations), restart, pause / resume, and
// a cascading delete. The test acts as the nodes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeList } from '../../src/api/object.js';
import { KubectlRunner, kubectlOrSkip } from '../e2e/harness.js';
import { createNamespace, deployments, eventually, FakeNodes, imageOf, listPods, podTemplate, replicaSets, startCluster, type Cluster } from './workloads-harness.js';

const versions = ['1.20', '1.27', '1.33'];

let c: Cluster;
before(async () => {
  c = await startCluster({ replicaSets: true, deployments: true, gc: true });
});
after(async () => {
  await c?.close();
});

for (const version of versions) {
  const { kubectl, skip } = kubectlOrSkip(version);
  describe(`kubectl ${version} rollouts`, { skip }, () => {
    const ns = `rollout-${version.replace('.', '-')}`;
    let k: KubectlRunner;
    let nodes: FakeNodes;
    before(async () => {
      k = new KubectlRunner(kubectl!, c.api.server.kubeconfigPath);
      await createNamespace(c.client, ns);
      nodes = new FakeNodes(c.client, ns);
      await nodes.start();
    });
    after(() => {
      nodes?.stop();
      k?.cleanup();
    });

    const status = (extra: string[] = []) => k.ok(['rollout', 'status', '-n', ns, 'deployment/web', '--timeout=90s', ...extra]);
    const image = async () => imageOf(await c.client.get({ ...deployments, namespace: ns, name: 'web' }));

    test('rollout status waits for the rollout and reports success', async () => {
      await c.client.create(
        { ...deployments, namespace: ns },
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: podTemplate({ app: 'web' }, 'nginx:1.24') } },
      );
      assert.match(await status(), /deployment "web" successfully rolled out/);
    });

    test('set image rolls out revision 2; history lists both revisions', async () => {
      await k.ok(['set', 'image', '-n', ns, 'deployment/web', 'main=nginx:1.25']);
      assert.match(await status(), /successfully rolled out/);
      assert.match(await status(['--revision=2']), /successfully rolled out/);
      const history = await k.ok(['rollout', 'history', '-n', ns, 'deployment/web']);
      assert.match(history, /^1\s+<none>$/m);
      assert.match(history, /^2\s+<none>$/m);
      assert.match(await k.ok(['rollout', 'history', '-n', ns, 'deployment/web', '--revision=1']), /nginx:1\.24/);
    });

    test('rollout undo goes back to the previous revision (as revision 3, reusing its ReplicaSet)', async () => {
      assert.match(await k.ok(['rollout', 'undo', '-n', ns, 'deployment/web']), /deployment\.apps\/web rolled back/);
      assert.match(await status(), /successfully rolled out/);
      assert.equal(await image(), 'nginx:1.24');
      const history = await k.ok(['rollout', 'history', '-n', ns, 'deployment/web']);
      assert.match(history, /^2\s+<none>$/m);
      assert.match(history, /^3\s+<none>$/m);
      assert.doesNotMatch(history, /^1\s/m);
      assert.equal((await c.client.list<KubeList>({ ...replicaSets, namespace: ns })).items.length, 2);
      await eventually('only nginx:1.24 pods', async () => {
        const l = await listPods(c.client, ns);
        return l.length === 3 && l.every((p) => imageOf(p) === 'nginx:1.24') ? true : undefined;
      }, 60_000);
      assert.match(await k.ok(['rollout', 'undo', '-n', ns, 'deployment/web', '--to-revision=2']), /rolled back/);
      assert.match(await status(), /successfully rolled out/);
      assert.equal(await image(), 'nginx:1.25');
    });

    test('rollout restart starts a new revision; pause and resume', async () => {
      assert.match(await k.ok(['rollout', 'restart', '-n', ns, 'deployment/web']), /deployment\.apps\/web restarted/);
      assert.match(await status(), /successfully rolled out/);
      const d = await c.client.get({ ...deployments, namespace: ns, name: 'web' });
      assert.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '5');

      assert.match(await k.ok(['rollout', 'pause', '-n', ns, 'deployment/web']), /deployment\.apps\/web paused/);
      await k.ok(['set', 'image', '-n', ns, 'deployment/web', 'main=nginx:1.26']);
      await eventually('the paused condition', async () => {
        const x = await c.client.get({ ...deployments, namespace: ns, name: 'web' });
        const cond = ((x.status as any)?.conditions ?? []).find((y: any) => y.type === 'Progressing');
        return cond?.reason === 'DeploymentPaused' && (x.status as any).observedGeneration === x.metadata.generation ? true : undefined;
      });
      assert.equal((await c.client.list<KubeList>({ ...replicaSets, namespace: ns })).items.length, 3);
      assert.match(await k.ok(['rollout', 'resume', '-n', ns, 'deployment/web']), /deployment\.apps\/web resumed/);
      assert.match(await status(), /successfully rolled out/);
      assert.equal(imageOf((await listPods(c.client, ns))[0]!), 'nginx:1.26');
    });

    test('delete cascades to the ReplicaSets and pods', async () => {
      await k.ok(['delete', '-n', ns, 'deployment/web']);
      await eventually('ReplicaSets and pods gone', async () => {
        const rs = (await c.client.list<KubeList>({ ...replicaSets, namespace: ns })).items.length;
        const pods = (await listPods(c.client, ns)).length;
        return rs === 0 && pods === 0 ? true : undefined;
      }, 60_000);
    });
  });
}
