// The layering in ARCHITECTURE.md: imports point downward only, and the
// components above client/ never import each other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { repoRoot } from '../e2e/harness.js';

const src = join(repoRoot, 'src');

/** What each top-level folder of src/ may import, besides itself. */
const allowed: Record<string, string[]> = {
  api: [],
  storage: ['api'],
  apiserver: ['api', 'storage'],
  client: ['api'],
  cli: ['*'],
  console: ['api', 'client'],
};
/** Components: everything not named above; they sit on client/ and api/ only. */
const componentAllowed = ['api', 'client'];

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)) specs.push(m[1]!);
  return specs.filter((s) => s.startsWith('.'));
}

/** Violations for one file, given its path relative to src/ and its relative import specifiers. */
function violationsOf(fileInSrc: string, specs: string[]): string[] {
  const layer = fileInSrc.split('/')[0]!;
  const may = allowed[layer] ?? componentAllowed;
  const out: string[] = [];
  for (const spec of specs) {
    const target = relative(src, resolve(src, dirname(fileInSrc), spec));
    const targetLayer = target.split('/')[0]!;
    if (target.startsWith('..')) out.push(`src/${fileInSrc} imports ${spec}, outside src/`);
    else if (targetLayer !== layer && !may.includes('*') && !may.includes(targetLayer)) out.push(`src/${fileInSrc} (${layer}) imports ${target} (${targetLayer})`);
  }
  return out;
}

test('every import in src/ points down the layers of ARCHITECTURE.md', () => {
  const violations = walk(src).flatMap((file) => violationsOf(relative(src, file), importsOf(file)));
  assert.deepEqual(violations, []);
});

test('the layering check reports a component importing another component or the API server', () => {
  assert.equal(violationsOf('controllers/namespace/controller.ts', ['../../scheduler/queue.js']).length, 1);
  assert.equal(violationsOf('controllers/namespace/controller.ts', ['../../apiserver/server.js']).length, 1);
  assert.equal(violationsOf('api/object.ts', ['../storage/backend.js']).length, 1);
  assert.deepEqual(violationsOf('controllers/namespace/controller.ts', ['../../client/rest.js', '../../api/errors.js']), []);
});
