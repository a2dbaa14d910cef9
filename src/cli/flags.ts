// Flag values checked once, with errors that say what was expected.

export function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive whole number, got "${value}"`);
  return n;
}

/** Seconds ("40" or "40s") as milliseconds; more than zero unless zeroAllowed. */
export function secondsFlag(flag: string, value: string | undefined, zeroAllowed = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.replace(/s$/, ''));
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !zeroAllowed) || value.trim() === '') {
    throw new Error(`${flag} must be a number of seconds (for example 40 or 40s), got "${value}"`);
  }
  return n * 1000;
}
