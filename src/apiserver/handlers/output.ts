// Shapes of read responses: lists (assembled from the cache's serialized
// objects), Tables for kubectl get, PartialObjectMetadata.
import { BadRequestError } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import type { AcceptedOutput } from '../http/respond.js';
import type { GenericStore, ListResult } from '../registry/store.js';
import type { CachedObject } from '../watch-cache.js';
import type { Semantics } from './semantics.js';
import type { VersionView } from './versions.js';

export function partialMetadata(obj: KubeObject): KubeObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

/**
 * Pieces of a list body, written one after another: each item's JSON was
 * made once, when the cache took it in. Items are added to the body as it
 * is written, so that a list's texts are not all held at once; what may fail
 * (converting to another version) is done before, so that a failure is an
 * error response rather than a body cut short.
 */
export function listBodyParts(store: GenericStore, versions: VersionView, result: ListResult, output: AcceptedOutput): Iterable<string> {
  const meta = listMeta(result);
  if (output.metadataOnly) {
    return [JSON.stringify({ kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: meta, items: result.items.map((i) => partialMetadata(i.view())) })];
  }
  const head = `{"kind":${JSON.stringify(store.info.listKind)},"apiVersion":${JSON.stringify(versions.apiVersion)},"metadata":${JSON.stringify(meta)},"items":[`;
  const texts = versions.same ? undefined : result.items.map((item) => versions.json(item));
  return listParts(head, texts ?? result.items);
}

/** A list's metadata: its resourceVersion, and where the next page starts. */
function listMeta(result: ListResult): Record<string, unknown> {
  const meta: Record<string, unknown> = { resourceVersion: result.resourceVersion };
  if (result.continue) meta.continue = result.continue;
  if (result.remainingItemCount !== undefined) meta.remainingItemCount = result.remainingItemCount;
  return meta;
}

function* listParts(head: string, items: readonly (string | CachedObject)[]): Generator<string> {
  yield head;
  for (let i = 0; i < items.length; i++) {
    if (i > 0) yield ',';
    const item = items[i]!;
    yield typeof item === 'string' ? item : item.json;
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
  const printed = printTable(ctx, ctx.versions.same ? stored : stored.map((o) => ctx.versions.out(o)), new Date());
  const table: Record<string, unknown> = { kind: 'Table', apiVersion: `meta.k8s.io/${output.tableVersion}`, metadata: {} };
  table.columnDefinitions = withColumns ? printed.columnDefinitions : null;
  table.rows = printed.rows;
  return table;
}

/** What a Table's rows carry of their objects (includeObject: Metadata when unset); 400 for another value, as kube-apiserver answers. */
export function includeObject(query: URLSearchParams): 'Metadata' | 'Object' | 'None' {
  const include = query.get('includeObject') || 'Metadata';
  if (include !== 'Metadata' && include !== 'Object' && include !== 'None') throw new BadRequestError(`unrecognized includeObject value: ${JSON.stringify(include)}`);
  return include;
}

/** Columns, and rows with their objects as includeObject asks, for objects at the request's version. */
function printTable(ctx: TableContext, objects: readonly KubeObject[], now: Date): { columnDefinitions: unknown[]; rows: Record<string, unknown>[] } {
  const include = includeObject(ctx.query);
  const data = ctx.semantics.table(ctx.versions.info, objects, now);
  const rows = data.rows.map((row) => {
    const out: Record<string, unknown> = { cells: row.cells };
    if (row.conditions) out.conditions = row.conditions;
    if (include === 'Object') out.object = row.object;
    else if (include === 'Metadata') out.object = partialMetadata(row.object);
    return out;
  });
  return { columnDefinitions: data.columnDefinitions, rows };
}

/** Rows printed together in a streamed Table. */
const tableBatch = 100;

/**
 * A list's Table as pieces written one after another (sendJsonParts): rows
 * are printed a batch at a time as the body is written, so that the objects
 * parsed for them are not all held at once (a Table of 10,000 pods held
 * them all, and their printed rows, and the whole body as one string).
 * Objects at another version than the stored one are converted before the
 * body starts, so that a failed conversion is still an error response.
 */
export function tableBodyParts(ctx: TableContext, result: ListResult, output: AcceptedOutput): Iterable<string> {
  const items = result.items;
  const now = new Date();
  const converted = ctx.versions.same ? undefined : items.map((item) => ctx.versions.out(item.view()));
  const columns = printTable(ctx, [], now).columnDefinitions;
  const head = `{"kind":"Table","apiVersion":"meta.k8s.io/${output.tableVersion}","metadata":${JSON.stringify(listMeta(result))},"columnDefinitions":${JSON.stringify(columns)},"rows":[`;
  return tableParts(head, items.length, (from, to) => printTable(ctx, converted ? converted.slice(from, to) : items.slice(from, to).map((item) => item.view()), now).rows);
}

function* tableParts(head: string, count: number, print: (from: number, to: number) => Record<string, unknown>[]): Generator<string> {
  yield head;
  for (let from = 0; from < count; from += tableBatch) {
    const rows = print(from, Math.min(count, from + tableBatch));
    for (let i = 0; i < rows.length; i++) yield from + i > 0 ? `,${JSON.stringify(rows[i])}` : JSON.stringify(rows[i]);
  }
  yield ']}';
}
