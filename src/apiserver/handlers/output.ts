// Shapes of read responses: lists (assembled from the cache's serialized
// objects), Tables for kubectl get, PartialObjectMetadata.
import { BadRequestError } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import type { AcceptedOutput } from '../http/respond.js';
import type { GenericStore, ListResult } from '../registry/store.js';
import type { Semantics } from './semantics.js';
import type { VersionView } from './versions.js';

/** An object's metadata alone, at meta.k8s.io/v1 or v1beta1 (a v1beta1 Table's rows are at v1beta1). */
export function partialMetadata(obj: KubeObject, version: 'v1' | 'v1beta1' = 'v1'): KubeObject {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: obj.metadata };
}

/**
 * Pieces of a list body, written one after another: each item's JSON was
 * made once, when the cache took it in. Items are added to the body as it
 * is written, so that a list's texts are not all held at once; what may fail
 * (converting to another version) is done before, so that a failure is an
 * error response rather than a body cut short.
 */
export function listBodyParts(store: GenericStore, versions: VersionView, result: ListResult, output: AcceptedOutput): Iterable<string> {
  const meta = JSON.stringify(listMeta(result));
  const items = result.items;
  if (output.metadataOnly) {
    return listParts(`{"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/v1","metadata":${meta},"items":[`, items.length, (i) => JSON.stringify(partialMetadata(items[i]!.view())));
  }
  const head = `{"kind":${JSON.stringify(store.info.listKind)},"apiVersion":${JSON.stringify(versions.apiVersion)},"metadata":${meta},"items":[`;
  const texts = versions.same ? undefined : items.map((item) => versions.json(item));
  return listParts(head, items.length, texts ? (i) => texts[i]! : (i) => items[i]!.json);
}

/** A list's metadata: its resourceVersion, and where the next page starts. */
function listMeta(result: ListResult): Record<string, unknown> {
  const meta: Record<string, unknown> = { resourceVersion: result.resourceVersion };
  if (result.continue) meta.continue = result.continue;
  if (result.remainingItemCount !== undefined) meta.remainingItemCount = result.remainingItemCount;
  return meta;
}

/** A list body's head, its items' texts made one at a time as they are written, separated by commas, and its end. */
function* listParts(head: string, count: number, textOf: (i: number) => string): Generator<string> {
  yield head;
  for (let i = 0; i < count; i++) {
    if (i > 0) yield ',';
    yield textOf(i);
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
  const printed = printTable(ctx, ctx.versions.same ? stored : stored.map((o) => ctx.versions.out(o)), new Date(), output);
  return { ...tableHead(output, {}, withColumns ? printed.columnDefinitions : null), rows: printed.rows };
}

/** A Table's members before its rows, in kube-apiserver's order. */
function tableHead(output: AcceptedOutput, metadata: Record<string, unknown>, columnDefinitions: unknown[] | null): Record<string, unknown> {
  return { kind: 'Table', apiVersion: `meta.k8s.io/${output.tableVersion}`, metadata, columnDefinitions };
}

/** What a Table's rows carry of their objects (includeObject: Metadata when unset); 400 for another value, as kube-apiserver answers. */
export function includeObject(query: URLSearchParams): 'Metadata' | 'Object' | 'None' {
  const include = query.get('includeObject') || 'Metadata';
  if (include !== 'Metadata' && include !== 'Object' && include !== 'None') throw new BadRequestError(`unrecognized includeObject value: ${JSON.stringify(include)}`);
  return include;
}

/** Columns, and rows with their objects as includeObject asks, for objects at the request's version. */
function printTable(ctx: TableContext, objects: readonly KubeObject[], now: Date, output: AcceptedOutput): { columnDefinitions: unknown[]; rows: Record<string, unknown>[] } {
  const include = includeObject(ctx.query);
  const data = ctx.semantics.table(ctx.versions.info, objects, now, ctx.versions.version);
  const rows = data.rows.map((row) => {
    const out: Record<string, unknown> = { cells: row.cells };
    if (row.conditions) out.conditions = row.conditions;
    if (include === 'Object') out.object = row.object;
    else if (include === 'Metadata') out.object = partialMetadata(row.object, output.tableVersion);
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
  const columns = printTable(ctx, [], now, output).columnDefinitions;
  // The text up to the first row: the head with empty rows, less their closing `]}`.
  const head = JSON.stringify({ ...tableHead(output, listMeta(result), columns), rows: [] }).slice(0, -2);
  let batch: Record<string, unknown>[] = [];
  let batchStart = 0;
  const rowText = (i: number): string => {
    if (i >= batchStart + batch.length) {
      batchStart = i;
      const end = Math.min(items.length, i + tableBatch);
      batch = printTable(ctx, converted ? converted.slice(i, end) : items.slice(i, end).map((item) => item.view()), now, output).rows;
    }
    return JSON.stringify(batch[i - batchStart]);
  };
  return listParts(head, items.length, rowText);
}
