// Who a request comes from, as Kubernetes' user.Info: a name, a uid (empty
// for client certificates), groups and extra.

export interface User {
  name: string;
  uid?: string;
  groups: string[];
  /** Further facts about the user (a service account token's pod, node and credential ID). */
  extra?: Record<string, string[]>;
}

/** The group every authenticated user is in. */
export const allAuthenticated = 'system:authenticated';
const allUnauthenticated = 'system:unauthenticated';
const anonymousName = 'system:anonymous';

/**
 * The user with system:authenticated among its groups, as Kubernetes'
 * AuthenticatedGroupAdder: not for the anonymous user, and not when the
 * groups already say authenticated or unauthenticated.
 */
export function withAuthenticatedGroup(user: User): User {
  if (user.name === anonymousName || user.groups.includes(allAuthenticated) || user.groups.includes(allUnauthenticated)) return user;
  return { ...user, groups: [...user.groups, allAuthenticated] };
}
