// Small memos for values worked out again and again on the write path (the
// same quantities, field names and managers come back in every object): a
// map that is emptied once it holds `limit` entries, so it never grows
// without bound on what clients send.

/** memo's value for key, worked out by `work` (which must not give undefined) when the memo lacks it. */
export function remembered<K, V>(memo: Map<K, V>, key: K, limit: number, work: (key: K) => V): V {
  let value = memo.get(key);
  if (value === undefined) {
    value = work(key);
    if (memo.size >= limit) memo.clear();
    memo.set(key, value);
  }
  return value;
}

/** remembered for keys that are objects: the memo lets go of a value with its key, so it needs no limit. */
export function rememberedFor<K extends object, V>(memo: WeakMap<K, V>, key: K, work: (key: K) => V): V {
  let value = memo.get(key);
  if (value === undefined) {
    value = work(key);
    memo.set(key, value);
  }
  return value;
}
