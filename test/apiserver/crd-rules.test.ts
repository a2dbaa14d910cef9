// CRD validation rules (x-kubernetes-validations, CEL) as kube-apiserver
// runs them: where each rule sees `self`, what a failed rule says, when a
// transition rule runs, and what is refused when the CRD itself is written.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFieldError } from '../../src/api/errors.js';
import type { KubeObject } from '../../src/api/object.js';
import type { Schema } from '../../src/api/schema/types.js';
import { CustomResourceSchema, validateCrd } from '../../src/apiserver/crd.js';

const thing = (spec: unknown, name = 'one'): KubeObject => ({ apiVersion: 'y.io/v1', kind: 'Thing', metadata: { name, namespace: 'default' }, spec }) as KubeObject;
const schemaOf = (spec: object, root: object = {}) => new CustomResourceSchema({ type: 'object', properties: { spec: { type: 'object', ...spec } }, ...root } as unknown as Schema);
const messages = (s: CustomResourceSchema, obj: KubeObject, old?: KubeObject) => s.validate(obj, old).map(formatFieldError);

const crdWith = (...schemas: object[]) =>
  ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'things.y.io' },
    spec: { group: 'y.io', scope: 'Namespaced', names: { plural: 'things', kind: 'Thing' }, versions: schemas.map((openAPIV3Schema, i) => ({ name: `v${i + 1}`, served: true, storage: i === 0, schema: { openAPIV3Schema } })) },
  }) as unknown as KubeObject;
const crdMessages = (...schemas: object[]) => validateCrd(crdWith(...schemas)).map(formatFieldError);
const specRules = (properties: object, rules: object[]) => ({ type: 'object', properties: { spec: { type: 'object', properties, 'x-kubernetes-validations': rules } } });

describe('CRD validation rules', () => {
  const replicas = schemaOf({
    properties: { minReplicas: { type: 'integer' }, maxReplicas: { type: 'integer' } },
    'x-kubernetes-validations': [
      { rule: 'self.minReplicas <= self.maxReplicas', message: 'minReplicas must not exceed maxReplicas' },
      { rule: '!has(self.maxReplicas) || self.maxReplicas < 100' },
    ],
  });

  it('refuses what a rule is false for, with its message or "failed rule", at the rule\'s place', () => {
    assert.deepEqual(messages(replicas, thing({ minReplicas: 1, maxReplicas: 3 })), []);
    assert.deepEqual(messages(replicas, thing({ minReplicas: 500, maxReplicas: 300 })), [
      'spec: Invalid value: "object": minReplicas must not exceed maxReplicas',
      'spec: Invalid value: "object": failed rule: !has(self.maxReplicas) || self.maxReplicas < 100',
    ]);
  });

  it('names a rule at the root <nil>, and lets it see apiVersion, kind and metadata.name', () => {
    const s = schemaOf({ properties: { n: { type: 'integer' } } }, { 'x-kubernetes-validations': [{ rule: "self.metadata.name.startsWith('ok-') && self.kind == 'Thing'", messageExpression: "'name ' + self.metadata.name + ' must start with ok-'" }] });
    assert.deepEqual(messages(s, thing({ n: 1 }, 'ok-1')), []);
    assert.deepEqual(messages(s, thing({ n: 1 }, 'bad')), ['<nil>: Invalid value: "object": name bad must start with ok-']);
  });

  it('runs a rule on each item of a list and each value of a map, with the reason and fieldPath asked for', () => {
    const s = schemaOf({
      properties: {
        ports: { type: 'array', items: { type: 'object', properties: { port: { type: 'integer' } }, 'x-kubernetes-validations': [{ rule: 'self.port > 0', fieldPath: '.port', reason: 'FieldValueForbidden', message: 'port must be positive' }] } },
        limits: { type: 'object', additionalProperties: { type: 'string', 'x-kubernetes-validations': [{ rule: "self.endsWith('Gi')", reason: 'FieldValueRequired' }] } },
        names: { type: 'array', items: { type: 'string' }, 'x-kubernetes-validations': [{ rule: 'self.all(n, n.size() < 5)', reason: 'FieldValueDuplicate' }] },
      },
    });
    assert.deepEqual(messages(s, thing({ ports: [{ port: 80 }, { port: 0 }], limits: { memory: '1Gi', disk: '10G' }, names: ['a', 'toolong'] })), [
      'spec.ports[1].port: Forbidden: port must be positive',
      "spec.limits[disk]: Required value: failed rule: self.endsWith('Gi')",
      'spec.names: Duplicate value: "array"',
    ]);
  });

  it('sees ints, doubles, int-or-strings, durations, timestamps and escaped property names as Kubernetes types them', () => {
    const s = schemaOf({
      properties: {
        count: { type: 'integer' },
        ratio: { type: 'number' },
        surge: { 'x-kubernetes-int-or-string': true },
        timeout: { type: 'string', format: 'duration' },
        start: { type: 'string', format: 'date-time' },
        'max-size': { type: 'integer' },
        namespace: { type: 'string' },
      },
      'x-kubernetes-validations': [
        { rule: 'self.count * 2 > 3 && self.ratio < 0.5', message: 'numbers' },
        { rule: "type(self.surge) == int ? self.surge < 5 : self.surge.endsWith('%')", message: 'surge' },
        { rule: "self.timeout < duration('1h') && self.start > timestamp('2020-01-01T00:00:00Z')", message: 'times' },
        { rule: "self.max__dash__size <= 10 && self.__namespace__ != 'kube-system'", message: 'escaped' },
      ],
    });
    assert.deepEqual(messages(s, thing({ count: 2, ratio: 0.25, surge: '25%', timeout: '1m30s', start: '2024-05-01T10:00:00Z', 'max-size': 3, namespace: 'a' })), []);
    assert.deepEqual(messages(s, thing({ count: 1, ratio: 0.25, surge: 7, timeout: '2h', start: '2024-05-01T10:00:00Z', 'max-size': 30, namespace: 'kube-system' })).map((m) => m.split(': ').pop()), ['numbers', 'surge', 'times', 'escaped']);
  });

  it('reads the patterns of matches as Go regular expressions, in either form of the call', () => {
    const s = schemaOf({
      properties: { name: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } },
      'x-kubernetes-validations': [
        { rule: "self.name.matches('(?i)^web-[[:digit:]]+$')", message: 'method form' },
        { rule: "self.tags.all(t, matches(t, r'\\A[a-z]+\\z'))", message: 'global form' },
      ],
    });
    assert.deepEqual(messages(s, thing({ name: 'WEB-12', tags: ['a', 'bc'] })), []);
    assert.deepEqual(messages(s, thing({ name: 'web-x', tags: ['a', 'B1'] })).map((m) => m.split(': ').pop()), ['method form', 'global form']);
  });

  it('takes has() of a field of any expression, as cel-go does', () => {
    const s = schemaOf({
      properties: {
        rules: { type: 'array', maxItems: 16, items: { type: 'object', properties: { matches: { type: 'array', maxItems: 8, items: { type: 'string' } } } } },
        byName: { type: 'object', additionalProperties: { type: 'object', properties: { port: { type: 'integer' } } } },
      },
      'x-kubernetes-validations': [
        { rule: '(self.rules.size() > 0 ? (has(self.rules[0].matches) ? self.rules[0].matches.size() : 0) : 0) <= 2', message: 'at most 2 matches' },
        { rule: "!('web' in self.byName) || has(self.byName['web'].port)", message: 'web needs a port' },
      ],
    });
    assert.deepEqual(messages(s, thing({ rules: [{ matches: ['a', 'b'] }], byName: { web: { port: 80 } } })), []);
    assert.deepEqual(messages(s, thing({ rules: [{}], byName: {} })), []);
    assert.deepEqual(messages(s, thing({ rules: [{ matches: ['a', 'b', 'c'] }], byName: { web: {} } })).map((m) => m.split(': ').pop()), ['at most 2 matches', 'web needs a port']);
    const [refused] = crdMessages(specRules({ rules: { type: 'array', maxItems: 4, items: { type: 'object', properties: { a: { type: 'string' } } } } }, [{ rule: 'self.rules.size() == 0 || has(self.rules[0].nope)' }]));
    assert.match(refused!, /compilation failed: ERROR: <input>:1:30: undefined field 'nope'/);
  });

  it('treats a null field as absent', () => {
    const s = schemaOf({ properties: { name: { type: 'string', nullable: true } }, 'x-kubernetes-validations': [{ rule: '!has(self.name)', message: 'name must not be set' }] });
    assert.deepEqual(messages(s, thing({ name: null })), []);
    assert.deepEqual(messages(s, thing({ name: 'x' })), ['spec: Invalid value: "object": name must not be set']);
  });

  it('reports a rule that fails as it runs, in cel-go\'s words', () => {
    const s = schemaOf({ properties: { m: { type: 'object', additionalProperties: { type: 'integer' } } }, 'x-kubernetes-validations': [{ rule: "self.m['want'] > 0" }] });
    assert.deepEqual(messages(s, thing({ m: { other: 1 } })), ['spec: Invalid value: "object": no such key: want evaluating rule: self.m[\'want\'] > 0']);
  });

  it('leaves rules unrun, and says so, while the object has values of the wrong type', () => {
    assert.deepEqual(messages(replicas, thing({ minReplicas: 'five', maxReplicas: 3 })), [
      'spec.minReplicas: Invalid value: "string": spec.minReplicas in body must be of type integer: "string"',
      '<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    ]);
  });

  it('runs a transition rule only on update, against the stored value at the same place', () => {
    const s = schemaOf({ properties: { size: { type: 'integer' } }, 'x-kubernetes-validations': [{ rule: 'self.size >= oldSelf.size', message: 'size may not shrink' }] });
    assert.deepEqual(messages(s, thing({ size: 1 })), [], 'a create has no oldSelf');
    assert.deepEqual(messages(s, thing({ size: 5 }), thing({ size: 3 })), []);
    assert.deepEqual(messages(s, thing({ size: 2 }), thing({ size: 3 })), ['spec: Invalid value: "object": size may not shrink']);
  });

  it('compares objects, and lists and maps of them, field by field, as immutability rules (self == oldSelf) need', () => {
    const item = { type: 'object', properties: { name: { type: 'string' }, n: { type: 'integer' } } };
    const s = schemaOf({
      properties: { ref: item, items: { type: 'array', items: item }, byName: { type: 'object', additionalProperties: item }, k: { type: 'integer' } },
      'x-kubernetes-validations': [
        { rule: 'self.ref == oldSelf.ref', message: 'ref is immutable' },
        { rule: 'self.items == oldSelf.items && self.byName == oldSelf.byName', message: 'items are immutable' },
        { rule: 'oldSelf.items.all(x, x in self.items)', message: 'items may not be removed' },
      ],
    });
    const stored = thing({ ref: { name: 'a', n: 1 }, items: [{ name: 'a', n: 1 }], byName: { a: { name: 'a', n: 1 } }, k: 1 });
    assert.deepEqual(messages(s, thing({ ref: { name: 'a', n: 1 }, items: [{ name: 'a', n: 1 }], byName: { a: { name: 'a', n: 1 } }, k: 2 }), stored), []);
    assert.deepEqual(messages(s, thing({ ref: { name: 'a', n: 2 }, items: [{ name: 'a', n: 2 }], byName: { a: { name: 'a', n: 1 } }, k: 2 }), stored).map((m) => m.split(': ').pop()), [
      'ref is immutable',
      'items are immutable',
      'items may not be removed',
    ]);
  });

  it('compares set lists without regard to order, as Kubernetes does, and still joins and indexes them', () => {
    const s = schemaOf({
      properties: { tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } }, n: { type: 'integer' } },
      'x-kubernetes-validations': [
        { rule: 'self.tags == oldSelf.tags', message: 'tags are immutable' },
        { rule: "self.tags.join(',').size() > 0 && self.tags[0] != '' && 'a' in self.tags", messageExpression: "'tags ' + self.tags.join(',') + ' need a'" },
      ],
    });
    assert.deepEqual(messages(s, thing({ tags: ['b', 'a'], n: 2 }), thing({ tags: ['a', 'b'], n: 1 })), [], 'reordered');
    assert.deepEqual(messages(s, thing({ tags: ['c', 'b'], n: 2 }), thing({ tags: ['a', 'b'], n: 1 })).map((m) => m.split(': ').pop()), ['tags are immutable', 'tags c,b need a']);
  });

  it('gives a rule with optionalOldSelf an optional, empty on create', () => {
    const s = schemaOf({ properties: { mode: { type: 'string' } }, 'x-kubernetes-validations': [{ rule: "oldSelf.hasValue() ? oldSelf.value().mode == self.mode : self.mode == 'new'", optionalOldSelf: true, message: 'mode starts as new and stays' }] });
    assert.deepEqual(messages(s, thing({ mode: 'new' })), []);
    assert.deepEqual(messages(s, thing({ mode: 'old' })), ['spec: Invalid value: "object": mode starts as new and stays']);
    assert.deepEqual(messages(s, thing({ mode: 'old' }), thing({ mode: 'old' })), []);
    assert.deepEqual(messages(s, thing({ mode: 'other' }), thing({ mode: 'old' })), ['spec: Invalid value: "object": mode starts as new and stays']);
  });

  it('pairs the items of a map list with the stored ones by their keys', () => {
    const s = schemaOf({
      properties: {
        volumes: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, size: { type: 'integer' } }, 'x-kubernetes-validations': [{ rule: 'self.size == oldSelf.size', message: 'size is immutable' }] },
        },
      },
    });
    const old = thing({ volumes: [{ name: 'a', size: 1 }, { name: 'b', size: 2 }] });
    assert.deepEqual(messages(s, thing({ volumes: [{ name: 'b', size: 2 }, { name: 'a', size: 1 }, { name: 'c', size: 9 }] }), old), [], 'reordered items and a new one');
    assert.deepEqual(messages(s, thing({ volumes: [{ name: 'b', size: 3 }] }), old), ['spec.volumes[0]: Invalid value: "object": size is immutable']);
  });

  it('lets an update keep a value a rule refuses, as validation ratcheting does, but not change it to another', () => {
    const s = schemaOf({ properties: { name: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self.size() <= 3', message: 'too long' }] }, n: { type: 'integer' } } });
    const warnings: string[] = [];
    assert.deepEqual(s.validate(thing({ name: 'abcdef', n: 2 }), thing({ name: 'abcdef', n: 1 }), (w) => warnings.push(w)), []);
    assert.deepEqual(warnings, ['spec.name: Invalid value: "string": too long'], 'the error let through comes back as a warning');
    assert.deepEqual(messages(s, thing({ name: 'abcdefg', n: 1 }), thing({ name: 'abcdef', n: 1 })), ['spec.name: Invalid value: "string": too long']);
    // Items of an atomic list pair with nothing: the list as a whole, unchanged, lets its items through.
    const tags = schemaOf({ properties: { tags: { type: 'array', items: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self.size() <= 3', message: 'tag too long' }] } }, n: { type: 'integer' } } });
    assert.deepEqual(messages(tags, thing({ tags: ['abcd'], n: 2 }), thing({ tags: ['abcd'], n: 1 })), []);
    assert.deepEqual(messages(tags, thing({ tags: ['abcd', 'x'], n: 1 }), thing({ tags: ['abcd'], n: 1 })), ['spec.tags[0]: Invalid value: "string": tag too long']);
  });
});

describe('CRD validation rules, when the CRD is written', () => {
  it('refuses a rule that does not compile, as kube-apiserver words it', () => {
    const got = crdMessages(specRules({ type: { type: 'string' } }, [{ rule: "self.type != 'secret' || has(self.namespace)", message: 'namespace is required' }]));
    assert.deepEqual(got, [
      'spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{Rule:"self.type != \'secret\' || has(self.namespace)", Message:"namespace is required", MessageExpression:"", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", OptionalOldSelf:(*bool)(nil)}: compilation failed: ERROR: <input>:1:29: undefined field \'namespace\'\n | self.type != \'secret\' || has(self.namespace)\n | ............................^',
    ]);
    assert.match(crdMessages(specRules({ n: { type: 'integer' } }, [{ rule: 'self.m > 1' }]))[0]!, /compilation failed: ERROR: <input>:1:5: undefined field 'm'\n \| self\.m > 1\n \| \.\.\.\.\^$/);
    assert.match(crdMessages(specRules({ n: { type: 'integer' } }, [{ rule: "self.n + 'a' > 1" }]))[0]!, /found no matching overload for '_\+_' applied to '\(int, string\)'/);
  });

  it('refuses a rule that is not a bool, a messageExpression that is not a string, and fields Kubernetes does not take', () => {
    const got = crdMessages(
      specRules({ n: { type: 'integer' }, m: { type: 'object', additionalProperties: { type: 'string' } } }, [
        { rule: 'self.n' },
        { rule: 'self.n > 0', messageExpression: 'self.n' },
        { rule: 'self.n > 0', reason: 'FieldValueBogus' },
        { rule: 'self.n > 0', fieldPath: '.nope' },
        { rule: 'self.n > 0', fieldPath: ".m['any.key']" },
        { rule: 'self.n > 0', optionalOldSelf: true },
        { rule: 'self.n\n> 0' },
        { rule: '   ' },
      ]),
    ).map((m) => m.replace(/apiextensions\.ValidationRule\{.*?\}: /, 'RULE: '));
    const at = (i: number) => `spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[${i}]`;
    assert.deepEqual(got, [
      `${at(0)}.rule: Invalid value: RULE: cel expression must evaluate to a bool`,
      `${at(1)}.messageExpression: Invalid value: RULE: must evaluate to a string`,
      `${at(2)}.reason: Unsupported value: "FieldValueBogus": supported values: "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"`,
      `${at(3)}.fieldPath: Invalid value: ".nope": must be a valid path`,
      `${at(5)}.optionalOldSelf: Invalid value: true: may not be set if oldSelf is not used in rule`,
      `${at(6)}.message: Required value: message must be specified if rule contains line breaks`,
      `${at(7)}.rule: Required value: rule is not specified`,
    ]);
  });

  it('refuses a literal pattern that is no regular expression', () => {
    const [got] = crdMessages(specRules({ name: { type: 'string' } }, [{ rule: "self.name.matches('^(a')" }]));
    assert.match(got!, /x-kubernetes-validations\[0\]\.rule: Invalid value: apiextensions\.ValidationRule\{.*\}: program instantiation failed: error parsing regexp: /);
  });

  it('refuses oldSelf where items cannot be paired with stored ones', () => {
    const got = crdMessages(specRules({ tags: { type: 'array', items: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf' }] } } }, []));
    assert.deepEqual(got, ['spec.validation.openAPIV3Schema.properties[spec].properties[tags].items.x-kubernetes-validations[0].rule: Invalid value: "self == oldSelf": oldSelf cannot be used on the uncorrelatable portion of the schema within spec.validation.openAPIV3Schema.properties[spec].properties[tags]']);
  });

  it('refuses comprehensions nested over lists too long to bound, and takes them once maxItems bounds them', () => {
    const nested = (maxItems?: number) => specRules({ a: { type: 'array', items: { type: 'string' }, ...(maxItems ? { maxItems } : {}) } }, [{ rule: 'self.a.all(x, self.a.exists(y, x == y))' }]);
    const [refused] = crdMessages(nested());
    assert.match(refused!, /^spec\.validation\.openAPIV3Schema\.properties\[spec\]\.x-kubernetes-validations\[0\]\.rule: Forbidden: estimated rule cost exceeds budget by factor of more than 100x \(try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared\)$/);
    assert.deepEqual(crdMessages(nested(100)), []);
    assert.deepEqual(crdMessages(specRules({ a: { type: 'array', items: { type: 'string' } } }, [{ rule: 'self.a.all(x, x.size() < 5)' }])), [], 'one comprehension over a long list is within budget');
  });

  it('names the schema of each version when the versions differ', () => {
    const good = specRules({ n: { type: 'integer' } }, [{ rule: 'self.n > 0' }]);
    const bad = specRules({ n: { type: 'integer' } }, [{ rule: 'self.x > 0' }]);
    assert.deepEqual(crdMessages(good, good), []);
    const got = crdMessages(good, bad);
    assert.equal(got.length, 1);
    assert.match(got[0]!, /^spec\.versions\[1\]\.schema\.openAPIV3Schema\.properties\[spec\]\.x-kubernetes-validations\[0\]\.rule: /);
  });
});
