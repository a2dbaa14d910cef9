// What a CRD's validation rules (x-kubernetes-validations, CEL) add to the
// validation of each custom resource written, and what compiling them adds to
// a CRD write. Run alone with `node dist/bench/crd-rules.js`.
import { pathToFileURL } from 'node:url';
import type { KubeObject } from '../src/api/object.js';
import type { Schema } from '../src/api/schema/types.js';
import { ValidationRules } from '../src/apiserver/cel/validation-rules.js';
import { CustomResourceSchema } from '../src/apiserver/crd.js';

const properties = {
  minReplicas: { type: 'integer' },
  maxReplicas: { type: 'integer' },
  name: { type: 'string' },
  ports: { type: 'array', maxItems: 64, items: { type: 'object', properties: { name: { type: 'string' }, port: { type: 'integer' } } } },
};

function schema(withRules: boolean): Record<string, unknown> {
  const ports: Record<string, unknown> = { ...properties.ports };
  const spec: Record<string, unknown> = { type: 'object', properties: { ...properties, ports } };
  if (withRules) {
    spec['x-kubernetes-validations'] = [{ rule: 'self.minReplicas <= self.maxReplicas' }, { rule: "self.name.matches('^[a-z]+$')" }];
    ports.items = { ...properties.ports.items, 'x-kubernetes-validations': [{ rule: 'self.port > 0 && self.port < 65536' }] };
    // A rule over every pair of ports (16 ports: 256 evaluations of its body).
    ports['x-kubernetes-validations'] = [{ rule: 'self.all(p, self.exists_one(q, q.name == p.name))', message: 'port names must be unique' }];
  }
  return { type: 'object', properties: { spec } };
}

function resource(i: number): KubeObject {
  return {
    apiVersion: 'bench.nami.test/v1',
    kind: 'Thing',
    metadata: { name: `thing-${i}`, namespace: 'default' },
    spec: { minReplicas: 1, maxReplicas: 3, name: 'web', ports: Array.from({ length: 16 }, (_, p) => ({ name: `p${p}`, port: 8000 + p })) },
  } as KubeObject;
}

/** Median µs per call of several rounds, after a warm-up. */
function microsPerCall(run: (i: number) => void, perRound: number, rounds = 5): number {
  for (let i = 0; i < perRound; i++) run(i);
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const started = performance.now();
    for (let i = 0; i < perRound; i++) run(i);
    times.push(((performance.now() - started) / perRound) * 1000);
  }
  return times.sort((a, b) => a - b)[Math.floor(rounds / 2)]!;
}

export async function runCrdRulesBench(): Promise<void> {
  console.log('\n== CRD validation rules (CEL): a custom resource with 16 ports, 4 rules (one over every pair of ports), median of 5 rounds ==');
  const perRound = Number(process.env.NAMI_BENCH_ITERATIONS ?? 2000);
  for (const withRules of [false, true]) {
    const s = new CustomResourceSchema(schema(withRules) as Schema);
    const inputs = Array.from({ length: perRound }, (_, i) => resource(i));
    const us = microsPerCall((i) => s.validate(structuredClone(inputs[i]!)), perRound);
    console.log(`validate a custom resource, ${withRules ? 'schema and rules' : 'schema alone    '}  ${us.toFixed(1).padStart(7)} µs`);
  }
  const compile = microsPerCall(() => ValidationRules.compile(schema(true)), 50);
  console.log(`compile the 4 rules (a CRD write)              ${(compile / 1000).toFixed(2).padStart(7)} ms`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runCrdRulesBench();
