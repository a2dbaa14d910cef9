// A bound on what a rule can cost, so a CRD cannot install a rule that
// pins the server on one large object: Kubernetes refuses a rule whose
// estimated cost exceeds its budget when the CRD is written. Nami estimates
// only the part that explodes, comprehensions (all, exists, map, filter...)
// nested over lists and maps, each as large as the schema lets it be, and
// refuses where that alone exceeds Kubernetes' per-rule limit.
import { isAstNode, type AstNode } from './rule-ast.js';
import type { CelModel } from './schema-model.js';

/** Kubernetes' StaticEstimatedCostLimit for one expression. */
export const ruleCostLimit = 10_000_000;

const comprehensions = new Set(['all', 'exists', 'exists_one', 'map', 'filter', 'transformList', 'transformMap', 'transformMapEntry']);


/** The most iterations nested comprehensions of the expression can make, with self (and oldSelf) typed by model. */
export function comprehensionIterations(ast: unknown, model: CelModel): number {
  const scope = new Map<string, CelModel>([
    ['self', model],
    ['oldSelf', model],
  ]);
  return iterations(ast, scope);
}

function iterations(n: unknown, scope: ReadonlyMap<string, CelModel>): number {
  if (Array.isArray(n)) return Math.max(1, ...n.map((x) => iterations(x, scope)));
  if (!isAstNode(n)) return 1;
  if (n.op === 'rcall' && Array.isArray(n.args) && comprehensions.has(n.args[0] as string)) {
    const [, receiver, macroArgs] = n.args as [string, unknown, unknown[]];
    const range = modelOf(receiver, scope);
    const size = range && (range.kind === 'list' || range.kind === 'map') ? range.maxElements : 1;
    const inner = new Map(scope);
    const element = range?.kind === 'list' ? range.items : range?.kind === 'map' ? keyModel : undefined;
    const vars = (macroArgs ?? []).filter((a): a is AstNode => isAstNode(a) && a.op === 'id');
    for (const v of vars) inner.delete(v.args as string);
    if (element && vars[0]) inner.set(vars[0].args as string, element);
    if (range?.kind === 'map' && vars.length > 1 && vars[1]) inner.set(vars[1].args as string, range.values);
    else if (range?.kind === 'list' && vars.length > 1 && vars[0] && vars[1]) {
      inner.set(vars[0].args as string, indexModel);
      inner.set(vars[1].args as string, range.items);
    }
    return Math.max(iterations(receiver, scope), size * iterations(macroArgs, inner));
  }
  return iterations(n.args, scope);
}

const keyModel: CelModel = { kind: 'scalar', typeName: 'string', minSize: 2 };
const indexModel: CelModel = { kind: 'scalar', typeName: 'int', minSize: 1 };

/** The schema model an expression's value has, when it is a variable, a field or an element reached from one. */
function modelOf(n: unknown, scope: ReadonlyMap<string, CelModel>): CelModel | undefined {
  if (!isAstNode(n)) return undefined;
  switch (n.op) {
    case 'id':
      return scope.get(n.args as string);
    case '.':
    case '.?': {
      const [target, name] = n.args as [unknown, string];
      const parent = modelOf(target, scope);
      if (parent?.kind === 'object') {
        for (const field of parent.fields.values()) if (field.name === name) return field.model;
        return undefined;
      }
      return parent?.kind === 'map' ? parent.values : undefined;
    }
    case '[]':
    case '[?]': {
      const parent = modelOf((n.args as unknown[])[0], scope);
      return parent?.kind === 'list' ? parent.items : parent?.kind === 'map' ? parent.values : undefined;
    }
    default:
      return undefined;
  }
}

/** Kubernetes' words for a rule over budget. */
export function costErrorMessage(costName: string, cost: number, limit: number): string {
  const factor = cost / limit;
  const shown = factor > 100 ? 'more than 100x' : factor < 1.5 ? `${factor.toFixed(6)}x` : `${factor.toFixed(1)}x`;
  return `${costName} exceeds budget by factor of ${shown} (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)`;
}
