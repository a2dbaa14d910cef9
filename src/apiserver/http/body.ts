// Request bodies: size limit, content types, JSON and YAML decoding, all
// failing as Kubernetes does (413, 415, 400 with the parser's message).
import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { BadRequestError, RequestEntityTooLargeError, UnsupportedMediaTypeError } from '../../api/errors.js';
import { decodeKubernetesProtobuf, isKubernetesProtobuf } from '../../api/protobuf/index.js';

/** kube-apiserver's default limit for a request body. */
export const maxRequestBodyBytes = 3 * 1024 * 1024;

export function readBody(req: IncomingMessage, limit = maxRequestBodyBytes): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      reject(new RequestEntityTooLargeError(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new RequestEntityTooLargeError(limit));
        return;
      }
      chunks.push(c);
    });
    // Most bodies arrive in one chunk: no copy then.
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

const objectTypes = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];

/** Decodes a create/update body (JSON, YAML or Kubernetes protobuf) into a JSON object. */
export function decodeObjectBody(raw: Buffer, contentType: string | undefined): unknown {
  const type = mediaType(contentType) || 'application/json';
  if (isKubernetesProtobuf(type)) return decodeKubernetesProtobuf(raw);
  if (type === 'application/json' || type === 'application/yaml' || type === 'text/yaml' || type === 'application/x-yaml') {
    return decodeDocument(raw, type !== 'application/json');
  }
  throw new UnsupportedMediaTypeError(type, objectTypes);
}

export function decodeDocument(raw: Buffer, yaml: boolean): unknown {
  const text = raw.toString('utf8');
  if (text.trim() === '') throw new BadRequestError('the body of the request was empty');
  if (!yaml) {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new BadRequestError(`the body of the request could not be decoded as JSON: ${(err as Error).message}`);
    }
  }
  try {
    return parseYaml(text, { maxAliasCount: 100 }) as unknown;
  } catch (err) {
    throw new BadRequestError(`error converting YAML to JSON: ${(err as Error).message}`);
  }
}
