// The shared matching helpers in src/api/scheduling: tolerations, node
// selectors and affinity, and effective pod requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  findUntoleratedTaint,
  nodeAllocatable,
  nodeMatchesNodeSelectorTerms,
  podMatchesNodeSelectorAndAffinity,
  podRequests,
  defaultNonZeroRequests,
  tolerationsTolerateTaint,
  type Taint,
} from '../../src/api/scheduling/index.js';
import { node, pod } from './fixtures.js';

const gpuTaint: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };

test('a toleration matches a taint by key, value (Equal) or key alone (Exists), and effect unless empty', () => {
  assert.equal(tolerationsTolerateTaint([{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }], gpuTaint), true);
  assert.equal(tolerationsTolerateTaint([{ key: 'dedicated', value: 'gpu' }], gpuTaint), true, 'empty operator means Equal, empty effect means all');
  assert.equal(tolerationsTolerateTaint([{ key: 'dedicated', value: 'cpu' }], gpuTaint), false);
  assert.equal(tolerationsTolerateTaint([{ key: 'dedicated', operator: 'Exists' }], gpuTaint), true);
  assert.equal(tolerationsTolerateTaint([{ operator: 'Exists' }], gpuTaint), true, 'empty key with Exists tolerates everything');
  assert.equal(tolerationsTolerateTaint([{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }], gpuTaint), false);
  assert.equal(tolerationsTolerateTaint([{ key: 'other', operator: 'Exists' }], gpuTaint), false);
  assert.equal(tolerationsTolerateTaint([{ key: 'dedicated', operator: 'Lt', value: 'gpu' }], gpuTaint), false, 'unknown operators tolerate nothing');
  assert.equal(tolerationsTolerateTaint(undefined, gpuTaint), false);
  assert.equal(tolerationsTolerateTaint([{ key: 'k', operator: 'Equal' }], { key: 'k', effect: 'NoSchedule' }), true, 'an absent value equals the empty value');
});

test('findUntoleratedTaint returns the first taint of the given effects that nothing tolerates', () => {
  const taints: Taint[] = [
    { key: 'soft', effect: 'PreferNoSchedule' },
    gpuTaint,
    { key: 'evict', effect: 'NoExecute' },
  ];
  assert.deepEqual(findUntoleratedTaint(taints, [], ['NoSchedule', 'NoExecute']), gpuTaint);
  assert.deepEqual(findUntoleratedTaint(taints, [{ key: 'dedicated', operator: 'Exists' }], ['NoSchedule', 'NoExecute']), { key: 'evict', effect: 'NoExecute' });
  assert.equal(findUntoleratedTaint(taints, [{ operator: 'Exists' }], ['NoSchedule', 'NoExecute']), undefined);
  assert.deepEqual(findUntoleratedTaint(taints, []), { key: 'soft', effect: 'PreferNoSchedule' }, 'no effects given: every taint counts');
  assert.equal(findUntoleratedTaint(undefined, []), undefined);
});

test('node selector terms are ORed, their expressions ANDed, with every operator Kubernetes has', () => {
  const n = node('n1', { labels: { zone: 'a', disk: 'ssd', cores: '16' } });
  const m = (terms: Parameters<typeof nodeMatchesNodeSelectorTerms>[1]) => nodeMatchesNodeSelectorTerms(n, terms);
  assert.equal(m([{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }]), true);
  assert.equal(m([{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }]), false);
  assert.equal(m([{ matchExpressions: [{ key: 'gpu', operator: 'NotIn', values: ['x'] }] }]), true, 'NotIn matches an absent label');
  assert.equal(m([{ matchExpressions: [{ key: 'disk', operator: 'Exists' }] }]), true);
  assert.equal(m([{ matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] }]), true);
  assert.equal(m([{ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['8'] }] }]), true);
  assert.equal(m([{ matchExpressions: [{ key: 'cores', operator: 'Lt', values: ['8'] }] }]), false);
  assert.equal(m([{ matchExpressions: [{ key: 'zone', operator: 'Gt', values: ['1'] }] }]), false, 'Gt on a non-integer label does not match');
  assert.equal(m([{ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['x'] }] }]), false, 'an invalid term matches nothing');
  assert.equal(
    m([{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }, { key: 'disk', operator: 'In', values: ['hdd'] }] }]),
    false,
    'expressions of one term are ANDed',
  );
  assert.equal(
    m([{ matchExpressions: [{ key: 'disk', operator: 'In', values: ['hdd'] }] }, { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }]),
    true,
    'terms are ORed',
  );
  assert.equal(m([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }]), true);
  assert.equal(m([{ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n1'] }] }]), false);
  assert.equal(m([{ matchFields: [{ key: 'metadata.labels', operator: 'In', values: ['n1'] }] }]), false, 'only metadata.name is a field');
  assert.equal(m([{}]), false, 'an empty term matches nothing');
  assert.equal(m([]), false, 'no terms match nothing');
});

test('a pod matches a node when its nodeSelector and its required node affinity both match', () => {
  const n = node('n1', { labels: { zone: 'a', disk: 'ssd' } });
  assert.equal(podMatchesNodeSelectorAndAffinity(pod('p'), n), true);
  assert.equal(podMatchesNodeSelectorAndAffinity(pod('p', { spec: { nodeSelector: { zone: 'a' } } }), n), true);
  assert.equal(podMatchesNodeSelectorAndAffinity(pod('p', { spec: { nodeSelector: { zone: 'b' } } }), n), false);
  const affinity = (values: string[]) => ({
    nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'In', values }] }] } },
  });
  assert.equal(podMatchesNodeSelectorAndAffinity(pod('p', { spec: { nodeSelector: { zone: 'a' }, affinity: affinity(['ssd']) } }), n), true);
  assert.equal(podMatchesNodeSelectorAndAffinity(pod('p', { spec: { nodeSelector: { zone: 'a' }, affinity: affinity(['hdd']) } }), n), false);
  assert.equal(
    podMatchesNodeSelectorAndAffinity(pod('p', { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } } } }), n),
    false,
  );
  assert.equal(
    podMatchesNodeSelectorAndAffinity(
      pod('p', { spec: { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: 'x', operator: 'Exists' }] } }] } } } }),
      n,
    ),
    true,
    'preferred terms do not restrict',
  );
});

test('pod requests: containers summed, the largest init container a floor, sidecars added, overhead on top', () => {
  const p = pod('p');
  p.spec = {
    containers: [
      { name: 'a', resources: { requests: { cpu: '500m', memory: '1Gi' } } },
      { name: 'b', resources: { requests: { cpu: '250m', 'nvidia.com/gpu': '1' } } },
    ],
    initContainers: [
      { name: 'init-big', resources: { requests: { cpu: '2', memory: '512Mi' } } },
      { name: 'init-small', resources: { requests: { cpu: '100m' } } },
    ],
    overhead: { cpu: '100m', memory: '64Mi' },
  };
  assert.deepEqual(podRequests(p), { cpu: 2100, memory: 1024 ** 3 + 64 * 1024 ** 2, 'nvidia.com/gpu': 1 });
  assert.deepEqual(podRequests(p, { excludeOverhead: true }), { cpu: 2000, memory: 1024 ** 3, 'nvidia.com/gpu': 1 });
});

test('pod requests: a sidecar runs beside the app and beside later init containers', () => {
  const p = pod('p');
  p.spec = {
    containers: [{ name: 'app', resources: { requests: { cpu: '1' } } }],
    initContainers: [
      { name: 'proxy', restartPolicy: 'Always', resources: { requests: { cpu: '200m' } } },
      { name: 'migrate', resources: { requests: { cpu: '1500m' } } },
    ],
  };
  // App 1 + sidecar 0.2 = 1.2; the migration step needs 1.5 + the sidecar already running = 1.7.
  assert.deepEqual(podRequests(p), { cpu: 1700 });
});

test('pod requests: pod-level resources replace the containers sum for cpu and memory; defaults fill missing requests for scoring', () => {
  const p = pod('p');
  p.spec = {
    containers: [
      { name: 'a', resources: { requests: { cpu: '100m', 'ephemeral-storage': '1Gi' } } },
      { name: 'b', resources: {} },
    ],
    resources: { requests: { cpu: '2', memory: '1Gi' } },
  };
  assert.deepEqual(podRequests(p), { cpu: 2000, memory: 1024 ** 3, 'ephemeral-storage': 1024 ** 3 });
  const q = pod('q');
  q.spec = { containers: [{ name: 'a', resources: { requests: { cpu: '0' } } }, { name: 'b' }] };
  assert.deepEqual(podRequests(q, { nonMissing: defaultNonZeroRequests }), { cpu: 100, memory: 2 * 200 * 1024 * 1024 }, 'an explicit zero is kept, a missing request defaulted');
});

test('allocatable quantities become numbers: millicores for cpu, bytes and counts for the rest', () => {
  assert.deepEqual(nodeAllocatable(node('n', { cpu: '3500m', memory: '1Gi', pods: '110', extra: { 'nvidia.com/gpu': '4', 'hugepages-2Mi': '4Mi' } })), {
    cpu: 3500,
    memory: 1024 ** 3,
    pods: 110,
    'ephemeral-storage': 10 * 1024 ** 3,
    'nvidia.com/gpu': 4,
    'hugepages-2Mi': 4 * 1024 ** 2,
  });
});
