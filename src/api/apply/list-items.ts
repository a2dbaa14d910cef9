// How list items are named in field paths: by their key fields in a list map,
// by their value in a set, by their index otherwise.
import { keyElement, serializePathElement } from './field-path.js';
import type { PathElement } from './field-path.js';
import { isJsonMap } from './json-value.js';
import type { ListType } from './type-info.js';

/** The item's path element, or why it has none (as structured-merge-diff words it). */
export function listItemElement(list: ListType, index: number, item: unknown): PathElement | string {
  if (list.relationship !== 'associative') return { index };
  if (list.keys.length > 0) {
    if (item === null) return 'associative list with keys may not have a null element';
    if (!isJsonMap(item)) return 'associative list with keys may not have non-map elements';
    const key: Record<string, unknown> = {};
    for (const name of list.keys) {
      if (Object.hasOwn(item, name) && item[name] !== undefined) key[name] = item[name];
      else {
        const fallback = list.keyDefault(name);
        if (fallback === undefined) return `associative list with keys has an element that omits key field ${JSON.stringify(name)} (and doesn't have default value)`;
        key[name] = fallback;
      }
    }
    return keyElement(key);
  }
  if (isJsonMap(item)) return "associative list without keys has an element that's a map type";
  if (Array.isArray(item)) return 'not supported: associative list with lists as elements';
  if (item === null) return "associative list without keys has an element that's an explicit null";
  return { value: item };
}

export interface IndexedItem {
  readonly element: PathElement;
  readonly id: string;
  readonly item: unknown;
}

export interface IndexedList {
  /** Nameable items in list order, first occurrence of each name only. */
  readonly items: IndexedItem[];
  readonly byId: Map<string, IndexedItem>;
  /** Positions of items that cannot be named (live data that predates a schema). */
  readonly unnamed: Array<{ index: number; item: unknown }>;
  /** Later items with a name already taken. */
  readonly duplicates: Array<{ index: number; element: PathElement; id: string }>;
  readonly errors: Array<{ index: number; message: string }>;
}

export function indexList(list: ListType, values: readonly unknown[]): IndexedList {
  const out: IndexedList = { items: [], byId: new Map(), unnamed: [], duplicates: [], errors: [] };
  values.forEach((item, index) => {
    const element = listItemElement(list, index, item);
    if (typeof element === 'string') {
      out.unnamed.push({ index, item });
      out.errors.push({ index, message: element });
      return;
    }
    const id = serializePathElement(element);
    if (out.byId.has(id)) {
      out.duplicates.push({ index, element, id });
      return;
    }
    const entry = { element, id, item };
    out.items.push(entry);
    out.byId.set(id, entry);
  });
  return out;
}
