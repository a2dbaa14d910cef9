import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BadRequestError } from '../../src/api/errors.js';
import { formatLabelSelector, parseToLabelSelector, selectorFromLabelSelector } from '../../src/api/labels/index.js';

test('matchLabels and matchExpressions select like the equivalent string', () => {
  const s = selectorFromLabelSelector({
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'env', operator: 'In', values: ['prod', 'staging'] },
      { key: 'track', operator: 'NotIn', values: ['canary'] },
      { key: 'release', operator: 'Exists' },
      { key: 'legacy', operator: 'DoesNotExist' },
    ],
  });
  assert.equal(s.toString(), 'app=web,env in (prod,staging),!legacy,release,track notin (canary)');
  assert.equal(s.matches({ app: 'web', env: 'prod', release: '1' }), true);
  assert.equal(s.matches({ app: 'web', env: 'prod', release: '1', legacy: 'y' }), false);
});

test('a missing selector matches nothing and an empty one matches everything', () => {
  assert.equal(selectorFromLabelSelector(undefined).matches({}), false);
  assert.equal(selectorFromLabelSelector(null).empty(), false);
  assert.equal(selectorFromLabelSelector({}).matches({ a: 'b' }), true);
  assert.equal(selectorFromLabelSelector({}).empty(), true);
});

test('an unknown operator is rejected with Kubernetes message', () => {
  assert.throws(
    () => selectorFromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Equals', values: ['b'] }] }),
    (e: unknown) => e instanceof BadRequestError && e.message === '"Equals" is not a valid label selector operator',
  );
});

test('In without values is rejected', () => {
  assert.throws(
    () => selectorFromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }),
    (e: unknown) => e instanceof BadRequestError && e.message === "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty",
  );
});

test('formatLabelSelector prints <none> for an empty selector, as kubectl describe does', () => {
  assert.equal(formatLabelSelector({}), '<none>');
  assert.equal(formatLabelSelector({ matchLabels: { b: '2', a: '1' } }), 'a=1,b=2');
  assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Bad' }] }), '<error>');
});

test('parseToLabelSelector turns equalities into matchLabels and sets into expressions', () => {
  assert.deepEqual(parseToLabelSelector('app=web,env in (b,a),!x'), {
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'env', operator: 'In', values: ['a', 'b'] },
      { key: 'x', operator: 'DoesNotExist', values: [] },
    ],
  });
  assert.throws(() => parseToLabelSelector('a!=b'), (e: unknown) => e instanceof BadRequestError && e.message === '"!=" is not a valid label selector operator');
});
