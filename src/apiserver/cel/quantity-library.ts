// Kubernetes' quantity library: quantity(), isQuantity() and the Quantity
// methods. Values are Nami's Quantity; beside it each CEL quantity remembers
// how resource.Quantity holds it (an int64 with a decimal scale, or an
// arbitrary-precision decimal), because isInteger() and asInteger() answer
// from that representation: quantity("1000m").isInteger() is false in
// Kubernetes although the value is a whole number.

import type { Environment } from '@marcbachmann/cel-js';
import { Quantity, quantityFormatMessage } from '../../api/quantity.js';
import { celError, type LibraryValue } from './values.js';

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** resource.Quantity's int64Amount: value × 10^scale. */
interface Int64Amount {
  value: bigint;
  scale: number;
}

function fitsInt64(n: bigint): boolean {
  return n >= INT64_MIN && n <= INT64_MAX;
}

/** positiveScaleInt64: value × 10^scale when it stays an int64. */
function scaleUp(value: bigint, scale: number): bigint | undefined {
  const scaled = value * 10n ** BigInt(scale);
  return fitsInt64(scaled) ? scaled : undefined;
}

/** int64Amount.Add; undefined where Kubernetes falls back to its decimal form. */
function addAmounts(a: Int64Amount, b: Int64Amount): Int64Amount | undefined {
  if (b.value === 0n) return a;
  if (a.value === 0n) return b;
  if (a.scale === b.scale) {
    const sum = a.value + b.value;
    return fitsInt64(sum) ? { value: sum, scale: a.scale } : undefined;
  }
  const [high, low] = a.scale > b.scale ? [a, b] : [b, a];
  const scaled = scaleUp(high.value, high.scale - low.scale);
  if (scaled === undefined) return undefined;
  const sum = scaled + low.value;
  return fitsInt64(sum) ? { value: sum, scale: low.scale } : undefined;
}

const decimalSuffixes: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const binarySuffixes: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

/** The int64 fast path of resource.ParseQuantity, for a string that parses. */
function parsedAmount(str: string): Int64Amount | undefined {
  const m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)$/.exec(str);
  if (!m) return undefined;
  const num = (m[2] as string).replace(/^0+/, '') || '0';
  const denom = m[3] ?? '';
  const suffix = m[4] as string;
  let exponent = decimalSuffixes[suffix];
  let binary = false;
  if (exponent === undefined && binarySuffixes[suffix] !== undefined) {
    exponent = binarySuffixes[suffix] as number;
    binary = true;
  }
  if (exponent === undefined && /^[eE][+-]?[0-9]+$/.test(suffix)) exponent = Number(suffix.slice(1));
  if (exponent === undefined) return undefined;
  let precision: number;
  if (!binary) precision = 18 - (num.length + denom.length);
  else if (denom.length === 0) precision = 15 - num.length - Math.trunc((exponent * 3) / 10) - 1;
  else precision = -1;
  if (precision < 0) return undefined;
  const scale = (binary ? 0 : exponent) - denom.length;
  if (scale < -9) return undefined;
  const value = BigInt(num + denom);
  const product = binary ? value << BigInt(exponent) : value;
  if (value > INT64_MAX || product > INT64_MAX) return undefined;
  return { value: m[1] === '-' ? -product : product, scale };
}

export class CelQuantity implements LibraryValue {
  static readonly celTypeName = 'kubernetes.Quantity';

  constructor(
    readonly quantity: Quantity,
    /** Undefined when Kubernetes holds the quantity as an inf.Dec. */
    readonly amount: Int64Amount | undefined,
  ) {}

  static parse(str: string): CelQuantity {
    // resource.ParseQuantity takes the string as is; Nami's parser forgives surrounding spaces as JSON decoding does.
    if (str !== str.trim()) throw celError(quantityFormatMessage);
    let q: Quantity;
    try {
      q = Quantity.parse(str);
    } catch (err) {
      throw celError((err as Error).message);
    }
    return new CelQuantity(q, parsedAmount(str));
  }

  static fromInt(n: bigint): CelQuantity {
    return new CelQuantity(Quantity.fromValue(n, 'DecimalExponent'), { value: n, scale: 0 });
  }

  equals(other: unknown): boolean {
    return other instanceof CelQuantity && this.quantity.equals(other.quantity);
  }

  add(other: CelQuantity): CelQuantity {
    const amount = this.amount && other.amount ? addAmounts(this.amount, other.amount) : undefined;
    return new CelQuantity(this.quantity.add(other.quantity), amount);
  }

  sub(other: CelQuantity): CelQuantity {
    const negated = other.amount && { value: -other.amount.value, scale: other.amount.scale };
    const amount = this.amount && negated ? addAmounts(this.amount, negated) : undefined;
    return new CelQuantity(this.quantity.sub(other.quantity), amount);
  }

  /** Quantity.AsInt64. */
  asInt64(): bigint | undefined {
    const a = this.amount;
    if (a === undefined || a.scale < 0) return undefined;
    return scaleUp(a.value, a.scale);
  }

  /** Quantity.AsApproximateFloat64. */
  asApproximateFloat(): number {
    const a = this.amount;
    if (a !== undefined) return a.scale === 0 ? Number(a.value) : Number(a.value) * 10 ** a.scale;
    return Number(this.quantity.nanos) / 1e9;
  }

  toString(): string {
    return this.quantity.toString();
  }
}

function asInteger(q: CelQuantity): bigint {
  const v = q.asInt64();
  if (v === undefined) throw celError('cannot convert value to integer');
  return v;
}

export function registerQuantityLibrary(env: Environment): void {
  const Q = CelQuantity.celTypeName;
  env.registerType(Q, CelQuantity);
  env.registerFunction(`quantity(string): ${Q}`, CelQuantity.parse);
  env.registerFunction('isQuantity(string): bool', (s: string) => {
    try {
      CelQuantity.parse(s);
      return true;
    } catch {
      return false;
    }
  });
  env.registerOperator(`${Q} == ${Q}`, (a: CelQuantity, b: CelQuantity) => a.equals(b));
  // Kubernetes declares sign as a global overload; its documentation calls it as a method.
  env.registerFunction(`sign(${Q}): int`, (q: CelQuantity) => BigInt(q.quantity.sign()));
  env.registerFunction(`${Q}.sign(): int`, (q: CelQuantity) => BigInt(q.quantity.sign()));
  env.registerFunction(`${Q}.isInteger(): bool`, (q: CelQuantity) => q.asInt64() !== undefined);
  env.registerFunction(`${Q}.asInteger(): int`, asInteger);
  env.registerFunction(`${Q}.asApproximateFloat(): double`, (q: CelQuantity) => q.asApproximateFloat());
  env.registerFunction(`${Q}.add(${Q}): ${Q}`, (a: CelQuantity, b: CelQuantity) => a.add(b));
  env.registerFunction(`${Q}.add(int): ${Q}`, (a: CelQuantity, b: bigint) => a.add(CelQuantity.fromInt(b)));
  env.registerFunction(`${Q}.sub(${Q}): ${Q}`, (a: CelQuantity, b: CelQuantity) => a.sub(b));
  env.registerFunction(`${Q}.sub(int): ${Q}`, (a: CelQuantity, b: bigint) => a.sub(CelQuantity.fromInt(b)));
  env.registerFunction(`${Q}.compareTo(${Q}): int`, (a: CelQuantity, b: CelQuantity) => BigInt(a.quantity.cmp(b.quantity)));
  env.registerFunction(`${Q}.isLessThan(${Q}): bool`, (a: CelQuantity, b: CelQuantity) => a.quantity.cmp(b.quantity) === -1);
  env.registerFunction(`${Q}.isGreaterThan(${Q}): bool`, (a: CelQuantity, b: CelQuantity) => a.quantity.cmp(b.quantity) === 1);
}
