// The node agent's service account tokens (the kubelet's token manager): a
// pod's projected serviceAccountToken is requested from the API server
// (serviceaccounts/NAME/token, bound to the pod), kept, and asked for anew
// once 80% of its lifetime or 24 hours have passed. A token that cannot be
// renewed is kept while it has not expired.

export interface TokenSpec {
  /** The audience asked for; none means the API server's own. */
  audience?: string;
  expirationSeconds: number;
  /** The pod the token is bound to. */
  pod: { name: string; uid: string };
}

/** A TokenRequest's answer, as far as the manager needs it. */
export interface IssuedToken {
  token: string;
  /** status.expirationTimestamp, RFC 3339. */
  expirationTimestamp: string;
}

/** Posts a TokenRequest for the account with this body. */
export type TokenRequester = (namespace: string, serviceAccount: string, body: Record<string, unknown>) => Promise<IssuedToken>;

interface Kept {
  token: string;
  expiresAt: number;
  /** When it is to be renewed: 80% of its lifetime, or 24 h after it was issued. */
  renewAt: number;
}

const maxAgeMs = 24 * 60 * 60 * 1000;

export class TokenManager {
  private readonly tokens = new Map<string, Kept>();

  constructor(
    private readonly request: TokenRequester,
    private readonly now: () => number = Date.now,
  ) {}

  async token(namespace: string, serviceAccount: string, spec: TokenSpec): Promise<string> {
    const now = this.now();
    for (const [key, kept] of this.tokens) if (kept.expiresAt <= now) this.tokens.delete(key);
    const key = JSON.stringify([namespace, serviceAccount, spec.audience ?? '', spec.expirationSeconds, spec.pod.uid]);
    const kept = this.tokens.get(key);
    if (kept && now < kept.renewAt) return kept.token;
    const body = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        audiences: spec.audience ? [spec.audience] : [],
        expirationSeconds: spec.expirationSeconds,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: spec.pod.name, uid: spec.pod.uid },
      },
    };
    let issued: IssuedToken;
    try {
      issued = await this.request(namespace, serviceAccount, body);
    } catch (err) {
      if (kept) return kept.token; // still good (expired ones were dropped above): renewal is tried again next time
      throw err;
    }
    const expiresAt = Date.parse(issued.expirationTimestamp);
    const lifetime = spec.expirationSeconds * 1000;
    const issuedAt = expiresAt - lifetime;
    this.tokens.set(key, { token: issued.token, expiresAt, renewAt: Math.min(expiresAt - lifetime * 0.2, issuedAt + maxAgeMs) });
    return issued.token;
  }
}
