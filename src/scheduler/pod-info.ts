// What the scheduler computes once per pod object and reads many times:
// its resource requests as numbers, host ports, parsed inter-pod
// (anti-)affinity terms and its priority (Kubernetes' framework.PodInfo).
import { selectorFromLabelSelector, newRequirement, Selector, type Labels } from '../api/labels/index.js';
import { objectKey } from '../client/informer.js';
import { defaultNonZeroRequests, podRequests, type Pod, type PodAffinityTerm, type ResourceAmounts } from '../api/scheduling/index.js';

/** Resource names the scheduler tracks beyond cpu, memory, ephemeral-storage and pods (Kubernetes' IsScalarResourceName). */
export function isScalarResourceName(name: string): boolean {
  if (name.startsWith('hugepages-') || name.startsWith('attachable-volumes-')) return true;
  if (!name.includes('/')) return false;
  return !name.startsWith('requests.');
}

/** An inter-pod affinity term made ready for matching (Kubernetes' framework.AffinityTerm). */
export class AffinityTerm {
  constructor(
    readonly namespaces: ReadonlySet<string>,
    readonly selector: Selector,
    readonly topologyKey: string,
    /** Namespaces whose labels match it are included too; Selector.nothing() when the term has none. */
    readonly namespaceSelector: Selector,
    /** Only for preferred terms. */
    readonly weight = 0,
  ) {}

  /** True when the pod is in one of the term's namespaces and its labels match. */
  matches(pod: PodInfo, namespaceLabels: Labels | undefined): boolean {
    if (this.namespaces.has(pod.namespace) || (!this.namespaceSelector.matchesNothing && this.namespaceSelector.matches(namespaceLabels))) {
      return this.selector.matches(pod.labels);
    }
    return false;
  }

  /** The term with namespaceSelector resolved into plain namespaces (done for the incoming pod's terms). */
  withNamespaces(resolve: (selector: Selector) => string[]): AffinityTerm {
    if (this.namespaceSelector.matchesNothing) return this;
    const namespaces = new Set(this.namespaces);
    for (const ns of resolve(this.namespaceSelector)) namespaces.add(ns);
    return new AffinityTerm(namespaces, this.selector, this.topologyKey, Selector.nothing(), this.weight);
  }
}

function parseTerm(pod: Pod, term: PodAffinityTerm, weight: number, errors: string[]): AffinityTerm {
  const namespace = pod.metadata.namespace ?? '';
  let selector: Selector;
  let namespaceSelector = Selector.nothing();
  try {
    selector = selectorFromLabelSelector(term.labelSelector ?? null);
    const labels = pod.metadata.labels ?? {};
    // matchLabelKeys / mismatchLabelKeys: the incoming pod's own label values join the selector.
    for (const key of term.matchLabelKeys ?? []) if (labels[key] !== undefined) selector = selector.add(newRequirement(key, 'in', [labels[key]]));
    for (const key of term.mismatchLabelKeys ?? []) if (labels[key] !== undefined) selector = selector.add(newRequirement(key, 'notin', [labels[key]]));
    if (term.namespaceSelector) namespaceSelector = selectorFromLabelSelector(term.namespaceSelector);
  } catch (err) {
    errors.push((err as Error).message);
    selector = Selector.nothing();
  }
  const given = term.namespaces ?? [];
  const namespaces = new Set(given.length === 0 && !term.namespaceSelector ? [namespace] : given);
  return new AffinityTerm(namespaces, selector, term.topologyKey ?? '', namespaceSelector, weight);
}

export interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

export interface PodPriorityInfo {
  priority: number;
  preemptionPolicy: string;
}

const empty: readonly never[] = [];

export class PodInfo {
  readonly pod: Pod;
  /** namespace/name */
  readonly key: string;
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  readonly nodeName: string;
  readonly requests: ResourceAmounts;
  readonly milliCPU: number;
  readonly memory: number;
  readonly ephemeralStorage: number;
  /** Requests beyond cpu, memory and ephemeral-storage (extended resources, hugepages), only non-zero ones. */
  readonly scalar: readonly (readonly [string, number])[];
  /** cpu and memory with Kubernetes' defaults for containers that request none (used by scoring). */
  readonly nonZeroMilliCPU: number;
  readonly nonZeroMemory: number;
  readonly hostPorts: readonly HostPort[];
  readonly requiredAffinityTerms: readonly AffinityTerm[];
  readonly requiredAntiAffinityTerms: readonly AffinityTerm[];
  readonly preferredAffinityTerms: readonly AffinityTerm[];
  readonly preferredAntiAffinityTerms: readonly AffinityTerm[];
  /** Selector or term errors found while parsing (the API server normally rejects such pods). */
  readonly parseErrors: readonly string[];
  readonly priority: number;
  readonly preemptionPolicy: string;
  readonly terminating: boolean;
  /** status.startTime in ms, undefined when not started. */
  readonly startTime: number | undefined;

  constructor(pod: Pod, priority?: PodPriorityInfo) {
    this.pod = pod;
    const meta = pod.metadata;
    this.key = objectKey(pod);
    this.uid = meta.uid ?? '';
    this.namespace = meta.namespace ?? '';
    this.name = meta.name ?? '';
    this.labels = meta.labels ?? {};
    const spec = pod.spec ?? {};
    this.nodeName = spec.nodeName ?? '';
    this.terminating = !!meta.deletionTimestamp;
    this.startTime = pod.status?.startTime ? Date.parse(pod.status.startTime) : undefined;
    this.priority = priority?.priority ?? (typeof spec.priority === 'number' ? spec.priority : 0);
    this.preemptionPolicy = priority?.preemptionPolicy ?? spec.preemptionPolicy ?? 'PreemptLowerPriority';

    const requests = podRequests(pod);
    this.requests = requests;
    this.milliCPU = requests.cpu ?? 0;
    this.memory = requests.memory ?? 0;
    this.ephemeralStorage = requests['ephemeral-storage'] ?? 0;
    const scalar: [string, number][] = [];
    for (const name of Object.keys(requests)) {
      const v = requests[name]!;
      if (v !== 0 && isScalarResourceName(name)) scalar.push([name, v]);
    }
    this.scalar = scalar.length ? scalar : empty;
    const nonZero = podRequests(pod, { nonMissing: defaultNonZeroRequests });
    this.nonZeroMilliCPU = nonZero.cpu ?? 0;
    this.nonZeroMemory = nonZero.memory ?? 0;

    const ports: HostPort[] = [];
    const addPorts = (containers: typeof spec.containers, sidecarsOnly: boolean) => {
      for (const c of containers ?? []) {
        if (sidecarsOnly && c.restartPolicy !== 'Always') continue;
        for (const p of c.ports ?? []) {
          if (p.hostPort && p.hostPort > 0) ports.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol || 'TCP', port: p.hostPort });
        }
      }
    };
    addPorts(spec.containers, false);
    addPorts(spec.initContainers, true);
    this.hostPorts = ports.length ? ports : empty;

    const errors: string[] = [];
    const affinity = spec.affinity;
    const terms = (list: PodAffinityTerm[] | undefined) => (list?.length ? list.map((t) => parseTerm(pod, t, 0, errors)) : empty);
    const weighted = (list: { weight: number; podAffinityTerm: PodAffinityTerm }[] | undefined) =>
      list?.length ? list.filter((w) => w.weight !== 0).map((w) => parseTerm(pod, w.podAffinityTerm, w.weight, errors)) : empty;
    this.requiredAffinityTerms = terms(affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
    this.requiredAntiAffinityTerms = terms(affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
    this.preferredAffinityTerms = weighted(affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
    this.preferredAntiAffinityTerms = weighted(affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
    this.parseErrors = errors.length ? errors : empty;
  }

  /** Any inter-pod affinity or anti-affinity at all (Kubernetes keeps such pods in NodeInfo.PodsWithAffinity). */
  get hasAffinity(): boolean {
    return (
      this.requiredAffinityTerms.length > 0 ||
      this.requiredAntiAffinityTerms.length > 0 ||
      this.preferredAffinityTerms.length > 0 ||
      this.preferredAntiAffinityTerms.length > 0
    );
  }

  get hasRequiredAntiAffinity(): boolean {
    return this.requiredAntiAffinityTerms.length > 0;
  }

  /** The same pod as the scheduler assumes it right after choosing a node: spec.nodeName set, everything else shared. */
  assumedOn(nodeName: string): PodInfo {
    const pod: Pod = { ...this.pod, spec: { ...(this.pod.spec ?? {}), nodeName } };
    const copy = Object.create(PodInfo.prototype) as PodInfo;
    Object.assign(copy, this, { pod, nodeName });
    return copy;
  }
}

/** Kubernetes' MoreImportantPod: higher priority first, then the one that started earlier. */
export function moreImportantPod(a: PodInfo, b: PodInfo): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  const at = a.startTime ?? Number.POSITIVE_INFINITY;
  const bt = b.startTime ?? Number.POSITIVE_INFINITY;
  return at < bt;
}
