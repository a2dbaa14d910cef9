// Field selectors: parsing `--field-selector`, each kind's selectable fields,
// and the conversion that rejects fields a kind cannot be selected by.

export { parseFieldSelector, FieldSelector, escapeFieldValue, unescapeFieldValue, type FieldRequirement, type FieldOperator, type Fields } from './selector.js';
export { fieldsOf, convertFieldLabel, convertFieldSelector, type SelectableFieldOptions } from './selectable-fields.js';
