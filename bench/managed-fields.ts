// Field tracking on the API server's write path: what updateManagedFields
// costs per create, per label update and per status update of a Pod defaulted
// the way the API server defaults it. Run alone with `node dist/bench/managed-fields.js`.
import { pathToFileURL } from 'node:url';
import { FieldSet, fieldPath, typeInfoFor, updateManagedFields } from '../src/api/apply/index.js';
import { applyDefaults } from '../src/api/defaults/index.js';
import { cloneJson } from '../src/api/object.js';
import type { KubeObject } from '../src/api/object.js';
import { loadDefinitions } from '../src/api/schema/index.js';

const podGvk = { group: '', version: 'v1', kind: 'Pod' };
const statusOnly = FieldSet.fromPaths([fieldPath('status')]);
const specOnly = FieldSet.fromPaths([fieldPath('spec')]);

/** A Pod as the API server has it when it records field ownership of a create. */
function defaultedPod(i: number): KubeObject {
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `bench-${i}`,
      namespace: 'default',
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      creationTimestamp: '2024-05-01T10:00:00Z',
      labels: { app: 'bench' },
    },
    spec: {
      containers: [{ name: 'main', image: 'busybox:1.36', command: ['sleep', '3600'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
    },
  };
  applyDefaults(podGvk, pod);
  return pod;
}

interface Case {
  name: string;
  run(i: number): KubeObject;
}

/** The median of several timed rounds after a warm-up, so that the figures are for optimized code and noise matters less. */
function measure(c: Case, iterations: number, rounds = 5): { opsPerSecond: number; microsPerOp: number } {
  for (let i = 0; i < Math.min(5000, iterations); i++) c.run(i);
  const perRound = Math.max(1, Math.floor(iterations / rounds));
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const started = performance.now();
    for (let i = 0; i < perRound; i++) c.run(i);
    times.push((performance.now() - started) / perRound);
  }
  const ms = times.sort((a, b) => a - b)[Math.floor(times.length / 2)] as number;
  return { opsPerSecond: 1000 / ms, microsPerOp: ms * 1000 };
}

export async function runManagedFieldsBench(): Promise<void> {
  const typeInfo = typeInfoFor(loadDefinitions(), 'io.k8s.api.core.v1.Pod', { builtIn: true });
  const t0 = new Date('2024-05-01T10:00:00Z');
  const t1 = new Date('2024-05-01T10:05:00Z');
  const iterations = Number(process.env.NAMI_BENCH_ITERATIONS ?? 50_000);

  // Inputs built up front, so the cases time updateManagedFields alone; each
  // a deep copy, as the API server has them (the stored object parsed from
  // storage, the new one a private copy): nothing shares values by reference.
  const fresh = Array.from({ length: 64 }, (_, i) => defaultedPod(i));
  const stored = fresh.map((pod) => cloneJson(updateManagedFields(undefined, pod, 'kubectl-create', 'Update', typeInfo, t0, undefined, { ignoredFields: statusOnly })));
  const relabelled = stored.map((pod) => cloneJson({ ...pod, metadata: { ...pod.metadata, labels: { ...pod.metadata.labels, tier: 'backend' } } }));
  const status = {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2024-05-01T10:05:00Z' }],
    hostIP: '10.0.0.2',
    podIP: '10.244.0.5',
    podIPs: [{ ip: '10.244.0.5' }],
    startTime: '2024-05-01T10:00:01Z',
    containerStatuses: [
      { name: 'main', ready: true, restartCount: 0, started: true, image: 'busybox:1.36', imageID: '', containerID: 'nami://1', state: { running: { startedAt: '2024-05-01T10:00:02Z' } } },
    ],
  };
  const withStatus = stored.map((pod) => cloneJson({ ...pod, status }));
  const storedCopies = stored.map((pod) => cloneJson(pod));

  const n = fresh.length;
  const cases: Case[] = [
    { name: 'create (defaulted pod)', run: (i) => updateManagedFields(undefined, fresh[i % n]!, 'kubectl-create', 'Update', typeInfo, t0, undefined, { ignoredFields: statusOnly }) },
    { name: 'update: add a label', run: (i) => updateManagedFields(storedCopies[i % n], relabelled[i % n]!, 'kubectl-label', 'Update', typeInfo, t1, undefined, { ignoredFields: statusOnly }) },
    { name: 'status update', run: (i) => updateManagedFields(storedCopies[i % n], withStatus[i % n]!, 'kubelet', 'Update', typeInfo, t1, 'status', { ignoredFields: specOnly }) },
  ];

  console.log(`\nmanagedFields: updateManagedFields on a defaulted Pod, ${iterations.toLocaleString('en-US')} calls each (median of 5 rounds)`);
  const rows = cases.map((c) => ({ name: c.name, ...measure(c, iterations) }));
  const header = ['operation', 'ops/s', 'µs/op'];
  const lines = rows.map((r) => [r.name, Math.round(r.opsPerSecond).toLocaleString('en-US'), r.microsPerOp.toFixed(1)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const format = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  console.log(format(header));
  for (const line of lines) console.log(format(line));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runManagedFieldsBench();
