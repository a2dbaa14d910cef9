// metav1 validation of a LabelSelector (ValidateLabelSelector), and the
// selector-versus-template check every controller kind makes.

import type { FieldError } from '../errors.js';
import { selectorFromLabelSelector, type LabelSelector, type Selector } from '../labels/index.js';
import { child, forbidden, index, invalid, required } from './field-errors.js';
import { isQualifiedName, isValidLabelValue } from './identifiers.js';
import { asArray, asObject, asString, asStringMap } from './json-values.js';
import { validateLabels } from './metadata.js';

export interface LabelSelectorValidationOptions {
  allowInvalidLabelValueInSelector?: boolean;
}

export function validateLabelSelector(selector: unknown, path: string, options: LabelSelectorValidationOptions = {}): FieldError[] {
  const ls = asObject(selector);
  if (!ls) return [];
  const errs = validateLabels(ls['matchLabels'], child(path, 'matchLabels'));
  asArray(ls['matchExpressions']).forEach((item, i) => {
    const expr = asObject(item) ?? {};
    const exprPath = index(child(path, 'matchExpressions'), i);
    const values = asArray(expr['values']).map(asString);
    const operator = asString(expr['operator']);
    switch (operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(required(child(exprPath, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(forbidden(child(exprPath, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(invalid(child(exprPath, 'operator'), operator, 'not a valid selector operator'));
    }
    const key = asString(expr['key']);
    for (const msg of isQualifiedName(key)) errs.push(invalid(child(exprPath, 'key'), key, msg));
    if (!options.allowInvalidLabelValueInSelector) {
      values.forEach((v, vi) => {
        for (const msg of isValidLabelValue(v)) errs.push(invalid(index(child(exprPath, 'values'), vi), v, msg));
      });
    }
  });
  return errs;
}

/** metav1.LabelSelectorAsSelector, or undefined where Kubernetes gets an error. */
export function selectorOrUndefined(selector: unknown): Selector | undefined {
  try {
    return selectorFromLabelSelector(selector === undefined || selector === null ? undefined : (selector as LabelSelector));
  } catch {
    return undefined;
  }
}

export const selectorMismatchMessage = '`selector` does not match template `labels`';

/** The template labels must be selected by the controller's own selector. */
export function validateSelectorMatchesTemplate(selector: Selector, templateLabels: unknown, labelsPath: string): FieldError[] {
  if (selector.empty()) return [];
  return selector.matches(asStringMap(templateLabels)) ? [] : [invalid(labelsPath, templateLabels ?? null, selectorMismatchMessage)];
}
