// Request authentication in kube-apiserver's order: a verified client
// certificate first, then a bearer token. A bearer token that is not known is
// a 401 even where anonymous requests would pass, as Kubernetes fails on an
// authenticator's error before it tries anonymous.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { UnauthorizedError } from '../../api/errors.js';
import { rememberedFor } from '../../api/remembered.js';
import type { ServiceAccountTokens, TokenAuthentication } from './service-account-tokens.js';
import { withAuthenticatedGroup, type User } from './user.js';

export interface Authenticators {
  /** Bearer tokens accepted besides client certificates (--token-auth-file), token -> user. */
  tokens?: Map<string, User>;
  /** Service account tokens (JWTs of the cluster's issuer). */
  serviceAccounts?: ServiceAccountTokens;
  /** Lets requests without credentials through as this user (tests of the handler only). */
  anonymousAs?: User;
}

/** The user each TLS connection's client certificate names (null: none usable). */
const certificateUsers = new WeakMap<object, User | null>();

function certificateUser(req: IncomingMessage): User | null {
  const socket = req.socket as Partial<TLSSocket>;
  if (!socket.authorized || !socket.getPeerCertificate) return null;
  // A connection's certificate does not change: read it once per connection.
  let user = certificateUsers.get(req.socket);
  if (user === undefined) {
    const cert = socket.getPeerCertificate();
    const subject = cert.subject as unknown as Record<string, string | string[]> | undefined;
    const cn = subject?.CN;
    const o = subject?.O;
    user = cn ? withAuthenticatedGroup({ name: Array.isArray(cn) ? cn[0]! : cn, groups: o === undefined ? [] : Array.isArray(o) ? o : [o] }) : null;
    certificateUsers.set(req.socket, user);
  }
  return user;
}

/** Each token's user with the authenticated group, made once per user. */
const tokenUsers = new WeakMap<User, User>();

/** The token of an `Authorization: Bearer <token>` header as Kubernetes reads it (scheme in any case), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  const space = value.indexOf(' ');
  // The second space-separated part, as Kubernetes' split on " " takes it.
  if (space < 0 || value.slice(0, space).toLowerCase() !== 'bearer') return undefined;
  const end = value.indexOf(' ', space + 1);
  const token = end < 0 ? value.slice(space + 1) : value.slice(space + 1, end);
  return token === '' ? undefined : token;
}

/**
 * Who sent the request; throws (or, for a service account token, rejects
 * with) UnauthorizedError (401) when no credential is good. A service
 * account token is checked against the objects it names, which takes a
 * promise; every other credential is answered at once.
 */
export function authenticateRequest(req: IncomingMessage, authenticators: Authenticators): User | Promise<User> {
  const fromCertificate = certificateUser(req);
  if (fromCertificate) return fromCertificate;
  const token = bearerToken(req.headers.authorization);
  if (token !== undefined) {
    const user = tokenFileUser(token, authenticators);
    if (user) return user;
    const checked = authenticators.serviceAccounts?.authenticate(token);
    if (!checked) throw new UnauthorizedError();
    return checked.then(
      (a) => a.user,
      () => {
        throw new UnauthorizedError();
      },
    );
  }
  if (authenticators.anonymousAs) return authenticators.anonymousAs;
  throw new UnauthorizedError();
}

/**
 * A bearer token's user, as kube-apiserver's token authenticators (a token
 * file's tokens, then service account tokens) find it, for a caller that
 * accepts `audiences` (the API server's by default; a token file's tokens
 * are good for any). undefined: no authenticator knows the token; a
 * rejected promise: a service account token that is no good (TokenError).
 */
export function authenticateToken(token: string, authenticators: Authenticators, audiences?: readonly string[]): TokenAuthentication | Promise<TokenAuthentication> | undefined {
  const user = tokenFileUser(token, authenticators);
  if (user) return { user, audiences: [...(audiences ?? authenticators.serviceAccounts?.audiences ?? [])] };
  return authenticators.serviceAccounts?.authenticate(token, audiences);
}

/** The token file's user of a token, with the authenticated group. */
function tokenFileUser(token: string, authenticators: Authenticators): User | undefined {
  const user = authenticators.tokens?.get(token);
  return user && rememberedFor(tokenUsers, user, withAuthenticatedGroup);
}
