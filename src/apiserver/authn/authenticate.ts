// Request authentication in kube-apiserver's order: a verified client
// certificate first, then a bearer token. A bearer token that is not known is
// a 401 even where anonymous requests would pass, as Kubernetes fails on an
// authenticator's error before it tries anonymous.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { UnauthorizedError } from '../../api/errors.js';
import { rememberedFor } from '../../api/remembered.js';
import { withAuthenticatedGroup, type User } from './user.js';

export interface Authenticators {
  /** Bearer tokens accepted besides client certificates (--token-auth-file), token -> user. */
  tokens?: Map<string, User>;
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

/** Who sent the request; throws UnauthorizedError (401) when no credential is good. */
export function authenticateRequest(req: IncomingMessage, authenticators: Authenticators): User {
  const fromCertificate = certificateUser(req);
  if (fromCertificate) return fromCertificate;
  const token = bearerToken(req.headers.authorization);
  if (token !== undefined) {
    const user = authenticators.tokens?.get(token);
    if (!user) throw new UnauthorizedError();
    return rememberedFor(tokenUsers, user, withAuthenticatedGroup);
  }
  if (authenticators.anonymousAs) return authenticators.anonymousAs;
  throw new UnauthorizedError();
}
