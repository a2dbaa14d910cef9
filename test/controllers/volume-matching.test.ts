// Which volume a claim binds to, and what the local-path provisioner makes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultClass, localPathStorageClass, provisionedVolume, type StorageClass } from '../../src/controllers/volume/local-path.js';
import { findBestMatch, nodeMatchesTerms, volumeMismatch, type PersistentVolume, type PersistentVolumeClaim } from '../../src/controllers/volume/matching.js';

function pv(name: string, storage: string, o: { class?: string; modes?: string[]; phase?: string; labels?: Record<string, string>; claimRef?: Record<string, string>; node?: string; mode?: string; deleting?: boolean } = {}): PersistentVolume {
  return {
    metadata: { name, labels: o.labels ?? {}, ...(o.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
    spec: {
      capacity: { storage },
      accessModes: o.modes ?? ['ReadWriteOnce'],
      storageClassName: o.class ?? 'manual',
      claimRef: o.claimRef,
      volumeMode: o.mode ?? 'Filesystem',
      ...(o.node ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [o.node] }] }] } } } : {}),
    },
    status: { phase: o.phase ?? 'Available' },
  } as PersistentVolume;
}

function pvc(storage: string, o: { class?: string | null; modes?: string[]; selector?: Record<string, unknown>; mode?: string } = {}): PersistentVolumeClaim {
  return {
    metadata: { name: 'data', namespace: 'ns', uid: 'claim-uid', resourceVersion: '7' },
    spec: {
      accessModes: o.modes ?? ['ReadWriteOnce'],
      resources: { requests: { storage } },
      storageClassName: o.class === null ? undefined : (o.class ?? 'manual'),
      selector: o.selector as { matchLabels?: Record<string, string> } | undefined,
      volumeMode: o.mode ?? 'Filesystem',
    },
  } as PersistentVolumeClaim;
}

const name = (v: PersistentVolume | undefined) => v?.metadata.name;

describe('matching a claim to a volume', () => {
  it('takes the smallest volume that is big enough', () => {
    const volumes = [pv('big', '10Gi'), pv('small', '1Gi'), pv('mid', '3Gi'), pv('exact', '2Gi')];
    assert.equal(name(findBestMatch(pvc('2Gi'), volumes, { delayBinding: false })), 'exact');
    assert.equal(name(findBestMatch(pvc('2.5Gi'), volumes, { delayBinding: false })), 'mid');
    assert.equal(findBestMatch(pvc('20Gi'), volumes, { delayBinding: false }), undefined);
  });

  it('requires the same class and volume mode, every access mode, and prefers fewer modes', () => {
    assert.equal(findBestMatch(pvc('1Gi', { class: 'fast' }), [pv('a', '1Gi')], { delayBinding: false }), undefined);
    assert.equal(name(findBestMatch(pvc('1Gi', { class: null }), [pv('a', '1Gi'), pv('b', '1Gi', { class: '' })], { delayBinding: false })), 'b');
    assert.equal(findBestMatch(pvc('1Gi', { mode: 'Block' }), [pv('a', '1Gi')], { delayBinding: false }), undefined);
    const volumes = [pv('rwx', '1Gi', { modes: ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany'] }), pv('rwo', '5Gi'), pv('rox', '1Gi', { modes: ['ReadOnlyMany'] })];
    assert.equal(name(findBestMatch(pvc('1Gi'), volumes, { delayBinding: false })), 'rwo', 'fewer access modes before smaller capacity');
    assert.equal(name(findBestMatch(pvc('1Gi', { modes: ['ReadWriteMany'] }), volumes, { delayBinding: false })), 'rwx');
  });

  it('skips volumes that are bound, not Available, being deleted, or not selected by the claim', () => {
    const volumes = [
      pv('bound', '1Gi', { claimRef: { name: 'other', namespace: 'ns', uid: 'x' }, phase: 'Bound' }),
      pv('released', '1Gi', { phase: 'Released' }),
      pv('deleting', '1Gi', { deleting: true }),
      pv('plain', '1Gi'),
      pv('gold', '2Gi', { labels: { tier: 'gold' } }),
    ];
    assert.equal(name(findBestMatch(pvc('1Gi'), volumes, { delayBinding: false })), 'plain');
    assert.equal(name(findBestMatch(pvc('1Gi', { selector: { matchLabels: { tier: 'gold' } } }), volumes, { delayBinding: false })), 'gold');
  });

  it('takes a volume pre-bound to the claim whatever its phase', () => {
    const prebound = pv('mine', '1Gi', { claimRef: { name: 'data', namespace: 'ns' }, phase: 'Pending' });
    assert.equal(name(findBestMatch(pvc('1Gi'), [pv('a', '1Gi'), prebound], { delayBinding: false })), 'mine');
    const otherUid = pv('stale', '1Gi', { claimRef: { name: 'data', namespace: 'ns', uid: 'old-uid' }, phase: 'Released' });
    assert.equal(name(findBestMatch(pvc('1Gi'), [otherUid], { delayBinding: false })), undefined);
  });

  it('binds nothing but pre-bound volumes while waiting for the first consumer, then only volumes the chosen node can reach', () => {
    const volumes = [pv('on-a', '1Gi', { node: 'node-a' }), pv('on-b', '1Gi', { node: 'node-b' })];
    assert.equal(findBestMatch(pvc('1Gi'), volumes, { delayBinding: true }), undefined);
    assert.equal(name(findBestMatch(pvc('1Gi'), volumes, { delayBinding: true, node: { name: 'node-b', labels: { 'kubernetes.io/hostname': 'node-b' } } })), 'on-b');
  });

  it('says why a volume the claim names does not fit', () => {
    assert.equal(volumeMismatch(pv('a', '1Gi'), pvc('2Gi')), 'requested PV is too small');
    assert.equal(volumeMismatch(pv('a', '2Gi'), pvc('2Gi', { class: 'x' })), 'storageClassName does not match');
    assert.equal(volumeMismatch(pv('a', '2Gi'), pvc('2Gi', { mode: 'Block' })), 'incompatible volumeMode');
    assert.equal(volumeMismatch(pv('a', '2Gi'), pvc('2Gi', { modes: ['ReadWriteMany'] })), 'incompatible accessMode');
    assert.equal(volumeMismatch(pv('a', '2Gi'), pvc('2Gi')), undefined);
  });
});

describe('node selector terms', () => {
  const node = { name: 'n1', labels: { zone: 'a', cores: '8' } };
  it('OR their terms and AND their requirements', () => {
    assert.equal(nodeMatchesTerms([{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }, { key: 'cores', operator: 'Gt', values: ['4'] }] }], node), true);
    assert.equal(nodeMatchesTerms([{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }, { key: 'cores', operator: 'Lt', values: ['4'] }] }], node), false);
    assert.equal(nodeMatchesTerms([{ matchExpressions: [{ key: 'gpu', operator: 'Exists' }] }, { matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] }], node), true);
    assert.equal(nodeMatchesTerms([{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }], node), false);
    assert.equal(nodeMatchesTerms([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }], node), true);
    assert.equal(nodeMatchesTerms([{}], node), false, 'an empty term matches nothing');
  });
});

describe('the local-path provisioner', () => {
  const sc = localPathStorageClass();
  const claim = pvc('3Gi', { class: 'local-path', modes: ['ReadWriteOnce'] });

  it('is the default class, binding at first consumer and deleting volumes with their claims', () => {
    assert.equal(sc.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'], 'true');
    assert.equal(sc.provisioner, 'nami.dev/local-path');
    assert.equal(sc.volumeBindingMode, 'WaitForFirstConsumer');
    assert.equal(sc.reclaimPolicy, 'Delete');
    const older: StorageClass = { metadata: { name: 'older', creationTimestamp: '2024-01-01T00:00:00Z', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } };
    const newer: StorageClass = { metadata: { name: 'newer', creationTimestamp: '2024-02-01T00:00:00Z', annotations: { 'storageclass.beta.kubernetes.io/is-default-class': 'true' } } };
    const plain: StorageClass = { metadata: { name: 'plain', creationTimestamp: '2024-03-01T00:00:00Z' } };
    assert.equal(defaultClass([older, newer, plain])?.metadata.name, 'newer');
    assert.equal(defaultClass([plain]), undefined);
  });

  it('makes a local volume on the selected node', () => {
    const v = provisionedVolume(claim, sc, '/var/lib/nami/local-path/', { name: 'node-1', hostname: 'host-1' });
    assert.equal(v.metadata.name, 'pvc-claim-uid');
    assert.equal(v.metadata.annotations?.['pv.kubernetes.io/provisioned-by'], 'nami.dev/local-path');
    assert.deepEqual(v.spec?.local, { path: '/var/lib/nami/local-path/ns_data_pvc-claim-uid' });
    assert.deepEqual(v.spec?.nodeAffinity, { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['host-1'] }] }] } });
    assert.deepEqual(v.spec?.capacity, { storage: '3Gi' });
    assert.deepEqual(v.spec?.accessModes, ['ReadWriteOnce']);
    assert.equal(v.spec?.persistentVolumeReclaimPolicy, 'Delete');
    assert.equal(v.spec?.storageClassName, 'local-path');
    assert.deepEqual(v.spec?.claimRef, { kind: 'PersistentVolumeClaim', namespace: 'ns', name: 'data', uid: 'claim-uid', apiVersion: 'v1', resourceVersion: '7' });
    assert.equal(v.spec?.hostPath, undefined);
  });

  it('makes a hostPath volume without node affinity when no node was selected (Immediate binding)', () => {
    const v = provisionedVolume(claim, { ...sc, reclaimPolicy: 'Retain' }, '/data');
    assert.deepEqual(v.spec?.hostPath, { path: '/data/ns_data_pvc-claim-uid', type: 'DirectoryOrCreate' });
    assert.equal(v.spec?.nodeAffinity, undefined);
    assert.equal(v.spec?.persistentVolumeReclaimPolicy, 'Retain');
  });
});
