// The persistent volume controller against a real API server: binding,
// release, the default StorageClass and the local-path provisioner.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeList, KubeObject } from '../../src/api/object.js';
import { VolumeController } from '../../src/controllers/volume/index.js';
import { core, createNamespace, getOrUndefined, startControllerEnv, testLog, waitFor, type ControllerEnv } from './core-controllers-env.js';

const ns = 'volume-test';
const storageClasses = (name?: string) => ({ group: 'storage.k8s.io', version: 'v1', plural: 'storageclasses', name });
const baseDir = '/srv/nami-test-volumes';

let env: ControllerEnv;
let controller: VolumeController;

type PV = KubeObject & { spec: Record<string, any>; status?: { phase?: string; message?: string } };
type PVC = KubeObject & { spec: Record<string, any>; status?: { phase?: string; capacity?: Record<string, string>; accessModes?: string[] } };

before(async () => {
  env = await startControllerEnv();
  await createNamespace(env.client, ns);
  controller = new VolumeController(env.factory, { log: testLog, localPathBaseDir: baseDir });
  await env.factory.start();
  await controller.start();
});

after(async () => {
  controller?.stop();
  await env?.close();
});

async function createPV(name: string, storage: string, extra: { labels?: Record<string, string>; reclaim?: string; class?: string } = {}): Promise<void> {
  await env.client.create(core('persistentvolumes'), {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, labels: extra.labels ?? {} },
    spec: {
      capacity: { storage },
      accessModes: ['ReadWriteOnce'],
      storageClassName: extra.class ?? 'manual',
      persistentVolumeReclaimPolicy: extra.reclaim ?? 'Retain',
      hostPath: { path: `/tmp/${name}` },
    },
  });
}

async function createPVC(name: string, storage: string, spec: Record<string, unknown> = {}, annotations?: Record<string, string>): Promise<PVC> {
  return env.client.create<PVC>(core('persistentvolumeclaims', ns), {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, ...(annotations ? { annotations } : {}) },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage } }, storageClassName: 'manual', ...spec },
  });
}

const getPV = (name: string) => getOrUndefined<PV>(env.client, core('persistentvolumes', undefined, name));
const getPVC = (name: string) => getOrUndefined<PVC>(env.client, core('persistentvolumeclaims', ns, name));

async function waitBound(claim: string): Promise<PVC> {
  return waitFor(`${claim} Bound`, async () => {
    const c = await getPVC(claim);
    return c?.status?.phase === 'Bound' ? c : undefined;
  });
}

async function events(name: string): Promise<KubeObject[]> {
  const list = await env.client.list<KubeList>(core('events', ns));
  return list.items.filter((e) => (e.involvedObject as { name?: string }).name === name);
}

describe('the default StorageClass', () => {
  it('local-path is created when no class is the default', async () => {
    const sc = await waitFor('the local-path class', () => getOrUndefined<KubeObject>(env.client, storageClasses('local-path')));
    assert.equal(sc.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'], 'true');
    assert.equal(sc.provisioner, 'nami.dev/local-path');
    assert.equal(sc.volumeBindingMode, 'WaitForFirstConsumer');
    assert.equal(sc.reclaimPolicy, 'Delete');
  });
});

describe('binding claims to existing volumes', () => {
  it('binds a claim to the smallest volume that fits, both ways', async () => {
    await createPV('pv-1g', '1Gi');
    await createPV('pv-3g', '3Gi');
    await createPV('pv-10g', '10Gi');
    // All three: a claim made while the smaller ones are not Available yet would rightly take the larger.
    await waitFor('volumes Available', async () => (await Promise.all(['pv-1g', 'pv-3g', 'pv-10g'].map(getPV))).every((v) => v?.status?.phase === 'Available'));
    await createPVC('data', '2Gi');
    const claim = await waitBound('data');
    assert.equal(claim.spec.volumeName, 'pv-3g');
    assert.deepEqual(claim.status?.capacity, { storage: '3Gi' });
    assert.deepEqual(claim.status?.accessModes, ['ReadWriteOnce']);
    assert.equal(claim.metadata.annotations?.['pv.kubernetes.io/bind-completed'], 'yes');
    assert.equal(claim.metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], 'yes');
    const volume = await waitFor('pv-3g Bound', async () => {
      const v = await getPV('pv-3g');
      return v?.status?.phase === 'Bound' ? v : undefined;
    });
    assert.equal(volume.spec.claimRef.name, 'data');
    assert.equal(volume.spec.claimRef.namespace, ns);
    assert.equal(volume.spec.claimRef.uid, claim.metadata.uid);
    assert.equal(volume.spec.claimRef.kind, 'PersistentVolumeClaim');
    assert.equal(volume.metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], 'yes');
    assert.equal((await getPV('pv-1g'))?.status?.phase, 'Available');
  });

  it('honours the claim’s label selector and a volume it names', async () => {
    await createPV('pv-gold', '5Gi', { labels: { tier: 'gold' } });
    await createPVC('gold', '1Gi', { selector: { matchLabels: { tier: 'gold' } } });
    assert.equal((await waitBound('gold')).spec.volumeName, 'pv-gold');

    await createPV('pv-named', '1Gi');
    await createPVC('named', '1Gi', { volumeName: 'pv-named' });
    const claim = await waitBound('named');
    assert.equal(claim.spec.volumeName, 'pv-named');
    assert.equal(claim.metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], undefined, 'the user chose the volume');
    assert.equal((await getPV('pv-named'))?.spec.claimRef.uid, claim.metadata.uid);
  });

  it('keeps a claim Pending while nothing fits, and binds it when a volume appears', async () => {
    await createPVC('later', '20Gi');
    await waitFor('a FailedBinding-free Pending claim', async () => (await getPVC('later'))?.status?.phase === 'Pending');
    await createPV('pv-20g', '20Gi');
    assert.equal((await waitBound('later')).spec.volumeName, 'pv-20g');
  });

  it('releases a volume whose claim is deleted (Retain), and fails one with Delete it cannot delete', async () => {
    await env.client.delete(core('persistentvolumeclaims', ns, 'data'));
    await waitFor('pv-3g Released', async () => (await getPV('pv-3g'))?.status?.phase === 'Released');

    await createPV('pv-delete', '7Gi', { reclaim: 'Delete' });
    await waitFor('pv-delete Available', async () => (await getPV('pv-delete'))?.status?.phase === 'Available');
    await createPVC('doomed', '7Gi');
    assert.equal((await waitBound('doomed')).spec.volumeName, 'pv-delete');
    await env.client.delete(core('persistentvolumeclaims', ns, 'doomed'));
    const failed = await waitFor('pv-delete Failed', async () => {
      const v = await getPV('pv-delete');
      return v?.status?.phase === 'Failed' ? v : undefined;
    });
    assert.match(failed.status?.message ?? '', /no deletable volume plugin matched/);
  });

  it('marks a bound claim Lost when its volume is deleted', async () => {
    await env.client.delete(core('persistentvolumes', undefined, 'pv-gold'));
    await waitFor('gold Lost', async () => (await getPVC('gold'))?.status?.phase === 'Lost');
    await waitFor('a ClaimLost event', async () => (await events('gold')).some((e) => e.reason === 'ClaimLost'));
  });
});

describe('the local-path provisioner', () => {
  it('waits for the first consumer, then makes a local volume on the selected node', async () => {
    await env.client.create(core('nodes'), { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', labels: { 'kubernetes.io/hostname': 'node-1-host' } } });
    const created = await createPVC('cache', '1Gi', { storageClassName: 'local-path' });
    await waitFor('a WaitForFirstConsumer event', async () => (await events('cache')).some((e) => e.reason === 'WaitForFirstConsumer' && e.message === 'waiting for first consumer to be created before binding'));
    assert.equal((await getPVC('cache'))?.status?.phase, 'Pending');
    // What the scheduler does once it has placed the claim's first pod.
    await env.client.patch(core('persistentvolumeclaims', ns, 'cache'), { metadata: { annotations: { 'volume.kubernetes.io/selected-node': 'node-1' } } }, 'merge');
    const claim = await waitBound('cache');
    const pvName = `pvc-${created.metadata.uid}`;
    assert.equal(claim.spec.volumeName, pvName);
    assert.equal(claim.metadata.annotations?.['volume.kubernetes.io/storage-provisioner'], 'nami.dev/local-path');
    const volume = (await getPV(pvName))!;
    assert.equal(volume.metadata.annotations?.['pv.kubernetes.io/provisioned-by'], 'nami.dev/local-path');
    assert.deepEqual(volume.spec.local, { path: `${baseDir}/${ns}_cache_${pvName}` });
    assert.deepEqual(volume.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions, [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-1-host'] }]);
    assert.equal(volume.spec.persistentVolumeReclaimPolicy, 'Delete');
    assert.equal(volume.spec.storageClassName, 'local-path');
    assert.deepEqual(volume.spec.capacity, { storage: '1Gi' });
    await waitFor('a ProvisioningSucceeded event', async () => (await events('cache')).some((e) => e.reason === 'ProvisioningSucceeded' && e.message === `Successfully provisioned volume ${pvName}`));
  });

  it('provisions at once, as hostPath without node affinity, for a class with Immediate binding', async () => {
    await env.client.create(storageClasses(), {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'local-now' },
      provisioner: 'nami.dev/local-path',
      volumeBindingMode: 'Immediate',
      reclaimPolicy: 'Delete',
    });
    const created = await createPVC('scratch', '2Gi', { storageClassName: 'local-now' });
    const claim = await waitBound('scratch');
    const volume = (await getPV(claim.spec.volumeName))!;
    assert.equal(volume.metadata.name, `pvc-${created.metadata.uid}`);
    assert.deepEqual(volume.spec.hostPath, { path: `${baseDir}/${ns}_scratch_pvc-${created.metadata.uid}`, type: 'DirectoryOrCreate' });
    assert.equal(volume.spec.nodeAffinity, undefined);
  });

  it('deletes a provisioned volume when its claim goes (reclaim policy Delete)', async () => {
    const claim = (await getPVC('scratch'))!;
    await env.client.delete(core('persistentvolumeclaims', ns, 'scratch'));
    await waitFor('the provisioned volume deleted', async () => (await getPV(claim.spec.volumeName)) === undefined);
  });

  it('waits for an external provisioner', async () => {
    await env.client.create(storageClasses(), { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'ebs' }, provisioner: 'ebs.csi.aws.com', volumeBindingMode: 'Immediate' });
    await createPVC('external', '1Gi', { storageClassName: 'ebs' });
    await waitFor('an ExternalProvisioning event', async () => (await events('external')).some((e) => e.reason === 'ExternalProvisioning'));
    const claim = await waitFor('the provisioner annotation', async () => {
      const c = await getPVC('external');
      return c?.metadata.annotations?.['volume.kubernetes.io/storage-provisioner'] === 'ebs.csi.aws.com' ? c : undefined;
    });
    assert.equal(claim.status?.phase, 'Pending');
  });

  it(
    'gives a claim without a class the default class',
    async () => {
      await createPVC('classless', '1Gi', { storageClassName: undefined });
      await waitFor('the default class', async () => (await getPVC('classless'))?.spec.storageClassName === 'local-path', 3000);
    },
  );
});
