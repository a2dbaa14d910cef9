// Service account tokens as kube-apiserver issues and checks them
// (pkg/serviceaccount): a JWT signed with the cluster's service account key,
// naming the account, and the pod, secret or node it is bound to. A token is
// good while it has not expired, names an audience the caller accepts, and
// the objects it names still exist with the UIDs it names (an object being
// deleted stays good for a minute). Legacy tokens (from Secrets the
// controller manager fills) never expire: they are good while their Secret
// holds them and their account exists with the UID they name.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { isPlainObject, type KubeObject } from '../../api/object.js';
import { remembered } from '../../api/remembered.js';
import { projectedTokenExpirationSeconds } from '../../api/service-account-token-volume.js';
import { parseJwt, signJwt, verifiedBy, type ParsedJwt, type SigningKey } from '../../api/serviceaccount/jwt.js';
import { legacyIssuer, legacyTokenInvalidSinceLabel, legacyTokenLastUsedLabel, readLegacyClaims, serviceAccountUsername } from '../../api/serviceaccount/legacy.js';
import { withAuthenticatedGroup, type User } from './user.js';

/** The issuer (and the API server's audience) kubeadm clusters use. */
export const defaultIssuer = 'https://kubernetes.default.svc.cluster.local';

const extendedExpirationSeconds = 365 * 24 * 60 * 60;
/** A bound object deleted longer ago than this no longer vouches for its tokens. */
const deletedGraceSeconds = 60;
/** Leeway for clock skew on exp and nbf, as go-jose's DefaultLeeway. */
const leewaySeconds = 60;

export const podNameKey = 'authentication.kubernetes.io/pod-name';
export const podUidKey = 'authentication.kubernetes.io/pod-uid';
export const nodeNameKey = 'authentication.kubernetes.io/node-name';
export const nodeUidKey = 'authentication.kubernetes.io/node-uid';
export const credentialIdKey = 'authentication.kubernetes.io/credential-id';

/** The objects tokens name, as the API server's caches hold them. */
export interface TokenObjects {
  get(resource: 'serviceaccounts' | 'pods' | 'secrets' | 'nodes', namespace: string | undefined, name: string): Promise<KubeObject | undefined>;
  /** Sets the legacy-token-last-used label of a token Secret (that has `uid`) to `day`; may fail, which changes nothing. */
  markLegacyTokenUsed?(namespace: string, name: string, uid: string, day: string): Promise<void>;
}

interface Ref {
  name: string;
  uid: string;
}

/** What a token is bound to besides its service account. */
export interface TokenBinding {
  pod?: KubeObject;
  secret?: KubeObject;
  /** The pod's node for a pod-bound token, or the node a token is bound to. */
  node?: Ref;
}

export interface TokenAuthentication {
  user: User;
  /** The audiences both the token and the caller name. */
  audiences: string[];
}

/** An authentication failure, with kube-apiserver's words for it (TokenReview status.error). */
export class TokenError extends Error {
  override name = 'TokenError';
}

interface KubernetesClaims {
  namespace: string;
  serviceaccount: Ref;
  pod?: Ref;
  secret?: Ref;
  node?: Ref;
}

const refOf = (obj: KubeObject): Ref => ({ name: obj.metadata.name ?? '', uid: obj.metadata.uid ?? '' });

function refClaim(value: unknown): Ref | undefined {
  if (!isPlainObject(value) || typeof value.name !== 'string' || typeof value.uid !== 'string') return undefined;
  return { name: value.name, uid: value.uid };
}

function kubernetesClaims(claims: Record<string, unknown>): KubernetesClaims | undefined {
  const k = claims['kubernetes.io'];
  if (!isPlainObject(k) || typeof k.namespace !== 'string') return undefined;
  const serviceaccount = refClaim(k.serviceaccount);
  if (!serviceaccount) return undefined;
  const out: KubernetesClaims = { namespace: k.namespace, serviceaccount };
  for (const key of ['pod', 'secret', 'node'] as const) {
    const ref = refClaim(k[key]);
    if (ref) out[key] = ref;
  }
  return out;
}

const epochSeconds = (): number => Math.floor(Date.now() / 1000);

export class ServiceAccountTokens {
  /** The audiences of tokens the API server accepts (--api-audiences, by default the issuer). */
  readonly audiences: readonly string[];
  /** Tokens seen lately: parsed and signature checked, or why not. */
  private readonly verified = new Map<string, ParsedJwt | 'not ours' | 'bad signature'>();

  constructor(
    private readonly key: SigningKey,
    private readonly objects: TokenObjects,
    readonly issuer = defaultIssuer,
  ) {
    this.audiences = [issuer];
  }

  /** The OpenID provider configuration served at /.well-known/openid-configuration (ServiceAccountIssuerDiscovery). */
  openIdConfiguration(jwksUri: string): object {
    return {
      issuer: this.issuer,
      jwks_uri: jwksUri,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
    };
  }

  /** The public keys that verify the tokens, served at /openid/v1/jwks. */
  keySet(): object {
    const jwk = this.key.publicKey.export({ format: 'jwk' });
    return { keys: [{ use: 'sig', kty: jwk.kty, kid: this.key.kid, crv: jwk.crv, alg: 'ES256', x: jwk.x, y: jwk.y }] };
  }

  /** token.Claims and GenerateToken: a token for the account, bound as given, valid expirationSeconds from now. */
  issue(serviceAccount: KubeObject, binding: TokenBinding, expirationSeconds: number, audiences: readonly string[]): { token: string; issuedAt: number } {
    const now = epochSeconds();
    let exp = expirationSeconds;
    let warnafter: number | undefined;
    // A pod's projected token (3607 s for the API server's own audiences) lasts a year and warns after the
    // hour (kube-apiserver's --service-account-extend-token-expiration).
    if (binding.pod && expirationSeconds === projectedTokenExpirationSeconds && audiences.every((a) => this.audiences.includes(a))) {
      warnafter = now + expirationSeconds;
      exp = extendedExpirationSeconds;
    }
    const namespace = serviceAccount.metadata.namespace ?? '';
    const kubernetes: Record<string, unknown> = { namespace };
    if (binding.node) kubernetes.node = binding.node;
    if (binding.pod) kubernetes.pod = refOf(binding.pod);
    if (binding.secret) kubernetes.secret = refOf(binding.secret);
    kubernetes.serviceaccount = refOf(serviceAccount);
    if (warnafter !== undefined) kubernetes.warnafter = warnafter;
    const claims = {
      aud: [...audiences],
      exp: now + exp,
      iat: now,
      iss: this.issuer,
      jti: randomUUID(),
      'kubernetes.io': kubernetes,
      nbf: now,
      sub: serviceAccountUsername(namespace, serviceAccount.metadata.name ?? ''),
    };
    return { token: signJwt(claims, this.key), issuedAt: now };
  }

  /**
   * Who a bearer token names, for callers that accept `audiences` (by
   * default the API server's). undefined: not a token of this issuer, which
   * another authenticator may know; a rejected promise (TokenError): a token
   * of this issuer that is no good.
   */
  authenticate(token: string, audiences: readonly string[] = this.audiences): Promise<TokenAuthentication> | undefined {
    const jwt = remembered(this.verified, token, 4096, () => {
      const parsed = parseJwt(token);
      if (!parsed || (parsed.claims.iss !== this.issuer && parsed.claims.iss !== legacyIssuer)) return 'not ours';
      return verifiedBy(parsed, this.key) ? parsed : 'bad signature';
    });
    if (jwt === 'not ours') return undefined;
    if (jwt === 'bad signature') return Promise.reject(new TokenError("invalid signature: the token was not signed with this cluster's service account key"));
    return jwt.claims.iss === legacyIssuer ? this.checkLegacy(token, jwt, audiences) : this.check(jwt, audiences);
  }

  /** The audiences both the token (the API server's when it names none) and the caller name; none is an error. */
  private audiencesOf(claims: Record<string, unknown>, requested: readonly string[]): string[] {
    const aud = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud.filter((a): a is string => typeof a === 'string') : [];
    const tokenAudiences = aud.length > 0 ? aud : [...this.audiences];
    const audiences = tokenAudiences.filter((a) => requested.includes(a));
    if (audiences.length === 0) throw new TokenError(`token audiences ${goQuoted(tokenAudiences)} is invalid for the target audiences ${goQuoted(requested)}`);
    return audiences;
  }

  /** A legacy token: its Secret exists, is not being deleted, holds this very token and is not marked invalid; its account exists with its UID. */
  private async checkLegacy(token: string, jwt: ParsedJwt, requested: readonly string[]): Promise<TokenAuthentication> {
    const audiences = this.audiencesOf(jwt.claims, requested);
    const claims = readLegacyClaims(jwt.claims);
    if (typeof claims === 'string') throw new TokenError(claims);
    const { namespace, secretName, serviceAccountName: name, serviceAccountUid: uid } = claims;
    const secret = await this.objects.get('secrets', namespace, secretName);
    if (!secret || secret.metadata.deletionTimestamp) throw new TokenError('token has been invalidated');
    const held = (secret as { data?: Record<string, unknown> }).data?.token;
    const heldBytes = Buffer.from(typeof held === 'string' ? held : '', 'base64');
    const tokenBytes = Buffer.from(token);
    if (heldBytes.length !== tokenBytes.length || !timingSafeEqual(heldBytes, tokenBytes)) throw new TokenError("token does not match server's copy");
    const account = await this.objects.get('serviceaccounts', namespace, name);
    if (!account) throw new TokenError(`serviceaccounts "${name}" not found`);
    if (account.metadata.deletionTimestamp) throw new TokenError(`service account ${namespace}/${name} has been deleted`);
    if (account.metadata.uid !== uid) throw new TokenError(`service account UID (${account.metadata.uid ?? ''}) does not match claim (${uid})`);
    if (secret.metadata.labels?.[legacyTokenInvalidSinceLabel] !== undefined) {
      throw new TokenError(
        `the token in secret ${namespace}/${secretName} for service account ${namespace}/${name} has been marked invalid. Use tokens from the TokenRequest API or manually created secret-based tokens, or remove the '${legacyTokenInvalidSinceLabel}' label from the secret to temporarily allow use of this token`,
      );
    }
    // The day the token was last used, on its Secret, once a day (kube-apiserver's legacy token tracking; a
    // Secret already marked tomorrow, by a server whose clock is ahead, is left as it is).
    const now = Date.now();
    const today = new Date(now).toISOString().slice(0, 10);
    const tomorrow = new Date(now + 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
    const lastUsed = secret.metadata.labels?.[legacyTokenLastUsedLabel];
    if (lastUsed !== today && lastUsed !== tomorrow) void this.objects.markLegacyTokenUsed?.(namespace, secretName, secret.metadata.uid ?? '', today).catch(() => undefined);
    return { user: serviceAccountUser(namespace, name, uid), audiences };
  }

  private async check(jwt: ParsedJwt, requested: readonly string[]): Promise<TokenAuthentication> {
    const claims = jwt.claims;
    const audiences = this.audiencesOf(claims, requested);
    const now = epochSeconds();
    if (typeof claims.exp === 'number' && now > claims.exp + leewaySeconds) throw new TokenError('service account token has expired');
    if ((typeof claims.nbf === 'number' && now + leewaySeconds < claims.nbf) || (typeof claims.iat === 'number' && now + leewaySeconds < claims.iat)) {
      throw new TokenError('service account token could not be validated');
    }
    const k = kubernetesClaims(claims);
    if (!k) throw new TokenError('service account token claims could not be read');
    const namespace = k.namespace;
    await this.checkBound('serviceaccounts', 'service account', namespace, k.serviceaccount);
    if (k.secret) await this.checkBound('secrets', 'secret', namespace, k.secret);
    if (k.pod) await this.checkBound('pods', 'pod', namespace, k.pod);
    // A pod-bound token's node is information only; a token bound to a node needs the node.
    if (k.node && !k.pod) await this.checkBound('nodes', 'node', undefined, k.node);
    const extra: Record<string, string[]> = {};
    if (k.pod) {
      extra[podNameKey] = [k.pod.name];
      extra[podUidKey] = [k.pod.uid];
    }
    if (typeof claims.jti === 'string' && claims.jti !== '') extra[credentialIdKey] = [`JTI=${claims.jti}`];
    if (k.node) {
      extra[nodeNameKey] = [k.node.name];
      if (k.node.uid) extra[nodeUidKey] = [k.node.uid];
    }
    return { user: serviceAccountUser(namespace, k.serviceaccount.name, k.serviceaccount.uid, extra), audiences };
  }

  /** The object a token names exists, with the token's UID, and was not deleted over a minute ago. */
  private async checkBound(resource: 'serviceaccounts' | 'pods' | 'secrets' | 'nodes', what: string, namespace: string | undefined, ref: Ref): Promise<void> {
    const obj = await this.objects.get(resource, namespace, ref.name);
    const path = namespace === undefined ? ref.name : `${namespace}/${ref.name}`;
    if (!obj) throw new TokenError(`${resource} "${ref.name}" not found`);
    const deleted = obj.metadata.deletionTimestamp;
    if (deleted && Date.parse(deleted) / 1000 < epochSeconds() - deletedGraceSeconds) throw new TokenError(`${what} ${path} has been deleted`);
    if (obj.metadata.uid !== ref.uid) throw new TokenError(`${what} UID (${obj.metadata.uid ?? ''}) does not match claim (${ref.uid})`);
  }
}

/** Who a service account token names (ServiceAccountInfo.UserInfo), with system:authenticated. */
function serviceAccountUser(namespace: string, name: string, uid: string, extra: Record<string, string[]> = {}): User {
  return withAuthenticatedGroup({
    name: serviceAccountUsername(namespace, name),
    uid,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`],
    ...(Object.keys(extra).length > 0 ? { extra } : {}),
  });
}

/** A list of strings as Go's %q prints a []string: ["a" "b"]. */
function goQuoted(values: readonly string[]): string {
  return `[${values.map((v) => JSON.stringify(v)).join(' ')}]`;
}
