// The agent's own HTTPS serving certificate: self-signed, made once and kept
// in the agent's data dir (the kubelet does the same without
// --tls-cert-file: <cert-dir>/kubelet.crt). The API server does not verify it
// (kube-apiserver's default without --kubelet-certificate-authority).
import type * as X509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ServingCert {
  certPem: string;
  keyPem: string;
}

let x509Module: Promise<typeof X509> | undefined;
function loadX509(): Promise<typeof X509> {
  x509Module ??= (async () => {
    await import('reflect-metadata');
    const m = await import('@peculiar/x509');
    m.cryptoProvider.set(webcrypto as never);
    return m;
  })();
  return x509Module;
}

function pem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

/** A new self-signed serving certificate for these names (ECDSA P-256, one year). */
export async function selfSignedServingCert(commonName: string, dnsNames: string[], ipAddresses: string[]): Promise<ServingCert> {
  const x509 = await loadX509();
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const serial = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)));
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const notAfter = new Date();
  notAfter.setFullYear(notAfter.getFullYear() + 1);
  const names = [...dnsNames.map((value) => ({ type: 'dns' as const, value })), ...ipAddresses.map((value) => ({ type: 'ip' as const, value }))];
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: `CN=${commonName.replace(/([,+"\\<>;=])/g, '\\$1')}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter,
    keys: keys as never,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: pem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY') };
}

/** The serving certificate kept in dir (kubelet.crt, kubelet.key), made on first use. */
export async function ensureServingCert(dir: string, commonName: string, dnsNames: string[], ipAddresses: string[]): Promise<ServingCert> {
  const crt = join(dir, 'kubelet.crt');
  const key = join(dir, 'kubelet.key');
  if (existsSync(crt) && existsSync(key)) return { certPem: readFileSync(crt, 'utf8'), keyPem: readFileSync(key, 'utf8') };
  const made = await selfSignedServingCert(commonName, dnsNames, ipAddresses);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(key, made.keyPem, { mode: 0o600 });
  writeFileSync(crt, made.certPem, { mode: 0o644 });
  return made;
}
