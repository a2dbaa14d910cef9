// Status writes: a merge patch of only the fields that changed, with
// omitempty fields that became zero removed (as a Go client's status, where
// such a zero is never serialized).

/**
 * The merge patch taking `old` to `next` for the fields `next` names, or
 * undefined when nothing changed. Fields in omitEmpty drop out at 0, "" or
 * undefined.
 */
export function statusPatch(old: Record<string, unknown> | undefined, next: Record<string, unknown>, omitEmpty: ReadonlySet<string>): Record<string, unknown> | undefined {
  const have = old ?? {};
  const patch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(next)) {
    const empty = v === undefined || (omitEmpty.has(k) && (v === 0 || v === ''));
    if (empty) {
      if (omitEmpty.has(k) && have[k] !== undefined && have[k] !== null) patch[k] = null;
      continue;
    }
    if (have[k] !== v) patch[k] = v;
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}
