import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults } from '../../src/api/defaults/index.js';
import type { KubeObject } from '../../src/api/object.js';
import { container, gvks, invalidMessage } from './kubectl-messages.js';

function deployment(spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec };
}

const template = (labels: Record<string, string> = { app: 'web' }) => ({ metadata: { labels }, spec: { containers: [container()] } });

test('a deployment whose selector matches its template passes', () => {
  assert.equal(invalidMessage(gvks.deployment, deployment({ selector: { matchLabels: { app: 'web' } }, template: template() })), undefined);
});

test('a selector that does not match the template labels is rejected', () => {
  assert.equal(
    invalidMessage(gvks.deployment, deployment({ selector: { matchLabels: { app: 'api' } }, template: template() })),
    'Deployment.apps "web" is invalid: spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`',
  );
});

test('a deployment without a selector gets both errors apps/v1 reports', () => {
  assert.equal(
    invalidMessage(gvks.deployment, deployment({ template: template() })),
    'Deployment.apps "web" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`]',
  );
});

test('an empty selector is invalid', () => {
  assert.equal(
    invalidMessage(gvks.deployment, deployment({ selector: {}, template: template() })),
    'Deployment.apps "web" is invalid: spec.selector: Invalid value: {}: empty selector is invalid for deployment',
  );
});

test('negative replicas are rejected', () => {
  assert.equal(
    invalidMessage(gvks.deployment, deployment({ replicas: -1, selector: { matchLabels: { app: 'web' } }, template: template() })),
    'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
  );
});

test('a deployment template must restart always', () => {
  const t = template();
  (t.spec as Record<string, unknown>)['restartPolicy'] = 'Never';
  assert.equal(
    invalidMessage(gvks.deployment, deployment({ selector: { matchLabels: { app: 'web' } }, template: t })),
    'Deployment.apps "web" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
  );
});

test('rolling update parameters may not both be zero', () => {
  assert.equal(
    invalidMessage(gvks.deployment, deployment({ selector: { matchLabels: { app: 'web' } }, template: template(), strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } })),
    'Deployment.apps "web" is invalid: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0',
  );
});

test('template container errors are reported under spec.template.spec', () => {
  assert.equal(
    invalidMessage(gvks.deployment, deployment({ selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'Web', image: 'x' }] } } })),
    `Deployment.apps "web" is invalid: spec.template.spec.containers[0].name: Invalid value: "Web": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
  );
});

test('the selector of an existing deployment is immutable', () => {
  const old = deployment({ selector: { matchLabels: { app: 'web' } }, template: template() });
  old.metadata = { ...old.metadata, uid: 'u', resourceVersion: '3' };
  applyDefaults(gvks.deployment, old);
  const next = structuredClone(old);
  (next['spec'] as Record<string, unknown>)['selector'] = { matchLabels: { app: 'web', tier: 'x' } };
  ((next['spec'] as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels)['tier'] = 'x';
  assert.equal(
    invalidMessage(gvks.deployment, next, old),
    'Deployment.apps "web" is invalid: spec.selector: Invalid value: {"matchLabels":{"app":"web","tier":"x"}}: field is immutable',
  );
});

test('a replica set reuses the deployment wording for an empty selector', () => {
  const rs: KubeObject = { metadata: { name: 'rs', namespace: 'd' }, spec: { selector: {}, template: template() } };
  assert.equal(invalidMessage(gvks.replicaSet, rs), 'ReplicaSet.apps "rs" is invalid: spec.selector: Invalid value: {}: empty selector is invalid for deployment');
});

test('statefulset names must be DNS labels', () => {
  const sts = (name: string): KubeObject => ({
    metadata: { name, namespace: 'd' },
    spec: {
      serviceName: 'db',
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [container({ volumeMounts: [{ name: 'data', mountPath: '/data' }] })] } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  });
  assert.equal(invalidMessage(gvks.statefulSet, sts('db')), undefined);
  assert.equal(invalidMessage(gvks.statefulSet, sts('db.v1')), 'StatefulSet.apps "db.v1" is invalid: metadata.name: Invalid value: "db.v1": must not contain dots');
});

test('only some statefulset fields may change', () => {
  const old: KubeObject = {
    metadata: { name: 'db', namespace: 'd', uid: 'u', resourceVersion: '1' },
    spec: { serviceName: 'db', selector: { matchLabels: { app: 'web' } }, template: template() },
  };
  applyDefaults(gvks.statefulSet, old);
  const scaled = structuredClone(old);
  (scaled['spec'] as Record<string, unknown>)['replicas'] = 3;
  assert.equal(invalidMessage(gvks.statefulSet, scaled, old), undefined);
  const renamed = structuredClone(old);
  (renamed['spec'] as Record<string, unknown>)['serviceName'] = 'other';
  assert.equal(
    invalidMessage(gvks.statefulSet, renamed, old),
    "StatefulSet.apps \"db\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
  );
});

test('a daemonset with a mismatched selector is rejected', () => {
  const ds: KubeObject = { metadata: { name: 'agent', namespace: 'd' }, spec: { selector: { matchLabels: { app: 'agent' } }, template: template() } };
  assert.equal(invalidMessage(gvks.daemonSet, ds), 'DaemonSet.apps "agent" is invalid: spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`');
});

test('invalid selector expressions are reported at their index', () => {
  assert.equal(
    invalidMessage(gvks.deployment, deployment({ selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In' }] }, template: template() })),
    "Deployment.apps \"web\" is invalid: [spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn', spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"In\"}]}: invalid label selector]",
  );
});
