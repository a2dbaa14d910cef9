// Kubernetes' protobuf envelope: the bytes "k8s\0", then a runtime.Unknown whose
// typeMeta names the kind and whose raw holds the object's own message.
import protobuf from 'protobufjs';
import { ApiError, BadRequestError } from '../errors.js';
import type { JsonValue, KubeObject } from '../object.js';
import { isPlainObject } from '../object.js';
import { kubeProtobufSchema, messageTypeForKind } from './descriptor.js';
import { jsonToMessage, messageToJson, type Message } from './json-form.js';

export const KUBERNETES_PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

const magic = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

/** True for "application/vnd.kubernetes.protobuf", with or without parameters. */
export function isKubernetesProtobuf(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === KUBERNETES_PROTOBUF_CONTENT_TYPE;
}

function unknownType(): protobuf.Type {
  return kubeProtobufSchema().root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function unsupportedKind(apiVersion: string, kind: string): BadRequestError {
  return new BadRequestError(
    `no kind "${kind}" is registered for version "${apiVersion}" in the protobuf codec; send this object as application/json`,
  );
}

/**
 * The object in a Kubernetes protobuf body, in the JSON form the same object
 * has when sent as application/json (apiVersion and kind first). Kinds without
 * ObjectMeta (DeleteOptions, Status) come back without metadata.
 * Throws BadRequestError for anything that is not a well-formed object of a known kind.
 */
export function decodeKubernetesProtobuf(body: Uint8Array): KubeObject {
  if (body.length < magic.length || magic.some((b, i) => body[i] !== b)) {
    throw new BadRequestError('the body of the request is not a Kubernetes protobuf message: it does not start with "k8s\\x00"');
  }
  let envelope: Message;
  try {
    envelope = unknownType().decode(body.subarray(magic.length)) as unknown as Message;
  } catch (err) {
    throw new BadRequestError(`the body of the request could not be decoded as a Kubernetes protobuf message: ${errorText(err)}`);
  }
  const typeMeta = (envelope['typeMeta'] ?? {}) as Message;
  const apiVersion = typeof typeMeta['apiVersion'] === 'string' ? typeMeta['apiVersion'] : '';
  const kind = typeof typeMeta['kind'] === 'string' ? typeMeta['kind'] : '';
  if (!kind) throw new BadRequestError("Object 'Kind' is missing in the protobuf body");
  if (!apiVersion) throw new BadRequestError("Object 'apiVersion' is missing in the protobuf body");
  const raw = envelope['raw'] instanceof Uint8Array ? envelope['raw'] : new Uint8Array(0);
  const contentEncoding = envelope['contentEncoding'];
  if (typeof contentEncoding === 'string' && contentEncoding !== '') {
    throw new BadRequestError(`the protobuf body has content encoding "${contentEncoding}", which is not supported`);
  }
  const contentType = typeof envelope['contentType'] === 'string' ? envelope['contentType'] : '';
  if (contentType !== '' && !isKubernetesProtobuf(contentType)) {
    if (contentType.split(';')[0]!.trim().toLowerCase() !== 'application/json') {
      throw new BadRequestError(`the protobuf body wraps an object of content type "${contentType}", which is not supported`);
    }
    return withTypeMeta(apiVersion, kind, parseEmbeddedJson(raw));
  }
  const type = messageTypeForKind(apiVersion, kind);
  if (!type) throw unsupportedKind(apiVersion, kind);
  try {
    const message = type.decode(raw) as unknown as Message;
    return withTypeMeta(apiVersion, kind, messageToJson(type, message));
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new BadRequestError(`the ${kind} in the protobuf body is malformed: ${errorText(err)}`);
  }
}

function parseEmbeddedJson(raw: Uint8Array): JsonValue {
  try {
    return JSON.parse(Buffer.from(raw).toString('utf8')) as JsonValue;
  } catch (err) {
    throw new BadRequestError(`the JSON object in the protobuf body is malformed: ${errorText(err)}`);
  }
}

function withTypeMeta(apiVersion: string, kind: string, json: JsonValue): KubeObject {
  if (!isPlainObject(json)) throw new BadRequestError(`the ${kind} in the protobuf body is not an object`);
  const { apiVersion: _v, kind: _k, ...rest } = json;
  return { apiVersion, kind, ...rest } as KubeObject;
}

/**
 * The Kubernetes protobuf form of an object (envelope included), as
 * kube-apiserver writes it. Throws BadRequestError when the object has no
 * apiVersion/kind, is of a kind without a protobuf form, or does not fit its
 * schema (a string where an integer belongs ...).
 */
export function encodeKubernetesProtobuf(obj: KubeObject): Uint8Array {
  const { apiVersion, kind } = obj;
  if (typeof apiVersion !== 'string' || apiVersion === '' || typeof kind !== 'string' || kind === '') {
    throw new BadRequestError('an object needs apiVersion and kind to be encoded as protobuf');
  }
  const type = messageTypeForKind(apiVersion, kind);
  if (!type) throw unsupportedKind(apiVersion, kind);
  let raw: Uint8Array;
  try {
    raw = type.encode(jsonToMessage(type, obj as unknown as JsonValue) ?? {}).finish();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new BadRequestError(`the ${kind} could not be encoded as protobuf: ${errorText(err)}`);
  }
  const envelope = unknownType().encode({ typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '' }).finish();
  const out = new Uint8Array(magic.length + envelope.length);
  out.set(magic, 0);
  out.set(envelope, magic.length);
  return out;
}
