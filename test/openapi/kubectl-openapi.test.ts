// Real kubectl (1.20, 1.27, 1.33) reading Nami's OpenAPI documents: explain
// shows the field descriptions, and client-side validation names unknown fields.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadDefinitions, definitionsForCRD } from '../../src/api/schema/index.js';
import type { KubeObject } from '../../src/api/object.js';
import type { OpenAPITestServer } from './kubectl-harness.js';
import { DEPLOYMENTS, kubectlBinaries, NAMESPACES, PODS, runKubectl, startOpenAPITestServer } from './kubectl-harness.js';

const { found, missing } = kubectlBinaries();
const inCI = process.env.CI === 'true';

describe('kubectl binaries for the OpenAPI tests', () => {
  it('are all present in CI', { skip: inCI ? false : missing.length > 0 ? `not installed here: ${missing.map((m) => `kubectl ${m.version} (${m.path})`).join(', ')}; run scripts/fetch-kubectl-1.20.sh for 1.20` : false }, () => {
    assert.deepEqual(missing.map((m) => `kubectl ${m.version} at ${m.path}`), []);
  });
});

const CRONTAB_CRD: KubeObject = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'crontabs.stable.example.com' },
  spec: {
    group: 'stable.example.com',
    scope: 'Namespaced',
    names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList' },
    versions: [{
      name: 'v1',
      served: true,
      storage: true,
      schema: {
        openAPIV3Schema: {
          type: 'object',
          properties: {
            spec: {
              type: 'object',
              description: 'CronTabSpec is what the user asks of a cron tab.',
              properties: {
                cronSpec: { type: 'string', description: 'The schedule, in cron format, on which the image runs.' },
                image: { type: 'string', description: 'The container image to run.' },
                replicas: { type: 'integer' },
              },
            },
          },
        },
      },
    }],
  },
};
const CRONTABS = { group: 'stable.example.com', version: 'v1', kind: 'CronTab', plural: 'crontabs', namespaced: true, subresources: [], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] };

const BAD_DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
        imagePullPolicee: Always
`;

const GOOD_DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 25%, maxUnavailable: 1}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}
      securityContext:
        seccompProfile: {type: RuntimeDefault}
      containers:
      - name: web
        image: nginx
        ports: [{containerPort: 80, name: http}]
        resources:
          requests: {cpu: 100m, memory: 64Mi}
          limits: {cpu: 1, memory: 1Gi}
        startupProbe:
          httpGet: {path: /, port: http}
        env:
        - name: POD
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
      volumes:
      - name: scratch
        emptyDir: {sizeLimit: 1Gi}
`;

for (const kubectl of found) {
  describe(`kubectl ${kubectl.version} against Nami's OpenAPI documents`, () => {
    let clientValidating: OpenAPITestServer;
    let serverValidating: OpenAPITestServer;
    before(async () => {
      const defs = { ...loadDefinitions(), ...definitionsForCRD(CRONTAB_CRD, 'v1') };
      const resources = [PODS, NAMESPACES, DEPLOYMENTS, CRONTABS];
      // Without fieldValidation in the documents kubectl validates against the schema itself.
      clientValidating = await startOpenAPITestServer(defs, resources, { fieldValidation: false });
      serverValidating = await startOpenAPITestServer(defs, resources, { fieldValidation: true });
    });
    after(async () => {
      await clientValidating.close();
      await serverValidating.close();
    });

    it('explains deployment.spec.strategy with its description and fields', async () => {
      const r = await runKubectl(kubectl.path, clientValidating.url, ['explain', 'deployment.spec.strategy']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /KIND:\s+Deployment/);
      assert.match(r.stdout, /The deployment strategy to use to replace existing pods with new ones\./);
      assert.match(r.stdout, /rollingUpdate\s+<(Object|RollingUpdateDeployment)>/);
      assert.match(r.stdout, /Type of deployment\. Can be "Recreate" or "RollingUpdate"\./);
    });

    it('explains pods.spec.containers.ports with its description and fields', async () => {
      const r = await runKubectl(kubectl.path, clientValidating.url, ['explain', 'pods.spec.containers.ports']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /KIND:\s+Pod/);
      assert.match(r.stdout, /List of ports to expose from the container\./);
      assert.match(r.stdout, /containerPort\s+<integer> -required-/);
      assert.match(r.stdout, /Number of port to expose on the pod's IP address\./);
    });

    it('explains an int-or-string field by what the field means, not only by its type', async () => {
      const r = await runKubectl(kubectl.path, clientValidating.url, ['explain', 'deployment.spec.strategy.rollingUpdate.maxSurge']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout.replace(/\s+/g, ' '), /The maximum number of pods that can be scheduled above the desired number of pods\./);
    });

    it('explains a Pod field added after Kubernetes 1.14 (spec.topologySpreadConstraints)', async () => {
      const r = await runKubectl(kubectl.path, clientValidating.url, ['explain', 'pod.spec.topologySpreadConstraints.whenUnsatisfiable']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /WhenUnsatisfiable indicates how to deal with a pod if it doesn't satisfy/);
    });

    it('explains a custom resource from its CRD schema', async () => {
      const r = await runKubectl(kubectl.path, clientValidating.url, ['explain', 'crontabs.spec']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /CronTabSpec is what the user asks of a cron tab\./);
      assert.match(r.stdout, /The schedule, in cron format, on which the image runs\./);
    });

    it('accepts a valid Deployment in client-side validation', async () => {
      const r = await runKubectl(kubectl.path, clientValidating.url, ['create', '--dry-run=client', '-o', 'name', '--validate=true', '-f', 'deploy.yaml'], { 'deploy.yaml': GOOD_DEPLOYMENT });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'deployment.apps/web');
    });

    it('reports an unknown Deployment field from client-side validation on create', async () => {
      const r = await runKubectl(kubectl.path, clientValidating.url, ['create', '--dry-run=client', '-o', 'yaml', '--validate=true', '-f', 'deploy.yaml'], { 'deploy.yaml': BAD_DEPLOYMENT });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /unknown field "imagePullPolicee" in io\.k8s\.api\.core\.v1\.Container/);
    });

    it('reports an unknown Deployment field from client-side validation on apply', async () => {
      const r = await runKubectl(kubectl.path, clientValidating.url, ['apply', '--dry-run=client', '--validate=true', '-f', 'deploy.yaml'], { 'deploy.yaml': BAD_DEPLOYMENT });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /ValidationError\(Deployment\.spec\.template\.spec\.containers\[0\]\): unknown field "imagePullPolicee"/);
    });

    if (kubectl.version !== '1.20') {
      it('asks the server to validate strictly when the documents advertise fieldValidation', async () => {
        const r = await runKubectl(kubectl.path, serverValidating.url, ['create', '--dry-run=server', '-o', 'name', '--validate=true', '-f', 'deploy.yaml'], { 'deploy.yaml': BAD_DEPLOYMENT });
        assert.equal(r.code, 0, r.stderr);
        const post = serverValidating.requests.find((q) => q.method === 'POST');
        assert.ok(post, 'kubectl sent the Deployment to the server');
        assert.match(post.url, /fieldValidation=Strict/);
      });
    }
  });
}
