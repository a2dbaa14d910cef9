// JSON Web Tokens as Kubernetes' service account tokens are made: compact
// serialization, an ES256 signature (ECDSA P-256, SHA-256, r||s), and the
// key ID Kubernetes derives from the public key. Shared by the API server,
// which issues and checks tokens, and the controller that fills legacy
// token Secrets (as Kubernetes' pkg/serviceaccount is).
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { isPlainObject } from '../object.js';

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** base64url(SHA-256(the public key's PKIX DER)), as Kubernetes' keyIDFromPublicKey. */
  kid: string;
}

export function signingKeyOf(privateKey: KeyObject, publicKey: KeyObject): SigningKey {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { privateKey, publicKey, kid: createHash('sha256').update(der).digest('base64url') };
}

/** The signing key of a private key in PEM (the cluster's sa.key, or --service-account-private-key-file). */
export function signingKeyFromPem(privateKeyPem: string): SigningKey {
  const privateKey = createPrivateKey(privateKeyPem);
  return signingKeyOf(privateKey, createPublicKey(privateKey));
}

const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export function signJwt(claims: object, key: SigningKey): string {
  const input = `${encode({ alg: 'ES256', kid: key.kid })}.${encode(claims)}`;
  const signature = sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

export interface ParsedJwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  /** The header and payload as sent, which the signature covers. */
  signed: string;
  signature: Buffer;
}

const segment = /^[A-Za-z0-9_-]+$/;

function decodeSegment(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    return isPlainObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A compact JWT's parts, or undefined for anything that is not one. Nothing is verified. */
export function parseJwt(token: string): ParsedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => segment.test(p))) return undefined;
  const header = decodeSegment(parts[0]!);
  const claims = decodeSegment(parts[1]!);
  if (!header || !claims) return undefined;
  return { header, claims, signed: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2]!, 'base64url') };
}

/** Whether an ES256 JWT was signed by this key. */
export function verifiedBy(jwt: ParsedJwt, key: SigningKey): boolean {
  if (jwt.header.alg !== 'ES256' || (jwt.header.kid !== undefined && jwt.header.kid !== key.kid)) return false;
  return verify('sha256', Buffer.from(jwt.signed), { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, jwt.signature);
}
