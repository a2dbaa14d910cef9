// A tiny plain-HTTP server that answers only what kubectl reads before it
// explains or validates (discovery and the OpenAPI documents), plus helpers to
// run a real kubectl binary against it.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { findExecutable } from '../../src/cli/executables.js';
import type { Definitions } from '../../src/api/schema/types.js';
import type { OpenAPIDocumentOptions, ResourceDescriptor } from '../../src/apiserver/openapi/index.js';
import {
  buildOpenAPIv2,
  buildOpenAPIv3ForGroupVersion,
  buildOpenAPIv3Index,
  groupVersionOf,
  openAPIv3Hash,
  openAPIv3Path,
} from '../../src/apiserver/openapi/index.js';
import { encodeOpenAPIv2Protobuf, OPENAPI_V2_PROTOBUF_RESPONSE_CONTENT_TYPE } from '../../src/apiserver/openapi/v2-protobuf.js';

export const DEPLOYMENTS: ResourceDescriptor = {
  group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true,
  subresources: ['status', 'scale'], verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
};
export const PODS: ResourceDescriptor = {
  group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true,
  subresources: ['status', 'binding', 'eviction', 'log', 'exec'], verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
};
export const NAMESPACES: ResourceDescriptor = {
  group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false,
  subresources: ['status'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
};

const SHORT_NAMES: Record<string, string[]> = { pods: ['po'], deployments: ['deploy'], namespaces: ['ns'] };

export interface RecordedRequest {
  method: string;
  url: string;
  accept: string;
}

export interface OpenAPITestServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

function resourceList(groupVersion: string, resources: ResourceDescriptor[]): unknown {
  const list = resources.flatMap((r) => [
    {
      name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: r.verbs,
      ...(SHORT_NAMES[r.plural] ? { shortNames: SHORT_NAMES[r.plural] } : {}),
    },
    ...r.subresources.map((s) => ({ name: `${r.plural}/${s}`, singularName: '', namespaced: r.namespaced, kind: s === 'scale' ? 'Scale' : r.kind, verbs: ['get', 'patch', 'update'] })),
  ]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources: list };
}

/** Serves discovery and OpenAPI for `resources` on 127.0.0.1 at a free port. */
export async function startOpenAPITestServer(defs: Definitions, resources: ResourceDescriptor[], options: OpenAPIDocumentOptions = {}): Promise<OpenAPITestServer> {
  const v2 = buildOpenAPIv2(defs, resources, options);
  const v2Protobuf = encodeOpenAPIv2Protobuf(v2);
  const groupVersions = [...new Set(resources.map(groupVersionOf))];
  const v3Docs = new Map(groupVersions.map((gv) => [openAPIv3Path(gv), buildOpenAPIv3ForGroupVersion(defs, resources, gv, options)]));
  const hashes = Object.fromEntries([...v3Docs].map(([path, doc]) => [path, openAPIv3Hash(doc)]));
  const v3Index = buildOpenAPIv3Index(groupVersions, hashes);
  const requests: RecordedRequest[] = [];
  let port = 0;

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const accept = req.headers.accept ?? '';
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', accept });
    const path = url.pathname.replace(/\/$/, '');
    if (path === '/version') {
      return json(res, 200, { major: '1', minor: '33', gitVersion: 'v1.33.0', platform: 'linux/amd64' });
    }
    if (path === '/api') {
      return json(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }] });
    }
    if (path === '/apis') {
      const groups = [...new Set(resources.filter((r) => r.group !== '').map((r) => r.group))].map((g) => {
        const versions = [...new Set(resources.filter((r) => r.group === g).map((r) => r.version))].map((v) => ({ groupVersion: `${g}/${v}`, version: v }));
        return { name: g, versions, preferredVersion: versions[0] };
      });
      return json(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
    }
    const gvMatch = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
    if (gvMatch) {
      const gv = gvMatch[1] ?? `${gvMatch[2]}/${gvMatch[3]}`;
      const mine = resources.filter((r) => groupVersionOf(r) === gv);
      if (mine.length > 0) return json(res, 200, resourceList(gv, mine));
    }
    if (req.method === 'POST' && resources.some((r) => path.endsWith(`/${r.plural}`))) {
      // A create: answer with what was sent, as a dry run would.
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => json(res, 201, JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')));
      return;
    }
    if (path === '/openapi/v2') {
      if (accept.includes('protobuf')) {
        res.writeHead(200, { 'Content-Type': OPENAPI_V2_PROTOBUF_RESPONSE_CONTENT_TYPE });
        res.end(Buffer.from(v2Protobuf));
        return;
      }
      return json(res, 200, v2);
    }
    if (path === '/openapi/v3') return json(res, 200, v3Index);
    const v3 = path.startsWith('/openapi/v3/') ? v3Docs.get(path.slice('/openapi/v3/'.length)) : undefined;
    if (v3) return json(res, 200, v3);
    return json(res, 404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', code: 404 });
  };

  const server: Server = createServer(handler);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl against `serverURL` with a throwaway kubeconfig, HOME and cache directory. */
export async function runKubectl(kubectl: string, serverURL: string, args: string[], files: Record<string, string> = {}): Promise<KubectlResult> {
  const dir = mkdtempSync(join(tmpdir(), 'nami-kubectl-'));
  try {
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: test',
      '  cluster:',
      `    server: ${serverURL}`,
      'contexts:',
      '- name: test',
      '  context:',
      '    cluster: test',
      '    user: test',
      '    namespace: default',
      'current-context: test',
      'users:',
      '- name: test',
      '  user: {}',
      '',
    ].join('\n'));
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    const fullArgs = ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args.map((a) => a.replace('{dir}', dir))];
    return await new Promise<KubectlResult>((done) => {
      execFile(kubectl, fullArgs, { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir }, timeout: 60_000 }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface KubectlBinary {
  version: string;
  path: string;
}

const repoRoot = resolve(new URL('../../..', import.meta.url).pathname);

/**
 * The kubectl versions the tests drive: 1.20 unpacked by
 * scripts/fetch-kubectl-1.20.sh into .cache/kubectl-1.20, and 1.27 and 1.33 that
 * the Cloud SDK installs beside its kubectl as kubectl.1.27 and kubectl.1.33.
 */
export function kubectlBinaries(): { found: KubectlBinary[]; missing: KubectlBinary[] } {
  const kubectl = findExecutable('kubectl');
  const sdkDir = kubectl ? dirname(realpathSync(kubectl)) : undefined;
  const beside = (name: string): string => findExecutable(name) ?? (sdkDir ? join(sdkDir, name) : name);
  const candidates: KubectlBinary[] = [
    { version: '1.20', path: join(repoRoot, '.cache', 'kubectl-1.20', 'usr', 'bin', 'kubectl') },
    { version: '1.27', path: beside('kubectl.1.27') },
    { version: '1.33', path: beside('kubectl.1.33') },
  ];
  return {
    found: candidates.filter((c) => existsSync(c.path)),
    missing: candidates.filter((c) => !existsSync(c.path)),
  };
}
