// Bodies that kube-apiserver cannot decode: values of the wrong type for a
// built-in kind's fields (400 on create, update and apply, 422 on the
// "patch" field for patches, worded as Go's decoder words them), and bodies
// nested too deep to walk. Nothing of them is stored, and the server goes on.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { maxNestingDepth } from '../../src/apiserver/http/body.js';
import { startTestApiServer, waitFor, type TestApiServer } from './harness.js';

let api: TestApiServer;
const cms = '/api/v1/namespaces/decoding/configmaps';
const pods = '/api/v1/namespaces/decoding/pods';
const deployments = '/apis/apps/v1/namespaces/decoding/deployments';

before(async () => {
  api = await startTestApiServer();
  const r = await api.raw('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'decoding' } } });
  assert.equal(r.status, 201, r.text);
});
after(async () => {
  await api?.close();
});

const deployment = (name: string, env: unknown[]) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'busybox:1.36', env }] } },
  },
});

type Raw = Awaited<ReturnType<TestApiServer['raw']>>;

function assertFailure(r: Raw, code: number, reason: string, message: string | RegExp): Record<string, any> {
  assert.equal(r.status, code, r.text);
  assert.equal(r.json?.kind, 'Status', r.text);
  assert.equal(r.json?.reason, reason, r.text);
  if (typeof message === 'string') assert.equal(r.json?.message, message);
  else assert.match(r.json?.message, message);
  return r.json!;
}

describe('values a Go type does not take', () => {
  it('refuses a create with 400, in the words of kube-apiserver, and stores nothing', async () => {
    assertFailure(
      await api.raw('POST', deployments, { body: deployment('flags', [{ name: 'ENABLE', value: true }]) }),
      400,
      'BadRequest',
      'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal bool into Go struct field EnvVar.spec.template.spec.containers.env.value of type string',
    );
    assert.equal((await api.raw('GET', `${deployments}/flags`)).status, 404);
    assertFailure(
      await api.raw('POST', cms, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'listed' }, data: { a: ['x'] } } }),
      400,
      'BadRequest',
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal array into Go struct field ConfigMap.data of type string',
    );
    assertFailure(
      await api.raw('POST', '/api/v1/namespaces/decoding/secrets', { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'plain' }, data: { password: 'hunter2!' } } }),
      400,
      'BadRequest',
      'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 7',
    );
  });

  it('refuses what used to reach defaulting and fail there with a 500', async () => {
    const body = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'tolerant' }, spec: { containers: [{ name: 'main', image: 'busybox:1.36' }], tolerations: 'all' } };
    assertFailure(await api.raw('POST', pods, { body }), 400, 'BadRequest', /json: cannot unmarshal string into Go struct field PodSpec\.spec\.tolerations of type \[\]v1\.Toleration$/);
  });

  it('refuses an update and an apply with 400, leaving the object as it was', async () => {
    const created = await api.raw('POST', deployments, { body: deployment('web', [{ name: 'MODE', value: 'on' }]) });
    assert.equal(created.status, 201, created.text);
    const update = { ...created.json, spec: { ...created.json!.spec, replicas: '3' } };
    assertFailure(await api.raw('PUT', `${deployments}/web`, { body: update }), 400, 'BadRequest', /json: cannot unmarshal string into Go struct field DeploymentSpec\.spec\.replicas of type int32$/);
    const apply = await api.raw('PATCH', `${deployments}/web?fieldManager=tester`, { body: JSON.stringify(deployment('web', [{ name: 'MODE', value: 1 }])), contentType: 'application/apply-patch+yaml' });
    assertFailure(apply, 400, 'BadRequest', /json: cannot unmarshal number into Go struct field EnvVar\.spec\.template\.spec\.containers\.env\.value of type string$/);
    const now = await api.raw('GET', `${deployments}/web`);
    assert.equal(now.json?.metadata.resourceVersion, created.json?.metadata.resourceVersion);
  });

  it('fails a patch whose result does not decode with 422 on the field "patch", for every patch type', async () => {
    const created = await api.raw('POST', pods, { body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'patched', labels: { app: 'x' } }, spec: { containers: [{ name: 'main', image: 'busybox:1.36' }] } } });
    assert.equal(created.status, 201, created.text);
    const patches: [string, unknown][] = [
      ['application/merge-patch+json', { metadata: { labels: { app: 5 } } }],
      ['application/json-patch+json', [{ op: 'replace', path: '/metadata/labels/app', value: 5 }]],
      ['application/strategic-merge-patch+json', { metadata: { labels: { app: 5 } } }],
    ];
    for (const [contentType, patch] of patches) {
      const r = await api.raw('PATCH', `${pods}/patched`, { body: JSON.stringify(patch), contentType });
      const status = assertFailure(r, 422, 'Invalid', /^ "" is invalid: patch: Invalid value: ".*": json: cannot unmarshal number into Go struct field ObjectMeta\.metadata\.labels of type string$/s);
      assert.equal(status.details?.causes?.[0]?.field, 'patch', contentType);
      // The value shown is the patched object, as kube-apiserver shows it.
      const shown = /Invalid value: (".*"): json:/s.exec(status.details.causes[0].message)?.[1];
      assert.equal(JSON.parse(JSON.parse(shown!)).metadata.labels.app, 5, contentType);
    }
    const now = await api.raw('GET', `${pods}/patched`);
    assert.equal(now.json?.metadata.labels.app, 'x');
  });

  it('refuses DeleteOptions that do not decode with 400, and deletes nothing', async () => {
    assert.equal((await api.raw('POST', cms, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kept' } } })).status, 201);
    assertFailure(
      await api.raw('DELETE', `${cms}/kept`, { body: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: '0' } }),
      400,
      'BadRequest',
      'json: cannot unmarshal string into Go struct field DeleteOptions.gracePeriodSeconds of type int64',
    );
    assert.equal((await api.raw('GET', `${cms}/kept`)).status, 200);
  });

  it('decodes null as Go does: a null item or map value is its zero value, a null field is unset', async () => {
    const body = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'nulls', labels: { app: null }, annotations: null },
      spec: { containers: [{ name: 'main', image: 'busybox:1.36', args: [null, 'b'], resources: { limits: { cpu: null } } }], nodeSelector: null },
    };
    const r = await api.raw('POST', pods, { body });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.json?.metadata.labels, { app: '' });
    assert.equal('annotations' in r.json!.metadata, false);
    assert.equal('nodeSelector' in r.json!.spec, false);
    assert.deepEqual(r.json?.spec.containers[0].args, ['', 'b']);
    assert.deepEqual(r.json?.spec.containers[0].resources.limits, { cpu: '0' });
    // A null list item of a struct type is an empty one, which validation then names (this was a 500).
    const crd = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'nulls.decoding.nami.test' }, spec: { group: 'decoding.nami.test', scope: 'Namespaced', names: { plural: 'nulls', kind: 'Null' }, versions: [null] } };
    assert.equal((await api.raw('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: crd })).status, 422);
    const podOfNulls = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'null-container' }, spec: { containers: [null] } };
    assertFailure(await api.raw('POST', pods, { body: podOfNulls }), 422, 'Invalid', /spec\.containers\[0\]\.name: Required value/);
  });

  it('leaves custom resources to their schema: they have no Go types', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'blobs.decoding.nami.test' },
      spec: {
        group: 'decoding.nami.test',
        scope: 'Namespaced',
        names: { plural: 'blobs', singular: 'blob', kind: 'Blob' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } } }],
      },
    };
    assert.equal((await api.raw('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: crd })).status, 201);
    const body = { apiVersion: 'decoding.nami.test/v1', kind: 'Blob', metadata: { name: 'b' }, spec: { data: [1, true, 'x'] } };
    await waitFor('a Blob with values of any type created', async () => (await api.raw('POST', '/apis/decoding.nami.test/v1/namespaces/decoding/blobs', { body })).status === 201);
  });
});

/** `depth` arrays, one inside the other. */
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('bodies nested too deep', () => {
  it(`takes objects and arrays nested ${maxNestingDepth} deep, and refuses deeper ones with 400`, async () => {
    // The ConfigMap is level 1; an unknown field holds the arrays (dropped when stored, as decoding drops it).
    const body = (name: string, depth: number) => `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"${name}"},"extra":${nested(depth - 1)}}`;
    assert.equal((await api.raw('POST', cms, { body: body('deep-enough', maxNestingDepth) })).status, 201);
    assertFailure(await api.raw('POST', cms, { body: body('too-deep', maxNestingDepth + 1) }), 400, 'BadRequest', /exceeded max depth/);
    // Brackets in strings do not nest anything.
    const brackets = '['.repeat(2000) + '{'.repeat(2000) + '\\"';
    const inString = await api.raw('POST', cms, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'brackets' }, data: { a: brackets } } });
    assert.equal(inString.status, 201, inString.text);
    assert.equal(inString.json?.data.a, brackets);
    const inYaml = await api.raw('POST', cms, { body: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: yaml-brackets}\ndata: {a: '${'['.repeat(2000)}', b: "${'{'.repeat(2000)}"}\n`, contentType: 'application/yaml' });
    assert.equal(inYaml.status, 201, inYaml.text);
    // Far deeper: this once overflowed the stack while the object was written out (a 500).
    assertFailure(await api.raw('POST', cms, { body: body('far-too-deep', 100_000) }), 400, 'BadRequest', /exceeded max depth/);
  });

  it('refuses deep YAML before parsing it (the parser, out of stack, could abort the server), and the server goes on', async () => {
    const yaml = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep-yaml}\ndata: {a: ${nested(1000)}}\n`;
    for (let i = 0; i < 3; i++) {
      const r = await api.raw('PATCH', `${cms}/deep-yaml?fieldManager=m${i}&force=true`, { body: yaml, contentType: 'application/apply-patch+yaml' });
      assertFailure(r, 400, 'BadRequest', /^error converting YAML to JSON: exceeded max depth/);
    }
    // An alias inside its own anchor nests without end.
    const cyclic = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cyclic, annotations: &a {x: [*a]}}\n';
    assertFailure(await api.raw('POST', cms, { body: cyclic, contentType: 'application/yaml' }), 400, 'BadRequest', /exceeded max depth/);
    // Near the size limit, brackets a million deep: refused from the text, before a tree or a value is built for them.
    const million = nested(1_000_000);
    assertFailure(await api.raw('POST', cms, { body: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: million}\ndata: {a: ${million}}\n`, contentType: 'application/yaml' }), 400, 'BadRequest', /exceeded max depth/);
    assertFailure(await api.raw('POST', cms, { body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"million"},"x":${million}}` }), 400, 'BadRequest', /exceeded max depth/);
    assert.equal((await api.raw('GET', cms)).status, 200);
  });
});

describe('bodies of any shape', () => {
  // Seeded, so a failure names a body that fails again.
  let seed = 20261201;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const odd: unknown[] = [null, true, 0, -1, 1.5, 1e308, '', 'x', '%%', [], [null], {}, { a: 1 }, '\u0000', '12345678901234567890'];
  const templates: [string, Record<string, unknown>][] = [
    [pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'busybox', env: [{ name: 'A', value: 'v' }], ports: [{ containerPort: 80 }], resources: { limits: { cpu: '1' } }, livenessProbe: { httpGet: { path: '/', port: 80 } } }], volumes: [{ name: 'v', emptyDir: {} }], tolerations: [{ key: 'k', operator: 'Exists' }] } }],
    [deployments, deployment('d', [{ name: 'A', value: 'v' }])],
    ['/api/v1/namespaces/decoding/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { selector: { a: 'b' }, ports: [{ port: 80, targetPort: 'http' }] } }],
    ['/apis/batch/v1/namespaces/decoding/cronjobs', { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'cj' }, spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } } } }],
    ['/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'ws.ex.com' }, spec: { group: 'ex.com', scope: 'Namespaced', names: { plural: 'ws', kind: 'W' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }] } }],
  ];
  /** Every path to a value in v. */
  const paths = (v: unknown, at: (string | number)[] = []): (string | number)[][] => {
    const out = [at];
    if (v && typeof v === 'object') for (const [k, child] of Object.entries(v)) out.push(...paths(child, [...at, Array.isArray(v) ? Number(k) : k]));
    return out;
  };
  /** The template with one to three values replaced by odd ones, or removed. */
  const mutated = (template: Record<string, unknown>, name: string): Record<string, unknown> => {
    const copy = structuredClone(template);
    const targets = paths(copy).filter((p) => p.length > 1 || (p.length === 1 && p[0] !== 'apiVersion' && p[0] !== 'kind' && p[0] !== 'metadata'));
    for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
      const path = pick(targets);
      let parent: any = copy;
      for (const k of path.slice(0, -1)) parent = parent && typeof parent === 'object' ? parent[k] : undefined;
      if (!parent || typeof parent !== 'object') continue;
      if (random() < 0.15) delete parent[path.at(-1)!];
      else parent[path.at(-1)!] = structuredClone(pick(odd));
    }
    (copy.metadata as Record<string, unknown>).name = name;
    return copy;
  };

  it('gets a 4xx or a success, never a 500, for creates, merge patches and applies', async () => {
    const failures: string[] = [];
    for (let i = 0; i < 300; i++) {
      const [path, template] = pick(templates);
      const name = `odd-${i}`;
      const body = mutated(template, name);
      const how = random();
      let r: Raw;
      if (how < 0.5) {
        r = await api.raw('POST', path, { body });
      } else if (how < 0.75) {
        r = await api.raw('PATCH', `${path}/${name}?fieldManager=odd&force=true`, { body: JSON.stringify(body), contentType: 'application/apply-patch+yaml' });
      } else {
        // (A CRD of another name than its plural and group is refused: its patch then finds nothing, a 404.)
        await api.raw('POST', path, { body: { ...template, metadata: { ...(template.metadata as object), name } } });
        const { apiVersion: _v, kind: _k, metadata: _m, ...rest } = body;
        r = await api.raw('PATCH', `${path}/${name}`, { body: JSON.stringify(rest), contentType: 'application/merge-patch+json' });
      }
      if (r.status >= 500) failures.push(`${r.status} ${r.text.slice(0, 200)}\n  for ${JSON.stringify(body)}`);
    }
    assert.deepEqual(failures, []);
  });
});
