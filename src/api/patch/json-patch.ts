// JSON patch (RFC 6902) as kube-apiserver applies it for
// application/json-patch+json: a patch that does not decode is a 400, one that
// decodes but cannot be applied is a 422 with a fixed message, and more than
// 10000 operations is a 413.
import fastJsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { ApiError } from '../errors.js';
import { cloneJson, isPlainObject } from '../object.js';
import type { PatchTarget } from './merge-patch.js';
import { PatchRejectedError, badRequest, jsonKindName } from './patch-errors.js';

/** kube-apiserver's maxJSONPatchOperations. */
export const maxJsonPatchOperations = 10000;

const operationKinds = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

/** The patch as kube-apiserver decodes it; anything else is a 400. */
function decode(ops: unknown): unknown[] {
  if (ops === null) return []; // a JSON null decodes to an empty patch
  if (!Array.isArray(ops)) throw badRequest(`json: cannot unmarshal ${jsonKindName(ops)} into Go value of type jsonpatch.Patch`);
  for (const op of ops) {
    if (op !== null && !isPlainObject(op)) throw badRequest(`json: cannot unmarshal ${jsonKindName(op)} into Go value of type jsonpatch.Operation`);
  }
  if (ops.length > maxJsonPatchOperations) {
    throw new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: The allowed maximum operations in a JSON patch is ${maxJsonPatchOperations}, got ${ops.length}`);
  }
  return ops;
}

function checkOperation(op: unknown, index: number): Operation {
  if (!isPlainObject(op)) throw new PatchRejectedError(`operation ${index} is not an object`);
  if (typeof op.op !== 'string' || !operationKinds.has(op.op)) throw new PatchRejectedError(`Unexpected kind: ${typeof op.op === 'string' ? op.op : 'unknown'}`);
  if (typeof op.path !== 'string') throw new PatchRejectedError(`operation ${index} has no path`);
  if ((op.op === 'move' || op.op === 'copy') && typeof op.from !== 'string') throw new PatchRejectedError(`${op.op} operation ${index} has no from`);
  return op as unknown as Operation;
}

/** The reference tokens of a JSON pointer ("/a/b~1c" is a, b/c), unescaped. */
export function jsonPointerTokens(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** kube's json-patch lets `test` with value null pass when the object simply lacks the key. */
function isTestForAbsentKey(document: unknown, op: Operation): boolean {
  if (op.op !== 'test' || op.value !== null || op.path === '') return false;
  const tokens = jsonPointerTokens(op.path);
  const key = tokens.pop();
  let parent: unknown = document;
  for (const token of tokens) {
    if (Array.isArray(parent) && /^\d+$/.test(token)) parent = parent[Number(token)];
    else if (isPlainObject(parent) && Object.hasOwn(parent, token)) parent = parent[token];
    else return false;
  }
  return isPlainObject(parent) && key !== undefined && !Object.hasOwn(parent, key);
}

/**
 * Applies a JSON patch without changing the operations (nor the target,
 * unless it is owned). The operations are applied in order; the first that
 * cannot be applied rejects the whole patch.
 */
export function applyJsonPatch(target: unknown, ops: unknown, opts: PatchTarget = {}): unknown {
  const decoded = decode(ops);
  let document = opts.owned ? target : cloneJson(target);
  decoded.forEach((raw, index) => {
    const op = checkOperation(cloneJson(raw), index);
    if (isTestForAbsentKey(document, op)) return;
    try {
      document = fastJsonPatch.applyOperation(document, op, true, true, true, index).newDocument;
    } catch (err) {
      throw new PatchRejectedError(err instanceof Error ? err.message : String(err));
    }
  });
  return document;
}
