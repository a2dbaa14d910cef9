import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { loadDefinitions } from '../../src/api/schema/index.js';
import {
  buildOpenAPIv2,
  buildOpenAPIv3ForGroupVersion,
  buildOpenAPIv3Index,
  openAPIv3Hash,
} from '../../src/apiserver/openapi/index.js';
import type { ResourceDescriptor } from '../../src/apiserver/openapi/index.js';
import { decodeOpenAPIv2Protobuf, encodeOpenAPIv2Protobuf } from '../../src/apiserver/openapi/v2-protobuf.js';
import { OPENAPI_V2_PROTO } from '../../src/apiserver/openapi/gnostic-openapi-v2-proto.js';
import { DEPLOYMENTS, NAMESPACES, PODS } from './kubectl-harness.js';

type Json = Record<string, any>;
const defs = loadDefinitions();
const resources: ResourceDescriptor[] = [PODS, NAMESPACES, DEPLOYMENTS];

function refsIn(value: unknown, out: string[] = []): string[] {
  JSON.stringify(value, (k, v: unknown) => {
    if (k === '$ref' && typeof v === 'string') out.push(v);
    return v;
  });
  return out;
}

describe('OpenAPI v2 document', () => {
  const doc = buildOpenAPIv2(defs, resources) as Json;

  it('is a swagger 2.0 document titled Kubernetes with every definition', () => {
    assert.equal(doc.swagger, '2.0');
    assert.equal(doc.info.title, 'Kubernetes');
    assert.equal(doc.info.version, 'v1.33.0');
    assert.equal(Object.keys(doc.definitions).length, Object.keys(defs).length);
  });

  it('describes the deployment operations the way kube-apiserver names them', () => {
    const collection = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments'];
    assert.equal(collection.get.operationId, 'listAppsV1NamespacedDeployment');
    assert.equal(collection.get['x-kubernetes-action'], 'list');
    assert.equal(collection.post.operationId, 'createAppsV1NamespacedDeployment');
    assert.equal(collection.delete['x-kubernetes-action'], 'deletecollection');
    const item = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'];
    assert.deepEqual(Object.keys(item).filter((k) => k !== 'parameters').sort(), ['delete', 'get', 'patch', 'put']);
    assert.deepEqual(item.patch['x-kubernetes-group-version-kind'], { group: 'apps', kind: 'Deployment', version: 'v1' });
    assert.deepEqual(item.patch.consumes, ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml']);
    assert.equal(item.put.parameters[0].schema.$ref, '#/definitions/io.k8s.api.apps.v1.Deployment');
    const scale = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'];
    assert.equal(scale.get.operationId, 'readAppsV1NamespacedDeploymentScale');
    assert.deepEqual(scale.get['x-kubernetes-group-version-kind'], { group: 'autoscaling', kind: 'Scale', version: 'v1' });
    assert.equal(doc.paths['/api/v1/pods'].get.operationId, 'listCoreV1PodForAllNamespaces');
    assert.equal(doc.paths['/api/v1/namespaces/{namespace}/pods/{name}/binding'].post.operationId, 'createCoreV1NamespacedPodBinding');
    assert.equal(doc.paths['/api/v1/namespaces/{name}'].get.operationId, 'readCoreV1Namespace');
    assert.equal(doc.paths['/api/v1/watch/namespaces/{namespace}/pods'].get['x-kubernetes-action'], 'watchlist');
  });

  it('offers only the operations a resource\'s verbs allow', () => {
    const readOnly = buildOpenAPIv2(defs, [{ ...DEPLOYMENTS, verbs: ['get', 'list'], subresources: [] }]) as Json;
    assert.deepEqual(Object.keys(readOnly.paths['/apis/apps/v1/namespaces/{namespace}/deployments']).filter((k) => k !== 'parameters'), ['get']);
    assert.equal(readOnly.paths['/apis/apps/v1/watch/deployments'], undefined);
  });

  it('lists fieldValidation on writes unless told the server cannot validate', () => {
    const names = (d: Json) => d.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch.parameters.map((p: Json) => p.name);
    assert.ok(names(doc).includes('fieldValidation'));
    assert.ok(!names(buildOpenAPIv2(defs, resources, { fieldValidation: false }) as Json).includes('fieldValidation'));
  });

  it('refers only to definitions it contains', () => {
    for (const ref of refsIn(doc.paths)) assert.ok(doc.definitions[ref.replace('#/definitions/', '')], ref);
  });
});

describe('OpenAPI v2 protobuf encoding', () => {
  it('decodes back to the same swagger document', () => {
    const doc = buildOpenAPIv2(defs, resources);
    assert.deepEqual(decodeOpenAPIv2Protobuf(encodeOpenAPIv2Protobuf(doc)), doc);
  });

  it('writes gnostic field numbers on the wire', () => {
    // Document.swagger = 1, Document.info = 2, Info.title = 1, Info.version = 2.
    const bytes = encodeOpenAPIv2Protobuf({ swagger: '2.0', info: { title: 'T', version: 'v' } });
    assert.deepEqual([...bytes], [0x0a, 3, 0x32, 0x2e, 0x30, 0x12, 6, 0x0a, 1, 0x54, 0x12, 1, 0x76]);
  });

  it('carries x-kubernetes extensions as YAML text, as gnostic does', () => {
    const bytes = encodeOpenAPIv2Protobuf({ swagger: '2.0', definitions: { 'io.k8s.api.core.v1.PodSpec': defs['io.k8s.api.core.v1.PodSpec'] } });
    const root = protobuf.parse(OPENAPI_V2_PROTO, { keepCase: true }).root;
    const raw = root.lookupType('openapi.v2.Document').toObject(root.lookupType('openapi.v2.Document').decode(bytes)) as Json;
    const podSpec = raw.definitions.additional_properties[0].value;
    const containers = podSpec.properties.additional_properties.find((p: Json) => p.name === 'containers').value;
    const ext = Object.fromEntries(containers.vendor_extension.map((e: Json) => [e.name, e.value.yaml]));
    assert.equal(ext['x-kubernetes-patch-strategy'], 'merge\n');
    assert.equal(ext['x-kubernetes-patch-merge-key'], 'name\n');
    assert.equal(ext['x-kubernetes-list-map-keys'], '- name\n');
    assert.deepEqual(containers.type.value, ['array']);
    assert.equal(containers.items.schema[0]._ref, '#/definitions/io.k8s.api.core.v1.Container');
  });
});

describe('OpenAPI v3 documents', () => {
  it('index names one document per group version with a content hash', () => {
    const apps = buildOpenAPIv3ForGroupVersion(defs, resources, 'apps/v1');
    const index = buildOpenAPIv3Index(['v1', 'apps/v1'], { 'apps/v1': openAPIv3Hash(apps) }) as Json;
    assert.deepEqual(Object.keys(index.paths), ['api/v1', 'apis/apps/v1']);
    assert.equal(index.paths['apis/apps/v1'].serverRelativeURL, `/openapi/v3/apis/apps/v1?hash=${openAPIv3Hash(apps)}`);
    assert.match(index.paths['api/v1'].serverRelativeURL, /^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{128}$/);
  });

  it('a group version document holds only its own paths and the schemas they reach', () => {
    const doc = buildOpenAPIv3ForGroupVersion(defs, resources, 'apps/v1') as Json;
    assert.equal(doc.openapi, '3.0.0');
    assert.ok(Object.keys(doc.paths).every((p) => p.startsWith('/apis/apps/v1/')));
    assert.ok(doc.components.schemas['io.k8s.api.apps.v1.Deployment']);
    assert.ok(doc.components.schemas['io.k8s.api.core.v1.PodSpec']);
    assert.equal(doc.components.schemas['io.k8s.api.core.v1.Namespace'], undefined);
    for (const ref of refsIn(doc)) {
      assert.match(ref, /^#\/components\/schemas\//);
      assert.ok(doc.components.schemas[ref.replace('#/components/schemas/', '')], ref);
    }
  });

  it('wraps a reference that has its own description in allOf, since v3 ignores siblings of $ref', () => {
    const doc = buildOpenAPIv3ForGroupVersion(defs, resources, 'apps/v1') as Json;
    const strategy = doc.components.schemas['io.k8s.api.apps.v1.DeploymentSpec'].properties.strategy;
    assert.deepEqual(strategy.allOf, [{ $ref: '#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy' }]);
    assert.equal(strategy['x-kubernetes-patch-strategy'], 'retainKeys');
    assert.match(strategy.description, /The deployment strategy to use/);
  });

  it('describes request bodies and responses with content types', () => {
    const doc = buildOpenAPIv3ForGroupVersion(defs, resources, 'v1') as Json;
    const create = doc.paths['/api/v1/namespaces/{namespace}/pods'].post;
    assert.deepEqual(create.requestBody.content['*/*'].schema, { $ref: '#/components/schemas/io.k8s.api.core.v1.Pod' });
    assert.deepEqual(create.responses['201'].content['application/json'].schema, { $ref: '#/components/schemas/io.k8s.api.core.v1.Pod' });
    const patch = doc.paths['/api/v1/namespaces/{namespace}/pods/{name}'].patch;
    assert.ok(patch.requestBody.content['application/apply-patch+yaml']);
    assert.ok(patch.parameters.some((p: Json) => p.name === 'fieldValidation' && p.schema.type === 'string'));
  });
});
