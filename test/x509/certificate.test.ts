// The cluster's certificates as other software reads them: node:crypto's
// X509Certificate, `openssl verify` and `openssl x509 -text`, and a TLS
// handshake that checks both sides.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { namedBits, objectIdentifier, smallInteger, time, tlv, unsignedInteger, ipAddressBytes, readElement, children, sequence, utf8String } from '../../src/api/x509/der.js';
import { newCertificate, signerOf, subjectAltNames, type KeyPairPem } from '../../src/api/x509/certificate.js';

const hex = (b: Buffer) => b.toString('hex');

describe('DER', () => {
  it('encodes lengths in the short form under 128 bytes and the long form from 128', () => {
    assert.equal(hex(tlv(0x04, Buffer.alloc(127)).subarray(0, 2)), '047f');
    assert.equal(hex(tlv(0x04, Buffer.alloc(128)).subarray(0, 3)), '048180');
    assert.equal(hex(tlv(0x04, Buffer.alloc(300)).subarray(0, 4)), '0482012c');
    assert.equal(hex(tlv(0x04, Buffer.alloc(70_000)).subarray(0, 5)), '0483011170');
  });

  it('encodes integers minimally and positive', () => {
    assert.equal(hex(smallInteger(0)), '020100');
    assert.equal(hex(smallInteger(2)), '020102');
    assert.equal(hex(smallInteger(127)), '02017f');
    assert.equal(hex(smallInteger(128)), '02020080');
    assert.equal(hex(smallInteger(256)), '02020100');
    assert.equal(hex(unsignedInteger(Buffer.from('0000ff', 'hex'))), '020200ff');
  });

  it('encodes object identifiers in base 128', () => {
    assert.equal(hex(objectIdentifier('1.2.840.113549.1.1.11')), '06092a864886f70d01010b');
    assert.equal(hex(objectIdentifier('2.5.29.17')), '0603551d11');
  });

  it('encodes KeyUsage bits with the trailing zero bits left off', () => {
    assert.equal(hex(namedBits([0, 5, 6])), '03020186'); // digitalSignature, keyCertSign, cRLSign
    assert.equal(hex(namedBits([0, 2])), '030205a0'); // digitalSignature, keyEncipherment
    assert.equal(hex(namedBits([8])), '0303070080');
    assert.equal(hex(namedBits([])), '030100');
  });

  it('writes UTCTime up to 2049 and GeneralizedTime from 2050', () => {
    assert.equal(time(new Date(Date.UTC(2026, 11, 1, 3, 4, 5))).toString('latin1').slice(2), '261201030405Z');
    assert.equal(time(new Date(Date.UTC(2050, 0, 2, 0, 0, 0))).toString('latin1').slice(2), '20500102000000Z');
    assert.equal(time(new Date(Date.UTC(2026, 0, 1)))[0], 0x17);
    assert.equal(time(new Date(Date.UTC(2050, 0, 1)))[0], 0x18);
  });

  it('turns IPv4 and IPv6 addresses into their bytes', () => {
    assert.equal(hex(ipAddressBytes('127.0.0.1')), '7f000001');
    assert.equal(hex(ipAddressBytes('::1')), '00000000000000000000000000000001');
    assert.equal(hex(ipAddressBytes('2001:db8::ffff')), '20010db800000000000000000000ffff');
    assert.equal(hex(ipAddressBytes('::ffff:10.0.0.1')), '00000000000000000000ffff0a000001');
    assert.equal(hex(ipAddressBytes('fe80:1:2:3:4:5:6:7')), 'fe800001000200030004000500060007');
    assert.throws(() => ipAddressBytes('localhost'), /not an IP address/);
  });

  it('reads back what it wrote, element by element', () => {
    const der = sequence(smallInteger(5), utf8String('x'.repeat(200)), sequence());
    const top = readElement(der, 0);
    assert.equal(top.end, der.length);
    const parts = children(der, top);
    assert.deepEqual(parts.map((p) => p.tag), [0x02, 0x0c, 0x30]);
    assert.equal(parts[1]!.end - parts[1]!.start, 200);
    assert.throws(() => readElement(der.subarray(0, 10), 0), /truncated/);
    assert.throws(() => readElement(der, der.length), /truncated/);
    assert.throws(() => readElement(Buffer.from([0x30, 0x82, 0x01]), 0), /truncated/);
  });
});

function openssl(args: string[], input?: string): { code: number; out: string } {
  const r = spawnSync('openssl', args, { input, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const skip = hasOpenssl ? false : 'openssl not found (Debian package openssl)';
if (!hasOpenssl && process.env.CI === 'true') throw new Error(skip as string);

describe('certificates', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'nami-x509-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  const ca = newCertificate({ commonName: 'nami-ca', kind: 'ca', years: 10 });
  const server = newCertificate({ commonName: 'nami-apiserver', kind: 'server', dnsNames: ['localhost', 'kubernetes.default.svc'], ipAddresses: ['127.0.0.1', '::1', '10.96.0.1'], years: 1 }, ca);
  const client = newCertificate({ commonName: 'nami-admin', organizations: ['system:masters', 'team, "a"'], kind: 'client', years: 1 }, ca);

  it('makes a self-signed CA that signs certificates', () => {
    const c = new X509Certificate(ca.certPem);
    assert.equal(c.ca, true);
    assert.equal(c.subject, 'CN=nami-ca');
    assert.ok(c.checkIssued(c) && c.verify(c.publicKey));
    assert.ok(new Date(c.validTo).getTime() > Date.now() + 9 * 365 * 86_400_000);
    const text = openssl(['x509', '-noout', '-text'], ca.certPem).out;
    assert.match(text, /CA:TRUE/);
    assert.match(text, /Certificate Sign, CRL Sign/);
    assert.match(text, /Subject Key Identifier/);
  });

  it('makes a serving certificate with its names that openssl verifies for TLS servers', () => {
    const c = new X509Certificate(server.certPem);
    assert.equal(c.ca, false);
    assert.ok(c.checkIssued(new X509Certificate(ca.certPem)) && c.verify(new X509Certificate(ca.certPem).publicKey));
    assert.deepEqual(subjectAltNames(server.certPem).slice(0, 3), ['localhost', 'kubernetes.default.svc', '127.0.0.1']);
    assert.ok(c.checkIP('::1') && c.checkIP('10.96.0.1') && c.checkHost('localhost'));
    const r = openssl(['verify', '-CAfile', file('ca.crt', ca.certPem), '-purpose', 'sslserver', file('server.crt', server.certPem)]);
    assert.equal(r.code, 0, r.out);
    assert.equal(openssl(['verify', '-CAfile', file('ca.crt', ca.certPem), '-purpose', 'sslclient', file('server.crt', server.certPem)]).code, 2);
    // The authority key identifier is the CA's subject key identifier.
    const keyId = (text: string, label: string) => new RegExp(`${label}:\\s*\\n\\s*(?:keyid:)?([0-9A-F:]+)`).exec(text)?.[1];
    const caText = openssl(['x509', '-noout', '-text'], ca.certPem).out;
    const serverText = openssl(['x509', '-noout', '-text'], server.certPem).out;
    assert.ok(keyId(caText, 'X509v3 Subject Key Identifier'));
    assert.equal(keyId(serverText, 'X509v3 Authority Key Identifier'), keyId(caText, 'X509v3 Subject Key Identifier'));
  });

  it('makes a client certificate naming the user and groups, for TLS clients only', () => {
    const c = new X509Certificate(client.certPem);
    const subject = openssl(['x509', '-noout', '-subject', '-nameopt', 'RFC2253'], client.certPem).out;
    assert.match(subject, /CN=nami-admin/);
    assert.match(subject, /O=system:masters/);
    assert.match(subject, /O=team\\, \\"a\\"/);
    assert.ok(c.verify(new X509Certificate(ca.certPem).publicKey));
    assert.equal(openssl(['verify', '-CAfile', file('ca.crt', ca.certPem), '-purpose', 'sslclient', file('client.crt', client.certPem)]).code, 0);
    assert.notEqual(openssl(['verify', '-CAfile', file('ca.crt', ca.certPem), '-purpose', 'sslserver', file('client.crt', client.certPem)]).code, 0);
  });

  it('makes self-signed serving certificates without a CA', () => {
    const self = newCertificate({ commonName: 'node-1', kind: 'server', dnsNames: ['node-1'], ipAddresses: ['127.0.0.1'], years: 1 });
    const c = new X509Certificate(self.certPem);
    assert.equal(c.issuer, c.subject);
    assert.ok(c.verify(c.publicKey));
    assert.equal(c.ca, false);
    assert.ok(c.checkHost('node-1'));
  });

  it('signs with a CA made by other software, EC or RSA, naming it as that CA names itself', () => {
    for (const keyArgs of [['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], ['-newkey', 'rsa:2048']]) {
      const key = join(dir, 'other.key');
      const crt = join(dir, 'other.crt');
      const made = openssl(['req', '-x509', ...keyArgs, '-nodes', '-keyout', key, '-out', crt, '-days', '30', '-subj', '/O=Other Org/CN=other-ca']);
      assert.equal(made.code, 0, made.out);
      const other: KeyPairPem = { certPem: readFileSync(crt, 'utf8'), keyPem: readFileSync(key, 'utf8') };
      assert.ok(signerOf(other).keyId, 'openssl req -x509 gives its CA a subject key identifier');
      const leaf = newCertificate({ commonName: 'leaf', kind: 'client', years: 1 }, other);
      assert.equal(new X509Certificate(leaf.certPem).issuer, new X509Certificate(other.certPem).subject);
      const r = openssl(['verify', '-CAfile', crt, file('leaf.crt', leaf.certPem)]);
      assert.equal(r.code, 0, r.out);
    }
  });

  it('carries a TLS handshake where each side checks the other against the CA', async () => {
    const srv = createServer({ cert: server.certPem, key: server.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
      res.end(String(peer.subject?.CN));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const port = (srv.address() as import('node:net').AddressInfo).port;
      const body = await new Promise<string>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/', ca: ca.certPem, cert: client.certPem, key: client.keyPem, servername: 'localhost' }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(body, 'nami-admin');
    } finally {
      srv.close();
    }
  });
});
