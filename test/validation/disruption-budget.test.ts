import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/object.js';
import { invalidMessage } from './kubectl-messages.js';

const gvk = { group: 'policy', version: 'v1', kind: 'PodDisruptionBudget' };

function pdb(spec: Record<string, unknown>, name = 'pdb'): KubeObject {
  return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name, namespace: 'default', resourceVersion: '1' }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec } };
}

test('a budget of a count or a percentage of at most 100% passes', () => {
  for (const spec of [{ minAvailable: 2 }, { minAvailable: '100%' }, { maxUnavailable: 0 }, { maxUnavailable: '25%' }, {}]) assert.equal(invalidMessage(gvk, pdb(spec)), undefined, JSON.stringify(spec));
});

test('minAvailable and maxUnavailable may not be over 100%', () => {
  assert.equal(invalidMessage(gvk, pdb({ minAvailable: '150%' })), 'PodDisruptionBudget.policy "pdb" is invalid: spec.minAvailable: Invalid value: "150%": must not be greater than 100%');
  assert.equal(invalidMessage(gvk, pdb({ maxUnavailable: '101%' })), 'PodDisruptionBudget.policy "pdb" is invalid: spec.maxUnavailable: Invalid value: "101%": must not be greater than 100%');
});

test('minAvailable and maxUnavailable may not be negative, or percentages of another form', () => {
  assert.equal(invalidMessage(gvk, pdb({ minAvailable: -1 })), 'PodDisruptionBudget.policy "pdb" is invalid: spec.minAvailable: Invalid value: -1: must be greater than or equal to 0');
  assert.equal(invalidMessage(gvk, pdb({ maxUnavailable: -3 })), 'PodDisruptionBudget.policy "pdb" is invalid: spec.maxUnavailable: Invalid value: -3: must be greater than or equal to 0');
  assert.match(invalidMessage(gvk, pdb({ minAvailable: 'half' })) ?? '', /^PodDisruptionBudget.policy "pdb" is invalid: spec.minAvailable: Invalid value: "half": a valid percent string must be/);
});

test('minAvailable and maxUnavailable may not both be set', () => {
  assert.equal(
    invalidMessage(gvk, pdb({ minAvailable: 1, maxUnavailable: 1 })),
    'PodDisruptionBudget.policy "pdb" is invalid: spec: Invalid value: {"selector":{"matchLabels":{"app":"web"}},"minAvailable":1,"maxUnavailable":1}: minAvailable and maxUnavailable cannot be both set',
  );
});

test('the unhealthy pod eviction policy is one Kubernetes knows', () => {
  assert.equal(
    invalidMessage(gvk, pdb({ minAvailable: 1, unhealthyPodEvictionPolicy: 'Never' })),
    'PodDisruptionBudget.policy "pdb" is invalid: spec.unhealthyPodEvictionPolicy: Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"',
  );
});

test('names are path segments, checked once the spec is valid', () => {
  assert.equal(invalidMessage(gvk, pdb({ minAvailable: 1 }, 'Web_Budget')), undefined);
  assert.equal(invalidMessage(gvk, pdb({ minAvailable: 1 }, 'a%b')), 'PodDisruptionBudget.policy "a%b" is invalid: metadata.name: Invalid value: "a%b": may not contain \'%\'');
  assert.equal(invalidMessage(gvk, pdb({ minAvailable: -1 }, 'a%b')), 'PodDisruptionBudget.policy "a%b" is invalid: spec.minAvailable: Invalid value: -1: must be greater than or equal to 0');
});

test('an update is held to the same rules', () => {
  const old = pdb({ minAvailable: 1 });
  assert.equal(invalidMessage(gvk, pdb({ minAvailable: '200%' }), old), 'PodDisruptionBudget.policy "pdb" is invalid: spec.minAvailable: Invalid value: "200%": must not be greater than 100%');
  assert.equal(invalidMessage(gvk, pdb({ maxUnavailable: 1 }), old), undefined);
});
