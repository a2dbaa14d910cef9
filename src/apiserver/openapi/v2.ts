// The swagger 2.0 document kube-apiserver serves at /openapi/v2. kubectl reads
// its definitions (found by x-kubernetes-group-version-kind) for client-side
// validation and, before 1.27, for `kubectl explain`; it reads its paths to learn
// which query parameters (dryRun, fieldValidation) the server understands.
import type { Definitions } from '../../api/schema/types.js';
import type { OperationOptions, OperationSpec, ParameterSpec, PathSpec } from './operations.js';
import { groupVersionDiscoveryPath, PATCH_DEFINITION, resourcePaths } from './operations.js';
import type { ResourceDescriptor } from './resource-descriptor.js';

export interface OpenAPIDocumentOptions extends OperationOptions {
  /** info.version; kube-apiserver puts its git version there. */
  version?: string;
}

export const KUBERNETES_OPENAPI_VERSION = 'v1.33.0';

type Json = Record<string, unknown>;

function v2Parameter(p: ParameterSpec): Json {
  const out: Json = { description: p.description, in: p.in, name: p.name };
  if (p.required) out.required = true;
  out.type = p.type;
  if (p.uniqueItems) out.uniqueItems = true;
  return out;
}

function v2Operation(op: OperationSpec): Json {
  const parameters: Json[] = [];
  if (op.body !== undefined) {
    const ref = op.body === 'patch' ? PATCH_DEFINITION : op.body;
    const body: Json = { in: 'body', name: 'body' };
    // proto3 cannot tell an absent "required" from false, so false is left out as kube-apiserver does.
    if (op.method !== 'delete') body.required = true;
    body.schema = { $ref: `#/definitions/${ref}` };
    parameters.push(body);
  }
  parameters.push(...op.parameters.map(v2Parameter));
  const responses: Json = {};
  for (const r of op.responses) {
    const response: Json = { description: r.description };
    if (r.text) response.schema = { type: 'string' };
    else if (r.definition) response.schema = { $ref: `#/definitions/${r.definition}` };
    responses[r.code] = response;
  }
  responses['401'] = { description: 'Unauthorized' };
  const out: Json = {
    consumes: op.consumes,
    description: op.description,
    operationId: op.operationId,
  };
  if (parameters.length > 0) out.parameters = parameters;
  out.produces = op.produces;
  out.responses = responses;
  out.schemes = ['https'];
  out.tags = [op.tag];
  out['x-kubernetes-action'] = op.action;
  if (op.gvk) out['x-kubernetes-group-version-kind'] = op.gvk;
  return out;
}

export function v2PathItems(paths: PathSpec[]): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const p of [...paths].sort((a, b) => a.path.localeCompare(b.path))) {
    const item: Json = out[p.path] ?? {};
    for (const op of p.operations) item[op.method] = v2Operation(op);
    if (p.parameters.length > 0) item.parameters = p.parameters.map(v2Parameter);
    out[p.path] = item;
  }
  return out;
}

/** A swagger 2.0 document with every definition and the operations of every resource. */
export function buildOpenAPIv2(defs: Definitions, resources: ResourceDescriptor[], options: OpenAPIDocumentOptions = {}): Json {
  const paths: PathSpec[] = [];
  const groupVersions = new Map<string, { group: string; version: string }>();
  for (const r of resources) {
    groupVersions.set(`${r.group}/${r.version}`, { group: r.group, version: r.version });
    paths.push(...resourcePaths(r, defs, options));
  }
  for (const gv of groupVersions.values()) paths.push(groupVersionDiscoveryPath(gv));
  const definitions: Definitions = {};
  for (const name of Object.keys(defs).sort()) definitions[name] = defs[name]!;
  return {
    definitions,
    info: { title: 'Kubernetes', version: options.version ?? KUBERNETES_OPENAPI_VERSION },
    paths: v2PathItems(paths),
    security: [{ BearerToken: [] }],
    securityDefinitions: {
      BearerToken: { description: 'Bearer Token authentication', in: 'header', name: 'authorization', type: 'apiKey' },
    },
    swagger: '2.0',
  };
}
