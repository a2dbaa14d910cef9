// Time as the Kubernetes API writes a metav1.Time: RFC 3339 in whole seconds.

/** metav1.Time: "2006-01-02T15:04:05Z". */
export function apiTime(ms: number = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}
