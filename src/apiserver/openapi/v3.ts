// OpenAPI v3 as kube-apiserver serves it: an index at /openapi/v3 naming one
// document per group version, and the per-group-version documents at
// /openapi/v3/api/v1, /openapi/v3/apis/apps/v1, ... kubectl 1.27+ explains
// fields from these and checks them for the fieldValidation parameter.
import { createHash } from 'node:crypto';
import type { Definitions, Schema } from '../../api/schema/types.js';
import type { OpenAPIDocumentOptions } from './v2.js';
import { KUBERNETES_OPENAPI_VERSION } from './v2.js';
import type { OperationSpec, ParameterSpec, PathSpec } from './operations.js';
import { groupVersionDiscoveryPath, PATCH_DEFINITION, resourcePaths } from './operations.js';
import type { ResourceDescriptor } from './resource-descriptor.js';
import { groupVersionOf } from './resource-descriptor.js';

type Json = Record<string, unknown>;

/** "api/v1" for "v1", "apis/apps/v1" for "apps/v1"; already prefixed names pass through. */
export function openAPIv3Path(groupVersion: string): string {
  if (groupVersion.startsWith('api/') || groupVersion.startsWith('apis/')) return groupVersion;
  return groupVersion.includes('/') ? `apis/${groupVersion}` : `api/${groupVersion}`;
}

/** The hash kube-apiserver puts in serverRelativeURL: SHA-512 of the document, upper-case hex. */
export function openAPIv3Hash(doc: object): string {
  return createHash('sha512').update(JSON.stringify(doc)).digest('hex').toUpperCase();
}

/**
 * The /openapi/v3 index. `hashes` maps a group version ("v1", "apps/v1") to the
 * hash of its current document (see openAPIv3Hash) so clients refetch a
 * document only when it changed; without one the group version name is hashed.
 */
export function buildOpenAPIv3Index(groupVersions: string[], hashes: Record<string, string> = {}): Json {
  const paths: Record<string, Json> = {};
  for (const gv of [...groupVersions].sort((a, b) => openAPIv3Path(a).localeCompare(openAPIv3Path(b)))) {
    const path = openAPIv3Path(gv);
    const hash = hashes[gv] ?? hashes[path] ?? createHash('sha512').update(path).digest('hex').toUpperCase();
    paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` };
  }
  return { paths };
}

const V2_PREFIX = '#/definitions/';
const V3_PREFIX = '#/components/schemas/';

/** A v2 schema in v3 form: component references, and allOf where a reference has siblings (v3 ignores them). */
export function toOpenAPIv3Schema(schema: Schema): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === '$ref') continue;
    if (k === 'properties' && v && typeof v === 'object') {
      out.properties = Object.fromEntries(Object.entries(v as Record<string, Schema>).map(([name, s]) => [name, toOpenAPIv3Schema(s)]));
    } else if ((k === 'items' || k === 'additionalProperties') && v && typeof v === 'object' && !Array.isArray(v)) {
      out[k] = toOpenAPIv3Schema(v as Schema);
    } else out[k] = v;
  }
  if (schema.$ref !== undefined) {
    const ref = schema.$ref.startsWith(V2_PREFIX) ? V3_PREFIX + schema.$ref.slice(V2_PREFIX.length) : schema.$ref;
    if (Object.keys(out).length === 0) return { $ref: ref };
    return { allOf: [{ $ref: ref }], ...out };
  }
  return out;
}

function referencedDefinitions(roots: Iterable<string>, defs: Definitions): string[] {
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (seen.has(name) || !defs[name]) continue;
    seen.add(name);
    JSON.stringify(defs[name], (k, v: unknown) => {
      if (k === '$ref' && typeof v === 'string' && v.startsWith(V2_PREFIX)) queue.push(v.slice(V2_PREFIX.length));
      return v;
    });
  }
  return [...seen].sort();
}

function v3Parameter(p: ParameterSpec): Json {
  const out: Json = { description: p.description, in: p.in, name: p.name };
  if (p.required) out.required = true;
  const schema: Json = { type: p.type };
  if (p.uniqueItems) schema.uniqueItems = true;
  out.schema = schema;
  return out;
}

function v3Operation(op: OperationSpec, used: Set<string>): Json {
  const out: Json = { description: op.description, operationId: op.operationId };
  if (op.parameters.length > 0) out.parameters = op.parameters.map(v3Parameter);
  if (op.body !== undefined) {
    const def = op.body === 'patch' ? PATCH_DEFINITION : op.body;
    used.add(def);
    const schema = { $ref: V3_PREFIX + def };
    const types = op.body === 'patch' ? op.consumes : ['*/*'];
    const body: Json = { content: Object.fromEntries(types.map((t) => [t, { schema }])) };
    if (op.method !== 'delete') body.required = true;
    out.requestBody = body;
  }
  const responses: Json = {};
  for (const r of op.responses) {
    const response: Json = { description: r.description };
    if (r.text) response.content = Object.fromEntries(op.produces.map((t) => [t, { schema: { type: 'string' } }]));
    else if (r.definition) {
      used.add(r.definition);
      response.content = Object.fromEntries(op.produces.map((t) => [t, { schema: { $ref: V3_PREFIX + r.definition } }]));
    }
    responses[r.code] = response;
  }
  responses['401'] = { description: 'Unauthorized' };
  out.responses = responses;
  out.tags = [op.tag];
  out['x-kubernetes-action'] = op.action;
  if (op.gvk) out['x-kubernetes-group-version-kind'] = op.gvk;
  return out;
}

/** The OpenAPI 3.0 document of one group version ("v1", "apps/v1", or "api/v1", "apis/apps/v1"). */
export function buildOpenAPIv3ForGroupVersion(
  defs: Definitions,
  resources: ResourceDescriptor[],
  groupVersion: string,
  options: OpenAPIDocumentOptions = {},
): Json {
  const wanted = openAPIv3Path(groupVersion);
  const mine = resources.filter((r) => openAPIv3Path(groupVersionOf(r)) === wanted);
  const specs: PathSpec[] = mine.flatMap((r) => resourcePaths(r, defs, options));
  const [group, version] = wanted.startsWith('apis/') ? [wanted.split('/')[1]!, wanted.split('/')[2]!] : ['', wanted.split('/')[1]!];
  specs.push(groupVersionDiscoveryPath({ group, version }));
  const used = new Set<string>();
  const paths: Record<string, Json> = {};
  for (const p of [...specs].sort((a, b) => a.path.localeCompare(b.path))) {
    const item: Json = paths[p.path] ?? {};
    for (const op of p.operations) item[op.method] = v3Operation(op, used);
    if (p.parameters.length > 0) item.parameters = p.parameters.map(v3Parameter);
    paths[p.path] = item;
  }
  const schemas: Record<string, Json> = {};
  for (const name of referencedDefinitions(used, defs)) schemas[name] = toOpenAPIv3Schema(defs[name]!);
  return {
    components: {
      schemas,
      securitySchemes: {
        BearerToken: { description: 'Bearer Token authentication', in: 'header', name: 'authorization', type: 'apiKey' },
      },
    },
    info: { title: 'Kubernetes', version: options.version ?? KUBERNETES_OPENAPI_VERSION },
    openapi: '3.0.0',
    paths,
  };
}
