// Server-side printing: the meta.k8s.io/v1 Table kubectl asks for with
// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, so `kubectl get`
// shows the columns Kubernetes shows. Pure functions of objects and a clock;
// the HTTP layer wraps the result in a Table object.
export { tableFor, printerFor, type GroupKind } from './printer-registry.js';
export { defaultTable } from './default-table.js';
export { crdTable, type CustomResourceColumnDefinition } from './crd-table.js';
export { humanDuration, timestampSince } from './human-duration.js';
export { parseJsonPath, evaluateJsonPath, JsonPathSyntaxError, JsonPathEvaluationError, type JsonPath } from './jsonpath.js';
export type { Table, TableColumnDefinition, TableRow, TableRowCondition, TablePrinter } from './table.js';
