// Time as the Kubernetes API writes it: metav1.Time (RFC 3339, whole
// seconds), metav1.MicroTime (six fractional digits, Lease renewTime) and Go's
// time.Duration text (the kubelet's "back-off 10s" messages).

export { apiTime } from '../api/api-time.js';

/** metav1.MicroTime: "2006-01-02T15:04:05.000000Z" (JavaScript knows milliseconds only). */
export function microTime(ms: number = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Milliseconds since the epoch of an API timestamp, NaN when absent or malformed. */
export function parseApiTime(text: unknown): number {
  return typeof text === 'string' ? Date.parse(text) : Number.NaN;
}

/** Go's time.Duration.String() for whole seconds: "10s", "1m20s", "5m0s", "1h0m0s". */
export function goDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
