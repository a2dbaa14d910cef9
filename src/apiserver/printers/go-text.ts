// Values written the way Go writes them, for table cells Kubernetes fills with
// fmt.Fprint or json.Marshal of decoded JSON (int64, float64, bool, string,
// map[string]interface{}, []interface{}).

function isInt64(n: number): boolean {
  return Number.isInteger(n) && Math.abs(n) < 2 ** 63;
}

/** fmt's %v of a float64: shortest digits, exponent form from 1e+06 up or below 1e-04. */
function goFloatText(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mantissa = '', exponentText = '0'] = n.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) {
    const digits = String(Math.abs(exponent)).padStart(2, '0');
    return `${mantissa}e${exponent < 0 ? '-' : '+'}${digits}`;
  }
  return String(n);
}

/** fmt.Fprint of a decoded JSON number. */
export function goNumberText(n: number): string {
  return isInt64(n) ? String(n) : goFloatText(n);
}

const htmlUnsafe: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

function goJsonString(s: string): string {
  return JSON.stringify(s)
    .replace(/[<>&\u2028\u2029]/g, (c) => htmlUnsafe[c] ?? c)
    .replace(/\\b/g, '\\u0008')
    .replace(/\\f/g, '\\u000c');
}

/** Go's string order (bytewise), which Kubernetes' sorted sets and maps follow. */
export function goStringOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** json.Marshal: map keys sorted, HTML characters escaped. */
export function goJsonMarshal(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return goJsonString(value);
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${value.map(goJsonMarshal).join(',')}]`;
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const entries = Object.keys(record)
      .sort(goStringOrder)
      .map((k) => `${goJsonString(k)}:${goJsonMarshal(record[k])}`);
    return `{${entries.join(',')}}`;
  }
  return 'null';
}

/**
 * client-go's JSONPath PrintResults of one value: maps and lists as JSON,
 * scalars as fmt.Fprint writes them, null as "<no value>".
 */
export function jsonPathText(value: unknown): string {
  if (value === null || value === undefined) return '<no value>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return goNumberText(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return goJsonMarshal(value);
}
