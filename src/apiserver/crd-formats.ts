// The string formats a CRD's schema may name and Kubernetes checks
// (kube-openapi's strfmt registry: ipv4, cidr, date-time, uuid ...), each
// as Go parses it. A format not here is not checked, as in Kubernetes.
import { isIP } from 'node:net';

const uuid = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const uuid3 = /^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const uuid4 = /^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i;
const uuid5 = /^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i;
const hostname = /^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9\-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})$/u;
const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/;
const hexcolor = /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
const rgbByte = '\\s*(0|[1-9]\\d?|1\\d\\d?|2[0-4]\\d|25[0-5])\\s*';
const rgbcolor = new RegExp(`^rgb\\(${rgbByte},${rgbByte},${rgbByte}\\)$`);
const mac = /^(?:[0-9a-fA-F]{2}(?:([:-])[0-9a-fA-F]{2})(?:\1[0-9a-fA-F]{2}){4}(?:(?:\1[0-9a-fA-F]{2}){2}|(?:\1[0-9a-fA-F]{2}){14})?|[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}(?:\.[0-9a-fA-F]{4}(?:\.[0-9a-fA-F]{4}){3})?)$/;
const date = /^\d{4}-\d{2}-\d{2}$/;
const dateTime = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?$/;
/** Go's time.ParseDuration, and strfmt's long forms ("3 days", "1w"). */
const duration = /^([-+]?((\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h))+|0|\d+\s*(ns|us|µs|ms|s|m|h|d|w|nanoseconds?|microseconds?|milliseconds?|seconds?|minutes?|hours?|days?|weeks?))$/;

/** A dotted IPv4 address as Go's ParseIP reads it (a leading zero is taken, as Kubernetes' sloppy parser takes it). */
function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function isIPv6(s: string): boolean {
  return s.includes(':') && !s.includes('%') && isIP(s) === 6;
}

function isCIDR(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return false;
  const addr = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits)) return false;
  if (isIPv4(addr)) return Number(bits) <= 32;
  return isIPv6(addr) && Number(bits) <= 128;
}

function isDate(s: string): boolean {
  return date.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`));
}

function isDateTime(s: string): boolean {
  if (!dateTime.test(s)) return false;
  return !Number.isNaN(Date.parse(s.replace(' ', 'T')));
}

function isURI(s: string): boolean {
  if (s.startsWith('/')) return true;
  try {
    new URL(s);
    return true;
  } catch {
    return false;
  }
}

/** Format name -> check, for the formats Kubernetes validates. */
export const crdStringFormats: Readonly<Record<string, (s: string) => boolean>> = {
  ipv4: isIPv4,
  ipv6: isIPv6,
  cidr: isCIDR,
  mac: (s) => mac.test(s),
  uuid: (s) => uuid.test(s),
  uuid3: (s) => uuid3.test(s),
  uuid4: (s) => uuid4.test(s),
  uuid5: (s) => uuid5.test(s),
  hostname: (s) => s.length <= 255 && hostname.test(s) && s.split('.').every((p) => Buffer.byteLength(p) <= 63),
  email: (s) => /^[^@\s]+@[^@\s]+$/.test(s),
  uri: isURI,
  byte: (s) => base64.test(s),
  hexcolor: (s) => hexcolor.test(s),
  rgbcolor: (s) => rgbcolor.test(s),
  bsonobjectid: (s) => /^[0-9a-fA-F]{24}$/.test(s),
  date: isDate,
  'date-time': isDateTime,
  datetime: isDateTime,
  duration: (s) => duration.test(s),
};
