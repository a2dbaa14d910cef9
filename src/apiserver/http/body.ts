// Request bodies: size limit, content types, JSON and YAML decoding, all
// failing as Kubernetes does (413, 415, 400 with the parser's message).
import type { IncomingMessage } from 'node:http';
import type { CST, Node as YamlNode } from 'yaml';
import { BadRequestError, RequestEntityTooLargeError, UnsupportedMediaTypeError } from '../../api/errors.js';
import { yamlToJsonOffThread } from './yaml-off-thread.js';
import { jsonDuplicates, Scan, scanJson, setBodyDuplicates } from './duplicate-fields.js';

// The YAML parser and the Kubernetes protobuf decoder are loaded with the
// first body that needs them (readBody waits for that), not with the
// server: together they take a good part of a cold start to load, and most
// clients send JSON.
type YamlModule = typeof import('yaml');
type ProtobufModule = typeof import('../../api/protobuf/envelope.js');
let yamlModule: YamlModule | undefined;
let yamlLoading: Promise<YamlModule> | undefined;
let protobufModule: ProtobufModule | undefined;
let protobufLoading: Promise<ProtobufModule> | undefined;

/** Loads the YAML parser, once; decoding YAML needs it loaded. */
export function loadYaml(): Promise<YamlModule> {
  return (yamlLoading ??= import('yaml').then((m) => (yamlModule = m)));
}

function loadProtobuf(): Promise<ProtobufModule> {
  return (protobufLoading ??= import('../../api/protobuf/envelope.js').then((m) => (protobufModule = m)));
}

function loaded<T>(module: T | undefined, what: string): T {
  if (!module) throw new Error(`internal error: a ${what} body was decoded before its decoder was loaded (readBody loads it)`);
  return module;
}

/** kube-apiserver's default limit for a request body. */
export const maxRequestBodyBytes = 3 * 1024 * 1024;

function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer> {
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

/** YAML bodies larger than this are parsed on a worker thread: a 2.9 MB one takes the parser over a second. */
export const yamlOffThreadBytes = 64 * 1024;

const yamlTypes = new Set(['application/yaml', 'text/yaml', 'application/x-yaml', 'application/apply-patch+yaml']);
const protobufType = 'application/vnd.kubernetes.protobuf';

/**
 * A request's body. A large YAML body comes back as the JSON text of its
 * document, made on the YAML worker thread, so that the serving thread
 * goes on meanwhile; decodeDocument then parses it as JSON.
 */
export function readBody(req: IncomingMessage, limit = maxRequestBodyBytes): Promise<Buffer> {
  const body = readRawBody(req, limit);
  const type = mediaType(req.headers['content-type']);
  if (type === protobufType) return Promise.all([body, loadProtobuf()]).then(([raw]) => raw);
  // Any other body is the read's own promise: a JSON write takes no extra turn.
  if (!yamlTypes.has(type)) return body;
  return Promise.all([body, loadYaml()]).then(async ([raw]) => {
    if (raw.length <= yamlOffThreadBytes) return raw;
    const { json, duplicates } = await yamlToJsonOffThread(raw);
    decodedYaml.set(json, duplicates);
    return json;
  });
}

export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

const objectTypes = ['application/json', 'application/yaml', protobufType];

/** Decodes a create/update body (JSON, YAML or Kubernetes protobuf) into a JSON object. */
export function decodeObjectBody(raw: Buffer, contentType: string | undefined): unknown {
  const type = mediaType(contentType) || 'application/json';
  if (type === protobufType) return loaded(protobufModule, 'protobuf').decodeKubernetesProtobuf(raw);
  if (type === 'application/json' || type === 'application/yaml' || type === 'text/yaml' || type === 'application/x-yaml') {
    return decodeDocument(raw, type !== 'application/json');
  }
  throw new UnsupportedMediaTypeError(type, objectTypes);
}

/**
 * How deep a body's objects and arrays may nest. Writing an object out
 * (JSON.stringify), Nami's walks over it and the YAML parser recurse once a
 * level, and the stack ends some hundreds (YAML) to thousands (JSON) of
 * levels down; where it ends inside the YAML parser, V8 can even abort the
 * process. Go's decoder, kube-apiserver's, stops at 10,000 levels; no
 * Kubernetes object comes near either.
 */
export const maxNestingDepth = 512;

const tooDeep = `exceeded max depth (objects and arrays nest at most ${maxNestingDepth} levels deep)`;

/** Whether objects and arrays in value nest more than `limit` levels deep (the value itself is level 1), found without recursing. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: unknown[] = [value];
  const depths: number[] = [1];
  while (pending.length > 0) {
    const v = pending.pop();
    const depth = depths.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child !== 'object' || child === null) continue;
      pending.push(child);
      depths.push(depth + 1);
    }
  }
  return false;
}

/**
 * nestsDeeperThan for YAML text, told before any value is made: first from
 * the lexer's flow brackets, stopping at the first too deep (the parser's
 * syntax tree of a body nesting brackets a million deep took 13 s and
 * 1.7 GB), then from the parser's syntax tree, which block collections
 * nest in (both are built without recursing).
 */
function yamlNestsDeeperThan(text: string, limit: number): boolean {
  let flowDepth = 0;
  const { Lexer, Parser } = loaded(yamlModule, 'YAML');
  for (const token of new Lexer().lex(text)) {
    if (token === '[' || token === '{') {
      if (++flowDepth > limit) return true;
    } else if (token === ']' || token === '}') {
      flowDepth--;
    }
  }
  const pending: (CST.Token | null | undefined)[] = [];
  const depths: number[] = [];
  for (const token of new Parser().parse(text)) {
    pending.push(token);
    depths.push(0);
  }
  while (pending.length > 0) {
    const token = pending.pop();
    const depth = depths.pop()!;
    if (!token) continue;
    if (token.type === 'document') {
      pending.push(token.value);
      depths.push(depth);
    } else if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      if (depth + 1 > limit) return true;
      for (const item of token.items) {
        if ('key' in item) {
          pending.push(item.key);
          depths.push(depth + 1);
        }
        pending.push(item.value);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

/** A YAML text's document as a JSON value, with its repeated keys as Go's YAML decoder words them. */
export interface DecodedYaml {
  value: unknown;
  /** `line 14: key "paused" already set in map`, in the text's order; empty when no key repeats. */
  duplicates: string[];
}

/**
 * A YAML text's document, as decodeDocument decodes it (the body's checks
 * and errors included); the YAML worker thread (yaml-worker.ts) runs it for
 * large bodies.
 */
export function decodeYamlText(text: string): DecodedYaml {
  if (text.trim() === '') throw new BadRequestError('the body of the request was empty');
  // Each level takes a byte at least: a shorter text cannot nest too deep.
  if (text.length > maxNestingDepth && yamlNestsDeeperThan(text, maxNestingDepth)) throw new BadRequestError(`error converting YAML to JSON: ${tooDeep}`);
  let value: unknown;
  let duplicates: string[];
  try {
    // A repeated key keeps its last value, as kube-apiserver's decoding keeps the last duplicate field; the parser's
    // own check of keys (uniqueKeys), each against all before it, took 19 s for a 2.9 MB map: repeatedKeys finds them.
    const doc = loaded(yamlModule, 'YAML').parseDocument(text, { uniqueKeys: false });
    if (doc.errors.length > 0) throw doc.errors[0]!;
    duplicates = repeatedKeys(doc.contents, text);
    value = doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (err) {
    throw new BadRequestError(`error converting YAML to JSON: ${(err as Error).message}`);
  }
  // YAML's aliases can nest the value deeper than its text.
  if (nestsDeeperThan(value, maxNestingDepth)) throw new BadRequestError(`error converting YAML to JSON: ${tooDeep}`);
  return { value, duplicates };
}

/** The keys a YAML document's maps repeat, as Go's YAML decoder reports them: the repeat's line, and the key as %#v prints it. */
function repeatedKeys(root: YamlNode | null, text: string): string[] {
  const { isMap, isPair, isScalar, isSeq } = loaded(yamlModule, 'YAML');
  const repeats: { at: number; key: unknown }[] = [];
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const node = pending.pop();
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const item of node.items) {
        if (!isPair(item) || !isScalar(item.key)) continue;
        const key = item.key.value;
        if (seen.has(key) && item.key.range) repeats.push({ at: item.key.range[0], key });
        seen.add(key);
      }
      for (const item of node.items) pending.push(item.value);
    } else if (isSeq(node)) {
      for (const item of node.items) pending.push(item);
    }
  }
  if (repeats.length === 0) return [];
  repeats.sort((a, b) => a.at - b.at);
  return repeats.map(({ at, key }) => `line ${lineAt(text, at)}: key ${typeof key === 'string' ? JSON.stringify(key) : String(key)} already set in map`);
}

/** The 1-based line of a text's offset. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** YAML bodies readBody had the worker thread turn into JSON text, with their repeated keys: decodeDocument parses them as JSON. */
const decodedYaml = new WeakMap<Buffer, string[]>();

/**
 * A JSON or YAML body's document. Its repeated keys, if any, are kept for
 * fieldValidation (bodyDuplicates).
 */
export function decodeDocument(raw: Buffer, yaml: boolean): unknown {
  const fromWorker = decodedYaml.get(raw);
  if (yaml && fromWorker === undefined) {
    const { value, duplicates } = decodeYamlText(raw.toString('utf8'));
    setBodyDuplicates(value, { kind: 'yaml', lines: duplicates });
    return value;
  }
  const text = raw.toString('utf8');
  if (text.trim() === '') throw new BadRequestError('the body of the request was empty');
  const scan = scanJson(raw, maxNestingDepth);
  if (scan & Scan.tooDeep) throw new BadRequestError(`the body of the request could not be decoded as JSON: ${tooDeep}`);
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    throw new BadRequestError(`the body of the request could not be decoded as JSON: ${(err as Error).message}`);
  }
  if (fromWorker !== undefined) setBodyDuplicates(value, { kind: 'yaml', lines: fromWorker });
  else if (scan & Scan.duplicates) setBodyDuplicates(value, { kind: 'json', ...jsonDuplicates(text) });
  return value;
}
