// metav1.LabelSelector (matchLabels + matchExpressions), the structured form in
// Deployments, Services' peers, PodDisruptionBudgets ..., converted to and from
// the same Selector the string syntax produces.

import { BadRequestError } from '../errors.js';
import { labelSelectorParseError, parseLabelSelector } from './parse.js';
import { newRequirement, Requirement, RequirementError, Selector, type Operator } from './selector.js';

export type LabelSelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface LabelSelectorRequirement {
  key: string;
  operator: LabelSelectorOperator | string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

const operatorOf: Record<LabelSelectorOperator, Operator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };

/**
 * metav1.LabelSelectorAsSelector: a missing selector matches nothing, an empty
 * one everything. Invalid keys, values or operators throw a 400 with
 * Kubernetes' message.
 */
export function selectorFromLabelSelector(ls: LabelSelector | null | undefined): Selector {
  if (ls === null || ls === undefined) return Selector.nothing();
  const matchLabels = ls.matchLabels ?? {};
  const expressions = ls.matchExpressions ?? [];
  if (Object.keys(matchLabels).length + expressions.length === 0) return Selector.everything();
  const requirements: Requirement[] = [];
  try {
    for (const [k, v] of Object.entries(matchLabels)) requirements.push(newRequirement(k, '=', [String(v)]));
    for (const expr of expressions) {
      const op = Object.prototype.hasOwnProperty.call(operatorOf, expr.operator) ? operatorOf[expr.operator as LabelSelectorOperator] : undefined;
      if (op === undefined) throw new RequirementError(`${JSON.stringify(expr.operator ?? '')} is not a valid label selector operator`);
      requirements.push(newRequirement(expr.key ?? '', op, [...(expr.values ?? [])]));
    }
  } catch (e) {
    if (e instanceof RequirementError) throw new BadRequestError(e.message);
    throw e;
  }
  return new Selector(requirements);
}

/** metav1.FormatLabelSelector, as kubectl describe prints selectors. */
export function formatLabelSelector(ls: LabelSelector | null | undefined): string {
  try {
    const s = selectorFromLabelSelector(ls).toString();
    return s.length === 0 ? '<none>' : s;
  } catch {
    return '<error>';
  }
}

/** metav1.ParseToLabelSelector: the string syntax back into matchLabels and matchExpressions. */
export function parseToLabelSelector(input: string): LabelSelector {
  const parseError = labelSelectorParseError(input);
  if (parseError !== undefined) throw new BadRequestError(`couldn't parse the selector string "${input}": ${parseError}`);
  const out: Required<LabelSelector> = { matchLabels: {}, matchExpressions: [] };
  for (const r of parseLabelSelector(input).requirements) {
    switch (r.operator) {
      case '=':
      case '==':
        out.matchLabels[r.key] = r.values[0] ?? '';
        continue;
      case 'in':
        out.matchExpressions.push({ key: r.key, operator: 'In', values: [...r.values] });
        continue;
      case 'notin':
        out.matchExpressions.push({ key: r.key, operator: 'NotIn', values: [...r.values] });
        continue;
      case 'exists':
        out.matchExpressions.push({ key: r.key, operator: 'Exists', values: [] });
        continue;
      case '!':
        out.matchExpressions.push({ key: r.key, operator: 'DoesNotExist', values: [] });
        continue;
      case 'gt':
      case 'lt':
        throw new BadRequestError(`${JSON.stringify(r.operator)} isn't supported in label selectors`);
      default:
        throw new BadRequestError(`${JSON.stringify(r.operator)} is not a valid label selector operator`);
    }
  }
  return out;
}
