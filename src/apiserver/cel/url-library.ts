// Kubernetes' URL library: url(), isURL() and the URL getters, on a port of
// the parts of Go's net/url they use (ParseRequestURI, Parse, Hostname, Port,
// EscapedPath, Query), so that what parses and what the getters return match
// Kubernetes, errors included.

import type { Environment } from '@marcbachmann/cel-js';
import { celError, goQuote, type LibraryValue } from './values.js';

type Encoding = 'path' | 'host' | 'zone' | 'userPassword' | 'queryComponent' | 'fragment';

function isAlnum(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);
}

/** net/url's shouldEscape, for one byte. */
function shouldEscape(c: number, mode: Encoding): boolean {
  if (isAlnum(c)) return false;
  const ch = String.fromCharCode(c);
  if ((mode === 'host' || mode === 'zone') && "!$&'()*+,;=:[]<>\"".includes(ch)) return false;
  if ('-_.~'.includes(ch)) return false;
  if ('$&+,/:;=?@'.includes(ch)) {
    switch (mode) {
      case 'path': return ch === '?';
      case 'userPassword': return '@/?:'.includes(ch);
      case 'queryComponent': return true;
      case 'fragment': return false;
    }
  }
  if (mode === 'fragment' && '!()*'.includes(ch)) return false;
  return true;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

function isHex(c: string | undefined): boolean {
  return c !== undefined && /^[0-9A-Fa-f]$/.test(c);
}

/** net/url's unescape: %XX decoding with its per-component rules and error texts. */
function unescape(s: string, mode: Encoding): string {
  for (let i = 0; i < s.length; ) {
    const ch = s[i] as string;
    if (ch === '%') {
      if (!isHex(s[i + 1]) || !isHex(s[i + 2])) throw new Error(`invalid URL escape ${goQuote(s.slice(i, i + 3))}`);
      if (mode === 'host' && parseInt(s[i + 1] as string, 16) < 8 && s.slice(i, i + 3) !== '%25') throw new Error(`invalid URL escape ${goQuote(s.slice(i, i + 3))}`);
      i += 3;
    } else {
      const c = ch.charCodeAt(0);
      if ((mode === 'host' || mode === 'zone') && c < 0x80 && shouldEscape(c, mode)) throw new Error(`invalid character ${goQuote(ch)} in host name`);
      i++;
    }
  }
  const bytes: number[] = [];
  for (let i = 0; i < s.length; ) {
    const ch = s[i] as string;
    if (ch === '%') {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 3;
    } else if (ch === '+' && mode === 'queryComponent') {
      bytes.push(0x20);
      i++;
    } else {
      const cp = s.codePointAt(i) as number;
      const len = cp > 0xffff ? 2 : 1;
      bytes.push(...utf8.encode(s.slice(i, i + len)));
      i += len;
    }
  }
  return utf8Decoder.decode(new Uint8Array(bytes));
}

/** net/url's escape. */
function escape(s: string, mode: Encoding): string {
  let out = '';
  for (const b of utf8.encode(s)) {
    if (shouldEscape(b, mode)) out += b === 0x20 && mode === 'queryComponent' ? '+' : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += String.fromCharCode(b);
  }
  return out;
}

function validOptionalPort(port: string): boolean {
  return port === '' || /^:[0-9]*$/.test(port);
}

function parseHost(host: string): string {
  if (host.startsWith('[')) {
    const close = host.lastIndexOf(']');
    if (close < 0) throw new Error("missing ']' in host");
    const colonPort = host.slice(close + 1);
    if (!validOptionalPort(colonPort)) throw new Error(`invalid port ${goQuote(colonPort)} after host`);
    const zone = host.slice(0, close).indexOf('%25');
    if (zone >= 0) return unescape(host.slice(0, zone), 'host') + unescape(host.slice(zone, close), 'zone') + unescape(host.slice(close), 'host');
  } else {
    const colon = host.lastIndexOf(':');
    if (colon >= 0 && !validOptionalPort(host.slice(colon))) throw new Error(`invalid port ${goQuote(host.slice(colon))} after host`);
  }
  return unescape(host, 'host');
}

function validUserinfo(s: string): boolean {
  return /^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(s);
}

function parseAuthority(authority: string): string {
  const at = authority.lastIndexOf('@');
  const host = parseHost(at < 0 ? authority : authority.slice(at + 1));
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    if (!validUserinfo(userinfo)) throw new Error('net/url: invalid userinfo');
    const colon = userinfo.indexOf(':');
    unescape(colon < 0 ? userinfo : userinfo.slice(0, colon), 'userPassword');
    if (colon >= 0) unescape(userinfo.slice(colon + 1), 'userPassword');
  }
  return host;
}

interface GoURL {
  scheme: string;
  opaque: string;
  host: string;
  path: string;
  rawPath: string;
  rawQuery: string;
  forceQuery: boolean;
}

/** net/url's parse(rawURL, viaRequest). */
function parse(rawURL: string, viaRequest: boolean): GoURL {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(rawURL)) throw new Error('net/url: invalid control character in URL');
  if (rawURL === '' && viaRequest) throw new Error('empty url');
  const u: GoURL = { scheme: '', opaque: '', host: '', path: '', rawPath: '', rawQuery: '', forceQuery: false };
  if (rawURL === '*') return { ...u, path: '*' };
  let rest = rawURL;
  const scheme = /^([A-Za-z][A-Za-z0-9+\-.]*):/.exec(rawURL);
  if (scheme) {
    u.scheme = (scheme[1] as string).toLowerCase();
    rest = rawURL.slice(scheme[0].length);
  } else if (rawURL.startsWith(':')) {
    throw new Error('missing protocol scheme');
  }
  if (rest.endsWith('?') && rest.indexOf('?') === rest.length - 1) {
    u.forceQuery = true;
    rest = rest.slice(0, -1);
  } else {
    const q = rest.indexOf('?');
    if (q >= 0) [rest, u.rawQuery] = [rest.slice(0, q), rest.slice(q + 1)];
  }
  if (!rest.startsWith('/')) {
    if (u.scheme !== '') return { ...u, opaque: rest };
    if (viaRequest) throw new Error('invalid URI for request');
    const slash = rest.indexOf('/');
    if ((slash < 0 ? rest : rest.slice(0, slash)).includes(':')) throw new Error('first path segment in URL cannot contain colon');
  }
  if ((u.scheme !== '' || (!viaRequest && !rest.startsWith('///'))) && rest.startsWith('//')) {
    let authority = rest.slice(2);
    rest = '';
    const slash = authority.indexOf('/');
    if (slash >= 0) [authority, rest] = [authority.slice(0, slash), authority.slice(slash)];
    u.host = parseAuthority(authority);
  }
  u.path = unescape(rest, 'path');
  u.rawPath = escape(u.path, 'path') === rest ? '' : rest;
  return u;
}

/** A *url.Error: `parse "<url>": <reason>`. */
function urlError(rawURL: string, err: unknown): Error {
  return new Error(`parse ${goQuote(rawURL)}: ${(err as Error).message}`);
}

/** url.ParseRequestURI. */
function parseRequestURI(rawURL: string): GoURL {
  try {
    return parse(rawURL, true);
  } catch (err) {
    throw urlError(rawURL, err);
  }
}

/** url.Parse: the fragment split off first. */
function parseURL(rawURL: string): GoURL {
  const hash = rawURL.indexOf('#');
  try {
    const u = parse(hash < 0 ? rawURL : rawURL.slice(0, hash), false);
    if (hash >= 0) unescape(rawURL.slice(hash + 1), 'fragment');
    return u;
  } catch (err) {
    throw urlError(hash < 0 ? rawURL : rawURL.slice(0, hash), err);
  }
}

/** The error message url.ParseRequestURI gives, or undefined when it accepts the string. */
export function requestURIError(s: string): string | undefined {
  try {
    parseRequestURI(s);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function splitHostPort(hostPort: string): [string, string] {
  let host = hostPort;
  let port = '';
  const colon = host.lastIndexOf(':');
  if (colon >= 0 && validOptionalPort(host.slice(colon))) [host, port] = [host.slice(0, colon), host.slice(colon + 1)];
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return [host, port];
}

/** Go's url.ParseQuery, keeping what parses and skipping the rest as URL.Query() does. */
function parseQuery(query: string): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const part of query.split('&')) {
    if (part === '' || part.includes(';')) continue;
    const eq = part.indexOf('=');
    let key: string;
    let value: string;
    try {
      key = unescape(eq < 0 ? part : part.slice(0, eq), 'queryComponent');
      value = unescape(eq < 0 ? '' : part.slice(eq + 1), 'queryComponent');
    } catch {
      continue;
    }
    values.set(key, [...(values.get(key) ?? []), value]);
  }
  return values;
}

export class CelURL implements LibraryValue {
  static readonly celTypeName = 'kubernetes.URL';

  constructor(
    readonly url: GoURL,
    readonly raw: string,
  ) {}

  equals(other: unknown): boolean {
    return other instanceof CelURL && other.raw === this.raw;
  }

  escapedPath(): string {
    const { path, rawPath } = this.url;
    if (rawPath !== '') {
      try {
        if (unescape(rawPath, 'path') === path && /^[A-Za-z0-9\-._~!$&'()*+,;=:@\[\]%/]*$/.test(rawPath)) return rawPath;
      } catch {
        // fall through to the escaped path
      }
    }
    return path === '*' ? '*' : escape(path, 'path');
  }
}

function stringToURL(s: string): CelURL {
  try {
    parseRequestURI(s);
    // Kubernetes parses again with url.Parse, which splits the fragment off properly.
    return new CelURL(parseURL(s), s);
  } catch (err) {
    throw celError(`URL parse error during conversion from string: ${(err as Error).message}`);
  }
}

export function registerURLLibrary(env: Environment): void {
  const URL = CelURL.celTypeName;
  env.registerType(URL, CelURL);
  env.registerFunction(`url(string): ${URL}`, stringToURL);
  env.registerFunction('isURL(string): bool', (s: string) => requestURIError(s) === undefined);
  env.registerOperator(`${URL} == ${URL}`, (a: CelURL, b: CelURL) => a.equals(b));
  env.registerFunction(`${URL}.getScheme(): string`, (u: CelURL) => u.url.scheme);
  env.registerFunction(`${URL}.getHost(): string`, (u: CelURL) => u.url.host);
  env.registerFunction(`${URL}.getHostname(): string`, (u: CelURL) => splitHostPort(u.url.host)[0]);
  env.registerFunction(`${URL}.getPort(): string`, (u: CelURL) => splitHostPort(u.url.host)[1]);
  env.registerFunction(`${URL}.getEscapedPath(): string`, (u: CelURL) => u.escapedPath());
  env.registerFunction(`${URL}.getQuery(): map<string, list<string>>`, (u: CelURL) => Object.fromEntries(parseQuery(u.url.rawQuery)));
}
