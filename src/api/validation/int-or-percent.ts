// IntOrString fields that hold a count or a percentage (maxUnavailable,
// maxSurge, minAvailable), checked as apps validation checks them.

import type { FieldError } from '../errors.js';
import { invalid, isNegativeErrorMsg } from './field-errors.js';
import { isValidPercent } from './identifiers.js';

/** ValidatePositiveIntOrPercent: a whole number not below 0, or a percentage such as '5%'. */
export function validatePositiveIntOrPercent(value: unknown, path: string): FieldError[] {
  if (typeof value === 'string') return isValidPercent(value).map((msg) => invalid(path, value, msg));
  if (typeof value === 'number') return value < 0 ? [invalid(path, value, isNegativeErrorMsg)] : [];
  return [invalid(path, value ?? null, "must be an integer or percentage (e.g '5%')")];
}

/** IsNotMoreThan100Percent: counts are not bounded, percentages are. */
export function notMoreThan100Percent(value: unknown, path: string): FieldError[] {
  const m = /^([0-9]+)%$/.exec(typeof value === 'string' ? value : '');
  return m && Number(m[1]) > 100 ? [invalid(path, value, 'must not be greater than 100%')] : [];
}
