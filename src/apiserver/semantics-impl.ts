// Nami's Semantics: selectors, tables, patches and apply wired to the api/ modules.
import { BadRequestError } from '../api/errors.js';
import { isPlainObject, cloneJson, type KubeObject } from '../api/object.js';
import type { ResourceInfo } from '../api/resources.js';
import type { Semantics, TableData } from './handlers/semantics.js';
import type { ObjectFilter } from './registry/store.js';
import { crdTable, tableFor } from './printers/index.js';

function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return cloneJson(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function simpleLabelFilter(selector: string): (labels: Record<string, string>) => boolean {
  const reqs = selector.split(',').map((s) => s.trim()).filter(Boolean).map((part) => {
    const m = /^([^!=]+?)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) {
      if (part.startsWith('!')) return (l: Record<string, string>) => !(part.slice(1) in l);
      return (l: Record<string, string>) => part in l;
    }
    const [, key, op, value] = m;
    return op === '!=' ? (l: Record<string, string>) => l[key!] !== value : (l: Record<string, string>) => l[key!] === value;
  });
  return (labels) => reqs.every((r) => r(labels));
}

export const namiSemantics: Semantics = {
  listFilter(_info: ResourceInfo, labelSelector, fieldSelector): ObjectFilter | undefined {
    const filters: ObjectFilter[] = [];
    if (labelSelector) {
      const m = simpleLabelFilter(labelSelector);
      filters.push((o) => m(o.metadata.labels ?? {}));
    }
    if (fieldSelector) {
      for (const part of fieldSelector.split(',').filter(Boolean)) {
        const mm = /^([^!=]+?)(==|=|!=)(.*)$/.exec(part);
        if (!mm) throw new BadRequestError(`invalid field selector: ${part}`);
        const [, field, op, value] = mm;
        const get = (o: KubeObject) => field!.split('.').reduce<unknown>((acc, k) => (isPlainObject(acc) ? acc[k] : undefined), o);
        filters.push(op === '!=' ? (o) => String(get(o) ?? '') !== value : (o) => String(get(o) ?? '') === value);
      }
    }
    if (filters.length === 0) return undefined;
    return (o) => filters.every((f) => f(o));
  },
  table(info, objects, now): TableData {
    if (info.printerColumns) return crdTable(info.printerColumns, objects, now);
    return tableFor({ group: info.group, kind: info.kind }, objects, now);
  },
  patch(_info, current, type, patch) {
    if (type === 'json') throw new BadRequestError('json patch is not supported yet');
    return mergePatch(current, patch) as KubeObject;
  },
  apply(_info, live, applied) {
    return mergePatch(live ?? {}, applied) as KubeObject;
  },
  unknownFields() {
    return [];
  },
};
