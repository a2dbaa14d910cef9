// Splits a request path into what Kubernetes' RequestInfoFactory derives:
// API group and version, namespace, resource, name, subresource and verb.
export interface RequestInfo {
  isResourceRequest: boolean;
  path: string;
  /** 'api' or 'apis' */
  apiPrefix?: string;
  group: string;
  version: string;
  namespace?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  /** get, list, watch, create, update, patch, delete, deletecollection, proxy, connect */
  verb: string;
  /** Path segments after the subresource (proxy paths). */
  rest: string[];
}

const namespaceSubresources = new Set(['status', 'finalize']);

/** The non-empty segments of a path, percent-decoded (only those that have a '%' need it). */
function pathSegments(path: string): string[] {
  const parts: string[] = [];
  let start = 0;
  while (start <= path.length) {
    let end = path.indexOf('/', start);
    if (end < 0) end = path.length;
    if (end > start) {
      const part = path.slice(start, end);
      parts.push(part.includes('%') ? decodeURIComponent(part) : part);
    }
    start = end + 1;
  }
  return parts;
}

/**
 * A boolean query parameter as kube-apiserver reads one into its options
 * (runtime.Convert_Slice_string_To_bool): absent, "false" and "0" (in any
 * case) are false; anything else, "True" and an empty value included, is
 * true. Python's client sends watch=True.
 */
export function queryFlag(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  if (value === null) return false;
  const lower = value.toLowerCase();
  return lower !== 'false' && lower !== '0';
}

export function parseRequestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const parts = pathSegments(path);
  const info: RequestInfo = { isResourceRequest: false, path, group: '', version: '', verb: method.toLowerCase(), rest: [] };
  const prefix = parts[0];
  if (prefix !== 'api' && prefix !== 'apis') return info;
  info.apiPrefix = prefix;
  let i = 1;
  if (prefix === 'apis') {
    if (parts.length < 3) return info;
    info.group = parts[1]!;
    info.version = parts[2]!;
    i = 3;
  } else {
    if (parts.length < 2) return info;
    info.version = parts[1]!;
    i = 2;
  }
  let rest = parts.slice(i);
  if (rest.length === 0) return info;
  info.isResourceRequest = true;
  let legacyWatch = false;
  if (rest[0] === 'watch') {
    legacyWatch = true;
    rest = rest.slice(1);
  }
  if (rest[0] === 'namespaces') {
    if (rest.length >= 3) {
      info.namespace = rest[1];
      rest = rest.slice(2);
    } else {
      // /namespaces or /namespaces/{name}
      info.resource = 'namespaces';
      info.name = rest[1];
      rest = [];
    }
  }
  if (rest.length > 0) {
    info.resource = rest[0];
    info.name = rest[1];
    info.subresource = rest[2];
    info.rest = rest.slice(3);
  }
  // /api/v1/namespaces/{name}/status|finalize are subresources of the namespace itself.
  if (info.namespace !== undefined && info.resource !== undefined && namespaceSubresources.has(info.resource) && info.name === undefined) {
    info.subresource = info.resource;
    info.name = info.namespace;
    info.resource = 'namespaces';
    info.namespace = undefined;
  }
  if (info.resource === 'namespaces') info.namespace = undefined;
  const method_ = method.toUpperCase();
  const isWatch = legacyWatch || queryFlag(query, 'watch');
  switch (method_) {
    case 'GET':
    case 'HEAD':
      info.verb = isWatch ? 'watch' : info.name ? 'get' : 'list';
      break;
    case 'POST':
      info.verb = 'create';
      break;
    case 'PUT':
      info.verb = 'update';
      break;
    case 'PATCH':
      info.verb = 'patch';
      break;
    case 'DELETE':
      info.verb = info.name ? 'delete' : 'deletecollection';
      break;
    default:
      info.verb = method.toLowerCase();
  }
  return info;
}
