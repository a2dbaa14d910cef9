// Kubernetes' list library (isSorted, sum, min, max, indexOf, lastIndexOf)
// and cel-go's ext.Sets (sets.contains, sets.equivalent, sets.intersects).

import type { Environment } from '@marcbachmann/cel-js';
import { Duration, UnsignedInt } from '@marcbachmann/cel-js/evaluator';
import { celEquals, celError, compareValues, listItems, noSuchOverload } from './values.js';

const timestamp = 'google.protobuf.Timestamp';
const duration = 'google.protobuf.Duration';

/** The element types Kubernetes declares isSorted, min and max for. */
const comparableTypes = ['int', 'uint', 'double', 'bool', duration, timestamp, 'string', 'bytes'];
/** The element types Kubernetes declares sum for, with the sum of an empty list. */
const summableTypes: [string, () => unknown][] = [
  ['int', () => 0n],
  ['uint', () => new UnsignedInt(0n)],
  ['double', () => 0],
  [duration, () => new Duration(0n, 0)],
];

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** CEL's + for the summable types, with cel-go's overflow errors. */
function add(acc: unknown, next: unknown): unknown {
  if (typeof acc === 'bigint' && typeof next === 'bigint') {
    const sum = acc + next;
    if (sum > INT64_MAX || sum < INT64_MIN) throw celError('integer overflow', 'numeric_overflow');
    return sum;
  }
  if (typeof acc === 'number' && typeof next === 'number') return acc + next;
  if (acc instanceof UnsignedInt && next instanceof UnsignedInt) {
    const sum = acc.valueOf() + next.valueOf();
    if (sum > UINT64_MAX) throw celError('unsigned integer overflow', 'numeric_overflow');
    return new UnsignedInt(sum);
  }
  if (acc instanceof Duration && next instanceof Duration) return acc.addDuration(next);
  throw noSuchOverload();
}

function isSummable(v: unknown): boolean {
  return typeof v === 'bigint' || typeof v === 'number' || v instanceof UnsignedInt || v instanceof Duration;
}

// The handlers look at the elements, not at the overload cel-js picked: a
// list<dyn> receiver is bound to the first overload whatever it holds.
function sum(list: unknown, zero: () => unknown): unknown {
  const items = listItems(list);
  if (items.length === 0) return zero();
  const [first, ...rest] = items;
  if (!isSummable(first)) throw noSuchOverload();
  return rest.reduce(add, first);
}

function isSorted(list: unknown): boolean {
  const items = listItems(list);
  for (let i = 1; i < items.length; i++) if (compareValues(items[i - 1], items[i]) === 1) return false;
  // A single element must still be comparable.
  if (items.length === 1) compareValues(items[0], items[0]);
  return true;
}

function extreme(list: unknown, op: 'min' | 'max'): unknown {
  const items = listItems(list);
  if (items.length === 0) throw celError(`${op} called on empty list`);
  const replaceWhen = op === 'min' ? 1 : -1;
  let result = items[0];
  compareValues(result, result);
  for (const next of items.slice(1)) if (compareValues(result, next) === replaceWhen) result = next;
  return result;
}

function indexOf(list: unknown, item: unknown): bigint {
  return BigInt(listItems(list).findIndex((x) => celEquals(x, item)));
}

function lastIndexOf(list: unknown, item: unknown): bigint {
  const items = listItems(list);
  for (let i = items.length - 1; i >= 0; i--) if (celEquals(items[i], item)) return BigInt(i);
  return -1n;
}

/** The receiver of sets.contains and friends. */
class SetsNamespace {}

function setsContains(list: unknown, sublist: unknown): boolean {
  const items = listItems(list);
  return listItems(sublist).every((x) => items.some((y) => celEquals(y, x)));
}

export function registerListsLibrary(env: Environment): void {
  for (const t of comparableTypes) {
    env.registerFunction(`list<${t}>.isSorted(): bool`, isSorted);
    env.registerFunction(`list<${t}>.min(): ${t}`, (list: unknown) => extreme(list, 'min'));
    env.registerFunction(`list<${t}>.max(): ${t}`, (list: unknown) => extreme(list, 'max'));
  }
  for (const [t, zero] of summableTypes) env.registerFunction(`list<${t}>.sum(): ${t}`, (list: unknown) => sum(list, zero));
  env.registerFunction('list<A>.indexOf(A): int', indexOf);
  env.registerFunction('list<A>.lastIndexOf(A): int', lastIndexOf);
}

export function registerSetsLibrary(env: Environment): void {
  env.registerType('SetsNamespace', SetsNamespace);
  env.registerConstant('sets', 'SetsNamespace', new SetsNamespace());
  env.registerFunction('SetsNamespace.contains(list<T>, list<T>): bool', (_: SetsNamespace, a: unknown, b: unknown) => setsContains(a, b));
  env.registerFunction('SetsNamespace.equivalent(list<T>, list<T>): bool', (_: SetsNamespace, a: unknown, b: unknown) => setsContains(a, b) && setsContains(b, a));
  env.registerFunction('SetsNamespace.intersects(list<T>, list<T>): bool', (_: SetsNamespace, a: unknown, b: unknown) => {
    const other = listItems(b);
    return listItems(a).some((x) => other.some((y) => celEquals(x, y)));
  });
}
