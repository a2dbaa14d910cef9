// The table of kinds without a printer of their own (Role, ClusterRole,
// LimitRange, CustomResourceDefinition, APIService, ...): the generic
// registry's default table convertor, NAME and CREATED AT.
import type { KubeObject } from '../../api/object.js';
import { parseTimestamp } from './human-duration.js';
import { column, nameColumn, tableOf, type Table, type TablePrinter } from './table.js';

/** time.Time.UTC().Format(time.RFC3339), with Go's zero time for a missing one. */
export function rfc3339(value: unknown): string {
  const ms = parseTimestamp(value);
  const date = ms === null || Number.isNaN(ms) ? new Date(new Date(0).setUTCFullYear(1, 0, 1)) : new Date(ms);
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const defaultPrinter: TablePrinter = {
  columnDefinitions: [nameColumn, column('Created At', { type: 'date', doc: 'ObjectMeta.creationTimestamp' })],
  printRow(object) {
    return { cells: [object.metadata.name ?? '', rfc3339(object.metadata.creationTimestamp)] };
  },
};

export function defaultTable(objects: readonly KubeObject[], now: Date): Table {
  return tableOf(defaultPrinter, objects, now);
}
