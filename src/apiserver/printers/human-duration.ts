// Ages as kubectl shows them: apimachinery's duration.HumanDuration, which
// keeps two or three significant figures ("2m30s", "3h5m", "2d", "3y").

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;

/** Kubernetes' duration.HumanDuration of a span in milliseconds. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / second);
  // Up to two seconds in the future is clock skew, not an error.
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(ms / minute);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(ms / hour);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) {
    const d = days % 365;
    return d === 0 ? `${years}y` : `${years}y${d}d`;
  }
  return `${years}y`;
}

// Go's zero time.Time, which Kubernetes prints as unknown.
const zeroTimeMs = new Date(0).setUTCFullYear(1, 0, 1);
const rfc3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * Milliseconds since the epoch of an RFC 3339 timestamp as Go's time.Parse
 * reads it; null when absent or Go's zero time, NaN when malformed.
 */
export function parseTimestamp(value: unknown): number | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') return Number.NaN;
  const m = rfc3339.exec(value);
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, s, frac, , sign, oh, om] = m;
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > 31) return Number.NaN;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return Number.NaN;
  const fractionMs = frac ? Math.trunc(Number(`0${frac}`) * 1000) : 0;
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(s), fractionMs);
  let ms = date.getTime();
  if (sign !== undefined) ms -= (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * minute;
  return ms === zeroTimeMs ? null : ms;
}

/** The age column: how long ago a timestamp was, or "<unknown>" without one. */
export function timestampSince(value: unknown, now: Date): string {
  const ms = parseTimestamp(value);
  if (ms === null || Number.isNaN(ms)) return '<unknown>';
  return humanDuration(now.getTime() - ms);
}
