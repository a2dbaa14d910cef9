// Workloads on hollow nodes, driven by real kubectl: `nami server` (API
// server, scheduler, controllers) and `nami hollow` processes, as a user runs them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeList, KubeObject } from '../../src/api/object.js';
import { loadKubeconfig } from '../../src/client/kubeconfig.js';
import { RestClient, type WatchHandle } from '../../src/client/rest.js';
import { eventually, KubectlRunner, kubectlOrSkip, startHollow, startNami, type RunningHollow, type RunningNami } from './harness.js';

const { kubectl, skip } = kubectlOrSkip('1.33');
const ns = 'workloads';
const pods = { group: '', version: 'v1', plural: 'pods', namespace: ns };

type Pod = KubeObject & { spec: { nodeName?: string }; status?: { phase?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] } };

const isReady = (p: Pod) => !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

function deployment(name: string, spec: Record<string, unknown> = {}, podSpec: Record<string, unknown> = {}, replicas = 3): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'busybox:1.36', resources: { requests: { cpu: '100m', memory: '64Mi' } } }], ...podSpec } },
      ...spec,
    },
  });
}

describe('workloads on hollow nodes', { skip }, () => {
  let nami: RunningNami;
  let hollow: RunningHollow;
  let extra: RunningHollow | undefined;
  let k: KubectlRunner;
  let client: RestClient;

  const podsOf = async (app: string): Promise<Pod[]> => (await client.list<KubeList>(pods, { labelSelector: `app=${app}` })).items as Pod[];

  before(async () => {
    nami = await startNami(['--node-monitor-grace-period', '15']);
    hollow = await startHollow(nami.kubeconfig, ['--nodes', '3', '--cpu', '2', '--memory', '4Gi']);
    k = new KubectlRunner(kubectl!, nami.kubeconfig);
    client = new RestClient(loadKubeconfig(nami.kubeconfig), 'nami-e2e');
    await k.ok(['create', 'namespace', ns]);
    // A CronJob created first, so its first Job (on a minute boundary) has arrived by the end of the suite.
    await k.ok(['create', 'cronjob', 'tick', '-n', ns, '--image=busybox:1.36', '--schedule=*/1 * * * *', '--', 'true']);
  });
  after(async () => {
    client?.close();
    await extra?.stop();
    await hollow?.stop();
    await nami?.stop();
    k?.cleanup();
  });

  test('a Deployment rolls out, scales 3 -> 10 -> 2, updates with maxUnavailable 0 and rolls back', async () => {
    await k.ok(['apply', '-f', k.writeFile('web.json', deployment('web', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } }))]);
    assert.match(await k.ok(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=60s']), /successfully rolled out/);
    await k.ok(['scale', 'deployment/web', '-n', ns, '--replicas=10']);
    await k.ok(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=60s']);
    await eventually('10 ready pods', async () => ((await podsOf('web')).filter(isReady).length === 10 ? true : undefined), 60_000);
    await k.ok(['scale', 'deployment/web', '-n', ns, '--replicas=2']);
    await eventually('2 pods', async () => ((await podsOf('web')).length === 2 ? true : undefined), 60_000);

    // During the image update, a watcher counts ready pods: never fewer than the 2 replicas.
    const ready = new Map<string, boolean>();
    for (const p of await podsOf('web')) ready.set(p.metadata.name!, isReady(p));
    let fewest = Infinity;
    const watch: WatchHandle = client.watch(pods, { labelSelector: 'app=web' }, (type, obj) => {
      if (type === 'BOOKMARK' || type === 'ERROR') return;
      if (type === 'DELETED') ready.delete(obj.metadata.name!);
      else ready.set(obj.metadata.name!, isReady(obj as Pod));
      fewest = Math.min(fewest, [...ready.values()].filter(Boolean).length);
    });
    try {
      await k.ok(['set', 'image', 'deployment/web', '-n', ns, 'main=busybox:1.37']);
      await k.ok(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=60s']);
    } finally {
      watch.stop();
    }
    assert.ok(fewest >= 2, `ready pods fell to ${fewest} during the rollout`);
    assert.ok(Number.isFinite(fewest), 'the watcher saw the rollout');
    assert.match(await k.ok(['rollout', 'history', 'deployment/web', '-n', ns]), /^2\s/m);
    await k.ok(['rollout', 'undo', 'deployment/web', '-n', ns]);
    await k.ok(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=60s']);
    assert.equal(await k.ok(['get', 'deployment/web', '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[0].image}']), 'busybox:1.36');
  });

  test('deleting a Deployment removes its ReplicaSets and pods', async () => {
    await k.ok(['delete', 'deployment/web', '-n', ns]);
    await eventually('the ReplicaSets and pods to go', async () => {
      const rs = (await k.ok(['get', 'replicasets', '-n', ns, '-l', 'app=web', '-o', 'name'])).trim();
      return rs === '' && (await podsOf('web')).length === 0 ? true : undefined;
    }, 60_000);
  });

  test('a StatefulSet creates web-0, web-1, web-2 in order, each after the one before is ready', async () => {
    const created: string[] = [];
    const readyWhenNextCreated: boolean[] = [];
    const state = new Map<string, boolean>();
    const watch = client.watch(pods, { labelSelector: 'app=db' }, (type, obj) => {
      if (type !== 'ADDED' && type !== 'MODIFIED') return;
      const name = obj.metadata.name!;
      if (type === 'ADDED') {
        const previous = created[created.length - 1];
        if (previous) readyWhenNextCreated.push(state.get(previous) ?? false);
        created.push(name);
      }
      state.set(name, isReady(obj as Pod));
    });
    try {
      const sts = {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'db', namespace: ns },
        spec: { replicas: 3, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'busybox:1.36' }] } } },
      };
      await k.ok(['apply', '-f', k.writeFile('db.json', JSON.stringify(sts))]);
      await k.ok(['rollout', 'status', 'statefulset/db', '-n', ns, '--timeout=60s']);
    } finally {
      watch.stop();
    }
    assert.deepEqual(created, ['db-0', 'db-1', 'db-2']);
    assert.deepEqual(readyWhenNextCreated, [true, true]);
  });

  test('a DaemonSet covers every node, and a node that joins', async () => {
    const ds = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: ns },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', image: 'busybox:1.36' }] } } },
    };
    await k.ok(['apply', '-f', k.writeFile('ds.json', JSON.stringify(ds))]);
    const nodesCovered = async (n: number) => {
      const running = (await podsOf('agent')).filter(isReady);
      return new Set(running.map((p) => p.spec.nodeName)).size === n && running.length === n ? true : undefined;
    };
    await eventually('a daemon pod on each of 3 nodes', () => nodesCovered(3), 60_000);
    extra = await startHollow(nami.kubeconfig, ['--nodes', '1', '--name-prefix', 'extra-node-', '--cpu', '2', '--memory', '4Gi']);
    await eventually('a daemon pod on the new node too', () => nodesCovered(4), 60_000);
    assert.ok((await podsOf('agent')).some((p) => p.spec.nodeName === 'extra-node-0'));
  });

  test('a Job with completions 5 and parallelism 2 completes, never more than 2 at once', async () => {
    let mostActive = 0;
    const active = new Set<string>();
    const watch = client.watch(pods, { labelSelector: 'batch.kubernetes.io/job-name=five' }, (type, obj) => {
      const phase = (obj as Pod).status?.phase;
      if (type === 'DELETED' || phase === 'Succeeded' || phase === 'Failed') active.delete(obj.metadata.name!);
      else active.add(obj.metadata.name!);
      mostActive = Math.max(mostActive, active.size);
    });
    try {
      const job = {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'five', namespace: ns },
        spec: {
          completions: 5,
          parallelism: 2,
          // Hollow containers run until told to exit: this one exits 0 after half a second.
          template: { metadata: { annotations: { 'nami.dev/fake-exit-code': '0', 'nami.dev/fake-exit-after-ms': '500' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox:1.36' }] } },
        },
      };
      await k.ok(['apply', '-f', k.writeFile('job.json', JSON.stringify(job))]);
      await k.ok(['wait', '--for=condition=complete', 'job/five', '-n', ns, '--timeout=90s']);
    } finally {
      watch.stop();
    }
    assert.equal(await k.ok(['get', 'job/five', '-n', ns, '-o', 'jsonpath={.status.succeeded}']), '5');
    assert.ok(mostActive <= 2 && mostActive > 0, `${mostActive} pods ran at once`);
  });

  test('taints, tolerations, affinity and anti-affinity place pods as Kubernetes does', async () => {
    await k.ok(['taint', 'node', 'hollow-node-0', 'dedicated=db:NoSchedule']);
    try {
      const anti = {
        podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'spread' } }, topologyKey: 'kubernetes.io/hostname' }] },
        nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['hollow-node-0', 'hollow-node-1', 'hollow-node-2'] }] }] } },
      };
      // Recreate: with one pod per node required, a surge pod would have nowhere to go.
      const recreate = { strategy: { type: 'Recreate' } };
      await k.ok(['apply', '-f', k.writeFile('spread.json', deployment('spread', recreate, { affinity: anti }, 3))]);
      // Three pods, one per node of hollow-node-0..2, none on the tainted one: the third cannot be placed.
      await eventually('two pods placed, one pending', async () => {
        const all = await podsOf('spread');
        const placed = all.filter((p) => p.spec.nodeName);
        return all.length === 3 && placed.length === 2 ? all : undefined;
      }, 60_000);
      const placed = (await podsOf('spread')).filter((p) => p.spec.nodeName).map((p) => p.spec.nodeName);
      assert.equal(new Set(placed).size, 2, 'anti-affinity keeps them apart');
      assert.ok(!placed.includes('hollow-node-0'), 'the taint keeps them off hollow-node-0');
      const pending = (await podsOf('spread')).find((p) => !p.spec.nodeName)!;
      const message = await eventually('the unschedulable condition', async () => {
        const p = (await client.get({ ...pods, name: pending.metadata.name })) as Pod;
        return p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False')?.message;
      }, 30_000);
      assert.match(message, /^0\/4 nodes are available: /);
      assert.match(message, /1 node\(s\) had untolerated taint/);
      // A toleration lets the last one onto the tainted node.
      const tolerate = { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }], affinity: anti };
      await k.ok(['apply', '-f', k.writeFile('spread.json', deployment('spread', recreate, tolerate, 3))]);
      await k.ok(['rollout', 'status', 'deployment/spread', '-n', ns, '--timeout=60s']);
      // Required node affinity pins pods to one node.
      const pinned = { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['hollow-node-2'] }] }] } } } };
      await k.ok(['apply', '-f', k.writeFile('pinned.json', deployment('pinned', {}, pinned, 2))]);
      await k.ok(['rollout', 'status', 'deployment/pinned', '-n', ns, '--timeout=60s']);
      assert.deepEqual([...new Set((await podsOf('pinned')).map((p) => p.spec.nodeName))], ['hollow-node-2']);
    } finally {
      await k.ok(['taint', 'node', 'hollow-node-0', 'dedicated-']);
      await k.run(['delete', 'deployment', 'spread', 'pinned', '-n', ns]);
    }
  });

  test('an impossible pod stays Pending with the scheduler\'s reason', async () => {
    await k.ok(['run', 'huge', '-n', ns, '--image=busybox:1.36', '--overrides={"spec":{"containers":[{"name":"huge","image":"busybox:1.36","resources":{"requests":{"cpu":"100"}}}]}}']);
    const message = await eventually('the unschedulable condition', async () => {
      const p = (await client.get({ ...pods, name: 'huge' })) as Pod;
      return p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False')?.message;
    }, 30_000);
    assert.match(message, /^0\/4 nodes are available: 4 Insufficient cpu\./);
    assert.equal(await k.ok(['get', 'pod', 'huge', '-n', ns, '-o', 'jsonpath={.status.phase}']), 'Pending');
    assert.match(await k.ok(['describe', 'pod', 'huge', '-n', ns]), /FailedScheduling/);
    await k.ok(['delete', 'pod', 'huge', '-n', ns, '--wait=false']);
  });

  test('drain evicts pods while their disruption budget allows it', async () => {
    await k.ok(['apply', '-f', k.writeFile('guarded.json', deployment('guarded', {}, { nodeSelector: { 'kubernetes.io/hostname': 'hollow-node-1' } }, 2))]);
    await k.ok(['rollout', 'status', 'deployment/guarded', '-n', ns, '--timeout=60s']);
    await k.ok(['create', 'poddisruptionbudget', 'guarded', '-n', ns, '--selector=app=guarded', '--min-available=2']);
    await eventually('the budget to count both pods', async () => ((await k.ok(['get', 'pdb', 'guarded', '-n', ns, '-o', 'jsonpath={.status.currentHealthy}'])) === '2' ? true : undefined), 30_000);
    const refused = await k.run(['drain', 'hollow-node-1', '--ignore-daemonsets', '--pod-selector=app=guarded', '--timeout=5s']);
    assert.notEqual(refused.code, 0);
    // Each refusal is reported at once and retried on kubectl's own interval: the 429 suggests no retry time for client-go to wait out silently.
    assert.match(refused.stdout + refused.stderr, /error when evicting pods\/"guarded-[a-z0-9-]+" -n "[^"]+" \(will retry after 5s\): Cannot evict pod as it would violate the pod's disruption budget\./);
    assert.equal((await podsOf('guarded')).filter(isReady).length, 2, 'the budget kept both pods');
    // Both pods are pinned to the drained node, so their replacements cannot start: only a budget of 0 lets both go.
    await k.ok(['patch', 'pdb', 'guarded', '-n', ns, '--type=merge', '-p', '{"spec":{"minAvailable":0}}']);
    await eventually('the budget to allow two disruptions', async () => ((await k.ok(['get', 'pdb', 'guarded', '-n', ns, '-o', 'jsonpath={.status.disruptionsAllowed}'])) === '2' ? true : undefined), 30_000);
    const drained = await k.run(['drain', 'hollow-node-1', '--ignore-daemonsets', '--pod-selector=app=guarded', '--timeout=60s']);
    assert.equal(drained.code, 0, drained.stdout + drained.stderr);
    assert.match(drained.stdout, /node\/hollow-node-1 drained/);
    assert.match(await k.ok(['get', 'node', 'hollow-node-1']), /SchedulingDisabled/);
    await k.ok(['uncordon', 'hollow-node-1']);
    await k.run(['delete', 'deployment', 'guarded', '-n', ns]);
    await k.run(['delete', 'pdb', 'guarded', '-n', ns]);
  });

  test('a node whose agent stops goes NotReady and its pods are made again elsewhere', async () => {
    // Short tolerations of unreachable nodes, so eviction follows within seconds.
    const tolerations = [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 }];
    await k.ok(['apply', '-f', k.writeFile('moved.json', deployment('moved', {}, { tolerations, nodeSelector: { 'nami.dev/hollow-node': 'true' } }, 8))]);
    await k.ok(['rollout', 'status', 'deployment/moved', '-n', ns, '--timeout=60s']);
    const onExtra = (await podsOf('moved')).filter((p) => p.spec.nodeName === 'extra-node-0').map((p) => p.metadata.name);
    assert.ok(onExtra.length > 0, 'some pods run on extra-node-0');
    await extra!.stop();
    await eventually('extra-node-0 to be NotReady', async () => (/^extra-node-0\s+NotReady/m.test(await k.ok(['get', 'nodes'])) ? true : undefined), 60_000);
    await eventually('8 ready pods on the other nodes', async () => {
      const running = (await podsOf('moved')).filter((p) => isReady(p) && p.spec.nodeName !== 'extra-node-0');
      return running.length === 8 ? true : undefined;
    }, 90_000);
    await k.run(['delete', 'deployment', 'moved', '-n', ns, '--wait=false']);
  });

  test('a CronJob every minute creates Jobs', async () => {
    await eventually('a Job from the CronJob', async () => {
      const jobs = (await k.ok(['get', 'jobs', '-n', ns, '-o', 'name'])).split('\n').filter((j) => j.startsWith('job.batch/tick-'));
      return jobs.length > 0 ? jobs : undefined;
    }, 90_000);
    assert.match(await k.ok(['get', 'cronjob', 'tick', '-n', ns, '-o', 'jsonpath={.status.lastScheduleTime}']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$/);
  });
});
