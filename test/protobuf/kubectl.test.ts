// kubectl 1.33 sends its generator commands' objects as protobuf. Each body it
// posts must decode to exactly the JSON that the same command prints with
// --dry-run=client -o json; and kubectl must read back what the encoder writes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { decodeKubernetesProtobuf, isKubernetesProtobuf } from '../../src/api/protobuf/index.js';
import type { KubeObject } from '../../src/api/object.js';
import { startRecordingApiServer, type RecordingApiServer, type RecordingOptions } from './recording-apiserver.js';

/** kubectl.1.33 on PATH, or beside the kubectl on PATH (where versioned copies are installed). */
function findKubectl133(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  for (const dir of dirs) if (existsSync(join(dir, 'kubectl.1.33'))) return join(dir, 'kubectl.1.33');
  for (const dir of dirs) {
    if (!existsSync(join(dir, 'kubectl'))) continue;
    const beside = join(dirname(realpathSync(join(dir, 'kubectl'))), 'kubectl.1.33');
    if (existsSync(beside)) return beside;
  }
  return undefined;
}

const kubectl = findKubectl133();
const missing = 'kubectl 1.33 not found (kubectl.1.33 on PATH or beside kubectl)';
if (!kubectl && process.env.CI === 'true') throw new Error(missing);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Generator commands, and the path each one posts to. */
const commands: { args: string[]; path: string }[] = [
  { args: ['create', 'configmap', 'c1', '--from-literal=a=b', '--from-file=bin=BINARY_FILE'], path: '/api/v1/namespaces/default/configmaps' },
  { args: ['create', 'secret', 'generic', 's1', '--from-literal=k=v'], path: '/api/v1/namespaces/default/secrets' },
  { args: ['create', 'deployment', 'd1', '--image=busybox', '--replicas=3'], path: '/apis/apps/v1/namespaces/default/deployments' },
  { args: ['create', 'deployment', 'd0', '--image=busybox', '--replicas=0', '--port=8080'], path: '/apis/apps/v1/namespaces/default/deployments' },
  { args: ['create', 'namespace', 'n1'], path: '/api/v1/namespaces' },
  { args: ['create', 'service', 'clusterip', 'svc1', '--tcp=80:8080'], path: '/api/v1/namespaces/default/services' },
  { args: ['create', 'service', 'nodeport', 'svc2', '--tcp=443:https', '--node-port=30001'], path: '/api/v1/namespaces/default/services' },
  { args: ['create', 'job', 'j1', '--image=busybox', '--', 'echo', 'hi'], path: '/apis/batch/v1/namespaces/default/jobs' },
  { args: ['create', 'cronjob', 'cj1', '--image=busybox', '--schedule=*/5 * * * *', '--', 'date'], path: '/apis/batch/v1/namespaces/default/cronjobs' },
  { args: ['create', 'serviceaccount', 'sa1'], path: '/api/v1/namespaces/default/serviceaccounts' },
  { args: ['create', 'role', 'r1', '--verb=get,list', '--resource=pods'], path: '/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles' },
  { args: ['create', 'rolebinding', 'rb1', '--role=r1', '--user=alice', '--serviceaccount=default:sa1'], path: '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings' },
  { args: ['create', 'clusterrole', 'cr1', '--verb=get', '--non-resource-url=/healthz'], path: '/apis/rbac.authorization.k8s.io/v1/clusterroles' },
  { args: ['create', 'clusterrolebinding', 'crb1', '--clusterrole=cr1', '--group=devs'], path: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings' },
  { args: ['create', 'quota', 'q1', '--hard=cpu=1500m,memory=1Gi,pods=10', '--scopes=NotBestEffort'], path: '/api/v1/namespaces/default/resourcequotas' },
  { args: ['create', 'priorityclass', 'pc1', '--value=1000', '--description=high', '--preemption-policy=Never'], path: '/apis/scheduling.k8s.io/v1/priorityclasses' },
  { args: ['create', 'poddisruptionbudget', 'pdb1', '--selector=app=web', '--min-available=50%'], path: '/apis/policy/v1/namespaces/default/poddisruptionbudgets' },
  { args: ['create', 'ingress', 'ing1', '--rule=example.com/api*=svc1:80', '--class=nami'], path: '/apis/networking.k8s.io/v1/namespaces/default/ingresses' },
];

interface KubectlSession {
  server: RecordingApiServer;
  run(args: string[]): Promise<Run>;
  close(): Promise<void>;
}

/** A recording server and a kubectl configured for it, with a HOME of its own. */
async function kubectlSession(options: RecordingOptions = {}): Promise<KubectlSession> {
  const server = await startRecordingApiServer(options);
  const home = mkdtempSync(join(tmpdir(), 'nami-protobuf-kubectl-'));
  const binaryFile = join(home, 'blob.bin');
  writeFileSync(binaryFile, Buffer.from([0, 1, 2, 0xfe, 0xff]));
  writeFileSync(
    join(home, 'kubeconfig'),
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: recording',
      '  cluster:',
      `    server: ${server.url}`,
      'users:',
      '- name: anyone',
      '  user: {}',
      'contexts:',
      '- name: recording',
      '  context: {cluster: recording, user: anyone, namespace: default}',
      'current-context: recording',
      '',
    ].join('\n'),
  );
  const env = { PATH: process.env.PATH ?? '', HOME: home, KUBECONFIG: join(home, 'kubeconfig') };
  return {
    server,
    run: (args) =>
      new Promise((resolve) => {
        execFile(kubectl!, args.map((a) => a.replace('BINARY_FILE', binaryFile)), { env, timeout: 60_000 }, (err, stdout, stderr) => {
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
        });
      }),
    async close() {
      await server.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The command with more flags, placed before any "--" that starts the container's command. */
function withFlags(args: string[], ...flags: string[]): string[] {
  const dash = args.indexOf('--');
  return dash < 0 ? [...args, ...flags] : [...args.slice(0, dash), ...flags, ...args.slice(dash)];
}

function commandName(args: string[]): string {
  const firstFlag = args.findIndex((a) => a.startsWith('-'));
  return (firstFlag < 0 ? args : args.slice(0, firstFlag)).join(' ');
}

describe('kubectl 1.33 generator commands sent as protobuf', { skip: kubectl ? false : missing }, () => {
  let session: KubectlSession;
  before(async () => {
    session = await kubectlSession();
  });
  after(() => session.close());

  for (const { args, path } of commands) {
    it(`kubectl ${commandName(args)} posts a protobuf body that decodes to what --dry-run=client -o json prints`, async () => {
      const printed = await session.run(withFlags(args, '--dry-run=client', '-o', 'json'));
      assert.equal(printed.code, 0, printed.stderr);
      const expected = JSON.parse(printed.stdout) as unknown;

      const before = session.server.posts.length;
      const created = await session.run(args);
      assert.equal(created.code, 0, created.stderr);
      const post = session.server.posts[before];
      assert.ok(post, 'kubectl posted nothing');
      assert.equal(post.path, path);
      assert.ok(isKubernetesProtobuf(post.contentType), `content type was ${post.contentType}`);
      assert.deepEqual(decodeKubernetesProtobuf(post.body), expected);
    });
  }
});

/** What kube-apiserver adds to a created object, with values that show in JSON. */
function completeAsServer(obj: KubeObject): KubeObject {
  const out = structuredClone(obj);
  out.metadata = {
    ...out.metadata,
    uid: '6f1e3f0c-1c7e-4e57-9d1a-2a6f0f5b1c11',
    resourceVersion: '42',
    generation: 1,
    creationTimestamp: '2026-01-02T03:04:05Z',
    managedFields: [
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: obj.apiVersion,
        time: '2026-01-02T03:04:05Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:metadata': { 'f:name': {} } },
      },
    ],
  };
  if (obj.kind === 'Deployment') {
    out['status'] = {
      observedGeneration: 1,
      replicas: 3,
      conditions: [
        { type: 'Available', status: 'False', lastUpdateTime: '2026-01-02T03:04:06Z', lastTransitionTime: '2026-01-02T03:04:06Z', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
      ],
    };
  }
  return out;
}

describe('kubectl 1.33 reading objects answered in protobuf', { skip: kubectl ? false : missing }, () => {
  let session: KubectlSession;
  before(async () => {
    session = await kubectlSession({ answerProtobuf: true, complete: completeAsServer });
  });
  after(() => session.close());

  for (const { args } of commands) {
    it(`kubectl ${commandName(args)} -o json prints the object the server encoded`, async () => {
      const before = session.server.posts.length;
      const created = await session.run(withFlags(args, '-o', 'json', '--show-managed-fields'));
      assert.equal(created.code, 0, created.stderr);
      const answered = session.server.posts[before]?.answered;
      assert.ok(answered, 'the server answered nothing');
      assert.deepEqual(JSON.parse(created.stdout), answered);
    });
  }
});

