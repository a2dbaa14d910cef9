// The agent's own HTTPS serving certificate: self-signed, made once and kept
// in the agent's data dir (the kubelet does the same without
// --tls-cert-file: <cert-dir>/kubelet.crt). The API server does not verify it
// (kube-apiserver's default without --kubelet-certificate-authority).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newCertificate } from '../../api/x509/certificate.js';

export interface ServingCert {
  certPem: string;
  keyPem: string;
}

/** A new self-signed serving certificate for these names (ECDSA P-256, one year). */
export function selfSignedServingCert(commonName: string, dnsNames: string[], ipAddresses: string[]): ServingCert {
  return newCertificate({ commonName, kind: 'server', dnsNames, ipAddresses, years: 1 });
}

/** The serving certificate kept in dir (kubelet.crt, kubelet.key), made on first use. */
export function ensureServingCert(dir: string, commonName: string, dnsNames: string[], ipAddresses: string[]): ServingCert {
  const crt = join(dir, 'kubelet.crt');
  const key = join(dir, 'kubelet.key');
  if (existsSync(crt) && existsSync(key)) return { certPem: readFileSync(crt, 'utf8'), keyPem: readFileSync(key, 'utf8') };
  const made = selfSignedServingCert(commonName, dnsNames, ipAddresses);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(key, made.keyPem, { mode: 0o600 });
  writeFileSync(crt, made.certPem, { mode: 0o644 });
  return made;
}
