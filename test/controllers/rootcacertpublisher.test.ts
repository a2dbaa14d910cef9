// The root CA publisher against a real API server: kube-root-ca.crt in every
// namespace, made again when deleted, set back when changed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RootCaPublisher } from '../../src/controllers/rootcacertpublisher/index.js';
import { core, createNamespace, getOrUndefined, startControllerEnv, testLog, waitFor, type ControllerEnv } from './core-controllers-env.js';

type ConfigMap = { metadata: { uid: string; annotations?: Record<string, string> }; data?: Record<string, string> };

let env: ControllerEnv;
let controller: RootCaPublisher;
let caPem: string;

before(async () => {
  env = await startControllerEnv();
  caPem = readFileSync(join(env.api.server.kubeconfigPath, '..', 'pki', 'ca.crt'), 'utf8');
  controller = new RootCaPublisher(env.factory, { rootCaPem: caPem, log: testLog });
  await env.factory.start();
  await controller.start();
});

after(async () => {
  controller?.stop();
  await env?.close();
});

const rootCa = (ns: string) => getOrUndefined<ConfigMap>(env.client, core('configmaps', ns, 'kube-root-ca.crt'));

describe('kube-root-ca.crt', () => {
  it('holds the cluster CA in the namespaces the cluster starts with and in new ones', async () => {
    for (const ns of ['default', 'kube-system']) {
      const cm = await waitFor(`kube-root-ca.crt in ${ns}`, () => rootCa(ns));
      assert.deepEqual(cm.data, { 'ca.crt': caPem });
      assert.match(cm.metadata.annotations?.['kubernetes.io/description'] ?? '', /^Contains a CA bundle that can be used to verify the kube-apiserver/);
    }
    await createNamespace(env.client, 'ca-team');
    await waitFor('kube-root-ca.crt in ca-team', () => rootCa('ca-team'));
  });

  it('comes back when deleted, and is set back when changed', async () => {
    const before = await waitFor('kube-root-ca.crt in default', () => rootCa('default'));
    await env.client.delete(core('configmaps', 'default', 'kube-root-ca.crt'));
    await waitFor('a new kube-root-ca.crt', async () => {
      const cm = await rootCa('default');
      return cm && cm.metadata.uid !== before.metadata.uid ? cm : undefined;
    });
    await env.client.patch(core('configmaps', 'default', 'kube-root-ca.crt'), { data: { 'ca.crt': 'not a CA', extra: 'x' } }, 'merge');
    const restored = await waitFor('kube-root-ca.crt set back', async () => {
      const cm = await rootCa('default');
      return cm?.data?.['ca.crt'] === caPem ? cm : undefined;
    });
    assert.deepEqual(restored.data, { 'ca.crt': caPem }, 'only the CA is kept');
  });
});
