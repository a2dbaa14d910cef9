import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/object.js';
import { invalidMessage } from './kubectl-messages.js';

const gvk = { group: '', version: 'v1', kind: 'ResourceQuota' };

function quota(spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q', namespace: 'default', resourceVersion: '1' }, spec };
}

test('a quota of standard and fully qualified resources with scopes that count them passes', () => {
  assert.equal(invalidMessage(gvk, quota({ hard: { pods: '10', 'requests.cpu': '2', 'limits.memory': '4Gi', 'requests.storage': '10Gi', 'count/deployments.apps': '5', 'requests.nvidia.com/gpu': '1' } })), undefined);
  assert.equal(invalidMessage(gvk, quota({ hard: { pods: '10', cpu: '1' }, scopes: ['NotTerminating', 'NotBestEffort'] })), undefined);
  assert.equal(invalidMessage(gvk, quota({ hard: { pods: '10' }, scopes: ['BestEffort'] })), undefined);
});

test('BestEffort and NotBestEffort, or Terminating and NotTerminating, conflict', () => {
  assert.equal(invalidMessage(gvk, quota({ hard: { pods: '10' }, scopes: ['BestEffort', 'NotBestEffort'] })), 'ResourceQuota "q" is invalid: spec.scopes: Invalid value: ["BestEffort","NotBestEffort"]: conflicting scopes');
  assert.equal(invalidMessage(gvk, quota({ hard: { pods: '10' }, scopes: ['Terminating', 'NotTerminating'] })), 'ResourceQuota "q" is invalid: spec.scopes: Invalid value: ["Terminating","NotTerminating"]: conflicting scopes');
});

test('a scope must count every standard resource the quota limits, and be one Kubernetes knows', () => {
  assert.equal(invalidMessage(gvk, quota({ hard: { pods: '10', cpu: '1' }, scopes: ['BestEffort'] })), 'ResourceQuota "q" is invalid: spec.scopes: Invalid value: ["BestEffort"]: unsupported scope applied to resource');
  assert.equal(invalidMessage(gvk, quota({ hard: { services: '3' }, scopes: ['NotTerminating'] })), 'ResourceQuota "q" is invalid: spec.scopes: Invalid value: ["NotTerminating"]: unsupported scope applied to resource');
  assert.equal(invalidMessage(gvk, quota({ hard: { pods: '10' }, scopes: ['Sometimes'] })), 'ResourceQuota "q" is invalid: spec.scopes: Invalid value: ["Sometimes"]: unsupported scope');
});

test('hard limits name standard quota resources or fully qualified ones', () => {
  assert.equal(
    invalidMessage(gvk, quota({ hard: { foo: '1' } })),
    'ResourceQuota "q" is invalid: [spec.hard[foo]: Invalid value: "foo": must be a standard resource type or fully qualified, spec.hard[foo]: Invalid value: "foo": must be a standard resource for quota]',
  );
  assert.equal(invalidMessage(gvk, quota({ hard: { storage: '10Gi' } })), 'ResourceQuota "q" is invalid: spec.hard[storage]: Invalid value: "storage": must be a standard resource for quota');
  assert.equal(invalidMessage(gvk, quota({ hard: { 'requests.hugepages-2Mi': '1Gi', 'hugepages-1Gi': '2Gi' } })), undefined);
});

test('hard quantities may not be negative, and counts are whole', () => {
  assert.equal(invalidMessage(gvk, quota({ hard: { pods: '-1' } })), 'ResourceQuota "q" is invalid: spec.hard[pods]: Invalid value: "-1": must be greater than or equal to 0');
  assert.equal(invalidMessage(gvk, quota({ hard: { 'requests.cpu': '-500m' } })), 'ResourceQuota "q" is invalid: spec.hard[requests.cpu]: Invalid value: "-500m": must be greater than or equal to 0');
  assert.equal(invalidMessage(gvk, quota({ hard: { pods: '1500m' } })), 'ResourceQuota "q" is invalid: spec.hard[pods]: Invalid value: "1500m": must be an integer');
});

test('a scope selector names known scopes with operators that fit them', () => {
  assert.equal(invalidMessage(gvk, quota({ hard: { pods: '10' }, scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['high'] }] } })), undefined);
  assert.equal(
    invalidMessage(gvk, quota({ hard: { pods: '10' }, scopeSelector: { matchExpressions: [{ scopeName: 'BestEffort', operator: 'In', values: ['x'] }] } })),
    "ResourceQuota \"q\" is invalid: spec.scopeSelector.matchExpressions.operator: Invalid value: \"In\": must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity",
  );
  assert.equal(
    invalidMessage(gvk, quota({ hard: { pods: '10' }, scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In' }] } })),
    "ResourceQuota \"q\" is invalid: spec.scopeSelector.matchExpressions.values: Required value: must be at least one value when `operator` is 'In' or 'NotIn' for scope selector",
  );
  assert.equal(
    invalidMessage(gvk, quota({ hard: { pods: '10' }, scopeSelector: { matchExpressions: [{ scopeName: 'BestEffort', operator: 'Exists' }, { scopeName: 'NotBestEffort', operator: 'Exists' }] } })),
    'ResourceQuota "q" is invalid: spec.scopeSelector.matchExpressions: Invalid value: null: conflicting scopes',
  );
});

test('scopes may not change', () => {
  const old = quota({ hard: { pods: '10' }, scopes: ['NotTerminating'] });
  assert.equal(invalidMessage(gvk, quota({ hard: { pods: '10' }, scopes: ['Terminating'] }), old), 'ResourceQuota "q" is invalid: spec.scopes: Invalid value: ["Terminating"]: field is immutable');
  assert.equal(invalidMessage(gvk, quota({ hard: { pods: '20' }, scopes: ['NotTerminating'] }), old), undefined);
});
