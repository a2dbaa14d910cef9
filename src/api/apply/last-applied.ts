// The path from client-side to server-side apply, for the "kubectl" manager
// only (as kube-apiserver does it): conflicts on fields the object still has as
// kubectl last applied them client-side are not conflicts, and the
// last-applied annotation keeps following what is applied, so that going back
// to client-side apply still works.
import { isJsonMap, goJson } from './json-value.js';
import { fieldSetOfValue } from './object-field-set.js';
import type { FieldSet } from './field-set.js';
import { compareValues } from './typed-compare.js';
import type { TypeNode } from './type-info.js';

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** metav1's total annotation size limit; an annotation that would pass it is dropped instead. */
const totalAnnotationSizeLimit = 256 * 1024;

/** The manager whose applies take over from client-side apply. */
export const SERVER_SIDE_KUBECTL = 'kubectl';

function annotationsOf(obj: unknown): Record<string, unknown> | undefined {
  if (!isJsonMap(obj) || !isJsonMap(obj.metadata)) return undefined;
  const annotations = obj.metadata.annotations;
  return isJsonMap(annotations) ? annotations : undefined;
}

/**
 * Fields that client-side apply set and that still hold the values it set:
 * taking them over is not a conflict. undefined when the object has no
 * last-applied annotation.
 */
export function fieldsStillAsLastApplied(live: unknown, type: TypeNode): FieldSet | undefined {
  const raw = annotationsOf(live)?.[LAST_APPLIED_ANNOTATION];
  if (typeof raw !== 'string' || raw === '') return undefined;
  let lastApplied: unknown;
  try {
    lastApplied = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isJsonMap(lastApplied)) return undefined;
  const compare = compareValues(lastApplied, live, type);
  return fieldSetOfValue(lastApplied, type).difference(compare.modified).difference(compare.added).difference(compare.removed);
}

/** The object with its last-applied annotation, if it has one, rewritten from the applied configuration. */
export function followLastApplied(obj: Record<string, unknown>, appliedConfig: unknown): void {
  const annotations = annotationsOf(obj);
  if (!annotations || typeof annotations[LAST_APPLIED_ANNOTATION] !== 'string') return;
  annotations[LAST_APPLIED_ANNOTATION] = lastAppliedValue(appliedConfig);
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) size += k.length + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
  if (size > totalAnnotationSizeLimit) delete annotations[LAST_APPLIED_ANNOTATION];
}

/** The configuration without its own last-applied annotation, encoded as kube-apiserver encodes it. */
function lastAppliedValue(appliedConfig: unknown): string {
  const copy: unknown = structuredClone(appliedConfig);
  const annotations = annotationsOf(copy);
  if (annotations) delete annotations[LAST_APPLIED_ANNOTATION];
  return goJson(copy) + '\n';
}
