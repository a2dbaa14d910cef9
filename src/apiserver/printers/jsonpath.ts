// The JSONPath dialect of kubectl and of CustomResourceDefinition printer
// columns (client-go's util/jsonpath), for one expression such as
// `.status.conditions[?(@.type=="Ready")].status`: fields (with `\.` escapes),
// `['key']`, `[n]`, `[-1]`, `[a:b:c]`, `[*]`, `.*`, unions `[0,1]`, `..name`,
// and filters with ==, !=, <, >, <=, >= or bare existence.

export class JsonPathSyntaxError extends Error {
  override readonly name = 'JsonPathSyntaxError';
}

/** A failure while walking the data, which Kubernetes reports as an empty cell. */
export class JsonPathEvaluationError extends Error {
  override readonly name = 'JsonPathEvaluationError';
}

interface SliceParam {
  value: number;
  known: boolean;
  /** The end of `[n]`, which counts from the slice's length when n is negative. */
  derived?: boolean;
}

type Step =
  | { type: 'field'; name: string }
  | { type: 'wildcard' }
  | { type: 'slice'; params: [SliceParam, SliceParam, SliceParam] }
  | { type: 'union'; branches: Step[][] }
  | { type: 'recursive' }
  | { type: 'filter'; left: Step[]; operator: string; right: Step[] }
  | { type: 'literal'; value: string | number | boolean };

export interface JsonPath {
  readonly source: string;
  readonly steps: readonly Step[];
}

const terminators = new Set([' ', '\t', '\r', '\n', '.', ',', '[', ']', '$', '@', '{', '}']);
const dictKey = /^'([^']*)'$/;
const sliceOperator = /^(-?\d*)(:-?\d*)?(:-?\d*)?$/;
const comparison = /^([^!<>=]+)([!<>=]+)(.+?)$/;

class Parser {
  private pos = 0;

  constructor(private readonly input: string) {}

  parse(): Step[] {
    const steps: Step[] = [];
    while (this.pos < this.input.length) this.parseNext(steps);
    return steps;
  }

  private rest(): string {
    return this.input.slice(this.pos);
  }

  private parseNext(steps: Step[]): void {
    const rest = this.rest();
    const c = rest[0] ?? '';
    if (c === ' ' || c === '\t' || c === '@' || c === '$') {
      this.pos++;
    } else if (rest.startsWith('[?(')) {
      this.parseFilter(steps);
    } else if (c === '[') {
      this.parseBracket(steps);
    } else if (rest.startsWith('..')) {
      this.pos++;
      steps.push({ type: 'recursive' });
    } else if (c === '.') {
      this.pos++;
      this.parseField(steps);
    } else if (c === '"' || c === "'") {
      this.parseQuote(steps, c);
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      this.parseNumber(steps);
    } else if (/^(true|false)\b/.test(rest)) {
      const value = rest.startsWith('true');
      this.pos += value ? 4 : 5;
      steps.push({ type: 'literal', value });
    } else {
      throw new JsonPathSyntaxError(`unrecognized character in action: ${JSON.stringify(c)}`);
    }
  }

  private parseField(steps: Step[]): void {
    let name = '';
    while (this.pos < this.input.length) {
      const c = this.input[this.pos] ?? '';
      if (c === '\\') {
        name += this.input[this.pos + 1] ?? '';
        this.pos += 2;
        continue;
      }
      if (terminators.has(c)) break;
      name += c;
      this.pos++;
    }
    steps.push(name === '*' ? { type: 'wildcard' } : { type: 'field', name });
  }

  private parseBracket(steps: Step[]): void {
    const close = this.input.indexOf(']', this.pos);
    if (close < 0) throw new JsonPathSyntaxError('unterminated array');
    let text = this.input.slice(this.pos + 1, close);
    this.pos = close + 1;
    if (text === '*') text = ':';
    const parts = text.split(',');
    if (parts.length > 1) {
      steps.push({ type: 'union', branches: parts.map((p) => new Parser(`[${p.trim()}]`).parse()) });
      return;
    }
    const key = dictKey.exec(text);
    if (key) {
      // client-go reads ['a.b'] as the path .a.b, so dots still separate fields.
      steps.push(...new Parser(`.${key[1] ?? ''}`).parse());
      return;
    }
    const m = sliceOperator.exec(text);
    if (!m) throw new JsonPathSyntaxError(`invalid array index ${text}`);
    const number = (digits: string): number => {
      if (!/^-?\d+$/.test(digits)) throw new JsonPathSyntaxError(`array index ${digits} is not a number`);
      return Number(digits);
    };
    const start: SliceParam = m[1] ? { value: number(m[1]), known: true } : { value: 0, known: false };
    const param = (raw: string | undefined, fallback: SliceParam): SliceParam => {
      if (raw === undefined) return fallback;
      const digits = raw.slice(1);
      return digits === '' ? { value: 0, known: false } : { value: number(digits), known: true };
    };
    const end = param(m[2], { value: start.value + 1, known: true, derived: true });
    const step = param(m[3], { value: 0, known: false });
    steps.push({ type: 'slice', params: [start, end, step] });
  }

  private parseFilter(steps: Step[]): void {
    const begin = this.pos + 3;
    let i = begin;
    let quote = '';
    for (;;) {
      const c = this.input[i];
      if (c === undefined || c === '\n') throw new JsonPathSyntaxError('unterminated filter');
      if (quote === '' && (c === '"' || c === "'")) quote = c;
      else if (quote !== '' && c === quote && this.input[i - 1] !== '\\') quote = '';
      else if (quote === '' && c === ')') break;
      i++;
    }
    if (this.input[i + 1] !== ']') throw new JsonPathSyntaxError('unclosed array expect ]');
    const text = this.input.slice(begin, i);
    this.pos = i + 2;
    const m = comparison.exec(text);
    if (!m) {
      steps.push({ type: 'filter', left: new Parser(text).parse(), operator: 'exists', right: [] });
      return;
    }
    const operator = m[2] ?? '';
    if (!['==', '!=', '<', '>', '<=', '>='].includes(operator)) {
      throw new JsonPathSyntaxError(`unrecognized filter operator ${operator}`);
    }
    steps.push({ type: 'filter', left: new Parser(m[1] ?? '').parse(), operator, right: new Parser(m[3] ?? '').parse() });
  }

  private parseQuote(steps: Step[], quote: string): void {
    let i = this.pos + 1;
    let value = '';
    for (;;) {
      const c = this.input[i];
      if (c === undefined) throw new JsonPathSyntaxError('unterminated quoted string');
      if (c === '\\') {
        const next = this.input[i + 1] ?? '';
        value += { n: '\n', t: '\t', r: '\r' }[next] ?? next;
        i += 2;
        continue;
      }
      if (c === quote) break;
      value += c;
      i++;
    }
    this.pos = i + 1;
    steps.push({ type: 'literal', value });
  }

  private parseNumber(steps: Step[]): void {
    const m = /^-?[\d.]+(?:[eE][-+]?\d+)?/.exec(this.rest());
    const text = m?.[0] ?? '';
    const value = Number(text);
    if (text === '' || Number.isNaN(value)) throw new JsonPathSyntaxError(`cannot parse number ${JSON.stringify(this.rest())}`);
    this.pos += text.length;
    steps.push({ type: 'literal', value });
  }
}

/** Parses one JSONPath expression (without the surrounding braces). */
export function parseJsonPath(expression: string): JsonPath {
  let text = expression.trim();
  if (text.startsWith('{') && text.endsWith('}')) text = text.slice(1, -1);
  return { source: expression, steps: new Parser(text).parse() };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function evaluateSlice(values: unknown[], params: [SliceParam, SliceParam, SliceParam]): unknown[] {
  const out: unknown[] = [];
  for (const value of values) {
    if (value === null || value === undefined) continue;
    if (!Array.isArray(value)) throw new JsonPathEvaluationError('not an array or slice');
    const length = value.length;
    let start = params[0].known ? params[0].value : 0;
    if (start < 0) start += length;
    let end = params[1].known ? params[1].value : length;
    if (end < 0 || (end === 0 && params[1].derived === true)) end += length;
    if (start === end) continue;
    if (start >= length || start < 0 || end > length || end < 0) {
      throw new JsonPathEvaluationError(`array index out of bounds: index ${start}, length ${length}`);
    }
    if (start > end) throw new JsonPathEvaluationError(`starting index ${start} is greater than ending index ${end}`);
    let step = 1;
    if (params[2].known) {
      if (params[2].value <= 0) throw new JsonPathEvaluationError('step must be > 0');
      step = params[2].value;
    }
    for (let i = start; i < end; i += step) out.push(value[i]);
  }
  return out;
}

function descendants(values: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const value of values) {
    const children = Array.isArray(value) ? value : isRecord(value) ? Object.values(value) : [];
    if (children.length === 0) continue;
    out.push(value, ...descendants(children));
  }
  return out;
}

function compare(left: unknown, right: unknown, operator: string): boolean {
  if (operator === '==' || operator === '!=') {
    if (typeof left !== typeof right || (typeof left === 'object' && left !== null)) {
      throw new JsonPathEvaluationError('incompatible types for comparison');
    }
    return (left === right) === (operator === '==');
  }
  const ordered = (typeof left === 'number' && typeof right === 'number') || (typeof left === 'string' && typeof right === 'string');
  if (!ordered) throw new JsonPathEvaluationError('incompatible types for comparison');
  const l = left as number | string;
  const r = right as number | string;
  switch (operator) {
    case '<':
      return l < r;
    case '>':
      return l > r;
    case '<=':
      return l <= r;
    default:
      return l >= r;
  }
}

function evaluateSteps(steps: readonly Step[], input: unknown[]): unknown[] {
  let values = input;
  for (const step of steps) {
    switch (step.type) {
      case 'field':
        if (step.name === '') break;
        values = values.flatMap((v) => (isRecord(v) && Object.hasOwn(v, step.name) ? [v[step.name]] : []));
        break;
      case 'wildcard':
        values = values.flatMap((v) => (Array.isArray(v) ? v : isRecord(v) ? Object.values(v) : []));
        break;
      case 'slice':
        values = evaluateSlice(values, step.params);
        break;
      case 'union': {
        const current = values;
        values = step.branches.flatMap((branch) => evaluateSteps(branch, current));
        break;
      }
      case 'recursive':
        values = descendants(values);
        break;
      case 'literal':
        values = [step.value];
        break;
      case 'filter': {
        const out: unknown[] = [];
        for (const value of values) {
          if (!Array.isArray(value)) throw new JsonPathEvaluationError('not an array or slice and cannot be filtered');
          for (const element of value) {
            const lefts = evaluateSteps(step.left, [element]);
            if (step.operator === 'exists') {
              if (lefts.length > 0) out.push(element);
              continue;
            }
            if (lefts.length === 0) continue;
            const rights = evaluateSteps(step.right, [element]);
            if (rights.length === 0) continue;
            if (lefts.length > 1 || rights.length > 1) throw new JsonPathEvaluationError('can only compare one element at a time');
            if (compare(lefts[0], rights[0], step.operator)) out.push(element);
          }
        }
        values = out;
        break;
      }
    }
  }
  return values;
}

/**
 * Every value the path selects, in order; missing keys select nothing (as
 * with AllowMissingKeys). Throws JsonPathEvaluationError where client-go fails.
 */
export function evaluateJsonPath(path: JsonPath, data: unknown): unknown[] {
  return evaluateSteps(path.steps, [data]);
}
