// A custom resource's JSON as CEL values, as Kubernetes' UnstructuredToVal
// hands them to rules: integers as int (bigint), numbers as double, objects
// as instances of their declared type holding only the declared fields, with
// null fields absent, strings of format byte, duration and date(-time) as
// bytes, durations and timestamps.
import { Duration } from '@marcbachmann/cel-js/evaluator';
import { isPlainObject } from '../../api/object.js';
import type { CelModel } from './schema-model.js';

/** Converts each JSON object once per validation, however many rules see it. */
export type ValueCache = WeakMap<object, unknown>;

export function toCelValue(model: CelModel, value: unknown, cache: ValueCache): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'object') {
    const known = cache.get(value);
    if (known !== undefined) return known;
    const converted = convertComposite(model, value, cache);
    cache.set(value, converted);
    return converted;
  }
  switch (model.typeName) {
    case 'int':
    case 'dyn':
      return typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : value;
    case 'bytes':
      return typeof value === 'string' ? new Uint8Array(Buffer.from(value, 'base64')) : value;
    case 'google.protobuf.Duration':
      return (typeof value === 'string' && parseGoDuration(value)) || value;
    case 'google.protobuf.Timestamp':
      return typeof value === 'string' ? parseTimestamp(value) ?? value : value;
    default:
      return value;
  }
}

function convertComposite(model: CelModel, value: object, cache: ValueCache): unknown {
  if (Array.isArray(value)) {
    const items = model.kind === 'list' ? model.items : model;
    const list = value.map((v) => toCelValue(items, v, cache));
    // A set's items as a JavaScript Set, which cel-js compares without regard to order (unless it holds a duplicate, refused anyway).
    if (model.kind === 'list' && model.unordered) {
      const set = new Set(list);
      if (set.size === list.length) return set;
    }
    return list;
  }
  if (!isPlainObject(value)) return value;
  switch (model.kind) {
    case 'object': {
      const out = new model.ctor() as Record<string, unknown>;
      for (const [key, field] of model.fields) {
        const v = value[key];
        if (v !== null && v !== undefined) out[field.name] = toCelValue(field.model, v, cache);
      }
      return out;
    }
    case 'map':
      return new Map(Object.entries(value).map(([k, v]) => [k, toCelValue(model.values, v, cache)]));
    default:
      // Only dyn (int-or-string) gets here with an object: it is seen as a map.
      return new Map(Object.entries(value).map(([k, v]) => [k, toCelValue(model, v, cache)]));
  }
}

const durationUnits: Record<string, bigint> = { ns: 1n, us: 1000n, µs: 1000n, μs: 1000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };

/** A Go duration ("1h30m", "-1.5s", "300ms") as a CEL duration, or undefined when Go's time.ParseDuration would refuse it. */
export function parseGoDuration(text: string): Duration | undefined {
  const m = /^([-+]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+|0)$/.exec(text);
  if (!m) return undefined;
  let nanos = 0n;
  for (const part of m[2]!.matchAll(/(\d*)\.?(\d*)(ns|us|µs|μs|ms|s|m|h)/g)) {
    const unit = durationUnits[part[3]!]!;
    const whole = BigInt(part[1] || '0');
    const frac = part[2] ?? '';
    nanos += whole * unit + (frac ? (BigInt(frac) * unit) / 10n ** BigInt(frac.length) : 0n);
  }
  if (m[1] === '-') nanos = -nanos;
  return new Duration(nanos / 1_000_000_000n, Number(nanos % 1_000_000_000n));
}

/** An RFC 3339 date-time or a full date as a timestamp; undefined when it is neither. */
function parseTimestamp(text: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2}))?$/.test(text)) return undefined;
  const d = new Date(text.length === 10 ? `${text}T00:00:00Z` : text);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
