// The data dir's certificates: made once, kept across starts, a serving
// certificate made again when it does not name the server's addresses or
// cannot be read, and a CA that cannot sign named in a clear error.
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ensureClusterPki } from '../../src/apiserver/pki.js';

const names = { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] };

describe('the cluster certificates in a data dir', () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'nami-pki-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('are made once and kept across starts, with the service account signing key; the admin is in system:masters', () => {
    const dir = dataDir();
    const first = ensureClusterPki(dir, names);
    const again = ensureClusterPki(dir, names);
    assert.deepEqual(again, first);
    const admin = new X509Certificate(first.admin.certPem);
    assert.match(admin.subject, /O=system:masters/);
    assert.ok(admin.verify(new X509Certificate(first.ca.certPem).publicKey));
    assert.equal(createPrivateKey(first.serviceAccountKeyPem).asymmetricKeyDetails?.namedCurve, 'prime256v1');
  });

  it('make the serving certificate again for new addresses, or when it cannot be read, with the same CA', () => {
    const dir = dataDir();
    const first = ensureClusterPki(dir, names);
    const wider = ensureClusterPki(dir, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '10.0.0.7'] });
    assert.equal(wider.ca.certPem, first.ca.certPem);
    assert.ok(new X509Certificate(wider.server.certPem).checkIP('10.0.0.7'));
    writeFileSync(join(dir, 'pki', 'apiserver.crt'), 'not a certificate');
    const remade = ensureClusterPki(dir, names);
    assert.ok(new X509Certificate(remade.server.certPem).verify(new X509Certificate(first.ca.certPem).publicKey));
    assert.equal(readFileSync(join(dir, 'pki', 'apiserver.crt'), 'utf8'), remade.server.certPem);
  });

  it('name a CA that cannot sign, and what to do', () => {
    const dir = dataDir();
    ensureClusterPki(dir, names);
    writeFileSync(join(dir, 'pki', 'ca.crt'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    writeFileSync(join(dir, 'pki', 'apiserver.crt'), 'gone');
    assert.throws(() => ensureClusterPki(dir, names), (err: Error) => err.message.includes(join(dir, 'pki', 'ca.crt')) && err.message.includes('remove'));
  });
});
