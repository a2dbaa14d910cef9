// The kubeconfig files the API server writes, without a YAML library: what a
// YAML parser (the client's, kubectl's) reads from them is the config meant,
// whatever the strings hold.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { renderKubeconfig } from '../../src/apiserver/kubeconfig.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('a kubeconfig with a client certificate reads back as the config', () => {
  const text = renderKubeconfig({ server: 'https://127.0.0.1:6443', caPem: 'CA PEM\n', user: 'nami-admin', clientCertPem: 'CERT\n', clientKeyPem: 'KEY\n' });
  assert.deepEqual(parse(text), {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'nami', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': b64('CA PEM\n') } }],
    users: [{ name: 'nami-admin', user: { 'client-certificate-data': b64('CERT\n'), 'client-key-data': b64('KEY\n') } }],
    contexts: [{ name: 'nami', context: { cluster: 'nami', user: 'nami-admin' } }],
    'current-context': 'nami',
    preferences: {},
  });
});

test('names YAML would read as something else stay strings, and a user with nothing is an empty map', () => {
  for (const name of ['true', 'null', '0123', 'a: b', '- x', '"quoted"', "it's", '#x', 'ünïcode', 'line\nbreak']) {
    const config = parse(renderKubeconfig({ server: 'https://[::1]:6443', caPem: 'x', user: name, token: `${name}-token`, clusterName: name }));
    assert.equal(config.users[0].name, name);
    assert.deepEqual(config.users[0].user, { token: `${name}-token` });
    assert.equal(config['current-context'], name);
    assert.equal(config.clusters[0].cluster.server, 'https://[::1]:6443');
  }
  assert.deepEqual(parse(renderKubeconfig({ server: 'https://h:1', caPem: 'x', user: 'nobody' })).users, [{ name: 'nobody', user: {} }]);
});
