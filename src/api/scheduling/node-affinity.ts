// Node selectors and required node affinity, matched as Kubernetes'
// component-helpers/scheduling/corev1/nodeaffinity does: terms are ORed,
// the requirements of one term ANDed; a term with no requirements, or one
// Kubernetes could not parse, matches nothing.
import type { KubeObject } from '../object.js';
import type { NodeSelectorRequirement, NodeSelectorTerm, Pod, PreferredSchedulingTerm } from './types.js';

type LabelMap = Readonly<Record<string, string>>;
type RequirementMatcher = (labels: LabelMap) => boolean;

const int64Pattern = /^[+-]?[0-9]+$/;

function parseInteger(value: string | undefined): bigint | undefined {
  if (value === undefined || !int64Pattern.test(value)) return undefined;
  return BigInt(value);
}

/** One matchExpressions entry as a matcher, or undefined when Kubernetes would reject it. */
function compileExpression(req: NodeSelectorRequirement): RequirementMatcher | undefined {
  const key = req.key;
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In': {
      if (values.length === 0) return undefined;
      const set = new Set(values);
      return (labels) => {
        const v = labels[key];
        return v !== undefined && set.has(v);
      };
    }
    case 'NotIn': {
      if (values.length === 0) return undefined;
      const set = new Set(values);
      return (labels) => {
        const v = labels[key];
        return v === undefined || !set.has(v);
      };
    }
    case 'Exists':
      if (values.length !== 0) return undefined;
      return (labels) => labels[key] !== undefined;
    case 'DoesNotExist':
      if (values.length !== 0) return undefined;
      return (labels) => labels[key] === undefined;
    case 'Gt':
    case 'Lt': {
      if (values.length !== 1) return undefined;
      const bound = parseInteger(values[0]);
      if (bound === undefined) return undefined;
      const greater = req.operator === 'Gt';
      return (labels) => {
        const v = parseInteger(labels[key]);
        if (v === undefined) return false;
        return greater ? v > bound : v < bound;
      };
    }
    default:
      return undefined;
  }
}

/** One matchFields entry: only metadata.name with In or NotIn of exactly one value is valid. */
function compileField(req: NodeSelectorRequirement): ((nodeName: string) => boolean) | undefined {
  if (req.key !== 'metadata.name') return undefined;
  const values = req.values ?? [];
  if (values.length !== 1) return undefined;
  const name = values[0];
  if (req.operator === 'In') return (n) => n === name;
  if (req.operator === 'NotIn') return (n) => n !== name;
  return undefined;
}

/** A compiled NodeSelectorTerm: undefined when it matches nothing. */
function compileTerm(term: NodeSelectorTerm | null | undefined): ((labels: LabelMap, nodeName: string) => boolean) | undefined {
  const expressions = term?.matchExpressions ?? [];
  const fields = term?.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return undefined;
  const labelMatchers: RequirementMatcher[] = [];
  for (const e of expressions) {
    const m = compileExpression(e);
    if (!m) return undefined;
    labelMatchers.push(m);
  }
  const fieldMatchers: ((nodeName: string) => boolean)[] = [];
  for (const f of fields) {
    const m = compileField(f);
    if (!m) return undefined;
    fieldMatchers.push(m);
  }
  return (labels, nodeName) => {
    for (const m of labelMatchers) if (!m(labels)) return false;
    for (const m of fieldMatchers) if (!m(nodeName)) return false;
    return true;
  };
}

/** NodeSelectorTerms compiled once, for matching many nodes. */
export class NodeSelectorMatcher {
  private readonly terms: ((labels: LabelMap, nodeName: string) => boolean)[];

  constructor(terms: readonly NodeSelectorTerm[] | null | undefined) {
    this.terms = [];
    for (const t of terms ?? []) {
      const m = compileTerm(t);
      if (m) this.terms.push(m);
    }
  }

  /** True when any term matches the node's labels and name. */
  matches(labels: LabelMap | undefined, nodeName: string): boolean {
    const l = labels ?? {};
    for (const t of this.terms) if (t(l, nodeName)) return true;
    return false;
  }
}

/** A single preferred term compiled: matches() tells whether the node earns its weight. */
export class PreferredTermMatcher {
  private readonly term: ((labels: LabelMap, nodeName: string) => boolean) | undefined;
  readonly weight: number;

  constructor(term: PreferredSchedulingTerm) {
    this.term = compileTerm(term.preference);
    this.weight = term.weight ?? 0;
  }

  matches(labels: LabelMap | undefined, nodeName: string): boolean {
    return this.term ? this.term(labels ?? {}, nodeName) : false;
  }
}

/** True when the node matches any of the terms (v1.NodeSelector semantics). */
export function nodeMatchesNodeSelectorTerms(node: KubeObject, terms: readonly NodeSelectorTerm[] | null | undefined): boolean {
  return new NodeSelectorMatcher(terms).matches(node.metadata.labels, node.metadata.name ?? '');
}

/** The pod's nodeSelector and required node affinity, compiled once for matching many nodes (nodeaffinity.RequiredNodeAffinity). */
export class RequiredNodeAffinity {
  private readonly selector: [string, string][] | undefined;
  private readonly affinity: NodeSelectorMatcher | undefined;

  constructor(pod: KubeObject) {
    const spec = (pod as Pod).spec;
    const nodeSelector = spec?.nodeSelector;
    this.selector = nodeSelector && Object.keys(nodeSelector).length > 0 ? Object.entries(nodeSelector) : undefined;
    const required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    this.affinity = required ? new NodeSelectorMatcher(required.nodeSelectorTerms) : undefined;
  }

  /** True when the pod sets neither a nodeSelector nor required node affinity. */
  get empty(): boolean {
    return !this.selector && !this.affinity;
  }

  matches(node: KubeObject): boolean {
    return this.matchesLabels(node.metadata.labels, node.metadata.name ?? '');
  }

  matchesLabels(labels: LabelMap | undefined, nodeName: string): boolean {
    if (this.selector) {
      const l = labels ?? {};
      for (const [k, v] of this.selector) if (l[k] !== v) return false;
    }
    if (this.affinity && !this.affinity.matches(labels, nodeName)) return false;
    return true;
  }
}

/** True when the node satisfies the pod's spec.nodeSelector and required node affinity. */
export function podMatchesNodeSelectorAndAffinity(pod: KubeObject, node: KubeObject): boolean {
  return new RequiredNodeAffinity(pod).matches(node);
}
