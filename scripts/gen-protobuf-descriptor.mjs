// Builds src/api/protobuf/descriptor.json, which the API server loads on the
// first protobuf request, from the committed .proto files and Go JSON rules in
// src/api/protobuf/proto/ (see scripts/extract-kube-protos.mjs for where those
// come from). Usage: node scripts/gen-protobuf-descriptor.mjs [--check]
// With --check it writes nothing and fails when descriptor.json is stale.
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const protoDir = join(repoRoot, 'src/api/protobuf/proto');
const out = join(repoRoot, 'src/api/protobuf/descriptor.json');
const check = process.argv.includes('--check');

function protoFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return protoFiles(p);
    return p.endsWith('.proto') ? [p] : [];
  });
}

const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(protoDir, target);
const files = protoFiles(protoDir).map((p) => relative(protoDir, p)).sort();
root.loadSync(files, { keepCase: true });
root.resolveAll();

const goJson = JSON.parse(readFileSync(join(protoDir, 'go-json.json'), 'utf8'));
for (const message of Object.keys(goJson)) {
  const type = root.lookupType(message);
  for (const field of Object.keys(goJson[message])) {
    if (!type.fields[field]) throw new Error(`go-json.json names ${message}.${field}, which the .proto files lack`);
  }
}

const text = JSON.stringify({ protobuf: root.toJSON(), goJson }) + '\n';
if (check) {
  if (!existsSync(out) || readFileSync(out, 'utf8') !== text) {
    console.error(`${relative(repoRoot, out)} is out of date: run node scripts/gen-protobuf-descriptor.mjs`);
    process.exit(1);
  }
  console.log(`${relative(repoRoot, out)} matches the .proto files`);
} else {
  writeFileSync(out, text);
  console.log(`wrote ${relative(repoRoot, out)} (${files.length} .proto files, ${(text.length / 1024).toFixed(0)} KiB)`);
}
