// Shapes of read responses: lists (assembled from the cache's serialized
// objects), Tables for kubectl get, PartialObjectMetadata.
import type { KubeObject } from '../../api/object.js';
import type { AcceptedOutput } from '../http/respond.js';
import type { GenericStore, ListResult } from '../registry/store.js';
import type { Semantics } from './semantics.js';
import type { VersionView } from './versions.js';

export function partialMetadata(obj: KubeObject): KubeObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

/** Pieces of a list body, written one after another: each item's JSON was made once, when the cache took it in. */
export function* listBodyParts(store: GenericStore, versions: VersionView, result: ListResult, output: AcceptedOutput): Generator<string> {
  const meta: Record<string, unknown> = { resourceVersion: result.resourceVersion };
  if (result.continue) meta.continue = result.continue;
  if (result.remainingItemCount !== undefined) meta.remainingItemCount = result.remainingItemCount;
  if (output.metadataOnly) {
    yield JSON.stringify({ kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: meta, items: result.items.map((i) => partialMetadata(i.view())) });
    return;
  }
  yield `{"kind":${JSON.stringify(store.info.listKind)},"apiVersion":${JSON.stringify(versions.apiVersion)},"metadata":${JSON.stringify(meta)},"items":[`;
  // Each item's text is made as it is written: a list's texts are not all held at once.
  for (let i = 0; i < result.items.length; i++) {
    if (i > 0) yield ',';
    yield versions.json(result.items[i]!);
  }
  yield ']}';
}

export interface TableContext {
  semantics: Semantics;
  query: URLSearchParams;
  versions: VersionView;
}

/** A meta.k8s.io Table of stored objects, printed at the request's version; row objects follow includeObject (None, Metadata by default, Object). */
export function tableResponse(ctx: TableContext, stored: KubeObject[], output: AcceptedOutput, withColumns = true): object {
  const objects = ctx.versions.same ? stored : stored.map((o) => ctx.versions.out(o));
  const data = ctx.semantics.table(ctx.versions.info, objects, new Date());
  const include = ctx.query.get('includeObject') ?? 'Metadata';
  const rows = data.rows.map((row) => {
    const out: Record<string, unknown> = { cells: row.cells };
    if (row.conditions) out.conditions = row.conditions;
    if (include === 'Object') out.object = row.object;
    else if (include === 'Metadata') out.object = partialMetadata(row.object);
    return out;
  });
  const table: Record<string, unknown> = { kind: 'Table', apiVersion: `meta.k8s.io/${output.tableVersion}`, metadata: {} };
  table.columnDefinitions = withColumns ? data.columnDefinitions : null;
  table.rows = rows;
  return table;
}
