// The cluster's certificates: a CA generated once into the data dir, a
// serving certificate for the API server and client certificates (the admin's
// first), made by src/api/x509/certificate.ts; and the key that signs service
// account tokens (sa.key, an ECDSA P-256 key, with sa.pub beside it).
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newCertificate, signerOf, subjectAltNames, type CertificateSpec, type KeyPairPem, type Signer } from '../api/x509/certificate.js';

export type { KeyPairPem };

export interface ClusterPki {
  ca: KeyPairPem;
  server: KeyPairPem;
  admin: KeyPairPem;
  /** The service account token signing key, PKCS#8 PEM. */
  serviceAccountKeyPem: string;
}

function readPair(dir: string, name: string): KeyPairPem | undefined {
  const crt = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  if (!existsSync(crt) || !existsSync(key)) return undefined;
  return { certPem: readFileSync(crt, 'utf8'), keyPem: readFileSync(key, 'utf8') };
}

function writePair(dir: string, name: string, pair: KeyPairPem): void {
  writeFileSync(join(dir, `${name}.crt`), pair.certPem, { mode: 0o644 });
  writeFileSync(join(dir, `${name}.key`), pair.keyPem, { mode: 0o600 });
}

/** Loads the data dir's certificates, making whichever are missing. */
export function ensureClusterPki(dataDir: string, serverNames: { dnsNames: string[]; ipAddresses: string[] }): ClusterPki {
  const dir = join(dataDir, 'pki');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let ca = readPair(dir, 'ca');
  const fresh = !ca;
  if (!ca) {
    ca = newCertificate({ commonName: 'nami-ca', kind: 'ca', years: 10 });
    writePair(dir, 'ca', ca);
  }
  const caPair = ca;
  let signer: Signer | undefined;
  const issue = (spec: CertificateSpec): KeyPairPem => {
    try {
      signer ??= signerOf(caPair);
      return newCertificate(spec, signer);
    } catch (err) {
      throw new Error(`cannot sign with the CA in ${join(dir, 'ca.crt')} and ca.key (${(err as Error).message}): put a valid CA there, or remove ${dir} to have new certificates made (clients then need the new admin.kubeconfig)`);
    }
  };
  let server = fresh ? undefined : readPair(dir, 'apiserver');
  if (server && !serverCertCovers(server.certPem, serverNames)) server = undefined;
  if (!server) {
    server = issue({ commonName: 'nami-apiserver', kind: 'server', ...serverNames, years: 1 });
    writePair(dir, 'apiserver', server);
  }
  let admin = fresh ? undefined : readPair(dir, 'admin');
  if (!admin) {
    admin = issue({ commonName: 'nami-admin', organizations: ['system:masters'], kind: 'client', years: 1 });
    writePair(dir, 'admin', admin);
  }
  return { ca, server, admin, serviceAccountKeyPem: ensureServiceAccountKey(dir) };
}

/** The data dir's service account signing key, made on first start (tokens signed with it stay good across restarts). */
function ensureServiceAccountKey(dir: string): string {
  const keyFile = join(dir, 'sa.key');
  if (existsSync(keyFile)) return readFileSync(keyFile, 'utf8');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }) as string, { mode: 0o644 });
  writeFileSync(keyFile, keyPem, { mode: 0o600 });
  return keyPem;
}

/** Whether a serving certificate names all these (one that cannot be read names none: it is made again). */
function serverCertCovers(certPem: string, names: { dnsNames: string[]; ipAddresses: string[] }): boolean {
  let have: Set<string>;
  try {
    have = new Set(subjectAltNames(certPem));
  } catch {
    return false;
  }
  return [...names.dnsNames, ...names.ipAddresses].every((n) => have.has(n));
}
