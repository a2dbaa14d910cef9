// resource.Quantity: the fixed-point numbers in resource requests, limits,
// capacities and quotas ("100m", "1.5Gi", "2e3"). Parsing, canonical form,
// rounding and the preserved-input rule follow apimachinery's quantity.go so
// a stored object reads back byte-for-byte as a Kubernetes cluster returns it.

import { BadRequestError } from './errors.js';
import { remembered } from './remembered.js';

/** How a quantity prints: "1Ki" (BinarySI), "1k" (DecimalSI) or "1e3" (DecimalExponent). */
export type QuantityFormat = 'DecimalExponent' | 'BinarySI' | 'DecimalSI';

export const quantityPattern = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
export const quantityFormatMessage = `quantities must match the regular expression '${quantityPattern}'`;
export const quantityNumericMessage = 'unable to parse numeric part of quantity';
export const quantitySuffixMessage = "unable to parse quantity's suffix";

export class InvalidQuantityError extends BadRequestError {
  override name = 'InvalidQuantityError';
}

const decimalSuffixes: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const binarySuffixes: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const decimalSuffixByExponent = new Map(Object.entries(decimalSuffixes).map(([s, e]) => [e, s]));
const binarySuffixByExponent = new Map(Object.entries(binarySuffixes).map(([s, e]) => [e, s]));

const NANO_EXPONENT = -9;
const NANOS_PER_UNIT = 10n ** 9n;
const INT64_MAX = 2n ** 63n - 1n;
/** Kubernetes caps BinarySI quantities at the largest int64. */
const BINARY_SI_MAX_NANOS = INT64_MAX * NANOS_PER_UNIT;
/** Exponents far outside any real resource amount are refused rather than expanded into huge integers. */
const MAX_DECIMAL_EXPONENT = 1000;

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

/** Divides by `base` while it divides evenly, like removeInt64Factors. */
function removeFactors(value: bigint, base: bigint): [bigint, number] {
  let result = abs(value);
  let times = 0;
  while (result >= base && result % base === 0n) {
    result /= base;
    times++;
  }
  return [value < 0n ? -result : result, times];
}

/** Divides rounding away from zero, as Kubernetes rounds resources "up". */
function divideAwayFromZero(n: bigint, d: bigint): bigint {
  const q = n / d;
  if (n % d === 0n) return q;
  return n < 0n ? q - 1n : q + 1n;
}

interface ParsedString {
  positive: boolean;
  num: string;
  denom: string;
  suffix: string;
}

/** parseQuantityString from quantity.go, including its leniencies ("1.", "-", "m" all parse). */
function splitQuantityString(str: string): ParsedString {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (pos < end) {
    if (str[0] === '-') {
      positive = false;
      pos++;
    } else if (str[0] === '+') {
      pos++;
    }
  }
  for (let i = pos; ; i++) {
    if (i >= end) return { positive, num: '0', denom: '', suffix: '' };
    if (str[i] === '0') pos++;
    else break;
  }
  const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
  let num = '';
  let i = pos;
  while (i < end && isDigit(str[i])) i++;
  num = str.slice(pos, i);
  if (i >= end) return { positive, num, denom: '', suffix: '' };
  pos = i;
  if (num.length === 0) num = '0';
  let denom = '';
  if (str[pos] === '.') {
    pos++;
    let j = pos;
    while (j < end && isDigit(str[j])) j++;
    denom = str.slice(pos, j);
    if (j >= end) return { positive, num, denom, suffix: '' };
    pos = j;
  }
  const suffixStart = pos;
  let k = pos;
  while (k < end && 'eEinumkKMGTP'.includes(str[k] as string)) k++;
  if (k >= end) return { positive, num, denom, suffix: str.slice(suffixStart) };
  if (str[k] === '-' || str[k] === '+') k++;
  while (k < end && isDigit(str[k])) k++;
  if (k < end) throw new InvalidQuantityError(quantityFormatMessage);
  return { positive, num, denom, suffix: str.slice(suffixStart) };
}

function interpretSuffix(suffix: string): { base: 10 | 2; exponent: number; format: QuantityFormat } {
  const dec = decimalSuffixes[suffix];
  if (dec !== undefined) return { base: 10, exponent: dec, format: 'DecimalSI' };
  const bin = binarySuffixes[suffix];
  if (bin !== undefined) return { base: 2, exponent: bin, format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E')) {
    const digits = suffix.slice(1);
    if (/^[+-]?[0-9]+$/.test(digits)) {
      const exponent = Number(digits);
      if (Math.abs(exponent) > MAX_DECIMAL_EXPONENT) throw new InvalidQuantityError(quantityNumericMessage);
      return { base: 10, exponent, format: 'DecimalExponent' };
    }
  }
  throw new InvalidQuantityError(quantitySuffixMessage);
}

/** Quantity.parse's recent results, by input. */
const recentlyParsed = new Map<string | number, Quantity>();

export class Quantity {
  /** The amount in units of 10^-9 (Kubernetes rounds every quantity up to nano precision). */
  readonly nanos: bigint;
  readonly format: QuantityFormat;
  /** The input string when Kubernetes would keep it verbatim (it is already canonical enough). */
  private readonly original: string | undefined;

  private constructor(nanos: bigint, format: QuantityFormat, original?: string) {
    this.nanos = nanos;
    this.format = format;
    this.original = original;
  }

  /** resource.ParseQuantity; JSON numbers are accepted as Kubernetes' UnmarshalJSON does. */
  static parse(input: string | number): Quantity {
    // Quantities never change, and the same few spellings ("100m", "64Mi") come back on every write.
    return remembered(recentlyParsed, input, 1024, Quantity.parseUncached);
  }

  private static parseUncached(input: string | number): Quantity {
    const str = typeof input === 'number' ? String(input) : input.trim();
    if (str.length === 0) throw new InvalidQuantityError(quantityFormatMessage);
    if (str === '0') return new Quantity(0n, 'DecimalSI', str);

    const { positive, num, denom, suffix } = splitQuantityString(str);
    const { base, exponent, format } = interpretSuffix(suffix);

    let precision: number;
    if (base === 10) {
      precision = 18 - (num.length + denom.length);
    } else if (exponent >= 0 && denom.length === 0) {
      precision = 15 - num.length - Math.trunc((exponent * 3) / 10) - 1;
    } else {
      precision = -1;
    }

    if (precision >= 0) {
      // Kubernetes' int64 fast path, which keeps the caller's spelling when it is canonical.
      const scale = (base === 10 ? exponent : 0) - denom.length;
      if (scale >= NANO_EXPONENT) {
        const shifted = num + denom;
        const value = BigInt(shifted);
        const mantissa = base === 2 ? 1n << BigInt(exponent) : 1n;
        const product = value * mantissa;
        if (value <= INT64_MAX && product <= INT64_MAX) {
          const signed = positive ? product : -product;
          const nanos = signed * pow10(scale - NANO_EXPONENT);
          const keepsSpelling =
            base === 2 ? exponent % 10 === 0 && (value & 7n) !== 0n : scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
          return new Quantity(nanos, format, keepsSpelling ? str : undefined);
        }
      }
    }

    // Exact arithmetic: value = num.denom * base^exponent, rounded up to nano.
    let numerator = BigInt(num + denom);
    let denominator = pow10(denom.length);
    if (base === 10) {
      if (exponent >= 0) numerator *= pow10(exponent);
      else denominator *= pow10(-exponent);
    } else {
      numerator *= 1n << BigInt(exponent);
    }
    let magnitude = divideAwayFromZero(numerator * NANOS_PER_UNIT, denominator);
    if (format === 'BinarySI' && magnitude > BINARY_SI_MAX_NANOS) magnitude = BINARY_SI_MAX_NANOS;
    return new Quantity(positive ? magnitude : -magnitude, format);
  }

  /** Parses, returning undefined instead of throwing. */
  static tryParse(input: unknown): Quantity | undefined {
    if (typeof input !== 'string' && typeof input !== 'number') return undefined;
    try {
      return Quantity.parse(input);
    } catch {
      return undefined;
    }
  }

  static fromNanos(nanos: bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(nanos, format);
  }

  /** resource.NewMilliQuantity. */
  static fromMilli(milli: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(BigInt(milli) * 1_000_000n, format);
  }

  /** resource.NewQuantity. */
  static fromValue(value: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(BigInt(value) * NANOS_PER_UNIT, format);
  }

  static zero(format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(0n, format);
  }

  isZero(): boolean {
    return this.nanos === 0n;
  }

  sign(): -1 | 0 | 1 {
    return this.nanos < 0n ? -1 : this.nanos > 0n ? 1 : 0;
  }

  cmp(other: Quantity): -1 | 0 | 1 {
    return this.nanos < other.nanos ? -1 : this.nanos > other.nanos ? 1 : 0;
  }

  equals(other: Quantity): boolean {
    return this.nanos === other.nanos;
  }

  /** Quantity.Add: a zero receiver takes the other's format. */
  add(other: Quantity): Quantity {
    return new Quantity(this.nanos + other.nanos, this.nanos === 0n ? other.format : this.format);
  }

  sub(other: Quantity): Quantity {
    return new Quantity(this.nanos - other.nanos, this.nanos === 0n ? other.format : this.format);
  }

  neg(): Quantity {
    return new Quantity(-this.nanos, this.format);
  }

  /**
   * Quantity.RoundUp: rounds away from zero to a multiple of 10^scale. The
   * spelling is kept when nothing had to be rounded at that scale.
   */
  roundUp(scale: number): Quantity {
    const exponent = scale - NANO_EXPONENT;
    if (exponent <= 0) return this;
    const step = pow10(exponent);
    if (this.nanos % step === 0n) return this;
    return new Quantity(divideAwayFromZero(this.nanos, step) * step, this.format);
  }

  /** The value scaled to 10^scale, rounded away from zero (Quantity.ScaledValue). */
  scaledValue(scale: number): bigint {
    const exponent = scale - NANO_EXPONENT;
    return exponent >= 0 ? divideAwayFromZero(this.nanos, pow10(exponent)) : this.nanos * pow10(-exponent);
  }

  /** Quantity.Value: whole units, rounded away from zero. */
  value(): number {
    return Number(this.scaledValue(0));
  }

  /** Quantity.MilliValue: thousandths, rounded away from zero. */
  milliValue(): number {
    return Number(this.scaledValue(-3));
  }

  /** The wire form: the original spelling when Kubernetes keeps it, else the canonical form. */
  toString(): string {
    return this.original ?? this.canonical();
  }

  toJSON(): string {
    return this.toString();
  }

  /** Quantity.CanonicalizeBytes. */
  canonical(): string {
    if (this.nanos === 0n) return '0';
    let format = this.format;
    if (format === 'BinarySI') {
      const small = this.nanos > -1024n * NANOS_PER_UNIT && this.nanos < 1024n * NANOS_PER_UNIT;
      if (small || this.nanos % NANOS_PER_UNIT !== 0n) format = 'DecimalSI';
    }
    if (format === 'BinarySI') {
      const [amount, times] = removeFactors(this.nanos / NANOS_PER_UNIT, 1024n);
      // Values past 1024^6 only arise from arithmetic; print them in Ei.
      const capped = Math.min(times, 6);
      const mantissa = amount * (1n << BigInt((times - capped) * 10));
      return `${mantissa}${binarySuffixByExponent.get(capped * 10) ?? ''}`;
    }
    let [mantissa, exponent] = removeFactors(this.nanos, 10n);
    exponent += NANO_EXPONENT;
    while (exponent % 3 !== 0) {
      mantissa *= 10n;
      exponent--;
    }
    if (format === 'DecimalExponent') return exponent === 0 ? `${mantissa}` : `${mantissa}e${exponent}`;
    if (exponent > 18) {
      mantissa *= pow10(exponent - 18);
      exponent = 18;
    }
    return `${mantissa}${decimalSuffixByExponent.get(exponent) ?? ''}`;
  }
}

/** The canonical wire form of a quantity given as a string or JSON number. */
export function canonicalQuantity(input: string | number): string {
  return Quantity.parse(input).toString();
}
