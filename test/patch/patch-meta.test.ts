import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ApiError } from '../../src/api/errors.js';
import { SchemaPatchMeta, fieldPatchMetaAt, parsePatchStrategy, schemalessPatchMeta } from '../../src/api/patch/index.js';
import type { PatchMeta } from '../../src/api/patch/index.js';
import type { Definitions, Schema } from '../../src/api/schema/types.js';
import { deploymentDefinition, podDefinition, workloadDefinitions } from './fixtures/workload-definitions.js';

const deployment = new SchemaPatchMeta(workloadDefinitions, deploymentDefinition);

function summary(meta: PatchMeta, path: string[]): string {
  const field = fieldPatchMetaAt(meta, path);
  return field ? `${field.strategy}|${field.retainKeys ? 'retainKeys' : ''}|${field.mergeKey}` : 'none';
}

test('list fields carry their strategy and merge key through $ref and items', () => {
  assert.equal(summary(deployment, ['spec', 'template', 'spec', 'containers']), 'merge||name');
  assert.equal(summary(deployment, ['spec', 'template', 'spec', 'containers', 'env']), 'merge||name');
  assert.equal(summary(deployment, ['spec', 'template', 'spec', 'containers', 'ports']), 'merge||containerPort');
  assert.equal(summary(deployment, ['spec', 'template', 'spec', 'containers', 'volumeMounts']), 'merge||mountPath');
  assert.equal(summary(deployment, ['spec', 'template', 'spec', 'volumes']), 'merge|retainKeys|name');
  assert.equal(summary(deployment, ['metadata', 'finalizers']), 'merge||');
  assert.equal(summary(deployment, ['status', 'conditions']), 'merge||type');
});

test('a strategy declared beside a $ref belongs to the referring field', () => {
  assert.equal(summary(deployment, ['spec', 'strategy']), '|retainKeys|');
  assert.equal(summary(deployment, ['spec', 'strategy', 'rollingUpdate']), '||');
});

test('lists without patch metadata, such as tolerations, are replaced', () => {
  assert.equal(summary(deployment, ['spec', 'template', 'spec', 'tolerations']), '||');
});

test('map values and unknown fields get default semantics', () => {
  assert.equal(summary(deployment, ['metadata', 'labels', 'app']), '||');
  assert.equal(summary(deployment, ['spec', 'notAField', 'containers']), '||');
  assert.equal(summary(new SchemaPatchMeta(workloadDefinitions, 'no.such.Definition'), ['spec', 'containers']), '||');
  assert.equal(summary(schemalessPatchMeta, ['spec', 'containers']), '||');
});

test('patch strategies parse as Kubernetes reads the tag', () => {
  assert.deepEqual(parsePatchStrategy('merge,retainKeys'), { strategy: 'merge', retainKeys: true });
  assert.deepEqual(parsePatchStrategy('retainKeys,replace'), { strategy: 'replace', retainKeys: true });
  assert.deepEqual(parsePatchStrategy(undefined), { strategy: '', retainKeys: false });
  assert.throws(() => parsePatchStrategy('merge,replace'), (e: unknown) => e instanceof ApiError && e.message === 'unexpected patch strategy: [merge replace]');
});

test('fields with preserved unknown fields and no properties patch without schema', () => {
  const defs: Definitions = { root: { type: 'object', properties: { raw: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } };
  assert.equal(new SchemaPatchMeta(defs, 'root').field('raw').value, schemalessPatchMeta);
});

// Walks every property of the fixture and compares its patch metadata with the
// same path in Nami's built-in definitions, so the fixture cannot drift.
function fixturePaths(defs: Definitions, schema: Schema, prefix: string[], depth: number, out: string[][]): string[][] {
  if (depth > 8) return out;
  let current = schema;
  while (current.$ref) current = defs[current.$ref.replace('#/definitions/', '')] ?? {};
  for (const [name, property] of Object.entries(current.properties ?? {})) {
    const path = [...prefix, name];
    out.push(path);
    fixturePaths(defs, property.items ?? property, path, depth + 1, out);
  }
  return out;
}

test('the workload fixture matches the patch metadata of the built-in definitions', () => {
  const builtIn = JSON.parse(readFileSync(new URL('../../src/api/schema/definitions.json', import.meta.url), 'utf8')) as Definitions;
  for (const root of [deploymentDefinition, podDefinition]) {
    const fixture = new SchemaPatchMeta(workloadDefinitions, root);
    const real = new SchemaPatchMeta(builtIn, root);
    const rootSchema = workloadDefinitions[root];
    assert.ok(rootSchema);
    const paths = fixturePaths(workloadDefinitions, rootSchema, [], 0, []);
    assert.ok(paths.length > 40);
    for (const path of paths) assert.equal(summary(fixture, path), summary(real, path), `${root} ${path.join('.')}`);
  }
});
