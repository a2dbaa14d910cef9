// etcd orders keys by their bytes and SQLite compares TEXT by its UTF-8
// bytes; both equal Unicode code point order. JavaScript's `<` compares
// UTF-16 code units, which disagrees for characters above U+FFFF, so every
// backend orders and bounds keys through these two functions.

/** Compares keys in code point (UTF-8 byte) order. */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

// Surrogates (which encode code points above U+FFFF) must sort after
// U+E000..U+FFFF; shifting both ranges makes code units compare like code points.
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/**
 * The smallest key greater than every key that starts with prefix, or
 * undefined when no such key exists (empty prefix: the whole key space).
 */
export function prefixEnd(prefix: string): string | undefined {
  const points = Array.from(prefix, (c) => c.codePointAt(0) ?? 0);
  while (points.length > 0 && points[points.length - 1] === 0x10ffff) points.pop();
  const last = points.pop();
  if (last === undefined) return undefined;
  let next = last + 1;
  if (next >= 0xd800 && next <= 0xdfff) next = 0xe000;
  return String.fromCodePoint(...points, next);
}

/** The key interval [from, to) a range over prefix, starting at startKey, covers. */
export function keyInterval(prefix: string, startKey?: string): { from: string; to: string | undefined } {
  const from = startKey !== undefined && compareKeys(startKey, prefix) > 0 ? startKey : prefix;
  return { from, to: prefixEnd(prefix) };
}
