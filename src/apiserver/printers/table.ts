// The meta.k8s.io/v1 Table shapes a printer produces, and the columns every
// built-in table shares.
import type { KubeObject } from '../../api/object.js';
import { fieldDocs, type DocumentedField } from './field-docs.js';
import { timestampSince } from './human-duration.js';

/** Serialised with every field present, as Kubernetes does (no omitempty). */
export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface TableRowCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface TableRow {
  cells: unknown[];
  conditions?: TableRowCondition[];
  object: KubeObject;
}

export interface Table {
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

/** What a printer makes of one object: the cells, and row conditions for finished pods. */
export interface PrintedRow {
  cells: unknown[];
  conditions?: TableRowCondition[];
}

/** One kind's table: its columns and how an object fills them. */
export interface TablePrinter {
  readonly columnDefinitions: readonly TableColumnDefinition[];
  printRow(object: KubeObject, now: Date): PrintedRow;
}

interface ColumnSpec {
  type?: string;
  format?: string;
  priority?: number;
  /** A field whose API documentation describes the column, or the text itself. */
  doc?: DocumentedField;
  description?: string;
}

export function column(name: string, spec: ColumnSpec = {}): TableColumnDefinition {
  return {
    name,
    type: spec.type ?? 'string',
    format: spec.format ?? '',
    description: spec.doc !== undefined ? fieldDocs[spec.doc] : (spec.description ?? ''),
    priority: spec.priority ?? 0,
  };
}

/** The wide (-o wide) variant: kubectl hides priority > 0 columns unless asked. */
export function wideColumn(name: string, spec: ColumnSpec = {}): TableColumnDefinition {
  return column(name, { ...spec, priority: 1 });
}

export const nameColumn = column('Name', { format: 'name', doc: 'ObjectMeta.name' });
export const ageColumn = column('Age', { doc: 'ObjectMeta.creationTimestamp' });
export const containersColumn = wideColumn('Containers', { description: 'Names of each container in the template.' });
export const imagesColumn = wideColumn('Images', { description: 'Images referenced by each container in the template.' });

export function nameOf(object: KubeObject): string {
  return object.metadata.name ?? '';
}

/** The AGE cell: time since creation. */
export function ageOf(object: KubeObject, now: Date): string {
  return timestampSince(object.metadata.creationTimestamp, now);
}

export function tableOf(printer: TablePrinter, objects: readonly KubeObject[], now: Date): Table {
  return {
    columnDefinitions: printer.columnDefinitions.map((c) => ({ ...c })),
    rows: objects.map((object) => {
      const printed = printer.printRow(object, now);
      const row: TableRow = { cells: printed.cells, object };
      if (printed.conditions !== undefined) row.conditions = printed.conditions;
      return row;
    }),
  };
}
