import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BadRequestError } from '../../src/api/errors.js';
import { parseLabelSelector } from '../../src/api/labels/index.js';

function parseErrorOf(input: string): string {
  try {
    parseLabelSelector(input);
  } catch (e) {
    assert.ok(e instanceof BadRequestError, 'parse errors are 400 BadRequest');
    assert.equal(e.code, 400);
    return e.message;
  }
  assert.fail(`expected ${JSON.stringify(input)} to be rejected`);
}

test('every operator kubectl accepts selects the labels Kubernetes would', () => {
  const s = parseLabelSelector('app=web,tier!=db,env in (prod,staging),track notin (canary),release,!legacy');
  assert.equal(s.matches({ app: 'web', tier: 'front', env: 'prod', track: 'stable', release: 'v1' }), true);
  assert.equal(s.matches({ app: 'web', tier: 'db', env: 'prod', release: 'v1' }), false, 'tier!=db');
  assert.equal(s.matches({ app: 'web', env: 'dev', release: 'v1' }), false, 'env in (prod,staging)');
  assert.equal(s.matches({ app: 'web', env: 'prod', track: 'canary', release: 'v1' }), false, 'track notin (canary)');
  assert.equal(s.matches({ app: 'web', env: 'prod' }), false, 'release must exist');
  assert.equal(s.matches({ app: 'web', env: 'prod', release: 'v1', legacy: 'true' }), false, '!legacy');
});

test('!= and notin match objects that lack the label', () => {
  assert.equal(parseLabelSelector('tier!=db').matches({}), true);
  assert.equal(parseLabelSelector('tier notin (db)').matches({}), true);
  assert.equal(parseLabelSelector('tier in (db)').matches({}), false);
});

test('== is accepted and whitespace is ignored', () => {
  const s = parseLabelSelector('  app == web ,  env in ( a , b )  ');
  assert.equal(s.matches({ app: 'web', env: 'b' }), true);
  assert.equal(s.toString(), 'app==web,env in (a,b)');
});

test('the string form sorts requirements by key and values within sets', () => {
  assert.equal(parseLabelSelector('z=1,a in (c,b),!m,k').toString(), 'a in (b,c),k,!m,z=1');
});

test('an empty selector matches everything', () => {
  const s = parseLabelSelector('');
  assert.equal(s.empty(), true);
  assert.equal(s.matches({ anything: 'x' }), true);
});

test('empty values are allowed: a=, in (), in (,x)', () => {
  assert.equal(parseLabelSelector('a=').matches({ a: '' }), true);
  assert.equal(parseLabelSelector('a in ()').matches({ a: '' }), true);
  assert.equal(parseLabelSelector('a in (,x)').toString(), 'a in (,x)');
});

test('gt and lt compare integers', () => {
  assert.equal(parseLabelSelector('replicas>2').matches({ replicas: '3' }), true);
  assert.equal(parseLabelSelector('replicas<2').matches({ replicas: '3' }), false);
  assert.equal(parseLabelSelector('replicas>2').matches({ replicas: 'many' }), false);
});

test('the keywords in and notin are plain values after an operator', () => {
  assert.equal(parseLabelSelector('x in (in,notin)').matches({ x: 'notin' }), true);
});

test('a set operator without parentheses is rejected like kube-apiserver does', () => {
  assert.equal(parseErrorOf('env in prod'), "unable to parse requirement: found 'prod' expected: '('");
});

test('a missing operator after a key is rejected with the list of operators', () => {
  assert.equal(parseErrorOf('app web'), "unable to parse requirement: found 'web', expected: in, notin, =, ==, !=, gt, lt");
});

test('a dangling comma is rejected', () => {
  assert.equal(parseErrorOf('app=web,'), "found '', expected: identifier after ','");
});

test('two values without a comma are rejected', () => {
  assert.equal(parseErrorOf('app=web tier=db'), "found 'tier', expected: ',' or 'end of string'");
});

test('an unclosed set is rejected', () => {
  assert.equal(parseErrorOf('env in (a'), "unable to parse requirement: found '', expected: ',' or ')'");
});

test('a leading operator is rejected', () => {
  assert.equal(parseErrorOf('=web'), "found '=', expected: !, identifier, or 'end of string'");
});

test('an invalid key reports the qualified-name rule with a <nil> field, as Kubernetes prints it', () => {
  assert.equal(
    parseErrorOf('-app=web'),
    'unable to parse requirement: <nil>: Invalid value: "-app": name part must consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character (e.g. \'MyName\',  or \'my.name\',  or \'123-abc\', regex used for validation is \'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\')',
  );
});

test('an invalid value names the value index and key', () => {
  assert.equal(
    parseErrorOf('app=-web'),
    'unable to parse requirement: values[0][app]: Invalid value: "-web": a valid label must be an empty string or consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character (e.g. \'MyValue\',  or \'my_value\',  or \'12345\', regex used for validation is \'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\')',
  );
});

test('a non-integer bound for gt is rejected', () => {
  assert.equal(parseErrorOf('a>b'), 'unable to parse requirement: values[0]: Invalid value: "b": for \'Gt\', \'Lt\' operators, the value must be an integer');
});

test('requiresExactMatch reports the value an equality pins', () => {
  const s = parseLabelSelector('app=web,env in (prod),tier in (a,b)');
  assert.equal(s.requiresExactMatch('app'), 'web');
  assert.equal(s.requiresExactMatch('env'), 'prod');
  assert.equal(s.requiresExactMatch('tier'), undefined);
});
