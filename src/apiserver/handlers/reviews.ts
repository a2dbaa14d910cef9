// The review resources (reviewResources in api/resources.ts): objects that are
// created and never stored, whose status answers a question about the caller.
// `kubectl auth can-i` creates SelfSubjectAccessReviews (and, with --list, a
// SelfSubjectRulesReview); `kubectl auth whoami` a SelfSubjectReview. A
// TokenReview asks who a bearer token names (webhooks and proxies in front
// of other services ask it).
//
// Nami authorizes every authenticated request (there is no authorizer until
// RBAC comes): an access review is allowed and the rules are all of them,
// as kube-apiserver answers with --authorization-mode=AlwaysAllow.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequestError, InvalidError, MethodNotAllowedError, type FieldError } from '../../api/errors.js';
import { isPlainObject, type KubeObject } from '../../api/object.js';
import { groupVersion } from '../../api/resources.js';
import { invalid } from '../../api/validation/field-errors.js';
import { authenticateToken, type Authenticators } from '../authn/authenticate.js';
import type { User } from '../authn/user.js';
import { decodeObjectBody, readBody } from '../http/body.js';
import type { RequestInfo } from '../http/request-info.js';
import { sendJson } from '../http/respond.js';
import { nowSeconds } from '../registry/store.js';
import { bodyFieldValidation, checkTypeMeta, managerFromUserAgent, requireObject, setWarnings, writeOptions, type BodyContext } from './body-checks.js';

export interface ReviewRequest extends BodyContext {
  req: IncomingMessage;
  res: ServerResponse;
  info: RequestInfo;
  /** Who sent the request: the subject of every review here but TokenReview. */
  user: User;
  /** How the server authenticates tokens (TokenReview). */
  authenticators: Authenticators;
}

/** What the server makes of a review it accepted: the object to answer with, as JSON. */
type Answer = (review: KubeObject, user: User, authenticators: Authenticators) => Record<string, unknown> | Promise<Record<string, unknown>>;

/** A user as authentication.k8s.io's UserInfo. */
function userInfo(user: User): Record<string, unknown> {
  return { username: user.name, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups, ...(user.extra ? { extra: user.extra } : {}) };
}

/** Empty object metadata, as Go writes it. */
const noMetadata = { creationTimestamp: null };

const answers: Record<string, Answer> = {
  SelfSubjectAccessReview: (review) => {
    checkAccessReview(review);
    return { ...review, metadata: noMetadata, status: { allowed: true } };
  },
  SelfSubjectRulesReview: (review) => {
    const spec: unknown = review.spec;
    const namespace = isPlainObject(spec) ? spec.namespace : undefined;
    if (typeof namespace !== 'string' || namespace === '') throw new BadRequestError('no namespace on request');
    // The answer carries the rules, not the question (as kube-apiserver's does).
    return {
      apiVersion: review.apiVersion,
      kind: review.kind,
      metadata: noMetadata,
      spec: {},
      status: {
        resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
        nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
        incomplete: false,
      },
    };
  },
  SelfSubjectReview: (review, user) => ({
    apiVersion: review.apiVersion,
    kind: review.kind,
    metadata: { creationTimestamp: nowSeconds() },
    status: { userInfo: userInfo(user) },
  }),
  TokenReview: async (review, _user, authenticators) => {
    const spec = isPlainObject(review.spec) ? review.spec : {};
    const token = typeof spec.token === 'string' ? spec.token : '';
    if (token === '') throw new BadRequestError('token is required for TokenReview in authentication');
    const requested = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? (spec.audiences as string[]) : undefined;
    let status: Record<string, unknown>;
    try {
      const found = await authenticateToken(token, authenticators, requested);
      status = found ? { authenticated: true, user: userInfo(found.user), audiences: found.audiences } : { user: {}, error: 'invalid bearer token' };
    } catch (err) {
      status = { user: {}, error: `[invalid bearer token, ${(err as Error).message}]` };
    }
    return { apiVersion: review.apiVersion, kind: review.kind, metadata: { ...review.metadata, creationTimestamp: null }, spec: review.spec, status };
  },
};

/** ValidateSelfSubjectAccessReview: exactly one kind of attributes, and no metadata (managedFields aside). */
function checkAccessReview(review: KubeObject): void {
  const errors: FieldError[] = [];
  const spec: unknown = review.spec;
  const resource = isPlainObject(spec) ? spec.resourceAttributes : undefined;
  const nonResource = isPlainObject(spec) ? spec.nonResourceAttributes : undefined;
  if (isPlainObject(resource) && isPlainObject(nonResource)) {
    errors.push(invalid('spec.nonResourceAttributes', nonResource, 'cannot be specified in combination with resourceAttributes'));
  }
  if (!isPlainObject(resource) && !isPlainObject(nonResource)) {
    errors.push(invalid('spec.resourceAttributes', null, 'exactly one of nonResourceAttributes or resourceAttributes must be specified'));
  }
  const setMeta = Object.entries(review.metadata).filter(([key, value]) => key !== 'managedFields' && !emptyValue(value));
  if (setMeta.length > 0) errors.push(invalid('metadata', Object.fromEntries(setMeta), 'must be empty'));
  if (errors.length > 0) throw new InvalidError(String(review.kind), 'authorization.k8s.io', '', errors);
}

/** A metadata value that decodes to its Go zero value (null, "", 0, or an empty map or list). */
function emptyValue(value: unknown): boolean {
  if (value === null || value === undefined || value === '' || value === 0) return true;
  if (Array.isArray(value)) return value.length === 0;
  return isPlainObject(value) && Object.keys(value).length === 0;
}

/** A create of a review resource (any other verb is not allowed on it); answered 201 with the review's status. */
export async function handleReview(r: ReviewRequest): Promise<void> {
  const { info } = r;
  const resource = r.versions.info;
  if (info.verb !== 'create' || info.name !== undefined || info.subresource !== undefined) {
    throw new MethodNotAllowedError({ group: resource.group, resource: resource.plural, ...(info.name !== undefined ? { name: info.name } : {}) });
  }
  // The options are a create's: a bad dryRun or fieldManager is refused as for any create.
  writeOptions(r.query, '', managerFromUserAgent(r.req), 'CreateOptions');
  const review = requireObject(decodeObjectBody(await readBody(r.req), r.req.headers['content-type']));
  const apiVersion = groupVersion(resource.group, r.versions.version);
  checkTypeMeta(review, apiVersion, resource.kind);
  const warnings = bodyFieldValidation(r, review);
  review.apiVersion = apiVersion;
  review.kind = resource.kind;
  const answer = await answers[resource.kind]!(review, r.user, r.authenticators);
  setWarnings(r.res, warnings);
  sendJson(r.res, 201, answer);
}
