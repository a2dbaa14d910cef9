// What a ResourceQuota counts: resource names, per-object usage, pod scopes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../src/api/object.js';
import { claimUsage, podQOSClass, podResources, podUsage, quotaUsage, serviceUsage, usageSource, type PodForQuota, type UsageSource } from '../../src/api/quota/usage.js';

const now = Date.parse('2024-05-01T10:00:00Z');

function pod(name: string, containers: { requests?: Record<string, string>; limits?: Record<string, string> }[], extra: Record<string, unknown> = {}, status: Record<string, unknown> = { phase: 'Running' }): PodForQuota {
  return {
    metadata: { name, namespace: 'ns' },
    spec: { containers: containers.map((r, i) => ({ name: `c${i}`, resources: r })), ...extra },
    status,
  } as PodForQuota;
}

const str = (m: Map<string, { toString(): string }>) => Object.fromEntries([...m].map(([k, v]) => [k, v.toString()]));

describe('quota resource names', () => {
  it('are counted from pods, services, claims or plain object counts', () => {
    const kind = (n: string) => {
      const s = usageSource(n);
      return s?.kind === 'count' ? `count:${s.plural}${s.group ? '.' + s.group : ''}` : s?.kind;
    };
    assert.equal(kind('pods'), 'pods');
    assert.equal(kind('requests.cpu'), 'pods');
    assert.equal(kind('limits.memory'), 'pods');
    assert.equal(kind('cpu'), 'pods');
    assert.equal(kind('requests.nvidia.com/gpu'), 'pods');
    assert.equal(kind('hugepages-2Mi'), 'pods');
    assert.equal(kind('count/pods'), 'pods');
    assert.equal(kind('services.nodeports'), 'services');
    assert.equal(kind('requests.storage'), 'persistentvolumeclaims');
    assert.equal(kind('gold.storageclass.storage.k8s.io/requests.storage'), 'persistentvolumeclaims');
    assert.equal(kind('configmaps'), 'count:configmaps');
    assert.equal(kind('count/secrets'), 'count:secrets');
    assert.equal(kind('count/deployments.apps'), 'count:deployments.apps');
    assert.equal(kind('count/widgets.example.com'), 'count:widgets.example.com');
    assert.equal(kind('requests.kubernetes.io/thing'), undefined);
    assert.equal(kind('bogus'), undefined);
  });
});

describe('pod usage', () => {
  it('sums containers, takes the init containers’ peak if higher, and adds overhead', () => {
    const p = pod('p', [{ requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } }, { requests: { cpu: '250m' }, limits: { cpu: '500m' } }], {
      initContainers: [{ name: 'init', resources: { requests: { cpu: '1', memory: '32Mi' } } }],
      overhead: { cpu: '10m' },
    });
    assert.deepEqual(str(podResources(p, 'requests')), { cpu: '1010m', memory: '64Mi' });
    assert.deepEqual(str(podResources(p, 'limits')), { cpu: '710m', memory: '128Mi' });
  });

  it('counts restartable init containers (sidecars) beside the containers', () => {
    const p = pod('p', [{ requests: { cpu: '100m' } }], {
      initContainers: [
        { name: 'sidecar', restartPolicy: 'Always', resources: { requests: { cpu: '50m' } } },
        { name: 'setup', resources: { requests: { cpu: '120m' } } },
      ],
    });
    // Containers and sidecar: 150m; setup runs beside the sidecar: 170m.
    assert.deepEqual(str(podResources(p, 'requests')), { cpu: '170m' });
  });

  it('names requests and limits as quota resources', () => {
    const p = pod('p', [{ requests: { cpu: '500m', memory: '1Gi', 'nvidia.com/gpu': '1', 'hugepages-2Mi': '4Mi' }, limits: { cpu: '1', memory: '1Gi', 'nvidia.com/gpu': '1', 'hugepages-2Mi': '4Mi' } }]);
    assert.deepEqual(str(podUsage(p, now)), {
      'count/pods': '1',
      pods: '1',
      cpu: '500m',
      'requests.cpu': '500m',
      'limits.cpu': '1',
      memory: '1Gi',
      'requests.memory': '1Gi',
      'limits.memory': '1Gi',
      'hugepages-2Mi': '4Mi',
      'requests.hugepages-2Mi': '4Mi',
      'requests.nvidia.com/gpu': '1',
    });
  });

  it('stops counting finished pods and pods past their deletion grace, except in count/pods', () => {
    assert.deepEqual(str(podUsage(pod('done', [{ requests: { cpu: '1' } }], {}, { phase: 'Succeeded' }), now)), { 'count/pods': '1' });
    const deleting = (at: string) => ({ ...pod('d', [{ requests: { cpu: '1' } }]), metadata: { name: 'd', deletionTimestamp: at, deletionGracePeriodSeconds: 30 } }) as PodForQuota;
    assert.equal(podUsage(deleting('2024-05-01T10:00:10Z'), now).has('pods'), true);
    assert.equal(podUsage(deleting('2024-05-01T09:58:00Z'), now).has('pods'), false);
  });

  it('reads the QoS class for the BestEffort scopes', () => {
    assert.equal(podQOSClass(pod('p', [{}])), 'BestEffort');
    assert.equal(podQOSClass(pod('p', [{ requests: { cpu: '500m' }, limits: { cpu: '1', memory: '1Gi' } }])), 'Burstable');
    assert.equal(podQOSClass(pod('p', [{ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } }])), 'Guaranteed');
    assert.equal(podQOSClass(pod('p', [{}], {}, { qosClass: 'Guaranteed' })), 'Guaranteed');
  });
});

describe('service and claim usage', () => {
  it('counts load balancers and node ports', () => {
    const svc = (spec: Record<string, unknown>) => ({ metadata: { name: 's' }, spec }) as KubeObject;
    assert.deepEqual(str(serviceUsage(svc({ type: 'ClusterIP', ports: [{ port: 80 }] }))), { services: '1', 'count/services': '1' });
    assert.deepEqual(str(serviceUsage(svc({ type: 'NodePort', ports: [{ port: 80 }, { port: 443 }] }))), { services: '1', 'count/services': '1', 'services.nodeports': '2' });
    assert.deepEqual(str(serviceUsage(svc({ type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80, nodePort: 30080 }, { port: 443 }] }))), {
      services: '1',
      'count/services': '1',
      'services.loadbalancers': '1',
      'services.nodeports': '1',
    });
  });

  it('counts claims and their storage, per class too', () => {
    const pvc = { metadata: { name: 'c' }, spec: { storageClassName: 'gold', resources: { requests: { storage: '5Gi' } } }, status: { allocatedResources: { storage: '8Gi' } } } as KubeObject;
    assert.deepEqual(str(claimUsage(pvc)), {
      persistentvolumeclaims: '1',
      'count/persistentvolumeclaims': '1',
      'gold.storageclass.storage.k8s.io/persistentvolumeclaims': '1',
      'requests.storage': '8Gi',
      'gold.storageclass.storage.k8s.io/requests.storage': '8Gi',
    });
  });
});

describe('a quota’s used amounts', () => {
  const pods = [
    pod('a', [{ requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } }]),
    pod('b', [{ requests: { cpu: '1', memory: '64Mi' }, limits: { cpu: '1', memory: '64Mi' } }], { activeDeadlineSeconds: 60, priorityClassName: 'high' }),
    pod('c', [{}]),
    pod('done', [{ requests: { cpu: '4' } }], {}, { phase: 'Failed' }),
  ];
  const objects = (s: UsageSource): KubeObject[] | undefined => {
    if (s.kind === 'pods') return pods;
    if (s.kind === 'count' && s.plural === 'configmaps') return [{ metadata: { name: 'x' } }, { metadata: { name: 'y' } }];
    return undefined;
  };

  it('are given for every hard resource, zero when nothing uses it', () => {
    const used = quotaUsage(
      { hard: { pods: '10', 'count/pods': '10', 'requests.cpu': '4', 'requests.memory': '1Gi', 'limits.cpu': '8', 'limits.memory': '2Gi', configmaps: '5', 'requests.ephemeral-storage': '1Gi', 'count/widgets.example.com': '3' } },
      objects,
      now,
    );
    assert.deepEqual(used, {
      pods: '3',
      'count/pods': '4',
      'requests.cpu': '1250m',
      'requests.memory': '128Mi',
      'limits.cpu': '1500m',
      'limits.memory': '192Mi',
      configmaps: '2',
      'requests.ephemeral-storage': '0',
    });
  });

  it('count only pods under every scope', () => {
    assert.deepEqual(quotaUsage({ hard: { pods: '10' }, scopes: ['Terminating'] }, objects, now), { pods: '1' });
    assert.deepEqual(quotaUsage({ hard: { pods: '10' }, scopes: ['NotTerminating', 'BestEffort'] }, objects, now), { pods: '1' });
    assert.deepEqual(quotaUsage({ hard: { pods: '10', 'requests.cpu': '10' }, scopes: ['NotBestEffort'] }, objects, now), { pods: '2', 'requests.cpu': '1250m' });
    assert.deepEqual(quotaUsage({ hard: { pods: '10' }, scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['high'] }] } }, objects, now), { pods: '1' });
    assert.deepEqual(quotaUsage({ hard: { pods: '10' }, scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'DoesNotExist' }] } }, objects, now), { pods: '2' });
  });
});
