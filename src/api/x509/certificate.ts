// X.509 certificates as a cluster needs them (RFC 5280): a CA, serving
// certificates with their names, and client certificates whose CN and O are
// a user and groups, as Kubernetes reads them. Keys are made and used by
// node:crypto; the certificate is encoded here, in DER.
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import {
  bitString,
  boolean,
  children,
  contentOf,
  encodingOf,
  explicit,
  implicitPrimitive,
  ipAddressBytes,
  namedBits,
  nullValue,
  objectIdentifier,
  octetString,
  readElement,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
} from './der.js';

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export interface CertificateSpec {
  commonName: string;
  /** O= entries: a client certificate's groups. */
  organizations?: string[];
  /** ca signs other certificates; server and client are the leaves' extended key usages. */
  kind: 'ca' | 'server' | 'client';
  /** Subject alternative names of a serving certificate. */
  dnsNames?: string[];
  ipAddresses?: string[];
  /** Valid from a minute ago (clocks a little behind) for this many years. */
  years: number;
}

const oids = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
};

/** KeyUsage's named bits. */
const usage = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 };

/** A new ECDSA P-256 key pair: fast to make, and every Kubernetes client takes it. */
function newKeyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

function privateKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

function toPem(der: Buffer, label: string): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

/** The DER of a PEM text's first block. */
function fromPem(pem: string): Buffer {
  const m = /-----BEGIN [A-Z0-9 ]+-----([\s\S]*?)-----END [A-Z0-9 ]+-----/.exec(pem);
  if (!m) throw new Error('no PEM block found');
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}

/** Who signs a certificate: the issuer's name as encoded in its own certificate, its key, and its key identifier when it has one. */
export interface Signer {
  name: Buffer;
  key: KeyObject;
  keyId?: Buffer;
}

/** A CA's certificate and key as a signer: its subject and subject key identifier read from the certificate. */
export function signerOf(ca: KeyPairPem): Signer {
  const der = fromPem(ca.certPem);
  const tbs = children(der, readElement(der, 0))[0]!;
  const fields = children(der, tbs);
  const first = fields[0]!.tag === 0xa0 ? 1 : 0; // [0] version, absent in v1 certificates
  const subject = encodingOf(der, fields[first + 4]!);
  let keyId: Buffer | undefined;
  const extensions = fields.find((f) => f.tag === 0xa3);
  if (extensions) {
    const skid = objectIdentifier(oids.subjectKeyId);
    for (const ext of children(der, children(der, extensions)[0]!)) {
      const parts = children(der, ext);
      if (!encodingOf(der, parts[0]!).equals(skid)) continue;
      const value = contentOf(der, parts[parts.length - 1]!);
      keyId = Buffer.from(contentOf(value, readElement(value, 0)));
    }
  }
  return { name: Buffer.from(subject), key: createPrivateKey(ca.keyPem), keyId };
}

/** RFC 5280's key identifier: SHA-1 of the public key's bits. */
function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const bits = children(spki, readElement(spki, 0))[1]!;
  return createHash('sha1').update(contentOf(spki, bits).subarray(1)).digest();
}

function distinguishedName(spec: CertificateSpec): Buffer {
  const rdn = (oid: string, value: string) => set(sequence(objectIdentifier(oid), utf8String(value)));
  return sequence(...(spec.organizations ?? []).map((o) => rdn(oids.organization, o)), rdn(oids.commonName, spec.commonName));
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return sequence(objectIdentifier(oid), ...(critical ? [boolean(true)] : []), octetString(value));
}

function extensions(spec: CertificateSpec, publicKey: KeyObject, signer: Signer | undefined): Buffer[] {
  if (spec.kind === 'ca') {
    return [
      extension(oids.basicConstraints, true, sequence(boolean(true))),
      extension(oids.keyUsage, true, namedBits([usage.digitalSignature, usage.keyCertSign, usage.cRLSign])),
      extension(oids.subjectKeyId, false, octetString(keyIdentifier(publicKey))),
    ];
  }
  const out = [
    extension(oids.basicConstraints, true, sequence()),
    extension(oids.keyUsage, true, namedBits([usage.digitalSignature, usage.keyEncipherment])),
    extension(oids.extKeyUsage, false, sequence(objectIdentifier(spec.kind === 'server' ? oids.serverAuth : oids.clientAuth))),
  ];
  if (signer?.keyId) out.push(extension(oids.authorityKeyId, false, sequence(implicitPrimitive(0, signer.keyId))));
  const names = [...(spec.dnsNames ?? []).map((n) => implicitPrimitive(2, Buffer.from(n, 'ascii'))), ...(spec.ipAddresses ?? []).map((ip) => implicitPrimitive(7, ipAddressBytes(ip)))];
  if (names.length > 0) out.push(extension(oids.subjectAltName, false, sequence(...names)));
  return out;
}

function signatureAlgorithm(key: KeyObject): { id: Buffer; hash: string } {
  if (key.asymmetricKeyType === 'ec') return { id: sequence(objectIdentifier(oids.ecdsaWithSha256)), hash: 'sha256' };
  if (key.asymmetricKeyType === 'rsa') return { id: sequence(objectIdentifier(oids.sha256WithRsa), nullValue()), hash: 'sha256' };
  throw new Error(`cannot sign certificates with a ${key.asymmetricKeyType} key`);
}

/**
 * A certificate for publicKey, signed by signer, or self-signed with
 * selfKey when there is no signer; PEM.
 */
function makeCertificate(spec: CertificateSpec, publicKey: KeyObject, signer: Signer | { selfKey: KeyObject }): string {
  const issuer = 'selfKey' in signer ? undefined : signer;
  const signingKey = 'selfKey' in signer ? signer.selfKey : signer.key;
  const algorithm = signatureAlgorithm(signingKey);
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive, and 16 bytes long
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date();
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + spec.years);
  const subject = distinguishedName(spec);
  const tbs = sequence(
    explicit(0, smallInteger(2)), // v3
    unsignedInteger(serial),
    algorithm.id,
    issuer ? issuer.name : subject,
    sequence(time(notBefore), time(notAfter)),
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...extensions(spec, publicKey, issuer))),
  );
  const signature = sign(algorithm.hash, tbs, signingKey);
  return toPem(sequence(tbs, algorithm.id, bitString(signature)), 'CERTIFICATE');
}

/**
 * A new key pair and its certificate, signed by the CA given (its PEM pair,
 * or signerOf's reading of it when several are signed: reading the key
 * takes about half a millisecond), or self-signed without one.
 */
export function newCertificate(spec: CertificateSpec, ca?: KeyPairPem | Signer): KeyPairPem {
  const keys = newKeyPair();
  const certPem = makeCertificate(spec, keys.publicKey, ca === undefined ? { selfKey: keys.privateKey } : 'certPem' in ca ? signerOf(ca) : ca);
  return { certPem, keyPem: privateKeyPem(keys.privateKey) };
}

/** The DNS names and IP addresses a certificate is for. */
export function subjectAltNames(certPem: string): string[] {
  const san = new X509Certificate(certPem).subjectAltName ?? '';
  return san ? san.split(', ').map((entry) => entry.replace(/^(DNS|IP Address):/, '')) : [];
}
