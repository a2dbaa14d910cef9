// Recovers, from a kubectl 1.33 release binary, the two things Nami needs to
// speak Kubernetes' protobuf wire format exactly as that release does:
//
//  1. the generated.proto files of the built-in API groups. The Go protobuf
//     runtime registers each one as a gzipped FileDescriptorProto, so the
//     binary carries them verbatim (without comments); they are printed back
//     as .proto text into src/api/protobuf/proto/.
//  2. how Go's encoding/json renders each field of those messages, which the
//     .proto files cannot tell: the JSON name, `omitempty`, `,inline`, and
//     whether the Go field is a pointer (so a zero value sent explicitly, like
//     Deployment spec.replicas 0, must survive). Go's reflection metadata
//     (struct fields with their tags and types) is read from the binary and
//     written to src/api/protobuf/proto/go-json.json.
//
// Usage: node scripts/extract-kube-protos.mjs PATH_TO_KUBECTL_1.33
// Then:  node scripts/gen-protobuf-descriptor.mjs
import { readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { gunzipSync, constants as zlibConstants } from 'node:zlib';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const descriptor = require('protobufjs/ext/descriptor');

const outDir = fileURLToPath(new URL('../src/api/protobuf/proto', import.meta.url));

/** The API group versions Nami serves, by Go package path. Their imports come along. */
const wanted = [
  'k8s.io/api/core/v1',
  'k8s.io/api/apps/v1',
  'k8s.io/api/batch/v1',
  'k8s.io/api/autoscaling/v1',
  'k8s.io/api/autoscaling/v2',
  'k8s.io/api/networking/v1',
  'k8s.io/api/coordination/v1',
  'k8s.io/api/discovery/v1',
  'k8s.io/api/rbac/v1',
  'k8s.io/api/storage/v1',
  'k8s.io/api/events/v1',
  'k8s.io/api/scheduling/v1',
  'k8s.io/api/policy/v1',
  'k8s.io/api/authentication/v1',
  'k8s.io/api/authorization/v1',
];

const binaryPath = process.argv[2];
if (!binaryPath) {
  console.error('usage: node scripts/extract-kube-protos.mjs PATH_TO_KUBECTL_1.33');
  process.exit(2);
}
const buf = readFileSync(binaryPath);

// ---------------------------------------------------------------- descriptors

function registeredDescriptors() {
  const gzipMagic = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0]);
  const files = new Map();
  for (let at = buf.indexOf(gzipMagic); at >= 0; at = buf.indexOf(gzipMagic, at + 1)) {
    let raw;
    try {
      raw = gunzipSync(buf.subarray(at, at + 1_000_000), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch {
      continue;
    }
    let file;
    try {
      file = descriptor.FileDescriptorProto.decode(raw);
    } catch {
      continue;
    }
    if (file.name?.endsWith('/generated.proto')) files.set(file.name, file);
  }
  return files;
}

const scalarNames = {
  1: 'double', 2: 'float', 3: 'int64', 4: 'uint64', 5: 'int32', 6: 'fixed64', 7: 'fixed32', 8: 'bool',
  9: 'string', 12: 'bytes', 13: 'uint32', 15: 'sfixed32', 16: 'sfixed64', 17: 'sint32', 18: 'sint64',
};

function fieldType(field) {
  if (field.type === 11 || field.type === 14) return field.typeName;
  const name = scalarNames[field.type];
  if (!name) throw new Error(`unsupported field type ${field.type} in ${field.name}`);
  return name;
}

function printMessage(msg, indent) {
  const lines = [`${indent}message ${msg.name} {`];
  const entries = new Map((msg.nestedType ?? []).filter((n) => n.options?.mapEntry).map((n) => [n.name, n]));
  for (const nested of msg.nestedType ?? []) if (!nested.options?.mapEntry) lines.push(...printMessage(nested, indent + '  '));
  if ((msg.enumType ?? []).length) throw new Error(`enums are not expected (${msg.name})`);
  for (const f of msg.field ?? []) {
    const entryName = f.typeName?.split('.').pop();
    const entry = f.label === 3 && f.type === 11 ? entries.get(entryName) : undefined;
    if (entry) {
      const [k, v] = entry.field;
      lines.push(`${indent}  map<${fieldType(k)}, ${fieldType(v)}> ${f.name} = ${f.number};`);
      continue;
    }
    const label = f.label === 3 ? 'repeated' : f.label === 2 ? 'required' : 'optional';
    const opts = [];
    if (f.defaultValue) opts.push(`default = ${f.type === 9 ? JSON.stringify(f.defaultValue) : f.defaultValue}`);
    if (f.options?.packed) opts.push('packed = true');
    lines.push(`${indent}  ${label} ${fieldType(f)} ${f.name} = ${f.number}${opts.length ? ` [${opts.join(', ')}]` : ''};`);
  }
  lines.push(`${indent}}`, '');
  return lines;
}

/** gogoproto options only steer Go code generation; the wire format does not depend on them. */
const imports = (file) => (file.dependency ?? []).filter((d) => !d.startsWith('github.com/gogo/'));

function printFile(file) {
  const lines = [
    `// ${file.name} as registered by Kubernetes 1.33 (comments stripped).`,
    `// Regenerate with scripts/extract-kube-protos.mjs.`,
    '',
    `syntax = "${file.syntax || 'proto2'}";`,
    '',
    `package ${file.package};`,
    '',
  ];
  for (const dep of imports(file)) lines.push(`import "${dep}";`);
  if (imports(file).length) lines.push('');
  if (file.options?.goPackage) lines.push(`option go_package = ${JSON.stringify(file.options.goPackage)};`, '');
  for (const msg of file.messageType ?? []) lines.push(...printMessage(msg, ''));
  return lines.join('\n');
}

const files = registeredDescriptors();
const selected = new Map();
function select(name) {
  if (selected.has(name)) return;
  const file = files.get(name);
  if (!file) throw new Error(`${name} is not registered in this binary`);
  selected.set(name, file);
  for (const dep of imports(file)) select(dep);
}
for (const pkg of wanted) select(`${pkg}/generated.proto`);

rmSync(join(outDir, 'k8s.io'), { recursive: true, force: true });
for (const [name, file] of selected) {
  const to = join(outDir, name);
  mkdirSync(dirname(to), { recursive: true });
  writeFileSync(to, printFile(file));
}

// ------------------------------------------------------- Go reflection metadata
// Layouts of internal/abi (Go 1.24, amd64): Type is 48 bytes (Kind_ at 23,
// TFlag at 20, Str NameOff at 40); PtrType/SliceType/ArrayType elem at 48;
// MapType key at 48, elem at 56; StructType PkgPath at 48, Fields at 56;
// the UncommonType of a named struct follows at 80.

const shoff = Number(buf.readBigUInt64LE(0x28));
const shentsize = buf.readUInt16LE(0x3a);
const shnum = buf.readUInt16LE(0x3c);
const shstrndx = buf.readUInt16LE(0x3e);
const sections = [];
for (let i = 0; i < shnum; i++) {
  const o = shoff + i * shentsize;
  sections.push({
    nameOff: buf.readUInt32LE(o),
    type: buf.readUInt32LE(o + 4),
    addr: Number(buf.readBigUInt64LE(o + 16)),
    off: Number(buf.readBigUInt64LE(o + 24)),
    size: Number(buf.readBigUInt64LE(o + 32)),
  });
}
for (const s of sections) {
  let end = sections[shstrndx].off + s.nameOff;
  let name = '';
  while (buf[end]) name += String.fromCharCode(buf[end++]);
  s.name = name;
}
const section = (name) => {
  const s = sections.find((x) => x.name === name);
  if (!s) throw new Error(`no ${name} section: is this a Go binary?`);
  return s;
};
const NOBITS = 8;
function fileOffset(va) {
  for (const s of sections) if (s.addr && s.type !== NOBITS && va >= s.addr && va < s.addr + s.size) return s.off + (va - s.addr);
  throw new Error(`address 0x${va.toString(16)} is not in the file`);
}
const u64 = (va) => Number(buf.readBigUInt64LE(fileOffset(va)));
function varint(o) {
  let v = 0;
  let shift = 0;
  let b;
  do {
    b = buf[o++];
    v += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80);
  return [v, o];
}
function readName(va) {
  const o = fileOffset(va);
  const flags = buf[o];
  const [len, p] = varint(o + 1);
  const name = buf.toString('utf8', p, p + len);
  let tag = '';
  if (flags & 2) {
    const [tagLen, q] = varint(p + len);
    tag = buf.toString('utf8', q, q + tagLen);
  }
  return { name, tag, embedded: (flags & 8) !== 0 };
}
const typesBase = section('.rodata').addr;
const typelink = section('.typelink');
const kindOf = (t) => buf[fileOffset(t) + 23] & 31;
const tflagOf = (t) => buf[fileOffset(t) + 20];
function typeString(t) {
  let s = readName(typesBase + buf.readInt32LE(fileOffset(t) + 40)).name;
  if (tflagOf(t) & 2) s = s.slice(1);
  return s;
}
const Kind = { Array: 17, Map: 21, Pointer: 22, Slice: 23, Struct: 25 };

const structs = [];
const visited = new Set();
function visit(t) {
  if (!t || visited.has(t)) return;
  visited.add(t);
  const kind = kindOf(t);
  if (kind === Kind.Pointer || kind === Kind.Slice || kind === Kind.Array) visit(u64(t + 48));
  else if (kind === Kind.Map) {
    visit(u64(t + 48));
    visit(u64(t + 56));
  } else if (kind === Kind.Struct) {
    const fields = [];
    const at = u64(t + 56);
    const count = u64(t + 64);
    for (let i = 0; i < count; i++) {
      const f = at + i * 24;
      const type = u64(f + 8);
      fields.push({ ...readName(u64(f)), type });
      visit(type);
    }
    if (tflagOf(t) & 1 && tflagOf(t) & 4) {
      const pkg = readName(typesBase + buf.readInt32LE(fileOffset(t) + 80)).name;
      structs.push({ pkg, name: typeString(t).replace(/^.*\./, ''), fields });
    }
  }
}
for (let i = 0; i < typelink.size / 4; i++) visit(typesBase + buf.readInt32LE(typelink.off + i * 4));

function tagValue(tag, key) {
  const m = new RegExp(`(?:^|\\s)${key}:"([^"]*)"`).exec(tag);
  return m ? m[1] : undefined;
}

const protoPackages = new Set([...selected.values()].map((f) => f.package));
/** Message name -> field number -> field name. */
const messages = new Map();
for (const f of selected.values()) {
  for (const m of f.messageType ?? []) messages.set(`${f.package}.${m.name}`, new Map((m.field ?? []).map((x) => [x.number, x.name])));
}

/**
 * Per message, only the fields whose JSON differs from the defaults "JSON name
 * equals the proto name, omitempty, not a pointer".
 */
const goJson = {};
const covered = new Set();
for (const s of structs) {
  const protoPackage = s.pkg.replaceAll('/', '.');
  if (!protoPackages.has(protoPackage)) continue;
  const full = `${protoPackage}.${s.name}`;
  if (!messages.has(full) || covered.has(full)) continue;
  covered.add(full);
  const rules = {};
  for (const f of s.fields) {
    const pb = tagValue(f.tag, 'protobuf');
    if (!pb || pb === '-') continue;
    // Matched by number: some tags (EphemeralContainer's inline
    // EphemeralContainerCommon) carry no name=.
    const protoName = messages.get(full)?.get(Number(pb.split(',')[1]));
    if (!protoName) throw new Error(`${full}.${f.name}: no proto field for tag ${pb}`);
    const json = tagValue(f.tag, 'json');
    const [jsonName = '', ...jsonOpts] = (json ?? '').split(',');
    const rule = {};
    if (json === '-') rule.skip = true;
    else if (jsonName === '' && (jsonOpts.includes('inline') || (f.embedded && json === undefined))) rule.inline = true;
    else {
      const name = jsonName || f.name;
      if (name !== protoName) rule.json = name;
      if (!jsonOpts.includes('omitempty')) rule.keepEmpty = true;
    }
    if (kindOf(f.type) === Kind.Pointer) rule.pointer = true;
    if (Object.keys(rule).length) rules[protoName] = rule;
  }
  if (Object.keys(rules).length) goJson[full] = rules;
}
const notStructs = [...messages.keys()].filter((m) => !covered.has(m)).sort();
writeFileSync(join(outDir, 'go-json.json'), JSON.stringify(goJson, null, 1) + '\n');
console.log(`wrote ${selected.size} .proto files and JSON rules for ${covered.size} messages`);
console.log(`messages without a Go struct (custom JSON forms): ${notStructs.join(', ')}`);
