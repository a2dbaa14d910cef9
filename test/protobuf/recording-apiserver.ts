// A stand-in API server for driving real kubectl: it answers legacy discovery
// for the groups kubectl's generator commands need, and records every POST,
// answering 201 with the object it received (decoded from protobuf, or JSON as
// it arrived), optionally completed by `complete` and encoded as protobuf.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  decodeKubernetesProtobuf,
  encodeKubernetesProtobuf,
  isKubernetesProtobuf,
  KUBERNETES_PROTOBUF_CONTENT_TYPE,
} from '../../src/api/protobuf/index.js';
import type { KubeObject } from '../../src/api/object.js';
import { ApiError } from '../../src/api/errors.js';

export interface RecordedPost {
  path: string;
  contentType: string;
  body: Buffer;
  /** The object answered (JSON form). */
  answered?: KubeObject;
}

export interface RecordingOptions {
  /** Answer POSTs in protobuf instead of JSON. */
  answerProtobuf?: boolean;
  /** Fills in what a real server adds (uid, timestamps ...) before answering. */
  complete?: (obj: KubeObject) => KubeObject;
}

interface Resource {
  name: string;
  kind: string;
  namespaced: boolean;
}

const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const res = (name: string, kind: string, namespaced = true): Resource => ({ name, kind, namespaced });

/** Group version -> resources. '' is the core group. */
const catalogue: Record<string, Resource[]> = {
  v1: [
    res('configmaps', 'ConfigMap'),
    res('secrets', 'Secret'),
    res('namespaces', 'Namespace', false),
    res('services', 'Service'),
    res('serviceaccounts', 'ServiceAccount'),
    res('resourcequotas', 'ResourceQuota'),
    res('pods', 'Pod'),
  ],
  'apps/v1': [res('deployments', 'Deployment')],
  'batch/v1': [res('jobs', 'Job'), res('cronjobs', 'CronJob')],
  'rbac.authorization.k8s.io/v1': [
    res('roles', 'Role'),
    res('rolebindings', 'RoleBinding'),
    res('clusterroles', 'ClusterRole', false),
    res('clusterrolebindings', 'ClusterRoleBinding', false),
  ],
  'networking.k8s.io/v1': [res('ingresses', 'Ingress')],
  'policy/v1': [res('poddisruptionbudgets', 'PodDisruptionBudget')],
  'scheduling.k8s.io/v1': [res('priorityclasses', 'PriorityClass', false)],
};

function discovery(path: string): unknown {
  if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] };
  if (path === '/apis') {
    const groups = Object.keys(catalogue).filter((gv) => gv.includes('/'));
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: groups.map((gv) => {
        const [name = '', version = ''] = gv.split('/');
        const v = { groupVersion: gv, version };
        return { name, versions: [v], preferredVersion: v };
      }),
    };
  }
  const gv = path === '/api/v1' ? 'v1' : path.startsWith('/apis/') ? path.slice('/apis/'.length) : undefined;
  const resources = gv === undefined ? undefined : catalogue[gv];
  if (!resources) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: gv,
    resources: resources.map((r) => ({ name: r.name, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs })),
  };
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export interface RecordingApiServer {
  url: string;
  posts: RecordedPost[];
  close(): Promise<void>;
}

export async function startRecordingApiServer(options: RecordingOptions = {}): Promise<RecordingApiServer> {
  const posts: RecordedPost[] = [];
  const server: Server = createServer((req, res) => {
    void readAll(req).then((body) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const send = (code: number, value: unknown): void => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (req.method === 'POST') {
        const contentType = req.headers['content-type'] ?? '';
        const post: RecordedPost = { path, contentType, body };
        posts.push(post);
        try {
          const received = isKubernetesProtobuf(contentType) ? decodeKubernetesProtobuf(body) : (JSON.parse(body.toString('utf8')) as KubeObject);
          post.answered = options.complete ? options.complete(received) : received;
          if (options.answerProtobuf) {
            res.writeHead(201, { 'content-type': KUBERNETES_PROTOBUF_CONTENT_TYPE });
            res.end(encodeKubernetesProtobuf(post.answered));
          } else send(201, post.answered);
        } catch (err) {
          if (err instanceof ApiError) send(err.code, err.toStatus());
          else send(500, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: String(err), code: 500 });
        }
        return;
      }
      const found = req.method === 'GET' ? discovery(path) : undefined;
      if (found) send(200, found);
      else send(404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', message: 'the server could not find the requested resource', code: 404 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    posts,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
