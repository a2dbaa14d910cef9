// The REST verbs on one resource: get, list, watch, create, update, patch,
// delete, deletecollection, with the subresources every kind shares (status, scale).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, BadRequestError, InternalError, MethodNotAllowedError, NotFoundError, ServiceUnavailableError, UnsupportedMediaTypeError, type FieldError, InvalidError } from '../../api/errors.js';
import { cloneJson, isPlainObject, withoutResourceVersion, type KubeObject } from '../../api/object.js';
import { GoDecodeError } from '../../api/schema/go-decode.js';
import { loadDefinitions } from '../../api/schema/index.js';
import { checkGoTypes } from '../../api/schema/unknown-fields.js';
import { decodeDocument, decodeObjectBody, mediaType, readBody } from '../http/body.js';
import { queryFlag, type RequestInfo } from '../http/request-info.js';
import { negotiateOutput, sendJson, sendJsonParts, type AcceptedOutput } from '../http/respond.js';
import type { DeleteOptions, GenericStore, ObjectFilter, WriteOptions, WrittenObject } from '../registry/store.js';
import { applyScaleToObject, scaleFromObject, scaleResource, unsetSpecReplicas } from './scale.js';
import type { PatchType, Semantics } from './semantics.js';
import { serveWatch } from './watch.js';
import { handleBinding, handleEviction } from './pod-subresources.js';
import { handleTokenRequest } from './token-request.js';
import type { ServiceAccountTokens } from '../authn/index.js';
import { handleNodeProxy } from './node-proxy.js';
import { handlePodLog, type KubeletClientConfig } from './pod-log.js';
import { connectSubresources, refuseWithoutUpgrade } from './pod-connect.js';
import { listBodyParts, partialMetadata, tableBodyParts, tableResponse, type TableContext } from './output.js';
import { int64Param, validateListOptions } from './list-options.js';
import { appliedDuplicates, bodyFieldValidation, checkTypeMeta, fieldValidation, jsonPatchProblems, managerFromUserAgent, requireObject, setWarnings, writeOptions, type SentBody } from './body-checks.js';
import { VersionView } from './versions.js';
import { crdDeprecationWarning, crdScalePaths, crdSpec, type CrdScalePaths } from '../crd.js';

export interface ResourceRequest {
  req: IncomingMessage;
  res: ServerResponse;
  info: RequestInfo;
  query: URLSearchParams;
  store: GenericStore;
  semantics: Semantics;
  /** Another served resource's store (the eviction handler reads PodDisruptionBudgets). */
  storeFor(group: string, version: string, plural: string): GenericStore | undefined;
  /** The request's version of the resource. */
  versions: VersionView;
  /** How to reach node agents (pods/log); pods/log answers 503 without it. */
  kubeletClient?: KubeletClientConfig;
  /** Issues service account tokens (serviceaccounts/token answers 503 without it). */
  serviceAccountTokens?: ServiceAccountTokens;
}

/** Subresources served here; any other a kind lists is answered 503 until a later component serves it. */
const genericSubresources = new Set(['status', 'scale', 'finalize', 'binding', 'eviction', 'log', 'exec', 'attach', 'portforward', 'ephemeralcontainers', 'token']);

const patchTypes: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
  'application/apply-patch+cbor': 'apply',
};

function checkNamespace(obj: KubeObject, namespace: string | undefined, store: GenericStore): void {
  if (!store.info.namespaced) return;
  const ns = obj.metadata.namespace;
  if (ns !== undefined && ns !== '' && ns !== namespace) {
    throw new BadRequestError('the namespace of the provided object does not match the namespace sent on the request');
  }
}

/** A patch whose result does not decode: 422 on the field "patch", with the result's JSON, as kube-apiserver answers. */
function undecodablePatch(patched: unknown, err: GoDecodeError): InvalidError {
  return new InvalidError('', '', '', [{ type: 'FieldValueInvalid', field: 'patch', value: JSON.stringify(patched), detail: err.message }]);
}

/** Sends what a write returned: its JSON text as the store made it when no conversion is needed, else as sendObject. */
function sendWritten(r: ResourceRequest, code: number, written: WrittenObject): void {
  const output = negotiateOutput(r.req);
  if (written.json !== undefined && r.versions.same && !output.table && !output.metadataOnly) sendJson(r.res, code, written.json);
  else sendObject(r, code, written.object, output);
}

/** Sends a stored object at the request's version (as a Table when asked). */
function sendObject(r: ResourceRequest, code: number, stored: KubeObject, out?: AcceptedOutput): void {
  const output = out ?? negotiateOutput(r.req);
  const obj = r.versions.out(stored);
  if (output.table) sendJson(r.res, code, tableResponse(r, [stored], output));
  else if (output.metadataOnly) sendJson(r.res, code, partialMetadata(obj));
  else sendJson(r.res, code, obj);
}

export async function handleResource(r: ResourceRequest): Promise<void> {
  const { info, store } = r;
  const crd = r.versions.info.crd && crdSpec(r.versions.info.crd);
  const deprecation = crd ? crdDeprecationWarning(crd, r.versions.version) : undefined;
  if (deprecation) setWarnings(r.res, [deprecation]);
  const sub = info.subresource ?? '';
  if (sub && !store.info.subresources.includes(sub)) throw new NotFoundError({ group: store.info.group, resource: `${store.info.plural}/${sub}` }, 'the server could not find the requested resource');
  if (store.info.namespaced && !info.namespace && info.name) {
    throw new NotFoundError({ group: store.info.group, resource: store.info.plural, name: info.name }, 'the server could not find the requested resource');
  }
  if (!store.info.namespaced && info.namespace) {
    throw new NotFoundError({ group: store.info.group, resource: store.info.plural }, 'the server could not find the requested resource');
  }
  if (sub === 'proxy' && store.info.group === '' && store.info.kind === 'Node') return handleNodeProxy(r, r.kubeletClient);
  if (sub && !genericSubresources.has(sub)) {
    throw new ServiceUnavailableError(`${store.info.plural}/${sub} is not served by this Nami version yet`);
  }
  if (sub === 'log') {
    if (store.info.group !== '' || store.info.kind !== 'Pod') throw new ServiceUnavailableError(`${store.info.plural}/${sub} is not served by this Nami version yet`);
    return handlePodLog(r, r.kubeletClient);
  }
  if (connectSubresources.has(sub)) {
    if (store.info.group !== '' || store.info.kind !== 'Pod') throw new ServiceUnavailableError(`${store.info.plural}/${sub} is not served by this Nami version yet`);
    // Upgrade requests reach proxyPodConnect through the server's 'upgrade' event; this is a plain request.
    return refuseWithoutUpgrade({ subresource: sub, method: r.req.method ?? 'GET', namespace: info.namespace!, name: info.name!, query: r.query, pods: store, storeFor: r.storeFor }, r.kubeletClient);
  }
  const verb = info.verb;
  if (sub === 'scale') return handleScale(r);
  if (sub === 'token') {
    if (verb !== 'create') throw new MethodNotAllowedError(store.ref(info.name));
    return handleTokenRequest(r, r.serviceAccountTokens);
  }
  if (store.info.group === '' && store.info.kind === 'Pod' && (sub === 'binding' || sub === 'eviction')) {
    if (verb !== 'create') throw new MethodNotAllowedError(store.ref(info.name));
    return sub === 'binding' ? handleBinding(r) : handleEviction(r, r.storeFor('policy', 'v1', 'poddisruptionbudgets'));
  }
  // pods/ephemeralcontainers is read and written as the pod (get, update, patch), as kube-apiserver serves it.
  if (sub === 'ephemeralcontainers' && verb !== 'get' && verb !== 'update' && verb !== 'patch') throw new MethodNotAllowedError(store.ref(info.name));
  switch (verb) {
    case 'get':
      return handleGet(r);
    case 'list':
      return handleList(r);
    case 'watch':
      return serveWatch(r);
    case 'create':
      if (info.name && !sub) throw new MethodNotAllowedError(store.ref(info.name));
      return handleCreate(r);
    case 'update':
      return handleUpdate(r);
    case 'patch':
      return handlePatch(r);
    case 'delete':
      return handleDelete(r);
    case 'deletecollection':
      return handleDeleteCollection(r);
    default:
      throw new MethodNotAllowedError(store.ref(info.name));
  }
}

/**
 * The labelSelector and fieldSelector of the request as a filter on stored
 * objects; selectors name fields of the request's resource and version.
 */
export function requestFilter(r: ResourceRequest): ObjectFilter | undefined {
  const filter = r.semantics.listFilter(r.versions.info, r.query.get('labelSelector') ?? undefined, r.query.get('fieldSelector') ?? undefined);
  if (!filter || r.versions.same) return filter;
  return { attributes: (o) => filter.attributes(r.versions.out(o)), matches: filter.matches };
}

async function handleGet(r: ResourceRequest): Promise<void> {
  const { store, info } = r;
  const output = negotiateOutput(r.req);
  const hit = await store.getCached(info.namespace, info.name!);
  if (!hit) throw new NotFoundError(store.ref(info.name));
  // The cache serialized the object once; a plain read sends that text.
  if (!output.table && !output.metadataOnly) sendJson(r.res, 200, r.versions.json(hit));
  else sendObject(r, 200, hit.view(), output);
}

async function handleList(r: ResourceRequest): Promise<void> {
  const q = r.query;
  const output = negotiateOutput(r.req);
  const filter = requestFilter(r);
  validateListOptions(q);
  const limit = int64Param(q, 'limit');
  const result = await r.store.list(r.info.namespace, {
    filter,
    filtered: filter !== undefined,
    limit: limit && limit > 0 ? limit : undefined,
    continue: q.get('continue') ?? undefined,
    resourceVersion: q.get('resourceVersion') ?? undefined,
    resourceVersionMatch: q.get('resourceVersionMatch') ?? undefined,
  });
  const parts = output.table ? tableBodyParts(r, result, output) : listBodyParts(r.store, r.versions, result, output);
  await sendJsonParts(r.res, 200, parts);
}

async function readObject(r: ResourceRequest): Promise<KubeObject> {
  const raw = await readBody(r.req);
  return requireObject(decodeObjectBody(raw, r.req.headers['content-type']));
}

async function handleCreate(r: ResourceRequest): Promise<void> {
  const { created, warnings } = await create(r, await readBody(r.req));
  setWarnings(r.res, warnings);
  sendWritten(r, 201, created);
}

/** A create of the request's body, which nothing here keeps while the write is pending (see GenericStore.createEncoded). */
function create(r: ResourceRequest, raw: Buffer): Promise<{ created: WrittenObject; warnings: string[] }> {
  const { store, info } = r;
  const obj = requireObject(decodeObjectBody(raw, r.req.headers['content-type']));
  checkTypeMeta(obj, r.versions.apiVersion, store.info.kind);
  checkNamespace(obj, info.namespace, store);
  if (store.info.namespaced && !info.namespace) throw new BadRequestError('the server could not find the requested resource: a namespaced resource is created under /namespaces/{namespace}/');
  const warnings = bodyFieldValidation(r, obj);
  // A JSON body parses to a tree of its own, which the store may take as it is (YAML may share nodes between aliases).
  const owned = mediaType(r.req.headers['content-type']) === 'application/json';
  return store.createEncoded(info.namespace, r.versions.in(obj), writeOptions(r.query, '', managerFromUserAgent(r.req), 'CreateOptions'), owned).then((created) => ({ created, warnings }));
}

async function handleUpdate(r: ResourceRequest): Promise<void> {
  const { store, info } = r;
  const sub = info.subresource ?? '';
  const obj = await readObject(r);
  checkTypeMeta(obj, r.versions.apiVersion, store.info.kind);
  checkNamespace(obj, info.namespace, store);
  if (obj.metadata.name !== undefined && obj.metadata.name !== info.name) {
    throw new BadRequestError(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${info.name})`);
  }
  const warnings = bodyFieldValidation(r, obj);
  const opts = writeOptions(r.query, sub, managerFromUserAgent(r.req), 'UpdateOptions');
  const stored = r.versions.in(obj);
  // The store changes what mutate returns: a retry after a conflict starts from a fresh copy.
  let tries = 0;
  const ratcheted = ratchetWarnings(store);
  const written = await store.update(info.namespace, info.name!, () => (tries++ === 0 ? stored : cloneJson(stored)), {
    ...opts,
    allowCreate: !sub && (store.strategy.allowCreateOnUpdate ?? false),
    warnings: ratcheted,
  });
  setWarnings(r.res, ratcheted ? [...warnings, ...ratcheted] : warnings);
  sendWritten(r, written.created ? 201 : 200, written);
}

/**
 * Where an update's validation errors let off by ratcheting go, to come
 * back as warnings: only custom resources' rules ratchet, so the writes of
 * built-in kinds (the hot path) make no set.
 */
function ratchetWarnings(store: ResourceRequest['store']): Set<string> | undefined {
  return store.info.crd ? new Set<string>() : undefined;
}

function patchTypeOf(r: ResourceRequest): PatchType {
  const type = mediaType(r.req.headers['content-type']);
  const pt = patchTypes[type];
  if (!pt) throw new UnsupportedMediaTypeError(type, Object.keys(patchTypes));
  return pt;
}

/**
 * An applied configuration with fields its type does not declare cannot be
 * typed, whatever fieldValidation says: refused in structured-merge-diff's
 * words. (kube-apiserver answers it with a 500, a known bug whose fix makes
 * it the 400 given here.)
 */
function refuseUndeclaredFields(r: ResourceRequest, applied: KubeObject): void {
  const undeclared = r.semantics.undeclaredApplyFields(r.versions.info, r.versions.version, applied);
  if (undeclared.length === 0) return;
  const errors = undeclared.map((p) => `${p}: field not declared in schema`);
  const gvk = `${r.versions.info.group}/${r.versions.version}, Kind=${r.versions.info.kind}`;
  const object = `${applied.metadata.namespace ?? ''}/${applied.metadata.name ?? r.info.name ?? ''}; ${gvk}`;
  throw new BadRequestError(`failed to create typed patch object (${object}): ${errors.length === 1 ? errors[0] : ['errors:', ...errors.map((e) => `  ${e}`)].join('\n')}`);
}

async function handlePatch(r: ResourceRequest): Promise<void> {
  const { store, info } = r;
  const sub = info.subresource ?? '';
  const type = patchTypeOf(r);
  const raw = await readBody(r.req);
  const patchDoc = decodeDocument(raw, type === 'apply');
  const opts = writeOptions(r.query, sub, managerFromUserAgent(r.req), 'PatchOptions');
  let warnings: string[] = [];
  const ratcheted = ratchetWarnings(store);
  if (type === 'apply') {
    const manager = r.query.get('fieldManager');
    if (!manager) throw new BadRequestError('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    const force = queryFlag(r.query, 'force');
    const applied = requireObject(patchDoc);
    checkTypeMeta(applied, r.versions.apiVersion, store.info.kind);
    checkNamespace(applied, info.namespace, store);
    if (applied.metadata.name !== undefined && applied.metadata.name !== info.name) {
      throw new BadRequestError(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${info.name})`);
    }
    const repeated = appliedDuplicates(r, applied);
    refuseUndeclaredFields(r, applied);
    warnings = [...repeated, ...bodyFieldValidation(r, applied, { decoded: false })];
    const written = await store.update(
      info.namespace,
      info.name!,
      (live) => {
        const view = r.versions;
        const merged = r.semantics.apply(view.info, view.version, live && view.out(live), { ...applied, metadata: { ...applied.metadata, name: info.name } }, manager, force, sub);
        if (live) merged.metadata.resourceVersion = applied.metadata.resourceVersion;
        return view.in(merged);
      },
      { ...opts, fieldManager: manager, allowCreate: !sub, managedFieldsSet: true, warnings: ratcheted },
    );
    setWarnings(r.res, ratcheted ? [...warnings, ...ratcheted] : warnings);
    sendWritten(r, written.created ? 201 : 200, written);
    return;
  }
  // A merge patch brings unknown fields only with its own members: those are checked (and dropped) once,
  // instead of the whole patched object on every try. The other patch types are checked on their result.
  const mergeChecked = type === 'merge' && isPlainObject(patchDoc);
  // A merge patch member that does not decode fails the patch once its result is known (the error shows it).
  let undecodable: GoDecodeError | undefined;
  if (mergeChecked) {
    try {
      warnings = fieldValidation(r, patchDoc as KubeObject, 'mergePatch');
    } catch (err) {
      if (!(err instanceof GoDecodeError)) throw err;
      undecodable = err;
    }
  }
  // Such a patch need not copy the whole current object either: its result shares what the patch does not reach.
  const sharesCurrent = mergeChecked && r.versions.same;
  // The keys a strategic merge patch repeats are reported with its result's unknown fields; a JSON patch's ops' own problems before them.
  const sent: SentBody = type === 'json' ? { before: jsonPatchProblems(patchDoc), patched: true } : { body: patchDoc, patched: true };
  const written = await store.update(
    info.namespace,
    info.name!,
    (current) => {
      if (!current) throw new NotFoundError(store.ref(info.name));
      const pinned = isPlainObject(patchDoc) && isPlainObject(patchDoc.metadata) ? patchDoc.metadata.resourceVersion : undefined;
      const patched = r.semantics.patch(r.versions.info, r.versions.version, r.versions.out(current), type, patchDoc, sharesCurrent);
      if (!isPlainObject(patched) || !isPlainObject(patched.metadata)) throw new BadRequestError('the patch produced an object without metadata');
      // A patch only pins the version when it names one itself. The metadata is a copy either way, its own,
      // as the store expects of a result that shares the rest (a merge patch's top level is always new).
      patched.metadata = typeof pinned === 'string' ? { ...patched.metadata, resourceVersion: pinned } : withoutResourceVersion(patched.metadata);
      if (undecodable) throw undecodablePatch(patched, undecodable);
      if (!mergeChecked) {
        try {
          warnings = fieldValidation(r, patched, 'object', sent);
        } catch (err) {
          throw err instanceof GoDecodeError ? undecodablePatch(patched, err) : err;
        }
      }
      return r.versions.in(patched);
    },
    { ...opts, sharesCurrent, warnings: ratcheted },
  );
  setWarnings(r.res, ratcheted ? [...warnings, ...ratcheted] : warnings);
  sendWritten(r, 200, written);
}

async function deleteOptionsFrom(r: ResourceRequest): Promise<DeleteOptions> {
  const raw = await readBody(r.req);
  const opts: DeleteOptions = {};
  if (raw.length > 0 && raw.toString('utf8').trim() !== '') {
    const body = decodeObjectBody(raw, r.req.headers['content-type']);
    if (!isPlainObject(body)) throw new BadRequestError('DeleteOptions must be an object');
    try {
      checkGoTypes(loadDefinitions(), 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions', body);
    } catch (err) {
      // kube-apiserver answers this with its decoder's error as a 500; it is the client's mistake.
      throw err instanceof GoDecodeError ? new BadRequestError(err.message) : err;
    }
    if (typeof body.gracePeriodSeconds === 'number') opts.gracePeriodSeconds = body.gracePeriodSeconds;
    if (typeof body.propagationPolicy === 'string') opts.propagationPolicy = body.propagationPolicy as DeleteOptions['propagationPolicy'];
    if (typeof body.orphanDependents === 'boolean') opts.orphanDependents = body.orphanDependents;
    if (isPlainObject(body.preconditions)) opts.preconditions = body.preconditions as DeleteOptions['preconditions'];
    if (Array.isArray(body.dryRun) && body.dryRun.length > 0) opts.dryRun = true;
  }
  const q = r.query;
  const grace = q.get('gracePeriodSeconds');
  if (grace !== null) opts.gracePeriodSeconds = Number(grace);
  const policy = q.get('propagationPolicy');
  if (policy !== null) opts.propagationPolicy = policy as DeleteOptions['propagationPolicy'];
  if (q.getAll('dryRun').length > 0) opts.dryRun = true;
  if (opts.propagationPolicy && !['Orphan', 'Background', 'Foreground'].includes(opts.propagationPolicy)) {
    const errs: FieldError[] = [{ type: 'FieldValueNotSupported', field: 'propagationPolicy', value: opts.propagationPolicy, detail: 'supported values: "Foreground", "Background", "Orphan", "nil"' }];
    throw new InvalidError('DeleteOptions', 'meta.k8s.io', '', errs);
  }
  if (opts.gracePeriodSeconds !== undefined && (!Number.isInteger(opts.gracePeriodSeconds) || opts.gracePeriodSeconds < 0)) {
    throw new BadRequestError(`invalid gracePeriodSeconds: ${String(opts.gracePeriodSeconds)}`);
  }
  return opts;
}

async function handleDelete(r: ResourceRequest): Promise<void> {
  const opts = await deleteOptionsFrom(r);
  const { object, deleted } = await r.store.delete(r.info.namespace, r.info.name!, opts);
  if (deleted && !r.store.strategy.returnDeletedObject) {
    // As kube-apiserver's store for most kinds: the deleted object named in a Status (its kind the plural resource, as there).
    const { group, plural } = r.store.info;
    const details = { name: object.metadata.name, ...(group ? { group } : {}), kind: plural, uid: object.metadata.uid };
    sendJson(r.res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details });
    return;
  }
  // As kube-apiserver: 202 only for a pending delete that asked for orphanDependents=false; 200 otherwise.
  sendObject(r, !deleted && opts.orphanDependents === false ? 202 : 200, object);
}

async function handleDeleteCollection(r: ResourceRequest): Promise<void> {
  const opts = await deleteOptionsFrom(r);
  const filter = requestFilter(r);
  const listing = await r.store.list(r.info.namespace, { filter, filtered: filter !== undefined });
  const items: KubeObject[] = [];
  for (const item of listing.items) {
    try {
      const { object } = await r.store.delete(item.object.metadata.namespace, item.object.metadata.name!, opts);
      items.push(object);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }
  sendJson(r.res, 200, { apiVersion: r.versions.apiVersion, kind: r.store.info.listKind, metadata: { resourceVersion: String(r.store.cache.revision) }, items: items.map((o) => r.versions.out(o)) });
}

/** A custom resource's scale paths at the request's version; undefined for built-in kinds. */
function scalePathsOf(r: ResourceRequest): CrdScalePaths | undefined {
  const crd = r.store.info.crd;
  const spec = crd ? crdSpec(crd) : undefined;
  return spec ? crdScalePaths(spec, r.versions.version) : undefined;
}

/**
 * The scale subresource: an autoscaling/v1 Scale read from the object and
 * written back into its spec replicas, as one update of the object (its
 * strategy, generation and validation), with the field ownership recorded
 * under the subresource "scale".
 */
async function handleScale(r: ResourceRequest): Promise<void> {
  const { store, info } = r;
  const paths = scalePathsOf(r);
  const opts = writeOptions(r.query, 'scale', managerFromUserAgent(r.req), info.verb === 'patch' ? 'PatchOptions' : 'UpdateOptions');
  if (info.verb === 'get') {
    const output = negotiateOutput(r.req);
    const { scale, found } = scaleFromObject(await store.get(info.namespace, info.name!), paths);
    if (!found) throw new InternalError(`the spec replicas field ${JSON.stringify(paths?.specReplicasPath)} does not exist`);
    if (!output.table) sendJson(r.res, 200, scale);
    else sendJson(r.res, 200, tableResponse(scaleTableContext(r), [scale], output));
    return;
  }
  let requested: KubeObject | undefined;
  let patchType: PatchType | undefined;
  let patchDoc: unknown;
  if (info.verb === 'update') {
    requested = await readObject(r);
    checkTypeMeta(requested, 'autoscaling/v1', 'Scale');
  } else if (info.verb === 'patch') {
    patchType = patchTypeOf(r);
    if (patchType === 'apply') throw new BadRequestError('server-side apply on the scale subresource is not supported');
    patchDoc = decodeDocument(await readBody(r.req), false);
  } else {
    throw new MethodNotAllowedError(store.ref(info.name));
  }
  const { object } = await store.update(
    info.namespace,
    info.name!,
    (current) => {
      if (!current) throw new NotFoundError(store.ref(info.name));
      const { scale, found } = scaleFromObject(current, paths);
      if (!found) (scale.spec as { replicas: number }).replicas = unsetSpecReplicas;
      const wanted = requested ?? r.semantics.patch(scaleResource, 'v1', scale, patchType as Exclude<PatchType, 'apply'>, patchDoc);
      // The scale's resourceVersion (when given) is a precondition on the whole object.
      const rv = wanted.metadata.resourceVersion;
      if (rv) current.metadata.resourceVersion = rv;
      else current.metadata = withoutResourceVersion(current.metadata);
      return applyScaleToObject(current, wanted, paths);
    },
    { ...opts, subresource: '', managedFieldsSubresource: 'scale' },
  );
  sendJson(r.res, 200, scaleFromObject(object, paths).scale);
}

/** Tables of Scales: Kubernetes' Scale columns for built-in kinds; a custom resource's own columns (its printer columns read from the Scale). */
function scaleTableContext(r: ResourceRequest): TableContext {
  const info = r.store.info.crd ? r.store.info : scaleResource;
  return { semantics: r.semantics, query: r.query, versions: new VersionView(info, r.versions.version, info, r.versions.version) };
}
