// Client-side discovery: which resources the server serves, from the legacy
// per-group-version documents every Kubernetes API server offers.
import type { RestClient } from './rest.js';

export interface DiscoveredResource {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
}

interface ApiResourceList {
  groupVersion: string;
  resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[];
}

interface ApiGroupList {
  groups: { name: string; preferredVersion: { groupVersion: string; version: string } }[];
}

/** The preferred version of every resource (subresources left out). */
export async function discoverResources(client: RestClient): Promise<DiscoveredResource[]> {
  const groupVersions: { group: string; version: string; path: string }[] = [{ group: '', version: 'v1', path: '/api/v1' }];
  const groups = await client.request<ApiGroupList>('GET', '/apis');
  for (const g of groups.groups) groupVersions.push({ group: g.name, version: g.preferredVersion.version, path: `/apis/${g.preferredVersion.groupVersion}` });
  const lists = await Promise.all(groupVersions.map((gv) => client.request<ApiResourceList>('GET', gv.path).then((l) => ({ gv, l }))));
  const out: DiscoveredResource[] = [];
  for (const { gv, l } of lists) {
    for (const r of l.resources) {
      if (r.name.includes('/')) continue;
      out.push({ group: gv.group, version: gv.version, plural: r.name, kind: r.kind, namespaced: r.namespaced, verbs: r.verbs });
    }
  }
  return out;
}
