// A CRD's validation rules (x-kubernetes-validations, written in CEL),
// compiled once per schema and run on every custom resource written, as
// Kubernetes' apiextensions-apiserver runs them: each rule sees its place in
// the object as `self` (and, in a transition rule, the stored value there as
// `oldSelf`); a rule that is false is refused with its message, its
// messageExpression, or "failed rule: <rule>".
import { Environment, Optional, type ParseResult } from '@marcbachmann/cel-js';
import { formatFieldError, GoSyntaxValue, type FieldError } from '../../api/errors.js';
import { jsonEqual } from '../../api/apply/json-value.js';
import { isPlainObject } from '../../api/object.js';
import { child } from '../../api/validation/field-errors.js';
import { comprehensionIterations, costErrorMessage, ruleCostLimit } from './cost.js';
import { storedItemFinder } from '../crd-ratcheting.js';
import { celCompileError, celRuntimeError } from './go-errors.js';
import { registerKubernetesLibraries } from './library.js';
import { isHasArgumentError, referencesOldSelf, regexLiteralError, runnableSource, undefinedHasField } from './rule-ast.js';
import { declareSchema, type CelModel } from './schema-model.js';
import { toCelValue, type ValueCache } from './unstructured-values.js';

type RawSchema = Record<string, unknown>;

/** One entry of x-kubernetes-validations. */
export interface ValidationRule {
  rule?: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

interface CompiledRule {
  readonly source: ValidationRule;
  /** Undefined for an empty rule (refused when the CRD is written; skipped here). */
  readonly program?: ParseResult;
  /** Why the rule does not compile: "compilation failed: ERROR: <input>:...". */
  readonly error?: string;
  readonly messageProgram?: ParseResult;
  /** The rule could cost more than a rule may (a CRD stored before that was checked): it is not run. */
  readonly overBudget?: boolean;
  readonly usesOldSelf: boolean;
  /** fieldPath, as the field path it names below the rule's place. */
  readonly fieldPath?: string;
}

interface RuleNode {
  /** The schema's type, the value Kubernetes' errors show ("object"). */
  readonly schemaType: string;
  readonly model: CelModel;
  readonly rules: readonly CompiledRule[];
  readonly properties?: ReadonlyMap<string, RuleNode>;
  readonly items?: RuleNode;
  readonly additional?: RuleNode;
  /** The keys that pair a list's items with the stored ones (x-kubernetes-list-type map). */
  readonly listMapKeys?: readonly string[];
  /** A map's values pair with the stored ones by key unless the map is atomic. */
  readonly mapCorrelates: boolean;
}

const supportedReasons = ['FieldValueDuplicate', 'FieldValueForbidden', 'FieldValueInvalid', 'FieldValueRequired'];

export class ValidationRules {
  private constructor(
    private readonly root: RuleNode | undefined,
    /** Why the rules could not be compiled at all: every object is refused with it (Kubernetes' compilationErr). */
    private readonly initError?: string,
  ) {}

  /**
   * Compiles the rules of a schema (the root of a custom resource); undefined
   * when it has none. issues collects what is wrong with the rules, at their
   * paths under schemaPath.
   */
  static compile(schema: RawSchema | undefined, schemaPath = '', issues: FieldError[] = []): ValidationRules | undefined {
    if (!schema || !hasRules(schema)) return undefined;
    try {
      const env = kubernetesEnvironment().clone();
      const model = declareSchema(env, schema, 'Object', true);
      if (!model) return undefined;
      const root = buildNode(env, schema, model, schemaPath, undefined, issues);
      return root && new ValidationRules(root);
    } catch (err) {
      // A schema the CEL types cannot be made of is refused, and never stops the server.
      const message = err instanceof Error ? err.message : String(err);
      issues.push({ type: 'FieldValueInvalid', field: `${schemaPath ? `${schemaPath}.` : ''}x-kubernetes-validations`, value: '', detail: `internal error: failed to construct type information for x-kubernetes-validations rules: ${message}` });
      return new ValidationRules(undefined, message);
    }
  }

  /**
   * What the rules refuse in obj (old: the stored object, on update), with
   * Kubernetes' field paths; what they would refuse in values the update
   * left as they were goes to warn instead, as Kubernetes warns of it.
   */
  validate(obj: Record<string, unknown>, old?: Record<string, unknown>, warn?: (message: string) => void): FieldError[] {
    if (!this.root) return [{ type: 'FieldValueInvalid', field: '<nil>', value: 'object', detail: `rule compiler initialization error: ${this.initError ?? 'unknown'}` }];
    const errors: FieldError[] = [];
    validateNode(this.root, obj, old, '', { cache: new WeakMap(), oldCache: new WeakMap(), errors, warn });
    return errors;
  }
}

let librariesEnv: Environment | undefined;

/** The environment with Kubernetes' libraries, made once; each schema declares its types on a clone of it. */
function kubernetesEnvironment(): Environment {
  librariesEnv ??= registerKubernetesLibraries(new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: true }));
  return librariesEnv;
}

function hasRules(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.some(hasRules);
  if (!isPlainObject(schema)) return false;
  if (Array.isArray(schema['x-kubernetes-validations']) && schema['x-kubernetes-validations'].length > 0) return true;
  return Object.entries(schema).some(([k, v]) => k !== 'default' && k !== 'enum' && k !== 'example' && typeof v === 'object' && hasRules(v));
}

function rulesOf(schema: RawSchema): ValidationRule[] {
  const rules = schema['x-kubernetes-validations'];
  return Array.isArray(rules) ? rules.filter(isPlainObject) : [];
}

function buildNode(env: Environment, schema: RawSchema, model: CelModel, path: string, uncorrelatable: string | undefined, issues: FieldError[]): RuleNode | undefined {
  const rules = rulesOf(schema);
  const compiled = rules.length ? compileRules(env, schema, model, rules, `${path}.x-kubernetes-validations`, uncorrelatable, issues) : [];
  let properties: Map<string, RuleNode> | undefined;
  let items: RuleNode | undefined;
  let additional: RuleNode | undefined;
  if (model.kind === 'object' && isPlainObject(schema.properties)) {
    for (const [key, prop] of Object.entries(schema.properties as Record<string, RawSchema>)) {
      const field = model.fields.get(key);
      if (!field || !isPlainObject(prop) || !hasRules(prop)) continue;
      const child = buildNode(env, prop, field.model, `${path}.properties[${key}]`, uncorrelatable, issues);
      if (child) (properties ??= new Map()).set(key, child);
    }
  } else if (model.kind === 'map' && isPlainObject(schema.additionalProperties)) {
    additional = buildNode(env, schema.additionalProperties as RawSchema, model.values, `${path}.additionalProperties`, uncorrelatable, issues);
  } else if (model.kind === 'list' && isPlainObject(schema.items)) {
    // Only the items of a map list pair with stored ones, so only there may rules read oldSelf.
    const pairs = schema['x-kubernetes-list-type'] === 'map';
    items = buildNode(env, schema.items as RawSchema, model.items, `${path}.items`, pairs ? uncorrelatable : (uncorrelatable ?? path), issues);
  }
  if (!compiled.length && !properties && !items && !additional) return undefined;
  const keys = schema['x-kubernetes-list-map-keys'];
  return {
    schemaType: typeof schema.type === 'string' ? schema.type : '',
    model,
    rules: compiled,
    properties,
    items,
    additional,
    listMapKeys: schema['x-kubernetes-list-type'] === 'map' && Array.isArray(keys) ? (keys as string[]) : undefined,
    mapCorrelates: schema['x-kubernetes-map-type'] !== 'atomic',
  };
}

function compileRules(env: Environment, schema: RawSchema, model: CelModel, rules: ValidationRule[], path: string, uncorrelatable: string | undefined, issues: FieldError[]): CompiledRule[] {
  const plain = env.clone().registerVariable('self', model.typeName).registerVariable('oldSelf', model.typeName);
  let optional: Environment | undefined;
  return rules.map((rule, i) => {
    const at = `${path}[${i}]`;
    ruleShapeIssues(schema, rule, at, issues);
    const text = typeof rule.rule === 'string' ? rule.rule.trim() : '';
    const fieldPath = typeof rule.fieldPath === 'string' && rule.fieldPath.trim() ? normalizedFieldPath(rule.fieldPath, schema) : undefined;
    if (!text) return { source: rule, usesOldSelf: false, fieldPath };
    const ruleEnv = rule.optionalOldSelf === true ? (optional ??= env.clone().registerVariable('self', model.typeName).registerVariable('oldSelf', `optional<${model.typeName}>`)) : plain;
    const value = goRuleValue(rule);
    const compiled = compileExpression(ruleEnv, text);
    if (!compiled.written) {
      const error = `compilation failed: ${compiled.error}`;
      issues.push({ type: 'FieldValueInvalid', field: `${at}.rule`, value, detail: error });
      return { source: rule, error, usesOldSelf: false, fieldPath };
    }
    const written = compiled.written;
    let error = compiled.error !== undefined ? `compilation failed: ${compiled.error}` : undefinedHasField(ruleEnv, written.ast, text);
    if (!error && compiled.type !== 'bool') error = 'cel expression must evaluate to a bool';
    const usesOldSelf = referencesOldSelf(written.ast);
    if (usesOldSelf && uncorrelatable !== undefined) {
      issues.push({ type: 'FieldValueInvalid', field: `${at}.rule`, value: rule.rule, detail: `oldSelf cannot be used on the uncorrelatable portion of the schema within ${uncorrelatable}` });
    } else if (!usesOldSelf && rule.optionalOldSelf !== undefined) {
      issues.push({ type: 'FieldValueInvalid', field: `${at}.optionalOldSelf`, value: rule.optionalOldSelf, detail: 'may not be set if oldSelf is not used in rule' });
    }
    error ??= regexLiteralError(written.ast);
    if (error) issues.push({ type: 'FieldValueInvalid', field: `${at}.rule`, value, detail: error });
    const messageProgram = compileMessageExpression(ruleEnv, rule, at, value, issues);
    if (error) return { source: rule, error, usesOldSelf, fieldPath };
    const cost = comprehensionIterations(written.ast, model);
    if (cost > ruleCostLimit) {
      issues.push({ type: 'FieldValueForbidden', field: `${at}.rule`, detail: costErrorMessage('estimated rule cost', cost, ruleCostLimit) });
      return { source: rule, overBudget: true, usesOldSelf, fieldPath };
    }
    return { source: rule, program: compiled.program, messageProgram, usesOldSelf, fieldPath };
  });
}

/**
 * An expression (a rule, a messageExpression) parsed as written, which is
 * what Nami reads, and as it runs: rewritten where cel-js would read it
 * otherwise than cel-go (runnableSource). error: why it does not parse or
 * type-check, in cel-go's words, naming the expression as written unless
 * only the rewrite could be checked (cel-js refuses has() of an expression).
 */
function compileExpression(env: Environment, text: string): { written?: ParseResult; program?: ParseResult; type?: string; error?: string } {
  let written: ParseResult;
  try {
    written = env.parse(text);
  } catch (err) {
    return { error: celCompileError(err, text) };
  }
  try {
    const runnable = runnableSource(written.ast, text);
    const program = runnable === text ? written : env.parse(runnable);
    const checked = program.check();
    if (checked.valid) return { written, program, type: checked.type };
    const original = program === written ? checked : written.check();
    return { written, error: original.valid || isHasArgumentError(original.error) ? celCompileError(checked.error, runnable) : celCompileError(original.error, text) };
  } catch (err) {
    return { written, error: celCompileError(err, text) };
  }
}

function compileMessageExpression(env: Environment, rule: ValidationRule, at: string, value: GoSyntaxValue, issues: FieldError[]): ParseResult | undefined {
  const text = typeof rule.messageExpression === 'string' ? rule.messageExpression.trim() : '';
  if (!text) return undefined;
  const compiled = compileExpression(env, text);
  const detail = compiled.error !== undefined ? `messageExpression compilation failed: ${compiled.error}` : compiled.type !== 'string' ? 'must evaluate to a string' : undefined;
  if (detail === undefined) return compiled.program;
  issues.push({ type: 'FieldValueInvalid', field: `${at}.messageExpression`, value, detail });
  return undefined;
}

/** The checks of a rule's fields beside its expression, as Kubernetes makes them when the CRD is written. */
function ruleShapeIssues(schema: RawSchema, rule: ValidationRule, at: string, issues: FieldError[]): void {
  const text = typeof rule.rule === 'string' ? rule.rule.trim() : '';
  const message = typeof rule.message === 'string' ? rule.message : '';
  if (!text) issues.push({ type: 'FieldValueRequired', field: `${at}.rule`, detail: 'rule is not specified' });
  else if (message.length > 0 && !message.trim()) issues.push({ type: 'FieldValueInvalid', field: `${at}.message`, value: message, detail: 'must be non-empty if specified' });
  else if (/[\n\r]/.test(message.trim())) issues.push({ type: 'FieldValueInvalid', field: `${at}.message`, value: message, detail: 'must not contain line breaks' });
  else if (/[\n\r]/.test(text) && !message.trim()) issues.push({ type: 'FieldValueRequired', field: `${at}.message`, detail: 'message must be specified if rule contains line breaks' });
  if (typeof rule.messageExpression === 'string' && rule.messageExpression.length > 0 && !rule.messageExpression.trim()) {
    issues.push({ type: 'FieldValueRequired', field: `${at}.messageExpression`, detail: 'messageExpression must be non-empty if specified' });
  }
  if (rule.reason !== undefined && !supportedReasons.includes(rule.reason)) {
    issues.push({ type: 'FieldValueNotSupported', field: `${at}.reason`, value: rule.reason, detail: `supported values: ${supportedReasons.map((r) => JSON.stringify(r)).join(', ')}` });
  }
  if (typeof rule.fieldPath === 'string' && rule.fieldPath.length > 0) {
    if (!rule.fieldPath.trim()) issues.push({ type: 'FieldValueInvalid', field: `${at}.fieldPath`, value: rule.fieldPath, detail: 'must be non-empty if specified' });
    else if (/[\n\r]/.test(rule.fieldPath)) issues.push({ type: 'FieldValueInvalid', field: `${at}.fieldPath`, value: rule.fieldPath, detail: 'must not contain line breaks' });
    else if (normalizedFieldPath(rule.fieldPath, schema) === undefined) issues.push({ type: 'FieldValueInvalid', field: `${at}.fieldPath`, value: rule.fieldPath, detail: 'must be a valid path' });
  }
}

/**
 * A rule's fieldPath (".spec.foo", ".labels['a.b']") as the field path it
 * names, checked against the schema as Kubernetes' ValidFieldPath does:
 * only properties and map keys, each of which the schema must have.
 */
export function normalizedFieldPath(jsonPath: string, schema: RawSchema): string | undefined {
  const tokens = jsonPath.match(/'(?:[^'\\]|\\.)*'|[.[\]]|[^.[\]']+/g) ?? [];
  let s: RawSchema | undefined = schema;
  let out = '';
  const step = (name: string): boolean => {
    if (!s) return false;
    if (isPlainObject(s.properties)) {
      const next: unknown = (s.properties as Record<string, unknown>)[name];
      if (!isPlainObject(next)) return false;
      s = next;
      out += out ? `.${name}` : name;
      return true;
    }
    if (isPlainObject(s.additionalProperties)) {
      s = s.additionalProperties as RawSchema;
      out += `[${name}]`;
      return true;
    }
    return false;
  };
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok === '.') {
      const name = tokens[++i];
      if (name === undefined || name === '.' || name === '[' || name === ']' || !step(name)) return undefined;
    } else if (tok === '[') {
      const quoted = tokens[++i];
      if (!quoted || quoted.length < 2 || !quoted.startsWith("'") || !quoted.endsWith("'") || tokens[++i] !== ']') return undefined;
      const name = unescapeSingleQuoted(quoted.slice(1, -1));
      if (name === undefined || !step(name)) return undefined;
    } else {
      return undefined;
    }
  }
  return out;
}

function unescapeSingleQuoted(s: string): string | undefined {
  const escapes: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', "'": "'", '\\': '\\' };
  let bad = false;
  const out = s.replace(/\\./g, (m) => escapes[m[1]!] ?? ((bad = true), ''));
  return bad ? undefined : out;
}

/** A rule as Go's %#v prints the apiextensions.ValidationRule Kubernetes' errors show. */
function goRuleValue(rule: ValidationRule): GoSyntaxValue {
  const q = (s: unknown) => JSON.stringify(typeof s === 'string' ? s : '');
  const reason = rule.reason === undefined ? '(*apiextensions.FieldValueErrorReason)(nil)' : `(*apiextensions.FieldValueErrorReason)(${JSON.stringify(rule.reason)})`;
  const optional = rule.optionalOldSelf === undefined ? '(*bool)(nil)' : `(*bool)(${String(rule.optionalOldSelf)})`;
  return new GoSyntaxValue(`apiextensions.ValidationRule{Rule:${q(rule.rule)}, Message:${q(rule.message)}, MessageExpression:${q(rule.messageExpression)}, Reason:${reason}, FieldPath:${q(rule.fieldPath)}, OptionalOldSelf:${optional}}`);
}

interface ValidationPass {
  readonly cache: ValueCache;
  readonly oldCache: ValueCache;
  readonly errors: FieldError[];
  readonly warn: ((message: string) => void) | undefined;
}


/**
 * unchangedAbove: the nearest value above that pairs with a stored one is as
 * it was, so errors here are let through (validation ratcheting) unless this
 * value pairs with a stored one itself and differs from it.
 */
function validateNode(node: RuleNode, value: unknown, old: unknown, path: string, pass: ValidationPass, unchangedAbove = false): void {
  if (value === null || value === undefined) return;
  const unchanged = old !== undefined && old !== null ? jsonEqual(value, old) : unchangedAbove;
  if (node.rules.length) evaluateRules(node, value, old ?? undefined, path, pass, unchanged);
  if (Array.isArray(value)) {
    if (!node.items) return;
    const pair = node.listMapKeys && Array.isArray(old) ? storedItemFinder(node.listMapKeys, old) : undefined;
    value.forEach((item, i) => validateNode(node.items!, item, pair?.(item), `${path}[${i}]`, pass, unchanged));
    return;
  }
  if (!isPlainObject(value)) return;
  const oldObj = isPlainObject(old) ? old : undefined;
  if (node.additional) {
    for (const [k, v] of Object.entries(value)) validateNode(node.additional, v, node.mapCorrelates ? oldObj?.[k] : undefined, `${path}[${k}]`, pass, unchanged);
  }
  if (node.properties) {
    for (const [k, v] of Object.entries(value)) {
      const sub = node.properties.get(k);
      if (sub) validateNode(sub, v, oldObj?.[k], child(path, k), pass, unchanged);
    }
  }
}

function ruleErrorString(rule: ValidationRule): string {
  return (typeof rule.message === 'string' && rule.message.trim()) || (rule.rule ?? '').trim();
}

function evaluateRules(node: RuleNode, value: unknown, old: unknown, path: string, pass: ValidationPass, unchanged: boolean): void {
  const at = path || '<nil>';
  const self = toCelValue(node.model, value, pass.cache);
  const oldSelf = old === undefined ? undefined : toCelValue(node.model, old, pass.oldCache);
  const activation = { self, oldSelf };
  for (const rule of node.rules) {
    if (rule.error) {
      pass.errors.push({ type: 'FieldValueInvalid', field: at, value: node.schemaType, detail: `rule compile error: ${rule.error}` });
      continue;
    }
    if (rule.overBudget) {
      pass.errors.push({ type: 'FieldValueInvalid', field: at, value: node.schemaType, detail: 'validation failed due to running out of cost budget, no further validation rules will be run' });
      return;
    }
    if (!rule.program) continue;
    const optional = rule.source.optionalOldSelf === true;
    // A transition rule runs only where there is a stored value to compare with, unless it takes oldSelf as an optional.
    if (rule.usesOldSelf && oldSelf === undefined && !optional) continue;
    let result: unknown;
    try {
      result = rule.program(optional ? { self, oldSelf: oldSelf === undefined ? Optional.none() : Optional.of(oldSelf) } : activation);
    } catch (err) {
      const message = celRuntimeError(err);
      const detail = message === 'no such overload' ? `'${message}': call arguments did not match a supported operator, function or macro signature for rule: ${ruleErrorString(rule.source)}` : `${message} evaluating rule: ${ruleErrorString(rule.source)}`;
      pass.errors.push({ type: 'FieldValueInvalid', field: at, value: node.schemaType, detail });
      continue;
    }
    if (result === true) continue;
    const field = rule.fieldPath ? child(path, rule.fieldPath).replace(/\.\[/g, '[') : at;
    const detail = evaluateMessage(rule, activation) ?? (typeof rule.source.message === 'string' && rule.source.message.trim() ? rule.source.message.trim() : `failed rule: ${ruleErrorString(rule.source)}`);
    const error = fieldErrorForReason(rule.source.reason, field, node.schemaType, detail);
    // A rule that does not read oldSelf and fails on a value the update left as it was only warns (Kubernetes' validation ratcheting).
    if (!rule.usesOldSelf && unchanged) pass.warn?.(formatFieldError(error));
    else pass.errors.push(error);
  }
}

/** A messageExpression's message, or undefined (the rule's message then stands) when it fails or gives no usable text. */
function evaluateMessage(rule: CompiledRule, activation: Record<string, unknown>): string | undefined {
  if (!rule.messageProgram) return undefined;
  try {
    const text: unknown = rule.messageProgram(activation);
    if (typeof text !== 'string') return undefined;
    const trimmed = text.trim();
    return trimmed && trimmed.length <= 5 * 1024 && !/\n/.test(trimmed) ? trimmed : undefined;
  } catch {
    return undefined;
  }
}

function fieldErrorForReason(reason: string | undefined, field: string, value: string, detail: string): FieldError {
  switch (reason) {
    case 'FieldValueForbidden':
      return { type: 'FieldValueForbidden', field, detail };
    case 'FieldValueRequired':
      return { type: 'FieldValueRequired', field, detail };
    case 'FieldValueDuplicate':
      return { type: 'FieldValueDuplicate', field, value };
    default:
      return { type: 'FieldValueInvalid', field, value, detail };
  }
}
