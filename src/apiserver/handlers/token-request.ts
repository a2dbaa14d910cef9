// POST serviceaccounts/{name}/token: a token for the service account, as
// kube-apiserver's TokenREST makes it (`kubectl create token`). The body is
// a TokenRequest; its spec is defaulted (the API server's audiences, an
// hour) and checked, a bound object (a pod, secret or node) must exist with
// the UID given, and the answer is the request with status.token and
// status.expirationTimestamp.
import { BadRequestError, ConflictError, InvalidError, NotFoundError, ServiceUnavailableError, type FieldError } from '../../api/errors.js';
import { isPlainObject, type KubeObject } from '../../api/object.js';
import { groupVersionKindString, splitApiVersion, tokenRequestKind } from '../../api/resources.js';
import { invalid } from '../../api/validation/field-errors.js';
import type { ServiceAccountTokens, TokenBinding } from '../authn/index.js';
import { decodeObjectBody, readBody } from '../http/body.js';
import { sendJson } from '../http/respond.js';
import { secondsText } from '../registry/store.js';
import { bodyFieldValidation, checkTypeMeta, managerFromUserAgent, requireObject, setWarnings, writeOptions } from './body-checks.js';
import type { ResourceRequest } from './resource.js';

const apiVersion = 'authentication.k8s.io/v1';
/** ValidateTokenRequest's bounds on spec.expirationSeconds. */
const minExpirationSeconds = 600;
const maxExpirationSeconds = 2 ** 32;

function invalidRequest(name: string, errors: FieldError[]): InvalidError {
  return new InvalidError('TokenRequest', 'authentication.k8s.io', name, errors);
}

export async function handleTokenRequest(r: ResourceRequest, tokens: ServiceAccountTokens | undefined): Promise<void> {
  if (!tokens) throw new ServiceUnavailableError('serviceaccounts/token is not served: this API server has no service account signing key');
  const namespace = r.info.namespace!;
  const name = r.info.name!;
  writeOptions(r.query, 'token', managerFromUserAgent(r.req), 'CreateOptions');
  const request = requireObject(decodeObjectBody(await readBody(r.req), r.req.headers['content-type']));
  checkTypeMeta(request, apiVersion, 'TokenRequest');
  const warnings = bodyFieldValidation({ query: r.query, semantics: r.semantics, versions: { info: tokenRequestKind, version: 'v1' } }, request);
  const meta = request.metadata;
  if (meta.name && meta.name !== name) throw invalidRequest(name, [invalid('metadata.name', meta.name, 'must match the service account name if specified')]);
  if (meta.namespace && meta.namespace !== namespace) throw invalidRequest(name, [invalid('metadata.namespace', meta.namespace, 'must match the service account namespace if specified')]);
  const serviceAccount = (await r.store.getCached(namespace, name))?.object;
  if (!serviceAccount) throw new NotFoundError(r.store.ref(name));
  const spec = isPlainObject(request.spec) ? request.spec : {};
  const audiences = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? (spec.audiences as string[]) : [...tokens.audiences];
  const expirationSeconds = typeof spec.expirationSeconds === 'number' ? spec.expirationSeconds : 3600;
  const errors: FieldError[] = [];
  if (expirationSeconds < minExpirationSeconds) errors.push(invalid('spec.expirationSeconds', expirationSeconds, 'may not specify a duration less than 10 minutes'));
  if (expirationSeconds > maxExpirationSeconds) errors.push(invalid('spec.expirationSeconds', expirationSeconds, 'may not specify a duration larger than 2^32 seconds'));
  if (errors.length > 0) throw invalidRequest(name, errors);
  const boundObjectRef = isPlainObject(spec.boundObjectRef) ? spec.boundObjectRef : undefined;
  const binding = boundObjectRef ? await boundObject(r, namespace, name, boundObjectRef) : {};
  const { token, issuedAt } = tokens.issue(serviceAccount, binding, expirationSeconds, audiences);
  setWarnings(r.res, warnings);
  sendJson(r.res, 201, {
    kind: 'TokenRequest',
    apiVersion,
    metadata: { name, namespace, creationTimestamp: secondsText(issuedAt) },
    spec: { audiences, expirationSeconds, boundObjectRef: boundObjectRef ?? null },
    status: { token, expirationTimestamp: secondsText(issuedAt + expirationSeconds) },
  });
}

/** The object a token is to be bound to: a pod running as the account, a secret or a node, with the UID given if one is. */
async function boundObject(r: ResourceRequest, namespace: string, serviceAccount: string, ref: Record<string, unknown>): Promise<TokenBinding> {
  const kind = typeof ref.kind === 'string' ? ref.kind : '';
  const { group } = splitApiVersion(typeof ref.apiVersion === 'string' ? ref.apiVersion : '');
  const name = typeof ref.name === 'string' ? ref.name : '';
  const read = async (plural: string, ns: string | undefined): Promise<KubeObject> => {
    const store = r.storeFor('', 'v1', plural)!;
    const obj = (await store.getCached(ns, name))?.object;
    if (!obj) throw new NotFoundError(store.ref(name));
    return obj;
  };
  let binding: TokenBinding;
  let uid: string | undefined;
  if (group === '' && kind === 'Pod') {
    const pod = await read('pods', namespace);
    const podSpec = isPlainObject(pod.spec) ? pod.spec : {};
    if (podSpec.serviceAccountName !== serviceAccount) {
      throw new BadRequestError(`cannot bind token for serviceaccount ${JSON.stringify(serviceAccount)} to pod running with different serviceaccount name.`);
    }
    binding = { pod };
    const nodeName = typeof podSpec.nodeName === 'string' ? podSpec.nodeName : '';
    if (nodeName) {
      // A node that cannot be read is named without its UID, as kube-apiserver embeds what it can.
      const node = (await r.storeFor('', 'v1', 'nodes')!.getCached(undefined, nodeName))?.object;
      binding.node = { name: nodeName, uid: node?.metadata.uid ?? '' };
    }
    uid = pod.metadata.uid;
  } else if (group === '' && kind === 'Secret') {
    const secret = await read('secrets', namespace);
    binding = { secret };
    uid = secret.metadata.uid;
  } else if (group === '' && kind === 'Node') {
    const node = await read('nodes', undefined);
    binding = { node: { name, uid: node.metadata.uid ?? '' } };
    uid = node.metadata.uid;
  } else {
    throw new BadRequestError(`cannot bind token to object of type ${groupVersionKindString(ref.apiVersion, kind)}`);
  }
  if (typeof ref.uid === 'string' && ref.uid !== '' && ref.uid !== uid) {
    throw new ConflictError(
      { group, resource: kind, name },
      `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
    );
  }
  return binding;
}
