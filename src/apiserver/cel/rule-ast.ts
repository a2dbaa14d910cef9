// What Nami reads from a CEL rule's syntax tree (cel-js's), and how it
// rewrites a rule where cel-js would read it otherwise than cel-go does.
import type { Environment } from '@marcbachmann/cel-js';
import { goRegExp } from '../go-regexp.js';
import { celCompileError } from './go-errors.js';

export interface AstNode {
  readonly op: string;
  readonly args: unknown;
  readonly start: number;
  readonly end: number;
}

export function isAstNode(n: unknown): n is AstNode {
  return typeof n === 'object' && n !== null && typeof (n as AstNode).op === 'string';
}

/**
 * has(x.f) of a field x's type does not declare: cel-js lets it through and
 * answers false, cel-go refuses it ("undefined field 'f'", placed at the
 * macro's parenthesis), and so must a CRD.
 */
export function undefinedHasField(env: Environment, ast: unknown, source: string): string | undefined {
  let found: string | undefined;
  const visit = (n: unknown): void => {
    if (found !== undefined) return;
    if (Array.isArray(n)) return n.forEach(visit);
    if (!isAstNode(n)) return;
    if (n.op === 'call' && Array.isArray(n.args) && n.args[0] === 'has') {
      const arg: unknown = (n.args[1] as unknown[] | undefined)?.[0];
      if (isAstNode(arg) && arg.op === '.') {
        const checked = env.check(source.slice(arg.start, arg.end));
        // Variables of a comprehension around the macro are unknown alone: only a field the type lacks counts.
        if (!checked.valid && checked.error?.code === 'no_such_key') found = `compilation failed: ${celCompileError(checked.error, source, n.start + 3)}`;
      }
    }
    visit(n.args);
  };
  visit(ast);
  return found;
}

export function childNodes(args: unknown, out: AstNode[] = []): AstNode[] {
  if (Array.isArray(args)) for (const a of args) childNodes(a, out);
  else if (isAstNode(args)) out.push(args);
  return out;
}

const regexFunctions = new Set(['matches', 'find', 'findAll']);

/** A literal pattern that is no regular expression, refused when the rule compiles as cel-go's regex optimization refuses it. */
export function regexLiteralError(ast: unknown): string | undefined {
  let found: string | undefined;
  const visit = (n: unknown): void => {
    if (found !== undefined || !isAstNode(n)) return;
    if ((n.op === 'rcall' || n.op === 'call') && Array.isArray(n.args) && regexFunctions.has(n.args[0] as string)) {
      const args = childNodes(n.op === 'rcall' ? n.args[2] : n.args[1]);
      const pattern = args[n.op === 'rcall' ? 0 : 1];
      if (pattern?.op === 'value' && typeof pattern.args === 'string') {
        try {
          goRegExp(pattern.args);
        } catch (err) {
          found = `program instantiation failed: error parsing regexp: ${(err as Error).message}`;
        }
      }
    }
    childNodes(n.args).forEach(visit);
  };
  visit(ast);
  return found;
}

export function isHasArgumentError(err: unknown): boolean {
  return err instanceof Error && (err as { code?: string }).code === 'invalid_macro_argument' && err.message.startsWith('has() invalid argument');
}

/** Whether a selection is a chain of fields from a variable (a.b.c), the only argument cel-js's has() takes. */
function isFieldChain(n: AstNode): boolean {
  let node: unknown = n;
  while (isAstNode(node) && (node.op === '.' || node.op === '.?')) node = (node.args as unknown[])[0];
  return isAstNode(node) && node.op === 'id';
}

/**
 * The rule's source as Nami runs it, where cel-js would read it otherwise
 * than cel-go: each s.matches(re) as matches(s, re) (cel-js's own method
 * reads re as a JavaScript pattern, Nami's function as Go's), and each
 * has(e.f) whose e is not a chain of fields from a variable (has(self[0].f),
 * which cel-js refuses) as cel.bind(__hasN, e, has(__hasN.f)), and each
 * l.join(...) as l.map(__j, __j).join(...) (a set list runs as a JavaScript
 * Set, which cel-js's join does not take).
 */
export function runnableSource(ast: unknown, source: string): string {
  if (!isAstNode(ast)) return source;
  let bound = 0;
  const rewrite = (n: AstNode): string => {
    if (n.op === 'rcall' && Array.isArray(n.args) && n.args[0] === 'matches') {
      const receiver = n.args[1];
      const [pattern, ...rest] = childNodes(n.args[2]);
      if (isAstNode(receiver) && pattern && rest.length === 0) return `matches(${rewrite(receiver)}, ${rewrite(pattern)})`;
    }
    if (n.op === 'rcall' && Array.isArray(n.args) && n.args[0] === 'join' && isAstNode(n.args[1])) {
      const args = childNodes(n.args[2]).map(rewrite);
      return `${rewrite(n.args[1])}.map(__j, __j).join(${args.join(', ')})`;
    }
    if (n.op === 'call' && Array.isArray(n.args) && n.args[0] === 'has') {
      const [arg, ...rest] = childNodes(n.args[1]);
      if (arg && rest.length === 0 && arg.op === '.' && !isFieldChain(arg)) {
        const [target, field] = arg.args as [unknown, string];
        if (isAstNode(target)) {
          const name = `__has${bound++}`;
          return `cel.bind(${name}, ${rewrite(target)}, has(${name}.${field}))`;
        }
      }
    }
    let out = '';
    let at = n.start;
    for (const c of childNodes(n.args).sort((a, b) => a.start - b.start)) {
      if (c.start < at) continue;
      out += source.slice(at, c.start) + rewrite(c);
      at = c.end;
    }
    return out + source.slice(at, n.end);
  };
  return source.slice(0, ast.start) + rewrite(ast) + source.slice(ast.end);
}

export function referencesOldSelf(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(referencesOldSelf);
  if (!node || typeof node !== 'object') return false;
  const n = node as { op?: unknown; args?: unknown };
  if (n.op === 'id' && n.args === 'oldSelf') return true;
  return n.op !== undefined && referencesOldSelf(n.args);
}
