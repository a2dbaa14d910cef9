// storedJson writes what JSON.stringify writes, byte for byte, whatever the
// object shares with the one it replaces, and whatever odd members it has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { storedJson } from '../../src/apiserver/registry/stored-json.js';
import { cloneJson, deepFreeze } from '../../src/api/object.js';
import type { KubeObject } from '../../src/api/object.js';

function pod(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      labels: { app: 'web', '1': 'integer-like key', 'é\u2028"': 'needs escaping' },
      managedFields: [
        { manager: 'kubectl-create', operation: 'Update', apiVersion: 'v1', time: '2026-11-30T10:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } } } },
        { manager: 'kubectl-label', operation: 'Update', apiVersion: 'v1', time: '2026-11-30T10:01:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:tier': {} } } } },
      ],
    },
    spec: { containers: [{ name: 'main', image: 'busybox', command: ['sleep', '1'] }], priority: 0 },
    status: { phase: 'Pending' },
  };
}

/** An update of current as the store makes one: new top level and metadata, other parts shared or not. */
function update(current: KubeObject, change: (next: KubeObject) => void): KubeObject {
  const next: KubeObject = { ...current, metadata: { ...current.metadata, labels: { ...current.metadata.labels, touched: 'yes' } } };
  change(next);
  return next;
}

test('an update sharing spec, status and managedFields entries with the current object is written as JSON.stringify writes it', () => {
  const current = deepFreeze(pod('a'));
  const variants: Array<(next: KubeObject) => void> = [
    () => {},
    (n) => (n.spec = cloneJson(current.spec)),
    (n) => (n.status = { phase: 'Running' }),
    (n) => delete n.status,
    (n) => (n.status = undefined),
    (n) => (n.metadata.managedFields = [...current.metadata.managedFields!, { manager: 'x', operation: 'Update', fieldsV1: { 'f:spec': {} }, time: undefined }]),
    (n) => (n.metadata.managedFields = current.metadata.managedFields!.slice(1)),
    (n) => (n.metadata.managedFields = [null, 'odd', ...current.metadata.managedFields!] as never),
    (n) => (n.metadata.managedFields = [{ ...current.metadata.managedFields![0]!, fieldsV1: undefined }]),
    (n) => (n.metadata.managedFields = 'not a list' as never),
    (n) => ((n as Record<string, unknown>)['2'] = { integer: 'like' }),
    (n) => ((n as Record<string, unknown>).fn = () => 1),
    (n) => (n.metadata = 'not an object' as never),
    (n) => ((n.metadata as Record<string, unknown>)['an "odd"\u2028key\\'] = 1),
    (n) => (n.metadata.annotations = { note: undefined as unknown as string, kept: 'yes' }),
  ];
  for (const [i, change] of variants.entries()) {
    const next = update(current, change);
    // Twice: the second time with the shared parts' text known.
    assert.equal(storedJson(next, current), JSON.stringify(next), `variant ${i}`);
    assert.equal(storedJson(next, current), JSON.stringify(next), `variant ${i}, again`);
  }
});

test('a create, and an update from an unrelated object, are written as JSON.stringify writes them', () => {
  const created = pod('b');
  assert.equal(storedJson(created, undefined), JSON.stringify(created));
  // Frozen fieldsV1 (as alike creates share) are written from their known text.
  const frozen = deepFreeze(cloneJson(created.metadata.managedFields![0]!.fieldsV1!));
  const alike = pod('c');
  alike.metadata.managedFields![0]!.fieldsV1 = frozen;
  assert.equal(storedJson(alike, undefined), JSON.stringify(alike));
  assert.equal(storedJson(alike, undefined), JSON.stringify(alike));
  // Equal but not the same parts are written afresh.
  const other = pod('d');
  assert.equal(storedJson(other, created), JSON.stringify(other));
  assert.equal(storedJson({ apiVersion: 'v1', kind: 'Pod', metadata: {} }, created), '{"apiVersion":"v1","kind":"Pod","metadata":{}}');
});
