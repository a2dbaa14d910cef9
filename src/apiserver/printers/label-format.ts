// Labels and label selectors as Kubernetes' labels.Set.String and
// labels.Selector.String write them: requirements sorted by key, set values
// sorted, "k=v", "k in (a,b)", "k notin (a)", "k", "!k".
import { goStringOrder } from './go-text.js';

export interface LabelSelectorRequirement {
  key?: string;
  operator?: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** labels.FormatLabels: "<none>" when there are none. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort(goStringOrder);
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${labels?.[k] ?? ''}`).join(',');
}

class InvalidSelectorError extends Error {
  override readonly name = 'InvalidSelectorError';
}

function requirementString(key: string, operator: string, values: string[]): string {
  const sorted = [...values].sort(goStringOrder).join(',');
  switch (operator) {
    case 'Equals':
      if (values.length !== 1) throw new InvalidSelectorError(`values for ${key} must have exactly one entry`);
      return `${key}=${values[0] ?? ''}`;
    case 'In':
    case 'NotIn':
      if (values.length === 0) throw new InvalidSelectorError(`values for ${key} must be non-empty`);
      return `${key} ${operator === 'In' ? 'in' : 'notin'} (${sorted})`;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length !== 0) throw new InvalidSelectorError(`values for ${key} must be empty`);
      return operator === 'Exists' ? key : `!${key}`;
    default:
      throw new InvalidSelectorError(`"${operator}" is not a valid label selector operator`);
  }
}

/**
 * metav1.LabelSelectorAsSelector(...).String(): "" for a missing or empty
 * selector; throws InvalidSelectorError for one Kubernetes would reject.
 */
export function labelSelectorString(selector: LabelSelector | null | undefined): string {
  if (selector === null || selector === undefined) return '';
  const requirements: { key: string; text: string }[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    requirements.push({ key, text: requirementString(key, 'Equals', [value]) });
  }
  for (const expr of selector.matchExpressions ?? []) {
    const key = expr.key ?? '';
    requirements.push({ key, text: requirementString(key, expr.operator ?? '', expr.values ?? []) });
  }
  requirements.sort((a, b) => goStringOrder(a.key, b.key));
  return requirements.map((r) => r.text).join(',');
}

/** metav1.FormatLabelSelector: "<none>" when it selects nothing in particular, "<error>" when invalid. */
export function formatLabelSelector(selector: LabelSelector | null | undefined): string {
  try {
    const text = labelSelectorString(selector);
    return text === '' ? '<none>' : text;
  } catch (err) {
    if (err instanceof InvalidSelectorError) return '<error>';
    throw err;
  }
}

/** The Deployment printer's variant: "" when empty, "<invalid>" when invalid. */
export function selectorOrInvalid(selector: LabelSelector | null | undefined): string {
  try {
    return labelSelectorString(selector);
  } catch (err) {
    if (err instanceof InvalidSelectorError) return '<invalid>';
    throw err;
  }
}
