// A label selector as apimachinery's labels.Selector: an AND of requirements,
// each a key, an operator and a set of values. Matching and the string form
// (sorted by key, values sorted) are Kubernetes' own.

import { formatFieldError, type FieldError } from '../errors.js';
import { isQualifiedName, isValidLabelValue } from '../validation/identifiers.js';

/** selection.Operator values, as they appear in Kubernetes' messages. */
export type Operator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

export const binaryOperators: readonly Operator[] = ['in', 'notin', '=', '==', '!=', 'gt', 'lt'];
const unaryOperators: readonly Operator[] = ['exists', '!'];
const validOperators: readonly Operator[] = [...binaryOperators, ...unaryOperators];

export type Labels = Readonly<Record<string, string>>;

const int64Pattern = /^[+-]?[0-9]+$/;

function parseInt64(value: string): bigint | undefined {
  if (!int64Pattern.test(value)) return undefined;
  const n = BigInt(value);
  return n > 2n ** 63n - 1n || n < -(2n ** 63n) ? undefined : n;
}

/** utilerrors.NewAggregate(...).Error(): one message alone, several deduplicated in brackets. */
export function aggregateMessage(messages: readonly string[]): string {
  if (messages.length === 1) return messages[0] as string;
  const seen = [...new Set(messages)];
  return seen.length === 1 ? (seen[0] as string) : `[${seen.join(', ')}]`;
}

/**
 * The field errors labels.NewRequirement reports. `path` is the field path the
 * caller passed; undefined stands for Go's nil path, as the string parser uses.
 */
export function requirementErrors(key: string, op: string, values: readonly string[], path?: string): FieldError[] {
  const at = (name: string): string => (path ? `${path}.${name}` : name);
  const errs: FieldError[] = [];
  const keyErrs = isQualifiedName(key);
  if (keyErrs.length > 0) errs.push({ type: 'FieldValueInvalid', field: at('key'), value: key, detail: keyErrs.join('; ') });
  const valuesPath = at('values');
  switch (op) {
    case 'in':
    case 'notin':
      if (values.length === 0) errs.push({ type: 'FieldValueInvalid', field: valuesPath, value: values, detail: "for 'in', 'notin' operators, values set can't be empty" });
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errs.push({ type: 'FieldValueInvalid', field: valuesPath, value: values, detail: 'exact-match compatibility requires one single value' });
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errs.push({ type: 'FieldValueInvalid', field: valuesPath, value: values, detail: 'values set must be empty for exists and does not exist' });
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errs.push({ type: 'FieldValueInvalid', field: valuesPath, value: values, detail: "for 'Gt', 'Lt' operators, exactly one value is required" });
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined) errs.push({ type: 'FieldValueInvalid', field: `${valuesPath}[${i}]`, value: v, detail: "for 'Gt', 'Lt' operators, the value must be an integer" });
      });
      break;
    default:
      errs.push({
        type: 'FieldValueNotSupported',
        field: at('operator'),
        value: op,
        detail: `supported values: ${validOperators.map((o) => JSON.stringify(o)).join(', ')}`,
      });
  }
  values.forEach((v, i) => {
    const valueErrs = isValidLabelValue(v);
    if (valueErrs.length > 0) errs.push({ type: 'FieldValueInvalid', field: `${valuesPath}[${i}][${key}]`, value: v, detail: valueErrs.join('; ') });
  });
  return errs;
}

export class Requirement {
  readonly key: string;
  readonly operator: Operator;
  readonly values: readonly string[];

  /** Unchecked; use newRequirement for input from users. */
  constructor(key: string, operator: Operator, values: readonly string[]) {
    this.key = key;
    this.operator = operator;
    this.values = values;
  }

  matches(labels: Labels): boolean {
    const has = Object.prototype.hasOwnProperty.call(labels, this.key);
    const value = has ? labels[this.key] : undefined;
    switch (this.operator) {
      case 'in':
      case '=':
      case '==':
        return has && this.values.includes(value as string);
      case 'notin':
      case '!=':
        return !has || !this.values.includes(value as string);
      case 'exists':
        return has;
      case '!':
        return !has;
      case 'gt':
      case 'lt': {
        if (!has || this.values.length !== 1) return false;
        const actual = parseInt64(value as string);
        const bound = parseInt64(this.values[0] as string);
        if (actual === undefined || bound === undefined) return false;
        return this.operator === 'gt' ? actual > bound : actual < bound;
      }
    }
  }

  toString(): string {
    let out = this.operator === '!' ? '!' : '';
    out += this.key;
    switch (this.operator) {
      case 'exists':
      case '!':
        return out;
      case 'in':
        out += ' in ';
        break;
      case 'notin':
        out += ' notin ';
        break;
      case 'gt':
        out += '>';
        break;
      case 'lt':
        out += '<';
        break;
      default:
        out += this.operator;
    }
    const values = this.values.length === 1 ? (this.values[0] as string) : [...this.values].sort().join(',');
    return this.operator === 'in' || this.operator === 'notin' ? `${out}(${values})` : out + values;
  }
}

/** labels.NewRequirement: throws the aggregated field errors as a plain Error message. */
export function newRequirement(key: string, operator: Operator, values: readonly string[], path?: string): Requirement {
  const errs = requirementErrors(key, operator, values, path);
  if (errs.length > 0) throw new RequirementError(aggregateMessage(errs.map(formatFieldError)));
  return new Requirement(key, operator, values);
}

export class RequirementError extends Error {
  override name = 'RequirementError';
}

function byKey(a: Requirement, b: Requirement): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

export class Selector {
  readonly requirements: readonly Requirement[];
  /** labels.Nothing(): matches no object, yet is not "empty". */
  readonly matchesNothing: boolean;

  constructor(requirements: readonly Requirement[], matchesNothing = false) {
    this.requirements = [...requirements].sort(byKey);
    this.matchesNothing = matchesNothing;
  }

  static everything(): Selector {
    return everythingSelector;
  }

  static nothing(): Selector {
    return nothingSelector;
  }

  /** labels.SelectorFromSet: key=value for every entry; an empty set selects everything. */
  static fromSet(set: Labels | undefined): Selector {
    if (!set) return everythingSelector;
    return new Selector(Object.entries(set).map(([k, v]) => new Requirement(k, '=', [v])));
  }

  matches(labels: Labels | undefined): boolean {
    if (this.matchesNothing) return false;
    const set = labels ?? {};
    return this.requirements.every((r) => r.matches(set));
  }

  /** True when the selector does not restrict anything. */
  empty(): boolean {
    return !this.matchesNothing && this.requirements.length === 0;
  }

  add(...requirements: Requirement[]): Selector {
    if (this.matchesNothing) return this;
    return new Selector([...this.requirements, ...requirements]);
  }

  /** The value a selector pins `label` to (=, == or a one-value in), as RequiresExactMatch. */
  requiresExactMatch(label: string): string | undefined {
    const r = this.requirements.find((req) => req.key === label);
    if (!r) return undefined;
    if ((r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1) return r.values[0];
    return undefined;
  }

  toString(): string {
    return this.requirements.map((r) => r.toString()).join(',');
  }
}

const everythingSelector = new Selector([]);
const nothingSelector = new Selector([], true);
