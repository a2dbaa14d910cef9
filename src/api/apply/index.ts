// Server-side apply and managedFields: pure functions on JSON objects, after
// sigs.k8s.io/structured-merge-diff and k8s.io/apiserver's fieldmanager.
export { updateManagedFields, updatedManagedFields, managedFieldsChangedBy, serverSideApply, fieldManagerFromUserAgent, LAST_APPLIED_ANNOTATION } from './field-manager.js';
export type { ApplyOptions, ApplyResult, FieldManagerOptions } from './field-manager.js';
export { typeInfoFor } from './type-info.js';
export type { TypeInfo, TypeInfoOptions, TypeNode, ListType, MapType, ScalarType, DeducedType } from './type-info.js';
export { computeFieldSet } from './object-field-set.js';
export { FieldSet, FieldsV1DecodeError } from './field-set.js';
export { fieldPath, fieldElement, keyElement, pathToString, serializePathElement, parsePathElement, comparePathElements, PathElementSyntaxError } from './field-path.js';
export type { FieldPath, PathElement } from './field-path.js';
export { decodeManagedFields, encodeManagedFields, managerIdentifier, ManagedFieldsDecodeError } from './managed-fields.js';
export type { Managed, ManagerIdentity, VersionedFieldSet } from './managed-fields.js';
