// Bad input never takes the API server down: valid objects of every kind,
// changed at random (members removed or added, values of the wrong type,
// out of range, empty, huge, odd strings, patch directives), sent as
// creates, updates, the three patch types and status patches. Every answer
// must be a Status below 500, except the strategic merge patch errors that
// kube-apiserver itself answers with 500 (an unknown $patch directive, a
// list item without its merge key, mixed list items). The random sequence
// is fixed by its seed, so a failure repeats.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApiError } from '../../src/api/errors.js';
import { startTestApiServer, type TestApiServer } from './harness.js';

let api: TestApiServer;
before(async () => {
  api = await startTestApiServer();
  await api.client.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fuzz' } } });
});
after(async () => {
  await api?.close();
});

/** A small linear congruential generator: the same seed, the same requests. */
function generator(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
}

const podSpec = { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '1'], ports: [{ containerPort: 80, name: 'http' }], env: [{ name: 'A', value: 'b' }], resources: { requests: { cpu: '10m' }, limits: { memory: '10Mi' } }, volumeMounts: [{ name: 'v', mountPath: '/v' }], readinessProbe: { httpGet: { port: 80, path: '/' } } }], volumes: [{ name: 'v', emptyDir: {} }], tolerations: [{ key: 'k', operator: 'Exists' }], affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'a', operator: 'In', values: ['b'] }] }] } } } };
const template = { metadata: { labels: { app: 'f' } }, spec: podSpec };
const sel = { matchLabels: { app: 'f' } };
const bases: [string, Record<string, any>][] = [
  ['/api/v1/namespaces/fuzz/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: 'b' } }, spec: podSpec }],
  ['/apis/apps/v1/namespaces/fuzz/deployments', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 1, selector: sel, template, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%' } } } }],
  ['/apis/apps/v1/namespaces/fuzz/statefulsets', { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 's' }, spec: { serviceName: 's', selector: sel, template, volumeClaimTemplates: [{ metadata: { name: 'v' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] } }],
  ['/apis/apps/v1/namespaces/fuzz/daemonsets', { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'ds' }, spec: { selector: sel, template } }],
  ['/apis/batch/v1/namespaces/fuzz/jobs', { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { template: { spec: { ...podSpec, restartPolicy: 'Never' } }, backoffLimit: 2, podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [1] } }] } } }],
  ['/apis/batch/v1/namespaces/fuzz/cronjobs', { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'cj' }, spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { ...podSpec, restartPolicy: 'Never' } } } } } }],
  ['/api/v1/namespaces/fuzz/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc' }, spec: { selector: { app: 'f' }, ports: [{ port: 80, targetPort: 'http', name: 'h' }], type: 'NodePort' } }],
  ['/api/v1/namespaces/fuzz/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { a: 'b' }, binaryData: { c: 'AAAA' } }],
  ['/api/v1/namespaces/fuzz/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sec' }, type: 'Opaque', stringData: { a: 'b' } }],
  ['/apis/networking.k8s.io/v1/namespaces/fuzz/ingresses', { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'ing' }, spec: { rules: [{ host: 'a.b', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'svc', port: { number: 80 } } } }] } }], tls: [{ hosts: ['a.b'], secretName: 's' }] } }],
  ['/apis/networking.k8s.io/v1/namespaces/fuzz/networkpolicies', { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'np' }, spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 80, protocol: 'TCP' }] }] } }],
  ['/apis/autoscaling/v2/namespaces/fuzz/horizontalpodautoscalers', { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'd' }, minReplicas: 1, maxReplicas: 3, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }], behavior: { scaleDown: { policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } } } }],
  ['/apis/policy/v1/namespaces/fuzz/poddisruptionbudgets', { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'pdb' }, spec: { minAvailable: 1, selector: sel } }],
  ['/apis/rbac.authorization.k8s.io/v1/namespaces/fuzz/roles', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] }],
  ['/apis/rbac.authorization.k8s.io/v1/namespaces/fuzz/rolebindings', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'rb' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' }, subjects: [{ kind: 'User', name: 'u' }] }],
  ['/api/v1/namespaces/fuzz/persistentvolumeclaims', { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'pvc' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
  ['/api/v1/persistentvolumes', { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/x' } } }],
  ['/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec: { podCIDR: '10.0.0.0/24', taints: [{ key: 'a', effect: 'NoSchedule' }] } }],
  ['/apis/coordination.k8s.io/v1/namespaces/fuzz/leases', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' }, spec: { holderIdentity: 'x', leaseDurationSeconds: 10, renewTime: '2024-01-01T00:00:00.000000Z' } }],
  ['/apis/discovery.k8s.io/v1/namespaces/fuzz/endpointslices', { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'es' }, addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }], ports: [{ port: 80 }] }],
  ['/api/v1/namespaces/fuzz/endpoints', { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'ep' }, subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }] }],
  ['/api/v1/namespaces/fuzz/resourcequotas', { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'rq' }, spec: { hard: { pods: '10' }, scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['a'] }] } } }],
  ['/api/v1/namespaces/fuzz/limitranges', { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'lr' }, spec: { limits: [{ type: 'Container', default: { cpu: '1' }, max: { cpu: '2' } }] } }],
  ['/apis/scheduling.k8s.io/v1/priorityclasses', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'pc' }, value: 10 }],
  ['/apis/storage.k8s.io/v1/storageclasses', { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'sc' }, provisioner: 'x', parameters: { a: 'b' } }],
  ['/api/v1/namespaces/fuzz/events', { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e' }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'fuzz' }, reason: 'R', message: 'm', type: 'Normal' }],
  ['/apis/events.k8s.io/v1/namespaces/fuzz/events', { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'e2' }, eventTime: '2024-01-01T00:00:00.000000Z', reportingController: 'a/b', reportingInstance: 'i', action: 'A', reason: 'R', type: 'Normal', regarding: { kind: 'Pod', name: 'p' } }],
  ['/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'things.f.io' }, spec: { group: 'f.io', scope: 'Namespaced', names: { plural: 'things', singular: 'thing', kind: 'Thing' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { n: { type: 'integer', minimum: 0 }, s: { type: 'string', pattern: '^a' } } } } } }, subresources: { status: {}, scale: { specReplicasPath: '.spec.n', statusReplicasPath: '.status.n' } } }] } }],
];

const values: unknown[] = [null, 0, -1, 1.5, 1e20, -2147483649, '', 'x', 'A_b', '-1', '1e3', '10%', ' ', 'a'.repeat(300), true, false, [], {}, [{}], [null], { a: null }, { '': 1 }, [[]], { $patch: 'delete' }, '\u0000', '2024-13-45T99:99:99Z', 'http://x', '../..', 'Ü', { a: { b: { c: [1] } } }];

/** kube-apiserver's own 500s for malformed strategic merge patches (its interpretStrategicMergePatchError passes them through). */
const kubeApiserver500 = /unknown patch type|declared merge key|list element types are not identical/;

function pathsOf(value: unknown, prefix: string[] = []): string[][] {
  const out = [prefix];
  if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...prefix, k]));
  return out;
}

function mutate<T>(obj: T, rand: () => number): T {
  const pick = <V>(a: readonly V[]): V => a[Math.floor(rand() * a.length)]!;
  const copy = structuredClone(obj) as Record<string, any>;
  for (let i = 1 + Math.floor(rand() * 3); i > 0; i--) {
    const paths = pathsOf(copy).filter((p) => p.length > 0 && !(p.length === 1 && (p[0] === 'apiVersion' || p[0] === 'kind')));
    if (paths.length === 0) break;
    const path = pick(paths);
    let parent: Record<string, any> = copy;
    for (const k of path.slice(0, -1)) parent = parent[k];
    const last = path[path.length - 1]!;
    const r = rand();
    if (r < 0.15) delete parent[last];
    else if (r < 0.25 && parent !== null && typeof parent === 'object' && !Array.isArray(parent)) parent[`extra${Math.floor(rand() * 3)}`] = pick(values);
    else (parent as Record<string, unknown>)[last] = structuredClone(pick(values));
  }
  return copy as T;
}

test('randomly broken objects of every kind get a Status below 500, and the server goes on', async () => {
  const rand = generator(7);
  const pick = <V>(a: readonly V[]): V => a[Math.floor(rand() * a.length)]!;
  const unexpected: string[] = [];
  let refused = 0;
  const send = async (method: string, path: string, body: unknown, contentType?: string, query?: Record<string, string>) => {
    try {
      await api.client.requestText(method, path, { body: body as object, contentType, query });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      refused++;
      if (err.code >= 500 && !kubeApiserver500.test(err.message)) unexpected.push(`${err.code} ${method} ${path}: ${err.message}\n  ${JSON.stringify(body).slice(0, 400)}`);
    }
  };
  for (const [path, obj] of bases) await send('POST', path, obj);
  for (let i = 0; i < 4000; i++) {
    const [path, base] = pick(bases);
    const m = mutate(base, rand);
    const item = `${path}/${base.metadata.name as string}`;
    const r = rand();
    if (r < 0.3) await send('POST', path, m, undefined, { dryRun: 'All' });
    else if (r < 0.45) await send('PUT', item, m, undefined, { dryRun: 'All' });
    else if (r < 0.6) await send('PATCH', item, m, 'application/strategic-merge-patch+json', { dryRun: 'All' });
    else if (r < 0.7) await send('PATCH', item, m, 'application/merge-patch+json', { dryRun: 'All' });
    else if (r < 0.8) await send('PATCH', item, JSON.stringify(m), 'application/apply-patch+yaml', { dryRun: 'All', fieldManager: 'fuzz', force: 'true' });
    else if (r < 0.9) await send('PATCH', `${item}/status`, { status: mutate({ s: base.spec ?? {} }, rand).s }, 'application/merge-patch+json', { dryRun: 'All' });
    else await send('POST', path, { ...m, metadata: { ...(m.metadata ?? {}), name: `${base.metadata.name as string}-${Math.floor(rand() * 5)}` } });
  }
  assert.deepEqual(unexpected, []);
  assert.ok(refused > 1000, `most broken objects are refused (${refused} of 4000)`);
  assert.equal((await api.raw('GET', '/readyz')).text, 'ok');
});

test('random query parameters and Accept headers on reads and deletes get an answer below 500', async () => {
  const rand = generator(3);
  const pick = <V>(a: readonly V[]): V => a[Math.floor(rand() * a.length)]!;
  // Long-running ones (watch, follow) aside: those stream until they time out.
  const params = ['labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion', 'resourceVersionMatch', 'timeoutSeconds', 'allowWatchBookmarks', 'sendInitialEvents', 'dryRun', 'fieldManager', 'fieldValidation', 'propagationPolicy', 'gracePeriodSeconds', 'orphanDependents', 'pretty', 'includeObject', 'force', 'container', 'tailLines', 'sinceSeconds', 'limitBytes', 'previous', 'timestamps'];
  const valuesOf = ['', 'x', '-1', '0', '1', '99999999999999999999', 'true', 'All', 'NotOlderThan', 'Exact', 'a=b', 'a in (b', 'a!=,', 'metadata.name=x', 'spec.nodeName=', 'status.phase!=Running', '!a', 'a,b', 'bm9wZQ', '%', '1.5', 'Strict', 'Orphan', '=', ',,,', 'a=b=c', 'x'.repeat(300)];
  const paths = ['/api/v1/pods', '/api/v1/namespaces/fuzz/pods', '/api/v1/namespaces/fuzz/pods/p', '/api/v1/namespaces/fuzz/pods/nope', '/api/v1/namespaces/fuzz/configmaps/cm', '/apis/apps/v1/deployments', '/apis/apps/v1/namespaces/fuzz/deployments/d/scale', '/api/v1/namespaces/fuzz/pods/p/log', '/api/v1/nodes', '/api/v1/namespaces', '/apis/batch/v1/jobs', '/api/v1/componentstatuses', '/apis/events.k8s.io/v1/events', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', '/apis/nope.io/v1/things', '/api/v1/namespaces/fuzz/configmaps/cm/nope'];
  const accepts = ['application/json', 'application/json;as=Table;v=v1;g=meta.k8s.io', 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io', 'application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io', 'application/vnd.kubernetes.protobuf', 'application/yaml', '*/*', 'text/html', 'application/json;as=Table;v=v9;g=meta.k8s.io'];
  const unexpected: string[] = [];
  for (let i = 0; i < 1500; i++) {
    const query: Record<string, string> = {};
    for (let n = Math.floor(rand() * 4); n >= 0; n--) query[pick(params)] = pick(valuesOf);
    // A resourceVersion ahead of the store waits 3 s for it (then 504): not what this test is about.
    if (/^\d{4,}$/.test(query.resourceVersion ?? '')) delete query.resourceVersion;
    const method = pick(['GET', 'GET', 'GET', 'HEAD', 'DELETE']);
    const path = method === 'DELETE' ? '/api/v1/namespaces/fuzz/configmaps/nope' : pick(paths);
    try {
      await api.client.requestText(method, path, { query, accept: pick(accepts) });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.code >= 500) unexpected.push(`${err.code} ${method} ${path}?${new URLSearchParams(query)}: ${err.message}`);
    }
  }
  assert.deepEqual(unexpected, []);
  assert.equal((await api.raw('GET', '/readyz')).text, 'ok');
});
