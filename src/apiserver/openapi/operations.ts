// The REST operations of served resources, described once and rendered as
// OpenAPI v2 (swagger) and v3 documents. Names, actions and parameters follow
// kube-apiserver so clients that read them (kubectl's query-parameter checks,
// generated clients) see what they expect.
import type { Definitions, GroupVersionKind } from '../../api/schema/types.js';
import { definitionNameForKind } from '../../api/schema/index.js';
import type { ResourceDescriptor } from './resource-descriptor.js';
import { groupVersionPrefix, operationGroupWord } from './resource-descriptor.js';

export type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'patch';

export interface ParameterSpec {
  name: string;
  in: 'path' | 'query';
  type: 'string' | 'integer' | 'boolean';
  description: string;
  required?: boolean;
  uniqueItems?: boolean;
}

export interface ResponseSpec {
  code: string;
  description: string;
  /** Definition name of the body; undefined for no body. */
  definition?: string;
  /** The body is plain text (pod logs). */
  text?: boolean;
}

export interface OperationSpec {
  method: HttpMethod;
  operationId: string;
  description: string;
  action: 'get' | 'list' | 'put' | 'patch' | 'post' | 'delete' | 'deletecollection' | 'watch' | 'watchlist' | 'connect';
  tag: string;
  gvk?: GroupVersionKind;
  parameters: ParameterSpec[];
  /** Definition name of the request body, or "patch" for the patch body. */
  body?: string;
  responses: ResponseSpec[];
  consumes: string[];
  produces: string[];
}

export interface PathSpec {
  path: string;
  /** Path and shared query parameters of every operation on the path. */
  parameters: ParameterSpec[];
  operations: OperationSpec[];
}

export const PATCH_CONTENT_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];
const OBJECT_PRODUCES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
const LIST_PRODUCES = [...OBJECT_PRODUCES, 'application/json;stream=watch', 'application/vnd.kubernetes.protobuf;stream=watch'];
const WATCH_PRODUCES = LIST_PRODUCES;

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
export const STATUS_DEFINITION = `${META}.Status`;
export const WATCH_EVENT_DEFINITION = `${META}.WatchEvent`;
export const DELETE_OPTIONS_DEFINITION = `${META}.DeleteOptions`;
export const PATCH_DEFINITION = `${META}.Patch`;

const q = (name: string, type: ParameterSpec['type'], description: string, extra: Partial<ParameterSpec> = {}): ParameterSpec => ({
  name,
  in: 'query',
  type,
  description,
  uniqueItems: true,
  ...extra,
});

const PRETTY = q('pretty', 'string', "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget).");
const DRY_RUN = q('dryRun', 'string', 'When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed');
const FIELD_MANAGER = q('fieldManager', 'string', 'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.');
const FIELD_MANAGER_APPLY = q('fieldManager', 'string', 'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint. This field is required for apply requests (application/apply-patch) but optional for non-apply patch types (JsonPatch, MergePatch, StrategicMergePatch).');
const FIELD_VALIDATION = q('fieldValidation', 'string', 'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.');
const FORCE = q('force', 'boolean', 'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.');
const GRACE = q('gracePeriodSeconds', 'integer', 'The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.');
const UNSAFE_DELETE = q('ignoreStoreReadErrorWithClusterBreakingPotential', 'boolean', "if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error. A resource is considered corrupt if it can not be retrieved from the underlying storage successfully because of a) its data can not be transformed e.g. decryption failure, or b) it fails to decode into an object. NOTE: unsafe deletion ignores finalizer constraints, skips precondition checks, and removes the object from the storage. WARNING: This may potentially break the cluster if the workload associated with the resource being unsafe-deleted relies on normal deletion flow. Use only if you REALLY know what you are doing. The default value is false, and the user must opt in to enable it");
const ORPHAN = q('orphanDependents', 'boolean', 'Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the "orphan" finalizer will be added to/removed from the object\'s finalizers list. Either this field or PropagationPolicy may be set, but not both.');
const PROPAGATION = q('propagationPolicy', 'string', "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.");
const LIST_PARAMS: ParameterSpec[] = [
  q('allowWatchBookmarks', 'boolean', 'allowWatchBookmarks requests watch events with type "BOOKMARK". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server\'s discretion. Clients should not assume bookmarks are returned at any specific interval, nor may they assume the server will send any BOOKMARK event during a session. If this is not a watch, this field is ignored.'),
  q('continue', 'string', 'The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue) and the server may reject a continue value it does not recognize. If the specified continue value is no longer valid whether due to expiration (generally five to fifteen minutes) or a configuration change on the server, the server will respond with a 410 ResourceExpired error together with a continue token.'),
  q('fieldSelector', 'string', 'A selector to restrict the list of returned objects by their fields. Defaults to everything.'),
  q('labelSelector', 'string', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
  q('limit', 'integer', 'limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results.'),
  q('resourceVersion', 'string', 'resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset'),
  q('resourceVersionMatch', 'string', 'resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset'),
  q('sendInitialEvents', 'boolean', '`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection. Once all such events have been sent, a synthetic "Bookmark" event  will be sent.'),
  q('timeoutSeconds', 'integer', 'Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.'),
  q('watch', 'boolean', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.'),
];

function pathParam(name: string, description: string): ParameterSpec {
  return { name, in: 'path', type: 'string', description, required: true, uniqueItems: true };
}
const NAMESPACE_PARAM = pathParam('namespace', 'object name and auth scope, such as for teams and projects');

export interface OperationOptions {
  /**
   * Advertise the fieldValidation query parameter. kubectl 1.24+ skips its
   * client-side schema validation and asks the server to validate (Strict)
   * when the PATCH operation of a kind lists it.
   */
  fieldValidation?: boolean;
}

function tagFor(r: { group: string; version: string }): string {
  // Kubernetes tags operations "core_v1", "apps_v1", "rbacAuthorization_v1".
  const parts = r.group === '' ? ['core'] : r.group.replace(/\.k8s\.io$/, '').split(/[.-]/);
  return parts.map((p, i) => (i === 0 ? p : p[0]!.toUpperCase() + p.slice(1))).join('') + '_' + r.version;
}

/** The kind of the body a subresource exchanges, what it is called in operation ids, and which methods it has. */
function subresourceKind(r: ResourceDescriptor, sub: string): { gvk: GroupVersionKind; word: string; methods: HttpMethod[] } | undefined {
  const own = { group: r.group, version: r.version, kind: r.kind };
  switch (sub) {
    case 'status':
      return { gvk: own, word: 'Status', methods: ['get', 'put', 'patch'] };
    case 'scale':
      return { gvk: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, word: 'Scale', methods: ['get', 'put', 'patch'] };
    case 'ephemeralcontainers':
      return { gvk: own, word: 'EphemeralContainers', methods: ['get', 'put', 'patch'] };
    case 'resize':
      return { gvk: own, word: 'Resize', methods: ['get', 'put', 'patch'] };
    case 'approval':
      return { gvk: own, word: 'Approval', methods: ['get', 'put', 'patch'] };
    case 'finalize':
      return { gvk: own, word: 'Finalize', methods: ['put'] };
    default:
      return undefined;
  }
}

function camel(s: string): string {
  return s.split(/[^A-Za-z0-9]/).filter(Boolean).map((p) => p[0]!.toUpperCase() + p.slice(1)).join('');
}

/** Every path and operation of one resource. */
export function resourcePaths(r: ResourceDescriptor, defs: Definitions, options: OperationOptions = {}): PathSpec[] {
  const fieldValidation = options.fieldValidation ?? true;
  const gvk: GroupVersionKind = { group: r.group, version: r.version, kind: r.kind };
  const def = definitionNameForKind(gvk, defs);
  const listDef = definitionNameForKind({ ...gvk, kind: `${r.kind}List` }, defs);
  const prefix = groupVersionPrefix(r);
  const word = operationGroupWord(r);
  const ns = r.namespaced ? 'Namespaced' : '';
  const tag = tagFor(r);
  const verbs = new Set(r.verbs);
  const collection = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.plural}` : `${prefix}/${r.plural}`;
  const item = `${collection}/{name}`;
  const nameParam = pathParam('name', `name of the ${r.kind}`);
  const scopeParams = r.namespaced ? [NAMESPACE_PARAM] : [];
  const writeParams = (apply: boolean): ParameterSpec[] => [
    DRY_RUN,
    apply ? FIELD_MANAGER_APPLY : FIELD_MANAGER,
    ...(fieldValidation ? [FIELD_VALIDATION] : []),
  ];
  const paths: PathSpec[] = [];
  const op = (o: Omit<OperationSpec, 'tag' | 'consumes' | 'produces'> & Partial<Pick<OperationSpec, 'consumes' | 'produces'>>): OperationSpec => ({
    tag,
    consumes: ['*/*'],
    produces: OBJECT_PRODUCES,
    ...o,
  });
  const ok = (definition: string | undefined, code = '200', description = 'OK'): ResponseSpec => ({ code, description, definition });

  const collectionOps: OperationSpec[] = [];
  if (verbs.has('list')) {
    collectionOps.push(op({
      method: 'get', operationId: `list${word}${ns}${r.kind}`, description: `list or watch objects of kind ${r.kind}`,
      action: 'list', gvk, parameters: LIST_PARAMS, responses: [ok(listDef)], produces: LIST_PRODUCES,
    }));
  }
  if (verbs.has('create')) {
    collectionOps.push(op({
      method: 'post', operationId: `create${word}${ns}${r.kind}`, description: `create ${article(r.kind)} ${r.kind}`,
      action: 'post', gvk, parameters: writeParams(false), body: def,
      responses: [ok(def), ok(def, '201', 'Created'), ok(def, '202', 'Accepted')],
    }));
  }
  if (verbs.has('deletecollection')) {
    collectionOps.push(op({
      method: 'delete', operationId: `delete${word}Collection${ns}${r.kind}`, description: `delete collection of ${r.kind}`,
      action: 'deletecollection', gvk, body: DELETE_OPTIONS_DEFINITION,
      parameters: [LIST_PARAMS[1]!, DRY_RUN, LIST_PARAMS[2]!, GRACE, UNSAFE_DELETE, LIST_PARAMS[3]!, LIST_PARAMS[4]!, ORPHAN, PROPAGATION, LIST_PARAMS[5]!, LIST_PARAMS[6]!, LIST_PARAMS[7]!, LIST_PARAMS[8]!],
      responses: [ok(STATUS_DEFINITION)],
    }));
  }
  if (collectionOps.length > 0) paths.push({ path: collection, parameters: [...scopeParams, PRETTY], operations: collectionOps });

  const itemOps: OperationSpec[] = [];
  if (verbs.has('get')) {
    itemOps.push(op({ method: 'get', operationId: `read${word}${ns}${r.kind}`, description: `read the specified ${r.kind}`, action: 'get', gvk, parameters: [], responses: [ok(def)] }));
  }
  if (verbs.has('update')) {
    itemOps.push(op({
      method: 'put', operationId: `replace${word}${ns}${r.kind}`, description: `replace the specified ${r.kind}`, action: 'put', gvk,
      parameters: writeParams(false), body: def, responses: [ok(def), ok(def, '201', 'Created')],
    }));
  }
  if (verbs.has('delete')) {
    itemOps.push(op({
      method: 'delete', operationId: `delete${word}${ns}${r.kind}`, description: `delete ${article(r.kind)} ${r.kind}`, action: 'delete', gvk,
      parameters: [DRY_RUN, GRACE, UNSAFE_DELETE, ORPHAN, PROPAGATION], body: DELETE_OPTIONS_DEFINITION,
      responses: [ok(STATUS_DEFINITION), ok(STATUS_DEFINITION, '202', 'Accepted')],
    }));
  }
  if (verbs.has('patch')) {
    itemOps.push(op({
      method: 'patch', operationId: `patch${word}${ns}${r.kind}`, description: `partially update the specified ${r.kind}`, action: 'patch', gvk,
      parameters: [...writeParams(true), FORCE], body: 'patch', consumes: PATCH_CONTENT_TYPES, responses: [ok(def), ok(def, '201', 'Created')],
    }));
  }
  if (itemOps.length > 0) paths.push({ path: item, parameters: [nameParam, ...scopeParams, PRETTY], operations: itemOps });

  if (verbs.has('list') && r.namespaced) {
    paths.push({
      path: `${prefix}/${r.plural}`,
      parameters: [...LIST_PARAMS.slice(0, 5), PRETTY, ...LIST_PARAMS.slice(5)],
      operations: [op({
        method: 'get', operationId: `list${word}${r.kind}ForAllNamespaces`, description: `list or watch objects of kind ${r.kind}`,
        action: 'list', gvk, parameters: [], responses: [ok(listDef)], produces: LIST_PRODUCES,
      })],
    });
  }
  if (verbs.has('watch')) {
    const watchPrefix = r.namespaced ? `${prefix}/watch/namespaces/{namespace}/${r.plural}` : `${prefix}/watch/${r.plural}`;
    const watchParams = [...LIST_PARAMS.slice(0, 5), ...scopeParams, PRETTY, ...LIST_PARAMS.slice(5)];
    paths.push({
      path: watchPrefix,
      parameters: watchParams,
      operations: [op({
        method: 'get', operationId: `watch${word}${ns}${r.kind}List`,
        description: `watch individual changes to a list of ${r.kind}. deprecated: use the 'watch' parameter with a list operation instead.`,
        action: 'watchlist', gvk, parameters: [], responses: [ok(WATCH_EVENT_DEFINITION)], produces: WATCH_PRODUCES,
      })],
    });
    paths.push({
      path: `${watchPrefix}/{name}`,
      parameters: [...LIST_PARAMS.slice(0, 5), nameParam, ...scopeParams, PRETTY, ...LIST_PARAMS.slice(5)],
      operations: [op({
        method: 'get', operationId: `watch${word}${ns}${r.kind}`,
        description: `watch changes to an object of kind ${r.kind}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.`,
        action: 'watch', gvk, parameters: [], responses: [ok(WATCH_EVENT_DEFINITION)], produces: WATCH_PRODUCES,
      })],
    });
    if (r.namespaced) {
      paths.push({
        path: `${prefix}/watch/${r.plural}`,
        parameters: [...LIST_PARAMS.slice(0, 5), PRETTY, ...LIST_PARAMS.slice(5)],
        operations: [op({
          method: 'get', operationId: `watch${word}${r.kind}ListForAllNamespaces`,
          description: `watch individual changes to a list of ${r.kind}. deprecated: use the 'watch' parameter with a list operation instead.`,
          action: 'watchlist', gvk, parameters: [], responses: [ok(WATCH_EVENT_DEFINITION)], produces: WATCH_PRODUCES,
        })],
      });
    }
  }

  for (const sub of r.subresources) {
    const subPath = `${item}/${sub}`;
    const params = [nameParam, ...scopeParams];
    const object = subresourceKind(r, sub);
    if (object) {
      const subDef = definitionNameForKind(object.gvk, defs);
      const all: Record<string, OperationSpec> = {
        get: op({ method: 'get', operationId: `read${word}${ns}${r.kind}${object.word}`, description: `read ${sub} of the specified ${r.kind}`, action: 'get', gvk: object.gvk, parameters: [], responses: [ok(subDef)] }),
        put: op({
          method: 'put', operationId: `replace${word}${ns}${r.kind}${object.word}`, description: `replace ${sub} of the specified ${r.kind}`, action: 'put', gvk: object.gvk,
          parameters: writeParams(false), body: subDef, responses: [ok(subDef), ok(subDef, '201', 'Created')],
        }),
        patch: op({
          method: 'patch', operationId: `patch${word}${ns}${r.kind}${object.word}`, description: `partially update ${sub} of the specified ${r.kind}`, action: 'patch', gvk: object.gvk,
          parameters: [...writeParams(true), FORCE], body: 'patch', consumes: PATCH_CONTENT_TYPES, responses: [ok(subDef), ok(subDef, '201', 'Created')],
        }),
      };
      const ops = object.methods.map((m) => all[m]!);
      paths.push({ path: subPath, parameters: [...params, PRETTY], operations: ops });
      continue;
    }
    if (sub === 'binding' || sub === 'eviction' || sub === 'token') {
      const bodyGvk: GroupVersionKind = sub === 'binding'
        ? { group: '', version: 'v1', kind: 'Binding' }
        : sub === 'eviction'
          ? { group: 'policy', version: 'v1', kind: 'Eviction' }
          : { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' };
      const bodyDef = definitionNameForKind(bodyGvk, defs);
      paths.push({
        path: subPath,
        parameters: [...params, PRETTY],
        operations: [op({
          method: 'post', operationId: `create${word}${ns}${r.kind}${camel(sub)}`, description: `create ${sub} of ${article(r.kind)} ${r.kind}`,
          action: 'post', gvk: bodyGvk, parameters: writeParams(false), body: bodyDef,
          responses: [ok(bodyDef), ok(bodyDef, '201', 'Created'), ok(bodyDef, '202', 'Accepted')],
        })],
      });
      continue;
    }
    if (sub === 'log') {
      paths.push({
        path: subPath,
        parameters: [
          q('container', 'string', 'The container for which to stream logs. Defaults to only container if there is one container in the pod.'),
          q('follow', 'boolean', 'Follow the log stream of the pod. Defaults to false.'),
          q('insecureSkipTLSVerifyBackend', 'boolean', "insecureSkipTLSVerifyBackend indicates that the apiserver should not confirm the validity of the serving certificate of the backend it is connecting to.  This will make the HTTPS connection between the apiserver and the backend insecure. This means the apiserver cannot verify the log data it is receiving came from the real kubelet.  If the kubelet is configured to verify the apiserver's TLS credentials, it does not mean the connection to the real kubelet is vulnerable to a man in the middle attack (e.g. an attacker could not intercept the actual log data coming from the real kubelet)."),
          q('limitBytes', 'integer', 'If set, the number of bytes to read from the server before terminating the log output. This may not display a complete final line of logging, and may return slightly more or slightly less than the specified limit.'),
          ...params,
          PRETTY,
          q('previous', 'boolean', 'Return previous terminated container logs. Defaults to false.'),
          q('sinceSeconds', 'integer', 'A relative time in seconds before the current time from which to show logs. If this value precedes the time a pod was started, only logs since the pod start will be returned. If this value is in the future, no logs will be returned. Only one of sinceSeconds or sinceTime may be specified.'),
          q('stream', 'string', 'Specify which container log stream to return to the client. Acceptable values are "All", "Stdout" and "Stderr". If not specified, "All" is used, and both stdout and stderr are returned interleaved. Note that when "TailLines" is specified, "Stream" can only be set to nil or "All".'),
          q('tailLines', 'integer', 'If set, the number of lines from the end of the logs to show. If not specified, logs are shown from the creation of the container or sinceSeconds or sinceTime. Note that when "TailLines" is specified, "Stream" can only be set to nil or "All".'),
          q('timestamps', 'boolean', 'If true, add an RFC3339 or RFC3339Nano timestamp at the beginning of every line of log output. Defaults to false.'),
        ],
        operations: [op({
          method: 'get', operationId: `read${word}${ns}${r.kind}Log`, description: `read log of the specified ${r.kind}`, action: 'get', gvk,
          parameters: [], responses: [{ code: '200', description: 'OK', text: true }], produces: ['text/plain', 'application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'],
        })],
      });
      continue;
    }
    // exec, attach, portforward, proxy: streaming connections kube-apiserver describes as "connect".
    const connectOps: OperationSpec[] = (['get', 'post'] as const).map((method) => op({
      method,
      operationId: `connect${word}${method === 'get' ? 'Get' : 'Post'}${ns}${r.kind}${camel(sub)}`,
      description: `connect ${method.toUpperCase()} requests to ${sub} of ${r.kind}`,
      action: 'connect', gvk: { group: r.group, version: r.version, kind: `${r.kind}${camel(sub)}Options` },
      parameters: [], responses: [{ code: '200', description: 'OK', text: true }], produces: ['*/*'],
    }));
    paths.push({ path: subPath, parameters: params, operations: connectOps });
  }
  return paths;
}

function article(word: string): string {
  return /^[AEIOU]/.test(word) ? 'an' : 'a';
}

/** GET of a group version's APIResourceList, as each group version document lists it. */
export function groupVersionDiscoveryPath(gv: { group: string; version: string }): PathSpec {
  return {
    path: `${groupVersionPrefix(gv)}/`,
    parameters: [],
    operations: [{
      method: 'get',
      operationId: `get${operationGroupWord(gv)}APIResources`,
      description: 'get available resources',
      action: 'get',
      tag: tagFor(gv),
      parameters: [],
      responses: [{ code: '200', description: 'OK', definition: `${META}.APIResourceList` }],
      consumes: ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'],
      produces: OBJECT_PRODUCES,
    }],
  };
}

