// cel-go's ext.TwoVarComprehensions (Kubernetes 1.32+): all, exists,
// existsOne (also exists_one), transformList, transformMap and
// transformMapEntry with an index and a value variable over a list, or a key
// and a value variable over a map. cel-js expands them as macros through its
// typeCheck/evaluate hooks, binding the two variables the way its cel.bind does.

import { ParseError, type ASTNode, type Environment, type TypeDeclaration } from '@marcbachmann/cel-js';
import { celError, mapEntries } from './values.js';

/** The parts of cel-js's type checker, scopes and evaluator a macro reaches through its hooks. */
interface Scope {
  forkWithVariable(name: string, type: TypeDeclaration): Scope;
  reuse(parent: Scope): Scope;
  setIterValue(value: unknown, ev: Evaluator): Scope;
}
interface Checker {
  check(node: ASTNode, scope: Scope): TypeDeclaration;
  createError(code: string, message: string, node: ASTNode): Error;
  getType(name: string): TypeDeclaration;
  registry: {
    getListType(t: TypeDeclaration): TypeDeclaration;
    getMapType(k: TypeDeclaration, v: TypeDeclaration): TypeDeclaration;
  };
}
interface Evaluator {
  run(node: ASTNode, scope: Scope): unknown;
  tryEval(node: ASTNode, scope: Scope): unknown;
}

type Kind = 'all' | 'exists' | 'existsOne' | 'transformList' | 'transformMap' | 'transformMapEntry';

interface Macro {
  kind: Kind;
  receiver: ASTNode;
  var1: string;
  var2: string;
  filter: ASTNode | undefined;
  body: ASTNode;
  async: false;
  scope1?: Scope;
  scope2?: Scope;
  typeCheck(chk: Checker, m: Macro, scope: Scope): TypeDeclaration;
  evaluate(ev: Evaluator, m: Macro, scope: Scope): unknown;
}

function iterVar(node: ASTNode): string {
  if (node.op === 'id') return node.args;
  throw new ParseError({ code: 'invalid_macro_argument', message: 'argument must be a simple name', node });
}

function typeCheck(chk: Checker, m: Macro, scope: Scope): TypeDeclaration {
  const target = chk.check(m.receiver, scope);
  let t1: TypeDeclaration;
  let t2: TypeDeclaration;
  if (target.kind === 'list') [t1, t2] = [chk.getType('int'), target.valueType as TypeDeclaration];
  else if (target.kind === 'map') [t1, t2] = [target.keyType as TypeDeclaration, target.valueType as TypeDeclaration];
  else if (target.kind === 'dyn') [t1, t2] = [target, target];
  else throw chk.createError('invalid_comprehension_range', `Expression of type '${target}' cannot be range of a comprehension (must be list, map, or dynamic).`, m.receiver);
  m.scope1 = scope.forkWithVariable(m.var1, t1);
  m.scope2 = m.scope1.forkWithVariable(m.var2, t2);
  for (const predicate of m.kind === 'all' || m.kind === 'exists' || m.kind === 'existsOne' ? [m.body] : m.filter ? [m.filter] : []) {
    const type = chk.check(predicate, m.scope2);
    if (!type.isDynOrBool()) throw chk.createError('invalid_condition_type', `${m.kind}() predicate must return bool, got '${type}'`, predicate);
  }
  switch (m.kind) {
    case 'all':
    case 'exists':
    case 'existsOne':
      return chk.getType('bool');
    case 'transformList':
      return chk.registry.getListType(chk.check(m.body, m.scope2));
    case 'transformMap':
      return chk.registry.getMapType(t1, chk.check(m.body, m.scope2));
    case 'transformMapEntry': {
      const entry = chk.check(m.body, m.scope2);
      if (entry.kind !== 'map' && entry.kind !== 'dyn') throw chk.createError('invalid_argument', `transformMapEntry() transform must return a map, got '${entry}'`, m.body);
      return entry;
    }
  }
}

function entriesOf(target: unknown): [unknown, unknown][] {
  if (Array.isArray(target)) return target.map((v, i) => [BigInt(i), v]);
  if (target instanceof Set) return [...target].map((v, i) => [BigInt(i), v]);
  try {
    return mapEntries(target);
  } catch {
    throw celError('cannot be range of a comprehension (must be list, map, or dynamic)', 'invalid_comprehension_range');
  }
}

function sync(value: unknown): unknown {
  if (value instanceof Promise) throw celError('two-variable comprehensions cannot call asynchronous functions', 'async_not_supported');
  return value;
}

/** cel-go's %v of a map key in "insert failed" errors. */
function keyText(k: unknown): string {
  return typeof k === 'string' || typeof k === 'bigint' || typeof k === 'boolean' ? String(k) : JSON.stringify(k);
}

function insert(result: Map<unknown, unknown>, key: unknown, value: unknown): void {
  if (result.has(key)) throw celError(`insert failed: key ${keyText(key)} already exists`);
  result.set(key, value);
}

function evaluate(ev: Evaluator, m: Macro, scope: Scope): unknown {
  const scope1 = m.scope1 as Scope;
  const scope2 = m.scope2 as Scope;
  const entries = entriesOf(sync(ev.run(m.receiver, scope)));
  const bind = ([k, v]: [unknown, unknown]): Scope => scope2.reuse(scope1.reuse(scope).setIterValue(k, ev)).setIterValue(v, ev);
  const truth = (value: unknown): boolean => {
    if (typeof value === 'boolean') return value;
    if (value instanceof Error) throw value;
    throw celError(`${m.kind}() predicate must return bool`, 'invalid_condition_type');
  };

  if (m.kind === 'all' || m.kind === 'exists') {
    // Logical AND / OR over the elements: a decisive value wins over errors met on the way.
    const decisive = m.kind === 'exists';
    let error: unknown;
    for (const entry of entries) {
      const value = sync(ev.tryEval(m.body, bind(entry)));
      if (value === decisive) return decisive;
      if (value instanceof Error || typeof value !== 'boolean') error ??= value;
    }
    if (error !== undefined) truth(error);
    return !decisive;
  }
  if (m.kind === 'existsOne') {
    let count = 0;
    for (const entry of entries) if (truth(sync(ev.run(m.body, bind(entry))))) count++;
    return count === 1;
  }

  const list: unknown[] = [];
  const map = new Map<unknown, unknown>();
  for (const entry of entries) {
    const s = bind(entry);
    if (m.filter && !truth(sync(ev.run(m.filter, s)))) continue;
    const value = sync(ev.run(m.body, s));
    if (m.kind === 'transformList') list.push(value);
    else if (m.kind === 'transformMap') insert(map, entry[0], value);
    else for (const [k, v] of mapEntries(value)) insert(map, k, v);
  }
  return m.kind === 'transformList' ? list : map;
}

function macro(kind: Kind, withFilter: boolean) {
  return ({ args, receiver }: { args: ASTNode[]; receiver: ASTNode }): Macro => ({
    kind,
    receiver,
    var1: iterVar(args[0] as ASTNode),
    var2: iterVar(args[1] as ASTNode),
    filter: withFilter ? args[2] : undefined,
    body: args[withFilter ? 3 : 2] as ASTNode,
    async: false,
    typeCheck,
    evaluate,
  });
}

export function registerTwoVarComprehensions(env: Environment): void {
  env.registerFunction('dyn.all(ast, ast, ast): bool', macro('all', false));
  env.registerFunction('dyn.exists(ast, ast, ast): bool', macro('exists', false));
  env.registerFunction('dyn.existsOne(ast, ast, ast): bool', macro('existsOne', false));
  env.registerFunction('dyn.exists_one(ast, ast, ast): bool', macro('existsOne', false));
  env.registerFunction('dyn.transformList(ast, ast, ast): list', macro('transformList', false));
  env.registerFunction('dyn.transformList(ast, ast, ast, ast): list', macro('transformList', true));
  env.registerFunction('dyn.transformMap(ast, ast, ast): map', macro('transformMap', false));
  env.registerFunction('dyn.transformMap(ast, ast, ast, ast): map', macro('transformMap', true));
  env.registerFunction('dyn.transformMapEntry(ast, ast, ast): map', macro('transformMapEntry', false));
  env.registerFunction('dyn.transformMapEntry(ast, ast, ast, ast): map', macro('transformMapEntry', true));
}
