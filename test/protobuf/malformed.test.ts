// Bad protobuf bodies are answered with 400 BadRequest and a message saying
// what is wrong; nothing a client sends makes the decoder fail otherwise.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { BadRequestError } from '../../src/api/errors.js';
import {
  decodeKubernetesProtobuf,
  encodeKubernetesProtobuf,
  isKubernetesProtobuf,
} from '../../src/api/protobuf/index.js';
import type { KubeObject } from '../../src/api/object.js';

const magic = Buffer.from('k8s\0', 'latin1');

/** An envelope with free choice of its fields, built without the codec under test. */
function envelope(fields: { apiVersion?: string; kind?: string; raw?: Uint8Array; contentEncoding?: string; contentType?: string }): Buffer {
  const w = protobuf.Writer.create();
  const typeMeta = protobuf.Writer.create();
  if (fields.apiVersion !== undefined) typeMeta.uint32((1 << 3) | 2).string(fields.apiVersion);
  if (fields.kind !== undefined) typeMeta.uint32((2 << 3) | 2).string(fields.kind);
  w.uint32((1 << 3) | 2).bytes(typeMeta.finish());
  if (fields.raw) w.uint32((2 << 3) | 2).bytes(fields.raw);
  if (fields.contentEncoding !== undefined) w.uint32((3 << 3) | 2).string(fields.contentEncoding);
  if (fields.contentType !== undefined) w.uint32((4 << 3) | 2).string(fields.contentType);
  return Buffer.concat([magic, w.finish()]);
}

function badRequest(body: Uint8Array, message: RegExp): void {
  assert.throws(
    () => decodeKubernetesProtobuf(body),
    (err: unknown) => err instanceof BadRequestError && err.code === 400 && message.test(err.message),
  );
}

const configMap: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { a: 'b' } };

describe('malformed protobuf bodies', () => {
  it('rejects a body without the k8s\\0 prefix', () => {
    badRequest(Buffer.from('{"kind":"ConfigMap"}'), /does not start with "k8s\\x00"/);
    badRequest(Buffer.alloc(0), /does not start/);
  });

  it('rejects an envelope that is not a protobuf message', () => {
    badRequest(Buffer.concat([magic, Buffer.from([0x0a, 0xff, 0xff, 0xff])]), /could not be decoded/);
  });

  it('rejects an envelope without kind or apiVersion', () => {
    badRequest(envelope({ apiVersion: 'v1' }), /'Kind' is missing/);
    badRequest(envelope({ kind: 'ConfigMap' }), /'apiVersion' is missing/);
  });

  it('names the kind it has no protobuf form for', () => {
    badRequest(envelope({ apiVersion: 'example.com/v1', kind: 'Widget', raw: new Uint8Array() }), /no kind "Widget" is registered for version "example.com\/v1"/);
    badRequest(envelope({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', raw: new Uint8Array() }), /application\/json/);
  });

  it('rejects a truncated object', () => {
    const whole = encodeKubernetesProtobuf(configMap);
    const raw = protobuf.Reader.create(whole.subarray(4));
    // Re-wrap the object's bytes minus their last one, so only the object is damaged.
    let objectBytes: Uint8Array | undefined;
    while (raw.pos < raw.len) {
      const tag = raw.uint32();
      if (tag >>> 3 === 2) objectBytes = raw.bytes();
      else raw.skipType(tag & 7);
    }
    assert.ok(objectBytes);
    badRequest(envelope({ apiVersion: 'v1', kind: 'ConfigMap', raw: objectBytes.subarray(0, objectBytes.length - 1) }), /ConfigMap in the protobuf body is malformed/);
  });

  it('rejects compressed content it cannot read', () => {
    badRequest(envelope({ apiVersion: 'v1', kind: 'ConfigMap', raw: new Uint8Array(), contentEncoding: 'gzip' }), /content encoding "gzip"/);
  });

  it('reads an envelope that wraps JSON, and rejects other wrapped content types', () => {
    const raw = Buffer.from(JSON.stringify({ metadata: { name: 'c' }, data: { a: 'b' } }));
    assert.deepEqual(decodeKubernetesProtobuf(envelope({ apiVersion: 'v1', kind: 'ConfigMap', raw, contentType: 'application/json' })), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c' },
      data: { a: 'b' },
    });
    badRequest(envelope({ apiVersion: 'v1', kind: 'ConfigMap', raw, contentType: 'application/cbor' }), /content type "application\/cbor"/);
  });

  it('answers every corruption of a valid body with a decoded object or BadRequest', () => {
    const body = encodeKubernetesProtobuf({
      ...configMap,
      binaryData: { b: 'AAE=' },
      metadata: { name: 'c', creationTimestamp: '2026-01-02T03:04:05Z', ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u', controller: true }] },
    });
    let seed = 12345;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 2000; i++) {
      const copy = Buffer.from(body);
      for (let flips = 1 + next(3); flips > 0; flips--) copy[4 + next(copy.length - 4)] = next(256);
      const cut = next(4) === 0 ? copy.subarray(0, 4 + next(copy.length - 4)) : copy;
      try {
        decodeKubernetesProtobuf(cut);
      } catch (err) {
        assert.ok(err instanceof BadRequestError, `corruption ${i} threw ${String(err)}`);
      }
    }
  });
});

describe('encoding objects that do not fit their schema', () => {
  it('names the field whose value has the wrong type', () => {
    assert.throws(
      () => encodeKubernetesProtobuf({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 'three' } }),
      (err: unknown) => err instanceof BadRequestError && /spec\.replicas: expected an integer/.test(err.message),
    );
    assert.throws(
      () => encodeKubernetesProtobuf({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { k: 'not base64!' } }),
      (err: unknown) => err instanceof BadRequestError && /data\[k\]: expected base64 data/.test(err.message),
    );
  });

  it('refuses objects without apiVersion and kind, or of kinds it does not know', () => {
    assert.throws(() => encodeKubernetesProtobuf({ metadata: { name: 'x' } }), BadRequestError);
    assert.throws(() => encodeKubernetesProtobuf({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: {} }), BadRequestError);
  });
});

describe('content type', () => {
  it('recognises the Kubernetes protobuf media type with or without parameters', () => {
    assert.equal(isKubernetesProtobuf('application/vnd.kubernetes.protobuf'), true);
    assert.equal(isKubernetesProtobuf('Application/VND.Kubernetes.Protobuf; charset=binary'), true);
    assert.equal(isKubernetesProtobuf('application/json'), false);
    assert.equal(isKubernetesProtobuf(undefined), false);
  });
});

describe('descriptor.json', () => {
  it('is what scripts/gen-protobuf-descriptor.mjs makes of the committed .proto files', () => {
    const script = fileURLToPath(new URL('../../../scripts/gen-protobuf-descriptor.mjs', import.meta.url));
    const r = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr + r.stdout);
  });
});
