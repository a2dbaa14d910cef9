// Secret-based ("legacy") service account tokens, as Kubernetes'
// pkg/serviceaccount/legacy.go makes and reads them. A Secret of type
// kubernetes.io/service-account-token that names an account in its
// kubernetes.io/service-account.name annotation is filled by the controller
// manager with a token that never expires; the API server accepts it while
// the Secret still holds that very token and the account exists with the
// UID the token names.
import type { KubeObject } from '../object.js';

export const legacyIssuer = 'kubernetes/serviceaccount';
export const serviceAccountTokenSecretType = 'kubernetes.io/service-account-token';
export const serviceAccountNameAnnotation = 'kubernetes.io/service-account.name';
export const serviceAccountUidAnnotation = 'kubernetes.io/service-account.uid';
/** A label an administrator sets (with a date) to stop a legacy token from authenticating. */
export const legacyTokenInvalidSinceLabel = 'kubernetes.io/legacy-token-invalid-since';
/** The day (UTC, YYYY-MM-DD) a legacy token last authenticated, which the API server keeps on its Secret. */
export const legacyTokenLastUsedLabel = 'kubernetes.io/legacy-token-last-used';

const namespaceClaim = 'kubernetes.io/serviceaccount/namespace';
const secretNameClaim = 'kubernetes.io/serviceaccount/secret.name';
const serviceAccountNameClaim = 'kubernetes.io/serviceaccount/service-account.name';
const serviceAccountUidClaim = 'kubernetes.io/serviceaccount/service-account.uid';

export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/** LegacyClaims: what the token of `secretName` for the account says, with its issuer, in the order Go's JSON writes a map. */
export function legacyTokenClaims(serviceAccount: KubeObject, secretName: string): Record<string, string> {
  const namespace = serviceAccount.metadata.namespace ?? '';
  const name = serviceAccount.metadata.name ?? '';
  return {
    iss: legacyIssuer,
    [namespaceClaim]: namespace,
    [secretNameClaim]: secretName,
    [serviceAccountNameClaim]: name,
    [serviceAccountUidClaim]: serviceAccount.metadata.uid ?? '',
    sub: serviceAccountUsername(namespace, name),
  };
}

export interface LegacyClaims {
  namespace: string;
  secretName: string;
  serviceAccountName: string;
  serviceAccountUid: string;
}

const claimText = (claims: Record<string, unknown>, key: string): string => (typeof claims[key] === 'string' ? (claims[key] as string) : '');

/** The claims a legacy token must carry, or kube-apiserver's words for what is wrong with them. */
export function readLegacyClaims(claims: Record<string, unknown>): LegacyClaims | string {
  const subject = claimText(claims, 'sub');
  if (!subject) return 'sub claim is missing';
  const out: LegacyClaims = {
    namespace: claimText(claims, namespaceClaim),
    secretName: claimText(claims, secretNameClaim),
    serviceAccountName: claimText(claims, serviceAccountNameClaim),
    serviceAccountUid: claimText(claims, serviceAccountUidClaim),
  };
  if (!out.namespace) return 'namespace claim is missing';
  if (!out.secretName) return 'secretName claim is missing';
  if (!out.serviceAccountName) return 'serviceAccountName claim is missing';
  if (!out.serviceAccountUid) return 'serviceAccountUID claim is missing';
  if (subject !== serviceAccountUsername(out.namespace, out.serviceAccountName)) return 'sub claim is invalid';
  return out;
}
