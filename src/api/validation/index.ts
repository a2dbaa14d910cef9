// Validation of API objects as kube-apiserver performs it, producing
// FieldErrors that InvalidError renders exactly as kubectl expects.

export { validateObject, type GroupVersionKind, type ValidationOptions } from './kinds.js';
export {
  validateObjectMeta,
  validateObjectMetaUpdate,
  validateImmutableField,
  validateLabels,
  validateAnnotations,
  validateOwnerReferences,
  validateFinalizers,
  nameIsDNSSubdomain,
  nameIsDNSLabel,
  nameIsDNS1035Label,
  nameIsPathSegment,
  totalAnnotationSizeLimitBytes,
  type NameRule,
  type ObjectMetaRules,
} from './metadata.js';
export { validateLabelSelector, selectorMismatchMessage, type LabelSelectorValidationOptions } from './label-selector.js';
export { validatePod, validatePodUpdate, validatePodStatusUpdate, validatePodEphemeralContainersUpdate, validatePodSpec, validatePodTemplateSpec, podUpdateForbiddenMessage } from './pod.js';
export { validateServiceSpec } from './service.js';
export { cronScheduleError } from './cron-schedule.js';
export { semanticEqual, isZeroValue } from './semantic-equal.js';
export { controllerUidLabel, jobNameLabel, legacyControllerUidLabel, legacyJobNameLabel } from './batch.js';
export * from './identifiers.js';
export * as fieldErrors from './field-errors.js';
