// A CRD's structural schema as kube-apiserver applies it to custom
// resources: OpenAPI v3.0 bounds, Go regular expressions, nulls dropped
// before defaulting, and violations reported in kube-apiserver's words.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFieldError } from '../../src/api/errors.js';
import type { KubeObject } from '../../src/api/object.js';
import type { Schema } from '../../src/api/schema/types.js';
import { CustomResourceSchema, validateCrd } from '../../src/apiserver/crd.js';
import { goRegExp } from '../../src/apiserver/go-regexp.js';

const schema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['size'],
      properties: {
        size: { type: 'integer', minimum: 1, maximum: 10 },
        color: { type: 'string', enum: ['blue', 'green'], default: 'blue' },
        level: { type: 'integer', enum: [1, 2] },
        name: { type: 'string', pattern: '^[a-z]+$', maxLength: 5, minLength: 2 },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 2, minItems: 1 },
        ratio: { type: 'number', multipleOf: 0.5, minimum: 0, exclusiveMinimum: true },
        note: { type: 'string', nullable: true },
      },
    },
  },
} as unknown as Schema;

const thing = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'y.io/v1', kind: 'Thing', metadata: { name: 't' }, spec });

function messages(s: CustomResourceSchema, obj: KubeObject): string[] {
  s.prune(obj);
  return s.validate(obj).map(formatFieldError).sort();
}

describe('custom resource schemas', () => {
  const s = new CustomResourceSchema(schema);

  it('reports violations as kube-apiserver does', () => {
    const cases: [Record<string, unknown>, string[]][] = [
      [{ size: 'big' }, ['spec.size: Invalid value: "string": spec.size in body must be of type integer: "string"']],
      [{ size: true }, ['spec.size: Invalid value: "boolean": spec.size in body must be of type integer: "boolean"']],
      [{ color: 'blue' }, ['spec.size: Required value']],
      [{ size: 0, color: 'red' }, ['spec.color: Unsupported value: "red": supported values: "blue", "green"', 'spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1']],
      [{ size: 3, level: 3 }, ['spec.level: Unsupported value: 3: supported values: "1", "2"']],
      [{ size: 11 }, ['spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10']],
      [{ size: 3, name: 'ABCDEFG' }, ['spec.name: Invalid value: "ABCDEFG": spec.name in body should match \'^[a-z]+$\'', 'spec.name: Too long: may not be more than 5 bytes']],
      [{ size: 3, name: 'a' }, ['spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long']],
      [{ size: 3, tags: [] }, ['spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items']],
      [{ size: 3, tags: ['a', 'b', 'c'] }, ['spec.tags: Too many: 3: must have at most 2 items']],
      [{ size: 3, tags: [1] }, ['spec.tags[0]: Invalid value: "integer": spec.tags[0] in body must be of type string: "integer"']],
      [{ size: 3, ratio: 0.3 }, ['spec.ratio: Invalid value: 0.3: spec.ratio in body should be a multiple of 0.5']],
    ];
    for (const [spec, want] of cases) assert.deepEqual(messages(s, thing(spec)), [...want].sort(), JSON.stringify(spec));
  });

  it('reads exclusiveMinimum as the OpenAPI v3.0 flag on minimum', () => {
    assert.deepEqual(messages(s, thing({ size: 3, ratio: 0 })), ['spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0']);
    assert.deepEqual(messages(s, thing({ size: 3, ratio: 0.5 })), []);
  });

  it('drops a null where none is allowed, then defaults it; keeps one where the schema allows it', () => {
    const obj = thing({ size: 3, color: null, note: null });
    assert.deepEqual(messages(s, obj), []);
    assert.deepEqual(obj.spec, { size: 3, color: 'blue', note: null });
    assert.deepEqual(messages(s, thing({ size: null })), ['spec.size: Required value']);
  });

  it('matches patterns as Go regular expressions', () => {
    assert.equal(goRegExp('(?i)^abc$').test('ABC'), true);
    assert.equal(goRegExp('^[a-z\\_]+$').test('a_b'), true);
    assert.equal(goRegExp('^[[:alpha:]]+[[:digit:]]$').test('ab1'), true);
    assert.equal(goRegExp('^(?P<n>x)\\z').exec('x')?.groups?.n, 'x');
    assert.equal(goRegExp('\\Ax').test('yx'), false);
    // A flag group after the leading anchor, as Gateway API's GRPCRoute writes ^(?i)...
    assert.equal(goRegExp('^(?i)\\.?[a-z_][a-z_0-9]*$').test('.Foo_1'), true);
    // Go matches runes: two emoji are two characters.
    assert.equal(goRegExp('^.{2}$').test('\u{1F600}\u{1F600}'), true);
  });

  it('refuses what it cannot compile instead of taking objects unchecked', () => {
    const broken = new CustomResourceSchema({ type: 'object', properties: { spec: { type: 'string', pattern: '(' } } } as unknown as Schema);
    assert.ok(broken.compileError);
    assert.equal(broken.validate(thing({})).length, 1);
  });

  it('refuses a CRD whose schema has a pattern that is no regular expression, naming it as Kubernetes does', () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'things.y.io' },
      spec: {
        group: 'y.io',
        scope: 'Namespaced',
        names: { plural: 'things', kind: 'Thing' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { name: { type: 'string', pattern: '^(a' } } } } } } }],
      },
    } as unknown as KubeObject;
    const errors = validateCrd(crd);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.field, 'spec.validation.openAPIV3Schema.properties[spec].properties[name].pattern');
    assert.match(errors[0]!.detail ?? '', /^must be a valid regular expression, but isn't: /);
  });

  it('lets an update keep what the schema has since come to refuse, but not change it, as validation ratcheting does', () => {
    const strict = new CustomResourceSchema({
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            name: { type: 'string', pattern: '^[a-z]+$' },
            n: { type: 'integer' },
            tags: { type: 'array', items: { type: 'string', maxLength: 3 } },
            ports: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', properties: { name: { type: 'string' }, port: { type: 'integer', maximum: 100 } } } },
          },
        },
      },
    } as unknown as Schema);
    const stored = thing({ name: 'UPPER', n: 1, tags: ['toolong'], ports: [{ name: 'a', port: 500 }] });
    const update = (spec: Record<string, unknown>) => strict.validate(thing(spec), stored).map(formatFieldError);
    assert.deepEqual(update({ name: 'UPPER', n: 2, tags: ['toolong'], ports: [{ name: 'b', port: 1 }, { name: 'a', port: 500 }] }), [], 'unchanged values, a list reordered and grown');
    assert.deepEqual(update({ name: 'OTHER', n: 1, tags: ['toolong', 'x'], ports: [{ name: 'a', port: 501 }] }), [
      'spec.name: Invalid value: "OTHER": spec.name in body should match \'^[a-z]+$\'',
      'spec.tags[0]: Too long: may not be more than 3 bytes',
      'spec.ports[0].port: Invalid value: 501: spec.ports[0].port in body should be less than or equal to 100',
    ]);
    assert.equal(strict.validate(thing({ name: 'UPPER' })).length, 1, 'a create answers for everything');
  });

  it('checks an embedded resource as an object of its own: apiVersion, kind and metadata', () => {
    const embedded = new CustomResourceSchema({
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            template: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
          },
        },
      },
    } as unknown as Schema);
    const errors = (template: unknown) => {
      const obj = thing({ template });
      embedded.prune(obj);
      return { errors: embedded.validate(obj).map(formatFieldError), template: (obj.spec as { template: unknown }).template };
    };
    const ok = errors({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { app: 'x' } }, spec: { containers: [] } });
    assert.deepEqual(ok.errors, []);
    assert.deepEqual(ok.template, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { app: 'x' } }, spec: { containers: [] } }, 'apiVersion, kind and metadata are kept though the schema does not list them');
    assert.deepEqual(errors({ spec: {} }).errors, ['spec.template.apiVersion: Required value', 'spec.template.kind: Required value']);
    assert.deepEqual(errors({ apiVersion: 'a/b/c', kind: 'Bad_Kind', metadata: { name: 'x/y', labels: { 'bad key!': 'v' } } }).errors, [
      'spec.template.apiVersion: Invalid value: "a/b/c": unexpected GroupVersion string: a/b/c',
      'spec.template.kind: Invalid value: "Bad_Kind": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or \'-\', start with an alphabetic character, and end with an alphanumeric character (e.g. \'my-name\',  or \'abc-123\', regex used for validation is \'[a-z]([-a-z0-9]*[a-z0-9])?\')',
      "spec.template.metadata.name: Invalid value: \"x/y\": may not contain '/'",
      'spec.template.metadata.labels: Invalid value: "bad key!": name part must consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character (e.g. \'MyName\',  or \'my.name\',  or \'123-abc\', regex used for validation is \'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\')',
    ]);
  });

  it('takes a root that requires apiVersion, kind and metadata, which every custom resource has', () => {
    const s = new CustomResourceSchema({ type: 'object', required: ['apiVersion', 'kind', 'metadata', 'spec'], properties: { spec: { type: 'object' } } } as unknown as Schema);
    assert.deepEqual(s.validate(thing({})).map(formatFieldError), []);
    assert.deepEqual(s.validate({ apiVersion: 'y.io/v1', kind: 'Thing', metadata: { name: 't' } } as KubeObject).map(formatFieldError), ['spec: Required value']);
  });

  it('checks the string formats Kubernetes checks, as Go parses them, and ignores the others', () => {
    const s = new CustomResourceSchema({
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            cidr: { type: 'string', format: 'cidr' },
            ip: { type: 'string', format: 'ipv4' },
            ip6: { type: 'string', format: 'ipv6' },
            at: { type: 'string', format: 'date-time' },
            id: { type: 'string', format: 'uuid' },
            host: { type: 'string', format: 'hostname' },
            size: { type: 'string', format: 'quantity' },
            n: { type: 'integer', format: 'int32' },
          },
        },
      },
    } as unknown as Schema);
    const good = { cidr: '10.0.0.0/8', ip: '10.1.2.3', ip6: 'fd00::1', at: '2024-05-01T10:00:00Z', id: '0e4c2a0e-1f1a-4a6b-9c1d-2f3e4a5b6c7d', host: 'web.example.com', size: 'anything', n: 3 };
    assert.deepEqual(messages(s, thing(good)), []);
    assert.deepEqual(messages(s, thing({ ...good, cidr: 'not-a-cidr', ip: '999.1.1.1', ip6: '1.2.3.4', at: 'yesterday', id: 'xyz', host: '-bad-' })), [
      'spec.at: Invalid value: "string": spec.at in body must be of type date-time: "yesterday"',
      'spec.cidr: Invalid value: "string": spec.cidr in body must be of type cidr: "not-a-cidr"',
      'spec.host: Invalid value: "string": spec.host in body must be of type hostname: "-bad-"',
      'spec.id: Invalid value: "string": spec.id in body must be of type uuid: "xyz"',
      'spec.ip6: Invalid value: "string": spec.ip6 in body must be of type ipv6: "1.2.3.4"',
      'spec.ip: Invalid value: "string": spec.ip in body must be of type ipv4: "999.1.1.1"',
    ]);
  });

  it('holds each item of a set, and each key of a map list, once', () => {
    const lists = new CustomResourceSchema({
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
            items: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', properties: { name: { type: 'string' }, v: { type: 'integer' } } } },
          },
        },
      },
    } as unknown as Schema);
    assert.deepEqual(messages(lists, thing({ tags: ['p', 'q', 'p'], items: [{ name: 'a', v: 1 }, { name: 'a', v: 2 }, { v: 3 }] })), [
      'spec.items[1]: Duplicate value: {"name":"a"}',
      'spec.items[2].name: Required value',
      'spec.tags[2]: Duplicate value: "p"',
    ]);
    assert.deepEqual(messages(lists, thing({ tags: ['p', 'q'], items: [{ name: 'a' }, { name: 'b' }] })), []);
  });

  it('refuses a schema that is not structural, each problem named at its path as Kubernetes does', () => {
    const withSchema = (openAPIV3Schema: object) =>
      ({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'things.y.io' },
        spec: { group: 'y.io', scope: 'Namespaced', names: { plural: 'things', kind: 'Thing' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema } }] },
      }) as unknown as KubeObject;
    const messages = (schema: object) => validateCrd(withSchema(schema)).map(formatFieldError);
    const root = 'spec.validation.openAPIV3Schema';
    assert.deepEqual(messages({ properties: { spec: { type: 'object' } } }), [`${root}.type: Required value: must not be empty at the root`]);
    assert.deepEqual(
      messages({
        type: 'object',
        properties: {
          metadata: { type: 'object', properties: { labels: { type: 'object' } } },
          spec: {
            type: 'object',
            additionalProperties: { type: 'string' },
            properties: { list: { type: 'array' }, tags: { type: 'array', items: { type: 'string' }, uniqueItems: true }, free: {}, port: { 'x-kubernetes-int-or-string': true } },
          },
        },
      }),
      [
        `${root}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified`,
        `${root}.properties[spec].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`,
        `${root}.properties[spec].properties[free].type: Required value: must not be empty for specified object fields`,
        `${root}.properties[spec].properties[list].items: Required value: must be specified`,
        `${root}.properties[spec].properties[tags].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic`,
      ],
    );
    // A default its own schema refuses would refuse every object left without the field.
    assert.deepEqual(messages({ type: 'object', properties: { spec: { type: 'object', properties: { color: { type: 'string', default: 5 }, size: { type: 'integer', minimum: 1, default: 3 } } } } }), [
      `${root}.properties[spec].properties[color].default: Invalid value: "integer":  in body must be of type string: "integer"`,
    ]);
    // An update that leaves a stored schema as it was is not checked again.
    const stored = withSchema({ properties: { spec: { type: 'object' } } });
    assert.deepEqual(validateCrd(stored, stored), []);
  });
});
