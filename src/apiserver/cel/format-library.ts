// Kubernetes' format library (1.31+): format.<name>() and format.named(name)
// give a named string format whose validate(s) returns optional.none() for a
// valid string and optional.of(<Kubernetes' messages>) otherwise.

import type { Environment } from '@marcbachmann/cel-js';
import { Optional } from '@marcbachmann/cel-js';
import { isQualifiedName, isValidLabelValue } from '../../api/validation/identifiers.js';
import { nameIsDNS1035Label, nameIsDNSLabel, nameIsDNSSubdomain } from '../../api/validation/metadata.js';
import type { LibraryValue } from './values.js';
import { requestURIError } from './url-library.js';

export class NamedFormat implements LibraryValue {
  static readonly celTypeName = 'kubernetes.NamedFormat';

  constructor(
    readonly name: string,
    readonly validate: (s: string) => string[],
  ) {}

  equals(other: unknown): boolean {
    return other instanceof NamedFormat && other.name === this.name;
  }
}

const uuidPattern = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/;
const rfc3339Time = /^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$/;

/** time.Parse("2006-01-02", s): four-digit year, two-digit month and day, a day the month has. */
function isDate(s: string): boolean {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(s);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31);
}

/** strfmt's IsDateTime: a date, a "t", then an RFC 3339 time (compared case-insensitively). */
function isDateTime(s: string): boolean {
  if (s.length < 4) return false;
  const parts = s.toLowerCase().split('t');
  if (parts.length < 2 || !isDate(parts[0] as string)) return false;
  const m = rfc3339Time.exec(parts[1] as string);
  return m !== null && (m[1] as string) <= '23' && (m[2] as string) <= '59' && (m[3] as string) <= '59';
}

function check(valid: (s: string) => boolean, message: string): (s: string) => string[] {
  return (s) => (valid(s) ? [] : [message]);
}

/** Kubernetes' ConstantFormats, by the names format.named() and format.<name>() accept. */
const formats = new Map<string, NamedFormat>(
  (
    [
      ['dns1123Label', 'DNS1123Label', (s) => nameIsDNSLabel(s, false)],
      ['dns1123Subdomain', 'DNS1123Subdomain', (s) => nameIsDNSSubdomain(s, false)],
      ['dns1035Label', 'DNS1035Label', (s) => nameIsDNS1035Label(s, false)],
      ['qualifiedName', 'QualifiedName', isQualifiedName],
      ['dns1123LabelPrefix', 'DNS1123LabelPrefix', (s) => nameIsDNSLabel(s, true)],
      ['dns1123SubdomainPrefix', 'DNS1123SubdomainPrefix', (s) => nameIsDNSSubdomain(s, true)],
      ['dns1035LabelPrefix', 'DNS1035LabelPrefix', (s) => nameIsDNS1035Label(s, true)],
      ['labelValue', 'LabelValue', isValidLabelValue],
      ['uri', 'URI', (s) => { const err = requestURIError(s); return err === undefined ? [] : [err]; }],
      ['uuid', 'uuid', check((s) => uuidPattern.test(s), 'does not match the UUID format')],
      ['byte', 'byte', check((s) => base64Pattern.test(s), 'invalid base64')],
      ['date', 'date', check(isDate, 'invalid date')],
      ['datetime', 'datetime', check(isDateTime, 'invalid datetime')],
    ] as [string, string, (s: string) => string[]][]
  ).map(([key, name, validate]) => [key, new NamedFormat(name, validate)]),
);

/** The receiver of format.named() and format.<name>(). */
class FormatNamespace {}

export function registerFormatLibrary(env: Environment): void {
  const F = NamedFormat.celTypeName;
  env.registerType(F, NamedFormat);
  env.registerType('FormatNamespace', FormatNamespace);
  env.registerConstant('format', 'FormatNamespace', new FormatNamespace());
  env.registerOperator(`${F} == ${F}`, (a: NamedFormat, b: NamedFormat) => a.equals(b));
  for (const [key, format] of formats) env.registerFunction(`FormatNamespace.${key}(): ${F}`, () => format);
  env.registerFunction(`FormatNamespace.named(string): optional<${F}>`, (_: FormatNamespace, name: string) => {
    const format = formats.get(name);
    return format ? Optional.of(format) : Optional.none();
  });
  env.registerFunction(`${F}.validate(string): optional<list<string>>`, (f: NamedFormat, s: string) => {
    const errs = f.validate(s);
    return errs.length === 0 ? Optional.none() : Optional.of(errs);
  });
}
