// Kubernetes' semver library (1.33+, version 1 with the normalize flag):
// semver(), isSemver() and the Semver methods, parsed as blang/semver v4
// parses versions, with its error messages.

import type { Environment } from '@marcbachmann/cel-js';
import { celError, goQuote, type LibraryValue } from './values.js';

const UINT64_MAX = 2n ** 64n - 1n;

/** A prerelease identifier: numeric ones order numerically and before alphanumeric ones. */
type PreRelease = bigint | string;

function onlyDigits(s: string): boolean {
  return /^[0-9]*$/.test(s);
}

function hasLeadingZeroes(s: string): boolean {
  return s.length > 1 && s[0] === '0';
}

/** strconv.ParseUint(s, 10, 64) for a string of digits. */
function parseUint(s: string): bigint {
  if (s === '') throw new Error('strconv.ParseUint: parsing "": invalid syntax');
  const n = BigInt(s);
  if (n > UINT64_MAX) throw new Error(`strconv.ParseUint: parsing ${goQuote(s)}: value out of range`);
  return n;
}

function number(part: string, which: string): bigint {
  if (!onlyDigits(part)) throw new Error(`Invalid character(s) found in ${which.toLowerCase()} number ${goQuote(part)}`);
  if (hasLeadingZeroes(part)) throw new Error(`${which} number must not contain leading zeroes ${goQuote(part)}`);
  return parseUint(part);
}

export class CelSemver implements LibraryValue {
  static readonly celTypeName = 'kubernetes.Semver';

  constructor(
    readonly major: bigint,
    readonly minor: bigint,
    readonly patch: bigint,
    readonly pre: PreRelease[],
  ) {}

  /** semver.Parse. */
  static parse(s: string): CelSemver {
    if (s === '') throw new Error('Version string empty');
    const parts = goSplitN(s, '.', 3);
    if (parts.length !== 3) throw new Error('No Major.Minor.Patch elements found');
    const major = number(parts[0] as string, 'Major');
    const minor = number(parts[1] as string, 'Minor');
    let patchStr = parts[2] as string;
    let build: string[] = [];
    let pre: string[] = [];
    const plus = patchStr.indexOf('+');
    if (plus >= 0) [build, patchStr] = [patchStr.slice(plus + 1).split('.'), patchStr.slice(0, plus)];
    const dash = patchStr.indexOf('-');
    if (dash >= 0) [pre, patchStr] = [patchStr.slice(dash + 1).split('.'), patchStr.slice(0, dash)];
    const patch = number(patchStr, 'Patch');
    const preRelease = pre.map((p): PreRelease => {
      if (p === '') throw new Error('Prerelease is empty');
      if (onlyDigits(p)) {
        if (hasLeadingZeroes(p)) throw new Error(`Numeric PreRelease version must not contain leading zeroes ${goQuote(p)}`);
        return parseUint(p);
      }
      if (/^[0-9A-Za-z-]+$/.test(p)) return p;
      throw new Error(`Invalid character(s) found in prerelease ${goQuote(p)}`);
    });
    for (const b of build) {
      if (b === '') throw new Error('Buildversion is empty');
      if (!/^[0-9A-Za-z-]+$/.test(b)) throw new Error(`Invalid character(s) found in build meta data ${goQuote(b)}`);
    }
    return new CelSemver(major, minor, patch, preRelease);
  }

  /** Kubernetes' normalizeAndParse: no "v" prefix, missing minor and patch added, leading zeros dropped. */
  static normalizeAndParse(s: string): CelSemver {
    const parts = goSplitN(s.startsWith('v') ? s.slice(1) : s, '.', 3).map((p) => {
      if (p.length <= 1) return p;
      const trimmed = p.replace(/^0+/, '');
      return trimmed === '' || !/^[0-9]/.test(trimmed) ? `0${trimmed}` : trimmed;
    });
    if (parts.length < 3) {
      if (/[+-]/.test(parts[parts.length - 1] as string)) throw new Error('short version cannot contain PreRelease/Build meta data');
      while (parts.length < 3) parts.push('0');
    }
    return CelSemver.parse(parts.join('.'));
  }

  /** Version.Compare: build metadata does not count. */
  compare(o: CelSemver): -1 | 0 | 1 {
    for (const [a, b] of [[this.major, o.major], [this.minor, o.minor], [this.patch, o.patch]] as [bigint, bigint][]) {
      if (a !== b) return a > b ? 1 : -1;
    }
    if (this.pre.length === 0 || o.pre.length === 0) return this.pre.length === o.pre.length ? 0 : this.pre.length === 0 ? 1 : -1;
    for (let i = 0; i < Math.min(this.pre.length, o.pre.length); i++) {
      const [a, b] = [this.pre[i] as PreRelease, o.pre[i] as PreRelease];
      if (a === b) continue;
      if (typeof a !== typeof b) return typeof a === 'bigint' ? -1 : 1;
      return a > b ? 1 : -1;
    }
    return this.pre.length === o.pre.length ? 0 : this.pre.length < o.pre.length ? -1 : 1;
  }

  equals(other: unknown): boolean {
    return other instanceof CelSemver && this.compare(other) === 0;
  }
}

/** Go's strings.SplitN with n > 0. */
function goSplitN(s: string, sep: string, n: number): string[] {
  const parts = s.split(sep);
  return parts.length <= n ? parts : [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}

function parse(s: string, normalize: boolean): CelSemver {
  try {
    return normalize ? CelSemver.normalizeAndParse(s) : CelSemver.parse(s);
  } catch (err) {
    throw celError((err as Error).message);
  }
}

function isSemver(s: string, normalize: boolean): boolean {
  try {
    parse(s, normalize);
    return true;
  } catch {
    return false;
  }
}

export function registerSemverLibrary(env: Environment): void {
  const S = CelSemver.celTypeName;
  env.registerType(S, CelSemver);
  env.registerFunction(`semver(string): ${S}`, (s: string) => parse(s, false));
  env.registerFunction(`semver(string, bool): ${S}`, parse);
  env.registerFunction('isSemver(string): bool', (s: string) => isSemver(s, false));
  env.registerFunction('isSemver(string, bool): bool', isSemver);
  env.registerOperator(`${S} == ${S}`, (a: CelSemver, b: CelSemver) => a.equals(b));
  env.registerFunction(`${S}.major(): int`, (v: CelSemver) => v.major);
  env.registerFunction(`${S}.minor(): int`, (v: CelSemver) => v.minor);
  env.registerFunction(`${S}.patch(): int`, (v: CelSemver) => v.patch);
  env.registerFunction(`${S}.compareTo(${S}): int`, (a: CelSemver, b: CelSemver) => BigInt(a.compare(b)));
  env.registerFunction(`${S}.isLessThan(${S}): bool`, (a: CelSemver, b: CelSemver) => a.compare(b) === -1);
  env.registerFunction(`${S}.isGreaterThan(${S}): bool`, (a: CelSemver, b: CelSemver) => a.compare(b) === 1);
}
