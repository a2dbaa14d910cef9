// The kind-aware operations the HTTP handlers need, behind one interface so
// the handlers stay about HTTP: selectors, tables, patches, apply, schema checks.
import type { KubeObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/resources.js';
import type { ObjectFilter } from '../registry/store.js';
import type { Table } from '../printers/table.js';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

/** What a body checked by dropUnknownFields is. */
export type BodyForm = 'object' | 'mergePatch' | 'applied';

export interface Semantics {
  /** Builds a filter from the labelSelector and fieldSelector query parameters; throws 400 on bad input. */
  listFilter(info: ResourceInfo, labelSelector: string | undefined, fieldSelector: string | undefined): ObjectFilter | undefined;
  /** A Table of objects at `version` (a custom resource's printer columns are its version's). */
  table(info: ResourceInfo, objects: readonly KubeObject[], now: Date, version?: string): Table;
  /**
   * Applies a json, merge or strategic merge patch to the current object, which is at `version` and the caller's own
   * (the patch may change it) unless `shared`: then it is read-only, and the result of a merge patch shares with it
   * every part the patch does not reach (the other types copy it whole). A merge patch's result is without the empty
   * members Go leaves out (see dropUnknownFields) where the patch reached; the other types' are checked whole after.
   */
  patch(info: ResourceInfo, version: string, current: KubeObject, type: Exclude<PatchType, 'apply'>, patch: unknown, shared?: boolean): KubeObject;
  /**
   * Server-side apply at `version`: merges the applied configuration into the live object (undefined = create). The
   * result is the caller's own, without the empty members Go leaves out.
   */
  apply(info: ResourceInfo, version: string, live: KubeObject | undefined, applied: KubeObject, manager: string, force: boolean, subresource: string): KubeObject;
  /**
   * Removes the fields the kind's schema (at `version`) does not know and returns their paths, for fieldValidation=Strict|Warn,
   * and the members Go's encoding/json writes nothing for when empty ("", 0, false, {} or [] in an omitempty field), as
   * decoding and encoding again leaves them out; `form` says what obj is: an object to store; a JSON merge patch (its
   * null members delete, they are not fields; its empty members are left to the result); or an applied configuration
   * (its empty members are fields its manager sets, and stay). For a built-in kind, throws GoDecodeError when a value
   * does not decode into its field's Go type.
   */
  dropUnknownFields(info: ResourceInfo, version: string, obj: KubeObject, form?: BodyForm): string[];
  /** The fields of an applied configuration its type does not declare, as server-side apply names them (".spec.foo"). */
  undeclaredApplyFields(info: ResourceInfo, version: string, applied: KubeObject): string[];
}
