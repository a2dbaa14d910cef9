// Runs every dist/test/**/*.test.js with node's built-in test runner.
// Usage: node scripts/test.mjs [substring ...]  (only files whose path contains one)
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const filters = process.argv.slice(2);
const files = walk('dist/test', []).filter((f) => filters.length === 0 || filters.some((s) => f.includes(s))).sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// Cached API objects are frozen in tests, so code that writes into a shared one fails (see src/apiserver/watch-cache.ts).
const env = { ...process.env, NAMI_FREEZE_CACHE: process.env.NAMI_FREEZE_CACHE ?? '1' };
const r = spawnSync(process.execPath, [
  '--enable-source-maps', '--test', '--test-concurrency=2',
  // TAP as before, and then every failure again at the end (scripts/failures-reporter.mjs).
  '--test-reporter=tap', '--test-reporter-destination=stdout',
  `--test-reporter=${new URL('./failures-reporter.mjs', import.meta.url).href}`, '--test-reporter-destination=stdout',
  ...files,
], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
