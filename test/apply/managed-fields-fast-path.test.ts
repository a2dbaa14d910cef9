// updateManagedFields takes shortcuts (a create from nothing encoded as it
// is walked, entries a write does not touch copied rather than decoded and
// encoded again, one comparison pass): its output must be byte for byte what
// the general path, updateManagedFieldsGeneral, writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { updateManagedFieldsGeneral } from '../../src/api/apply/field-manager.js';
import { FieldSet, comparePathElements, fieldPath, serializePathElement, typeInfoFor, updateManagedFields } from '../../src/api/apply/index.js';
import type { TypeInfo } from '../../src/api/apply/index.js';
import { compareStrings } from '../../src/api/apply/json-value.js';
import { decodeManagedFields, decodeManagedFieldsForWrite, encodeManagedFields, formatTime } from '../../src/api/apply/managed-fields.js';
import { applyDefaults } from '../../src/api/defaults/index.js';
import { cloneJson, deepFreeze } from '../../src/api/object.js';
import type { KubeObject } from '../../src/api/object.js';
import { loadDefinitions } from '../../src/api/schema/index.js';
import { configMapType, deploymentType } from './definitions-fixture.js';

const defs = loadDefinitions();
const podType = typeInfoFor(defs, 'io.k8s.api.core.v1.Pod', { builtIn: true });
const realDeploymentType = typeInfoFor(defs, 'io.k8s.api.apps.v1.Deployment', { builtIn: true });
const crType = typeInfoFor(defs, undefined);
const statusOnly = { ignoredFields: FieldSet.fromPaths([fieldPath('status')]) };
const specOnly = { ignoredFields: FieldSet.fromPaths([fieldPath('spec')]) };
const t0 = new Date('2024-05-01T10:00:00Z');
const t1 = new Date('2024-05-01T10:05:00.250Z');
const t2 = new Date('2024-05-01T10:10:00Z');

interface Write {
  old: KubeObject | undefined;
  obj: KubeObject;
  manager: string;
  type: TypeInfo;
  now: Date;
  subresource?: string;
  options?: { ignoredFields?: FieldSet };
}

/** Both paths on private copies of the input; the fast one's result, after checking they agree byte for byte. */
function same(w: Write, label: string): KubeObject {
  // structuredClone keeps what JSON would lose (undefined values, own "__proto__" keys).
  const run = (fn: typeof updateManagedFields): KubeObject =>
    fn(structuredClone(w.old), structuredClone(w.obj), w.manager, 'Update', w.type, w.now, w.subresource, w.options ? { ...w.options } : {});
  const fast = run(updateManagedFields);
  const general = run(updateManagedFieldsGeneral);
  assert.equal(JSON.stringify(fast), JSON.stringify(general), label);
  assert.deepStrictEqual(fast.metadata.managedFields, general.metadata.managedFields, label);
  // The fast path changes nothing of its input, frozen here as the watch cache's objects are in the test runs
  // (its result may share fieldsV1 objects with the input: they are never changed once written).
  const input = deepFreeze(structuredClone(w.obj));
  const old = deepFreeze(structuredClone(w.old));
  const again = updateManagedFields(old, input, w.manager, 'Update', w.type, w.now, w.subresource, w.options ? { ...w.options } : {});
  assert.deepStrictEqual(input, structuredClone(w.obj), `${label}: input unchanged`);
  assert.deepStrictEqual(old, structuredClone(w.old), `${label}: old object unchanged`);
  assert.equal(JSON.stringify(again), JSON.stringify(fast), `${label}: the same from frozen input`);
  return fast;
}

function defaultedPod(name: string, extra: Record<string, unknown> = {}): KubeObject {
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, creationTimestamp: '2024-05-01T10:00:00Z', labels: { app: 'bench' } },
    spec: {
      containers: [
        { name: 'main', image: 'busybox:1.36', command: ['sleep', '3600'], resources: { requests: { cpu: '10m', memory: '16Mi' } }, ports: [{ containerPort: 80 }, { containerPort: 53, protocol: 'UDP' }] },
        { name: 'sidecar', image: 'nginx', env: [{ name: 'B', value: '1' }, { name: 'A', value: '2' }] },
      ],
      tolerations: [{ key: 'x', operator: 'Exists' }],
      ...extra,
    },
  };
  applyDefaults({ group: '', version: 'v1', kind: 'Pod' }, pod);
  return pod;
}

function defaultedDeployment(): KubeObject {
  const d: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' }, annotations: { 'example.com/<note>': 'a&b' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25', ports: [{ containerPort: 80 }] }] } },
    },
  };
  applyDefaults({ group: 'apps', version: 'v1', kind: 'Deployment' }, d);
  return d;
}

function edit(obj: KubeObject, change: (o: KubeObject) => void): KubeObject {
  const copy = cloneJson(obj);
  change(copy);
  return copy;
}

function spec(o: KubeObject): Record<string, any> {
  return o.spec as Record<string, any>;
}

test('a create of a defaulted Pod records the same managedFields on both paths', () => {
  const stored = same({ old: undefined, obj: defaultedPod('p'), manager: 'kubectl-create', type: podType, now: t0, options: statusOnly }, 'pod create');
  const fields = stored.metadata.managedFields?.[0]?.fieldsV1 as Record<string, any>;
  assert.deepEqual(Object.keys(fields), ['f:metadata', 'f:spec']);
  assert.ok(fields['f:spec']['f:containers']['k:{"name":"main"}']['f:ports']['k:{"containerPort":53,"protocol":"UDP"}']);
  // Without a schema, without ignored fields, with a subresource, with status set.
  same({ old: undefined, obj: defaultedPod('p'), manager: 'm', type: crType, now: t0 }, 'schemaless create');
  same({ old: undefined, obj: { ...defaultedPod('p'), status: { phase: 'Pending' } }, manager: 'm', type: podType, now: t0, options: statusOnly }, 'create with status');
  same({ old: undefined, obj: { ...defaultedPod('p'), status: { phase: 'Pending' } }, manager: 'm', type: podType, now: t0 }, 'create, nothing ignored');
  same({ old: undefined, obj: defaultedPod('p'), manager: '', type: podType, now: t0, subresource: 'status', options: specOnly }, 'create through a subresource');
  same({ old: undefined, obj: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'only-meta' } }, manager: 'm', type: podType, now: t0, options: statusOnly }, 'nothing owned');
});

test('a create of a Deployment (defaulted, and of a kind whose empty object is not {}) is the same on both paths', () => {
  same({ old: undefined, obj: defaultedDeployment(), manager: 'kubectl-client-side-apply', type: realDeploymentType, now: t0, options: statusOnly }, 'deployment');
  same({ old: undefined, obj: defaultedDeployment(), manager: 'kubectl-client-side-apply', type: deploymentType, now: t0, options: statusOnly }, 'fixture deployment');
  const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1', 'b.c': '2', é: '3', '\u{1F600}': '4', '\uE000': '5' } };
  same({ old: undefined, obj: cm, manager: 'm', type: configMapType, now: t0 }, 'configmap with non-ASCII keys');
});

test('keys named like Object.prototype properties are compared as the general path compares them', () => {
  const data = JSON.parse('{"constructor":"a","toString":{"x":1},"__proto__":{"y":2},"hasOwnProperty":null,"plain":"b"}') as Record<string, unknown>;
  const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: JSON.parse('{"constructor":"x"}') }, data };
  const stored = same({ old: undefined, obj: cm, manager: 'm', type: configMapType, now: t0 }, 'configmap create');
  same({ old: undefined, obj: cm, manager: 'm', type: crType, now: t0 }, 'schemaless create');
  same({ old: stored, obj: edit(stored, (o) => delete (o.data as Record<string, unknown>).plain), manager: 'n', type: configMapType, now: t1 }, 'update');
});

test('updates by several managers are the same on both paths, step by step', () => {
  const opts = statusOnly;
  let pod = same({ old: undefined, obj: defaultedPod('p'), manager: 'kubectl-create', type: podType, now: t0, options: opts }, 'create');
  const steps: Array<[string, string | undefined, (o: KubeObject) => void]> = [
    ['kubectl-label', undefined, (o) => (o.metadata.labels = { ...o.metadata.labels, tier: 'backend' })],
    ['kubelet', 'status', (o) => (o.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] })],
    ['kubelet', 'status', (o) => (o.status = { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True' }], podIP: '10.0.0.1' })],
    ['kubelet', 'status', (o) => (o.status = { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False' }], podIP: '10.0.0.1' })],
    ['kubectl-label', undefined, (o) => (o.metadata.labels = { ...o.metadata.labels, tier: 'frontend' })],
    ['other', undefined, (o) => (o.metadata.labels = { app: 'bench' })],
    ['kubectl-edit', undefined, (o) => (spec(o).containers[0].image = 'busybox:1.37')],
    ['kubectl-edit', undefined, (o) => (spec(o).containers[0].image = 'busybox:1.38')],
    ['kubectl-edit', undefined, (o) => spec(o).containers.pop()],
    ['kubectl-create', undefined, (o) => (spec(o).activeDeadlineSeconds = 30)],
    ['kubectl-create', undefined, (o) => (o.metadata.annotations = { note: 'x' })],
    ['controller', undefined, (o) => (o.metadata.finalizers = ['example.com/a', 'example.com/b'])],
    ['controller', undefined, (o) => (o.metadata.finalizers = ['example.com/b'])],
    ['kubelet', 'status', (o) => delete o.status],
    ['noop', undefined, () => undefined],
    ['kubectl-create', undefined, (o) => (o.metadata.name = 'renamed')],
  ];
  for (const [i, [manager, subresource, change]] of steps.entries()) {
    const next = edit(pod, change);
    const options = subresource === 'status' ? specOnly : opts;
    pod = same({ old: pod, obj: next, manager, type: podType, now: i % 2 ? t1 : t2, subresource, options }, `step ${i} by ${manager}`);
    // The client sends no managedFields (a patch), or stale ones.
    const { managedFields: _m, ...bare } = next.metadata;
    same({ old: pod, obj: { ...next, metadata: bare }, manager, type: podType, now: t2, subresource, options }, `step ${i} without managedFields`);
  }
  assert.deepEqual(pod.metadata.managedFields?.map((e) => e.manager).sort(), ['controller', 'kubectl-create', 'kubectl-edit']);
});

test('more than ten updaters fold into ancient-changes the same way on both paths', () => {
  let obj = same({ old: undefined, obj: defaultedDeployment(), manager: 'creator', type: realDeploymentType, now: t0, options: statusOnly }, 'create');
  for (let i = 0; i < 14; i++) {
    const next = edit(obj, (o) => (o.metadata.labels = { ...o.metadata.labels, [`l${i}`]: String(i), ...(i % 3 === 0 ? { app: `web-${i}` } : {}) }));
    obj = same({ old: obj, obj: next, manager: `m${i}`, type: realDeploymentType, now: new Date(t0.getTime() + i * 1000), options: statusOnly }, `updater ${i}`);
  }
  assert.ok(obj.metadata.managedFields?.some((e) => e.manager === 'ancient-changes'));
});

test('managedFields sent out of order, with unknown or unusual keys, are written as the general path writes them', () => {
  const stored = same({ old: undefined, obj: defaultedPod('p'), manager: 'kubectl-create', type: podType, now: t0, options: statusOnly }, 'create');
  const base = stored.metadata.managedFields?.[0];
  const variants: Array<Record<string, unknown>> = [
    { 'f:spec': { 'f:dnsPolicy': {} }, 'f:metadata': { 'f:labels': { 'f:app': {} } } },
    { 'f:metadata': { 'f:labels': { 'f:app': {}, '.': {} } } },
    { 'f:metadata': { 'f:labels': { '.': {} } } },
    { 'f:metadata': { 'f:labels': { '.': { x: {} }, 'f:app': {} } } },
    { '.': {}, 'f:metadata': {} },
    { 'f:metadata': { 'x:future': {}, 'f:labels': {} } },
    { 'f:spec': { 'f:containers': { 'k:{ "name": "main" }': { 'f:image': {} } } } },
    { 'f:spec': { 'f:containers': { 'k:{"name":"sidecar"}': {}, 'k:{"name":"main"}': {} } } },
    { 'f:spec': { 'f:containers': { 'k:{"name":"main"}': { 'f:ports': { 'k:{"protocol":"UDP","containerPort":53}': {} } } } } },
    { 'f:metadata': { 'f:finalizers': { 'v:"b"': {}, 'v:"a"': {} } } },
    { 'f:metadata': { 'f:finalizers': { 'v:"a"': {}, 'v:"b"': {}, 'i:02': {} } } },
    { 'f:metadata': { 'f:labels': { 'f:tier': {}, 'f:app': {} } } },
    { 'f:metadata': { 'f:labels': { 'f:app': [] } } },
    { 'f:metadata': { 'f:labels': { 'k:{not json': {} } } },
    {},
  ];
  for (const [i, fieldsV1] of variants.entries()) {
    const sent = [{ ...base, fieldsV1 }, { manager: 'other', operation: 'Update', apiVersion: 'v1', time: '2024-05-01T09:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:app': {} } } } }];
    const next = edit(stored, (o) => {
      o.metadata.managedFields = sent as KubeObject['metadata']['managedFields'];
      o.metadata.labels = { ...o.metadata.labels, tier: 'x' };
    });
    same({ old: stored, obj: next, manager: 'kubectl-label', type: podType, now: t1, options: statusOnly }, `variant ${i}`);
    same({ old: next, obj: edit(next, (o) => (o.status = { phase: 'Running' })), manager: 'kubelet', type: podType, now: t1, subresource: 'status', options: specOnly }, `variant ${i}, status`);
    // The manager of the odd entry writes again: what it owns and what it does not.
    same({ old: stored, obj: edit(next, (o) => (o.metadata.labels = { app: 'other' })), manager: 'kubectl-create', type: podType, now: t1, options: statusOnly }, `variant ${i}, same manager`);
    same({ old: stored, obj: edit(next, (o) => (spec(o).dnsPolicy = 'Default')), manager: 'kubectl-create', type: podType, now: t1, options: statusOnly }, `variant ${i}, same manager, spec`);
  }
});

/** A small deterministic generator, so that a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('random edits of Pods by random managers are the same on both paths', () => {
  const rnd = random(20240501);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const managers = ['kubectl-create', 'kubectl-edit', 'kubelet', 'controller', 'scheduler', 'kubectl-label'];
  const mutations: Array<(o: KubeObject) => void> = [
    (o) => (o.metadata.labels = { ...o.metadata.labels, [pick(['a', 'b', 'c'])]: pick(['1', '2']) }),
    (o) => delete (o.metadata.labels ?? {})[pick(['a', 'b', 'app'])],
    (o) => (o.metadata.annotations = rnd() < 0.5 ? undefined : { [pick(['x', 'y'])]: pick(['1', '2']) }),
    (o) => (spec(o).containers[0].image = pick(['busybox:1', 'busybox:2'])),
    (o) => (spec(o).containers = spec(o).containers.slice(0, 1 + Math.floor(rnd() * spec(o).containers.length))),
    (o) => spec(o).containers.push({ name: pick(['x', 'y', 'z']), image: 'i', terminationMessagePath: '/dev/termination-log' }),
    (o) => (spec(o).containers[0].env = rnd() < 0.3 ? undefined : [{ name: pick(['A', 'B']), value: pick(['1', '2']) }]),
    (o) => (spec(o).nodeName = rnd() < 0.5 ? undefined : pick(['n1', 'n2'])),
    (o) => (spec(o).tolerations = rnd() < 0.5 ? [] : [{ key: pick(['x', 'y']), operator: 'Exists' }]),
    (o) => (spec(o).securityContext = rnd() < 0.5 ? {} : { runAsUser: 1000 }),
    (o) => (o.metadata.finalizers = rnd() < 0.5 ? undefined : [pick(['f/a', 'f/b']), 'f/c']),
    (o) => (o.status = { phase: pick(['Pending', 'Running']), conditions: [{ type: pick(['Ready', 'Initialized']), status: pick(['True', 'False']) }] }),
    (o) => (o.status = rnd() < 0.5 ? undefined : { podIP: '10.0.0.1' }),
    (o) => (o.metadata.managedFields = undefined),
    (o) => (o.metadata.managedFields = rnd() < 0.5 ? [] : [{}]),
  ];
  for (let run = 0; run < 30; run++) {
    let obj = same({ old: undefined, obj: defaultedPod(`p${run}`), manager: pick(managers), type: podType, now: t0, options: statusOnly }, `run ${run} create`);
    for (let step = 0; step < 12; step++) {
      const next = edit(obj, (o) => {
        for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) pick(mutations)(o);
      });
      const status = rnd() < 0.25;
      const now = new Date(t0.getTime() + (step + 1) * 1000 * Math.floor(rnd() * 90));
      const options = status ? specOnly : rnd() < 0.9 ? statusOnly : {};
      obj = same({ old: obj, obj: next, manager: pick(managers), type: rnd() < 0.9 ? podType : crType, now, subresource: status ? 'status' : undefined, options }, `run ${run} step ${step}`);
    }
  }
});

test('creates one after another, alike or not, are the same on both paths; alike ones share their frozen fieldsV1, others what they have alike', () => {
  const rnd = random(20261130);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  // Each changes values only, or the shape a create owns (members, list items, a map become a scalar ...).
  const changes: Array<(o: KubeObject) => void> = [
    (o) => (o.metadata.name = pick(['a', 'b', 'c'])),
    (o) => (o.metadata.labels = { ...o.metadata.labels, [pick(['app', 'tier'])]: pick(['1', '2']) }),
    (o) => (o.metadata.labels = rnd() < 0.5 ? undefined : {}),
    (o) => (o.metadata.uid = undefined),
    (o) => (spec(o).containers[0].image = pick(['busybox:1', 'busybox:2'])),
    (o) => (spec(o).containers[0].name = pick(['main', 'other'])),
    (o) => (spec(o).containers = spec(o).containers.slice(0, 1)),
    (o) => spec(o).containers.push({ name: pick(['main', 'x']), image: 'i' }),
    (o) => (spec(o).containers[0].ports = rnd() < 0.5 ? [] : [{ containerPort: pick([80, 81]), protocol: pick(['TCP', 'UDP']) }]),
    (o) => (spec(o).containers[0].resources = pick([{}, { requests: { cpu: '1' } }, { limits: { cpu: '1' } }])),
    (o) => (spec(o).securityContext = pick([{}, { runAsUser: 1 }, null])),
    (o) => (spec(o).nodeSelector = pick([undefined, {}, { zone: 'a' }])),
    (o) => (o.status = rnd() < 0.5 ? undefined : { phase: 'Pending' }),
    (o) => (o.spec = pick([undefined, {}, 'scalar'])),
  ];
  for (let i = 0; i < 120; i++) {
    const obj = defaultedPod('p');
    for (let k = Math.floor(rnd() * 3); k > 0; k--) {
      try {
        pick(changes)(obj);
      } catch {
        // A change to a spec an earlier change took away.
      }
    }
    const type = rnd() < 0.8 ? podType : crType;
    same({ old: undefined, obj, manager: 'm', type, now: t0, options: rnd() < 0.8 ? statusOnly : {} }, `create ${i}`);
  }
  // Alike: only values differ.
  const first = updateManagedFields(undefined, defaultedPod('one'), 'm', 'Update', podType, t0, undefined, statusOnly);
  const second = updateManagedFields(undefined, edit(defaultedPod('two'), (o) => (spec(o).containers[1].image = 'other')), 'm', 'Update', podType, t1, undefined, statusOnly);
  const fieldsV1 = (o: KubeObject) => o.metadata.managedFields?.[0]?.fieldsV1;
  assert.equal(fieldsV1(second), fieldsV1(first));
  assert.ok(Object.isFrozen(fieldsV1(first)));
  // Not alike: a container more.
  const third = updateManagedFields(undefined, edit(defaultedPod('three'), (o) => spec(o).containers.push({ name: 'extra', image: 'i' })), 'm', 'Update', podType, t1, undefined, statusOnly);
  assert.notEqual(fieldsV1(third), fieldsV1(first));
  assert.ok((fieldsV1(third) as Record<string, any>)['f:spec']['f:containers']['k:{"name":"extra"}']);
  // What is alike is still shared: the metadata, and the containers the two have in common.
  const at = (o: KubeObject, ...path: string[]) => path.reduce((node: any, key) => node?.[key], fieldsV1(o));
  assert.equal(at(third, 'f:metadata'), at(first, 'f:metadata'));
  assert.equal(at(third, 'f:spec', 'f:containers', 'k:{"name":"main"}'), at(first, 'f:spec', 'f:containers', 'k:{"name":"main"}'));
  assert.ok(Object.isFrozen(fieldsV1(third)));
});

test("a manager's own entry gains what it now owns (a map it held only children of, new children, new list items) the same on both paths", () => {
  const owned = (fieldsV1: Record<string, unknown>): KubeObject['metadata']['managedFields'] => [
    { manager: 'creator', operation: 'Update', apiVersion: 'v1', time: '2024-05-01T10:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:containers': { 'k:{"name":"main"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } } },
    { manager: 'b', operation: 'Update', apiVersion: 'v1', time: '2024-05-01T10:00:00Z', fieldsType: 'FieldsV1', fieldsV1 },
  ];
  const base = edit(defaultedPod('p'), (o) => {
    delete o.metadata.labels;
    o.metadata.managedFields = owned({ 'f:metadata': { 'f:labels': { 'f:x': {} } } });
  });
  const steps: Array<[string, (o: KubeObject) => void]> = [
    ['an empty map it held only children of', (o) => (o.metadata.labels = {})],
    ['a map it held only children of, with that child', (o) => (o.metadata.labels = { x: '1' })],
    ['that map with new children, and a new map beside it', (o) => {
      o.metadata.labels = { x: '1', a: '2', z: '3' };
      o.metadata.annotations = { note: 'n' };
    }],
    ['a new list item among others', (o) => spec(o).containers.push({ name: 'b-side', image: 'i' })],
    ['a new member of an item another manager owns', (o) => (spec(o).containers[0].workingDir = '/w')],
  ];
  for (const [label, change] of steps) same({ old: base, obj: edit(base, change), manager: 'b', type: podType, now: t1, options: statusOnly }, label);
  // Step by step: each result the next write's old object.
  let obj = base;
  for (const [label, change] of steps) obj = same({ old: obj, obj: edit(obj, change), manager: 'b', type: podType, now: t1, options: statusOnly }, `in turn: ${label}`);
});

test('entries read in canonical form are written back as read; others re-encoded', () => {
  const stored = same({ old: undefined, obj: defaultedPod('p'), manager: 'kubectl-create', type: podType, now: t0, options: statusOnly }, 'create');
  const entries = stored.metadata.managedFields;
  assert.equal(JSON.stringify(encodeManagedFields(decodeManagedFieldsForWrite(entries))), JSON.stringify(entries));
  assert.equal(encodeManagedFields(decodeManagedFieldsForWrite(entries))[0]?.fieldsV1, entries?.[0]?.fieldsV1, 'the very fieldsV1 read, not a copy');
  assert.equal(JSON.stringify(encodeManagedFields(decodeManagedFields(entries))), JSON.stringify(entries));
  const messy = [{ ...entries?.[0], fieldsV1: { 'f:spec': { 'f:b': {}, 'f:a': {} }, 'z:unknown': {} } }];
  assert.equal(JSON.stringify(encodeManagedFieldsTwice(messy)), JSON.stringify(encodeManagedFields(decodeManagedFields(messy))));
  assert.deepEqual(Object.keys(encodeManagedFieldsTwice(messy)[0]?.fieldsV1 as object), ['f:spec']);
  assert.throws(() => decodeManagedFieldsForWrite([{ ...entries?.[0], fieldsV1: { 'f:a': { 'k:{bad': {} } } }]), /error decoding versioned set/);
  assert.throws(() => decodeManagedFieldsForWrite([{ ...entries?.[0], fieldsV1: { 'f:a': 1 } }]), /must be an object/);
});

function encodeManagedFieldsTwice(entries: unknown): ReturnType<typeof encodeManagedFields> {
  const managed = decodeManagedFieldsForWrite(entries);
  const first = encodeManagedFields(managed);
  const second = encodeManagedFields(managed);
  assert.equal(JSON.stringify(first), JSON.stringify(second));
  return second;
}

/** The encoding as originally written: elements sorted with comparePathElements at every node. */
function referenceFieldsV1(set: FieldSet, self = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (self && !set.isEmpty()) out['.'] = {};
  const members = set.memberElements();
  const children = set.childElements();
  const all = [...members.map((element) => ({ element, child: undefined as FieldSet | undefined }))];
  for (const c of children) {
    const at = all.findIndex((a) => serializePathElement(a.element) === serializePathElement(c.element));
    if (at >= 0) all[at] = { element: c.element, child: c.set };
    else all.push({ element: c.element, child: c.set });
  }
  all.sort((a, b) => comparePathElements(a.element, b.element));
  for (const { element, child } of all) {
    const k = serializePathElement(element);
    out[k] = child ? referenceFieldsV1(child, set.hasMember(element)) : {};
  }
  return out;
}

test('toFieldsV1 sorts keys as comparePathElements does, fields by UTF-8 byte order', () => {
  const names = ['b', 'a', 'B', 'é', 'e', '\uE000', '\u{1F600}', '\uFFFF', 'aa', '', 'a.b', '\u{10000}'];
  const set = FieldSet.fromPaths([
    ...names.map((n) => fieldPath('data', n)),
    ...names.map((n) => [{ field: 'list' }, { key: [['name', n]] as const }]),
    ...names.map((n) => [{ field: 'set' }, { value: n }]),
    [{ field: 'set' }, { value: 3 }],
    [{ field: 'set' }, { value: true }],
    [{ field: 'idx' }, { index: 10 }],
    [{ field: 'idx' }, { index: 2 }],
    [{ field: 'mixed' }, { index: 1 }],
    [{ field: 'mixed' }, { field: 'z' }],
    [{ field: 'mixed' }, { value: 'v' }],
    [{ field: 'mixed' }, { key: [['k', 1]] as const }],
    fieldPath('data'),
  ]);
  assert.equal(JSON.stringify(set.toFieldsV1()), JSON.stringify(referenceFieldsV1(set)));
  // Decoded back and encoded again, as read.
  assert.equal(JSON.stringify(FieldSet.fromFieldsV1(set.toFieldsV1()).toFieldsV1()), JSON.stringify(set.toFieldsV1()));
  assert.ok(FieldSet.isCanonical(set.toFieldsV1()));
});

/** compareStrings as first written: code point by code point. */
function referenceCompare(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) ?? 0;
    const y = b.codePointAt(i) ?? 0;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

test('compareStrings orders as by code point, surrogates included', () => {
  const samples = ['', 'a', 'b', 'ab', 'é', '\uD7FF', '\uD800', '\uDBFF\uDFFF', '\uDC00', '\uE000', '\uFFFF', '\u{10000}', '\u{1F600}', 'a\u{1F600}', 'a\uE000', 'a\uD800', 'a\uD800b', '\uD800\uDC00', '\uD800\uDC01', 'x\uDC00'];
  for (const a of samples) for (const b of samples) assert.equal(compareStrings(a, b), referenceCompare(a, b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
});

test('formatTime gives each second its own time', () => {
  assert.equal(formatTime(new Date('2024-05-01T10:00:00.900Z')), '2024-05-01T10:00:00Z');
  assert.equal(formatTime(new Date('2024-05-01T10:00:01.000Z')), '2024-05-01T10:00:01Z');
  assert.equal(formatTime(new Date('2024-05-01T10:00:01.999Z')), '2024-05-01T10:00:01Z');
  assert.equal(formatTime(new Date(-1500)), '1969-12-31T23:59:58Z');
  assert.throws(() => formatTime(new Date(NaN)));
});
