// The patch engine behind PATCH requests: pure functions from (object, patch)
// to the patched object, throwing the API errors kube-apiserver answers with.
export { applyMergePatch } from './merge-patch.js';
export { applyJsonPatch, maxJsonPatchOperations } from './json-patch.js';
export { applyStrategicMergePatch } from './strategic-merge-patch.js';
export { SchemaPatchMeta, schemalessPatchMeta, fieldPatchMetaAt, parsePatchStrategy } from './patch-meta.js';
export type { FieldPatchMeta, PatchMeta, PatchStrategy } from './patch-meta.js';
export { MalformedPatchError, PatchRejectedError } from './patch-errors.js';
