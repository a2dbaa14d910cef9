// Tables of custom resources, from the additionalPrinterColumns of the
// served CustomResourceDefinition version, as apiextensions-apiserver's
// tableconvertor builds them.
import type { KubeObject } from '../../api/object.js';
import type { PrinterColumn } from '../../api/resources.js';
import { fieldDocs } from './field-docs.js';
import { jsonPathText } from './go-text.js';
import { parseTimestamp, timestampSince } from './human-duration.js';
import { JsonPathEvaluationError, JsonPathSyntaxError, evaluateJsonPath, parseJsonPath, type JsonPath } from './jsonpath.js';
import { nameColumn, type Table, type TableColumnDefinition } from './table.js';

/** apiextensions.k8s.io/v1 CustomResourceColumnDefinition. */
export type CustomResourceColumnDefinition = PrinterColumn;

// What a CRD version without printer columns shows.
const defaultCustomResourceColumns: CustomResourceColumnDefinition[] = [
  { name: 'Age', type: 'date', description: fieldDocs['ObjectMeta.creationTimestamp'], jsonPath: '.metadata.creationTimestamp' },
];

function cellForValue(type: string, value: unknown, now: Date): unknown {
  if (type === 'string') return jsonPathText(value);
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date': {
      if (typeof value !== 'string') return null;
      if (value === 'null') return '<unknown>';
      // Like kubectl's AGE: the age of the timestamp, not the timestamp.
      return Number.isNaN(parseTimestamp(value)) ? '<invalid>' : timestampSince(value, now);
    }
    default:
      return null;
  }
}

function firstMatch(path: JsonPath, object: KubeObject): { found: boolean; value?: unknown } {
  try {
    const results = evaluateJsonPath(path, object);
    return results.length === 0 ? { found: false } : { found: true, value: results[0] };
  } catch (err) {
    if (err instanceof JsonPathEvaluationError) return { found: false };
    throw err;
  }
}

/**
 * The table of custom resources: NAME, then one column per printer column.
 * Only a path's first match fills a cell; nothing matched leaves it null.
 * Like Kubernetes, columns stop at the first path that does not parse.
 */
export function crdTable(
  columns: readonly CustomResourceColumnDefinition[] | null | undefined,
  objects: readonly KubeObject[],
  now: Date,
): Table {
  const definitions: TableColumnDefinition[] = [{ ...nameColumn }];
  const paths: { path: JsonPath; type: string }[] = [];
  const wanted = columns && columns.length > 0 ? columns : defaultCustomResourceColumns;
  for (const column of wanted) {
    let path: JsonPath;
    try {
      path = parseJsonPath(column.jsonPath);
    } catch (err) {
      if (err instanceof JsonPathSyntaxError) break;
      throw err;
    }
    paths.push({ path, type: column.type });
    definitions.push({
      name: column.name,
      type: column.type,
      format: column.format ?? '',
      description: column.description || `Custom resource definition column (in JSONPath format): ${column.jsonPath}`,
      priority: column.priority ?? 0,
    });
  }
  return {
    columnDefinitions: definitions,
    rows: objects.map((object) => ({
      cells: [
        object.metadata.name ?? '',
        ...paths.map(({ path, type }) => {
          const match = firstMatch(path, object);
          return match.found ? cellForValue(type, match.value, now) : null;
        }),
      ],
      object,
    })),
  };
}
