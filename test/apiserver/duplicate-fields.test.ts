// Repeated keys in request bodies under fieldValidation, as kube-apiserver
// reports them (its test/integration/apiserver/field_validation_test.go's
// bodies and messages): refused under Strict, warned of under Warn (the
// default), the last value kept under Ignore; in JSON as `duplicate field
// "<path>"`, in YAML as `line N: key "k" already set in map`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApiServer, type RawResponse, type TestApiServer } from './harness.js';
import { jsonDuplicates, Scan, scanJson } from '../../src/apiserver/http/duplicate-fields.js';

let api: TestApiServer;
before(async () => {
  api = await startTestApiServer();
  for (const name of ['dupes', 'crdupes']) {
    const r = await api.raw('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
    assert.equal(r.status, 201, r.text);
  }
});
after(async () => {
  await api?.close();
});

const deployments = '/apis/apps/v1/namespaces/dupes/deployments';

const deploymentJson = (name: string) => `{
  "apiVersion": "apps/v1",
  "kind": "Deployment",
  "metadata": { "name": "dupename", "name": "${name}", "labels": {"app": "nginx"}, "unknownMeta": "metaVal" },
  "spec": { "unknown1": "val1", "unknownDupe": "valDupe", "unknownDupe": "valDupe2",
    "paused": true, "paused": false,
    "selector": {"matchLabels": {"app": "nginx"}},
    "template": { "metadata": {"labels": {"app": "nginx"}}, "spec": {
      "containers": [{ "name": "nginx", "image": "nginx:latest", "unknownNested": "val1",
        "imagePullPolicy": "Always", "imagePullPolicy": "Never" }] } } }
}`;

const deploymentYaml = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: dupename
  name: ${name}
  unknownMeta: metaVal
  labels:
    app: nginx
spec:
  unknown1: val1
  unknownDupe: valDupe
  unknownDupe: valDupe2
  paused: true
  paused: false
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:latest
        unknownNested: val1
        imagePullPolicy: Always
        imagePullPolicy: Never
`;

const typedJsonProblems = [
  'duplicate field "metadata.name"',
  'unknown field "metadata.unknownMeta"',
  'unknown field "spec.unknown1"',
  'unknown field "spec.unknownDupe"',
  'duplicate field "spec.paused"',
  'unknown field "spec.template.spec.containers[0].unknownNested"',
  'duplicate field "spec.template.spec.containers[0].imagePullPolicy"',
];

const yamlLines = [
  'line 5: key "name" already set in map',
  'line 12: key "unknownDupe" already set in map',
  'line 14: key "paused" already set in map',
  'line 28: key "imagePullPolicy" already set in map',
];
const yamlUnknown = [
  'unknown field "metadata.unknownMeta"',
  'unknown field "spec.template.spec.containers[0].unknownNested"',
  'unknown field "spec.unknown1"',
  'unknown field "spec.unknownDupe"',
];

const patchProblems = [
  'duplicate field "spec.unknownDupe"',
  'duplicate field "spec.paused"',
  'duplicate field "spec.template.spec.containers[0].imagePullPolicy"',
  'unknown field "spec.template.spec.containers[0].unknownNested"',
  'unknown field "spec.unknown1"',
  'unknown field "spec.unknownDupe"',
];

const mergePatchBody = `{"spec": {"unknown1": "val1", "unknownDupe": "valDupe", "unknownDupe": "valDupe2",
  "paused": true, "paused": false,
  "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:latest", "unknownNested": "val1",
    "imagePullPolicy": "Always", "imagePullPolicy": "Never"}]}}}}`;

function refused(r: RawResponse): string {
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json?.reason, 'BadRequest');
  return String(r.json?.message);
}

function warnings(r: RawResponse): string[] {
  const header = r.headers.warning;
  const text = Array.isArray(header) ? header.join(', ') : (header ?? '');
  return [...text.matchAll(/299 - ("(?:[^"\\]|\\.)*")/g)].map((m) => JSON.parse(m[1]!) as string);
}

async function createValid(name: string): Promise<void> {
  const r = await api.raw('POST', deployments, {
    body: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name },
      spec: { selector: { matchLabels: { app: 'nginx' } }, template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:latest' }] } } },
    },
  });
  assert.equal(r.status, 201, r.text);
}

describe('repeated keys in a built-in kind\'s create and update', () => {
  it('refuses a JSON body under Strict, naming repeats and unknown fields in the text\'s order, a repeated unknown field once', async () => {
    const message = refused(await api.raw('POST', `${deployments}?fieldValidation=Strict`, { body: deploymentJson('strict'), contentType: 'application/json' }));
    assert.equal(message, `Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: ${typedJsonProblems.join(', ')}`);
    await createValid('updated');
    const update = refused(await api.raw('PUT', `${deployments}/updated?fieldValidation=Strict`, { body: deploymentJson('updated'), contentType: 'application/json' }));
    assert.ok(update.endsWith(`strict decoding error: ${typedJsonProblems.join(', ')}`), update);
  });

  it('warns of each under Warn, the default, and keeps the last value; says nothing under Ignore', async () => {
    const warned = await api.raw('POST', deployments, { body: deploymentJson('warned'), contentType: 'application/json' });
    assert.equal(warned.status, 201, warned.text);
    assert.deepEqual(warnings(warned), typedJsonProblems);
    assert.equal(warned.json?.metadata.name, 'warned');
    assert.equal(warned.json?.spec.template.spec.containers[0].imagePullPolicy, 'Never');
    assert.equal(warned.json?.spec.paused, undefined, 'paused: false, the last, is left out as Go leaves it out');
    const ignored = await api.raw('POST', `${deployments}?fieldValidation=Ignore`, { body: deploymentJson('ignored'), contentType: 'application/json' });
    assert.equal(ignored.status, 201, ignored.text);
    assert.deepEqual(warnings(ignored), []);
    assert.equal(ignored.json?.metadata.name, 'ignored');
  });

  it('refuses a YAML body under Strict with the YAML decoder\'s lines first, then the unknown fields in sorted order', async () => {
    const message = refused(await api.raw('POST', `${deployments}?fieldValidation=Strict`, { body: deploymentYaml('yaml-strict'), contentType: 'application/yaml' }));
    const expected = `strict decoding error: yaml: unmarshal errors:\n  ${yamlLines.join('\n  ')}, ${yamlUnknown.join(', ')}`;
    assert.equal(message, `Deployment in version "v1" cannot be handled as a Deployment: ${expected}`);
    const warned = await api.raw('POST', deployments, { body: deploymentYaml('yaml-warned'), contentType: 'application/yaml' });
    assert.equal(warned.status, 201, warned.text);
    assert.deepEqual(warnings(warned), [...yamlLines, ...yamlUnknown]);
  });

  it('finds the repeats of a large YAML body, which is parsed on another thread', async () => {
    const filler = Array.from({ length: 4000 }, (_, i) => `    k${i}: value-${i}`).join('\n');
    const body = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: large-yaml\ndata:\n${filler}\n    k7: again\n`;
    assert.ok(body.length > 64 * 1024);
    const r = await api.raw('POST', '/api/v1/namespaces/dupes/configmaps', { body, contentType: 'application/yaml' });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(warnings(r), ['line 4006: key "k7" already set in map']);
    assert.equal(r.json?.data.k7, 'again');
  });
});

describe('repeated keys in patches', () => {
  it('lists a merge patch\'s and a strategic merge patch\'s repeats first, then the result\'s unknown fields in sorted order', async () => {
    await createValid('merged');
    for (const type of ['application/merge-patch+json', 'application/strategic-merge-patch+json']) {
      const message = refused(await api.raw('PATCH', `${deployments}/merged?fieldValidation=Strict`, { body: mergePatchBody, contentType: type }));
      assert.equal(message, `strict decoding error: ${patchProblems.join(', ')}`, type);
      const warned = await api.raw('PATCH', `${deployments}/merged`, { body: mergePatchBody, contentType: type });
      assert.equal(warned.status, 200, warned.text);
      assert.deepEqual(warnings(warned), patchProblems, type);
    }
  });

  it('names a JSON patch\'s unknown and repeated op members, and not an op repeated whole', async () => {
    await createValid('json-patched');
    const body = `[{"op": "add", "path": "/spec/unknown1", "value": "val1", "foo": "bar"},
      {"op": "add", "path": "/spec/unknown2", "path": "/spec/unknown3", "value": "val1"},
      {"op": "add", "path": "/spec/unknownDupe", "value": "valDupe"},
      {"op": "add", "path": "/spec/unknownDupe", "value": "valDupe2"},
      {"op": "add", "path": "/spec/paused", "value": true},
      {"op": "add", "path": "/spec/paused", "value": false},
      {"op": "add", "path": "/spec/template/spec/containers/0/unknownNested", "value": "val1"}]`;
    const expected = [
      'json patch unknown field "[0].foo"',
      'json patch duplicate field "[1].path"',
      'unknown field "spec.template.spec.containers[0].unknownNested"',
      'unknown field "spec.unknown1"',
      'unknown field "spec.unknown3"',
      'unknown field "spec.unknownDupe"',
    ];
    const message = refused(await api.raw('PATCH', `${deployments}/json-patched?fieldValidation=Strict`, { body, contentType: 'application/json-patch+json' }));
    assert.equal(message, `strict decoding error: ${expected.join(', ')}`);
    const warned = await api.raw('PATCH', `${deployments}/json-patched`, { body, contentType: 'application/json-patch+json' });
    assert.equal(warned.status, 200, warned.text);
    assert.deepEqual(warnings(warned), expected);
  });

  it('refuses an applied configuration\'s repeats under Strict before anything else, and warns of them otherwise', async () => {
    const applied = `{
  "apiVersion": "apps/v1",
  "kind": "Deployment",
  "metadata": {"name": "applied"},
  "spec": {
    "selector": {"matchLabels": {"app": "nginx"}},
    "paused": false,
    "paused": true,
    "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {"containers": [{
      "name": "nginx",
      "image": "nginx:latest",
      "imagePullPolicy": "Never",
      "imagePullPolicy": "Always"}]}}}
}`;
    const apply = 'application/apply-patch+yaml';
    const message = refused(await api.raw('PATCH', `${deployments}/applied?fieldManager=a&fieldValidation=Strict`, { body: applied, contentType: apply }));
    assert.equal(message, 'error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  line 8: key "paused" already set in map\n  line 13: key "imagePullPolicy" already set in map');
    const warned = await api.raw('PATCH', `${deployments}/applied?fieldManager=a`, { body: applied, contentType: apply });
    assert.equal(warned.status, 201, warned.text);
    assert.deepEqual(warnings(warned), ['line 8: key "paused" already set in map', 'line 13: key "imagePullPolicy" already set in map']);
    assert.equal(warned.json?.spec.paused, true);
  });
});

describe('repeated keys in a custom resource', () => {
  it('lists the repeats first, then the unknown fields, a repeated unknown field in both', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'dupes.dupes.nami.test' },
      spec: {
        group: 'dupes.nami.test',
        scope: 'Namespaced',
        names: { plural: 'dupes', singular: 'dupe', kind: 'Dupe', listKind: 'DupeList' },
        versions: [{
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  properties: {
                    knownField1: { type: 'string' },
                    ports: { type: 'array', items: { type: 'object', properties: { containerPort: { type: 'integer' }, hostPort: { type: 'integer' } } } },
                  },
                },
              },
            },
          },
        }],
      },
    };
    const created = await api.raw('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: crd });
    assert.equal(created.status, 201, created.text);
    const path = '/apis/dupes.nami.test/v1/namespaces/crdupes/dupes';
    const body = `{"apiVersion": "dupes.nami.test/v1", "kind": "Dupe",
  "metadata": {"name": "dupename", "name": "cr", "unknownMeta": "metaVal"},
  "spec": {"unknown1": "val1", "unknownDupe": "valDupe", "unknownDupe": "valDupe2",
    "knownField1": "val1", "knownField1": "val2",
    "ports": [{"name": "portName", "containerPort": 8080, "protocol": "TCP", "hostPort": 8081, "hostPort": 8082, "unknownNested": "val"}]}}`;
    let message = '';
    for (let tries = 0; tries < 50; tries++) {
      const r = await api.raw('POST', `${path}?fieldValidation=Strict`, { body, contentType: 'application/json' });
      if (r.status === 404) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      message = refused(r);
      break;
    }
    const expected = [
      'duplicate field "metadata.name"',
      'duplicate field "spec.unknownDupe"',
      'duplicate field "spec.knownField1"',
      'duplicate field "spec.ports[0].hostPort"',
      'unknown field "metadata.unknownMeta"',
      'unknown field "spec.ports[0].name"',
      'unknown field "spec.ports[0].protocol"',
      'unknown field "spec.ports[0].unknownNested"',
      'unknown field "spec.unknown1"',
      'unknown field "spec.unknownDupe"',
    ];
    assert.ok(message.endsWith(`strict decoding error: ${expected.join(', ')}`), message);
  });
});

describe('the scan for repeated keys', () => {
  const scan = (text: string) => scanJson(Buffer.from(text), 512);

  it('finds a repeat in any object, and none across objects, in strings or in arrays', () => {
    assert.equal(scan('{"a": 1, "b": {"a": 2}, "c": [{"a": 3}, {"a": 4}]}') & Scan.duplicates, 0);
    assert.equal(scan('{"a": "{\\"a\\": 1, \\"a\\": 2}", "b": ["a", "a"]}') & Scan.duplicates, 0);
    assert.equal(scan('{"a": 1, "b": {"x": 1}, "a": 2}') & Scan.duplicates, Scan.duplicates);
    assert.equal(scan('[{"k": {"y": 1, "y": 2}}]') & Scan.duplicates, Scan.duplicates);
    assert.equal(scan('{"a\\"b": 1, "a\\"b": 2}') & Scan.duplicates, Scan.duplicates);
    assert.equal(scan('{"ab": 1, "a": 2, "b": 3}') & Scan.duplicates, 0);
  });

  it('tells nesting too deep as it did before', () => {
    assert.equal(scan('['.repeat(513) + ']'.repeat(513)) & Scan.tooDeep, Scan.tooDeep);
    assert.equal(scan('['.repeat(512) + ']'.repeat(512)) & Scan.tooDeep, 0);
  });

  it('names each repeat by its path, where it is in the text', () => {
    const text = '{"a": {"b": [1, {"c": 1, "c": 2}]}, "a": {"d": 1}}';
    const { fields, firstAt } = jsonDuplicates(text);
    assert.deepEqual(fields.map((f) => f.path), ['a.b[1].c', 'a']);
    assert.equal(fields[0]!.at, text.lastIndexOf('"c"'));
    assert.equal(firstAt.get('a.b[1].c'), text.indexOf('"c"'));
    assert.equal(firstAt.get('a.d'), text.indexOf('"d"'));
  });
});
