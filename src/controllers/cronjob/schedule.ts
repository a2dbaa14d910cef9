// Cron schedules as CronJobs read them (robfig/cron v3 ParseStandard and
// SpecSchedule.Next): five fields or a @descriptor, an optional TZ= /
// CRON_TZ= zone, day-of-month and day-of-week ORed unless either is "*".
// Times are walked in the schedule's zone with Intl, as Go's time package
// walks them, daylight-saving gaps and repeats included.
import { cronScheduleError } from '../../api/validation/cron-schedule.js';

export class CronScheduleError extends Error {
  override name = 'CronScheduleError';
}

/** The wall clock of one time zone. */
export class Zone {
  private readonly format: Intl.DateTimeFormat | undefined;

  readonly name: string;

  constructor(zoneName: string) {
    const name = zoneName === 'Local' ? new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC' : zoneName === '' ? 'UTC' : zoneName;
    this.name = name;
    if (name === 'UTC' || name === 'Etc/UTC') {
      this.format = undefined;
      return;
    }
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** The process's own zone (Go's time.Local). */
  static local(): Zone {
    return new Zone(new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
  }

  /** Whether Intl knows the zone (time.LoadLocation succeeds). */
  static isValid(name: string): boolean {
    if (name === '' || name === 'UTC' || name === 'Local') return true;
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: name });
      return true;
    } catch {
      return false;
    }
  }

  /** The wall-clock fields at an instant. */
  fields(ms: number): WallClock {
    const whole = Math.floor(ms / 1000) * 1000;
    if (!this.format) {
      const d = new Date(whole);
      return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), weekday: d.getUTCDay() };
    }
    const parts: Record<string, number> = {};
    for (const p of this.format.formatToParts(new Date(whole))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
    const year = parts.year ?? 1970;
    const month = parts.month ?? 1;
    const day = parts.day ?? 1;
    const hour = (parts.hour ?? 0) % 24;
    return { year, month, day, hour, minute: parts.minute ?? 0, second: parts.second ?? 0, weekday: new Date(Date.UTC(year, month - 1, day)).getUTCDay() };
  }

  /** Seconds east of UTC at an instant, in ms. */
  offsetAt(ms: number): number {
    const whole = Math.floor(ms / 1000) * 1000;
    const f = this.fields(whole);
    return Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second) - whole;
  }

  /** time.Date: wall-clock fields (overflowing ones normalised) to an instant, resolved across zone transitions as Go resolves them. */
  date(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
    const local = Date.UTC(year, month - 1, day, hour, minute, second);
    if (!this.format) return local;
    const guess = this.offsetAt(local);
    const utc = local - guess;
    const actual = this.offsetAt(utc);
    return local - (actual === guess ? guess : actual);
  }
}

export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday */
  weekday: number;
}

export interface Schedule {
  /** The first activation strictly after the instant, or undefined when none comes within five years. */
  next(afterMs: number): number | undefined;
}

/** Go's time.Local for schedules without a zone, looked up once. */
let localZone: Zone | undefined;

const starBit = 1n << 63n;

function bitsFor(start: number, end: number, step: number): bigint {
  let bits = 0n;
  for (let i = start; i <= end; i += step) bits |= 1n << BigInt(i);
  return bits;
}

function allBits(min: number, max: number): bigint {
  return bitsFor(min, max, 1) | starBit;
}

const monthNames: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const dayNames: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

interface FieldBounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const bounds: FieldBounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: monthNames },
  { min: 0, max: 6, names: dayNames },
];

function parseValue(expr: string, names: Record<string, number> | undefined): number {
  const named = names?.[expr.toLowerCase()];
  return named ?? Number(expr);
}

/** getRange: one comma-separated part of a field: a star, a value, a range, each with an optional step. The text is already validated. */
function rangeBits(expr: string, r: FieldBounds): bigint {
  const [range, stepText] = expr.split('/') as [string, string | undefined];
  const lowHigh = range.split('-');
  let start: number;
  let end: number;
  let extra = 0n;
  if (lowHigh[0] === '*' || lowHigh[0] === '?') {
    start = r.min;
    end = r.max;
    extra = starBit;
  } else {
    start = parseValue(lowHigh[0]!, r.names);
    end = lowHigh.length === 2 ? parseValue(lowHigh[1]!, r.names) : start;
  }
  let step = 1;
  if (stepText !== undefined) {
    step = Number(stepText);
    // "N/step" means "N-max/step".
    if (lowHigh.length === 1) end = r.max;
    if (step > 1) extra = 0n;
  }
  return bitsFor(start, end, step) | extra;
}

function fieldBits(field: string, r: FieldBounds): bigint {
  let bits = 0n;
  for (const expr of field.split(',')) if (expr !== '') bits |= rangeBits(expr, r);
  return bits;
}

class SpecSchedule implements Schedule {
  constructor(
    private readonly minute: bigint,
    private readonly hour: bigint,
    private readonly dom: bigint,
    private readonly month: bigint,
    private readonly dow: bigint,
    private readonly zone: Zone,
  ) {}

  private has(bits: bigint, n: number): boolean {
    return (bits & (1n << BigInt(n))) !== 0n;
  }

  /** dayMatches: both day fields must match when either is "*", else either one. */
  private dayMatches(f: WallClock): boolean {
    const domMatch = this.has(this.dom, f.day);
    const dowMatch = this.has(this.dow, f.weekday);
    if ((this.dom & starBit) !== 0n || (this.dow & starBit) !== 0n) return domMatch && dowMatch;
    return domMatch || dowMatch;
  }

  next(afterMs: number): number | undefined {
    const z = this.zone;
    // Start at the next whole second.
    let t = Math.floor(afterMs / 1000) * 1000 + 1000;
    let added = false;
    const yearLimit = z.fields(t).year + 5;
    wrap: for (;;) {
      let f = z.fields(t);
      if (f.year > yearLimit) return undefined;
      while (!this.has(this.month, f.month)) {
        if (!added) {
          added = true;
          t = z.date(f.year, f.month, 1, 0, 0, 0);
          f = z.fields(t);
        }
        t = z.date(f.year, f.month + 1, f.day, f.hour, f.minute, f.second);
        f = z.fields(t);
        if (f.month === 1) continue wrap;
      }
      while (!this.dayMatches(f)) {
        if (!added) {
          added = true;
          t = z.date(f.year, f.month, f.day, 0, 0, 0);
          f = z.fields(t);
        }
        t = z.date(f.year, f.month, f.day + 1, f.hour, f.minute, f.second);
        f = z.fields(t);
        // Midnight may not exist on a daylight-saving day: land back on the hour.
        if (f.hour !== 0) {
          t += (f.hour > 12 ? 24 - f.hour : -f.hour) * 3_600_000;
          f = z.fields(t);
        }
        if (f.day === 1) continue wrap;
      }
      while (!this.has(this.hour, f.hour)) {
        if (!added) {
          added = true;
          t = z.date(f.year, f.month, f.day, f.hour, 0, 0);
        }
        t += 3_600_000;
        f = z.fields(t);
        if (f.hour === 0) continue wrap;
      }
      while (!this.has(this.minute, f.minute)) {
        if (!added) {
          added = true;
          t = Math.floor(t / 60_000) * 60_000;
        }
        t += 60_000;
        f = z.fields(t);
        if (f.minute === 0) continue wrap;
      }
      // Seconds: the standard parser always fires at second 0.
      while (f.second !== 0) {
        if (!added) {
          added = true;
          t = Math.floor(t / 1000) * 1000;
        }
        t += 1000;
        f = z.fields(t);
        if (f.second === 0) continue wrap;
      }
      return t;
    }
  }
}

/** @every <duration>: a constant delay, at least one second, in whole seconds. */
class ConstantDelaySchedule implements Schedule {
  constructor(private readonly delayMs: number) {}

  next(afterMs: number): number {
    return Math.floor(afterMs / 1000) * 1000 + this.delayMs;
  }
}

const durationUnitsMs: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function parseGoDurationMs(text: string): number {
  let rest = text.replace(/^[+-]/, '');
  const negative = text.startsWith('-');
  if (rest === '0') return 0;
  let total = 0;
  while (rest !== '') {
    const m = /^([0-9]*(?:\.[0-9]*)?)([^0-9.]+)/.exec(rest);
    if (!m) break;
    total += Number(m[1]) * (durationUnitsMs[m[2]!] ?? 0);
    rest = rest.slice(m[0].length);
  }
  return negative ? -total : total;
}

/** cron.ParseStandard; the default zone stands for time.Local. */
export function parseSchedule(spec: string, defaultZone?: Zone): Schedule {
  const error = cronScheduleError(spec);
  if (error !== undefined) throw new CronScheduleError(error);
  let zone = defaultZone ?? (localZone ??= Zone.local());
  let text = spec;
  if (text.startsWith('TZ=') || text.startsWith('CRON_TZ=')) {
    const space = text.indexOf(' ');
    zone = new Zone(text.slice(text.indexOf('=') + 1, space < 0 ? undefined : space));
    text = space < 0 ? '' : text.slice(space).trim();
  }
  if (text.startsWith('@')) {
    const all = { min: allBits(0, 59), hour: allBits(0, 23), dom: allBits(1, 31), month: allBits(1, 12), dow: allBits(0, 6) };
    const one = (n: number) => 1n << BigInt(n);
    switch (text) {
      case '@yearly':
      case '@annually':
        return new SpecSchedule(one(0), one(0), one(1), one(1), all.dow, zone);
      case '@monthly':
        return new SpecSchedule(one(0), one(0), one(1), all.month, all.dow, zone);
      case '@weekly':
        return new SpecSchedule(one(0), one(0), all.dom, all.month, one(0), zone);
      case '@daily':
      case '@midnight':
        return new SpecSchedule(one(0), one(0), all.dom, all.month, all.dow, zone);
      case '@hourly':
        return new SpecSchedule(one(0), all.hour, all.dom, all.month, all.dow, zone);
      default: {
        const ms = parseGoDurationMs(text.slice('@every '.length));
        return new ConstantDelaySchedule(Math.max(1000, ms - (ms % 1000)));
      }
    }
  }
  const fields = text.split(/\s+/).filter((f) => f !== '');
  const [minute, hour, dom, month, dow] = fields.map((f, i) => fieldBits(f, bounds[i]!)) as [bigint, bigint, bigint, bigint, bigint];
  return new SpecSchedule(minute, hour, dom, month, dow, zone);
}

/** Go's time.RFC3339 in a zone ("Z" for a zero offset). */
export function formatRfc3339(ms: number, zone: Zone): string {
  const f = zone.fields(ms);
  const offset = zone.offsetAt(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const base = `${pad(f.year, 4)}-${pad(f.month)}-${pad(f.day)}T${pad(f.hour)}:${pad(f.minute)}:${pad(f.second)}`;
  if (offset === 0) return `${base}Z`;
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset) / 60_000;
  return `${base}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

const weekdayNames = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const monthAbbrev = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Go's time.RFC1123Z in UTC, as the MissSchedule event prints the time. */
export function formatRfc1123z(ms: number): string {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${weekdayNames[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${monthAbbrev[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}
