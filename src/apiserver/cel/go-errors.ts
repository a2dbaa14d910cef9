// CEL errors in cel-go's words, which kube-apiserver passes on: a rule that
// does not compile is refused with "ERROR: <input>:1:6: undefined field
// 'foo'" and the source line under it, and a rule that fails as it runs with
// "no such key: foo".

interface CelErrorLike {
  readonly code?: string;
  readonly summary?: string;
  readonly message: string;
  readonly node?: { readonly op?: string; readonly pos?: number; readonly start?: number };
}

const operatorNames: Record<string, string> = {
  '==': '_==_',
  '!=': '_!=_',
  '<': '_<_',
  '<=': '_<=_',
  '>': '_>_',
  '>=': '_>=_',
  '+': '_+_',
  '-': '_-_',
  '*': '_*_',
  '/': '_/_',
  '%': '_%_',
  in: '@in',
};

/** The message of a compile (parse or type) error as cel-go words it. */
function compileMessage(err: CelErrorLike): string {
  const summary = err.summary ?? err.message;
  let m: RegExpExecArray | null;
  if (err.code === 'no_such_key' && (m = /^No such key: (.*)$/.exec(summary))) return `undefined field '${m[1]}'`;
  if (err.code === 'unknown_variable' && (m = /^Unknown variable: (.*)$/.exec(summary))) return `undeclared reference to '${m[1]}' (in container '')`;
  if (err.code === 'no_such_overload' && (m = /^no such overload: (\S+) (\S+) (\S+)$/.exec(summary)) && operatorNames[m[2]!]) {
    return `found no matching overload for '${operatorNames[m[2]!]}' applied to '(${m[1]}, ${m[3]})'`;
  }
  if (err.code === 'no_matching_overload' && (m = /^found no matching overload for '(?:(\w[\w.<>, ]*)\.)?(\w+)\((.*)\)'$/.exec(summary))) {
    return `found no matching overload for '${m[2]}' applied to '${m[1] ? `${m[1]}.` : ''}(${m[3]})'`;
  }
  if (err.code?.startsWith('unexpected_') || err.code === 'parse_error') return `Syntax error: ${lowerFirst(summary)}`;
  return lowerFirst(summary);
}

/**
 * "ERROR: <input>:1:6: message", the source line and a caret under the
 * column, as cel-go's issues print (at pos when given; a field selection is
 * placed at its dot, as cel-go places it).
 */
export function celCompileError(err: unknown, source: string, at?: number): string {
  const e = asCelError(err);
  const nodePos = e.node?.pos ?? e.node?.start ?? 0;
  const pos = Math.max(0, Math.min(at ?? (e.node?.op === '.' || e.node?.op === '.?' ? nodePos - 1 : nodePos), source.length));
  const before = source.slice(0, pos);
  const line = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const column = pos - lineStart;
  const text = source.slice(lineStart).split('\n')[0];
  return `ERROR: <input>:${line}:${column + 1}: ${compileMessage(e)}\n | ${text}\n | ${'.'.repeat(column)}^`;
}

/** What a rule that failed as it ran reports, as cel-go's runtime errors read ("no such key: foo", "division by zero"). */
export function celRuntimeError(err: unknown): string {
  const e = asCelError(err);
  const summary = e.summary ?? e.message;
  let m: RegExpExecArray | null;
  if (e.code === 'no_such_key' && (m = /^No such key: index out of bounds, index (-?\d+)/.exec(summary))) return `index out of bounds: ${m[1]}`;
  if (e.code === 'no_such_key' && (m = /^No such key: (.*)$/.exec(summary))) return `no such key: ${m[1]}`;
  if (e.code === 'modulo_by_zero') return 'modulus by zero';
  if (e.code === 'no_such_overload' || e.code === 'no_matching_overload') return 'no such overload';
  if (e.code === 'numeric_overflow') return summary.startsWith('u') ? 'unsigned integer overflow' : 'integer overflow';
  return lowerFirst(summary);
}

function asCelError(err: unknown): CelErrorLike {
  if (err instanceof Error) return err as CelErrorLike;
  return { message: String(err) };
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}
