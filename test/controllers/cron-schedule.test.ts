// Cron schedules as CronJobs read them: robfig/cron's standard syntax and
// next-time walk, in UTC and in zones with daylight-saving changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mostRecentScheduleTime, nextScheduleDelay, jobNameFor, effectiveSchedule, type CronJob } from '../../src/controllers/cronjob/controller.js';
import { CronScheduleError, Zone, formatRfc1123z, formatRfc3339, parseSchedule } from '../../src/controllers/cronjob/schedule.js';

const utc = new Zone('UTC');
const at = (s: string) => Date.parse(s);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

function nextTimes(spec: string, from: string, n: number, zone = utc): (string | undefined)[] {
  const s = parseSchedule(spec, zone);
  const out: (string | undefined)[] = [];
  let t: number | undefined = at(from);
  for (let i = 0; i < n && t !== undefined; i++) {
    t = s.next(t);
    out.push(iso(t));
  }
  return out;
}

test('five-field schedules: steps, ranges, lists and names', () => {
  assert.deepEqual(nextTimes('*/15 * * * *', '2024-05-01T10:07:30Z', 3), ['2024-05-01T10:15:00.000Z', '2024-05-01T10:30:00.000Z', '2024-05-01T10:45:00.000Z']);
  assert.deepEqual(nextTimes('*/1 * * * *', '2024-05-01T10:00:00Z', 2), ['2024-05-01T10:01:00.000Z', '2024-05-01T10:02:00.000Z']);
  assert.deepEqual(nextTimes('5 4 * * sun', '2024-05-01T00:00:00Z', 2), ['2024-05-05T04:05:00.000Z', '2024-05-12T04:05:00.000Z']);
  assert.deepEqual(nextTimes('0 22 * * 1-5', '2024-05-03T23:00:00Z', 1), ['2024-05-06T22:00:00.000Z']);
  assert.deepEqual(nextTimes('0 0,12 1 JAN,jul *', '2024-05-01T00:00:00Z', 3), ['2024-07-01T00:00:00.000Z', '2024-07-01T12:00:00.000Z', '2025-01-01T00:00:00.000Z']);
  assert.deepEqual(nextTimes('30 2/8 * * *', '2024-05-01T00:00:00Z', 3), ['2024-05-01T02:30:00.000Z', '2024-05-01T10:30:00.000Z', '2024-05-01T18:30:00.000Z']);
  // An activation exactly at the start instant is not "next".
  assert.deepEqual(nextTimes('0 * * * *', '2024-05-01T10:00:00Z', 1), ['2024-05-01T11:00:00.000Z']);
});

test('day of month and day of week are ORed unless one is a star', () => {
  // The 13th, or any Friday.
  assert.deepEqual(nextTimes('0 0 13 * 5', '2024-09-01T00:00:00Z', 3), ['2024-09-06T00:00:00.000Z', '2024-09-13T00:00:00.000Z', '2024-09-20T00:00:00.000Z']);
  // With a star day of week, only the 13th.
  assert.deepEqual(nextTimes('0 0 13 * *', '2024-09-01T00:00:00Z', 1), ['2024-09-13T00:00:00.000Z']);
  // "*/1" keeps the star meaning; "*/2" does not (then the fields are ORed).
  assert.deepEqual(nextTimes('0 0 13 * */1', '2024-09-01T00:00:00Z', 1), ['2024-09-13T00:00:00.000Z']);
  assert.deepEqual(nextTimes('0 0 13 * */2', '2024-09-01T00:00:00Z', 1), ['2024-09-03T00:00:00.000Z']);
});

test('descriptors and @every', () => {
  assert.deepEqual(nextTimes('@hourly', '2024-05-01T10:20:00Z', 1), ['2024-05-01T11:00:00.000Z']);
  assert.deepEqual(nextTimes('@daily', '2024-05-01T10:20:00Z', 1), ['2024-05-02T00:00:00.000Z']);
  assert.deepEqual(nextTimes('@midnight', '2024-05-01T10:20:00Z', 1), ['2024-05-02T00:00:00.000Z']);
  assert.deepEqual(nextTimes('@weekly', '2024-05-01T10:20:00Z', 1), ['2024-05-05T00:00:00.000Z']);
  assert.deepEqual(nextTimes('@monthly', '2024-05-01T10:20:00Z', 1), ['2024-06-01T00:00:00.000Z']);
  assert.deepEqual(nextTimes('@yearly', '2024-05-01T10:20:00Z', 1), ['2025-01-01T00:00:00.000Z']);
  assert.deepEqual(nextTimes('@annually', '2024-05-01T10:20:00Z', 1), ['2025-01-01T00:00:00.000Z']);
  assert.deepEqual(nextTimes('@every 90s', '2024-05-01T10:20:00.500Z', 2), ['2024-05-01T10:21:30.000Z', '2024-05-01T10:23:00.000Z']);
});

test('a schedule that never comes (February 30th) has no next time', () => {
  assert.deepEqual(nextTimes('0 0 30 2 *', '2024-01-01T00:00:00Z', 1), [undefined]);
});

test('CRON_TZ= and TZ= prefixes put the schedule in that zone', () => {
  assert.deepEqual(nextTimes('CRON_TZ=Asia/Tokyo 0 0 * * *', '2024-01-01T00:00:00Z', 1), ['2024-01-01T15:00:00.000Z']);
  assert.deepEqual(nextTimes('TZ=America/New_York 0 9 * * 1-5', '2024-03-08T15:00:00Z', 1), ['2024-03-11T13:00:00.000Z']);
  // The default zone stands for the controller's local time.
  assert.deepEqual(nextTimes('0 9 * * *', '2024-01-01T00:00:00Z', 1, new Zone('Europe/Berlin')), ['2024-01-01T08:00:00.000Z']);
});

test('daylight saving: a wall time that does not exist is skipped that day, one that repeats fires twice', () => {
  // 2024-03-10: New York jumps from 02:00 to 03:00 EDT; 02:30 never happens that day.
  assert.deepEqual(nextTimes('TZ=America/New_York 30 2 * * *', '2024-03-10T05:00:00Z', 1), ['2024-03-11T06:30:00.000Z']);
  // 2024-11-03: 01:00-02:00 happens in EDT and again in EST.
  assert.deepEqual(nextTimes('TZ=America/New_York 30 1 * * *', '2024-11-03T04:00:00Z', 3), ['2024-11-03T05:30:00.000Z', '2024-11-03T06:30:00.000Z', '2024-11-04T06:30:00.000Z']);
  // Daily at midnight across the spring change in Berlin.
  assert.deepEqual(nextTimes('TZ=Europe/Berlin 0 0 * * *', '2024-03-30T12:00:00Z', 2), ['2024-03-30T23:00:00.000Z', '2024-03-31T22:00:00.000Z']);
});

test('invalid schedules are refused with the parser\'s message', () => {
  assert.throws(() => parseSchedule('* * * *'), (e: unknown) => e instanceof CronScheduleError && /expected exactly 5 fields, found 4/.test(e.message));
  assert.throws(() => parseSchedule('61 * * * *'), /end of range \(61\) above maximum \(59\)/);
  assert.throws(() => parseSchedule('TZ=Nowhere/City * * * * *'), /unknown time zone Nowhere\/City/);
});

test('the scheduled-timestamp annotation prints RFC 3339 in the zone; the missed-schedule event prints RFC 1123Z in UTC', () => {
  const t = at('2024-07-01T10:00:00Z');
  assert.equal(formatRfc3339(t, utc), '2024-07-01T10:00:00Z');
  assert.equal(formatRfc3339(t, new Zone('Europe/Berlin')), '2024-07-01T12:00:00+02:00');
  assert.equal(formatRfc3339(t, new Zone('America/St_Johns')), '2024-07-01T07:30:00-02:30');
  assert.equal(formatRfc1123z(t), 'Mon, 01 Jul 2024 10:00:00 +0000');
  assert.equal(jobNameFor('backup', t), `backup-${t / 60_000}`);
});

function cronJob(schedule: string, created: string, extra: Partial<NonNullable<CronJob['spec']>> = {}, status: CronJob['status'] = {}): CronJob {
  return { metadata: { name: 'cj', creationTimestamp: created }, spec: { schedule, ...extra }, status };
}

test('the most recent missed time: none before the first, the latest one after several, "many" past 100', () => {
  const s = parseSchedule('*/1 * * * *', utc);
  const cj = cronJob('*/1 * * * *', '2024-05-01T10:00:30Z');
  assert.deepEqual(mostRecentScheduleTime(cj, at('2024-05-01T10:00:59Z'), s, true), { earliestMs: at('2024-05-01T10:00:30Z'), missed: 'none' });
  assert.equal(iso(mostRecentScheduleTime(cj, at('2024-05-01T10:01:05Z'), s, true).mostRecentMs), '2024-05-01T10:01:00.000Z');
  const few = mostRecentScheduleTime(cj, at('2024-05-01T10:05:10Z'), s, true);
  assert.equal(iso(few.mostRecentMs), '2024-05-01T10:05:00.000Z');
  assert.equal(few.missed, 'few');
  const many = mostRecentScheduleTime(cj, at('2024-05-01T13:00:10Z'), s, true);
  assert.equal(iso(many.mostRecentMs), '2024-05-01T13:00:00.000Z');
  assert.equal(many.missed, 'many');
  // startingDeadlineSeconds bounds how far back the controller looks.
  const bounded = mostRecentScheduleTime({ ...cj, spec: { ...cj.spec, startingDeadlineSeconds: 120 } }, at('2024-05-01T13:00:10Z'), s, true);
  assert.equal(bounded.missed, 'few');
  // lastScheduleTime moves the start forward.
  const since = mostRecentScheduleTime({ ...cj, status: { lastScheduleTime: '2024-05-01T10:04:00Z' } }, at('2024-05-01T10:04:30Z'), s, true);
  assert.equal(since.mostRecentMs, undefined);
});

test('the requeue delay aims at the next schedule plus 100 ms', () => {
  const s = parseSchedule('0 * * * *', utc);
  const cj = cronJob('0 * * * *', '2024-05-01T10:20:00Z');
  assert.equal(nextScheduleDelay(cj, at('2024-05-01T10:30:00Z'), s), 30 * 60_000 + 100);
});

test('spec.timeZone becomes a TZ= prefix of the schedule', () => {
  assert.equal(effectiveSchedule(cronJob('0 9 * * *', '2024-01-01T00:00:00Z', { timeZone: 'Europe/Paris' })), 'TZ=Europe/Paris 0 9 * * *');
  assert.equal(effectiveSchedule(cronJob('0 9 * * *', '2024-01-01T00:00:00Z')), '0 9 * * *');
  assert.equal(effectiveSchedule(cronJob('CRON_TZ=UTC 0 9 * * *', '2024-01-01T00:00:00Z', { timeZone: 'Europe/Paris' })), 'CRON_TZ=UTC 0 9 * * *');
});
