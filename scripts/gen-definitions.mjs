// Builds src/api/schema/definitions.json: the Kubernetes 1.14 OpenAPI definitions
// (the aggregator test document shipped in Debian's golang-k8s-kube-openapi-dev,
// usr/share/gocode/src/k8s.io/kube-openapi/test/integration/testdata/aggregator/openapi.json)
// brought to the Kubernetes 1.33 API by src/api/schema/additions-since-1.14.json.
//
// Usage: node scripts/gen-definitions.mjs --base <openapi.json> [--check]
//   --check  fail (exit 1) when the committed definitions.json differs from the result
//
// The committed definitions.json is what Nami loads; the base document is only
// needed to regenerate it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const schemaDir = join(root, 'src', 'api', 'schema');

function parseArgs(argv) {
  const opts = { base: process.env.NAMI_KUBE_OPENAPI_1_14, check: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--base') opts.base = argv[++i];
    else if (argv[i] === '--check') opts.check = true;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!opts.base) throw new Error('pass --base <path to the Kubernetes 1.14 openapi.json> (or set NAMI_KUBE_OPENAPI_1_14)');
  return opts;
}

function isObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 7386 JSON merge patch. */
export function applyMergePatch(target, patch) {
  if (!isObject(patch)) return structuredClone(patch);
  const out = isObject(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

function renameRefs(value, refRenames) {
  if (Array.isArray(value)) return value.map((v) => renameRefs(v, refRenames));
  if (!isObject(value)) return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === '$ref' && typeof v === 'string') {
      const name = v.replace('#/definitions/', '');
      out[k] = '#/definitions/' + (refRenames[name] ?? name);
    } else out[k] = renameRefs(v, refRenames);
  }
  return out;
}

/** Keys sorted at every level, as Kubernetes publishes its documents. */
function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys(value[k])]));
}

export function buildDefinitions(baseDoc, additions) {
  const base = baseDoc.definitions;
  const out = {};
  for (const [name, patch] of Object.entries(additions.definitions)) {
    const source = additions.renames[name] ?? name;
    const start = base[source] ? renameRefs(base[source], additions.refRenames) : undefined;
    out[name] = start ? applyMergePatch(start, patch) : patch;
  }
  const missing = new Set();
  JSON.stringify(out, (k, v) => {
    if (k === '$ref' && typeof v === 'string' && !out[v.replace('#/definitions/', '')]) missing.add(v);
    return v;
  });
  if (missing.size > 0) throw new Error(`unresolved references: ${[...missing].join(', ')}`);
  return sortKeys(out);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const opts = parseArgs(process.argv.slice(2));
  const baseDoc = JSON.parse(readFileSync(opts.base, 'utf8'));
  if (baseDoc.info?.version !== 'v1.14.0') throw new Error(`expected the v1.14.0 document, got ${baseDoc.info?.version}`);
  const additions = JSON.parse(readFileSync(join(schemaDir, 'additions-since-1.14.json'), 'utf8'));
  const text = JSON.stringify(buildDefinitions(baseDoc, additions), null, 1) + '\n';
  const file = join(schemaDir, 'definitions.json');
  if (opts.check) {
    let current = '';
    try { current = readFileSync(file, 'utf8'); } catch { /* missing counts as different */ }
    if (current !== text) {
      console.error('definitions.json is out of date: run node scripts/gen-definitions.mjs --base <openapi.json>');
      process.exit(1);
    }
    console.log('definitions.json is up to date');
  } else {
    writeFileSync(file, text);
    console.log(`wrote ${file} (${Object.keys(JSON.parse(text)).length} definitions)`);
  }
}
