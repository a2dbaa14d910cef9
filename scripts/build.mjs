// Transpiles src/, test/ and bench/ into dist/ file by file (no bundling), so
// `bin/nami` runs plain JavaScript with no loader. Type checking is `npm run typecheck`.
import { build } from 'esbuild';
import { readdirSync, statSync, existsSync, mkdirSync, copyFileSync } from 'node:fs';
import { join, dirname } from 'node:path';

const roots = ['src', 'test', 'bench'];
function walk(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if ((p.endsWith('.ts') && !p.endsWith('.d.ts')) || p.endsWith('.json')) out.push(p);
  }
  return out;
}
const files = roots.flatMap((r) => walk(r, []));
const entryPoints = files.filter((f) => f.endsWith('.ts'));
// Data files (type definitions ...) are read at run time beside the code.
for (const f of files.filter((f) => f.endsWith('.json'))) {
  const to = join('dist', f);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(f, to);
}
await build({
  entryPoints,
  outdir: 'dist',
  outbase: '.',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});
