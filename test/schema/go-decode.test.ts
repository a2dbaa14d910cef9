// Decoding a built-in kind as kube-apiserver's Go decoder does: which values
// its fields refuse, and the decoder's words for each.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadDefinitions } from '../../src/api/schema/index.js';
import { base64CorruptAt, GoDecodeError } from '../../src/api/schema/go-decode.js';
import { unknownFields } from '../../src/api/schema/unknown-fields.js';

const defs = loadDefinitions();

/** The decoder's message for obj as definition `name`, or undefined when it decodes. */
function decodeError(name: string, obj: unknown): string | undefined {
  try {
    unknownFields(defs, name, obj, { goTypes: true });
    return undefined;
  } catch (err) {
    assert.ok(err instanceof GoDecodeError, String(err));
    return err.message;
  }
}

const deployment = (container: Record<string, unknown>) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'd' },
  spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x', ...container }] } } },
});

describe('decoding into Go types', () => {
  it('names the innermost struct, the path of struct fields and the Go type, as kube-apiserver does', () => {
    // As a cluster answered `kubectl apply` of a Deployment with an env value written `true` in YAML.
    assert.equal(
      decodeError('io.k8s.api.apps.v1.Deployment', deployment({ env: [{ name: 'ENABLE', value: true }] })),
      'json: cannot unmarshal bool into Go struct field EnvVar.spec.template.spec.containers.env.value of type string',
    );
    // Map keys and item indexes are not in the path; the field's Go type is the map's or the list's.
    assert.equal(decodeError('io.k8s.api.core.v1.ConfigMap', { metadata: { name: 'c' }, data: { a: [1] } }), 'json: cannot unmarshal array into Go struct field ConfigMap.data of type string');
    assert.equal(
      decodeError('io.k8s.api.core.v1.Pod', { metadata: { name: 'p', labels: 'app=x' } }),
      'json: cannot unmarshal string into Go struct field ObjectMeta.metadata.labels of type map[string]string',
    );
    assert.equal(decodeError('io.k8s.api.core.v1.Pod', { spec: { containers: 'main' } }), 'json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type []v1.Container');
    assert.equal(
      decodeError('io.k8s.api.core.v1.Pod', { spec: { containers: [{ name: 'c', resources: { limits: [1] } }] } }),
      'json: cannot unmarshal array into Go struct field ResourceRequirements.spec.containers.resources.limits of type v1.ResourceList',
    );
    assert.equal(decodeError('io.k8s.api.core.v1.Pod', { spec: { containers: [{ name: 'c', ports: [{ containerPort: '80' }] }] } }), 'json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32');
    assert.equal(decodeError('io.k8s.api.core.v1.Pod', { spec: { hostNetwork: 'true' } }), 'json: cannot unmarshal string into Go struct field PodSpec.spec.hostNetwork of type bool');
  });

  it('takes integers that fit their field, and names the number of one that does not', () => {
    assert.equal(decodeError('io.k8s.api.core.v1.Pod', { spec: { terminationGracePeriodSeconds: 1.5 } }), 'json: cannot unmarshal number 1.5 into Go struct field PodSpec.spec.terminationGracePeriodSeconds of type int64');
    assert.equal(decodeError('io.k8s.api.core.v1.Service', { spec: { ports: [{ port: 3000000000 }] } }), 'json: cannot unmarshal number 3000000000 into Go struct field ServicePort.spec.ports.port of type int32');
    assert.equal(decodeError('io.k8s.api.core.v1.Service', { spec: { ports: [{ port: 2147483647 }] } }), undefined);
    assert.equal(decodeError('io.k8s.api.core.v1.Pod', { spec: { terminationGracePeriodSeconds: 3000000000 } }), undefined);
  });

  it('decodes the types that decode themselves as they do', () => {
    // IntOrString takes a string or an int32; anything else goes to its int32, which refuses it.
    assert.equal(decodeError('io.k8s.api.core.v1.Service', { spec: { ports: [{ port: 80, targetPort: 'http' }] } }), undefined);
    assert.equal(decodeError('io.k8s.api.core.v1.Service', { spec: { ports: [{ port: 80, targetPort: 8080 }] } }), undefined);
    assert.equal(decodeError('io.k8s.api.core.v1.Service', { spec: { ports: [{ port: 80, targetPort: true }] } }), 'json: cannot unmarshal bool into Go struct field ServicePort.spec.ports.targetPort of type int32');
    // A Quantity takes a string or a number; anything else fails its parse.
    assert.equal(decodeError('io.k8s.api.core.v1.Pod', { spec: { containers: [{ name: 'c', resources: { limits: { cpu: 1, memory: '1Gi' } } }] } }), undefined);
    assert.match(decodeError('io.k8s.api.core.v1.Pod', { spec: { containers: [{ name: 'c', resources: { limits: { cpu: true } } }] } }) ?? '', /^quantities must match the regular expression/);
    // []byte is base64, as Go decodes it.
    assert.equal(decodeError('io.k8s.api.core.v1.Secret', { data: { password: 'aHVudGVyMg==' } }), undefined);
    assert.equal(decodeError('io.k8s.api.core.v1.Secret', { data: { password: 'hunter2!' } }), 'illegal base64 data at input byte 7');
    // RawExtension and FieldsV1 take any JSON.
    assert.equal(decodeError('io.k8s.api.apps.v1.ControllerRevision', { data: [1, 'two', { three: 3 }], revision: 1 }), undefined);
    assert.equal(decodeError('io.k8s.api.core.v1.Pod', { metadata: { managedFields: [{ fieldsV1: { 'f:spec': {} } }] } }), undefined);
  });

  it('takes null for every field, and reports the first error in the object, as Go does', () => {
    assert.equal(decodeError('io.k8s.api.core.v1.Pod', { metadata: { labels: null, name: null }, spec: { containers: null, hostNetwork: null } }), undefined);
    assert.equal(
      decodeError('io.k8s.api.core.v1.Pod', { spec: { hostNetwork: 1, hostPID: 'yes' } }),
      'json: cannot unmarshal number into Go struct field PodSpec.spec.hostNetwork of type bool',
    );
  });

  it('leaves unknown fields to field validation: they are not decoded', () => {
    assert.equal(decodeError('io.k8s.api.core.v1.Pod', { spec: { notAField: { deep: [true] } } }), undefined);
  });
});

describe("Go's base64 decoding", () => {
  it("finds corrupt input where Go's StdEncoding does", () => {
    // Go's own test table (encoding/base64, TestDecodeCorrupt): -1 is no corruption.
    const cases: [string, number][] = [
      ['', -1],
      ['\n', -1],
      ['AAA=\n', -1],
      ['AAAA\n', -1],
      ['!!!!', 0],
      ['====', 0],
      ['x===', 1],
      ['=AAA', 0],
      ['A=AA', 1],
      ['AA=A', 2],
      ['AA==A', 4],
      ['AAA=AAAA', 4],
      ['AAAAA', 4],
      ['AAAAAA', 4],
      ['A=', 1],
      ['A==', 1],
      ['AA=', 3],
      ['AA==', -1],
      ['AAA=', -1],
      ['AAAA', -1],
      ['AAAAAA=', 7],
      ['YWJjZA=====', 8],
      ['A!\n', 1],
      ['A=\n', 1],
    ];
    for (const [input, offset] of cases) assert.equal(base64CorruptAt(input), offset, JSON.stringify(input));
  });

  it('counts offsets in UTF-8 bytes', () => {
    assert.equal(base64CorruptAt('é==='), 0);
    assert.equal(base64CorruptAt('AAAAé'), 4);
  });
});
