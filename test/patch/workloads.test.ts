import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SchemaPatchMeta, applyMergePatch, applyStrategicMergePatch } from '../../src/api/patch/index.js';
import { deploymentDefinition, podDefinition, workloadDefinitions } from './fixtures/workload-definitions.js';
import { kubectlApplyPatch, lastAppliedAnnotation } from './kubectl-apply.js';

type JsonMap = Record<string, unknown>;

const deploymentMeta = new SchemaPatchMeta(workloadDefinitions, deploymentDefinition);
const podMeta = new SchemaPatchMeta(workloadDefinitions, podDefinition);

function manifest(containers: JsonMap[], extra: { volumes?: JsonMap[]; strategy?: JsonMap } = {}): JsonMap {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      ...(extra.strategy ? { strategy: extra.strategy } : {}),
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers, ...(extra.volumes ? { volumes: extra.volumes } : {}) },
      },
    },
  };
}

const web = {
  name: 'web',
  image: 'web-server:1.25',
  ports: [{ containerPort: 80 }],
  env: [
    { name: 'MODE', value: 'prod' },
    { name: 'DEBUG', value: '1' },
  ],
  volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
};
const logShipper = { name: 'log-shipper', image: 'log-shipper:3.0' };

/** What the server stores after `kubectl apply` creates the manifest: its fields, defaults and status. */
function created(applied: JsonMap): JsonMap {
  const object = applyStrategicMergePatch({}, kubectlApplyPatch({}, applied, deploymentMeta), deploymentMeta);
  return applyMergePatch(object, {
    metadata: { namespace: 'default', uid: '6f1c', resourceVersion: '41', generation: 1 },
    spec: {
      strategy: (applied.spec as JsonMap).strategy ?? { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: { spec: { restartPolicy: 'Always' } },
    },
    status: { replicas: 2, conditions: [{ type: 'Available', status: 'True' }, { type: 'Progressing', status: 'True' }] },
  }) as JsonMap;
}

function apply(live: JsonMap, applied: JsonMap): JsonMap {
  return applyStrategicMergePatch(live, kubectlApplyPatch(live, applied, deploymentMeta), deploymentMeta) as JsonMap;
}

function podSpecOf(deployment: unknown): JsonMap {
  return ((deployment as JsonMap).spec as { template: { spec: JsonMap } }).template.spec;
}

function containersOf(deployment: unknown): JsonMap[] {
  return podSpecOf(deployment).containers as JsonMap[];
}

function names(list: unknown): unknown[] {
  return (list as JsonMap[]).map((item) => item.name);
}

test('changing one container image keeps the other containers and the rest of the container', () => {
  const live = created(manifest([web, logShipper]));
  const patched = applyStrategicMergePatch(live, { spec: { template: { spec: { containers: [{ name: 'web', image: 'web-server:1.27' }] } } } }, deploymentMeta);
  assert.deepStrictEqual(containersOf(patched), [{ ...web, image: 'web-server:1.27' }, logShipper]);
  assert.deepStrictEqual((patched as JsonMap).status, live.status);
});

test('$patch: delete removes one env var and keeps the others', () => {
  const live = created(manifest([web, logShipper]));
  const patched = applyStrategicMergePatch(live, { spec: { template: { spec: { containers: [{ name: 'web', env: [{ name: 'DEBUG', $patch: 'delete' }] }] } } } }, deploymentMeta);
  assert.deepStrictEqual(containersOf(patched)[0]?.env, [{ name: 'MODE', value: 'prod' }]);
});

test('kubectl apply of an unchanged manifest changes nothing', () => {
  const live = created(manifest([web, logShipper]));
  assert.deepStrictEqual(apply(live, manifest([web, logShipper])), live);
});

test('kubectl apply without an env var deletes just that var, with $setElementOrder for the rest', () => {
  const live = created(manifest([web, logShipper]));
  const withoutDebug = manifest([{ ...web, env: [{ name: 'MODE', value: 'prod' }] }, logShipper]);
  const patch = kubectlApplyPatch(live, withoutDebug, deploymentMeta);
  assert.deepStrictEqual(podSpecOf(patch).containers, [{ name: 'web', '$setElementOrder/env': [{ name: 'MODE' }], env: [{ name: 'DEBUG', $patch: 'delete' }] }]);
  assert.deepStrictEqual(podSpecOf(patch)['$setElementOrder/containers'], [{ name: 'web' }, { name: 'log-shipper' }]);
  const result = apply(live, withoutDebug);
  assert.deepStrictEqual(containersOf(result)[0]?.env, [{ name: 'MODE', value: 'prod' }]);
  assert.deepStrictEqual((result.spec as JsonMap).strategy, (live.spec as JsonMap).strategy, 'server defaults survive');
  assert.equal(JSON.parse(((result.metadata as JsonMap).annotations as JsonMap)[lastAppliedAnnotation] as string).spec.template.spec.containers[0].env.length, 1);
});

test('kubectl apply adding a container puts it where the manifest has it', () => {
  const live = created(manifest([web, logShipper]));
  const metrics = { name: 'metrics', image: 'exporter:2' };
  const result = apply(live, manifest([metrics, web, logShipper]));
  assert.deepStrictEqual(names(containersOf(result)), ['metrics', 'web', 'log-shipper']);
  assert.deepStrictEqual(containersOf(result)[1], web);
});

test('kubectl apply reordering containers keeps a server-injected sidecar ahead of the container that followed it', () => {
  const live = created(manifest([web, logShipper]));
  const podSpec = podSpecOf(live);
  podSpec.containers = [web, { name: 'injected-proxy', image: 'proxy:1' }, logShipper];
  const result = apply(live, manifest([logShipper, web]));
  assert.deepStrictEqual(names(containersOf(result)), ['injected-proxy', 'log-shipper', 'web']);
});

test('kubectl apply removing a container deletes it and keeps a server-injected sidecar', () => {
  const live = created(manifest([web, logShipper]));
  podSpecOf(live).containers = [web, logShipper, { name: 'injected-proxy', image: 'proxy:1' }];
  const result = apply(live, manifest([web]));
  assert.deepStrictEqual(names(containersOf(result)), ['web', 'injected-proxy']);
});

test('switching the strategy from RollingUpdate to Recreate with kubectl apply drops rollingUpdate', () => {
  const live = created(manifest([web]));
  assert.deepStrictEqual((live.spec as JsonMap).strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
  const recreate = manifest([web], { strategy: { type: 'Recreate' } });
  const patch = kubectlApplyPatch(live, recreate, deploymentMeta);
  assert.deepStrictEqual((patch.spec as JsonMap).strategy, { $retainKeys: ['type'], type: 'Recreate' });
  assert.deepStrictEqual((apply(live, recreate).spec as JsonMap).strategy, { type: 'Recreate' });
});

test('a JSON merge patch to Recreate would keep rollingUpdate, which is why kubectl relies on $retainKeys', () => {
  const live = created(manifest([web]));
  const merged = applyMergePatch(live, { spec: { strategy: { type: 'Recreate' } } }) as JsonMap;
  assert.deepStrictEqual((merged.spec as JsonMap).strategy, { type: 'Recreate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
});

test('a volume switching from emptyDir to configMap keeps only the new source', () => {
  const live = created(manifest([web], { volumes: [{ name: 'cache', emptyDir: {} }] }));
  const result = apply(live, manifest([web], { volumes: [{ name: 'cache', configMap: { name: 'web-config' } }] }));
  assert.deepStrictEqual(podSpecOf(result).volumes, [{ name: 'cache', configMap: { name: 'web-config' } }]);
  const byHand = applyStrategicMergePatch(live, { spec: { template: { spec: { volumes: [{ name: 'cache', $retainKeys: ['configMap', 'name'], configMap: { name: 'other' } }] } } } }, deploymentMeta);
  assert.deepStrictEqual(podSpecOf(byHand).volumes, [{ name: 'cache', configMap: { name: 'other' } }]);
});

test('ports merge by containerPort and volume mounts by mountPath', () => {
  const live = created(manifest([web]));
  const patched = applyStrategicMergePatch(
    live,
    { spec: { template: { spec: { containers: [{ name: 'web', ports: [{ containerPort: 80, name: 'http' }, { containerPort: 443 }], volumeMounts: [{ mountPath: '/cache', readOnly: true }] }] } } } },
    deploymentMeta,
  );
  const container = containersOf(patched)[0];
  assert.deepStrictEqual(container?.ports, [{ containerPort: 80, name: 'http' }, { containerPort: 443 }]);
  assert.deepStrictEqual(container?.volumeMounts, [{ name: 'cache', mountPath: '/cache', readOnly: true }]);
});

test('kubectl scale and rollout restart patches change only their fields', () => {
  const live = created(manifest([web, logShipper]));
  const scaled = applyStrategicMergePatch(live, { spec: { replicas: 5 } }, deploymentMeta) as JsonMap;
  assert.deepStrictEqual(scaled, { ...live, spec: { ...(live.spec as JsonMap), replicas: 5 } });
  const restarted = applyStrategicMergePatch(live, { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2025-01-01T00:00:00Z' } } } } }, deploymentMeta);
  const template = ((restarted as JsonMap).spec as JsonMap).template as JsonMap;
  assert.deepStrictEqual(template.metadata, { labels: { app: 'web' }, annotations: { 'kubectl.kubernetes.io/restartedAt': '2025-01-01T00:00:00Z' } });
  assert.deepStrictEqual(containersOf(restarted), [web, logShipper]);
});

test('a label set to null is removed', () => {
  const live = created(manifest([web]));
  const patched = applyStrategicMergePatch(live, { metadata: { labels: { app: null, tier: 'front' } } }, deploymentMeta) as JsonMap;
  assert.deepStrictEqual((patched.metadata as JsonMap).labels, { tier: 'front' });
});

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'web-1',
    finalizers: ['example.com/a', 'example.com/b'],
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d8', uid: 'u1' }],
  },
  spec: {
    containers: [{ name: 'web', image: 'web-server:1.25' }],
    imagePullSecrets: [{ name: 'registry' }],
    tolerations: [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
      { key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' },
    ],
  },
  status: {
    phase: 'Pending',
    conditions: [
      { type: 'PodScheduled', status: 'True' },
      { type: 'Ready', status: 'False', reason: 'ContainersNotReady' },
    ],
  },
};

test('finalizers merge as a set and $deleteFromPrimitiveList removes one', () => {
  const added = applyStrategicMergePatch(pod, { metadata: { finalizers: ['example.com/b', 'example.com/c'] } }, podMeta) as typeof pod;
  assert.deepStrictEqual(added.metadata.finalizers, ['example.com/a', 'example.com/b', 'example.com/c']);
  const removed = applyStrategicMergePatch(added, { metadata: { '$deleteFromPrimitiveList/finalizers': ['example.com/a'] } }, podMeta) as typeof pod;
  assert.deepStrictEqual(removed.metadata.finalizers, ['example.com/b', 'example.com/c']);
});

test('status conditions merge by type', () => {
  const patched = applyStrategicMergePatch(pod, { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', reason: null }] } }, podMeta) as typeof pod;
  assert.deepStrictEqual(patched.status.conditions, [
    { type: 'PodScheduled', status: 'True' },
    { type: 'Ready', status: 'True' },
  ]);
  assert.equal(patched.status.phase, 'Running');
});

test('tolerations are replaced whole, as Kubernetes gives them no merge key', () => {
  const patched = applyStrategicMergePatch(pod, { spec: { tolerations: [{ key: 'gpu', operator: 'Exists' }] } }, podMeta) as typeof pod;
  assert.deepStrictEqual(patched.spec.tolerations, [{ key: 'gpu', operator: 'Exists' }]);
});

test('image pull secrets and owner references merge by their keys, new entries first as Kubernetes places them', () => {
  const patched = applyStrategicMergePatch(
    pod,
    { metadata: { ownerReferences: [{ uid: 'u2', apiVersion: 'v1', kind: 'Node', name: 'n1' }] }, spec: { imagePullSecrets: [{ name: 'mirror' }] } },
    podMeta,
  ) as typeof pod;
  assert.deepStrictEqual(patched.spec.imagePullSecrets, [{ name: 'mirror' }, { name: 'registry' }]);
  assert.deepStrictEqual(patched.metadata.ownerReferences.map((o) => o.uid), ['u2', 'u1']);
});

test('a container patch without its name is rejected as kube-apiserver rejects it', () => {
  assert.throws(
    () => applyStrategicMergePatch(pod, { spec: { containers: [{ image: 'web-server:1.27' }] } }, podMeta),
    (e: unknown) => e instanceof Error && e.message === 'map: map[image:web-server:1.27] does not contain declared merge key: name',
  );
});
