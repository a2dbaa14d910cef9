// Serves /openapi/v2 (JSON or protobuf) and /openapi/v3 (index and one
// document per group version) for the resources served right now. Documents
// are built on first request and rebuilt only after the served resources
// change (a CRD was added, changed or removed).
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NotFoundError } from '../api/errors.js';
import { servedVersions, type ResourceInfo } from '../api/resources.js';
import { definitionsForCRD, loadDefinitions, type Definitions } from '../api/schema/index.js';
import { buildOpenAPIv2, buildOpenAPIv3ForGroupVersion, buildOpenAPIv3Index, groupVersionOf, openAPIv3Hash, openAPIv3Path, type ResourceDescriptor } from './openapi/index.js';
import { kubernetesVersionString } from './version.js';

interface Built {
  v2?: { json: Buffer; protobuf?: Buffer; etag: string };
  v3Defs?: Definitions;
  v3Docs: Map<string, { body: Buffer; hash: string }>;
  v3Index?: Buffer;
}

const options = { fieldValidation: true, version: kubernetesVersionString };

function descriptors(resources: readonly ResourceInfo[]): ResourceDescriptor[] {
  return resources.flatMap((r) =>
    servedVersions(r).map((version) => ({ group: r.group, version, kind: r.kind, plural: r.plural, namespaced: r.namespaced, subresources: r.subresources, verbs: r.verbs })),
  );
}

function definitionsFor(resources: readonly ResourceInfo[], form: 'v2' | 'v3'): Definitions {
  const defs: Definitions = { ...loadDefinitions() };
  for (const r of resources) {
    if (!r.crd) continue;
    for (const version of servedVersions(r)) Object.assign(defs, definitionsForCRD(r.crd, version, { openAPIVersion: form }));
  }
  return defs;
}

function send(req: IncomingMessage, res: ServerResponse, body: Buffer, contentType: string, etag: string, immutable = false): void {
  const headers: Record<string, string> = { 'Content-Type': contentType, ETag: `"${etag}"`, Vary: 'Accept' };
  headers['Cache-Control'] = immutable ? 'public, immutable' : 'no-cache, private';
  if (req.headers['if-none-match'] === `"${etag}"`) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  headers['Content-Length'] = String(body.length);
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

export class OpenAPIService {
  private built: Built = { v3Docs: new Map() };

  constructor(private readonly resources: () => readonly ResourceInfo[]) {}

  /** The served resources changed: documents are rebuilt on their next request. */
  invalidate(): void {
    this.built = { v3Docs: new Map() };
  }

  /** Serves the request when its path is an OpenAPI one (true, or a promise for the time it takes); false otherwise. */
  serve(req: IncomingMessage, res: ServerResponse, path: string): boolean | Promise<void> {
    if (path === '/openapi/v2') return this.serveV2(req, res) ?? true;
    if (path === '/openapi/v3') {
      send(req, res, this.v3Index(), 'application/json', createHash('sha256').update(this.v3Index()).digest('hex'));
      return true;
    }
    if (path.startsWith('/openapi/v3/')) {
      const doc = this.v3Doc(path.slice('/openapi/v3/'.length));
      if (!doc) throw new NotFoundError({ group: '', resource: '' }, 'the server could not find the requested resource');
      const url = new URL(req.url ?? '/', 'https://nami.invalid');
      send(req, res, doc.body, 'application/json', doc.hash, url.searchParams.get('hash') === doc.hash);
      return true;
    }
    return false;
  }

  /** Undefined when answered at once; a promise when the protobuf encoder is loaded first. */
  private serveV2(req: IncomingMessage, res: ServerResponse): Promise<void> | undefined {
    let v2 = this.built.v2;
    if (!v2) {
      const resources = this.resources();
      const json = Buffer.from(JSON.stringify(buildOpenAPIv2(definitionsFor(resources, 'v2'), descriptors(resources), options)));
      v2 = { json, etag: createHash('sha512').update(json).digest('hex').toUpperCase() };
      this.built.v2 = v2;
    }
    const accept = req.headers.accept ?? '';
    if (accept.includes('protobuf')) {
      const built = v2;
      // The protobuf encoder (protobufjs) is loaded on the first request for it, not with the server.
      return import('./openapi/v2-protobuf.js').then(({ encodeOpenAPIv2Protobuf, OPENAPI_V2_PROTOBUF_RESPONSE_CONTENT_TYPE }) => {
        built.protobuf ??= Buffer.from(encodeOpenAPIv2Protobuf(JSON.parse(built.json.toString('utf8')) as object));
        send(req, res, built.protobuf, OPENAPI_V2_PROTOBUF_RESPONSE_CONTENT_TYPE, built.etag);
      });
    }
    send(req, res, v2.json, 'application/json', v2.etag);
    return undefined;
  }

  private groupVersions(): string[] {
    return [...new Set(descriptors(this.resources()).map(groupVersionOf))];
  }

  private v3Doc(path: string): { body: Buffer; hash: string } | undefined {
    const cached = this.built.v3Docs.get(path);
    if (cached) return cached;
    const gv = this.groupVersions().find((g) => openAPIv3Path(g) === path);
    if (!gv) return undefined;
    const resources = this.resources();
    this.built.v3Defs ??= definitionsFor(resources, 'v3');
    const doc = buildOpenAPIv3ForGroupVersion(this.built.v3Defs, descriptors(resources), gv, options);
    const entry = { body: Buffer.from(JSON.stringify(doc)), hash: openAPIv3Hash(doc) };
    this.built.v3Docs.set(path, entry);
    return entry;
  }

  private v3Index(): Buffer {
    if (!this.built.v3Index) {
      const gvs = this.groupVersions();
      const hashes: Record<string, string> = {};
      for (const gv of gvs) hashes[gv] = this.v3Doc(openAPIv3Path(gv))!.hash;
      this.built.v3Index = Buffer.from(JSON.stringify(buildOpenAPIv3Index(gvs, hashes)));
    }
    return this.built.v3Index;
  }
}
