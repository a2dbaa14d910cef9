// GET /api/v1/componentstatuses[/NAME]: the control plane's health
// (component-statuses.ts), as JSON or as the Table `kubectl get cs` prints,
// with the deprecation warning kube-apiserver sends on every request to it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MethodNotAllowedError, NotFoundError } from '../../api/errors.js';
import { parseFieldSelector } from '../../api/fields/index.js';
import { parseLabelSelector } from '../../api/labels/index.js';
import { componentStatusResource } from '../../api/resources.js';
import { componentNames, componentStatusOf, type ComponentSources, type ComponentStatus } from '../component-statuses.js';
import type { RequestInfo } from '../http/request-info.js';
import { negotiateOutput, sendJson } from '../http/respond.js';
import { setWarnings } from './body-checks.js';
import { tableResponse } from './output.js';
import type { Semantics } from './semantics.js';
import { VersionView } from './versions.js';

export interface ComponentStatusRequest {
  req: IncomingMessage;
  res: ServerResponse;
  info: RequestInfo;
  query: URLSearchParams;
  semantics: Semantics;
  sources: ComponentSources;
}

const deprecation = 'v1 ComponentStatus is deprecated in v1.19+';
const resourceRef = { group: '', resource: componentStatusResource.plural };

/** A list's items carry no kind and apiVersion, as kube-apiserver writes them (clients take them from the list). */
function asItem({ kind: _kind, apiVersion: _apiVersion, ...item }: ComponentStatus): Omit<ComponentStatus, 'kind' | 'apiVersion'> {
  return item;
}

export async function handleComponentStatuses(r: ComponentStatusRequest): Promise<void> {
  const { req, res, info, query } = r;
  // ComponentStatus has no subresources: such a path names nothing here.
  if (info.subresource) throw new NotFoundError(resourceRef, 'the server could not find the requested resource');
  if (info.verb !== 'get' && info.verb !== 'list') throw new MethodNotAllowedError({ ...resourceRef, ...(info.name ? { name: info.name } : {}) });
  const output = negotiateOutput(req);
  setWarnings(res, [deprecation]);
  const tableOf = (statuses: ComponentStatus[]) => tableResponse({ semantics: r.semantics, query, versions: new VersionView(componentStatusResource, 'v1', componentStatusResource, 'v1') }, statuses, output);
  if (info.name !== undefined) {
    const status = await componentStatusOf(info.name, r.sources);
    if (!status) throw new NotFoundError({ ...resourceRef, name: info.name });
    sendJson(res, 200, output.table ? tableOf([status]) : status);
    return;
  }
  // Components have no labels, and their one selectable field is their name.
  const labels = query.get('labelSelector') ? parseLabelSelector(query.get('labelSelector')!) : undefined;
  const fields = query.get('fieldSelector') ? parseFieldSelector(query.get('fieldSelector')!) : undefined;
  const names = componentNames(r.sources.backend).filter((name) => (labels?.matches({}) ?? true) && (fields?.matches({ 'metadata.name': name }) ?? true));
  const statuses = (await Promise.all(names.map((name) => componentStatusOf(name, r.sources)))).filter((s): s is ComponentStatus => s !== undefined);
  sendJson(res, 200, output.table ? tableOf(statuses) : { kind: 'ComponentStatusList', apiVersion: 'v1', metadata: {}, items: statuses.map(asItem) });
}
