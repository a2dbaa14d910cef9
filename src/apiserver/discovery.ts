// Discovery documents: the legacy per-group-version lists kubectl 1.20 reads
// and the aggregated APIGroupDiscoveryList (v2, v2beta1) that kubectl 1.27+
// asks for first.
import { servedVersions, type ResourceInfo } from '../api/resources.js';

interface SubresourceShape {
  group?: string;
  version?: string;
  kind: string | ((r: ResourceInfo) => string);
  verbs: string[];
}

const subresourceShapes: Record<string, SubresourceShape> = {
  status: { kind: (r) => r.kind, verbs: ['get', 'patch', 'update'] },
  scale: { group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] },
  binding: { kind: 'Binding', verbs: ['create'] },
  eviction: { group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] },
  log: { kind: 'Pod', verbs: ['get'] },
  exec: { kind: 'PodExecOptions', verbs: ['create', 'get'] },
  attach: { kind: 'PodAttachOptions', verbs: ['create', 'get'] },
  portforward: { kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
  proxy: { kind: (r) => `${r.kind}ProxyOptions`, verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  finalize: { kind: 'Namespace', verbs: ['update'] },
  token: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] },
  ephemeralcontainers: { kind: 'Pod', verbs: ['get', 'patch', 'update'] },
};

function subresourceShape(r: ResourceInfo, sub: string, version: string) {
  const shape = subresourceShapes[sub] ?? { kind: r.kind, verbs: ['get'] };
  const kind = typeof shape.kind === 'function' ? shape.kind(r) : shape.kind;
  return { group: shape.group ?? r.group, version: shape.version ?? version, kind, verbs: shape.verbs };
}

export interface ServedGroup {
  name: string;
  /** Versions, preferred first. */
  versions: string[];
}

/** Groups in the order kube-apiserver lists them: core first, then by registration. */
export function servedGroups(resources: ResourceInfo[]): ServedGroup[] {
  const groups = new Map<string, string[]>();
  for (const r of resources) {
    const versions = groups.get(r.group) ?? [];
    for (const v of servedVersions(r)) if (!versions.includes(v)) versions.push(v);
    groups.set(r.group, versions);
  }
  return [...groups.entries()].map(([name, versions]) => ({ name, versions: sortVersions(versions) }));
}

/** Kubernetes' version priority: GA > beta > alpha, higher numbers first. */
export function sortVersions(versions: string[]): string[] {
  const rank = (v: string): [number, number, number] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [0, 0, 0];
    const stability = m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1;
    return [stability, Number(m[1]), Number(m[3] ?? 0)];
  };
  return [...versions].sort((a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return rb[i]! - ra[i]!;
    return a.localeCompare(b);
  });
}

export function apiVersions(serverAddress: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupVersionString(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

function legacyGroup(g: ServedGroup): object {
  const versions = g.versions.map((v) => ({ groupVersion: groupVersionString(g.name, v), version: v }));
  return { name: g.name, versions, preferredVersion: versions[0] };
}

export function apiGroupList(resources: ResourceInfo[]): object {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: servedGroups(resources).filter((g) => g.name !== '').map(legacyGroup) };
}

export function apiGroup(resources: ResourceInfo[], group: string): object | undefined {
  const g = servedGroups(resources).find((x) => x.name === group);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...legacyGroup(g) } : undefined;
}

export function apiResourceList(resources: ResourceInfo[], group: string, version: string): object | undefined {
  const matching = resources.filter((r) => r.group === group && servedVersions(r).includes(version));
  if (matching.length === 0) return undefined;
  const list: object[] = [];
  for (const r of matching) {
    const main: Record<string, unknown> = { name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs };
    if (r.shortNames.length) main.shortNames = r.shortNames;
    if (r.categories.length) main.categories = r.categories;
    list.push(main);
    for (const sub of r.subresources) {
      const s = subresourceShape(r, sub, version);
      const entry: Record<string, unknown> = { name: `${r.plural}/${sub}`, singularName: '', namespaced: r.namespaced, kind: s.kind, verbs: s.verbs };
      // A subresource of another kind names its group and version both, as kube-apiserver does (kubectl drain looks for them on pods/eviction).
      if (s.group !== r.group || s.version !== version) {
        entry.group = s.group;
        entry.version = s.version;
      }
      list.push(entry);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersionString(group, version), resources: list };
}

/** Aggregated discovery for either /api (core only) or /apis (every other group). */
export function aggregatedDiscovery(resources: ResourceInfo[], core: boolean, apiVersion: string): object {
  const items = servedGroups(resources)
    .filter((g) => (g.name === '') === core)
    .map((g) => ({
      metadata: { name: g.name, creationTimestamp: null },
      versions: g.versions.map((v) => ({
        version: v,
        freshness: 'Current',
        resources: resources
          .filter((r) => r.group === g.name && servedVersions(r).includes(v))
          .map((r) => {
            const entry: Record<string, unknown> = {
              resource: r.plural,
              responseKind: { group: r.group, version: v, kind: r.kind },
              scope: r.namespaced ? 'Namespaced' : 'Cluster',
              singularResource: r.singular,
              verbs: r.verbs,
            };
            if (r.shortNames.length) entry.shortNames = r.shortNames;
            if (r.categories.length) entry.categories = r.categories;
            if (r.subresources.length) {
              entry.subresources = r.subresources.map((sub) => {
                const s = subresourceShape(r, sub, v);
                return { subresource: sub, responseKind: { group: s.group, version: s.version, kind: s.kind }, verbs: s.verbs };
              });
            }
            return entry;
          }),
      })),
    }));
  return { kind: 'APIGroupDiscoveryList', apiVersion, metadata: {}, items };
}

/**
 * The paths the server answers, as kube-apiserver lists them at "/"
 * (its index: {"paths": [...]}, sorted): discovery, every group and group
 * version, and the other paths the caller serves.
 */
export function rootPaths(resources: ResourceInfo[], others: Iterable<string>): object {
  const paths = new Set<string>(['/api', '/apis', '/apis/', ...others]);
  for (const g of servedGroups(resources)) {
    if (g.name === '') {
      for (const v of g.versions) paths.add(`/api/${v}`);
      continue;
    }
    paths.add(`/apis/${g.name}`);
    for (const v of g.versions) paths.add(`/apis/${g.name}/${v}`);
  }
  return { paths: [...paths].sort() };
}
