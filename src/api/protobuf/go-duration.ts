// metav1.Duration travels as int64 nanoseconds in protobuf and as Go's
// time.Duration string ("1h2m3.5s", "150ms", "0s") in JSON.

const nanosPerSecond = 1_000_000_000n;

/** The fraction of v below 10^digits, without trailing zeros ("" when there is none). */
function fraction(v: bigint, digits: number): string {
  const text = (v % 10n ** BigInt(digits)).toString().padStart(digits, '0').replace(/0+$/, '');
  return text ? `.${text}` : '';
}

/** What Go's time.Duration.String prints for this many nanoseconds. */
export function formatGoDuration(nanoseconds: bigint): string {
  if (nanoseconds === 0n) return '0s';
  const sign = nanoseconds < 0n ? '-' : '';
  const u = nanoseconds < 0n ? -nanoseconds : nanoseconds;
  if (u < 1_000n) return `${sign}${u}ns`;
  if (u < 1_000_000n) return `${sign}${u / 1_000n}${fraction(u, 3)}µs`;
  if (u < nanosPerSecond) return `${sign}${u / 1_000_000n}${fraction(u, 6)}ms`;
  let seconds = u / nanosPerSecond;
  let text = `${seconds % 60n}${fraction(u, 9)}s`;
  seconds /= 60n;
  if (seconds > 0n) {
    text = `${seconds % 60n}m${text}`;
    seconds /= 60n;
    if (seconds > 0n) text = `${seconds}h${text}`;
  }
  return sign + text;
}

const unitNanos: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n,
  'μs': 1_000n,
  ms: 1_000_000n,
  s: nanosPerSecond,
  m: 60n * nanosPerSecond,
  h: 3600n * nanosPerSecond,
};

/** Nanoseconds of a Go duration string, as time.ParseDuration reads it; undefined when malformed. */
export function parseGoDuration(text: string): bigint | undefined {
  const m = /^([-+]?)(.*)$/s.exec(text);
  if (!m) return undefined;
  const [, sign, rest = ''] = m;
  if (rest === '0') return 0n;
  if (rest === '') return undefined;
  const part = /(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0n;
  let at = 0;
  while (at < rest.length) {
    part.lastIndex = at;
    const p = part.exec(rest);
    if (!p) return undefined;
    const [whole, int = '', frac = '', unit = ''] = p;
    if (int === '' && frac === '') return undefined;
    const scale = unitNanos[unit]!;
    total += BigInt(int || '0') * scale;
    if (frac) total += (BigInt(frac) * scale) / 10n ** BigInt(frac.length);
    at += whole.length;
  }
  return sign === '-' ? -total : total;
}
